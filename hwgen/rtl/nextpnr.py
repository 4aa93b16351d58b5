"""nextpnr place-and-route for Lattice boards (ECP5, iCE40): achieved Fmax and utilization.

ECP5 runs `--out-of-context` (the design's hundreds of parallel ports do not fit any package);
nextpnr-ice40 has no such mode, so the pipelined module is wrapped in a 4-pin serial shifter
(see hwgen.rtl.verilog.serial_io_wrapper) first. The JSON `--report` gives Fmax and utilization;
when routing runs out of time, the post-placement Fmax estimate and the packing utilization are
read from the log instead and the result says so.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from hwgen.errors import HwgenError
from hwgen.results import read_json
from hwgen.tools import Tool, run_tool

# nextpnr cell type -> hwgen resource key
_NEXTPNR_RESOURCES = {
    "ecp5": {"TRELLIS_COMB": "lut4", "TRELLIS_FF": "ff", "DP16KD": "ebr", "MULT18X18D": "mult18"},
    "ice40": {"ICESTORM_LC": "lut4", "ICESTORM_RAM": "ebr", "ICESTORM_DSP": "mult18"},
}
OUT_OF_CONTEXT_ARCHES = ("ecp5",)

_FMAX_RE = re.compile(r"Max frequency for clock\s+'([^']+)':\s+([0-9.]+)\s*MHz")
_UTIL_RE = re.compile(r"^Info:\s+([A-Za-z0-9_]+):\s+(\d+)\s*/\s*(\d+)\s+\d+%", re.M)


def nextpnr_args(board, netlist: str, freq_mhz: float, report: str, seed: int = 1) -> list[str]:
    cfg = dict(board.nextpnr or {})
    arch = cfg.get("arch")
    if arch not in _NEXTPNR_RESOURCES:
        raise HwgenError(f"board {board.name}: nextpnr arch {arch!r} is not supported (ecp5, ice40)")
    device, package = str(cfg.get("device", "")), str(cfg.get("package", ""))
    if not re.fullmatch(r"[A-Za-z0-9_-]+", device) or not re.fullmatch(r"[A-Za-z0-9_-]*", package):
        raise HwgenError(f"board {board.name}: nextpnr device/package must be plain names, got {device!r}/{package!r}")
    args = [f"--{device}"]
    if package:
        args += ["--package", package]
    if cfg.get("speed") is not None and arch == "ecp5":
        args += ["--speed", str(int(cfg["speed"]))]
    args += ["--json", netlist, "--freq", f"{float(freq_mhz):g}", "--timing-allow-fail", "--report", report]
    args += ["--seed", str(int(seed))]
    if arch in OUT_OF_CONTEXT_ARCHES:
        args.append("--out-of-context")
    return args


def parse_report(path: Path) -> tuple[float | None, dict[str, dict]]:
    data = read_json(path)
    fmax = None
    for clk in (data.get("fmax") or {}).values():
        achieved = clk.get("achieved")
        if achieved is not None:
            fmax = float(achieved) if fmax is None else min(fmax, float(achieved))
    util = {
        k: {"used": int(v.get("used", 0)), "available": int(v.get("available", 0))}
        for k, v in (data.get("utilization") or {}).items()
    }
    return fmax, util


def parse_log(text: str) -> tuple[float | None, dict[str, dict]]:
    """Last Fmax line and the last utilization table of a nextpnr log."""
    fmax_hits = _FMAX_RE.findall(text)
    fmax = float(fmax_hits[-1][1]) if fmax_hits else None
    util: dict[str, dict] = {}
    marker = text.rfind("Device utilisation:")
    if marker >= 0:
        for name, used, avail in _UTIL_RE.findall(text[marker:marker + 20000]):
            util.setdefault(name, {"used": int(used), "available": int(avail)})
    return fmax, util


def map_utilization(util: dict[str, dict], arch: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for cell, key in _NEXTPNR_RESOURCES.get(arch, {}).items():
        if cell in util:
            out[key] = float(util[cell]["used"])
    return out


def run_nextpnr(
    tool: Tool,
    work: Path,
    netlist: str,
    board,
    *,
    freq_mhz: float,
    timeout_s: float | None,
    log_name: str = "nextpnr.log",
) -> dict:
    """Place and route `netlist` (relative to `work`); never raises for timing or time-outs.

    Returns {'fmax_mhz', 'routed', 'resources', 'utilization', 'wall_s', 'log', 'notes', 'ok'}.
    """
    arch = (board.nextpnr or {}).get("arch")
    report = "report.json"
    (work / report).unlink(missing_ok=True)
    args = nextpnr_args(board, netlist, freq_mhz, report)
    t0 = time.monotonic()
    run = run_tool(tool, args, work, work / log_name, timeout_s, check=False)
    wall = time.monotonic() - t0
    notes: list[str] = []
    log_text = (work / log_name).read_text(errors="replace")
    routed = run.returncode == 0 and not run.timed_out and "Routing complete" in log_text
    if (work / report).is_file() and run.returncode == 0:
        fmax, util = parse_report(work / report)
    else:
        fmax, util = parse_log(log_text)
        if run.timed_out:
            notes.append(
                f"nextpnr did not finish within {timeout_s:.0f} s; Fmax is its last timing estimate "
                f"({'post-routing' if routed else 'post-placement'}) and utilization is from packing"
            )
        else:
            tail = " | ".join(log_text.strip().splitlines()[-3:])
            notes.append(f"nextpnr exited with code {run.returncode}: {tail}")
    if not routed and fmax is not None and not run.timed_out and run.returncode == 0:
        notes.append("Fmax is nextpnr's post-placement estimate (no routing)")
    if arch in OUT_OF_CONTEXT_ARCHES:
        notes.append("placed and routed out-of-context (no I/O buffers): the design's parallel ports exceed the package")
    return {
        "ok": fmax is not None,
        "fmax_mhz": fmax,
        "routed": routed,
        "resources": map_utilization(util, arch),
        "utilization": util,
        "wall_s": wall,
        "log": work / log_name,
        "notes": notes,
        "timed_out": run.timed_out,
        "returncode": run.returncode,
        "args": args,
    }
