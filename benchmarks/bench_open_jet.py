"""Benchmark of the open-source synthesis path on the jet-tagging MLP (16-64-32-32-5).

The network has the hls4ml jet-tagging topology with 6-bit weights (quantized_bits(6,0,alpha=1))
and 6-bit activations (quantized_relu(6,0)), 75% of each kernel magnitude-pruned. No dataset is
available offline, so the weights are Glorot-random and the inputs are random values on the
input grid fixed<16,6> (the hls4ml default ap_fixed<16,6>); resources and timing do not depend
on training, only on the weights' values and sparsity.

Runs, for a Xilinx board (Yosys only) and a Lattice ECP5 board (Yosys + nextpnr with a time
limit): RTL generation (da4ml), Icarus RTL simulation on --samples vectors (bit-exactness vs the
QKeras logits), Yosys synthesis, nextpnr place-and-route. Prints LUT/FF/DSP, latency in cycles
and ns and each step's wall time, and writes everything as JSON.

    .venv/bin/python benchmarks/bench_open_jet.py --out runs/bench_open_jet
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LAYERS = (64, 32, 32)
N_IN, N_OUT = 16, 5
INPUT_BITS, INPUT_INTEGER = 16, 6
DESIGN_KEYS = ("n_stages", "latency_cycles", "levels_per_stage", "adder_levels", "da4ml_cost_luts", "pipe_reg_bits", "in_width", "out_width_pipe")
SIM_KEYS = ("simulator", "simulator_version", "n_samples", "bit_exact_fraction", "max_abs_diff", "accuracy", "latency_cycles", "wall_s")


def build_jet_run(run: Path, samples: int, sparsity: float, seed: int) -> dict:
    """Write RUN/train/model.h5 and data.npz for a random-initialised pruned jet MLP."""
    from hwgen.tfcompat import tf
    from hwgen.spec import Precision
    from hwgen.train import save_train_artifacts
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    tf.keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    layers = [tf.keras.Input((N_IN,))]
    def dense(units: int, name: str) -> QDense:
        q = lambda: quantized_bits(6, 0, alpha=1)  # noqa: E731
        return QDense(units, kernel_quantizer=q(), bias_quantizer=q(), name=name)

    for n, units in enumerate(LAYERS):
        layers.append(dense(units, f"fc{n + 1}"))
        layers.append(QActivation(quantized_relu(6, 0), name=f"relu{n + 1}"))
    layers.append(dense(N_OUT, "output"))
    model = tf.keras.Sequential(layers, name="jet_mlp")
    kept = {}
    for layer in model.layers:
        if not isinstance(layer, QDense):
            continue
        kernel, bias = layer.get_weights()
        qk = layer.kernel_quantizer_internal(tf.constant(kernel)).numpy()
        thresh = np.quantile(np.abs(kernel), sparsity)  # magnitude pruning on the float weights
        qk[np.abs(kernel) <= thresh] = 0.0
        qb = np.round(rng.normal(0, 0.1, bias.shape) * 32) / 32
        layer.set_weights([qk.astype(np.float32), qb.astype(np.float32)])
        kept[layer.name] = float(np.count_nonzero(qk) / qk.size)
    f = INPUT_BITS - INPUT_INTEGER
    lim = 2.0 ** (INPUT_INTEGER - 1)
    X = np.clip(np.round(rng.normal(0, 1, (samples, N_IN)) * 2**f) / 2**f, -lim, lim - 2.0**-f).astype(np.float32)
    logits = model.predict(X, verbose=0).astype(np.float32)
    save_train_artifacts(
        run / "train" / "model.h5", run / "train" / "data.npz", model, X,
        np.argmax(logits, axis=1),  # no dataset offline: labels = the QKeras prediction
        logits, Precision(INPUT_BITS, INPUT_INTEGER - 1),  # INPUT_INTEGER counts the sign; Precision does not
    )  # fmt: skip
    return {"nonzero_fraction": kept, "samples": samples}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "bench_open_jet")
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--sparsity", type=float, default=0.75)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--xilinx-board", default="pynq-z2")
    ap.add_argument("--lattice-board", default="ulx3s-85f")
    ap.add_argument("--pnr-timeout", type=float, default=1500.0, help="nextpnr time limit in seconds")
    ap.add_argument("--timeout", type=float, default=3600.0, help="tool time budget per board in seconds")
    ap.add_argument("--no-pnr", action="store_true")
    args = ap.parse_args(argv)

    from hwgen.boards import load_board
    from hwgen.results import write_json
    from hwgen.synth.open import run_open_synth

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()

    def progress(msg: str) -> None:
        print(f"[{time.monotonic() - t_start:7.1f}s] {msg}", flush=True)

    base = out / "base"
    shutil.rmtree(base, ignore_errors=True)
    t0 = time.monotonic()
    model_info = build_jet_run(base, args.samples, args.sparsity, args.seed)
    progress(f"built jet MLP run ({time.monotonic() - t0:.1f} s): nonzero fractions {model_info['nonzero_fraction']}")

    record: dict = {
        "model": {"layers": [N_IN, *LAYERS, N_OUT], "bits": 6, "input": f"fixed<{INPUT_BITS},{INPUT_INTEGER}>", **model_info},
        "boards": {},
    }
    for board_name, place_route in ((args.xilinx_board, False), (args.lattice_board, not args.no_pnr)):
        board = load_board(board_name)
        run = out / board_name
        shutil.rmtree(run, ignore_errors=True)
        shutil.copytree(base / "train", run / "train")
        t0 = time.monotonic()
        res = run_open_synth(
            run, board, max_samples=args.samples, timeout_s=args.timeout, place_route=place_route,
            progress=progress, pnr_timeout_s=args.pnr_timeout,
        )  # fmt: skip
        entry = {
            "wall_s": round(time.monotonic() - t0, 1),
            "steps_s": res.step_wall_s,
            "design": {k: res.design[k] for k in DESIGN_KEYS},
            "rtlsim": {k: res.rtlsim.get(k) for k in SIM_KEYS},
            "rtlsim_designs": {
                k: {"bit_exact_fraction": v["bit_exact_fraction"], "wall_s": v["wall_s"]}
                for k, v in (res.rtlsim.get("designs") or {}).items()
            },
            "synth": [
                {
                    "source": s.source, "kind": s.kind, "resources": s.resources, "utilization_pct": s.utilization_pct,
                    "latency_cycles": s.latency_cycles_max, "clock_mhz": s.clock_mhz, "fmax_mhz": s.fmax_mhz,
                    "latency_ns": s.latency_ns, "wall_s": s.wall_s, "notes": s.notes,
                }
                for s in res.synth_results
            ],  # fmt: skip
            "notes": res.notes,
        }
        record["boards"][board_name] = entry
        write_json(out / "bench_open_jet.json", record)

    print("\n=== open synthesis of the jet MLP (16-64-32-32-5, 6-bit, 75% pruned) ===")
    for board_name, e in record["boards"].items():
        d, sim = e["design"], e["rtlsim"]
        print(
            f"\n{board_name}: {d['n_stages']} stages x <= {d['levels_per_stage']} adder levels, "
            f"latency {d['latency_cycles']} cycles, II=1"
        )
        print(f"  da4ml estimate {d['da4ml_cost_luts']:.0f} LUTs; steps (s): {json.dumps(e['steps_s'])}")
        print(
            f"  RTL sim {sim['simulator']} {sim['simulator_version']}: {sim['n_samples']} vectors, "
            f"bit-exact {sim['bit_exact_fraction']}, max|diff| {sim['max_abs_diff']}"
        )
        for s in e["synth"]:
            r = s["resources"]
            luts = r.get("lut", r.get("lut4"))
            fmax = f"{s['fmax_mhz']:.1f} MHz" if s["fmax_mhz"] else "n/a"
            dsp = r.get("dsp", r.get("mult18", 0))
            print(
                f"  {s['source']:<22} {s['kind']:<11} LUT {luts:.0f}  FF {r.get('ff', 0):.0f}  DSP {dsp:.0f}  "
                f"carry {r.get('carry', 0):.0f}  Fmax {fmax}  latency {s['latency_cycles']} cycles = "
                f"{s['latency_ns']} ns  ({s['wall_s']} s)"
            )
        for n in e["notes"]:
            print(f"  note: {n}")
    print(f"\nJSON: {out / 'bench_open_jet.json'}  (total {time.monotonic() - t_start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
