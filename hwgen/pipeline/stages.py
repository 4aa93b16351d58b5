"""The registered stages. Each reads only the artifacts of the stages before it (through
`ctx.paths`) and writes its own; its return value is its typed result.

A stage declares the stages it `requires` (checked by the runner against this run's record of
applied stages, or, for runs made before that record existed, against the artifacts in
`produces`), and whether a failure of it `keeps_going` (a synthesis source: the error is
recorded and the run with its trained model and HLS project is kept).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hwgen.errors import HwgenError
from hwgen.pipeline.context import RunContext


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[RunContext], Any]
    describe: Callable[[RunContext], str]
    requires: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()  # run-dir paths that hold this stage's output
    keeps_going: bool = False  # a failure is recorded; the stages after it still run
    reusable: bool = False  # resuming an identical run may take its output over unchanged


STAGES: dict[str, Stage] = {}


def register_stage(stage: Stage) -> Stage:
    STAGES[stage.name] = stage
    return stage


def get_stage(name: str) -> Stage:
    if name in STAGES:
        return STAGES[name]
    if name.startswith("synth:"):
        return register_stage(synth_stage(name.split(":", 1)[1]))
    raise HwgenError(f"unknown stage {name!r}; known: {', '.join(STAGES)}")


# ---------------------------------------------------------------------------------------------
# train: a spec trained (or built untrained), a user's model file taken over, or a sweep's
# shared trained model copied in


def _fold_batchnorm(ctx: RunContext, model, ds):
    """--fold-batchnorm on a user's model; fine-tunes on the training split of --data if it has one."""
    import numpy as np

    from hwgen.data import quantize_to_grid
    from hwgen.transforms import fold_batchnorm

    X_train = y_train = None
    data_path = Path(ctx.options.data_path)
    if data_path.suffix == ".npz":
        with np.load(data_path, allow_pickle=False) as z:
            if "X_train" in z.files and "y_train" in z.files:
                X_train = quantize_to_grid(z["X_train"], ctx.spec.input_precision)
                y_train = np.asarray(z["y_train"])
    folded, record = fold_batchnorm(model, X_train, y_train, seed=ctx.spec.training.seed, X_test=ds.X_test, y_test=ds.y_test)
    return folded, record.to_dict()


def _train(ctx: RunContext):
    from hwgen.data import load_dataset, load_user_data, synthetic_dataset
    from hwgen.train import finish_model, run_train

    spec, opts, paths = ctx.spec, ctx.options, ctx.paths
    if opts.trained_from:  # a sweep point: the model its training key shares, trained once
        src = Path(opts.trained_from) / "train"
        shutil.copytree(src, paths.train_dir)
        from hwgen.results import read_json

        return read_json(paths.train_json)
    if opts.model_file:
        from hwgen.modelio import load_model

        ds = load_user_data(Path(opts.data_path), spec)
        model = load_model(Path(opts.model_file), trust_code=opts.trust_model_code)
        transforms = {}
        if opts.fold_batchnorm:
            ctx.progress.update("folding batch norm and fine-tuning")
            model, transforms["fold_batchnorm"] = _fold_batchnorm(ctx, model, ds)
        return finish_model(spec, model, ds, paths, trained=True, start=time.monotonic(), transforms=transforms)
    if opts.untrained and not opts.data_path and spec.dataset.name != "digits":
        ds = synthetic_dataset(spec, spec.dataset.n_samples, spec.training.seed)
        ctx.notice("untrained build on synthetic inputs: accuracy is not meaningful; bit-exactness is")
    else:
        ds = load_dataset(spec, opts.data_path)
    return run_train(spec, ds, paths, trained=not opts.untrained, progress=ctx.progress)


def _train_what(ctx: RunContext) -> str:
    if ctx.options.trained_from:
        return "shared trained model"
    return "loading the model file" if ctx.options.model_file else "loading data"


