"""`hwgen flow`: spec -> trained model -> HLS project -> C-sim -> synthesis -> baselines -> report.

Each stage is a function with typed inputs and a typed result written into the run directory;
this module only sequences them, shows progress and assembles the manifest. The run is built
in a staging folder and moved into place only when everything succeeded.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from hwgen import __version__
from hwgen.boards import Board, load_board
from hwgen.errors import HwgenError, ToolMissing
from hwgen.hwform import PathUnsupported
from hwgen.progress import Progress
from hwgen.results import write_json
from hwgen.rundir import RunPaths, staged_run_dir
from hwgen.spec import ModelSpec

SYNTH_CHOICES = ("auto", "open", "vendor", "estimate", "none")
DEFAULT_BOARD = "pynq-z2"


@dataclass(frozen=True)
class FlowOptions:
    board: str = DEFAULT_BOARD
    out: Path | None = None
    force: bool = False
    untrained: bool = False
    data_path: str | None = None
    synth: tuple[str, ...] = ("auto",)
    baseline: bool = True
    until: str = "report"  # stop after 'convert' or 'csim' for `hwgen convert`
    clock_mhz: float | None = None
    rtl_max_samples: int = 300
    tool_timeout_s: float = 3600.0
    baseline_reps: int = 100
    model_file: str | None = None
    trust_model_code: bool = False
    fold_batchnorm: bool = False
    quiet: bool = False

    def fingerprint_fields(self) -> dict:
        d = dataclasses.asdict(self)
        for key in ("out", "force", "quiet", "trust_model_code"):
            d.pop(key)
        for key in ("data_path", "model_file"):
            if d[key]:
                d[key] = _file_sha256(Path(d[key]))
        return d


@dataclass
class FlowResult:
    run_dir: Path
    report: dict
    notices: list[str] = field(default_factory=list)


def _file_sha256(path: Path) -> str:
    if not path.is_file():
        raise HwgenError(f"file {path} does not exist")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def versions() -> dict:
    import hwgen.tfcompat  # noqa: F401  (binds Keras 2 before tfmot is imported below)

    out = {"hwgen": __version__}
    for mod in ("tensorflow", "keras", "qkeras", "tensorflow_model_optimization", "hls4ml", "da4ml", "numpy"):
        try:
            out[mod] = importlib.import_module(mod).__version__
        except Exception:  # noqa: BLE001 - a version we cannot read is just left out
            pass
    return out


def resolve_synth(requested: tuple[str, ...], board: Board) -> list[str]:
    """Expand 'auto' into the sources that can run here: vendor when its tool exists and the
    board is a Xilinx one, else the open path; the estimate always."""
    for item in requested:
        if item not in SYNTH_CHOICES:
            raise HwgenError(f"--synth {item!r} unknown; choose from {', '.join(SYNTH_CHOICES)} (comma-separated)")
    if "none" in requested:
        return []
    out: list[str] = []
    for item in requested:
        if item == "auto":
            vendor = _optional("hwgen.vendor.flow")
            has_vendor = vendor is not None and board.vendor == "xilinx" and vendor.vendor_tool() is not None
            picked = ["vendor"] if has_vendor else ["open"]
            out += picked + ["estimate"]
        else:
            out.append(item)
    return list(dict.fromkeys(out))


def _optional(module: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise


def _stage_count(opts: FlowOptions, synth: list[str]) -> int:
    n = {"convert": 3, "csim": 4}.get(opts.until, 4 + len(synth) + int(opts.baseline))
    return n


def run_synth_source(source: str, run_dir: Path, board: Board, opts: FlowOptions, progress: Progress | None) -> list[str]:
    """Run one synthesis source into run_dir; returns notices (a missing tool is a notice)."""
    try:
        if source == "open":
            mod = _optional("hwgen.rtl.open_flow")
            if mod is None:
                return ["open synthesis path is not available in this build"]
            res = mod.run_open_synth(
                run_dir, board, max_samples=opts.rtl_max_samples, timeout_s=opts.tool_timeout_s,
                progress=progress.update if progress else None,
            )
            return list(getattr(res, "notices", []) or [])
        if source == "vendor":
            mod = _optional("hwgen.vendor.flow")
            if mod is None:
                return ["vendor flow is not available in this build"]
            mod.run_vendor_synth(run_dir, board, timeout_s=opts.tool_timeout_s)
            return []
        if source == "estimate":
            mod = _optional("hwgen.estimate")
            if mod is None:
                return ["estimator is not available in this build"]
            mod.run_estimate(run_dir, board)
            return []
    except ToolMissing as exc:
        return [f"{source} synthesis skipped: {exc}"]
    except PathUnsupported as exc:  # this source cannot take the model; the others go on
        return [str(exc)]
    raise HwgenError(f"unknown synthesis source {source}")


def _fold_batchnorm(model, spec: ModelSpec, ds, data_path: Path):
    """--fold-batchnorm on a user's model; fine-tunes on the training split of --data if it has one."""
    import numpy as np

    from hwgen.data import quantize_to_grid
    from hwgen.transforms import fold_batchnorm

    X_train = y_train = None
    if data_path.suffix == ".npz":
        with np.load(data_path, allow_pickle=False) as z:
            if "X_train" in z.files and "y_train" in z.files:
                X_train, y_train = quantize_to_grid(z["X_train"], spec.input_precision), np.asarray(z["y_train"])
    folded, record = fold_batchnorm(model, X_train, y_train, seed=spec.training.seed, X_test=ds.X_test, y_test=ds.y_test)
    return folded, record.to_dict()


