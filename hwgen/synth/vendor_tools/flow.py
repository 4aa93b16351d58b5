"""Run the vendor HLS tool (Vitis HLS, else Vivado HLS) on a run's hls4ml project and record
what it reports.

The project in RUN/hls/ is what `convert.json: project_sha256` describes, so it is never
touched: the tool runs in a copy of it, RUN/synth/vendor/project/, and everything the run
leaves (the project copy with the tool's `<project>_prj/` and logs, and hwgen's log of the
call) stays under RUN/synth/vendor/. During a flow RUN is the staging folder, so a failed or
interrupted vendor run leaves nothing behind.

The copy is built with its own `build_prj.tcl`, the way hls4ml's Vivado backend does
(`vivado_hls -f build_prj.tcl "reset=.. csim=.. synth=.. ..."`), but with an argument list
instead of a shell command line. hls4ml's Vitis template reads its options from
`build_opt.tcl` instead of the command line, so when the project has that file, the copy's is
rewritten with the same options. Each report the tool leaves becomes one SynthResult in
RUN/synth/<source>.json.
"""

from __future__ import annotations

import re
import shutil
import string
import time
from pathlib import Path

from hwgen.boards import load_board
from hwgen.errors import HwgenError, ToolMissing
from hwgen.results import SynthResult, write_atomic, write_synth_result
from hwgen.synth.vendor_tools.reports import VendorReport, find_reports, parse_report_file
from hwgen.synth.vendor_tools.reports.hls_cosim import read_cosim_summary
from hwgen.tools import Tool, find_tool, run_tool

VENDOR_HLS_TOOLS = ("vitis_hls", "vivado_hls")
# Everything a vendor run writes, relative to the run dir; emptied at the start of each run.
VENDOR_SUBDIR = Path("synth") / "vendor"
# The copy of RUN/hls/ the tool builds in, inside VENDOR_SUBDIR.
PROJECT_COPY = "project"
BUILD_OPT_TEMPLATE = Path(__file__).with_name("templates") / "build_opt.tcl"
# Logs the tools write into their working folder (kept with the result's logs).
_TOOL_OWN_LOGS = ("vitis_hls.log", "vivado_hls.log", "vivado.log")


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


def _copy_project(hls_dir: Path, work_dir: Path, project: str) -> None:
    """Copy the HLS project to work_dir, leaving out what an earlier tool run may have left at its
    top (the solution folder and tool logs): in the copy, every report and log is this run's."""
    leftovers = {f"{project}_prj", "vivado_synth.rpt", ".Xil", *_TOOL_OWN_LOGS}

    def ignore(folder: str, names: list[str]) -> set[str]:
        return leftovers.intersection(names) if Path(folder) == hls_dir else set()

    shutil.copytree(hls_dir, work_dir, ignore=ignore)


def _write_build_opt(project_dir: Path, opts: dict[str, int]) -> None:
    options = "".join(f"    {k:<10} {v}\n" for k, v in opts.items())
    body = string.Template(BUILD_OPT_TEMPLATE.read_text()).substitute(options=options)
    write_atomic(project_dir / "build_opt.tcl", body.encode())


def run_vendor_synth(
    run_dir: Path, board, *, timeout_s: float = 3600, cosim: bool = False, vivado_synth: bool = False
) -> list[SynthResult]:
    """Synthesize a copy of RUN/hls/ with the vendor HLS tool; returns (and writes) one
    SynthResult per report: the C-synthesis estimate, plus Vivado's post-synthesis utilization
    with `vivado_synth=True`. `board` is a `hwgen.boards.Board` or a board name. RUN/hls/ is
    only read; all the run writes is RUN/synth/vendor/ and RUN/synth/<source>.json."""
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
    vendor_dir = run_dir / VENDOR_SUBDIR
    if vendor_dir.exists():
        shutil.rmtree(vendor_dir)
    vendor_dir.mkdir(parents=True)
    work_dir = vendor_dir / PROJECT_COPY
    _copy_project(hls_dir, work_dir, project)
    if (work_dir / "build_opt.tcl").is_file():
        _write_build_opt(work_dir, opts)
    log = vendor_dir / f"{tool.name}.log"
    args = ["-f", "build_prj.tcl", " ".join(f"{k}={v}" for k, v in opts.items())]
    # Reports older than this were not written by this run (mtime has 1 s resolution on some
    # file systems, hence the second of slack below).
    started = time.time()
    run = run_tool(tool, args, cwd=work_dir, log=log, timeout_s=timeout_s)
    logs = [_rel(log, run_dir)]
    logs += [_rel(work_dir / name, run_dir) for name in _TOOL_OWN_LOGS if (work_dir / name).is_file()]

    sol_dir = work_dir / f"{project}_prj" / "solution1"
    found = find_reports(sol_dir) if sol_dir.is_dir() else {}
    hls_report = found.get("hls")
    if hls_report is None or hls_report.stat().st_mtime < started - 1:
        raise HwgenError(
            f"{tool.name} exited without writing a new C-synthesis report under {sol_dir / 'syn' / 'report'} "
            f"(log: {log}); read the log for the reason"
        )
    reports: list[VendorReport] = [parse_report_file(hls_report)]
    if cosim:
        cosim_rpt = sol_dir / "sim" / "report" / f"{reports[0].top}_cosim.rpt"
        cosim_data = read_cosim_summary(cosim_rpt, log)
        cosim_data["report"] = _rel(cosim_rpt, run_dir)
        reports[0].extra["cosim"] = cosim_data
    if vivado_synth:
        vs = work_dir / "vivado_synth.rpt"
        if not vs.is_file() or vs.stat().st_mtime < started - 1:
            raise HwgenError(f"{tool.name} exited without writing a new {vs} (log: {log}); read the log for the reason")
        reports.append(parse_report_file(vs))

    results = []
    for report in reports:
        result = report.to_synth_result(board)
        # Relative: during a flow run_dir is the staging folder, renamed once the run succeeds.
        result.details["report_path"] = _rel(Path(report.path), run_dir)
        result.logs = list(logs)
        result.wall_s = run.wall_s
        result.notes.append(
            f"ran {tool.label} on {_rel(work_dir, run_dir)} (a copy of {_rel(hls_dir, run_dir)}) with {args[-1]}"
        )
        write_synth_result(run_dir, result)
        results.append(result)
    return results


def _rel(path: Path, run_dir: Path) -> str:
    return path.relative_to(run_dir).as_posix()
