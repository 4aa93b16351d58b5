"""Issue 16 item 1: alkaid 0.8.2 (ported tracer, benchmarks/alkaid_trace.py) vs da4ml 0.5.2.

For each model (the zoo's digits_mlp, trained first with
`hwgen flow models/digits_mlp.yaml --synth none --no-baseline --out /tmp/bench_dm`, and the tiny
MLP of tests/test_rtl_flow.py::build_run) and each tracer: trace time, interpreter vs QKeras,
Icarus RTL simulation (pipelined and combinational) vs QKeras on the same vectors, two-operand
adder count, adder depth, pipeline stages / latency, and Yosys synth_xilinx LUT/FF/CARRY4 on
pynq-z2 for the pipelined top.

  PYTHONPATH=/tmp/alkaid_pkgs .venv/bin/python benchmarks/bench_alkaid_vs_da4ml.py \
      --dm-run /tmp/bench_dm --out /tmp/bench_alkaid [--cold]

--cold also times the first trace in a fresh process for each tracer; for da4ml its numba cache
files (*.nbi, *.nbc under site-packages/da4ml/**/__pycache__) are moved aside for that run and
restored afterwards. alkaid is found on PYTHONPATH or --alkaid-path (default /tmp/alkaid_pkgs).

Measured (2 shared cores, Yosys synth_xilinx, pynq-z2 at 100 MHz = 3 adder levels per stage):

  model / tracer          RTL exact  adders  depth  stages  LUT    FF     CARRY4  trace
  tiny / da4ml 0.5.2      1.0        55      9      3       581    236    164     1.5 s
  tiny / alkaid 0.8.2     1.0        55      9      3       617    232    182     0.06 s
  digits / da4ml          1.0        2073    24     8       20330  7962   5805    2.2 s
  digits / alkaid         1.0        2053    25     9       20396  10098  5913    1.0 s
  digits / alkaid@8 st.   1.0        2053    25     8       20423  8231   5855    1.3 s
  first trace, fresh process (tiny): da4ml 85.4 s (numba cache moved aside), alkaid 0.06 s
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _add_alkaid_path(path: str | None) -> None:
    if path and path not in sys.path:
        sys.path.append(path)


def load_run(run: Path, max_samples: int):
    from hwgen.rundir import RunPaths
    from hwgen.synth.open.open_flow import _load_run_inputs
    from hwgen.synth.open.trace import check_input_grid

    model, X, logits, y, bits, integer = _load_run_inputs(RunPaths(run), max_samples, False)
    check_input_grid(X, bits, integer)
    return model, X, logits, y, bits, integer


def build_tiny(root: Path) -> Path:
    if (root / "train" / "data.npz").is_file():
        return root
    sys.path.insert(0, str(REPO / "tests"))
    from test_rtl_flow import build_run

    root.mkdir(parents=True, exist_ok=True)
    return build_run(root)


def da4ml_stats(comb) -> dict:
    hist: dict[int, int] = {}
    for op in comb.ops:
        hist[int(op.opcode)] = hist.get(int(op.opcode), 0) + 1
    return {
        "adders": hist.get(0, 0) + hist.get(1, 0),
        "const_adds": hist.get(4, 0),
        "opcodes": dict(sorted(hist.items())),
        "adder_depth": int(comb.latency[1]),
        "cost_estimate": float(comb.cost),
    }


def yosys_xc7(rtl_dir: Path, design, work: Path) -> dict:
    from hwgen.synth.open.yosys import run_yosys, stage_sources
    from hwgen.tools import find_tool

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    yosys = find_tool("yosys")
    srcs = stage_sources(rtl_dir, design.pipe_files, design.mem_files, work)
    ys = run_yosys(yosys, work, srcs, design.pipe_top, "xc7", timeout_s=1800)
    r = ys["resources"]
    return {"lut": int(r["lut"]), "ff": int(r["ff"]), "carry4": int(r["carry"]), "yosys_s": round(ys["wall_s"], 1)}


def bench_one(
    name: str, run: Path, backend: str, out: Path, max_samples: int, skip_yosys: bool, n_stages: int | None = None
) -> dict:
    """backend: 'da4ml', 'alkaid', or 'alkaid@N' (alkaid cut into exactly N stages, e.g. da4ml's count)."""
    from hwgen.boards import load_board
    from hwgen.synth.open.rtlsim import run_rtlsim
    from hwgen.synth.open.trace import compare_outputs

    board = load_board("pynq-z2")
    model, X, logits, y, bits, integer = load_run(run, max_samples)
    if backend == "da4ml":
        from hwgen.synth.open import trace as tr
        from hwgen.synth.open import verilog as vg

        t0 = time.monotonic()
        traced = tr.trace_qkeras(model, bits, integer)
        trace_s = time.monotonic() - t0
        stats = da4ml_stats(traced.comb)
        writer = vg.write_rtl
    else:
        import alkaid_trace as ak  # beside this script: evaluation only, not part of the package

        t0 = time.monotonic()
        traced = ak.trace_qkeras(model, bits, integer)
        trace_s = time.monotonic() - t0
        stats = ak.graph_stats(traced.comb)
        writer = (lambda t, d, b: ak.write_rtl(t, d, b, n_stages=n_stages)) if n_stages else ak.write_rtl
    emu = compare_outputs(traced.emulate(X), logits)
    label = f"{backend}@{n_stages}st" if n_stages else backend
    rtl_dir = out / name / label / "rtl"
    if rtl_dir.exists():
        shutil.rmtree(rtl_dir)
    t0 = time.monotonic()
    design = writer(traced, rtl_dir, board)
    rtlgen_s = time.monotonic() - t0
    sim = run_rtlsim(rtl_dir, design, X, logits, y, simulator="icarus")
    rec = {
        "model": name,
        "backend": label,
        "n_samples": int(len(X)),
        "trace_s": round(trace_s, 3),
        "rtlgen_s": round(rtlgen_s, 3),
        "emulation_bit_exact": emu["bit_exact_fraction"],
        "rtlsim_bit_exact_pipe": sim["designs"]["pipe"]["bit_exact_fraction"],
        "rtlsim_bit_exact_comb": sim["designs"]["comb"]["bit_exact_fraction"],
        "rtlsim_max_abs_diff": sim["max_abs_diff"],
        "accuracy_rtl": sim["accuracy"],
        "accuracy_qkeras": sim["accuracy_qkeras"],
        **stats,
        "levels_per_stage": design.levels_per_stage,
        "n_stages": design.n_stages,
        "latency_cycles": design.latency_cycles,
        "pipe_reg_bits": design.pipe_reg_bits,
    }
    if not skip_yosys:
        rec.update(yosys_xc7(rtl_dir, design, out / name / label / "yosys"))
    print(json.dumps(rec), flush=True)
    return rec


# --- first trace in a fresh process -----------------------------------------------------------


def cold_child(backend: str, run: Path) -> None:
    t_start = time.monotonic()
    model, X, logits, y, bits, integer = load_run(run, 50)
    t_loaded = time.monotonic()
    if backend == "da4ml":
        from hwgen.synth.open.trace import trace_qkeras
    else:
        from alkaid_trace import trace_qkeras
    t_imp = time.monotonic()
    traced = trace_qkeras(model, bits, integer)
    t_tr = time.monotonic()
    traced.emulate(X)
    t_emu = time.monotonic()
    print(
        "COLD " + json.dumps({
            "backend": backend, "load_model_s": round(t_loaded - t_start, 2), "import_s": round(t_imp - t_loaded, 2),
            "first_trace_s": round(t_tr - t_imp, 2), "first_emulate_s": round(t_emu - t_tr, 2),
        }),  # fmt: skip
        flush=True,
    )


def _nb_cache_files() -> list[Path]:
    import importlib.util

    spec = importlib.util.find_spec("da4ml")
    root = Path(spec.origin).parent
    return [p for p in root.rglob("__pycache__/*") if p.suffix in (".nbi", ".nbc")]


def run_cold(backend: str, run: Path, alkaid_path: str | None) -> dict:
    env = dict(os.environ)
    if alkaid_path:
        env["PYTHONPATH"] = alkaid_path + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--cold-child", backend, "--tiny-run", str(run)]
    moved: list[tuple[Path, Path]] = []
    aside = Path("/tmp/da4ml_nbcache_aside")
    try:
        if backend == "da4ml":
            aside.mkdir(exist_ok=True)
            for n, p in enumerate(_nb_cache_files()):
                dst = aside / f"{n}__{p.name}"
                shutil.move(str(p), dst)
                moved.append((p, dst))
        t0 = time.monotonic()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
        wall = time.monotonic() - t0
    finally:
        if moved:
            for p in _nb_cache_files():  # drop what the cold run compiled, put the originals back
                p.unlink()
            for p, dst in moved:
                shutil.move(str(dst), p)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("COLD ")), None)
    if line is None:
        raise RuntimeError(f"cold run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    rec = json.loads(line[5:])
    rec["process_wall_s"] = round(wall, 2)
    rec["nb_cache_files_moved"] = len(moved)
    print(json.dumps(rec), flush=True)
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dm-run", type=Path, default=Path("/tmp/bench_dm"))
    ap.add_argument("--tiny-run", type=Path, default=Path("/tmp/bench_tiny"))
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_alkaid"))
    ap.add_argument("--alkaid-path", default="/tmp/alkaid_pkgs")
    ap.add_argument("--max-samples", type=int, default=500)
    ap.add_argument("--models", default="tiny,digits_mlp")
    ap.add_argument("--backends", default="da4ml,alkaid")
    ap.add_argument("--no-yosys", action="store_true")
    ap.add_argument("--cold", action="store_true", help="also time the first trace in a fresh process")
    ap.add_argument("--cold-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    _add_alkaid_path(args.alkaid_path)
    if args.cold_child:
        cold_child(args.cold_child, args.tiny_run)
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tiny = build_tiny(args.tiny_run)
    runs = {"tiny": tiny, "digits_mlp": args.dm_run}
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    backends = args.backends.split(",")
    for name in args.models.split(","):
        stages = {}
        for backend in backends:
            rec = bench_one(name, runs[name], backend, args.out, args.max_samples, args.no_yosys)
            stages[backend] = rec["n_stages"]
            records.append(rec)
        # alkaid again at da4ml's pipeline depth (equal latency) when the natural cut differs
        if "da4ml" in stages and "alkaid" in stages and stages["alkaid"] != stages["da4ml"]:
            records.append(
                bench_one(name, runs[name], "alkaid", args.out, args.max_samples, args.no_yosys, n_stages=stages["da4ml"])
            )
    cold = []
    if args.cold:
        for backend in backends:
            cold.append(run_cold(backend, tiny, args.alkaid_path))
    (args.out / "results.json").write_text(json.dumps({"runs": records, "cold": cold}, indent=2))
    keys = ["emulation_bit_exact", "rtlsim_bit_exact_pipe", "rtlsim_bit_exact_comb", "adders", "const_adds",
            "adder_depth", "cost_estimate", "n_stages", "latency_cycles", "pipe_reg_bits", "lut", "ff", "carry4",
            "trace_s"]  # fmt: skip
    print("\n| metric | " + " | ".join(f"{r['model']}/{r['backend']}" for r in records) + " |")
    print("|---|" + "---|" * len(records))
    for k in keys:
        print(f"| {k} | " + " | ".join(str(r.get(k, "")) for r in records) + " |")
    for c in cold:
        print(f"cold {c['backend']}: {c}")


if __name__ == "__main__":
    main()
