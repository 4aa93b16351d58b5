"""The vendor HLS flow (hwgen.synth.vendor_tools.flow) without the vendor tools.

Vitis/Vivado HLS cannot be installed here, so these tests check the orchestration honestly:
the missing-tool path runs for real, and a tiny fake `vitis_hls` script on PATH stands in for
the tool. The fake checks nothing about HLS; it records how it was called and copies one of the
genuine fixture reports to where the real tool writes its report. What is under test is the
argv (no shell), the working directory (a copy of the HLS project, which itself stays as
converted), the logs, the time limit, the error handling and the reading of what the tool
leaves - not the report parser (tests/test_vendor_reports.py does that).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import time
from pathlib import Path

import pytest

from hwgen import tools
from hwgen.boards import load_board
from hwgen.convert import project_digest
from hwgen.errors import HwgenError, ToolMissing
from hwgen.results import read_synth_results
from hwgen.synth.vendor_tools import flow
from hwgen.synth.vendor_tools.flow import build_options, run_vendor_synth, vendor_tool

FIX = Path(__file__).parent / "fixtures" / "vendor-reports"
C4 = FIX / "case4_Lrozzy_hls4ml-tutorial"
C10 = FIX / "case10_seanlipps_ECE226_CoDesign_vivado"


@pytest.fixture
def clean_path(tmp_path, monkeypatch):
    """A PATH holding only a private bin folder (plus the basics a shell script needs)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]))
    monkeypatch.setattr(tools, "_CACHE", {})
    monkeypatch.setattr(tools, "_bin_dirs", lambda: [])
    return bin_dir


def _run_dir(tmp_path: Path, vitis_style: bool = False) -> Path:
    run = tmp_path / "run"
    hls = run / "hls"
    hls.mkdir(parents=True)
    (hls / "project.tcl").write_text('variable project_name\nset project_name "myproject"\nset backend "vitis"\n')
    (hls / "build_prj.tcl").write_text("# hls4ml build script (not run by the fake tool)\n")
    if vitis_style:
        (hls / "build_opt.tcl").write_text("array set opt {\n    csim 1\n}\n")
    (run / "run.json").write_text(json.dumps({"board": "alveo-u250"}))
    return run


def _fake_tool(bin_dir: Path, tmp_path: Path, body: str, name: str = "vitis_hls") -> Path:
    calls = tmp_path / "calls.txt"
    script = bin_dir / name
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-version" ]; then echo "Vitis HLS - High-Level Synthesis v2024.1 (64-bit)"; exit 0; fi\n'
        f"pwd > {shlex.quote(str(tmp_path / 'cwd.txt'))}\n"
        f'for a in "$@"; do printf "%s\\n" "$a"; done > {shlex.quote(str(calls))}\n' + body
    )
    script.chmod(0o755)
    return calls


COPY_REPORT = (
    "mkdir -p myproject_prj/solution1/syn/report\n"
    f"cp {shlex.quote(str(C4 / 'model_3.1_myproject_csynth.rpt'))} myproject_prj/solution1/syn/report/myproject_csynth.rpt\n"
    f"cp {shlex.quote(str(C4 / 'model_3.1_myproject_csynth.xml'))} myproject_prj/solution1/syn/report/myproject_csynth.xml\n"
    "echo 'INFO: [HLS 200-111] Finished Command csynth_design'\n"
)


def test_missing_tool_raises_one_line(tmp_path, clean_path):
    assert vendor_tool() is None
    with pytest.raises(ToolMissing) as exc:
        run_vendor_synth(_run_dir(tmp_path), "alveo-u250")
    msg = str(exc.value)
    assert "vitis_hls" in msg and "vivado_hls" in msg and "\n" not in msg


def test_missing_project_is_a_clear_error(tmp_path):
    with pytest.raises(HwgenError, match="build_prj.tcl"):
        run_vendor_synth(tmp_path, "alveo-u250")


