"""`hwgen sweep SWEEP.yaml`: design-space exploration over bits x sparsity x reuse x strategy x
io type x board x seed, resumable, on a local process pool or a Dask cluster."""

from __future__ import annotations

import re
from pathlib import Path

from hwgen.errors import HwgenError

_SCHEDULER = re.compile(r"^(tcp|tls)://[^\s/:]+(:\d+)$|^(tcp|tls)://\[[0-9a-fA-F:]+\](:\d+)$")


def configure(p) -> None:
    p.add_argument("sweep", help="sweep file (YAML): base model, axes and/or points, synthesis source; see examples/sweep_digits.yaml")
    p.add_argument("--out", help="sweep directory (default runs/<sweep name>); re-running into it resumes")
    p.add_argument("--workers", type=int, help="local worker processes (default: usable cores, at most 4)")
    p.add_argument("--scheduler", help="send the points to a running Dask cluster, e.g. tcp://127.0.0.1:8786 (the workers must see --out)")
    p.add_argument("--epochs", type=int, help="override the training epochs of every point")
    p.add_argument("--synth", help="override the sweep file's synthesis sources (comma-separated: estimate, open, vendor, auto, none)")
    p.add_argument("--skip-failed", action="store_true", help="do not retry points whose earlier attempt failed")
    p.add_argument("--list", action="store_true", help="only list the points (and which are done) and exit")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def summary_lines(outcome) -> list[str]:
    """The one-screen summary printed at the end of a sweep."""
    t = outcome.totals or {}
    out = [
        f"hwgen sweep {outcome.name or outcome.sweep_dir.name}: {outcome.n_points} points  ({t.get('ok', 0)} ok, {t.get('failed', 0)} failed, "
        f"{t.get('pending', 0)} pending)",
        f"  this run   {outcome.computed} computed, {outcome.skipped} skipped (already done)"
        + (f", {outcome.recovered} recovered" if outcome.recovered else "")
        + f", {outcome.failed} failed; models {outcome.models_trained} trained, {outcome.models_reused} reused; "
        f"{outcome.wall_s:.1f} s ({outcome.executor})",
    ]
    if outcome.cost_source or outcome.fronts:
        out.append(f"  figures    {outcome.accuracy_label}; resources and latency from {outcome.cost_source or 'no synthesis source'}")
    for name, front in (outcome.fronts or {}).items():
        title = f"  Pareto {front.get('axis', name)}"
        if front.get("missing"):
            out.append(f"{title:<28} {front['missing']}")
            continue
        pts = ", ".join(f"{p['label']} ({_fmt(p['accuracy'])} @ {_fmt(p.get(front['cost']))})" for p in front["points"])
        out.append(f"{title:<28} {pts}")
    for f in outcome.failures[:8]:
        out.append(f"  failed     {f['label']} at {f['stage']}: {str(f['error'])[:160]}")
    if len(outcome.failures) > 8:
        out.append(f"  failed     ... and {len(outcome.failures) - 8} more (see sweep.md)")
    d = outcome.sweep_dir
    out.append(f"  files      {d}/sweep.csv, sweep.json, pareto.json, sweep.md, plots/pareto_*.png")
    return out


def main(args) -> int:
    from hwgen.sweep import expand_points, load_sweep, run_sweep

    if args.workers is not None and args.workers < 1:
        raise HwgenError("--workers must be >= 1")
    if args.epochs is not None and args.epochs < 1:
        raise HwgenError("--epochs must be >= 1")
    if args.scheduler and args.workers is not None:
        raise HwgenError("give --workers (local pool) or --scheduler (a Dask cluster, which has its own workers), not both")
    if args.scheduler and not _SCHEDULER.match(args.scheduler):
        raise HwgenError(f"--scheduler {args.scheduler!r} must look like tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786)")
    synth = tuple(s.strip() for s in args.synth.split(",") if s.strip()) if args.synth else None
    cfg = load_sweep(args.sweep, epochs=args.epochs, synth=synth)
    out = Path(args.out) if args.out else Path("runs") / cfg.name
    if args.list:
        from hwgen.sweep.tasks import read_record

        points = expand_points(cfg)
        print(f"{cfg.name}: {len(points)} points, {len({p.train_key for p in points})} distinct models, synth {', '.join(cfg.synth)}")
        for p in points:
            rec = read_record(out, p.id, p.hash) if out.is_dir() else None
            print(f"  {p.label:<32} {p.id}  model {p.model_id}  {rec['status'] if rec else 'to do'}")
        return 0
    outcome = run_sweep(cfg, out, workers=args.workers, scheduler=args.scheduler, retry_failed=not args.skip_failed,
                        quiet=args.quiet)
    print("\n".join(summary_lines(outcome)))
    return 0 if outcome.failed == 0 and not (outcome.totals or {}).get("failed") else 1
