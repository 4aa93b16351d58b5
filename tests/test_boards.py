"""Board registry: every file loads, required boards exist, bad files and names are clear errors,
capacities agree with what the vendor tools themselves report for the same parts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hwgen import boards as boards_mod
from hwgen.boards import CAPACITY_KEYS, list_boards, load_board
from hwgen.errors import HwgenError
from hwgen.results import SynthResult

FIX = Path(__file__).parent / "fixtures" / "vendor-reports"

REQUIRED = {
    "pynq-z2": "xc7z020clg400-1",
    "arty-a7-100t": "xc7a100tcsg324-1",
    "zcu102": "xczu9eg-ffvb1156-2-e",
    "zcu104": "xczu7ev-ffvc1156-2-e",
    "kv260": "xck26-sfvc784-2LV-c",
    "alveo-u250": "xcu250-figd2104-2L-e",
    "alveo-u55c": "xcu55c-fsvh2892-2L-e",
    "vu9p": "xcvu9p-flga2104-2L-e",
    "vu13p": "xcvu13p-flga2577-2-e",
    "ulx3s-85f": "LFE5U-85F-6BG381C",
    "icebreaker-up5k": "iCE40UP5K-SG48",
}


def test_every_board_file_loads():
    found = list_boards()
    files = sorted(boards_mod.boards_dir().glob("*.yaml"))
    assert len(found) == len(files) >= len(REQUIRED)
    for board, path in zip(found, files):
        assert board.name == path.stem, f"{path}: name field must equal the file name"
        assert board.clock_mhz > 0 and board.source, board.name
        assert set(board.capacity) <= set(CAPACITY_KEYS)
    assert len({b.part for b in found}) == len(found)


def test_required_boards_present_with_their_parts():
    for name, part in REQUIRED.items():
        board = load_board(name)
        assert board.part == part
        assert load_board(part).name == name  # lookup by exact part string too


def test_xilinx_capacities_are_consistent():
    for b in list_boards():
        if b.vendor != "xilinx":
            continue
        cap = b.capacity
        assert cap["ff"] == 2 * cap["lut"], b.name  # 8 FFs per 4 LUTs (7-series) / 16 per 8 (UltraScale)
        assert cap["bram_18k"] == 2 * cap["bram_36k"], b.name


# Capacities the vendor tools print for these exact parts in genuine reports (read by eye).
@pytest.mark.parametrize(
    "board, report, expected",
    [
        # Vivado HLS 2019.2 / 2020.1 "|Available | 280| 220| 106400| 53200| 0|" for xc7z020-clg400-1
        ("pynq-z2", "case6_Liu-Zhiheng_hls4ml-pynqz2-vivado2019-2-results/vivado_hls_myproject_axi_csynth.rpt",
         {"bram_18k": 280, "dsp": 220, "ff": 106400, "lut": 53200}),
        ("pynq-z2", "case7_fastmachinelearning_hls4ml/Vivado_myproject_csynth.xml",
         {"bram_18k": 280, "dsp": 220, "ff": 106400, "lut": 53200}),
        # Vitis HLS 2024.1 "|Available | 5376| 12288| 3456000| 1728000| 1280|" for xcu250-figd2104-2L-e
        ("alveo-u250", "case4_Lrozzy_hls4ml-tutorial/model_3.1_myproject_csynth.rpt",
         {"bram_18k": 5376, "dsp": 12288, "ff": 3456000, "lut": 1728000, "uram": 1280}),
        # Vivado 2024.1 utilization for xcu250: Block RAM Tile 2688 (x2), URAM 1280
        ("alveo-u250", "case10_seanlipps_ECE226_CoDesign_vivado/vivado_synth.rpt",
         {"bram_18k": 5376, "dsp": 12288, "ff": 3456000, "lut": 1728000, "uram": 1280}),
        # Vivado 2020.1 utilization for xczu9eg: CLB LUTs 274080, Registers 548160, tiles 912, DSPs 2520
        ("zcu102", "case9_thaarres_dnd_hls4ml/vivado_synth.rpt",
         {"bram_18k": 1824, "dsp": 2520, "ff": 548160, "lut": 274080}),
    ],
)
def test_capacities_match_vendor_tool_reports(board, report, expected):
    from hwgen.synth.vendor_tools.reports import parse_report

    cap = load_board(board).capacity
    assert {k: cap[k] for k in expected} == expected
    assert {k: v for k, v in parse_report(FIX / report).available.items() if k in expected} == expected


def test_unknown_board_name_lists_known_ones():
    with pytest.raises(HwgenError) as exc:
        load_board("pynq-z3")
    assert "unknown board 'pynq-z3'" in str(exc.value) and "pynq-z2" in str(exc.value)


GOOD = {
    "name": "tiny", "vendor": "xilinx", "family": "artix7", "part": "xc7a12tcsg325-1", "clock_mhz": 100,
    "capacity": {"lut": 8000, "ff": 16000, "dsp": 40, "bram_18k": 40},
}


@pytest.mark.parametrize(
    "text, message",
    [
        ("name: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        (yaml.safe_dump({k: v for k, v in GOOD.items() if k != "part"}), "missing required key 'part'"),
        (yaml.safe_dump({**GOOD, "colour": "red"}), "unknown key"),
        (yaml.safe_dump({**GOOD, "vendor": "acme"}), "vendor must be one of"),
        (yaml.safe_dump({**GOOD, "clock_mhz": 0}), "clock_mhz must be a positive number"),
        (yaml.safe_dump({**GOOD, "capacity": {"lut": -5}}), "non-negative integer"),
        (yaml.safe_dump({**GOOD, "capacity": {"lut": 1.5}}), "non-negative integer"),
        (yaml.safe_dump({**GOOD, "capacity": {"luts": 100}}), "capacity key 'luts' unknown"),
        (yaml.safe_dump({**GOOD, "capacity": {}}), "'capacity' must be a mapping"),
        ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ],
)
def test_malformed_board_file_is_a_clear_error(tmp_path, monkeypatch, text, message):
    (tmp_path / "tiny.yaml").write_text(text)
    monkeypatch.setattr(boards_mod, "boards_dir", lambda: tmp_path)
    with pytest.raises(HwgenError) as exc:
        load_board("tiny")
    assert message in str(exc.value) and "tiny.yaml" in str(exc.value)


def test_good_board_file_in_a_custom_registry(tmp_path, monkeypatch):
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(GOOD))
    monkeypatch.setattr(boards_mod, "boards_dir", lambda: tmp_path)
    b = load_board("tiny")
    assert b.clock_mhz == 100.0 and b.clock_period_ns == 10.0
    assert json.loads(json.dumps(b.to_dict()))["capacity"]["lut"] == 8000


def test_utilization_percent_and_fits():
    b = load_board("pynq-z2")
    util = b.utilization({"lut": 26600, "dsp": 231, "uram": 3, "alut": 5, "ff": None})
    # uram: the part has none (capacity 0) -> not a percentage; alut: not a Xilinx resource
    assert util == {"lut": 50.0, "dsp": 105.0}
    ok = SynthResult(source="t", kind="estimate", tool="t", tool_version="", board="", part="",
                     resources={"lut": 53200, "ff": 1000, "bram_18k": 280})
    r = ok.with_board(b)
    assert r.fits is True and r.utilization_pct == {"lut": 100.0, "ff": pytest.approx(100 * 1000 / 106400), "bram_18k": 100.0}
    assert r.board == "pynq-z2" and r.part == "xc7z020clg400-1"
    over = SynthResult(source="t", kind="estimate", tool="t", tool_version="", board="", part="",
                       resources={"lut": 53201})
    assert over.with_board(b).fits is False
    none = SynthResult(source="t", kind="estimate", tool="t", tool_version="", board="", part="",
                       resources={"lut4": 10})
    assert none.with_board(b).fits is None  # nothing comparable on this part
    lattice = load_board("ulx3s-85f").utilization({"lut4": 8364, "ebr": 52, "mult18": 156})
    assert lattice == {"lut4": 10.0, "ebr": 25.0, "mult18": 100.0}
