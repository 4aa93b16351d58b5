"""Benchmark: what weight sharing does to the open DA path's hardware for digits_mlp.

Runs models/digits_mlp.yaml as it is and with `weight_sharing: {clusters: K}` for each K of
--clusters (default 4 and 16), each through `hwgen flow --synth open,estimate` on pynq-z2 (no
software baselines), and prints per run: accuracy (QKeras = C-sim, and RTL simulation), C-sim
bit-exactness, distinct quantized kernel values per layer, the da4ml design (adder count read
from its combinational Verilog, da4ml's LUT estimate, adder levels, pipeline registers) and
Yosys's LUT/FF/carry, next to hwgen's HLS estimate. Writes everything to OUT/summary.json.

Distributed arithmetic turns each constant multiplication into shifts and adds and shares
common subexpressions across a layer, so fewer distinct weights should mean fewer adders.

    .venv/bin/python benchmarks/bench_weight_sharing.py --out runs/bench_weight_sharing
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# one instance of a da4ml primitive in the generated Verilog: `<module> #(...) op_N (...)`
INSTANCE = re.compile(r"\b(shift_adder|negative|mux|multiplier)\s+#\(")


def write_spec(out: Path, clusters: int | None) -> Path:
    raw = yaml.safe_load((ROOT / "models" / "digits_mlp.yaml").read_text())
    if clusters is not None:
        raw["name"] = f"digits_mlp_ws{clusters}"
        raw["weight_sharing"] = {"clusters": clusters}  # fine_tune_epochs: the default (3)
    path = out / "specs" / f"{raw['name']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def run_flow(spec: Path, run: Path, board: str) -> float:
    cmd = [sys.executable, "-m", "hwgen", "flow", str(spec), "--synth", "open,estimate", "--board", board,
           "--no-baseline", "--quiet", "--force", "--out", str(run)]
    start = time.monotonic()
    subprocess.run(cmd, check=True, cwd=ROOT)  # a list, no shell: paths are passed as they are
    return time.monotonic() - start


def summarize(run: Path, wall_s: float) -> dict:
    train = json.loads((run / "train" / "train.json").read_text())
    csim = json.loads((run / "csim.json").read_text())
    rtlsim = json.loads((run / "rtlsim.json").read_text()) if (run / "rtlsim.json").is_file() else {}
    design = json.loads((run / "rtl" / "design.json").read_text())
    comb = (run / "rtl" / f"{design['comb_top']}.v").read_text()
    instances: dict[str, int] = {}
    for m in INSTANCE.finditer(comb):
        instances[m.group(1)] = instances.get(m.group(1), 0) + 1
    synth = {}
    for path in sorted((run / "synth").glob("*.json")):
        rec = json.loads(path.read_text())
        synth[rec.get("source", path.stem)] = {k: rec.get("resources", {}).get(k) for k in ("lut", "ff", "carry", "dsp")}
        synth[rec.get("source", path.stem)]["latency_cycles"] = rec.get("latency_cycles_max")
    return {
        "name": run.name,
        "accuracy_qkeras": train["accuracy_qkeras"],
        "accuracy_csim": csim["accuracy"],
        "csim_bit_exact": csim["bit_exact_fraction"],
        "rtl_bit_exact": rtlsim.get("bit_exact_fraction"),  # Icarus, on the first rtl_max_samples test inputs
        "rtl_samples": rtlsim.get("n_samples"),
        "rtl_accuracy": rtlsim.get("accuracy"),
        "sparsity": train["sparsity"],
        "bops": train["bops"],
        "distinct_weights": {l["name"]: l["distinct_weights"] for l in train["layers"] if l.get("distinct_weights")},
        "shared_values": {r["layer"]: r["values"] for r in train.get("compression", {}).get("weight_sharing", {})
                          .get("layers", [])},
        "adders": instances.get("shift_adder", 0),
        "instances": instances,
        "da4ml_cost_luts": design.get("da4ml_cost_luts"),
        "adder_levels": design.get("adder_levels"),
        "n_stages": design.get("n_stages"),
        "pipe_reg_bits": design.get("pipe_reg_bits"),
        "synth": synth,
        "wall_s": round(wall_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="runs/bench_weight_sharing")
    ap.add_argument("--board", default="pynq-z2")
    ap.add_argument("--clusters", default="4,16", help="comma-separated cluster counts (besides the plain run)")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for clusters in [None] + [int(c) for c in args.clusters.split(",") if c]:
        spec = write_spec(out, clusters)
        run = out / spec.stem
        wall = run_flow(spec, run, args.board)
        rows.append({"clusters": clusters, **summarize(run, wall)})
    (out / "summary.json").write_text(json.dumps(rows, indent=2))
    yosys = next((k for k in rows[0]["synth"] if k.startswith("yosys")), None)
    est = next((k for k in rows[0]["synth"] if k.startswith("estimate")), None)
    print(f"digits_mlp on {args.board}: weight sharing through the open DA path ({yosys}) and {est}")
    head = (f"{'run':<18}{'acc':>7}{'rtl':>7}{'exact':>7}  {'distinct fc1/fc2/out':<22}{'adders':>7}{'da4ml':>8}"
            f"{'levels':>7}{'LUT':>8}{'FF':>7}{'carry':>7}{'est LUT':>9}{'BOPs':>9}{'wall':>7}")
    print(head)
    for r in rows:
        y = r["synth"].get(yosys, {}) if yosys else {}
        e = r["synth"].get(est, {}) if est else {}
        distinct = "/".join(str(v) for v in r["distinct_weights"].values())
        rtl = f"{r['rtl_accuracy']:.4f}" if r["rtl_accuracy"] is not None else "-"
        print(f"{r['name']:<18}{r['accuracy_qkeras']:>7.4f}{rtl:>7}{r['csim_bit_exact']:>7.3f}  {distinct:<22}"
              f"{r['adders']:>7}{r['da4ml_cost_luts'] or 0:>8.0f}{r['adder_levels'] or 0:>7.0f}"
              f"{y.get('lut') or 0:>8.0f}{y.get('ff') or 0:>7.0f}{y.get('carry') or 0:>7.0f}{e.get('lut') or 0:>9.0f}"
              f"{r['bops']:>9.0f}{r['wall_s']:>6.0f}s")
    for r in rows:
        if r["shared_values"]:
            print(f"  {r['name']} shared values: " + "; ".join(f"{k} {v}" for k, v in r["shared_values"].items()))
    print(f"written {out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