def run_flow(spec: ModelSpec, opts: FlowOptions) -> FlowResult:
    from hwgen.data import load_dataset, load_user_data, synthetic_dataset

    board = load_board(opts.board)
    synth = resolve_synth(opts.synth, board) if opts.until == "report" else []
    out = Path(opts.out) if opts.out else Path("runs") / spec.name
    fingerprint = spec.fingerprint(board=board.name, options=opts.fingerprint_fields(), hwgen=__version__)
    progress = Progress(_stage_count(opts, synth), quiet=opts.quiet)
    notices: list[str] = []
    # Validate inputs that can fail fast before any heavy work (and before touching --out).
    if opts.model_file:
        from hwgen.modelio import check_model_file

        check_model_file(Path(opts.model_file), trust_code=opts.trust_model_code)
        if not opts.data_path:
            raise HwgenError("--model-file needs --data FILE.npz with the test inputs and labels")
    with staged_run_dir(out, fingerprint, force=opts.force) as staging:
        paths = RunPaths(staging)
        manifest = {
            "name": spec.name,
            "fingerprint": fingerprint,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "spec": spec.to_dict(),
            "board": board.to_dict(),
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(opts).items()},
            "versions": versions(),
            "stages": {},
            "notices": notices,
        }
        write_json(paths.manifest, manifest)
        import yaml

        paths.spec.write_text(yaml.safe_dump(spec.to_dict(), sort_keys=False))

        from hwgen.train import finish_model, run_train

        with progress.stage("train", "loading data"):
            if opts.model_file:
                from hwgen.modelio import load_model

                ds = load_user_data(Path(opts.data_path), spec)
                model = load_model(Path(opts.model_file), trust_code=opts.trust_model_code)
                transforms = {}
                if opts.fold_batchnorm:
                    progress.update("folding batch norm and fine-tuning")
                    model, transforms["fold_batchnorm"] = _fold_batchnorm(model, spec, ds, Path(opts.data_path))
                train = finish_model(spec, model, ds, paths, trained=True, start=time.monotonic(), transforms=transforms)
            else:
                if opts.untrained and not opts.data_path and spec.dataset.name != "digits":
                    ds = synthetic_dataset(spec, spec.dataset.n_samples, spec.training.seed)
                    notices.append("untrained build on synthetic inputs: accuracy is not meaningful; bit-exactness is")
                else:
                    ds = load_dataset(spec, opts.data_path)
                train = run_train(spec, ds, paths, trained=not opts.untrained, progress=progress)
        meaningful = train.accuracy_qkeras is not None

        from hwgen.convert import HlsOptions, run_convert

        hls = HlsOptions(
            backend=spec.hls.backend, strategy=spec.hls.strategy, reuse_factor=spec.hls.reuse_factor,
            io_type=spec.hls.io_type, clock_mhz=opts.clock_mhz,
        )
        with progress.stage("convert", f"hls4ml {hls.backend} {hls.strategy} RF{hls.reuse_factor} {hls.io_type}"):
            run_convert(paths, board, hls, stamp=fingerprint[:8], trust_code=opts.trust_model_code)
        if opts.until != "convert":
            from hwgen.csim import run_csim

            with progress.stage("csim", "g++ compile + run"):
                csim = run_csim(paths, meaningful_labels=meaningful)
            if not csim.guaranteed:
                from hwgen.results import read_json

                measured = ", ".join(read_json(paths.convert_json).get("measured_only") or [])
                notices.append(
                    f"C-simulation agreement is measured, not guaranteed: {measured} computed in float32 by QKeras "
                    f"({csim.bit_exact_fraction:.4f} of {csim.n_samples} samples identical); --fold-batchnorm makes it exact"
                )
            elif csim.bit_exact_fraction < 1.0:
                notices.append(f"C-simulation is NOT bit-exact with QKeras: {csim.bit_exact_fraction:.4f} of samples match")
        if opts.until == "report":
            for source in synth:
                with progress.stage(source, f"{source} synthesis on {board.name}"):
                    notices += run_synth_source(source, paths.root, board, opts, progress)
            if opts.baseline:
                with progress.stage("baseline", "software CPU/GPU timing"):
                    baseline = _optional("hwgen.baseline")
                    if baseline is None:
                        notices.append("software baselines are not available in this build")
                    else:
                        baseline.run_baselines(paths.root, reps=opts.baseline_reps)
        manifest["stages"] = dict(progress.times)
        manifest["notices"] = notices
        write_json(paths.manifest, manifest)
        from hwgen.report import write_report

        # The report stage's own time is shown on the progress line, not inside the report.
        with progress.stage("report", "report.json / .md / .html"):
            report = write_report(paths.root)
    return FlowResult(run_dir=out.resolve(), report=report, notices=notices)
