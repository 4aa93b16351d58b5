"""RTL simulation of the generated Verilog with Icarus Verilog (or Verilator), bit-exact check.

hwgen's own testbench (`sim/rtl_tb.v`, shipped as `hwgen.simsrc`) reads the input vectors
from a hex file and writes the outputs to another; Python packs/unpacks the fixed-point values
and compares them with the QKeras logits. da4ml's bundled Verilator harness is not used (it
does not build with Debian's Verilator 5.006).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np

from hwgen.errors import HwgenError, ToolMissing
from hwgen.resources import data_dir
from hwgen.synth.open.trace import compare_outputs
from hwgen.synth.open.verilog import RtlDesign
from hwgen.tools import Tool, find_tool, run_tool

TB_TEMPLATE = "rtl_tb.v"
TB_TOP = "hwgen_tb"
SIMULATORS = ("auto", "icarus", "verilator")


def encode_inputs(X: np.ndarray, kifs: list[list[int]]) -> list[str]:
    """One hex word per sample: input 0 in the least significant bits, two's complement fields."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    if X.shape[1] != len(kifs):
        raise HwgenError(f"input vectors have {X.shape[1]} values, the design expects {len(kifs)}")
    total = sum(k + i + f for k, i, f in kifs)
    digits = max(1, -(-total // 4))
    lines = []
    for row in X:
        word, offset = 0, 0
        for value, (k, i, f) in zip(row, kifs):
            width = k + i + f
            if width <= 0:
                continue
            scaled = value * 2.0**f
            if scaled != round(scaled):
                raise HwgenError(f"input value {value} is not on the design's input grid (step 2^-{f})")
            word |= (int(round(scaled)) & ((1 << width) - 1)) << offset
            offset += width
        lines.append(format(word, f"0{digits}x"))
    return lines


def decode_outputs(lines: list[str], kifs: list[list[int]]) -> np.ndarray:
    """Inverse of the output packing; unknown ('x'/'z') words become NaN rows."""
    out = np.full((len(lines), len(kifs)), np.nan)
    for n, line in enumerate(lines):
        try:
            word = int(line.strip(), 16)
        except ValueError:
            continue
        offset = 0
        for j, (k, i, f) in enumerate(kifs):
            width = k + i + f
            if width <= 0:
                out[n, j] = 0.0
                continue
            raw = (word >> offset) & ((1 << width) - 1)
            if k and raw >= 1 << (width - 1):
                raw -= 1 << width
            out[n, j] = raw * 2.0**-f
            offset += width
    return out


def render_testbench(design: RtlDesign, which: str, n: int, in_file: str, out_file: str) -> str:
    template = (data_dir("sim") / TB_TEMPLATE).read_text()
    if which == "pipe":
        dut = f"{design.pipe_top} dut (.clk(clk), .model_inp(model_inp), .model_out(model_out));"
        latency = design.latency_cycles
    else:
        dut = f"{design.comb_top} dut (.model_inp(model_inp), .model_out(model_out));"
        latency = 0
    fields = {
        "N": str(int(n)),
        "IN_W": str(design.in_width),
        "OUT_W": str(design.out_width(which)),
        "LATENCY": str(int(latency)),
        "DUT": dut,
        "IN_FILE": in_file,
        "OUT_FILE": out_file,
    }
    for key, value in fields.items():
        template = template.replace(f"@{key}@", value)
    return template


def pick_simulator(simulator: str = "auto") -> tuple[str, list[Tool]]:
    """('icarus', [iverilog, vvp]) or ('verilator', [verilator]); ToolMissing when none is there."""
    if simulator not in SIMULATORS:
        raise HwgenError(f"unknown simulator {simulator!r}; choose one of {SIMULATORS}")
    errors = []
    if simulator in ("auto", "icarus"):
        try:
            return "icarus", [find_tool("iverilog"), find_tool("vvp")]
        except ToolMissing as exc:
            errors.append(str(exc))
    if simulator in ("auto", "verilator"):
        try:
            return "verilator", [find_tool("verilator")]
        except ToolMissing as exc:
            errors.append(str(exc))
    raise ToolMissing("no RTL simulator found (" + "; ".join(errors) + ")")


def _simulate_one(
    design: RtlDesign,
    rtl_dir: Path,
    which: str,
    lines: list[str],
    sim: str,
    tools: list[Tool],
    timeout_s: float | None,
) -> tuple[list[str], float, list[str]]:
    work = rtl_dir / "sim" / which
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / "inputs.hex").write_text("\n".join(lines) + "\n")
    (work / "tb.v").write_text(render_testbench(design, which, len(lines), "inputs.hex", "outputs.hex"))
    for mem in design.mem_files:
        shutil.copy(rtl_dir / mem, work / mem)
    files = design.pipe_files if which == "pipe" else design.comb_files
    sources = [str(Path("..", "..", f)) for f in files] + ["tb.v"]
    t0 = time.monotonic()
    logs = []
    if sim == "icarus":
        iverilog, vvp = tools
        run_tool(iverilog, ["-g2012", "-o", "tb.vvp", "-s", TB_TOP, *sources], work, work / "compile.log", timeout_s)
        run_tool(vvp, ["-n", "tb.vvp"], work, work / "run.log", timeout_s)
        logs = [work / "compile.log", work / "run.log"]
    else:
        (verilator,) = tools
        args = [
            "--binary", "--timing", "-j", "2", "-Wno-fatal", "-Wno-lint", "-Wno-style",
            "--top-module", TB_TOP, "-Mdir", "obj_dir", "-o", "Vtb", *sources,
        ]  # fmt: skip
        run_tool(verilator, args, work, work / "compile.log", timeout_s)
        exe = Tool(name="Vtb", argv=(str(work / "obj_dir" / "Vtb"),), version="")
        run_tool(exe, [], work, work / "run.log", timeout_s)
        shutil.rmtree(work / "obj_dir", ignore_errors=True)
        logs = [work / "compile.log", work / "run.log"]
    wall = time.monotonic() - t0
    out_path = work / "outputs.hex"
    if not out_path.is_file():
        raise HwgenError(f"RTL simulation wrote no outputs (see {logs[-1]})")
    got = [ln for ln in out_path.read_text().splitlines() if ln.strip()]
    if len(got) != len(lines):
        raise HwgenError(f"RTL simulation wrote {len(got)} output vectors for {len(lines)} inputs (see {logs[-1]})")
    return got, wall, [str(p) for p in logs]


def accuracy(outputs: np.ndarray, y: np.ndarray | None) -> float | None:
    """Top-1 accuracy of logits against integer (or one-hot) labels; a single logit is thresholded at 0."""
    if y is None:
        return None
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = np.argmax(y, axis=1)
    y = y.reshape(-1)[: len(outputs)]
    if outputs.shape[1] == 1:
        if not set(np.unique(y)).issubset({0, 1}):
            return None
        pred = (outputs[:, 0] > 0).astype(int)
    else:
        pred = np.argmax(np.nan_to_num(outputs, nan=-np.inf), axis=1)
    return float(np.mean(pred == y)) if len(y) else None


def run_rtlsim(
    rtl_dir: Path,
    design: RtlDesign,
    X: np.ndarray,
    reference: np.ndarray,
    y: np.ndarray | None = None,
    *,
    which: tuple[str, ...] = ("pipe", "comb"),
    simulator: str = "auto",
    timeout_s: float | None = 600,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Simulate the designs on X and compare with `reference`; returns the rtlsim record.

    Raises ToolMissing when no simulator is installed (the caller turns it into a notice).
    """
    say = progress or (lambda _msg: None)
    rtl_dir = Path(rtl_dir)
    sim, tools = pick_simulator(simulator)
    version = tools[0].version
    lines = encode_inputs(X, design.inputs)
    t0 = time.monotonic()
    designs = {}
    for w in which:
        top = design.pipe_top if w == "pipe" else design.comb_top
        say(f"rtl-sim: {sim} {version} simulating {top} on {len(lines)} vectors")
        got_lines, wall, logs = _simulate_one(design, rtl_dir, w, lines, sim, tools, timeout_s)
        kifs = design.outputs_pipe if w == "pipe" else design.outputs_comb
        got = decode_outputs(got_lines, kifs)
        stats = compare_outputs(got, reference)
        stats.update(
            top=top,
            latency_cycles=design.latency_cycles if w == "pipe" else 0,
            wall_s=round(wall, 3),
            accuracy=accuracy(got, y),
            logs=[str(Path(p).relative_to(rtl_dir)) for p in logs],  # relative to the rtl folder
        )
        designs[w] = stats
        say(f"rtl-sim: {top}: bit-exact {stats['bit_exact_fraction']:.1%}, max |diff| {stats['max_abs_diff']:g}")
    primary = designs.get("pipe") or next(iter(designs.values()))
    fractions = [d["bit_exact_fraction"] for d in designs.values()]
    return {
        "simulator": sim,
        "simulator_version": version,
        "n_samples": len(lines),
        "bit_exact_fraction": min(fractions) if fractions else None,
        "max_abs_diff": max(d["max_abs_diff"] for d in designs.values()) if designs else None,
        "accuracy": primary["accuracy"],
        "accuracy_qkeras": accuracy(np.asarray(reference, dtype=np.float64).reshape(len(X), -1), y),
        "latency_cycles": design.latency_cycles,
        "ii": 1,
        "wall_s": round(time.monotonic() - t0, 3),
        "designs": designs,
    }
