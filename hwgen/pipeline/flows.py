"""The named flows: each command is a list of stage names over the one runner.

    hwgen flow          train, convert, csim, synth:<each source>, baseline, report
    hwgen convert       train, convert, csim, report        (--no-csim: without csim)
    hwgen synth RUN     synth:<each source asked for>, report      (on the finished run)
    hwgen report RUN    report
    a sweep point       train (the shared trained model copied in), convert, csim, synth:*, report
    a sweep's model     train
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hwgen import __version__
from hwgen.boards import load_board
from hwgen.errors import HwgenError
from hwgen.pipeline.context import FlowOptions, RunContext
from hwgen.pipeline.runner import Runner, applied_ok, new_manifest, terminal_stream
from hwgen.progress import Progress
from hwgen.results import read_inventory, read_json, write_inventory
from hwgen.rundir import MANIFEST, RunPaths, acquire_lock, existing_run, release_lock, staged_run_dir
from hwgen.spec import ModelSpec
from hwgen.synth.sources import resolve_synth

__all__ = ["FlowResult", "flow_stages", "resolve_synth", "run_flow", "run_on_existing"]


@dataclass
class FlowResult:
    run_dir: Path
    report: Any  # hwgen.report.Report (None for a flow that stops before the report)
    notices: list[str] = field(default_factory=list)
    synth_errors: dict[str, str] = field(default_factory=dict)  # source -> why it failed

    @property
    def ok(self) -> bool:
        """Every stage succeeded and the C-simulation matched QKeras on every sample."""
        csim = (self.report.csim if self.report is not None else None) or {}
        return not self.synth_errors and csim.get("bit_exact_fraction", 1.0) == 1.0


def flow_stages(opts: FlowOptions, synth: list[str]) -> list[str]:
    if opts.until == "train":
        return ["train"]
    names = ["train", "convert"]
    if opts.until == "convert":
        return names + ["report"]
    names.append("csim")
    if opts.until == "report":
        names += [f"synth:{s}" for s in synth]
        if opts.baseline:
            names.append("baseline")
    elif opts.until != "csim":
        raise HwgenError(f"unknown flow end {opts.until!r}")
    return names + ["report"]


def _resumable(out: Path, fingerprint: str) -> Path | None:
    """An earlier run of exactly this spec and these options in `out` that did not finish every
    stage (a synthesis source failed): its training and HLS project can be taken over."""
    try:
        manifest = read_json(out / MANIFEST)
    except (OSError, ValueError):
        return None
    if manifest.get("fingerprint") != fingerprint or manifest.get("complete", True):
        return None
    return out if applied_ok(manifest) else None


def run_flow(
    spec: ModelSpec, opts: FlowOptions, *, fingerprint: str | None = None, manifest_extra: dict | None = None,
    capture_library_output: bool = True, progress: Progress | None = None,
) -> FlowResult:
    """A new run of `spec` into opts.out (default runs/<name>): built in a staging folder and
    moved into place when done; a failed synthesis source is recorded and the run kept."""
    board = load_board(opts.board)
    synth = resolve_synth(opts.synth, board) if opts.until == "report" else []
    out = Path(opts.out) if opts.out else Path("runs") / spec.name
    if fingerprint is None:
        fingerprint = spec.fingerprint(board=board.name, options=opts.fingerprint_fields(), hwgen=__version__)
    names = flow_stages(opts, synth)
    # Inputs that can fail fast are checked before any heavy work, and before --out is touched.
    if opts.model_file:
        from hwgen.modelio import check_model_file

        check_model_file(Path(opts.model_file), trust_code=opts.trust_model_code)
        if not opts.data_path:
            raise HwgenError("--model-file needs --data FILE.npz with the test inputs and labels")
    if progress is None:
        progress = Progress(len(names), stream=terminal_stream() if capture_library_output else None, quiet=opts.quiet)
    resume = _resumable(out, fingerprint)
    with staged_run_dir(out, fingerprint, force=opts.force) as staging:
        ctx = RunContext(spec=spec, board=board, options=opts, paths=RunPaths(staging), fingerprint=fingerprint,
                         synth_sources=tuple(synth), progress=progress)
        manifest = new_manifest(ctx, manifest_extra)
        import yaml

        ctx.paths.spec.write_text(yaml.safe_dump(spec.to_dict(), sort_keys=False))
        runner = Runner(ctx, manifest, capture_library_output=capture_library_output)
        runner.run(names, reuse_from=resume)
    return FlowResult(run_dir=out.resolve(), report=ctx.results.get("report"), notices=list(runner.notices),
                      synth_errors=dict(manifest["synth_errors"]))


def run_on_existing(
    run_dir: Path, names: list[str], *, board: str | None = None, options: dict | None = None,
    capture_library_output: bool = True, quiet: bool = False,
) -> FlowResult:
    """Apply more stages to a finished run in place (`hwgen synth RUN`, `hwgen report RUN`).

    The run's own options are taken from its manifest, with `options` (tool time limit, RTL
    samples, --trust-model-code, estimate tool) laid over them for this command only. The run's
    lock is held, so a `hwgen flow` into the same folder cannot swap it away meanwhile.
    """
    paths = existing_run(Path(run_dir))
    root = paths.root.resolve()
    lock = root.parent / f".{root.name}.lock"
    fd = acquire_lock(lock, str(root))
    try:
        manifest = read_json(paths.manifest)
        try:
            spec = ModelSpec.from_dict(manifest["spec"])
            recorded = {k: v for k, v in (manifest.get("options") or {}).items() if k in FlowOptions.__dataclass_fields__}
            base = FlowOptions(**recorded)
        except (KeyError, TypeError, ValueError) as exc:
            raise HwgenError(f"{root}/run.json is not a run manifest this hwgen can read ({exc}); make the run again") from None
        opts = replace(base, **(options or {}), quiet=quiet, out=root, force=False)
        board_obj = load_board(board or manifest["board"]["name"])
        before = set(_files(root))
        progress = Progress(len(names), stream=terminal_stream() if capture_library_output else None, quiet=quiet)
        ctx = RunContext(spec=spec, board=board_obj, options=opts, paths=RunPaths(root),
                         fingerprint=manifest.get("fingerprint", ""), progress=progress)
        runner = Runner(ctx, manifest, capture_library_output=capture_library_output)
        try:
            runner.run(names)
        finally:
            have = read_inventory(root)
            if have is not None:  # what this command wrote is hwgen's, replaceable by a later run
                write_inventory(root, sorted(have | (set(_files(root)) - before)))
    finally:
        release_lock(lock, fd)
    return FlowResult(run_dir=root, report=ctx.results.get("report"), notices=list(runner.notices),
                      synth_errors=dict(manifest.get("synth_errors") or {}))


def _files(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()]
