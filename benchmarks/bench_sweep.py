"""Time a design-space sweep end to end and print its Pareto points.

    python benchmarks/bench_sweep.py                                   # examples/sweep_digits.yaml, 2 workers
    python benchmarks/bench_sweep.py SWEEP.yaml --workers 4 --out DIR  # keep DIR to resume / inspect
    python benchmarks/bench_sweep.py --epochs 3                         # quicker look
    python benchmarks/bench_sweep.py --scheduler tcp://127.0.0.1:8786   # through a Dask cluster

Runs `hwgen sweep` (a fresh directory unless --out names one) and prints the wall time, the
per-stage CPU-side times summed over the points (train counted once per model), each Pareto
front and the per-point table; --json FILE also writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hwgen.errors import HwgenError  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweep", nargs="?", default=str(REPO / "examples" / "sweep_digits.yaml"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--scheduler")
    p.add_argument("--epochs", type=int)
    p.add_argument("--out", type=Path, help="sweep directory (default: a fresh temporary one)")
    p.add_argument("--json", type=Path, help="also write the numbers here")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    from hwgen.sweep import load_sweep, run_sweep

    out = args.out or Path(tempfile.mkdtemp(prefix="bench_sweep-")) / "sweep"
    try:
        cfg = load_sweep(args.sweep, epochs=args.epochs)
        start = time.monotonic()
        outcome = run_sweep(cfg, out, workers=args.workers, scheduler=args.scheduler, quiet=args.quiet)
        wall = time.monotonic() - start
    except HwgenError as exc:
        print(f"bench_sweep: error: {exc}", file=sys.stderr)
        return 2
    state = json.loads((out / "sweep.json").read_text())
    rows = state["rows"]
    models: dict[str, float] = {}
    sums = {"convert": 0.0, "csim": 0.0, "synth": 0.0, "report": 0.0}
    for r in rows:
        if r.get("model_id") and r.get("wall_train_s") is not None:
            models[r["model_id"]] = float(r["wall_train_s"])
        for key, col in (("convert", "wall_convert_s"), ("csim", "wall_csim_s"), ("synth", "wall_synth_s"), ("report", "wall_report_s")):
            sums[key] += float(r.get(col) or 0.0)
    sums["train"] = sum(models.values())
    print(f"sweep {cfg.name}: {len(rows)} points, {len(models)} models, {outcome.computed} computed / {outcome.skipped} "
          f"skipped / {outcome.failed} failed in {wall:.1f} s wall ({outcome.executor}; {os.cpu_count()} CPUs visible)")
    print("  stage sums (s): " + ", ".join(f"{k} {v:.1f}" for k, v in sums.items()))
    for name, front in outcome.fronts.items():
        if front.get("missing"):
            print(f"  Pareto accuracy vs {front['axis']}: {front['missing']}")
            continue
        pts = ", ".join(f"{q['label']} (acc {q['accuracy']:.4f}, {front['axis']} {q[front['cost']]:,.6g})" for q in front["points"])
        print(f"  Pareto accuracy vs {front['axis']}: {pts}")
    print(f"  {'point':<14} {'status':<7} {'acc':>7} {'LUT':>9} {'FF':>7} {'DSP':>6} {'lat ns':>8} {'BOPs':>10}")
    for r in rows:
        def f(v, fmt):
            return format(v, fmt) if isinstance(v, (int, float)) and not isinstance(v, bool) else "-"
        print(f"  {r['label']:<14} {r['status']:<7} {f(r['accuracy'], '.4f'):>7} {f(r['lut'], ',.0f'):>9} {f(r['ff'], ',.0f'):>7} "
              f"{f(r['dsp'], ',.0f'):>6} {f(r['latency_ns'], ',.0f'):>8} {f(r['bops'], ',.0f'):>10}")
    print(f"  results in {out}")
    if args.json:
        args.json.write_text(json.dumps({"wall_s": round(wall, 2), "stage_sums_s": sums, "executor": outcome.executor,
                                         "points": len(rows), "models": len(models), "fronts": outcome.fronts,
                                         "sweep_dir": str(out)}, indent=2) + "\n")
    return 0 if outcome.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
