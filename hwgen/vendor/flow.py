"""Run the vendor HLS tool (Vitis HLS, else Vivado HLS) on a run's hls4ml project and record
what it reports.

The project in RUN/hls/ is built with its own `build_prj.tcl`, the way hls4ml's Vivado backend
does (`vivado_hls -f build_prj.tcl "reset=.. csim=.. synth=.. ..."`), but with an argument list
instead of a shell command line. hls4ml's Vitis template reads its options from
`build_opt.tcl` instead of the command line, so when that file exists it is rewritten with the
same options. Logs go to RUN/synth/vendor/; each report the tool leaves becomes one SynthResult
in RUN/synth/<source>.json.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from hwgen.boards import load_board
from hwgen.errors import HwgenError, ToolMissing
from hwgen.results import SynthResult, write_synth_result
from hwgen.tools import Tool, find_tool, run_tool
from hwgen.vendor.reports import VendorReport, find_reports, parse_report_file

VENDOR_HLS_TOOLS = ("vitis_hls", "vivado_hls")
LOG_SUBDIR = Path("synth") / "vendor"


def vendor_tool() -> Tool | None:
    """Vitis HLS if installed, else Vivado HLS, else None."""
    for name in VENDOR_HLS_TOOLS:
        try:
            return find_tool(name)
        except ToolMissing:
            continue
    return None


def build_options(*, cosim: bool = False, vivado_synth: bool = False) -> dict[str, int]:
    """The hls4ml build_prj.tcl options hwgen uses: synthesis only (C simulation is hwgen's own
    csim stage), plus C/RTL co-simulation and Vivado synthesis when asked."""
    return {
        "reset": 1,
        "csim": 0,
        "synth": 1,
        "cosim": int(cosim),
        "validation": 0,
        "export": 0,
        "vsynth": int(vivado_synth),
        "fifo_opt": 0,
    }


def _project_name(hls_dir: Path) -> str:
    tcl = hls_dir / "project.tcl"
    if not tcl.is_file():
        raise HwgenError(f"{hls_dir} has no project.tcl; regenerate the HLS project with `hwgen convert`")
    m = re.search(r'^\s*set\s+project_name\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', tcl.read_text(errors="replace"), re.M)
    if not m:
        raise HwgenError(f"{tcl} does not set project_name; regenerate the HLS project with `hwgen convert`")
    return m.group(1)


def _write_build_opt(hls_dir: Path, opts: dict[str, int]) -> None:
    body = "array set opt {\n" + "".join(f"    {k:<10} {v}\n" for k, v in opts.items()) + "}\n"
    target = hls_dir / "build_opt.tcl"
    tmp = target.with_name(f".build_opt.tcl.tmp-{os.getpid()}")
    tmp.write_text(body)
    os.replace(tmp, target)


def run_vendor_synth(
    run_dir: Path, board, *, timeout_s: float = 3600, cosim: bool = False, vivado_synth: bool = False
) -> list[SynthResult]:
    """Synthesize RUN/hls/ with the vendor HLS tool; returns (and writes) one SynthResult per
    report: the C-synthesis estimate, plus Vivado's post-synthesis utilization with
    `vivado_synth=True`. `board` is a `hwgen.boards.Board` or a board name."""
    run_dir = Path(run_dir)
    hls_dir = run_dir / "hls"
    if not (hls_dir / "build_prj.tcl").is_file():
        raise HwgenError(f"{hls_dir} has no build_prj.tcl; generate the HLS project first with `hwgen convert`")
    if isinstance(board, str):
        board = load_board(board)
    if board.vendor != "xilinx":
        raise HwgenError(f"board {board.name} is a {board.vendor} part; the vendor HLS flow targets AMD/Xilinx parts")
    tool = vendor_tool()
    if tool is None:
        raise ToolMissing(
            "no vendor HLS tool on PATH (looked for vitis_hls, vivado_hls): install AMD Vitis HLS and source "
            "its settings64.sh, or use the open flow (hwgen synth --open) / the estimator (hwgen estimate)"
        )
    project = _project_name(hls_dir)
    opts = build_options(cosim=cosim, vivado_synth=vivado_synth)
    if (hls_dir / "build_opt.tcl").is_file():
        _write_build_opt(hls_dir, opts)
    log_dir = run_dir / LOG_SUBDIR
    if log_dir.exists():
        shutil.rmtree(log_dir)
    log_dir.mkdir(parents=True)
    log = log_dir / f"{tool.name}.log"
    args = ["-f", "build_prj.tcl", " ".join(f"{k}={v}" for k, v in opts.items())]
    started = time.time()
    run = run_tool(tool, args, cwd=hls_dir, log=log, timeout_s=timeout_s)
    logs = [str(log.relative_to(run_dir))]
    for name in (f"{tool.name}.log", "vivado.log"):
        own = hls_dir / name
        if own.is_file() and own.stat().st_mtime >= started - 1:
            shutil.copy2(own, log_dir / f"tool_{name}")
            logs.append(str((log_dir / f"tool_{name}").relative_to(run_dir)))

    sol_dir = hls_dir / f"{project}_prj" / "solution1"
    found = find_reports(sol_dir) if sol_dir.is_dir() else {}
    hls_report = found.get("hls")
    if hls_report is None or hls_report.stat().st_mtime < started - 1:
        raise HwgenError(
            f"{tool.name} exited without writing a new C-synthesis report under {sol_dir / 'syn' / 'report'} "
            f"(log: {log}); read the log for the reason"
        )
    reports: list[VendorReport] = [parse_report_file(hls_report)]
    if cosim:
        cosim_data = _read_cosim(sol_dir, reports[0].top, log)
        reports[0].extra["cosim"] = cosim_data
    if vivado_synth:
        vs = hls_dir / "vivado_synth.rpt"
        if not vs.is_file() or vs.stat().st_mtime < started - 1:
            raise HwgenError(f"{tool.name} exited without writing a new {vs} (log: {log}); read the log for the reason")
        reports.append(parse_report_file(vs))

    results = []
    for report in reports:
        result = report.to_synth_result(board)
        result.logs = list(logs)
        result.wall_s = run.wall_s
        result.notes.append(f"ran {tool.label} on {hls_dir.relative_to(run_dir)} with {args[-1]}")
        write_synth_result(run_dir, result)
        results.append(result)
    return results


def _read_cosim(sol_dir: Path, top: str, log: Path) -> dict:
    """C/RTL co-simulation summary from sim/report/<top>_cosim.rpt (one row per RTL language:
    | Verilog | Pass | lat min | avg | max | II min | avg | max |). No genuine fixture backs this
    reader; the layout follows hls4ml's cosim report reader."""
    rpt = sol_dir / "sim" / "report" / f"{top}_cosim.rpt"
    if not rpt.is_file():
        raise HwgenError(f"co-simulation was asked for but {rpt} was not written (log: {log})")
    for line in rpt.read_text(errors="replace").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 8 and cells[0] in ("Verilog", "VHDL") and cells[1] not in ("NA", ""):
            def num(x):
                return int(x) if x.isdigit() else None

            return {
                "rtl": cells[0], "status": cells[1], "latency_min": num(cells[2]), "latency_avg": cells[3],
                "latency_max": num(cells[4]), "interval_min": num(cells[5]), "interval_avg": cells[6],
                "interval_max": num(cells[7]), "report": str(rpt),
            }
    raise HwgenError(f"{rpt}: no Verilog/VHDL result row; co-simulation did not run to completion (log: {log})")
