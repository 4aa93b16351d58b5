"""nextpnr place-and-route for Lattice boards (ECP5, iCE40): achieved Fmax and utilization.

The design's hundreds of parallel ports fit no package, so the pipelined module is placed
in-context inside the UART board wrapper on the board's pins (hwgen.synth.open.uart, hwgen.synth.open.board_flow;
a 4-pin serial shifter, hwgen.synth.open.verilog.serial_io_wrapper, for a board without `pins:`): the
clock is promoted to the global network as on a real board. The report's worst register-to-
register path gives the critical path's logic levels (`critical_path`). ECP5 uses nextpnr's electrostatic placer
(`--placer static`): on the 6-bit digits MLP (35k LUT4 incl. carries, 42% of an 85F) the default
HeAP placement left router1 still ripping up ~40% of its arcs after 10 minutes, while the static
placement routed in 15 minutes at a higher Fmax (90.9 vs 75.3 MHz with HeAP and timing weight 0).
The JSON `--report` gives Fmax and utilization; when routing runs out of time, the
post-placement Fmax estimate and the packing utilization are read from the log instead and the
result says so.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable

from hwgen.errors import HwgenError
from hwgen.results import read_json
from hwgen.tools import Tool, log_watcher, run_tool

# nextpnr cell type -> hwgen resource key
_NEXTPNR_RESOURCES = {
    "ecp5": {"TRELLIS_COMB": "lut4", "TRELLIS_FF": "ff", "DP16KD": "ebr", "MULT18X18D": "mult18"},
    "ice40": {"ICESTORM_LC": "lut4", "ICESTORM_RAM": "ebr", "ICESTORM_DSP": "mult18"},
}
# Placer per arch where nextpnr's default (HeAP) is not the best choice; see the module docstring.
PLACER = {"ecp5": "static"}

_FMAX_RE = re.compile(r"Max frequency for clock\s+'([^']+)':\s+([0-9.]+)\s*MHz")
_UTIL_RE = re.compile(r"^Info:\s+([A-Za-z0-9_]+):\s+(\d+)\s*/\s*(\d+)\s+\d+%", re.M)
# router1 progress row: "Info:  27000 | 13128  13871 | 494  506 |  134878 |  22.82  118.37|"
_ROUTER1_ROW_RE = re.compile(r"^Info:\s+(\d+)\s*\|[^|]*\|[^|]*\|\s*(\d+)\s*\|", re.M)
_ROUTER2_ROW_RE = re.compile(r"^Info:\s+iter=(\d+)\s+wires=\d+\s+overused=(\d+)", re.M)
_SA_ROW_RE = re.compile(r"^Info:\s+at iteration #(\d+): temp = [0-9.]+, timing cost = \d+, wirelen = (\d+)", re.M)


def nextpnr_args(board, netlist: str, freq_mhz: float, report: str, seed: int = 1, extra: list[str] | None = None) -> list[str]:
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
    if arch in PLACER:
        args += ["--placer", PLACER[arch]]
    for a in extra or []:
        if not re.fullmatch(r"--?[A-Za-z0-9-]+|[A-Za-z0-9_./-]+", a):
            raise HwgenError(f"unsafe nextpnr argument {a!r}")
    return args + list(extra or [])


def critical_path(path: Path) -> dict | None:
    """The worst register-to-register path of nextpnr's JSON report: logic levels and delays.

    logic_levels counts the path's 'logic' segments, i.e. cells passed through (a LUT, or one
    carry stage of a chain); routing and logic delays are summed separately (ns).
    """
    try:
        data = read_json(path)
    except HwgenError:
        return None
    best = None
    for cp in data.get("critical_paths") or []:
        src, dst = str(cp.get("from", "")), str(cp.get("to", ""))
        if not (src.startswith("posedge") or src.startswith("negedge")) or not (dst.startswith("posedge") or dst.startswith("negedge")):
            continue  # I/O paths (<async>) are not the design's clock period
        items = cp.get("path") or []
        total = sum(float(e.get("delay", 0.0)) for e in items)
        if best is None or total > best["delay_ns"]:
            cells = [e for e in items if e.get("type") == "logic"]
            best = {
                "from": src,
                "to": dst,
                "delay_ns": round(total, 3),
                "logic_levels": len(cells),
                "logic_ns": round(sum(float(e.get("delay", 0.0)) for e in cells), 3),
                "routing_ns": round(sum(float(e.get("delay", 0.0)) for e in items if e.get("type") == "routing"), 3),
                "start_cell": str(((items[0].get("from") or {}).get("cell", "")) if items else ""),
                "end_cell": str(((items[-1].get("to") or {}).get("cell", "")) if items else ""),
                "source": "nextpnr --report critical_paths",
            }
    return best


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


def nextpnr_phase(log_tail: str) -> str | None:
    """What a running nextpnr is doing, from the end of its log (for the live progress line)."""
    marks = [
        (log_tail.rfind("Running main analytical placer"), lambda: "nextpnr placing: analytical (HeAP)"),
        (log_tail.rfind("Running Static placer"), lambda: "nextpnr placing: electrostatic (static)"),
        (log_tail.rfind("Running simulated annealing placer"), lambda: "nextpnr placing: annealing"),
        (log_tail.rfind("Routing.."), lambda: "nextpnr routing: setting up"),
        (log_tail.rfind("Running router2"), lambda: "nextpnr routing: router2 setting up"),
    ]
    rows = [
        (_SA_ROW_RE, lambda m: f"nextpnr placing: annealing iteration {m[1]}, wirelength {int(m[2]):,}"),
        (_ROUTER1_ROW_RE, lambda m: f"nextpnr routing: {int(m[2]):,} arcs left after {int(m[1]):,} iterations"),
        (_ROUTER2_ROW_RE, lambda m: f"nextpnr routing: router2 iteration {m[1]}, {int(m[2]):,} overused wires"),
    ]
    for regex, fmt in rows:
        hits = list(regex.finditer(log_tail))
        if hits:
            marks.append((hits[-1].start(), lambda m=hits[-1], f=fmt: f(m)))
    marks.append((max(log_tail.rfind("Packing"), log_tail.rfind("Logic utilisation before packing")), lambda: "nextpnr packing"))
    pos, describe = max(marks, key=lambda t: t[0])
    return describe() if pos >= 0 else None


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
    progress: Callable[[str], None] | None = None,
    extra_args: list[str] | None = None,
) -> dict:
    """Place and route `netlist` (relative to `work`); never raises for timing or time-outs.

    Returns {'fmax_mhz', 'routed', 'resources', 'utilization', 'wall_s', 'log', 'notes', 'ok'}.
    """
    arch = (board.nextpnr or {}).get("arch")
    report = "report.json"
    (work / report).unlink(missing_ok=True)
    args = nextpnr_args(board, netlist, freq_mhz, report, extra=extra_args)
    t0 = time.monotonic()
    watch = log_watcher(work / log_name, nextpnr_phase, progress) if progress else None
    run = run_tool(tool, args, work, work / log_name, timeout_s, check=False, watch=watch)
    wall = time.monotonic() - t0
    notes: list[str] = []
    log_text = (work / log_name).read_text(errors="replace")
    routed = run.returncode == 0 and not run.timed_out and "Routing complete" in log_text
    crit = None
    if (work / report).is_file() and run.returncode == 0:
        fmax, util = parse_report(work / report)
        crit = critical_path(work / report)
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
        "critical_path": crit,
    }
