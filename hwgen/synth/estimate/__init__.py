"""Analytical resource and latency estimate of an hls4ml project, without vendor tools.

    from hwgen.synth.estimate import estimate_project, run_estimate
    est = estimate_project("prj/", tool="vitis_hls-2024.1")     # Estimate: per-layer + total
    est.to_synth_result(board)                                   # SynthResult(kind='estimate')
    run_estimate(run_dir, board)        # family from the run's backend; writes RUN/synth/estimate_*.json

See model.py (what is counted), calibration.py / calibration.yaml (fitted per-unit costs, points
and their provenance), baselines.py (hls4ml's own synthesis baselines) and calibrate.py
(rebuilding the calibration from the fixtures); docs/estimator.md describes the model and its error.
"""

from hwgen.synth.estimate.calibration import Calibration, load_calibration
from hwgen.synth.estimate.estimator import MODEL_VERSION, Estimate, estimate_project, parse_tool, run_estimate
from hwgen.synth.estimate.project import HlsProject, read_project

__all__ = [
    "MODEL_VERSION", "Calibration", "Estimate", "HlsProject", "estimate_project", "load_calibration",
    "parse_tool", "read_project", "run_estimate",
]