def test_non_xilinx_board_is_refused(tmp_path):
    with pytest.raises(HwgenError, match="AMD/Xilinx"):
        run_vendor_synth(_run_dir(tmp_path), "ulx3s-85f")


def test_fake_tool_run_is_orchestrated_and_parsed(tmp_path, clean_path):
    """Fake vitis_hls: records argv/cwd, copies the genuine Vitis 2024.1 report into the solution
    folder. Checks the call, the log, and that the resulting SynthResult comes from that report."""
    calls = _fake_tool(clean_path, tmp_path, COPY_REPORT)
    run = _run_dir(tmp_path)
    tool = vendor_tool()
    assert tool is not None and tool.name == "vitis_hls" and tool.version == "2024.1"
    results = run_vendor_synth(run, load_board("alveo-u250"), timeout_s=60)
    # argv: three separate arguments, the option string kept whole (no shell word splitting)
    assert calls.read_text().splitlines() == [
        "-f", "build_prj.tcl", "reset=1 csim=0 synth=1 cosim=0 validation=0 export=0 vsynth=0 fifo_opt=0"]
    work = (run / "synth" / "vendor" / "project").resolve()  # the tool builds in a copy of hls/
    assert Path((tmp_path / "cwd.txt").read_text().strip()).resolve() == work
    log = run / "synth" / "vendor" / "vitis_hls.log"
    text = log.read_text()
    assert text.startswith("$ ") and "build_prj.tcl" in text.splitlines()[0]
    assert "Finished Command csynth_design" in text
    assert len(results) == 1
    r = results[0]
    assert r.source == "vendor:vitis_hls-2024.1" and r.kind == "parsed" and r.board == "alveo-u250"
    assert r.resources == {"dsp": 50, "ff": 2674, "lut": 16512, "bram_18k": 0, "uram": 0}  # the fixture's numbers
    assert (r.latency_cycles_max, r.ii_max) == (8, 1)
    assert r.logs == ["synth/vendor/vitis_hls.log"] and r.wall_s is not None
    assert r.details["report_path"].endswith("myproject_prj/solution1/syn/report/myproject_csynth.xml")
    stored = read_synth_results(run)
    assert [s.source for s in stored] == ["vendor:vitis_hls-2024.1"]
    assert stored[0].resources == r.resources and stored[0].utilization_pct == r.utilization_pct


def test_vitis_style_project_gets_build_opt_and_vivado_synth(tmp_path, clean_path):
    """hls4ml's Vitis template reads build_opt.tcl, not argv: the working copy's is rewritten
    with the same options (the project's own is left as converted). With vivado_synth=True the
    fake also leaves a genuine vivado_synth.rpt."""
    body = COPY_REPORT + f"cp {shlex.quote(str(C10 / 'vivado_synth.rpt'))} vivado_synth.rpt\n"
    calls = _fake_tool(clean_path, tmp_path, body)
    run = _run_dir(tmp_path, vitis_style=True)
    results = run_vendor_synth(run, "alveo-u250", vivado_synth=True, timeout_s=60)
    assert calls.read_text().splitlines()[-1].split() == [
        "reset=1", "csim=0", "synth=1", "cosim=0", "validation=0", "export=0", "vsynth=1", "fifo_opt=0"]
    opt = (run / "synth" / "vendor" / "project" / "build_opt.tcl").read_text()
    assert "csim       0" in opt and "vsynth     1" in opt and "synth      1" in opt
    assert [r.source for r in results] == ["vendor:vitis_hls-2024.1", "vendor:vivado-2024.1"]
    assert results[1].kind == "synthesized"
    assert results[1].resources == {"lut": 8565, "ff": 4864, "dsp": 467, "uram": 0, "bram_18k": 24}
    assert sorted(s.source for s in read_synth_results(run)) == ["vendor:vitis_hls-2024.1", "vendor:vivado-2024.1"]


