"""hwgen.synth.estimate: structural counts on real hls4ml projects written by hls4ml 1.3 (Vitis backend,
io_parallel) from small QKeras models, the calibration data, the CLI and its error messages.

Expected counts are derived in the tests from the weights they set (numpy), never from the code
under test: e.g. every weight is 43/128 (43 = 64-16-4-1 needs 4 signed digits and 7 bits, so it
is a real multiplier, and a DSP with 16-bit data), 11/128 (3 digits, 5 bits: a LUT multiplier),
or a power of two (a shift).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from hwgen.errors import HwgenError

REPO = Path(__file__).resolve().parents[1]
HARD_WIDE = 43 / 128  # needs a multiplier; 7-bit constant -> DSP with 16-bit data
HARD_NARROW = 11 / 128  # needs a multiplier; code 11 on the 1/128 grid is 5 bits -> LUT fabric


def _write_project(out: Path, weights: np.ndarray, *, relu_bits: int | None = None, strategy: str = "Latency",
                   reuse: int = 1, weight_bits: int = 8, bias: np.ndarray | None = None) -> Path:
    """Input(16) [-> QActivation(quantized_relu(relu_bits))] -> QDense(n_out) as an hls4ml project."""
    from hwgen.tfcompat import keras
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu
    import hls4ml

    n_in, n_out = weights.shape
    inp = keras.Input((n_in,), name="x")
    x = inp
    if relu_bits:
        x = QActivation(quantized_relu(relu_bits), name="act")(x)
    x = QDense(n_out, kernel_quantizer=quantized_bits(weight_bits, 0, alpha=1),
               bias_quantizer=quantized_bits(weight_bits, 0, alpha=1), name="fc")(x)
    model = keras.Model(inp, x)
    model.get_layer("fc").set_weights([weights, np.zeros(n_out) if bias is None else bias])
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    cfg["Model"]["Strategy"] = strategy
    cfg["Model"]["ReuseFactor"] = reuse
    cfg["LayerName"]["fc"]["ReuseFactor"] = reuse
    cfg["LayerName"]["fc"]["Strategy"] = strategy
    hls = hls4ml.converters.convert_from_keras_model(
        model, hls_config=cfg, output_dir=str(out), backend="Vitis", io_type="io_parallel",
        part="xcvu9p-flga2104-2L-e", clock_period=5,
    )
    hls.write()
    return out


def _layer(est, name="fc") -> dict:
    return next(r for r in est.layers if r["name"] == name)


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    root = tmp_path_factory.mktemp("estimate_projects")
    rng = np.random.default_rng(0)
    sign = np.where(rng.random((16, 8)) < 0.5, -1.0, 1.0)
    hard = HARD_WIDE * sign
    mask = rng.random((16, 8)) < 0.5
    pow2 = np.where(rng.random((16, 8)) < 0.5, 0.25, 0.5) * sign
    mixed = np.where(mask, pow2, hard)
    p = {
        "hard": _write_project(root / "hard", hard),
        "pruned": _write_project(root / "pruned", np.where(mask, 0.0, hard)),
        "pow2": _write_project(root / "pow2", pow2),
        "mixed": _write_project(root / "mixed", mixed),
        "rf4": _write_project(root / "rf4", hard, reuse=4),
        "narrow_data": _write_project(root / "narrow_data", hard, relu_bits=4),
        "narrow_const": _write_project(root / "narrow_const", HARD_NARROW * sign),
        "resource_rf4": _write_project(root / "resource_rf4", np.where(mask, 0.0, hard), strategy="Resource", reuse=4),
        "latency_rf4": _write_project(root / "latency_rf4", np.where(mask, 0.0, hard), reuse=4),
    }
    p["_mask"] = mask
    p["_mixed_mask"] = mask
    return p


def test_zero_weights_remove_multipliers(projects):
    from hwgen.synth.estimate import estimate_project

    hard = _layer(estimate_project(projects["hard"], tool="vitis_hls-2024.1"))
    pruned = _layer(estimate_project(projects["pruned"], tool="vitis_hls-2024.1"))
    n_kept = int(np.count_nonzero(~projects["_mask"]))
    assert hard["counts"]["mult_ops"] == 16 * 8
    assert hard["dsp"] == 16 * 8  # every product 16-bit data x 7-bit constant -> one DSP
    assert pruned["counts"]["zero"] == 16 * 8 - n_kept
    assert pruned["counts"]["mult_ops"] == n_kept
    assert pruned["dsp"] == n_kept
    assert pruned["lut"] < hard["lut"]


def test_power_of_two_weights_become_shifts(projects):
    from hwgen.synth.estimate import estimate_project

    pow2 = _layer(estimate_project(projects["pow2"], tool="vitis_hls-2024.1"))
    assert pow2["counts"]["shift"] == 16 * 8
    assert pow2["counts"]["mult_ops"] == 0 and pow2["dsp"] == 0
    mixed = _layer(estimate_project(projects["mixed"], tool="vivado_hls-2019.2"))
    n_hard = int(np.count_nonzero(~projects["_mixed_mask"]))
    assert mixed["counts"]["shift"] == 16 * 8 - n_hard
    assert mixed["counts"]["mult_ops"] == n_hard
    assert mixed["dsp"] == n_hard


def test_reuse_factor_divides_multipliers_and_sets_ii(projects):
    from hwgen.synth.estimate import estimate_project

    one = estimate_project(projects["hard"], tool="vitis_hls")
    four = estimate_project(projects["rf4"], tool="vitis_hls")
    l1, l4 = _layer(one), _layer(four)
    assert l4["counts"]["mult_ops"] == l1["counts"]["mult_ops"] == 128  # same products, shared
    assert l4["counts"]["mult_instances"] == math.ceil(128 / 4)
    assert l4["dsp"] == math.ceil(128 / 4)
    assert l1["ii"] == 1 and one.ii == 1
    assert l4["ii"] == 4 and four.ii == 4
    assert four.latency_cycles_max >= one.latency_cycles_max


def test_wider_operands_move_multipliers_from_lut_to_dsp(projects):
    from hwgen.synth.estimate import estimate_project

    wide = _layer(estimate_project(projects["hard"], tool="vitis_hls"))
    narrow_data = _layer(estimate_project(projects["narrow_data"], tool="vitis_hls"))
    narrow_const = _layer(estimate_project(projects["narrow_const"], tool="vitis_hls"))
    assert wide["dsp"] == 128 and wide["counts"]["lut_mult_ops"] == 0
    # 4-bit relu output x 7-bit constant: fabric
    assert narrow_data["dsp"] == 0 and narrow_data["counts"]["lut_mult_ops"] == 128
    # 16-bit data x 5-bit constant (11 = 16-4-1: still a real multiplier): fabric
    assert narrow_const["counts"]["mult_ops"] == 128
    assert narrow_const["dsp"] == 0 and narrow_const["counts"]["lut_mult_ops"] == 128


def test_resource_vs_latency_strategy(projects):
    from hwgen.synth.estimate import estimate_project

    res = estimate_project(projects["resource_rf4"], tool="vitis_hls")
    lat = estimate_project(projects["latency_rf4"], tool="vitis_hls")
    lr, ll = _layer(res), _layer(lat)
    n_kept = int(np.count_nonzero(~projects["_mask"]))
    # Resource: ceil(n_in*n_out/R) general multipliers, zeros included (weights come from a ROM)
    assert lr["counts"]["mult_instances"] == math.ceil(16 * 8 / 4)
    assert lr["bram_18k"] > 0 and ll["bram_18k"] == 0
    # Latency: zero weights are gone before sharing
    assert ll["counts"]["mult_instances"] == math.ceil(n_kept / 4)
    assert lr["ii"] == ll["ii"] == 4
    assert res.strategy.lower() == "resource"


def test_per_layer_and_total_are_consistent(projects):
    from hwgen.boards import load_board
    from hwgen.synth.estimate import estimate_project

    est = estimate_project(projects["mixed"], tool="vitis_hls-2024.1")
    for key in ("dsp", "lut", "ff", "bram_18k", "uram"):
        assert abs(sum(r[key] for r in est.layers) - est.total[key]) < 0.05 * len(est.layers)
    board = load_board("vu9p")
    res = est.to_synth_result(board)
    assert res.kind == "estimate" and res.source == "estimate:v2-vitis_hls"
    assert res.tool == "hwgen-estimator" and res.board == "vu9p"
    assert res.resources["lut"] == round(est.total["lut"])
    assert res.latency_cycles_max == est.latency_cycles_max and res.ii_max == est.ii
    for key in ("dsp", "lut", "ff", "latency"):
        lo, hi = res.uncertainty[key]
        value = res.latency_cycles_max if key == "latency" else res.resources[key]
        assert lo <= value <= hi
    assert 0 < res.utilization_pct["lut"] < 100 and res.fits is True
    assert len(res.details["per_layer"]) == len(est.layers)


def test_cli_hls_project_and_run_dir(projects, tmp_path, capsys):
    from hwgen.cli import main
    from hwgen.results import read_synth_results

    rc = main(["estimate", "--hls-project", str(projects["mixed"]), "--tool", "vivado_hls-2019.2",
               "--part", "xczu9eg-ffvb1156-2-e", "--clock-mhz", "250", "--json"])
    assert rc == 0
    record = json.loads(capsys.readouterr().out)
    assert record["tool_family"] == "vivado_hls" and record["tool_version"] == "2019.2"
    assert record["part"] == "xczu9eg-ffvb1156-2-e" and record["clock_mhz"] == 250
    assert record["total"]["dsp"] > 0 and record["layers"]

    run = tmp_path / "run"
    shutil.copytree(projects["mixed"], run / "hls")
    (run / "run.json").write_text(json.dumps({"name": "t", "board": "zcu102", "options": {}}))
    assert main(["estimate", str(run)]) == 0
    out = capsys.readouterr().out
    assert "total" in out and "wrote" in out
    results = read_synth_results(run)
    assert [r.kind for r in results] == ["estimate"]
    assert results[0].board == "zcu102" and results[0].part == "xczu9eg-ffvb1156-2-e"
    assert (run / results[0].logs[0]).is_file()


def test_malformed_project_gives_clear_error(projects, tmp_path, capsys):
    from hwgen.cli import main
    from hwgen.synth.estimate import estimate_project

    with pytest.raises(HwgenError, match="no hls4ml_config.yml"):
        estimate_project(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(projects["hard"], broken)
    (broken / "firmware" / "parameters.h").unlink()
    with pytest.raises(HwgenError, match=r"missing firmware/parameters\.h"):
        estimate_project(broken)
    noweights = tmp_path / "noweights"
    shutil.copytree(projects["hard"], noweights)
    shutil.rmtree(noweights / "firmware" / "weights")
    with pytest.raises(HwgenError, match="weights"):
        estimate_project(noweights)
    assert main(["estimate", "--hls-project", str(broken)]) == 2
    assert "hwgen: error:" in capsys.readouterr().err
    with pytest.raises(HwgenError, match="unknown --tool"):
        estimate_project(projects["hard"], tool="quartus-23.1")


def _assert_measured_is_the_report(point: dict, prov: dict) -> None:
    """The point's figures are those of its fixture report, whose digest is the recorded one."""
    from hwgen.synth.vendor_tools.reports import parse_report

    path = REPO / prov["fixture"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == prov["fixture_sha256"]
    rep = parse_report(path)
    for key in ("dsp", "lut", "ff", "bram_18k"):
        assert point["measured"][key] == rep.resources[key]
    assert point["measured"]["latency"] == rep.latency_max


def test_calibration_points_come_from_the_fixtures():
    """Measured figures stored in calibration.yaml equal what is read from the copied genuine
    reports (vendor reports through parse_report, hls4ml baselines through read_baseline, with the
    sha256 of SOURCE.json) and the published table as quoted in the issue."""
    from hwgen.synth.estimate.baselines import read_baseline
    from hwgen.synth.estimate.calibration import CALIBRATION_FILE

    data = yaml.safe_load(CALIBRATION_FILE.read_text())
    source = json.loads((REPO / "tests/fixtures/calibration/hls4ml_baselines/SOURCE.json").read_text())
    sha_by_path = {f["path"]: f["sha256"] for f in source["files"]}
    published = {"ptq16": (1852, 89209, 11266, 50), "ptq14": (1132, 90019, 9262, 50), "qat6": (38, 63251, 4394, 45)}
    kinds = set()
    for point in data["points"] + data["excluded_points"]:
        prov = point["provenance"]
        kinds.add(prov["kind"])
        if prov["kind"] == "vendor_report":
            _assert_measured_is_the_report(point, prov)
        elif prov["kind"] == "hls4ml_baseline":
            path = REPO / prov["fixture"]
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assert digest == prov["fixture_sha256"] == sha_by_path[prov["path"]]
            assert prov["repo"] == "fastmachinelearning/hls4ml" and len(prov["commit"]) == 40
            rep = read_baseline(path)
            for key in ("dsp", "lut", "ff", "bram_18k", "latency", "ii"):
                assert point["measured"][key] == rep[key]
        elif prov["kind"] == "committed_project":
            # every copied file of the project still has the digest its SOURCE.json recorded, and
            # the figures are the top report's
            folder = REPO / "tests/fixtures/calibration/projects" / point["id"]
            src = json.loads((folder / "SOURCE.json").read_text())
            assert src["repo"] == prov["repo"] and src["resolved_commit"] == prov["commit"] and len(prov["commit"]) == 40
            for entry in src["files"]:
                assert hashlib.sha256((folder / entry["local"]).read_bytes()).hexdigest() == entry["sha256"]
            _assert_measured_is_the_report(point, prov)
        else:
            dsp, lut, ff, ns = published[prov["row"]]
            assert (point["measured"]["dsp"], point["measured"]["lut"], point["measured"]["ff"]) == (dsp, lut, ff)
            assert point["measured"]["latency"] == ns / 5
    assert kinds == {"vendor_report", "hls4ml_baseline", "published_table", "committed_project"}
    # at least 30 points over at least 4 tool versions, each family with >= 8 fit points
    assert len(data["points"]) >= 30
    assert len({p["tool"] for p in data["points"]}) >= 4
    for fam in ("vitis_hls", "vivado_hls"):
        assert sum(p["family"] == fam and p["split"] == "fit" for p in data["points"]) >= 8


def test_fit_is_linear_in_costs_and_leaves_whole_designs_out():
    """The stored per-point counts reproduce the estimate; leave-one-out drops every tool version of
    the left-out design; held-out points are in no fit."""
    from hwgen.synth.estimate.calibration import load_calibration
    from hwgen.synth.estimate.model import FITTED_COSTS

    cal = load_calibration()
    costs = cal.fitted_costs("vitis_hls")
    assert all(v >= 0 for v in costs.values())
    p = next(q for q in cal.points if q.id == "hls4ml_Vitis_2024.1_activations_io_parallel-Vitis-relu")
    sibling = next(q for q in cal.points if q.id == "hls4ml_Vitis_2023.1_activations_io_parallel-Vitis-relu")
    assert p.design == sibling.design
    assert cal.fitted_costs("vitis_hls", exclude=p.id) == cal.fitted_costs("vitis_hls", exclude=sibling.id)
    assert p.id not in [q.id for q in cal.family_points("vitis_hls", "lut", exclude=sibling.id)]
    expect = p.terms["lut"]["const"] + sum(costs[n] * p.terms["lut"][n] for n in FITTED_COSTS["lut"])
    assert cal.predict(p, "lut") == pytest.approx(expect)
    held = [q for q in cal.points if q.split == "heldout"]
    assert held and not any(q in cal.family_points(q.family, "lut") for q in held)


def test_wide_products_take_the_cheaper_dsp_split():
    """A 32 x 21 product puts the 21-bit operand on the 27-bit port (2 slices, not 4); with each
    channel's own constants the 32-bit DepthwiseConv2D lands on Vivado HLS 2020.1's 54 DSP."""
    from hwgen.synth.estimate.calibration import load_calibration
    from hwgen.synth.estimate.model import Device

    dev = Device.from_part("xcvu13p-flga2577-2-e")
    assert [dev.dsp_tiles(a, b) for a, b in [(16, 16), (27, 18), (24, 24), (32, 21), (21, 32), (32, 32)]] == [
        1, 1, 2, 2, 2, 4]
    cal = load_calibration()
    p = next(q for q in cal.points if q.id == "hls4ml_Vivado_2020.1_depthwise2d_io_stream-Vivado")
    assert cal.predict(p, "dsp", exclude=p.id) == p.measured["dsp"] == 54


def test_clamped_table_index_is_costed_for_sigmoid_only():
    """hls4ml clamps the sigmoid index on both sides (ELU on one): only the sigmoid points carry the
    clamped-lookup count, one per lane, and their fitted cost is positive in both families."""
    from hwgen.synth.estimate.calibration import load_calibration

    cal = load_calibration()
    acts = [p for p in cal.points if "_activations_" in p.id]
    sig = [p for p in acts if p.id.endswith("-sigmoid")]
    assert len(sig) == 6
    for p in acts:
        n = p.terms["lut"]["lut_per_clamped_lookup"]
        assert (n > 0) == p.id.endswith("-sigmoid"), p.id
    # io_parallel: every lane of the activation has its own index; io_stream: one packed word
    par = {p.terms["lut"]["lut_per_clamped_lookup"] for p in sig if "io_parallel" in p.id}
    stream = {p.terms["lut"]["lut_per_clamped_lookup"] for p in sig if "io_stream" in p.id}
    assert len(par) == 1 and len(stream) == 1 and max(stream) <= max(par)
    for family in ("vitis_hls", "vivado_hls"):
        assert cal.fitted_costs(family)["lut_per_clamped_lookup"] > 0


def _run_dir(tmp_path: Path, project: Path, backend: str) -> Path:
    run = tmp_path / f"run_{backend}"
    shutil.copytree(project, run / "hls")
    (run / "run.json").write_text(json.dumps({"name": "t", "board": "zcu102", "options": {}}))
    (run / "convert.json").write_text(json.dumps({"backend": backend, "project_dir": "hls"}))
    return run


def test_vivado_backend_run_uses_the_vivado_calibration(projects, tmp_path, capsys):
    """A run converted with --backend Vivado (convert.json: backend Vivado) is estimated as Vivado
    HLS would synthesize it, through run_estimate (what the flow calls) and the CLI alike."""
    from hwgen.boards import load_board
    from hwgen.cli import main
    from hwgen.synth.estimate import run_estimate
    from hwgen.synth.estimate.estimator import estimate_project

    board = load_board("zcu102")
    vivado = run_estimate(_run_dir(tmp_path, projects["mixed"], "Vivado"), board)
    vitis = run_estimate(_run_dir(tmp_path, projects["mixed"], "Vitis"), board)
    assert vivado.source == "estimate:v2-vivado_hls" and vivado.details["tool_family"] == "vivado_hls"
    assert vitis.source == "estimate:v2-vitis_hls"
    direct = estimate_project(projects["mixed"], tool="vivado_hls", part=board.part)
    assert vivado.resources["lut"] == round(direct.total["lut"])
    assert vivado.details["fitted_costs"] == direct.fitted_costs != vitis.details["fitted_costs"]
    run = _run_dir(tmp_path / "cli", projects["mixed"], "Vivado")
    assert main(["estimate", str(run)]) == 0
    assert "estimate:v2-vivado_hls" in capsys.readouterr().out
    # an explicit --tool still wins
    assert main(["estimate", str(run), "--tool", "vitis_hls-2024.1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.split("\nwrote")[0])["tool_family"] == "vitis_hls"


def test_out_of_range_configuration_says_so(projects):
    from hwgen.synth.estimate import estimate_project

    inside = estimate_project(projects["mixed"], tool="vitis_hls-2024.1")
    assert inside.to_dict()["in_calibrated_range"] is True, inside.out_of_range
    far = estimate_project(projects["rf4"], tool="vitis_hls-2019.1")
    why = " ".join(far.out_of_range)
    assert "reuse factor 4" in why and "tool version 2019.1" in why
    assert any(n.startswith("outside the calibrated range") for n in far.notes)
    assert far.to_synth_result().details["in_calibrated_range"] is False


@pytest.mark.parametrize("point_id", [
    "hls4ml_Vitis_2024.1_pooling_Vitis-channels_last-same-MaxPooling2D",
    "hls4ml_Vivado_2020.1_activations_io_parallel-Vivado-relu",
])
def test_rebuilt_calibration_point_end_to_end(point_id, tmp_path, capsys):
    """Rebuild a calibration point's hls4ml project from hls4ml's test definition, run
    `hwgen estimate --hls-project ... --json` and check the genuine C-synthesis figures lie in the
    band the estimator itself reports."""
    from hwgen.cli import main
    from hwgen.synth.estimate import baselines
    from hwgen.synth.estimate.calibration import load_calibration

    point = next(p for p in load_calibration().points if p.id == point_id)
    backend, version = point.provenance["fixture"].split("/")[-3:-1]
    stem = Path(point.provenance["fixture"]).stem
    case = baselines.parse_case(stem)
    assert case is not None and case.backend == backend
    baselines.build(case, tmp_path / "prj")
    assert main(["estimate", "--hls-project", str(tmp_path / "prj"), "--tool", point.tool, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    genuine = baselines.read_baseline(REPO / point.provenance["fixture"])
    for key in ("dsp", "lut", "ff", "bram_18k"):
        lo, hi = record["uncertainty"][key]
        assert lo <= genuine[key] <= hi, (key, genuine[key], record["total"][key], (lo, hi))
    lo, hi = record["uncertainty"]["latency"]
    assert lo <= genuine["latency"] <= hi
    assert record["in_calibrated_range"] is True


def test_prior_sigma_pins_a_cost_and_is_validated():
    """prior_sigma: a cost with a tiny relative standard deviation keeps its structural value
    whatever the points say; a malformed entry is refused by name."""
    from hwgen.synth.estimate.calibration import CALIBRATION_FILE, parse_calibration

    data = yaml.safe_load(CALIBRATION_FILE.read_text())
    cal = parse_calibration(data)
    prior = cal.params["vitis_hls"].lut_per_table_lookup
    free = cal.fitted_costs("vitis_hls")["lut_per_table_lookup"]
    data["prior_sigma"]["vitis_hls"]["lut_per_table_lookup"] = 1e-6
    pinned = parse_calibration(data).fitted_costs("vitis_hls")["lut_per_table_lookup"]
    assert abs(free - prior) > 0.5 * prior  # the points pull it far from the prior ...
    assert pinned == pytest.approx(prior, rel=1e-3)  # ... unless the prior is pinned
    for bad in ({"vitis_hls": {"lut_per_nothing": 1.0}}, {"vitis_hls": {"lut_per_dsp": -1}}):
        data["prior_sigma"] = bad
        with pytest.raises(HwgenError, match="prior_sigma"):
            parse_calibration(data)


@pytest.mark.slow
def test_calibration_file_is_up_to_date():
    """Rebuilds every calibration project with hls4ml and compares with the stored file."""
    from hwgen.synth.estimate.calibrate import main

    assert main(["--check"]) == 0


def test_committed_hls4ml_05_project_is_read_exactly(capsys):
    """A genuine project written by hls4ml 0.5 (layer sizes as #define macros, `XilinxPart`) is read
    with its real sizes and part, and `hwgen estimate --json` on it brackets the genuine csynth
    figures of the report committed with it within its own band (cycles: the relative band)."""
    from hwgen.cli import main
    from hwgen.synth.estimate.project import read_project
    from hwgen.synth.vendor_tools.reports import parse_report

    folder = REPO / "tests/fixtures/calibration/projects/astitwlathe_jet_mlp_rf1"
    proj = read_project(folder)
    assert proj.part == "xcvu9p-flga2104-2L-e"
    dense = [c for c in proj.calls if c.func == "dense"]
    assert [(int(c.config.num("n_in")), int(c.config.num("n_out"))) for c in dense] == [(16, 64), (64, 32), (32, 32), (32, 5)]
    assert all(c.weights is not None and c.weights.size == c.config.num("n_in") * c.config.num("n_out") for c in dense)
    assert main(["estimate", "--hls-project", str(folder), "--tool", "vivado_hls-2019.2", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    rep = parse_report(folder / "report/myproject_csynth.rpt")
    assert not any("weights not readable" in n for n in record["notes"])
    for key in ("dsp", "lut", "ff", "bram_18k"):
        lo, hi = record["uncertainty"][key]
        assert lo <= rep.resources[key] <= hi, (key, rep.resources[key], record["total"][key], (lo, hi))
    lo, hi = record["uncertainty"]["latency"]
    assert lo <= rep.latency_max <= hi and hi - lo < 20


def _module_latency_rows(report_text: str) -> dict[str, int]:
    """Worst-case latency of each `<func>_..._configN_U0` instance row of a csynth report."""
    latency_section = report_text.split("Utilization Estimates")[0]  # the resource table repeats the rows
    rows = {}
    for m in re.finditer(r"^\s*\|\w+?_(config\d+)_U0\s*\|[^|]*\|\s*(\d+)\|\s*(\d+)\|", latency_section, re.M):
        rows[m.group(1)] = int(m.group(3))
    return rows


@pytest.mark.parametrize("pid", ["neutdetector_conv1d_stream_rf16", "neutdetector_conv1d_stream_rf48",
                                 "spehic_qkeras_cnn_pruned"])
def test_resource_stream_conv_latency_per_layer_matches_the_module_rows(pid):
    """hls4ml's Resource-strategy stream convolution does not pipeline its pixel loop: each of the
    genuine module rows (Vivado HLS 2019.2 / 2020.1, RF 12-72) is pixels x (kernel latency + a few
    cycles), not pixels x RF. Every conv layer of the model lands within 10% of its own row."""
    from hwgen.synth.estimate import calibrate
    from hwgen.synth.estimate.model import estimate_structure
    from hwgen.synth.estimate.project import read_project

    folder = REPO / "tests/fixtures/calibration/projects" / pid
    rows = _module_latency_rows((folder / "report/myproject_csynth.rpt").read_text())
    proj = read_project(folder)
    raw = estimate_structure(proj, calibrate._family_params("vivado_hls", "2020.1"))
    convs = [(c, e) for c, e in zip(proj.calls, raw.layers) if c.func.startswith("conv_")]
    assert len(convs) >= 2
    for call, est in convs:
        measured = rows[call.config.name]
        assert abs(est.latency - measured) <= 0.10 * measured, (call.name, est.latency, measured)