register_stage(Stage("train", _train, _train_what, produces=("train/train.json", "train/model.h5", "train/data.npz"),
                     reusable=True))


# ---------------------------------------------------------------------------------------------
# convert and csim


def _hls_options(ctx: RunContext):
    from hwgen.convert import HlsOptions

    h = ctx.spec.hls
    return HlsOptions(backend=h.backend, strategy=h.strategy, reuse_factor=h.reuse_factor, io_type=h.io_type,
                      clock_mhz=ctx.options.clock_mhz)


def _convert(ctx: RunContext):
    import hwgen.convert

    return hwgen.convert.run_convert(ctx.paths, ctx.board, _hls_options(ctx), stamp=ctx.fingerprint[:8],
                                     trust_code=ctx.options.trust_model_code)


def _convert_what(ctx: RunContext) -> str:
    h = _hls_options(ctx)
    return f"hls4ml {h.backend} {h.strategy} RF{h.reuse_factor} {h.io_type}"


register_stage(Stage("convert", _convert, _convert_what, requires=("train",), produces=("convert.json", "hls"),
                     reusable=True))


def _csim(ctx: RunContext):
    import hwgen.csim
    from hwgen.results import read_json

    train = read_json(ctx.paths.train_json)
    csim = hwgen.csim.run_csim(ctx.paths, meaningful_labels=train.get("accuracy_qkeras") is not None)
    if not csim.guaranteed:
        measured = ", ".join(read_json(ctx.paths.convert_json).get("measured_only") or [])
        ctx.notice(
            f"C-simulation agreement is measured, not guaranteed: {measured} computed in float32 by QKeras "
            f"({csim.bit_exact_fraction:.4f} of {csim.n_samples} samples identical); --fold-batchnorm makes it exact"
        )
    elif csim.bit_exact_fraction < 1.0:
        ctx.notice(f"C-simulation is NOT bit-exact with QKeras: {csim.bit_exact_fraction:.4f} of samples match")
    return csim


register_stage(Stage("csim", _csim, lambda ctx: "g++ compile + run", requires=("convert",), produces=("csim.json",),
                     reusable=True))


# ---------------------------------------------------------------------------------------------
# synthesis: one stage per registered source (hwgen.synth.sources)

# What each source reads: the open path traces the trained model; the others read hls/.
_SYNTH_REQUIRES = {"open": ("train",), "vendor": ("convert",), "estimate": ("convert",)}


def synth_stage(source: str) -> Stage:
    from hwgen.synth.sources import SOURCES, run_source

    if source not in SOURCES:
        raise HwgenError(f"unknown synthesis source {source!r}; known: {', '.join(SOURCES)}")

    def run(ctx: RunContext):
        outcome = run_source(source, ctx)
        for text in outcome.notices:
            ctx.notice(text)
        if outcome.skipped:
            ctx.notice(outcome.skipped)
        return outcome

    return Stage(f"synth:{source}", run, lambda ctx: f"{source} synthesis on {ctx.board.name}",
                 requires=_SYNTH_REQUIRES.get(source, ("convert",)), keeps_going=True)


# ---------------------------------------------------------------------------------------------
# software baselines and the report


def _baseline(ctx: RunContext):
    from hwgen.synth.sources import optional_module

    baseline = optional_module("hwgen.baseline")
    if baseline is None:
        ctx.notice("software baselines are not available in this build")
        return None
    return baseline.run_baselines(ctx.run_dir, reps=ctx.options.baseline_reps, trust_code=ctx.options.trust_model_code)


register_stage(Stage("baseline", _baseline, lambda ctx: "software CPU/GPU timing", requires=("train",),
                     produces=("baseline",)))


def _report(ctx: RunContext):
    from hwgen.report import write_report

    return write_report(ctx.run_dir, html=ctx.options.html)


def _report_what(ctx: RunContext) -> str:
    return "report.json / .md / .html" if ctx.options.html else "report.json / .md"


register_stage(Stage("report", _report, _report_what, produces=("report.json",)))
