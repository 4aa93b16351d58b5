"""The Python API, for notebooks and scripts; the `hwgen` command line is a thin layer over
the same calls (hwgen.pipeline).

    import hwgen
    run = hwgen.flow("digits_mlp", board="pynq-z2", synth="estimate", epochs=5, out="runs/nb")
    run.report.csim["bit_exact_fraction"]        # the typed report (hwgen.report.Report)
    run = hwgen.load_run("runs/nb")              # a finished run
    run.synth("open")                           # add a source to it; the report is rebuilt
    outcome = hwgen.run_sweep("examples/sweep_digits.yaml", workers=2)   # (hwgen.sweep is the package)

Nothing here prints unless `quiet=False`; errors are `hwgen.errors.HwgenError` with the same
one-line messages the command line prints.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError


@dataclass
class Run:
    """A run directory and what is known about it."""

    dir: Path
    report: Any  # hwgen.report.Report
    notices: list[str] = field(default_factory=list)
    synth_errors: dict[str, str] = field(default_factory=dict)

    @property
    def manifest(self) -> dict:
        from hwgen.results import read_json

        return read_json(self.dir / "run.json")

    def synth(self, *sources: str, board: str | None = None, quiet: bool = True, **options: Any) -> "Run":
        """Add synthesis sources ('open', 'vendor', 'estimate') to this run and rebuild its report."""
        from hwgen.pipeline import run_on_existing

        if not sources:
            raise HwgenError("name at least one synthesis source: 'open', 'vendor' or 'estimate'")
        result = run_on_existing(self.dir, [f"synth:{s}" for s in sources] + ["report"], board=board,
                                 options=options, quiet=quiet)
        return _run(result)


def _run(result) -> Run:
    return Run(dir=Path(result.run_dir), report=result.report, notices=list(result.notices),
               synth_errors=dict(result.synth_errors))


def flow(
    spec: Any = None, *, model_file: str | Path | None = None, data: str | Path | None = None,
    board: str | None = None, synth: str | tuple[str, ...] = "auto", out: str | Path | None = None,
    force: bool = False, untrained: bool = False, baseline: bool = True, quiet: bool = True,
    seed: int | None = None, epochs: int | None = None, bits: int | None = None, sparsity: float | None = None,
    backend: str | None = None, strategy: str | None = None, reuse_factor: int | None = None,
    io_type: str | None = None, input_bits: int = 16, input_integer: int = 5, **options: Any,
) -> Run:
    """Train (or take `model_file`), generate, simulate, synthesize and report, like `hwgen flow`.

    `spec` is a zoo name, a spec YAML path, a dict in the spec format, or a hwgen.spec.ModelSpec.
    Further `options` are hwgen.pipeline.FlowOptions fields (clock_mhz, rtl_max_samples,
    tool_timeout_s, baseline_reps, trust_model_code, fold_batchnorm, estimate_tool, until, ...).
    """
    from hwgen.pipeline import DEFAULT_BOARD, FlowOptions, run_flow
    from hwgen.spec import ModelSpec, apply_overrides, check_schedule, load_spec, parse_spec

    unknown = set(options) - set(FlowOptions.__dataclass_fields__)
    if unknown:
        raise HwgenError(f"unknown option(s) {', '.join(sorted(unknown))}; see hwgen.pipeline.FlowOptions")
    if model_file is not None:
        if spec is not None:
            raise HwgenError("give either a spec or model_file, not both")
        if data is None:
            raise HwgenError("model_file needs data= an .npz with the test inputs and labels")
        from hwgen.pipeline.inputs import spec_for_model_file

        if bits is not None or sparsity is not None or epochs is not None:
            raise HwgenError("bits, sparsity and epochs change how a spec is trained; they do not apply to model_file")
        model_spec = spec_for_model_file(Path(model_file), str(data), input_bits=input_bits, input_integer=input_integer,
                                         trust_model_code=bool(options.get("trust_model_code")))
        hls = {"backend": backend, "strategy": strategy, "reuse_factor": reuse_factor, "io_type": io_type}
        model_spec = apply_overrides(model_spec, seed=seed, hls=hls)
    else:
        if spec is None:
            raise HwgenError("name a model spec (e.g. 'digits_mlp' or a YAML path) or pass model_file=")
        if isinstance(spec, ModelSpec):
            model_spec = spec
        elif isinstance(spec, dict):
            model_spec = parse_spec(spec, source="<dict>")
        else:
            model_spec = load_spec(spec)
        hls = {"backend": backend, "strategy": strategy, "reuse_factor": reuse_factor, "io_type": io_type}
        model_spec = apply_overrides(model_spec, seed=seed, epochs=epochs, sparsity=sparsity, hls=hls,
                                     weight_bits=bits, activation_bits=bits)
        check_schedule(model_spec.pruning, model_spec.training)
    sources = tuple(s.strip() for s in synth.split(",")) if isinstance(synth, str) else tuple(synth)
    opts = FlowOptions(board=board or DEFAULT_BOARD, out=Path(out) if out else None, force=force, untrained=untrained,
                       data_path=str(data) if data is not None else None, synth=sources or ("none",),
                       baseline=baseline, model_file=str(model_file) if model_file else None, quiet=quiet)
    opts = dataclasses.replace(opts, **options)
    return _run(run_flow(model_spec, opts))


def load_run(path: str | Path) -> Run:
    """A finished run directory, with its report (built from its artifacts if report.json is absent)."""
    from hwgen.report import build_report, load_report
    from hwgen.results import read_json
    from hwgen.rundir import existing_run

    paths = existing_run(Path(path))
    manifest = read_json(paths.manifest)
    report = load_report(paths.root) if paths.report_json.is_file() else build_report(paths.root)
    return Run(dir=paths.root.resolve(), report=report, notices=list(manifest.get("notices") or []),
               synth_errors=dict(manifest.get("synth_errors") or {}))


def run_sweep(config: str | Path, *, out: str | Path | None = None, workers: int | None = None,
          scheduler: str | None = None, epochs: int | None = None, synth: str | None = None,
          retry_failed: bool = True, quiet: bool = True):
    """Run (or resume) a sweep file, like `hwgen sweep`; returns hwgen.sweep.SweepOutcome
    (its `fronts` are the Pareto fronts, `report` the sweep report's path)."""
    from hwgen.sweep import load_sweep
    from hwgen.sweep import run_sweep as _run_sweep

    sources = tuple(s.strip() for s in synth.split(",") if s.strip()) if synth else None
    cfg = load_sweep(config, epochs=epochs, synth=sources)
    return _run_sweep(cfg, out, workers=workers, scheduler=scheduler, retry_failed=retry_failed, quiet=quiet)
