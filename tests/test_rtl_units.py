"""Unit checks of the open RTL path: QKeras rounding in the traced graph, port packing, cell
mapping, log parsing, identifier sanitizing, layer support (incl. a small QConv2D network)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hwgen.errors import HwgenError
from hwgen.tools import tool_available


@pytest.fixture(scope="module")
def tf():
    from hwgen.tfcompat import tf

    return tf


def _trace_elementwise(fn, k: int, i: int, f: int):
    """Trace fn over one fixed<k,i,f> input; return (all input values, graph outputs)."""
    from da4ml.trace import FixedVariableArray, HWConfig, comb_trace

    from hwgen.synth.open.trace import HWCONF

    x = FixedVariableArray.from_kif(np.array([k]), np.array([i]), np.array([f]), HWConfig(*HWCONF))
    y = np.array([fn(v) for v in x._vars])
    comb = comb_trace(x._vars, y)
    values = np.arange(-(2 ** (i + f)) * k, 2 ** (i + f)) * 2.0**-f
    out = comb.predict(values.reshape(-1, 1), n_threads=1).reshape(-1)
    return values, out


@pytest.mark.parametrize("bits,integer", [(6, 0), (4, 2), (8, 3), (3, 0), (5, 1)])
def test_quantized_relu_exhaustive_matches_qkeras(tf, bits, integer):
    from qkeras import quantized_relu

    from hwgen.synth.open.trace import qkeras_relu

    values, got = _trace_elementwise(lambda v: qkeras_relu(v, bits, integer), 1, integer + 2, bits - integer + 3)
    ref = quantized_relu(bits, integer)(tf.constant(values, dtype=tf.float32)).numpy().astype(np.float64)
    assert np.array_equal(got, ref), f"first difference at x={values[np.argmax(got != ref)]}"
    # The sweep holds exact half steps where half-up and half-even disagree, so a half-up
    # implementation would fail this test.
    f = bits - integer
    top = 2.0**integer - 2.0**-f
    half_up = np.clip(np.floor(values * 2**f + 0.5) / 2**f, 0, top)
    assert np.any(half_up != ref)


@pytest.mark.parametrize("bits,integer,keep_negative,symmetric", [(6, 2, 1, 0), (6, 0, 1, 1), (5, 1, 0, 0), (8, 3, 1, 0)])
def test_quantized_bits_exhaustive_matches_qkeras(tf, bits, integer, keep_negative, symmetric):
    from qkeras import quantized_bits

    from hwgen.synth.open.trace import qkeras_bits

    f = bits - keep_negative - integer
    values, got = _trace_elementwise(
        lambda v: qkeras_bits(v, bits, integer, bool(keep_negative), bool(symmetric)), 1, integer + 2, f + 2
    )
    q = quantized_bits(bits, integer, keep_negative=keep_negative, symmetric=symmetric, alpha=1)
    ref = q(tf.constant(values, dtype=tf.float32)).numpy().astype(np.float64)
    assert np.array_equal(got, ref), f"first difference at x={values[np.argmax(got != ref)]}"


def test_verilog_identifier_is_always_legal():
    from hwgen.synth.open.verilog import VERILOG_KEYWORDS, design_base_name, verilog_identifier

    for text in ["my model", "123abc", "module", "", "a$b`define x", "shift_adder", "jet-mlp.v2", "ünïcode", "_" * 5, "x" * 300]:
        ident = verilog_identifier(text)
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ident), (text, ident)
        assert ident.lower() not in VERILOG_KEYWORDS
        assert ident not in ("shift_adder", "negative", "mux", "multiplier", "lookup_table")
        assert len(ident) <= 60
        assert design_base_name(text).startswith("hwgen_")


def test_pipeline_depth_follows_the_clock():
    from hwgen.boards import load_board
    from hwgen.synth.open.verilog import levels_per_stage

    for name in ("ulx3s-85f", "pynq-z2", "kv260", "icebreaker-up5k"):
        board = load_board(name)
        levels = [levels_per_stage(board, mhz)[0] for mhz in (10, 25, 50, 100, 200, 400)]
        assert all(a >= b for a, b in zip(levels, levels[1:])), (name, levels)
        assert min(levels) >= 1
        _, info = levels_per_stage(board)
        # The modelled stage delay fits the period.
        stage_ns = info["register_overhead_ns"] + info["levels_per_stage"] * info["ns_per_adder_level"]
        assert stage_ns <= 1000 / board.clock_mhz or info["levels_per_stage"] == 1


def test_port_packing_round_trip():
    from hwgen.synth.open.rtlsim import decode_outputs, encode_inputs

    rng = np.random.default_rng(3)
    kifs = [[1, 2, 3], [0, 1, 4], [1, 0, 5], [0, 0, 0], [1, 5, 0]]
    cols = []
    for k, i, f in kifs:
        lo, hi = (-(2 ** (i + f)) if k else 0), 2 ** (i + f) - 1
        cols.append(rng.integers(lo, hi + 1, 50) * 2.0**-f if k + i + f else np.zeros(50))
    X = np.stack(cols, axis=1)
    lines = encode_inputs(X, kifs)
    assert all(len(ln) == len(lines[0]) for ln in lines)
    assert np.array_equal(decode_outputs(lines, kifs), X)
    with pytest.raises(HwgenError):
        encode_inputs(X + 2.0**-9, kifs)


def test_yosys_cell_mapping():
    from hwgen.synth.open.yosys import map_cells

    res, det = map_cells(
        {"LUT2": 3, "LUT6": 1, "INV": 2, "SRLC32E": 1, "RAM64M": 1, "FDRE": 5, "FDSE": 1, "CARRY4": 2,
         "RAMB36E1": 1, "RAMB18E1": 1, "DSP48E1": 1, "IBUF": 9, "MUXF7": 4},
        "xc7",
    )  # fmt: skip
    assert res == {"lut": 3 + 1 + 2 + 1 + 4, "ff": 6, "carry": 2, "dsp": 1, "bram_18k": 3, "uram": 0}
    assert det["cells"]["IBUF"] == 9
    res, _ = map_cells({"LUT4": 10, "CCU2C": 4, "TRELLIS_FF": 7, "DP16KD": 1, "MULT18X18D": 2, "PFUMX": 3}, "ecp5")
    assert res == {"lut4": 18, "ff": 7, "ebr": 1, "mult18": 2}
    res, _ = map_cells({"SB_LUT4": 10, "SB_CARRY": 4, "SB_DFF": 2, "SB_DFFE": 3, "SB_RAM40_4K": 1, "SB_MAC16": 1}, "ice40")
    assert res == {"lut4": 10, "ff": 5, "ebr": 1, "mult18": 1}


def test_nextpnr_log_parsing():
    from hwgen.synth.open.nextpnr import map_utilization, parse_log

    log = """Info: Device utilisation:
Info: \t          TRELLIS_FF:    2221/  83640     2%
Info: \t        TRELLIS_COMB:    4880/  83640     5%
Info: \t         MULT18X18D:       0/    156     0%
Info: Max frequency for clock 'clk': 107.27 MHz (PASS at 50.00 MHz)
Info: Routing..
Info: Max frequency for clock 'clk': 101.28 MHz (PASS at 50.00 MHz)
"""
    fmax, util = parse_log(log)
    assert fmax == pytest.approx(101.28)
    assert util["TRELLIS_COMB"] == {"used": 4880, "available": 83640}
    assert map_utilization(util, "ecp5") == {"lut4": 4880.0, "ff": 2221.0, "mult18": 0.0}


def test_unsupported_layer_is_named(tf):
    from qkeras import QDense, quantized_bits

    from hwgen.synth.open.trace import trace_qkeras

    model = tf.keras.Sequential(
        [tf.keras.Input((4,)), QDense(3, kernel_quantizer=quantized_bits(6, 0, alpha=1), name="fc"),
         tf.keras.layers.BatchNormalization(name="bn_odd")]
    )  # fmt: skip
    with pytest.raises(HwgenError, match="bn_odd.*BatchNormalization"):
        trace_qkeras(model, 8, 3)
    model = tf.keras.Sequential([tf.keras.Input((4, 4, 1)), tf.keras.layers.AveragePooling2D(name="avg")])
    with pytest.raises(HwgenError, match="avg"):
        trace_qkeras(model, 8, 3)


def test_non_fixed_point_weights_are_refused(tf):
    from qkeras import QDense, quantized_bits

    from hwgen.synth.open.trace import trace_qkeras

    model = tf.keras.Sequential([tf.keras.Input((4,)), QDense(3, kernel_quantizer=quantized_bits(4, 0, symmetric=1, alpha="auto"))])
    model.layers[-1].set_weights([np.full((4, 3), 0.3, np.float32) * np.array([1, 0.37, 0.11], np.float32), np.zeros(3, np.float32)])
    with pytest.raises(HwgenError, match="alpha"):
        trace_qkeras(model, 8, 3)


def test_input_grid_is_checked():
    from hwgen.synth.open.trace import check_input_grid

    check_input_grid(np.array([[0.5, -4.0, 3.96875]]), 8, 3)
    with pytest.raises(HwgenError, match="not on the input grid"):
        check_input_grid(np.array([[0.01]]), 8, 3)
    with pytest.raises(HwgenError, match="not on the input grid"):
        check_input_grid(np.array([[4.0]]), 8, 3)


@pytest.mark.skipif(not (tool_available("iverilog") and tool_available("vvp")), reason="Icarus Verilog not installed")
def test_qconv2d_maxpool_network_is_bit_exact_in_rtl(tf, tmp_path):
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

    from hwgen.boards import load_board
    from hwgen.synth.open.rtlsim import run_rtlsim
    from hwgen.synth.open.trace import trace_qkeras, verify_emulation
    from hwgen.synth.open.verilog import write_rtl

    rng = np.random.default_rng(5)
    q = lambda: quantized_bits(5, 0, alpha=1)  # noqa: E731
    model = tf.keras.Sequential(
        [
            tf.keras.Input((6, 6, 2)),
            QConv2D(3, (3, 3), strides=(1, 1), padding="same", kernel_quantizer=q(), bias_quantizer=q(), name="conv"),
            QActivation(quantized_relu(5, 1), name="relu"),
            tf.keras.layers.MaxPooling2D((2, 2), name="pool"),
            tf.keras.layers.Flatten(name="flat"),
            QDense(3, kernel_quantizer=q(), bias_quantizer=q(), name="out"),
        ],
        name="tiny-cnn.v1",
    )
    for layer in (model.get_layer("conv"), model.get_layer("out")):
        k, b = layer.get_weights()
        kq = rng.integers(-16, 16, k.shape) / 16.0
        kq[rng.random(k.shape) < 0.5] = 0
        layer.set_weights([kq.astype(np.float32), (rng.integers(-16, 16, b.shape) / 16.0).astype(np.float32)])
    X = (rng.integers(-32, 32, (40, 6, 6, 2)) / 16.0).astype(np.float32)  # fixed<6,2>
    logits = model.predict(X, verbose=0)
    traced = trace_qkeras(model, 6, 2)
    assert verify_emulation(traced, X, logits)["bit_exact_fraction"] == 1.0
    design = write_rtl(traced, tmp_path / "rtl", load_board("pynq-z2"))
    rec = run_rtlsim(tmp_path / "rtl", design, X, logits, which=("pipe",), simulator="icarus")
    assert rec["bit_exact_fraction"] == 1.0
    assert rec["designs"]["pipe"]["latency_cycles"] == design.n_stages + 1


@pytest.mark.skipif(not (tool_available("iverilog") and tool_available("vvp")), reason="Icarus Verilog not installed")
def test_dead_inputs_and_constant_outputs_keep_the_interface(tf, tmp_path):
    """An input with only zero weights stays a port; constant outputs (0 and non-zero) are exact."""
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    from hwgen.boards import load_board
    from hwgen.synth.open.rtlsim import run_rtlsim
    from hwgen.synth.open.trace import trace_qkeras, verify_emulation
    from hwgen.synth.open.verilog import write_rtl

    rng = np.random.default_rng(1)
    q = lambda: quantized_bits(6, 0, alpha=1)  # noqa: E731
    model = tf.keras.Sequential(
        [tf.keras.Input((5,)), QDense(4, kernel_quantizer=q(), bias_quantizer=q(), name="fc1"),
         QActivation(quantized_relu(4, 1)), QDense(4, kernel_quantizer=q(), bias_quantizer=q(), name="out")],
        name="edge",
    )  # fmt: skip
    k1 = rng.integers(-32, 32, (5, 4)) / 32
    k1[0, :] = 0  # input 0 is dead
    k1[:, 3] = -np.abs(k1[:, 3])  # hidden unit 3 is never positive: relu gives a constant 0
    k2 = rng.integers(-32, 32, (4, 4)) / 32
    k2[:, 1:3] = 0  # outputs 1 and 2 are constants (0 and 13/32)
    model.get_layer("fc1").set_weights([k1.astype(np.float32), np.array([0.25, 0, -0.125, -0.5], np.float32)])
    model.get_layer("out").set_weights([k2.astype(np.float32), np.array([0.125, 0.0, 0.40625, -0.5], np.float32)])
    X = (rng.integers(-64, 64, (64, 5)) / 16).astype(np.float32)
    logits = model.predict(X, verbose=0)
    traced = trace_qkeras(model, 8, 3)
    verify_emulation(traced, X, logits)
    design = write_rtl(traced, tmp_path / "rtl", load_board("pynq-z2"))
    assert design.inputs == [[1, 2, 5]] * 5  # every input keeps its fixed<8,3> field
    rec = run_rtlsim(tmp_path / "rtl", design, X, logits, simulator="icarus")
    assert rec["bit_exact_fraction"] == 1.0
    assert np.all(logits[:, 2] == 0.40625) and np.all(logits[:, 1] == 0)


def _ice40_carry_feedout(with_cin: bool) -> dict:
    """Two iCE40 logic cells as nextpnr places them: lc0 computes the carry a&b (carry-in constant
    0), lc1 passes it on (COUT = CIN with I1 = 1, I2 = 0) to the output y. Debian's nextpnr-ice40 0.4
    writes such a feed-out cell without its CIN net."""
    lc = {"ASYNC_SR": "0", "SET_NORESET": "0", "DFF_ENABLE": "0", "NEG_CLK": "0", "CARRY_ENABLE": "1"}
    dirs = {p: "input" for p in ("I0", "I1", "I2", "I3", "CIN", "CLK", "CEN", "SR")} | {p: "output" for p in ("O", "LO", "COUT")}
    first = {"type": "ICESTORM_LC", "attributes": {"NEXTPNR_BEL": "X3/Y7/lc7"}, "port_directions": dirs,
             "parameters": {**lc, "CIN_CONST": "1", "CIN_SET": "0", "LUT_INIT": "0000000000000000"},
             "connections": {"I1": [2], "I2": [3], "COUT": [10]}}
    feed = {"type": "ICESTORM_LC", "attributes": {"NEXTPNR_BEL": "X3/Y8/lc0"}, "port_directions": dirs,
            "parameters": {**lc, "CIN_CONST": "0", "CIN_SET": "0", "LUT_INIT": "1111111100000000"},
            "connections": {"I1": ["1"], "I3": [10], "COUT": [11], **({"CIN": [10]} if with_cin else {})}}
    return {"ports": {"a": {"direction": "input", "bits": [2]}, "b": {"direction": "input", "bits": [3]},
                      "y": {"direction": "output", "bits": [11]}},
            "cells": {"first": first, "feed": feed},
            "netnames": {"a": {"bits": [2]}, "b": {"bits": [3]}, "y": {"bits": [11]}, "carry": {"bits": [10]}}}  # fmt: skip


def _simulate_ice40_cells(module: dict, work) -> list[str]:
    import json
    import subprocess

    from hwgen.synth.open.postroute import DEFINES, cell_library
    from hwgen.tools import find_tool

    yosys, iverilog, vvp = find_tool("yosys"), find_tool("iverilog"), find_tool("vvp")
    (work / "n.json").write_text(json.dumps({"modules": {"top": module}}))
    subprocess.run([*yosys.argv, "-q", "-p", "read_json n.json; write_verilog -noattr n.v"], cwd=work, check=True)
    cells_sim, _ = cell_library("ice40", {"ICESTORM_LC"}, yosys)
    (work / "tb.v").write_text(
        "module tb; reg a, b; wire y; top dut(.a(a), .b(b), .y(y)); integer i;\n"
        "initial begin for (i = 0; i < 4; i = i + 1) begin {a, b} = i; #1 $display(\"%b\", y); end end\nendmodule\n"
    )
    defs = [x for d in DEFINES["ice40"] for x in ("-D", d)]
    subprocess.run([*iverilog.argv, "-g2012", "-o", "t.vvp", "-s", "tb", *defs, "n.v", str(cells_sim), "tb.v"], cwd=work, check=True,
                   capture_output=True)  # fmt: skip
    out = subprocess.run([*vvp.argv, "-n", "t.vvp"], cwd=work, check=True, capture_output=True, text=True).stdout
    return out.split()


@pytest.mark.skipif(not all(tool_available(t) for t in ("yosys", "iverilog")), reason="needs Yosys and Icarus")
def test_ice40_carry_input_left_out_by_nextpnr_is_the_cell_below(tmp_path):
    from hwgen.synth.open.postroute import complete_ice40_carry_chains

    # As nextpnr-ice40 0.11 writes it: CIN present, nothing to add, and the carry simulates.
    whole = _ice40_carry_feedout(with_cin=True)
    assert complete_ice40_carry_chains(whole) == 0
    (tmp_path / "whole").mkdir()
    assert _simulate_ice40_cells(whole, tmp_path / "whole") == ["0", "0", "0", "1"]
    # As 0.4 writes it: the carry out simulates as X until CIN is the COUT of the cell below
    # (lc0 of tile Y8 takes lc7 of Y7), the fabric's dedicated wire.
    bare = _ice40_carry_feedout(with_cin=False)
    (tmp_path / "bare").mkdir()
    assert _simulate_ice40_cells(bare, tmp_path / "bare") == ["x"] * 4
    assert complete_ice40_carry_chains(bare) == 1
    assert bare["cells"]["feed"]["connections"]["CIN"] == [10]
    (tmp_path / "fixed").mkdir()
    assert _simulate_ice40_cells(bare, tmp_path / "fixed") == ["0", "0", "0", "1"]
    # a carry-in that is a constant, or a cell with no carry cell below, is left alone
    const = _ice40_carry_feedout(with_cin=False)
    const["cells"]["feed"]["parameters"]["CIN_CONST"] = "1"
    lonely = _ice40_carry_feedout(with_cin=False)
    lonely["cells"]["first"]["attributes"]["NEXTPNR_BEL"] = "X4/Y7/lc7"
    assert complete_ice40_carry_chains(const) == 0 and complete_ice40_carry_chains(lonely) == 0
