"""Listing commands, and that the YAML assets travel inside the wheel."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

from conftest import REPO, run_cli


def test_models_and_boards_listing(capsys):
    assert run_cli("models") == 0
    out = capsys.readouterr().out
    for name in ("digits_mlp", "digits_cnn", "jet_mlp"):
        assert name in out
    assert "16->64->32->32->5" in out
    assert run_cli("boards", "--json") == 0
    boards = {b["name"]: b for b in json.loads(capsys.readouterr().out)}
    assert boards["pynq-z2"]["part"] == "xc7z020clg400-1"
    assert boards["alveo-u250"]["part"] == "xcu250-figd2104-2L-e"
    assert boards["vu9p"]["part"] == "xcvu9p-flga2104-2L-e"


def test_no_command_prints_help_and_exits_2(capsys):
    assert run_cli() == 2
    assert "flow" in capsys.readouterr().out


def test_wheel_ships_zoo_boards_and_sim_sources(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("hwgen-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for model in ("digits_mlp", "digits_cnn", "jet_mlp"):
        assert f"hwgen/zoo/{model}.yaml" in names
    assert "hwgen/boardspecs/pynq-z2.yaml" in names and "hwgen/boardspecs/ulx3s-85f.yaml" in names
    assert any(n.startswith("hwgen/simsrc/") for n in names)
    assert "hwgen/cli.py" in names
    for module in ("commands/flow.py", "pipeline/runner.py", "compress/structured.py", "synth/sources.py", "synth/vendor_tools/reports/__init__.py",
                   "synth/vendor_tools/templates/build_opt.tcl", "synth/open/open_flow.py", "synth/estimate/__init__.py",
                   "synth/estimate/calibration.yaml", "report/templates/report.html.j2", "report/templates/report.css",
                   "sweep/__init__.py", "api.py"):
        assert f"hwgen/{module}" in names, module
