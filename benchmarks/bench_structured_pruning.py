"""Structured (neuron) against unstructured (weight) pruning on digits_mlp at the same sparsity.

Both runs train the zoo spec digits_mlp (64-32-32-10, 6-bit) with the same seed and the same
polynomial schedule; only `pruning.granularity` differs. `weight` zeroes single weights inside
full-size kernels (tfmot); `neuron` zeroes whole Dense units and removes them, so the exported
network is 64-16-16-10. Prints, per granularity: QKeras test accuracy, C-sim bit-exactness,
parameters (of the exported model) and non-zero weights, BOPs, hwgen's estimate (LUT/FF/DSP)
and the open path's Yosys LUT/FF on pynq-z2, and writes the rows as JSON.

    .venv/bin/python benchmarks/bench_structured_pruning.py --out runs/bench_structured
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def one(granularity: str, out: Path, sparsity: float, board: str, epochs: int | None) -> dict:
    import hwgen
    from hwgen.spec import load_spec

    spec = load_spec("digits_mlp")
    spec = dataclasses.replace(spec, pruning=dataclasses.replace(spec.pruning, granularity=granularity,
                                                                   target_sparsity=sparsity))
    start = time.monotonic()
    run = hwgen.flow(spec, board=board, synth="open,estimate", baseline=False, out=out / granularity, force=True,
                     epochs=epochs)
    rep = run.report.to_dict()
    row = {
        "granularity": granularity,
        "accuracy_qkeras": rep["accuracy"]["qkeras"]["value"],
        "bit_exact_fraction": rep["csim"]["bit_exact_fraction"],
        "kernel_shapes": {l["name"]: l["kernel_shape"] for l in rep["train"]["layers"] if l["kernel_shape"]},
        "params": rep["train"]["params"],
        "nonzero": rep["train"]["nonzero"],
        "bops": rep["train"]["bops"],
        "wall_s": round(time.monotonic() - start, 1),
        "synth_errors": run.synth_errors,
    }
    for s in run.report.synth:
        if s.tool == "hwgen-estimator":
            row["estimate"] = {k: s.resources.get(k) for k in ("lut", "ff", "dsp")}
        elif s.tool == "yosys":
            row["yosys"] = {k: s.resources.get(k) for k in ("lut", "ff", "dsp")}
            row["yosys_source"] = s.source
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/bench_structured"))
    ap.add_argument("--sparsity", type=float, default=0.5)
    ap.add_argument("--board", default="pynq-z2")
    ap.add_argument("--epochs", type=int, default=None, help="override the spec's 30 epochs (quicker, less accurate)")
    args = ap.parse_args(argv)
    rows = [one(g, args.out, args.sparsity, args.board, args.epochs) for g in ("weight", "neuron")]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_structured_pruning.json").write_text(json.dumps(rows, indent=2))

    def get(r, src, k):
        v = (r.get(src) or {}).get(k)
        return "-" if v is None else f"{v:,.0f}"

    print(f"digits_mlp, target sparsity {args.sparsity}, board {args.board}")
    head = ("granularity", "acc", "bit-exact", "params", "nonzero", "BOPs", "est LUT", "est FF", "est DSP",
            "yosys LUT", "yosys FF", "yosys DSP", "wall s")
    print(" | ".join(head))
    for r in rows:
        print(" | ".join([
            r["granularity"], f"{r['accuracy_qkeras']:.4f}", f"{r['bit_exact_fraction']:.3f}", f"{r['params']:,}",
            f"{r['nonzero']:,}", f"{r['bops']:,.0f}", get(r, "estimate", "lut"), get(r, "estimate", "ff"),
            get(r, "estimate", "dsp"), get(r, "yosys", "lut"), get(r, "yosys", "ff"), get(r, "yosys", "dsp"),
            f"{r['wall_s']}",
        ]))
    for r in rows:
        print(f"{r['granularity']}: kernels {r['kernel_shapes']}; yosys source {r.get('yosys_source', '-')}"
              + (f"; synth errors {r['synth_errors']}" if r["synth_errors"] else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
