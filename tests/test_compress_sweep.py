"""The compression comparison sweep (issue 13): examples/sweep_compression.yaml, shortened to
3 epochs, runs with --workers 2; every method's point is C-sim bit-exact, sweep.csv names each
row's method, and the Pareto plots are written."""

from __future__ import annotations

import csv
import json

from conftest import REPO, run_cli


def test_compression_sweep_with_two_workers(tmp_path):
    out = tmp_path / "swc"
    rc = run_cli("sweep", REPO / "examples" / "sweep_compression.yaml", "--epochs", "3", "--workers", "2",
                 "--out", out, "--quiet")
    assert rc == 0
    rows = list(csv.DictReader(open(out / "sweep.csv")))
    methods = {r["method"] for r in rows}
    assert methods == {"baseline", "neuron25", "neuron50", "lowrank8", "lowrank_e90", "share4", "share8", "distill",
                       "ternary_fc", "autoq", "neuron50_distill"}
    assert all(r["status"] == "ok" and float(r["bit_exact_fraction"]) == 1.0 for r in rows), rows
    by = {r["label"]: r for r in rows}
    # structural pruning shrinks the model; the compression record reaches each point's report
    assert int(by["neuron50_w6a6_s0.5"]["params"]) < int(by["baseline_w6a6_s0.5"]["params"])
    report = json.loads((out / by["lowrank8_w6a6_s0.5"]["run_dir"] / "report.json").read_text())
    assert report["compression"]["low_rank"]["layers"][0]["rank"] == 8
    for name in ("lut", "dsp", "latency", "bops"):
        assert (out / "plots" / f"pareto_{name}.png").stat().st_size > 1000