def _file_hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_hls_project_is_untouched_and_everything_lands_under_run_dir(tmp_path, clean_path):
    """convert.json:project_sha256 describes RUN/hls/ as converted, so a vendor run must not change
    a byte there (the Vitis build_opt.tcl included, and no <project>_prj/ or tool log appears in
    it); what the run writes - hwgen's log, the tool's own log, its work folder - lies under
    RUN/synth/. The fake behaves like the tool: it builds in its working folder and logs there."""
    body = COPY_REPORT + "echo 'INFO: [HLS 200-10] own log' > vitis_hls.log\n"
    _fake_tool(clean_path, tmp_path, body)
    run = _run_dir(tmp_path, vitis_style=True)
    (run / "hls" / "firmware").mkdir()
    (run / "hls" / "firmware" / "myproject.cpp").write_text("// generated by hls4ml\n")
    (run / "convert.json").write_text(json.dumps({"project_sha256": project_digest(run / "hls")}))
    hls_before = _file_hashes(run / "hls")
    run_before = set(_file_hashes(run))
    outside_before = sorted(p.name for p in tmp_path.iterdir())

    results = run_vendor_synth(run, "alveo-u250", timeout_s=60)

    assert _file_hashes(run / "hls") == hls_before
    assert project_digest(run / "hls") == json.loads((run / "convert.json").read_text())["project_sha256"]
    new_files = set(_file_hashes(run)) - run_before
    assert new_files and all(f.startswith("synth/") for f in new_files), sorted(new_files)
    assert "synth/vendor/project/firmware/myproject.cpp" in new_files  # the tool built a copy
    assert "synth/vendor/project/myproject_prj/solution1/syn/report/myproject_csynth.xml" in new_files
    # nothing written next to the run dir but the fake's own records of its call
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*outside_before, "calls.txt", "cwd.txt"])
    r = results[0]
    assert r.logs == ["synth/vendor/vitis_hls.log", "synth/vendor/project/vitis_hls.log"]
    assert all((run / log).is_file() for log in r.logs)
    assert "own log" in (run / r.logs[1]).read_text()
    assert r.details["report_path"] == "synth/vendor/project/myproject_prj/solution1/syn/report/myproject_csynth.xml"


def test_leftovers_of_an_earlier_run_in_hls_are_not_copied(tmp_path, clean_path):
    """A project that an older hwgen (which built in RUN/hls/) left a solution folder and logs in:
    the working copy starts without them, and RUN/hls/ keeps them as they were."""
    _fake_tool(clean_path, tmp_path, COPY_REPORT)
    run = _run_dir(tmp_path)
    (run / "hls" / "myproject_prj" / "solution1").mkdir(parents=True)
    (run / "hls" / "myproject_prj" / "solution1" / "old.txt").write_text("old")
    (run / "hls" / "vitis_hls.log").write_text("old log")
    before = _file_hashes(run / "hls")
    results = run_vendor_synth(run, "alveo-u250", timeout_s=60)
    work = run / "synth" / "vendor" / "project"
    assert not (work / "myproject_prj" / "solution1" / "old.txt").exists() and not (work / "vitis_hls.log").exists()
    assert results[0].logs == ["synth/vendor/vitis_hls.log"]
    assert _file_hashes(run / "hls") == before


def test_tool_failure_reports_exit_code_and_log(tmp_path, clean_path):
    _fake_tool(clean_path, tmp_path, "echo 'ERROR: [HLS 207-812] something broke'\nexit 3\n")
    run = _run_dir(tmp_path)
    with pytest.raises(HwgenError) as exc:
        run_vendor_synth(run, "alveo-u250", timeout_s=60)
    msg = str(exc.value)
    assert "exit code 3" in msg and "something broke" in msg and "vitis_hls.log" in msg
    assert read_synth_results(run) == []


def test_tool_that_writes_no_report(tmp_path, clean_path):
    _fake_tool(clean_path, tmp_path, "echo done\n")
    run = _run_dir(tmp_path)
    with pytest.raises(HwgenError, match="without writing a new C-synthesis report"):
        run_vendor_synth(run, "alveo-u250", timeout_s=60)


