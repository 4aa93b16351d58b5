"""Vendor report parsing against genuine reports (tests/fixtures/vendor-reports/).

Every expected number below was read off the report files by eye (the line it comes from is
quoted next to it where it helps); none was produced by the parser under test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hwgen.boards import load_board
from hwgen.cli import main as cli_main
from hwgen.errors import HwgenError
from hwgen.synth.vendor_tools.reports import find_reports, parse_report

FIX = Path(__file__).parent / "fixtures" / "vendor-reports"
C4 = FIX / "case4_Lrozzy_hls4ml-tutorial"
C6 = FIX / "case6_Liu-Zhiheng_hls4ml-pynqz2-vivado2019-2-results"
C7 = FIX / "case7_fastmachinelearning_hls4ml"
C8 = FIX / "case8_seanlipps_ECE226_CoDesign"
C9 = FIX / "case9_thaarres_dnd_hls4ml"
C10 = FIX / "case10_seanlipps_ECE226_CoDesign_vivado"

ALL_REPORTS = [
    C4 / "model_3.1_myproject_csynth.rpt",
    C4 / "model_3.1_myproject_csynth.xml",
    C6 / "vivado_hls_myproject_axi_csynth.rpt",
    C6 / "vivado_utilization_placed.rpt",
    C7 / "Vivado_myproject_csynth.rpt",
    C7 / "Vivado_myproject_csynth.xml",
    C7 / "Vivado_vivado_synth.rpt",
    C7 / "oneAPI_quartus.ndjson",
    C7 / "oneAPI_area.ndjson",
    C7 / "Altera_summary.ndjson",
    C7 / "Altera_loop_attr.ndjson",
    C8 / "model_1_csynth.rpt",
    C9 / "vivado_synth.rpt",
    C10 / "vivado_synth.rpt",
]


def test_fixtures_are_the_shared_files_with_provenance():
    shared = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "vendor-reports"
    for folder in FIX.iterdir():
        if folder.is_dir():
            src = json.loads((folder / "SOURCE.json").read_text())
            for entry in src["files"]:
                assert (folder / entry["local"]).stat().st_size == entry["bytes"], entry["local"]
    if shared.is_dir():  # the copies are verbatim
        for path in shared.rglob("*"):
            if path.is_file():
                assert (FIX / path.relative_to(shared)).read_bytes() == path.read_bytes()


# ------------------------------------------------------------------ Vitis HLS 2024.1 (case4)


def test_vitis_2024_1_csynth_rpt():
    r = parse_report(C4 / "model_3.1_myproject_csynth.rpt")
    assert (r.format, r.tool, r.tool_version, r.top) == ("csynth_rpt", "vitis_hls", "2024.1", "myproject")
    assert r.part == "xcu250-figd2104-2L-e"
    assert r.extra["build"] == "5069499"
    assert r.extra["product_family"] == "virtexuplus"
    assert r.extra["flow_target"] == "Vivado IP"
    # |ap_clk  |  5.00 ns|  3.561 ns|     1.35 ns|
    assert (r.clock_target_ns, r.clock_estimated_ns, r.clock_uncertainty_ns) == (5.0, 3.561, 1.35)
    # |        8|        8|  40.000 ns|  40.000 ns|    1|    1|      yes|
    assert (r.latency_min, r.latency_max, r.interval_min, r.interval_max) == (8, 8, 1, 1)
    assert r.extra["latency_min_ns"] == 40.0 and r.extra["latency_max_ns"] == 40.0
    assert r.pipeline_type == "yes"
    # |Total |  0|  50|  2674|  16512|  0|   (columns BRAM_18K, DSP, FF, LUT, URAM)
    assert r.resources == {"bram_18k": 0, "dsp": 50, "ff": 2674, "lut": 16512, "uram": 0}
    assert r.available == {"bram_18k": 5376, "dsp": 12288, "ff": 3456000, "lut": 1728000, "uram": 1280}
    assert r.extra["available_slr"] == {"bram_18k": 1344, "dsp": 3072, "ff": 864000, "lut": 432000, "uram": 320}
    assert r.extra["utilization_pct_reported"] == {"bram_18k": 0.0, "dsp": "~0", "ff": "~0", "lut": "~0", "uram": 0.0}
    assert r.extra["utilization_slr_pct_reported"] == {"bram_18k": 0.0, "dsp": 1.0, "ff": "~0", "lut": 3.0, "uram": 0.0}


def test_vitis_2024_1_csynth_xml():
    r = parse_report(C4 / "model_3.1_myproject_csynth.xml")
    assert (r.format, r.tool, r.tool_version, r.top) == ("csynth_xml", "vitis_hls", "2024.1", "myproject")
    assert r.part == "xcu250-figd2104-2L-e" and r.extra["product_family"] == "virtexuplus"
    assert (r.clock_target_ns, r.clock_estimated_ns, r.clock_uncertainty_ns) == (5.0, 3.561, 1.35)
    assert (r.latency_min, r.latency_max, r.interval_min, r.interval_max) == (8, 8, 1, 1)
    assert r.extra["latency_avg"] == 8
    assert r.extra["latency_min_ns"] == 40.0 and r.extra["latency_max_ns"] == 40.0
    assert r.extra["pipeline_ii"] == 1 and r.extra["pipeline_depth"] == 9
    # <TargetInitiationInterval>4294967295</...> means "not set"; <FlowTarget>vivado</FlowTarget>
    assert r.extra["target_initiation_interval"] is None
    assert r.extra["flow_target"] == "vivado"
    assert r.pipeline_type == "yes"
    assert r.resources == {"dsp": 50, "ff": 2674, "lut": 16512, "bram_18k": 0, "uram": 0}
    assert r.available == {"bram_18k": 5376, "dsp": 12288, "ff": 3456000, "lut": 1728000, "uram": 1280}
    assert "dataflow_throughput_min" not in r.extra


# ------------------------------------------------------------------ Vivado HLS 2019.2 + placed (case6)


def test_vivado_hls_2019_2_csynth_rpt():
    r = parse_report(C6 / "vivado_hls_myproject_axi_csynth.rpt")
    assert (r.format, r.tool, r.tool_version, r.top) == ("csynth_rpt", "vivado_hls", "2019.2", "myproject_axi")
    assert r.part == "xc7z020-clg400-1" and r.extra["product_family"] == "zynq"
    assert r.extra["build"] == "2704478" and r.extra["solution"] == "solution1"
    assert "flow_target" not in r.extra
    # |ap_clk  | 5.00 ns | 4.367 ns |   0.62 ns  |
    assert (r.clock_target_ns, r.clock_estimated_ns, r.clock_uncertainty_ns) == (5.0, 4.367, 0.62)
    # |       95|       95| 0.475 us | 0.475 us |   95|   95|   none  |
    assert (r.latency_min, r.latency_max, r.interval_min, r.interval_max) == (95, 95, 95, 95)
    assert r.extra["latency_min_ns"] == pytest.approx(475.0) and r.extra["latency_max_ns"] == pytest.approx(475.0)
    assert r.pipeline_type == "none"
    # |Total |  4|  9|  24483|  41606|  0|   (BRAM_18K, DSP48E, FF, LUT, URAM)
    assert r.resources == {"bram_18k": 4, "dsp": 9, "ff": 24483, "lut": 41606, "uram": 0}
    assert r.available == {"bram_18k": 280, "dsp": 220, "ff": 106400, "lut": 53200, "uram": 0}
    assert r.extra["utilization_pct_reported"] == {"bram_18k": 1.0, "dsp": 4.0, "ff": 23.0, "lut": 78.0, "uram": 0.0}


def test_vivado_2019_2_utilization_placed_7series():
    r = parse_report(C6 / "vivado_utilization_placed.rpt")
    assert (r.format, r.tool, r.tool_version) == ("vivado_utilization", "vivado", "2019.2")
    assert r.extra["build"] == "2708876"
    assert r.top == "design_1_wrapper" and r.part == "7z020clg400-1"
    assert r.design_state == "Fully Placed"
    assert r.kind == "placed"
    # Slice LUTs 20668 / 53200; Slice Registers 23097 / 106400; DSPs 9 / 220; Block RAM Tile 7 / 140
    assert r.resources == {"lut": 20668, "ff": 23097, "dsp": 9, "bram_18k": 14}
    assert r.available == {"lut": 53200, "ff": 106400, "dsp": 220, "bram_18k": 280}
    assert r.extra["bram_tiles"] == 7 and r.extra["bram_tiles_available"] == 140
    assert (r.extra["ramb36"], r.extra["ramb18"]) == (4, 6)
    assert r.extra["lut_row"] == "Slice LUTs" and r.extra["ff_row"] == "Slice Registers"
    assert r.extra["utilization_pct_reported"] == {"lut": 38.85, "ff": 21.71, "dsp": 4.09, "bram_18k": 5.0}
    assert (r.extra["lut_logic"], r.extra["lut_memory"]) == (20365, 303)
    assert (r.extra["lut_distributed_ram"], r.extra["lut_shift_register"]) == (22, 281)
    assert (r.extra["registers_flip_flop"], r.extra["registers_latch"]) == (23097, 0)
    assert (r.extra["f7_muxes"], r.extra["f8_muxes"], r.extra["slices"]) == (7, 1, 7389)
    rows = r.extra["site_rows"]
    assert rows["LUT as Memory"] == {"used": 303, "available": 17400, "util_pct": 1.74}
    assert rows["F8 Muxes"] == {"used": 1, "available": 13300, "util_pct": "<0.01"}  # approximate stays as written
    assert rows["Bonded IOPADs"] == {"used": 130, "available": 130, "util_pct": 100.0}
    assert rows["Unique Control Sets"] == {"used": 299, "available": 13300, "util_pct": 2.25}
    assert rows["RAMB36/FIFO"] == {"used": 4, "available": 140, "util_pct": 2.86}
    assert rows["RAMB18"] == {"used": 6, "available": 280, "util_pct": 2.14}
    assert r.extra["bonded_iob"] == {"used": 0, "available": 125, "util_pct": 0.0}
    p = r.extra["primitives"]
    assert (p["CARRY4"], p["DSP48E1"], p["RAMB18E1"], p["RAMB36E1"], p["FDRE"], p["PS7"]) == (4463, 9, 6, 4, 22869, 1)
    assert "uram" not in r.resources  # 7-series parts have no URAM row


# ------------------------------------------------------------------ hls4ml's own fixtures (case7)


def test_vivado_hls_2020_1_csynth_rpt():
    r = parse_report(C7 / "Vivado_myproject_csynth.rpt")
    assert (r.format, r.tool, r.tool_version, r.top) == ("csynth_rpt", "vivado_hls", "2020.1", "myproject")
    assert r.extra["build"] == "2897737"
    assert r.part == "xc7z020-clg400-1" and r.extra["product_family"] == "zynq"
    assert (r.clock_target_ns, r.clock_estimated_ns, r.clock_uncertainty_ns) == (5.0, 4.049, 0.62)
    # |       10|       10| 50.000 ns | 50.000 ns |    8|    8| dataflow |
    assert (r.latency_min, r.latency_max, r.interval_min, r.interval_max) == (10, 10, 8, 8)
    assert r.extra["latency_min_ns"] == 50.0 and r.extra["latency_max_ns"] == 50.0
    assert r.pipeline_type == "dataflow"
    assert r.resources == {"bram_18k": 0, "dsp": 73, "ff": 7969, "lut": 2532, "uram": 0}
    assert r.available == {"bram_18k": 280, "dsp": 220, "ff": 106400, "lut": 53200, "uram": 0}
    assert r.extra["utilization_pct_reported"] == {"bram_18k": 0.0, "dsp": 33.0, "ff": 7.0, "lut": 4.0, "uram": 0.0}


def test_vivado_hls_2020_1_csynth_xml():
    r = parse_report(C7 / "Vivado_myproject_csynth.xml")
    assert (r.format, r.tool, r.tool_version, r.top) == ("csynth_xml", "vivado_hls", "2020.1", "myproject")
    assert r.part == "xc7z020-clg400-1"
    assert (r.clock_target_ns, r.clock_estimated_ns, r.clock_uncertainty_ns) == (5.0, 4.049, 0.62)
    assert (r.latency_min, r.latency_max, r.interval_min, r.interval_max) == (10, 10, 8, 8)
    assert r.extra["latency_avg"] == 10
    # <DataflowPipelineThroughput>8</DataflowPipelineThroughput> (a plain number)
    assert r.extra["dataflow_throughput_min"] == 8 and r.extra["dataflow_throughput_max"] == 8
    assert r.pipeline_type == "dataflow"
    assert r.resources == {"bram_18k": 0, "dsp": 73, "ff": 7969, "lut": 2532, "uram": 0}
    assert r.available == {"bram_18k": 280, "dsp": 220, "ff": 106400, "lut": 53200, "uram": 0}
    assert "target_initiation_interval" not in r.extra and "flow_target" not in r.extra


def test_vivado_2020_1_vivado_synth_rpt_7series():
    r = parse_report(C7 / "Vivado_vivado_synth.rpt")
    assert (r.format, r.tool, r.tool_version, r.top) == ("vivado_utilization", "vivado", "2020.1", "myproject")
    assert r.extra["build"] == "2902540" and r.part == "7z020clg400-1"
    assert r.design_state == "Synthesized" and r.kind == "synthesized"
    # | Slice LUTs* | 1526 | ... | 53200 | 2.87 |  and  | DSPs | 66 | 0 | 220 | 30.00 |
    assert r.resources == {"lut": 1526, "ff": 2428, "dsp": 66, "bram_18k": 0}
    assert r.available == {"lut": 53200, "ff": 106400, "dsp": 220, "bram_18k": 280}
    assert r.extra["utilization_pct_reported"] == {"lut": 2.87, "ff": 2.28, "dsp": 30.0, "bram_18k": 0.0}
    assert (r.extra["lut_logic"], r.extra["lut_memory"], r.extra["lut_shift_register"]) == (1478, 48, 48)
    assert r.extra["site_rows"]["LUT as Logic"]["util_pct"] == 2.78
    assert r.extra["site_rows"]["LUT as Memory"] == {"used": 48, "available": 17400, "util_pct": 0.28}
    # percentages over 100 % are kept: | Bonded IOB | 384 | 0 | 125 | 307.20 |
    assert r.extra["bonded_iob"] == {"used": 384, "available": 125, "util_pct": 307.2}
    assert (r.extra["ramb36"], r.extra["ramb18"], r.extra["bram_tiles"]) == (0, 0, 0)
    assert r.extra["primitives"]["CARRY4"] == 295 and r.extra["primitives"]["DSP48E1"] == 66


def test_oneapi_quartus_ndjson():
    r = parse_report(C7 / "oneAPI_quartus.ndjson")
    assert (r.format, r.tool) == ("oneapi_quartus_ndjson", "oneapi")
    assert r.kind == "placed" and r.design_state == "Fitted"
    # kernel node "Myproject": alm 4520.0, alut 4181, reg 16419, dsp 40, ram 36, mlab 52
    assert r.resources == {"alut": 4181, "ff": 16419, "ram": 36, "dsp": 40, "mlab": 52}
    assert r.extra["alm"] == 4520.0
    assert r.extra["fmax_mhz"] == 597.73
    image = r.extra["quartus_fit"]["nodes"]["Quartus Fitter: Device Image"]
    assert (image["alm"], image["alut"], image["reg"], image["dsp"], image["ram"], image["mlab"]) == (
        "4520.5", "4182", "16419", "40", "36", "52")


def test_oneapi_area_ndjson():
    r = parse_report(C7 / "oneAPI_area.ndjson")
    assert (r.format, r.tool, r.kind) == ("oneapi_area_ndjson", "oneapi", "parsed")
    # "total":[2462, 7938, 77, 0, 92, 80]  "max_resources":[974400, 1948800, 7110, 4510, 48720]
    assert r.resources == {"alut": 2462, "ff": 7938, "ram": 77, "dsp": 0, "mlab": 92}
    assert r.available == {"alut": 974400, "ff": 1948800, "ram": 7110, "dsp": 4510, "mlab": 48720}
    est = r.extra["hls_estimate"]
    assert est["other"]["total"] == {"Frac. DSPs": 80}
    assert est["total_percent"] == [0.819805443, 0.441502452, 0.407327592, 1.08298171, 0]


def test_altera_summary_ndjson():
    r = parse_report(C7 / "Altera_summary.ndjson")
    assert (r.format, r.tool, r.kind) == ("oneapi_summary_ndjson", "oneapi", "parsed")
    # {"name":"Total", ... "data":[2462, 7938, 77, 0, 92, 80]}
    assert r.resources == {"alut": 2462, "ff": 7938, "ram": 77, "dsp": 0, "mlab": 92}
    # {"name":"Available", ... "data":["974400", "1948800", "7110", "4510", "24360", "0"]}
    assert r.available == {"alut": 974400, "ff": 1948800, "ram": 7110, "dsp": 4510, "mlab": 24360}
    est = r.extra["hls_estimate"]
    assert est["other"] == {"total": {"Frac. DSPs": 80}, "available": {"Frac. DSPs": 0}}
    assert est["data_percent"] == [0.252668321, 0.407327592, 1.08298171, 0]
    assert est["dsp_packing_factor"] == 2
    rows = est["rows"]
    assert rows["relu_config3>()"] == {"alut": 168, "ff": 162, "ram": 4, "dsp": 0, "mlab": 4, "_other": {"Frac. DSPs": 0}}
    assert rows["bias_t)"] == {"alut": 2134, "ff": 4436, "ram": 71, "dsp": 0, "mlab": 87, "_other": {"Frac. DSPs": 80}}
    assert rows["Myproject"] == {"alut": 95, "ff": 82, "ram": 2, "dsp": 0, "mlab": 1, "_other": {"Frac. DSPs": 0}}
    assert rows["Kernel Subtotal"]["alut"] == 2397 and rows["Pipe resources"]["ff"] == 3258


def test_altera_loop_attr_ndjson():
    r = parse_report(C7 / "Altera_loop_attr.ndjson")
    assert r.format == "oneapi_loop_attr_ndjson"
    assert r.resources == {} and r.latency_max is None  # per-loop data only
    assert r.extra["kernels"] == ["Myproject", "relu_config3>()", "bias_t)"]
    assert r.extra["loop_fmax_mhz_min"] == 480.0
    assert r.extra["loop_ii_max"] == 1
    assert r.extra["loop_latency_max"] == 200.0
    lts = {l["name"]: (l["ii"], l["lt"]) for l in r.extra["loops"]}
    assert lts == {
        "Myproject.B0": ("1", "17.000000"), "Myproject.B1": ("1", "176.000000"),
        "relu_config3>().B0": ("1", "17.000000"), "relu_config3>().B1": ("1", "159.000000"),
        "bias_t).B0": ("1", "17.000000"), "bias_t).B1": ("1", "200.000000"),
    }


def test_oneapi_project_folder_combines_fit_estimate_and_loops(tmp_path):
    json_dir = tmp_path / "myproject.fpga.prj" / "reports" / "resources" / "json"
    json_dir.mkdir(parents=True)
    shutil.copy(C7 / "oneAPI_quartus.ndjson", json_dir / "quartus.ndjson")
    shutil.copy(C7 / "Altera_summary.ndjson", json_dir / "summary.ndjson")
    shutil.copy(C7 / "Altera_loop_attr.ndjson", json_dir / "loop_attr.ndjson")
    r = parse_report(tmp_path)
    assert r.format == "oneapi_project" and r.kind == "placed"
    assert r.resources == {"alut": 4181, "ff": 16419, "ram": 36, "dsp": 40, "mlab": 52}  # post-fit
    assert r.extra["hls_estimate_resources"] == {"alut": 2462, "ff": 7938, "ram": 77, "dsp": 0, "mlab": 92}
    assert r.available["mlab"] == 24360
    assert r.extra["fmax_mhz"] == 597.73 and r.extra["loop_fmax_mhz_min"] == 480.0
    sr = r.to_synth_result()
    assert sr.fmax_mhz == 597.73 and sr.kind == "placed" and sr.resources["alut"] == 4181


# ------------------------------------------------------------------ Vitis Synthesis Summary (case8)


def test_vitis_2024_1_synthesis_summary_rpt():
    r = parse_report(C8 / "model_1_csynth.rpt")
    assert (r.format, r.tool, r.tool_version, r.top) == ("synthesis_summary_rpt", "vitis_hls", "2024.1", "myproject")
    assert r.part == "xcu250-figd2104-2L-e" and r.extra["product_family"] == "virtexuplus"
    assert r.extra["build"] == "5069499" and r.extra["flow_target"] == "Vivado IP"
    # |+ myproject* | - | 0.12| 395| 1.975e+03| - | 390| - | dataflow| 29 (~0%)| 467 (3%)| 7123 (~0%)| 17966 (1%)| -|
    assert r.latency_max == 395 and r.latency_min is None
    assert r.interval_max == 390 and r.interval_min is None
    assert r.extra["latency_max_ns"] == 1975.0
    assert r.extra["slack_ns"] == 0.12
    assert r.pipeline_type == "dataflow" and r.extra["dataflow"] is True
    assert r.resources == {"bram_18k": 29, "dsp": 467, "ff": 7123, "lut": 17966, "uram": 0}
    assert r.extra["utilization_pct_reported"] == {"bram_18k": "~0", "dsp": 3.0, "ff": "~0", "lut": 1.0}
    assert r.clock_target_ns is None and r.available == {}  # this format states neither


# ------------------------------------------------------------------ UltraScale+ utilization (case9, case10)


def test_vivado_2020_1_ultrascale_fractional_bram():
    r = parse_report(C9 / "vivado_synth.rpt")
    assert (r.tool, r.tool_version, r.top, r.part) == ("vivado", "2020.1", "myproject", "xczu9egffvb1156-2")
    assert r.extra["build"] == "2902540" and r.design_state == "Synthesized"
    # | Block RAM Tile | 0.5 | 0 | 912 | 0.05 |  -> bram_18k = 2 * 0.5
    assert r.extra["bram_tiles"] == 0.5 and r.extra["bram_tiles_available"] == 912
    assert r.resources == {"lut": 31277, "ff": 4555, "dsp": 0, "bram_18k": 1}
    assert r.available == {"lut": 274080, "ff": 548160, "dsp": 2520, "bram_18k": 1824}
    assert r.extra["lut_row"] == "CLB LUTs" and r.extra["ff_row"] == "CLB Registers"
    assert r.extra["utilization_pct_reported"] == {"lut": 11.41, "ff": 0.83, "dsp": 0.0, "bram_18k": 0.05}
    assert (r.extra["ramb36"], r.extra["ramb18"]) == (0, 1)
    assert r.extra["site_rows"]["CARRY8"] == {"used": 3849, "available": 34260, "util_pct": 11.23}
    assert r.extra["site_rows"]["LUT as Memory"] == {"used": 0, "available": 144000, "util_pct": 0.0}
    assert r.extra["bonded_iob"] == {"used": 1626, "available": 328, "util_pct": 495.73}
    assert r.extra["primitives"]["RAMB18E2"] == 1 and r.extra["primitives"]["LUT3"] == 16663


def test_vivado_2024_1_ultrascale_with_prohibited_column():
    r = parse_report(C10 / "vivado_synth.rpt")
    assert (r.tool, r.tool_version, r.top, r.part) == ("vivado", "2024.1", "myproject", "xcu250-figd2104-2L-e")
    assert r.extra["build"] == "5076996" and r.design_state == "Optimized" and r.kind == "synthesized"
    assert r.resources == {"lut": 8565, "ff": 4864, "dsp": 467, "uram": 0, "bram_18k": 24}
    assert r.available == {"lut": 1728000, "ff": 3456000, "dsp": 12288, "uram": 1280, "bram_18k": 5376}
    assert r.extra["bram_tiles"] == 12 and (r.extra["ramb36"], r.extra["ramb18"]) == (10, 4)
    assert r.extra["utilization_pct_reported"] == {"lut": 0.5, "ff": 0.14, "dsp": 3.8, "uram": 0.0, "bram_18k": 0.45}
    assert r.extra["carry8"] == 790 and r.extra["site_rows"]["CARRY8"]["available"] == 216000
    assert r.extra["site_rows"]["LUT as Memory"] == {"used": 0, "available": 791040, "util_pct": 0.0}
    assert r.extra["bonded_iob"] == {"used": 250, "available": 676, "util_pct": 36.98}
    # the same design's HLS estimate (case8) and Vivado netlist agree on DSPs
    assert r.resources["dsp"] == parse_report(C8 / "model_1_csynth.rpt").resources["dsp"] == 467


# ------------------------------------------------------------------ SynthResult conversion


def test_to_synth_result_hls_estimate_with_board():
    r = parse_report(C4 / "model_3.1_myproject_csynth.rpt")
    board = load_board("alveo-u250")
    sr = r.to_synth_result(board)
    assert sr.source == "vendor:vitis_hls-2024.1" and sr.kind == "parsed" and sr.tool == "vitis_hls"
    assert sr.board == "alveo-u250" and sr.part == board.part
    assert sr.resources == {"bram_18k": 0, "dsp": 50, "ff": 2674, "lut": 16512, "uram": 0}
    assert sr.utilization_pct["lut"] == pytest.approx(100 * 16512 / 1728000)
    assert sr.utilization_pct["dsp"] == pytest.approx(100 * 50 / 12288)
    assert sr.fits is True
    assert (sr.latency_cycles_min, sr.latency_cycles_max, sr.ii_min, sr.ii_max) == (8, 8, 1, 1)
    assert sr.clock_mhz == pytest.approx(200.0)
    assert sr.fmax_mhz == pytest.approx(1000 / 3.561)
    assert sr.latency_ns == pytest.approx(8 * 3.561)
    assert sr.details["clock_uncertainty_ns"] == 1.35 and sr.details["report_part"] == "xcu250-figd2104-2L-e"
    assert not any("differs" in n for n in sr.notes)


def test_to_synth_result_vivado_utilization_on_pynq():
    r = parse_report(C6 / "vivado_utilization_placed.rpt")
    sr = r.to_synth_result(load_board("pynq-z2"))
    assert sr.source == "vendor:vivado-2019.2" and sr.kind == "placed"
    assert sr.resources == {"lut": 20668, "ff": 23097, "dsp": 9, "bram_18k": 14}
    assert sr.utilization_pct["bram_18k"] == pytest.approx(5.0)  # = the report's Block RAM Tile 5.00 %
    assert sr.utilization_pct["lut"] == pytest.approx(100 * 20668 / 53200)
    assert sr.latency_ns is None and sr.fmax_mhz is None
    assert not any("differs" in n for n in sr.notes)  # 7z020clg400-1 is the board's xc7z020clg400-1


def test_to_synth_result_notes_part_mismatch_and_overflow():
    r = parse_report(C6 / "vivado_hls_myproject_axi_csynth.rpt")  # 41606 LUTs on a Zynq-7020
    sr = r.to_synth_result(load_board("arty-a7-100t"))
    assert any("differs" in n for n in sr.notes)
    assert sr.fits is True
    big = parse_report(C10 / "vivado_synth.rpt").to_synth_result(load_board("pynq-z2"))
    assert big.fits is False and big.utilization_pct["dsp"] == pytest.approx(100 * 467 / 220)


def test_synthesis_summary_latency_ns_without_clock():
    sr = parse_report(C8 / "model_1_csynth.rpt").to_synth_result()
    assert sr.clock_mhz is None and sr.latency_cycles_max == 395
    assert sr.latency_ns == 1975.0  # the absolute latency the report states


# ------------------------------------------------------------------ directories


def _hls_project(tmp_path: Path, with_tcl: bool = True) -> Path:
    hls = tmp_path / "hls"
    rep = hls / "myproject_prj" / "solution1" / "syn" / "report"
    rep.mkdir(parents=True)
    if with_tcl:
        (hls / "project.tcl").write_text('variable project_name\nset project_name "myproject"\n')
    shutil.copy(C4 / "model_3.1_myproject_csynth.rpt", rep / "myproject_csynth.rpt")
    shutil.copy(C4 / "model_3.1_myproject_csynth.xml", rep / "myproject_csynth.xml")
    # a sub-module report next to the top's, as Vitis writes them
    shutil.copy(C7 / "Vivado_myproject_csynth.xml", rep / "dense_latency_config3_s_csynth.xml")
    shutil.copy(C7 / "Vivado_vivado_synth.rpt", hls / "vivado_synth.rpt")
    return hls


def test_directory_picks_the_top_report(tmp_path):
    hls = _hls_project(tmp_path)
    for where in (hls, hls / "myproject_prj", hls / "myproject_prj" / "solution1", tmp_path):
        r = parse_report(where)
        assert r.format == "csynth_xml" and r.tool == "vitis_hls" and r.resources["lut"] == 16512
    found = find_reports(hls)
    assert found["hls"].name == "myproject_csynth.xml"
    assert found["utilization"].name == "vivado_synth.rpt"


def test_directory_without_top_hint_is_ambiguous(tmp_path):
    hls = _hls_project(tmp_path, with_tcl=False)
    with pytest.raises(HwgenError, match="several C-synthesis reports"):
        parse_report(hls)


def test_directory_with_only_a_utilization_report(tmp_path):
    shutil.copy(C9 / "vivado_synth.rpt", tmp_path / "vivado_synth.rpt")
    assert parse_report(tmp_path).format == "vivado_utilization"


def test_empty_directory(tmp_path):
    with pytest.raises(HwgenError, match="no vendor report found"):
        parse_report(tmp_path)


# ------------------------------------------------------------------ robustness


@pytest.mark.parametrize("report", ALL_REPORTS, ids=lambda p: f"{p.parent.name[:6]}/{p.name}")
@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75, 0.97])
def test_truncated_copy_is_refused(tmp_path, report, fraction):
    data = report.read_bytes()
    cut = tmp_path / report.name
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(HwgenError) as exc:
        parse_report(cut)
    assert str(cut) in str(exc.value)


@pytest.mark.parametrize(
    "report, marker",
    [
        (C4 / "model_3.1_myproject_csynth.rpt", "|Total  "),
        (C6 / "vivado_hls_myproject_axi_csynth.rpt", "== Utilization Estimates"),
        (C7 / "Vivado_myproject_csynth.rpt", "== Interface"),
        (C6 / "vivado_utilization_placed.rpt", "4. DSP"),
        (C7 / "Vivado_vivado_synth.rpt", "3. DSP"),
        (C9 / "vivado_synth.rpt", "9. Black Boxes"),
        (C8 / "model_1_csynth.rpt", "    |+ myproject*"),
        (C7 / "Altera_summary.ndjson", '{"name":"Total"'),
        (C7 / "Altera_loop_attr.ndjson", '{"name":"bias_t)", "id":2'),
    ],
)
def test_cut_at_a_line_boundary_before_needed_data_is_refused(tmp_path, report, marker):
    text = report.read_text()
    cut = tmp_path / report.name
    cut.write_text(text[: text.index(marker)])
    with pytest.raises(HwgenError) as exc:
        parse_report(cut)
    assert str(cut) in str(exc.value)


def test_foreign_empty_and_binary_files(tmp_path):
    foreign = tmp_path / "notes_csynth.rpt"
    foreign.write_text("Meeting notes\n| a | b |\nnothing here is a synthesis report\n")
    empty = tmp_path / "empty.rpt"
    empty.write_text("")
    binary = tmp_path / "blob.rpt"
    binary.write_bytes(bytes(range(256)) * 4)
    other_xml = tmp_path / "other.xml"
    other_xml.write_text("<project><name>x</name></project>")
    other_json = tmp_path / "other.ndjson"
    other_json.write_text('{"hello": 1}\n')
    for path, why in ((foreign, "not a recognised"), (empty, "empty"), (binary, "binary"),
                      (other_xml, "<profile>"), (other_json, "not a oneAPI report")):
        with pytest.raises(HwgenError) as exc:
            parse_report(path)
        assert str(path) in str(exc.value) and why in str(exc.value)
    with pytest.raises(HwgenError, match="no such file"):
        parse_report(tmp_path / "missing.rpt")


def test_xml_with_entities_is_refused(tmp_path):
    text = (C7 / "Vivado_myproject_csynth.xml").read_text()
    evil = tmp_path / "evil_csynth.xml"
    evil.write_text('<!DOCTYPE profile [<!ENTITY a "aaaa">]>\n' + text)
    with pytest.raises(HwgenError, match="DOCTYPE"):
        parse_report(evil)


def test_missing_table_is_an_error_not_zero(tmp_path):
    """A report whose utilization table lost its Total row must not read as 0 resources."""
    text = (C7 / "Vivado_myproject_csynth.rpt").read_text()
    lines = [l for l in text.splitlines(keepends=True) if not l.startswith("|Total            |")]
    bad = tmp_path / "myproject_csynth.rpt"
    bad.write_text("".join(lines))
    with pytest.raises(HwgenError, match="no 'Total' row"):
        parse_report(bad)
    xml = (C7 / "Vivado_myproject_csynth.xml").read_text().replace("<LUT>2532</LUT>", "")
    badx = tmp_path / "myproject_csynth.xml"
    badx.write_text(xml)
    with pytest.raises(HwgenError, match="lacks LUT/FF"):
        parse_report(badx)


# ------------------------------------------------------------------ formats known only from their documented structure


def test_xml_dataflow_throughput_range_structure(tmp_path):
    """Not a stored fixture: the genuine case7 csynth.xml with its DataflowPipelineThroughput
    element rewritten into the <range><min>/<max> form seen in public Vivado HLS 2019.2 csynth.xml
    files (e.g. YanLunHuang/LFADS, values 5404/5477)."""
    text = (C7 / "Vivado_myproject_csynth.xml").read_text()
    old = "<DataflowPipelineThroughput>8</DataflowPipelineThroughput>"
    assert old in text
    xml = tmp_path / "myproject_csynth.xml"
    xml.write_text(text.replace(old, "<DataflowPipelineThroughput>\n<range>\n<min>5404</min>\n<max>5477</max>\n"
                                     "</range>\n</DataflowPipelineThroughput>"))
    r = parse_report(xml)
    assert r.extra["dataflow_throughput_min"] == 5404 and r.extra["dataflow_throughput_max"] == 5477
    assert (r.interval_min, r.interval_max) == (8, 8)


def test_old_timing_table_with_bare_numbers(tmp_path):
    """Not a stored fixture: case7's report with its timing table in the pre-2019.2 layout
    ('+ Timing (ns):', bare numbers), as printed by Vivado HLS 2019.1 in public reports."""
    text = (C7 / "Vivado_myproject_csynth.rpt").read_text()
    old_row = "|ap_clk  | 5.00 ns | 4.049 ns |   0.62 ns  |"
    assert old_row in text and "+ Timing: " in text
    rpt = tmp_path / "myproject_csynth.rpt"
    rpt.write_text(text.replace("+ Timing: ", "+ Timing (ns): ").replace(old_row, "|ap_clk  |     5.00|    4.049|      0.62 |"))
    r = parse_report(rpt)
    assert (r.clock_target_ns, r.clock_estimated_ns, r.clock_uncertainty_ns) == (5.0, 4.049, 0.62)


def test_intel_hls_older_json_structure(tmp_path):
    """Not a genuine fixture (none was available): files built from the documented structure
    of the Intel HLS compiler (i++) reports that hls4ml's Quartus reader consumes -
    areaJSON.total = [ALUTs, FFs, RAMs, DSPs, MLABs], quartusJSON.quartusFit*.nodes,
    verifJSON.functions[0].data = [invocations, 'min,max,avg', 'min,max,avg']."""
    lib = tmp_path / "myproject-fpga.prj" / "reports" / "lib"
    lib.mkdir(parents=True)
    (lib / "report_data.js").write_text(
        'var areaJSON={"columns":["", "ALUTs", "FFs", "RAMs", "DSPs", "MLABs"], "total":[1200, 3400, 12, 8, 5],'
        ' "total_percent":[1.1, 1.6, 0.5, 0.3, 0.2], "max_resources":[427200, 854400, 2713, 1518, 21360]};\n'
        'var fileJSON=[{"path":"x"}];\n'
    )
    (lib / "quartus_data.js").write_text(
        'var quartusJSON={"quartusFitClockSummary":{"nodes":[{"name":"Quartus Fitter: Clock Frequency (MHz)",'
        '"clock":"312.5"}]},"quartusFitResourceUsageSummary":{"nodes":[{"name":"myproject","alm":"900.5",'
        '"alut":"1100","reg":"3300","dsp":"8","ram":"10","mlab":"4"}]}};\n'
    )
    (lib / "verification_data.js").write_text(
        'var verifJSON={"functions":[{"name":"myproject","data":["100", "14,15,14.5", "1,1,1"]}]};\n'
    )
    r = parse_report(tmp_path)
    assert (r.format, r.tool, r.kind) == ("intel_hls_json", "intel_hls", "placed")
    assert r.resources == {"alut": 1100, "ff": 3300, "ram": 10, "dsp": 8, "mlab": 4}
    assert r.extra["hls_estimate_resources"] == {"alut": 1200, "ff": 3400, "ram": 12, "dsp": 8, "mlab": 5}
    assert r.available == {"alut": 427200, "ff": 854400, "ram": 2713, "dsp": 1518, "mlab": 21360}
    assert r.extra["fmax_mhz"] == 312.5 and r.extra["alm"] == 900.5
    assert (r.latency_min, r.latency_max, r.interval_min, r.interval_max) == (14, 15, 1, 1)
    single = lib / "area.json"
    single.write_text('{"columns":["", "ALUTs", "FFs", "RAMs", "DSPs", "MLABs"], "total":[1, 2, 3, 4, 5]}')
    assert parse_report(single).resources == {"alut": 1, "ff": 2, "ram": 3, "dsp": 4, "mlab": 5}
    (tmp_path / "bad.js").write_text("var x = function() { return 1; };\n")
    with pytest.raises(HwgenError, match="bad.js"):
        parse_report(tmp_path / "bad.js")


# ------------------------------------------------------------------ CLI


def test_cli_parse_report_text(capsys):
    rc = cli_main(["parse-report", str(C7 / "Vivado_myproject_csynth.rpt")])
    out = capsys.readouterr().out
    assert rc == 0
    lines = dict(l.split(":", 1) for l in out.splitlines())
    assert lines["tool"].strip() == "vivado_hls" and lines["tool_version"].strip() == "2020.1"
    assert lines["latency_max"].strip() == "10" and lines["interval_max"].strip() == "8"
    assert lines["resource.dsp"].strip() == "73 / 220"
    assert lines["resource.lut"].strip() == "2532 / 53200"
    # aligned: every value starts in the same column
    cols = {len(l) - len(l.split(":", 1)[1].lstrip()) for l in out.splitlines()}
    assert len(cols) == 1


def test_cli_parse_report_json(capsys):
    rc = cli_main(["parse-report", "--json", str(C9 / "vivado_synth.rpt")])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert data["resources"] == {"lut": 31277, "ff": 4555, "dsp": 0, "bram_18k": 1}
    assert data["extra"]["bram_tiles"] == 0.5 and data["design_state"] == "Synthesized"


def test_cli_parse_report_error_is_one_line(tmp_path, capsys):
    bad = tmp_path / "x.rpt"
    bad.write_text("hello\n")
    rc = cli_main(["parse-report", str(bad)])
    err = capsys.readouterr().err
    assert rc == 2 and str(bad) in err and len(err.strip().splitlines()) == 1
