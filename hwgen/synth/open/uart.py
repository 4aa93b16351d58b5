"""UART board interface: the pipelined design behind a serial line, and its byte protocol.

The board wrapper (template `sim/uart_top.v`, primitives `sim/hwgen_uart.v`) has three pins:
clk, rx, tx. Protocol, 8N1 at `baud` (default 115200) with round(clock / baud) clocks per bit:

    host -> board   in_bytes  = ceil(in_width / 8) bytes: model_inp, little endian
                    (the first byte carries bits 7:0; input 0 sits in the lowest bits, as in
                    hwgen.synth.open.rtlsim.encode_inputs), padding bits zero
    board -> host   out_bytes = ceil(out_width / 8) bytes: model_out, little endian, padding zero

One frame at a time: the host sends a vector and waits for its answer. A partial frame is
dropped after IDLE_BITS bit times without a start bit, so a host resynchronizes by pausing.
The same functions encode frames for the Icarus testbench (`sim/uart_tb.v`) and for
`hwgen board-run`, so both speak exactly one protocol.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hwgen.errors import HwgenError
from hwgen.resources import data_dir
from hwgen.synth.open.rtlsim import decode_outputs, encode_inputs
from hwgen.synth.open.verilog import RtlDesign, verilog_identifier
from hwgen.tools import Tool, run_tool

DEFAULT_BAUD = 115200
IDLE_BITS = 1000  # partial-frame drop after this many idle bit times (8.7 ms at 115200 baud)
MAX_BAUD_ERROR = 0.02  # a UART tolerates a few percent; refuse clock/baud pairs beyond 2%
MIN_CLKS_PER_BIT = 4
UART_LIB = "hwgen_uart.v"
TOP_TEMPLATE = "uart_top.v"
TB_TEMPLATE = "uart_tb.v"
TB_TOP = "hwgen_uart_tb"


@dataclass(frozen=True)
class UartConfig:
    clk_hz: float
    baud: int
    clks_per_bit: int
    idle_clks: int
    in_width: int
    out_width: int
    latency_cycles: int

    @property
    def in_bytes(self) -> int:
        return -(-self.in_width // 8)

    @property
    def out_bytes(self) -> int:
        return -(-self.out_width // 8)

    @property
    def actual_baud(self) -> float:
        return self.clk_hz / self.clks_per_bit

    @property
    def baud_error(self) -> float:
        return self.actual_baud / self.baud - 1.0

    def frame_seconds(self) -> float:
        """Line time of one request and its answer (10 bits per byte), without turnaround."""
        return 10.0 * (self.in_bytes + self.out_bytes) / self.actual_baud

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(
            in_bytes=self.in_bytes,
            out_bytes=self.out_bytes,
            actual_baud=round(self.actual_baud, 3),
            baud_error_pct=round(100.0 * self.baud_error, 4),
            framing="8N1, little-endian words, one frame at a time",
        )
        return d


def uart_config(design: RtlDesign, clk_mhz: float, baud: int = DEFAULT_BAUD) -> UartConfig:
    """Clocks per bit and frame sizes for `design` on a `clk_mhz` clock; HwgenError if the baud rate cannot be made."""
    clk_hz = float(clk_mhz) * 1e6
    baud = int(baud)
    if baud <= 0 or clk_hz <= 0:
        raise HwgenError(f"UART: baud rate and clock must be positive (got {baud} baud at {clk_mhz} MHz)")
    cpb = int(round(clk_hz / baud))
    if cpb < MIN_CLKS_PER_BIT:
        raise HwgenError(f"UART: {baud} baud is too fast for a {clk_mhz:g} MHz clock (needs >= {MIN_CLKS_PER_BIT} clocks per bit)")
    cfg = UartConfig(
        clk_hz=clk_hz,
        baud=baud,
        clks_per_bit=cpb,
        idle_clks=IDLE_BITS * cpb,
        in_width=int(design.in_width),
        out_width=int(design.out_width("pipe")),
        latency_cycles=int(design.latency_cycles),
    )
    if abs(cfg.baud_error) > MAX_BAUD_ERROR:
        raise HwgenError(
            f"UART: {baud} baud from a {clk_mhz:g} MHz clock is off by {100 * cfg.baud_error:+.1f}% "
            f"({cpb} clocks per bit); choose a baud rate that divides the clock"
        )
    return cfg


# --- byte protocol -----------------------------------------------------------------------------


def word_to_bytes(word: int, n_bytes: int) -> bytes:
    if word < 0 or word >> (8 * n_bytes):
        raise HwgenError(f"UART: value does not fit {n_bytes} bytes")
    return int(word).to_bytes(n_bytes, "little")


def encode_frames(X: np.ndarray, kifs: list[list[int]], in_bytes: int) -> list[bytes]:
    """The request frame of each input vector (same packing as the RTL testbench's hex words)."""
    return [word_to_bytes(int(h, 16), in_bytes) for h in encode_inputs(X, kifs)]


def decode_replies(replies: list[bytes], kifs: list[list[int]], out_bytes: int) -> np.ndarray:
    """Logits from answer frames; a short or missing answer becomes a NaN row."""
    hexes = []
    for r in replies:
        hexes.append(int.from_bytes(r, "little").to_bytes(out_bytes, "big").hex() if r is not None and len(r) == out_bytes else "x")
    return decode_outputs(hexes, kifs)


# --- Verilog --------------------------------------------------------------------------------


def _fill(template: str, fields: dict[str, object]) -> str:
    for key, value in fields.items():
        template = template.replace(f"@{key}@", str(value))
    if re.search(r"@[A-Z_]+@", template):
        raise HwgenError("internal error: a UART template field was left unfilled")
    return template


def _common_fields(cfg: UartConfig) -> dict[str, object]:
    return {
        "IN_W": cfg.in_width,
        "OUT_W": cfg.out_width,
        "IN_BYTES": cfg.in_bytes,
        "OUT_BYTES": cfg.out_bytes,
        "LATENCY": cfg.latency_cycles,
        "CLKS_PER_BIT": cfg.clks_per_bit,
        "IDLE_CLKS": cfg.idle_clks,
        "BAUD": cfg.baud,
        "CLK_HZ": f"{cfg.clk_hz:.0f}",
    }


def uart_wrapper(design: RtlDesign, cfg: UartConfig, name: str | None = None) -> tuple[str, str]:
    """(top module name, Verilog) of the board wrapper around design's pipelined module."""
    top = verilog_identifier(name or f"{design.base}_uart")
    text = _fill((data_dir("sim") / TOP_TEMPLATE).read_text(), {"TOP": top, "CORE": design.pipe_top, **_common_fields(cfg)})
    return top, text


def uart_library() -> str:
    """Verilog of the UART receiver and transmitter modules (a fixed file)."""
    return (data_dir("sim") / UART_LIB).read_text()


def write_wrapper_sources(design: RtlDesign, cfg: UartConfig, folder: Path) -> tuple[str, list[str]]:
    """Write the wrapper and UART library into `folder`; returns (top, [file names])."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    top, text = uart_wrapper(design, cfg)
    (folder / UART_LIB).write_text(uart_library())
    (folder / f"{top}.v").write_text(text)
    return top, [UART_LIB, f"{top}.v"]


def render_testbench(
    cfg: UartConfig, dut_top: str, n: int, in_file: str, out_file: str, *, junk_bytes: int = 1, bytes_file: str | None = None
) -> str:
    junk = max(0, min(int(junk_bytes), cfg.in_bytes - 1))  # fewer than a frame, else it gets an answer
    timeout = cfg.latency_cycles + 64 + 40 * cfg.clks_per_bit
    fields = {
        **_common_fields(cfg),
        "N": int(n),
        "JUNK_BYTES": junk,
        "TIMEOUT_CLKS": timeout,
        "DUT": f"{dut_top} dut (.clk(clk_pin), .rx(rx_pin), .tx(tx));",
        "IN_FILE": in_file,
        "OUT_FILE": out_file,
        "LOG_BYTES": 1 if bytes_file else 0,
        "BYTES_FILE": bytes_file or "none",
    }
    return _fill((data_dir("sim") / TB_TEMPLATE).read_text(), fields)


def simulate_uart(
    work: Path,
    sources: list[str],
    dut_top: str,
    cfg: UartConfig,
    hex_lines: list[str],
    iverilog: Tool,
    vvp: Tool,
    *,
    include_dirs: tuple[str, ...] = (),
    defines: tuple[str, ...] = (),
    junk_bytes: int = 1,
    timeout_s: float | None = 600,
    tag: str = "uart",
    log_bytes: bool = False,
) -> tuple[list[str], float, list[Path]]:
    """Icarus run of the UART testbench in `work` (sources relative to it); returns (answer hex words, wall s, logs)."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    in_file, out_file = f"{tag}_inputs.hex", f"{tag}_outputs.hex"
    (work / in_file).write_text("\n".join(hex_lines) + "\n")
    (work / out_file).unlink(missing_ok=True)
    tb = f"{tag}_tb.v"
    bytes_file = f"{tag}_bytes.txt" if log_bytes else None
    (work / tb).write_text(
        render_testbench(cfg, dut_top, len(hex_lines), in_file, out_file, junk_bytes=junk_bytes, bytes_file=bytes_file)
    )
    args = ["-g2012", "-o", f"{tag}.vvp", "-s", TB_TOP]
    for inc in include_dirs:
        args += ["-I", inc]
    for d in defines:
        args += ["-D", d]
    t0 = time.monotonic()
    logs = [work / f"{tag}_compile.log", work / f"{tag}_run.log"]
    run_tool(iverilog, [*args, *sources, tb], work, logs[0], timeout_s)
    run_tool(vvp, ["-n", f"{tag}.vvp"], work, logs[1], timeout_s)
    wall = time.monotonic() - t0
    (work / f"{tag}.vvp").unlink(missing_ok=True)
    run_log = logs[1].read_text(errors="replace")
    if "ERROR" in run_log:
        err = next(ln for ln in run_log.splitlines() if "ERROR" in ln)
        raise HwgenError(f"UART simulation failed: {err.strip()} (see {logs[1]})")
    got = [ln for ln in (work / out_file).read_text().splitlines() if ln.strip()] if (work / out_file).is_file() else []
    if len(got) != len(hex_lines):
        raise HwgenError(f"UART simulation answered {len(got)} of {len(hex_lines)} vectors (see {logs[1]})")
    return got, wall, logs