def test_stale_report_is_not_taken_for_a_new_one(tmp_path, clean_path):
    _fake_tool(clean_path, tmp_path, "echo done\n")
    run = _run_dir(tmp_path)
    rep = run / "hls" / "myproject_prj" / "solution1" / "syn" / "report"
    rep.mkdir(parents=True)
    old = rep / "myproject_csynth.xml"
    old.write_bytes((C4 / "model_3.1_myproject_csynth.xml").read_bytes())
    past = time.time() - 3600
    os.utime(old, (past, past))
    with pytest.raises(HwgenError, match="without writing a new"):
        run_vendor_synth(run, "alveo-u250", timeout_s=60)


def test_timeout_kills_the_tool(tmp_path, clean_path):
    _fake_tool(clean_path, tmp_path, f"echo $$ > {shlex.quote(str(tmp_path / 'pid.txt'))}\nsleep 30\n")
    run = _run_dir(tmp_path)
    start = time.monotonic()
    with pytest.raises(HwgenError) as exc:
        run_vendor_synth(run, "alveo-u250", timeout_s=1)
    assert time.monotonic() - start < 15
    assert "did not finish within 1 s" in str(exc.value) and "vitis_hls.log" in str(exc.value)
    pid = int((tmp_path / "pid.txt").read_text())
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_vivado_hls_is_the_fallback(tmp_path, clean_path):
    _fake_tool(clean_path, tmp_path, COPY_REPORT, name="vivado_hls")
    tool = vendor_tool()
    assert tool is not None and tool.name == "vivado_hls"


def test_build_options():
    assert build_options() == {"reset": 1, "csim": 0, "synth": 1, "cosim": 0, "validation": 0, "export": 0,
                               "vsynth": 0, "fifo_opt": 0}
    assert build_options(cosim=True, vivado_synth=True)["cosim"] == 1
    assert flow.VENDOR_HLS_TOOLS == ("vitis_hls", "vivado_hls")


COSIM_RPT = """\
================================================================
== Vitis HLS Report for 'myproject'
================================================================
+----------+----------+-----------------------------------------------+-----------------------------------------------+----------------------+
|          |          |             Latency(Clock Cycles)             |              Interval(Clock Cycles)           | Total Execution Time |
+   RTL    +  Status  +-----------------------------------------------+-----------------------------------------------+    (Clock Cycles)    +
|          |          |      min      |      avg      |      max      |      min      |      avg      |      max      |                      |
+----------+----------+-----------------------------------------------+-----------------------------------------------+----------------------+
|      VHDL|        NA|             NA|             NA|             NA|             NA|             NA|             NA|                    NA|
|   Verilog|      Pass|              9|              9|              9|              1|              1|              1|                   108|
+----------+----------+-----------------------------------------------+-----------------------------------------------+----------------------+
"""


def test_cosim_summary_is_attached(tmp_path, clean_path):
    """The co-simulation report here is written from the documented layout (the one hls4ml's
    cosim reader parses), not copied from a genuine run: no genuine cosim report was available."""
    cosim = tmp_path / "cosim.rpt"
    cosim.write_text(COSIM_RPT)
    body = COPY_REPORT + (
        "mkdir -p myproject_prj/solution1/sim/report\n"
        f"cp {shlex.quote(str(cosim))} myproject_prj/solution1/sim/report/myproject_cosim.rpt\n"
    )
    _fake_tool(clean_path, tmp_path, body)
    results = run_vendor_synth(_run_dir(tmp_path), "alveo-u250", cosim=True, timeout_s=60)
    c = results[0].details["extra"]["cosim"]
    assert (c["rtl"], c["status"], c["latency_min"], c["latency_max"], c["interval_min"], c["interval_max"]) == (
        "Verilog", "Pass", 9, 9, 1, 1)


def test_cosim_asked_but_missing(tmp_path, clean_path):
    _fake_tool(clean_path, tmp_path, COPY_REPORT)
    with pytest.raises(HwgenError, match="co-simulation was asked for"):
        run_vendor_synth(_run_dir(tmp_path), "alveo-u250", cosim=True, timeout_s=60)
