"""The UART board interface: baud-rate arithmetic, the byte protocol, an Icarus simulation of the
wrapper (UART + real da4ml core of a tiny QKeras model) driven over its serial line, and
`hwgen board-run`'s framing checked against the bytes that simulation put on the line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hwgen.errors import HwgenError
from hwgen.tools import tool_available

HAVE_ICARUS = tool_available("iverilog") and tool_available("vvp")


class _Design:
    """The two attributes uart_config reads, for the arithmetic tests."""

    def __init__(self, win, wout, lat=3):
        self.in_width, self._wout, self.latency_cycles = win, wout, lat

    def out_width(self, which):
        return self._wout


def test_uart_config_clocks_per_bit_and_frames():
    from hwgen.synth.open.uart import IDLE_BITS, uart_config

    cfg = uart_config(_Design(48, 38), 12.0)  # iCEBreaker oscillator
    assert cfg.clks_per_bit == 104 and cfg.in_bytes == 6 and cfg.out_bytes == 5
    assert abs(cfg.baud_error) < 0.002 and cfg.idle_clks == IDLE_BITS * 104
    cfg = uart_config(_Design(384, 90), 25.0)  # ULX3S oscillator
    assert cfg.clks_per_bit == 217 and cfg.in_bytes == 48 and cfg.out_bytes == 12
    with pytest.raises(HwgenError, match="too fast"):
        uart_config(_Design(8, 8), 0.3)
    with pytest.raises(HwgenError, match="off by"):
        uart_config(_Design(8, 8), 1.0, baud=230400)  # 4.34 clocks per bit: -7.8%


def test_frames_are_little_endian_rtl_words():
    from hwgen.synth.open.rtlsim import encode_inputs
    from hwgen.synth.open.uart import decode_replies, encode_frames, word_to_bytes

    kifs = [[1, 2, 3], [0, 3, 2], [1, 1, 4]]  # 6 + 5 + 6 = 17 bits -> 3 bytes
    X = np.array([[-1.5, 3.25, 0.5], [3.875, 0.0, -1.0]])
    frames = encode_frames(X, kifs, 3)
    assert [int.from_bytes(f, "little") for f in frames] == [int(h, 16) for h in encode_inputs(X, kifs)]
    assert frames[0][0] == int(encode_inputs(X, kifs)[0], 16) & 0xFF  # first byte: bits 7:0
    assert np.array_equal(decode_replies(frames, kifs, 3), X)
    assert np.isnan(decode_replies([frames[0][:2]], kifs, 3)).all()  # short answer -> NaN row
    with pytest.raises(HwgenError):
        word_to_bytes(1 << 24, 3)


@pytest.fixture(scope="module")
def uart_sim(tmp_path_factory):
    """The tiny MLP's pipelined core behind the UART wrapper, simulated over its serial line."""
    if not HAVE_ICARUS:
        pytest.skip("needs iverilog (apt-get install iverilog)")
    from test_rtl_flow import build_run

    from hwgen.boards import load_board
    from hwgen.modelio import load_model
    from hwgen.synth.open.rtlsim import encode_inputs
    from hwgen.synth.open.trace import trace_qkeras
    from hwgen.synth.open.uart import uart_config, write_wrapper_sources, simulate_uart
    from hwgen.synth.open.verilog import write_rtl
    from hwgen.tools import find_tool

    root = build_run(tmp_path_factory.mktemp("uart"), n_samples=24)
    data = np.load(root / "train" / "data.npz")
    traced = trace_qkeras(load_model(root / "train" / "model.h5"), 6, 2)
    design = write_rtl(traced, root / "rtl", load_board("icebreaker-up5k"))
    cfg = uart_config(design, 12.0)
    work = root / "uart"
    top, names = write_wrapper_sources(design, cfg, work)
    sources = [str((root / "rtl" / f).resolve()) for f in design.pipe_files] + names
    lines = encode_inputs(data["X_test"], design.inputs)
    got, _wall, _logs = simulate_uart(
        work, sources, top, cfg, lines, find_tool("iverilog"), find_tool("vvp"), log_bytes=True, junk_bytes=2
    )
    return design, cfg, data, lines, got, work / "uart_bytes.txt"


def test_uart_wrapper_answers_are_bit_exact(uart_sim):
    from hwgen.synth.open.rtlsim import decode_outputs

    design, cfg, data, lines, got, _ = uart_sim
    assert cfg.in_bytes > 2  # the two stray bytes before the first frame are a partial frame
    out = decode_outputs(got, design.outputs_pipe)
    assert np.array_equal(out, data["logits_qkeras"].astype(np.float64))


class ReplayPort:
    """A serial port that plays back the line the simulation recorded (rx: host -> board)."""

    def __init__(self, log: Path, skip_rx: int, drop_answer: int | None = None):
        events = [ln.split() for ln in log.read_text().splitlines() if ln.strip()]
        self.rx = [int(v, 16) for d, v in events if d == "rx"][skip_rx:]
        self.tx = [int(v, 16) for d, v in events if d == "tx"]
        self.drop, self.frames = drop_answer, 0

    def write(self, data: bytes) -> int:
        expected, self.rx = bytes(self.rx[: len(data)]), self.rx[len(data):]
        assert data == expected, "board-run sends other bytes than the testbench put on the wire"
        self.frames += 1
        return len(data)

    def read(self, n: int) -> bytes:
        got, self.tx = bytes(self.tx[:n]), self.tx[n:]
        return b"" if self.drop == self.frames - 1 else got


def test_board_run_framing_matches_the_simulated_line(uart_sim):
    from hwgen.commands.board_run import compare, exchange
    from hwgen.synth.open.uart import encode_frames

    design, cfg, data, lines, _got, log = uart_sim
    frames = encode_frames(data["X_test"], design.inputs, cfg.in_bytes)
    answers = exchange(ReplayPort(log, skip_rx=2), frames, cfg.out_bytes, resync_s=0.0)
    stats = compare(design, answers, data["logits_qkeras"].astype(np.float64), cfg.to_dict())
    assert stats["bit_exact_fraction"] == 1.0 and stats["missing_answers"] == 0
    # a lost answer is counted, not silently matched
    answers = exchange(ReplayPort(log, skip_rx=2, drop_answer=3), frames, cfg.out_bytes, resync_s=0.0)
    stats = compare(design, answers, data["logits_qkeras"].astype(np.float64), cfg.to_dict())
    assert stats["missing_answers"] == 1 and stats["first_mismatch"] == 3
