"""Design-space exploration: `hwgen sweep SWEEP.yaml` runs the flow over a grid (or a list) of
bit widths, sparsities, reuse factors, strategies, IO types, boards and seeds, trains each
distinct model once, records one row per point and the Pareto fronts of accuracy against LUT,
DSP, latency and BOPs. Resumable (points are hashed; finished ones are never recomputed) and
parallel (a local process pool, or a Dask cluster with --scheduler).

    from hwgen.sweep import load_sweep, expand_points, run_sweep, write_sweep_report
    cfg = load_sweep("examples/sweep_digits.yaml", epochs=3)
    outcome = run_sweep(cfg, "runs/sweep_digits", workers=2)      # SweepOutcome
    write_sweep_report("runs/sweep_digits")                         # regenerate csv/json/plots/md

See config.py for the sweep file, tasks.py for the directory layout, report.py for the outputs.
"""

from hwgen.sweep.config import AXES, HW_AXES, TRAIN_AXES, Point, SweepConfig, apply_point, expand_points, load_sweep, parse_sweep
from hwgen.sweep.report import COLUMNS, compute_fronts, dominates, pareto_front, write_sweep_report
from hwgen.sweep.runner import SweepOutcome, default_workers, run_sweep

__all__ = [
    "AXES", "COLUMNS", "HW_AXES", "TRAIN_AXES", "Point", "SweepConfig", "SweepOutcome", "apply_point", "compute_fronts",
    "default_workers", "dominates", "expand_points", "load_sweep", "pareto_front", "parse_sweep", "run_sweep",
    "write_sweep_report",
]
