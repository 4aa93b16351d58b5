"""Yosys synthesis of the generated Verilog and cell-count parsing into hwgen resources.

Runs `synth_xilinx -flatten -family <xc7|xcup>`, `synth_ecp5` or `synth_ice40` and reads
`stat -json`. Sources are copied into the work folder and named by relative paths, because the
YoWASP (WebAssembly) build only sees files below its working directory.

Cell mapping (RESOURCE_KEYS of hwgen.results):
    Xilinx  lut: LUT1..LUT6 + INV + SRL* + distributed RAM (in LUTs); ff: FD*; carry: CARRY4/CARRY8;
            dsp: DSP48*; bram_18k: RAMB18* + 2 x RAMB36*; uram: URAM288
    ECP5    lut4: LUT4 + 2 x CCU2C (a CCU2C is two LUT4s with carry); ff: TRELLIS_FF;
            ebr: DP16KD/PDPW16KD; mult18: MULT18X18D
    iCE40   lut4: SB_LUT4 (SB_CARRY shares the LUT's logic cell); ff: SB_DFF*; ebr: SB_RAM40_4K*;
            mult18: SB_MAC16
Everything else (I/O buffers, muxes, carries of Lattice parts) is kept under details.cells.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Callable

from hwgen.errors import HwgenError
from hwgen.tools import Tool, log_watcher, run_tool

SYNTH_COMMANDS = {
    "xc7": "synth_xilinx -flatten -family xc7",
    "xcup": "synth_xilinx -flatten -family xcup",
    "ecp5": "synth_ecp5",
    "ice40": "synth_ice40",
}
LATTICE_FAMILIES = ("ecp5", "ice40")

# Xilinx distributed-RAM primitives -> LUTs they occupy.
_XILINX_LUTRAM = {
    "RAM32X1S": 1, "RAM64X1S": 1, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1S": 2, "RAM128X1D": 4,
    "RAM256X1S": 4, "RAM256X1D": 8, "RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8, "RAM512X1S": 8,
}  # fmt: skip


def synth_family(board) -> str | None:
    """The Yosys family key ('xc7', 'xcup', 'ecp5', 'ice40') of a board, or None if unsupported."""
    fam = (board.yosys_family or "").strip().lower()
    return fam if fam in SYNTH_COMMANDS else None


def yosys_script(sources: list[str], top: str, family: str, netlist: str | None = None) -> str:
    if family not in SYNTH_COMMANDS:
        raise HwgenError(f"no Yosys synthesis recipe for family {family!r}; supported: {sorted(SYNTH_COMMANDS)}")
    for name in [*sources, top, netlist or ""]:
        if not re.fullmatch(r"[A-Za-z0-9_./-]*", name):
            raise HwgenError(f"unsafe name in Yosys script: {name!r}")
    cmd = f"{SYNTH_COMMANDS[family]} -top {top}"
    lines = [
        "# hwgen open synthesis (generated)",
        "read_verilog -sv " + " ".join(sources),
        cmd,
        "tee -o stat.txt stat",
        "tee -q -o stat.json stat -json",
    ]
    if netlist:
        lines.append(f"write_json {netlist}")
    return "\n".join(lines) + "\n"


def parse_stat_json(path: Path) -> dict[str, int]:
    """Cell type -> count of the whole (flattened) design from `stat -json` output."""
    text = Path(path).read_text()
    start = text.find("{")
    if start < 0:
        raise HwgenError(f"{path} holds no Yosys statistics JSON")
    data = json.loads(text[start:])
    design = data.get("design")
    if not isinstance(design, dict) or "num_cells_by_type" not in design:
        modules = data.get("modules", {})
        if len(modules) != 1:
            raise HwgenError(f"{path}: cannot find whole-design cell counts")
        design = next(iter(modules.values()))
    cells = design.get("num_cells_by_type", {}) or {}
    return {str(k).lstrip("\\$"): int(v) for k, v in cells.items()}


def map_cells(cells: dict[str, int], family: str) -> tuple[dict[str, float], dict]:
    """hwgen resources and a details dict from a Yosys cell-type histogram."""
    res: dict[str, float] = {}
    detail: dict = {"cells": dict(sorted(cells.items())), "num_cells": int(sum(cells.values()))}

    def total(pred) -> int:
        return int(sum(n for name, n in cells.items() if pred(name)))

    if family in ("xc7", "xcup"):
        luts = total(lambda c: re.fullmatch(r"LUT[1-6]", c) is not None)
        inv = cells.get("INV", 0)
        srl = total(lambda c: c.startswith("SRL"))
        lutram = int(sum(n * _XILINX_LUTRAM.get(c, 0) for c, n in cells.items()))
        res["lut"] = luts + inv + srl + lutram
        res["ff"] = total(lambda c: re.fullmatch(r"FD[A-Z]*(_1)?", c) is not None)
        res["carry"] = total(lambda c: c in ("CARRY4", "CARRY8"))
        res["dsp"] = total(lambda c: c.startswith("DSP48"))
        res["bram_18k"] = total(lambda c: c.startswith("RAMB18")) + 2 * total(lambda c: c.startswith("RAMB36"))
        res["uram"] = total(lambda c: c.startswith("URAM"))
        detail["lut_breakdown"] = {"lut": luts, "inv_as_lut1": inv, "srl": srl, "lutram_luts": lutram}
    elif family == "ecp5":
        lut4, ccu2 = cells.get("LUT4", 0), total(lambda c: c.startswith("CCU2"))
        res["lut4"] = lut4 + 2 * ccu2
        res["ff"] = total(lambda c: c.startswith("TRELLIS_FF"))
        res["ebr"] = total(lambda c: c in ("DP16KD", "PDPW16KD"))
        res["mult18"] = total(lambda c: c.startswith("MULT18X18"))
        detail["lut_breakdown"] = {"LUT4": lut4, "CCU2C": ccu2, "note": "lut4 = LUT4 + 2 x CCU2C"}
        if cells.get("TRELLIS_DPR16X4"):
            detail["lut_breakdown"]["TRELLIS_DPR16X4_not_counted"] = cells["TRELLIS_DPR16X4"]
    elif family == "ice40":
        res["lut4"] = cells.get("SB_LUT4", 0)
        res["ff"] = total(lambda c: c.startswith("SB_DFF"))
        res["ebr"] = total(lambda c: c.startswith("SB_RAM40"))
        res["mult18"] = total(lambda c: c == "SB_MAC16")
        detail["lut_breakdown"] = {"SB_LUT4": cells.get("SB_LUT4", 0), "SB_CARRY": cells.get("SB_CARRY", 0)}
    else:
        raise HwgenError(f"unknown synthesis family {family!r}")
    return {k: float(v) for k, v in res.items()}, detail


def stage_sources(rtl_dir: Path, files: list[str], mem_files: list[str], work: Path) -> list[str]:
    """Copy sources below `work/src` and return their paths relative to `work`."""
    rel = []
    for f in files:
        dst = work / "src" / f
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(rtl_dir) / f, dst)
        rel.append(str(Path("src") / f))
    for m in mem_files:  # $readmemh paths are relative to the tool's working directory
        shutil.copy(Path(rtl_dir) / m, work / m)
    return rel


_PASS_RE = re.compile(r"^(\d+(?:\.\d+)*)\. Executing ([^(.:\n]+)", re.M)


def yosys_phase(log_tail: str) -> str | None:
    """The pass a running Yosys is in, from the end of its log: 'yosys: ABC (step 6.74)'."""
    hits = list(_PASS_RE.finditer(log_tail))
    if not hits:
        return None
    step, name = hits[-1].group(1), hits[-1].group(2).strip()
    return f"yosys: {name} (step {step})"


def run_yosys(
    tool: Tool,
    work: Path,
    sources: list[str],
    top: str,
    family: str,
    *,
    netlist: str | None = None,
    timeout_s: float | None = None,
    log_name: str = "yosys.log",
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Run Yosys in `work` on `sources` (relative to it); returns resources, details and timing."""
    script = work / (Path(log_name).stem + ".ys")
    script.write_text(yosys_script(sources, top, family, netlist))
    t0 = time.monotonic()
    for stale in ("stat.json", "stat.txt"):
        (work / stale).unlink(missing_ok=True)
    watch = log_watcher(work / log_name, yosys_phase, progress) if progress else None
    run_tool(tool, [script.name], work, work / log_name, timeout_s, watch=watch)
    wall = time.monotonic() - t0
    cells = parse_stat_json(work / "stat.json")
    resources, details = map_cells(cells, family)
    details["synth_command"] = f"{SYNTH_COMMANDS[family]} -top {top}"
    return {
        "resources": resources,
        "details": details,
        "wall_s": wall,
        "log": work / log_name,
        "script": script,
        "netlist": (work / netlist) if netlist else None,
    }


# --- Xilinx timing estimate from the mapped netlist's logic depth --------------------------------
# Per-family delays (ns) of one step of a register-to-register path: a LUT with its input net, a
# carry cell entered through S/DI, a carry cell passed through CI -> CO, a wide mux, and the
# register's clock-to-out plus setup. Rounded from AMD's DS181 (Artix-7 -1) and DS923
# (Zynq UltraScale+ -1) switching characteristics with a typical local net added to each LUT;
# routing varies with placement, hence the band.
XILINX_DELAYS = {
    "xc7": {"lut": 0.60, "carry_entry": 0.50, "carry_step": 0.12, "mux": 0.35, "reg": 0.60},
    "xcup": {"lut": 0.35, "carry_entry": 0.30, "carry_step": 0.05, "mux": 0.20, "reg": 0.35},
}
XILINX_TIMING_BAND = 0.4  # +-40%: no placement, no routing
_SEQ_RE = re.compile(r"^(FD[A-Z]*(_1)?|SRL.*|RAM.*|RAMB.*|URAM.*|DSP48.*|IBUF.*|OBUF.*|BUFG.*)$")


def logic_depth(netlist: Path, family: str) -> dict:
    """Worst register-to-register (or port-to-port) path of a flattened Yosys Xilinx netlist.

    Returns logic levels (LUTs and muxes), carry cells on the path, and the estimated delay
    with XILINX_DELAYS[family]; an estimate, not a timing analysis.
    """
    delays = XILINX_DELAYS.get(family)
    if delays is None:
        raise HwgenError(f"no Xilinx delay model for family {family!r}")
    data = json.loads(Path(netlist).read_text())
    mods = data.get("modules") or {}
    top = next((m for m in mods.values() if str((m.get("attributes") or {}).get("top", "0")).strip("0") != ""), None)
    if top is None:
        if len(mods) != 1:
            raise HwgenError(f"{netlist}: cannot find the top module")
        top = next(iter(mods.values()))
    driver: dict[int, tuple[str, str]] = {}
    cells = top.get("cells") or {}
    for name, cell in cells.items():
        for port, bits in (cell.get("connections") or {}).items():
            if (cell.get("port_directions") or {}).get(port) == "output":
                for b in bits:
                    if isinstance(b, int):
                        driver[b] = (name, port)

    def kind(ctype: str) -> str:
        t = ctype.lstrip("\\$")
        if re.fullmatch(r"LUT[1-6]|INV", t):
            return "lut"
        if t in ("CARRY4", "CARRY8"):
            return "carry"
        if t.startswith("MUXF"):
            return "mux"
        return "seq" if _SEQ_RE.match(t) else "other"

    memo: dict[str, tuple[float, int, int, str]] = {}  # cell -> (arrival ns, levels, carries, start)

    def arrival_of_bit(b) -> tuple[float, int, int, str]:
        if not isinstance(b, int) or b not in driver:
            return (0.0, 0, 0, "port")
        name, _port = driver[b]
        if kind(cells[name]["type"]) in ("seq", "other"):
            return (0.0, 0, 0, name)
        return memo[name]

    # iterative DFS in topological order over combinational cells
    comb = [n for n, c in cells.items() if kind(c["type"]) in ("lut", "carry", "mux")]
    state: dict[str, int] = {}
    for root in comb:
        if root in memo:
            continue
        stack = [root]
        while stack:
            name = stack[-1]
            cell = cells[name]
            if state.get(name) is None:
                state[name] = 1
                for port, bits in (cell.get("connections") or {}).items():
                    if (cell.get("port_directions") or {}).get(port) != "input":
                        continue
                    for b in bits:
                        if isinstance(b, int) and b in driver:
                            dn = driver[b][0]
                            if kind(cells[dn]["type"]) in ("lut", "carry", "mux") and dn not in memo and state.get(dn) is None:
                                stack.append(dn)
                continue
            stack.pop()
            if name in memo:
                continue
            k = kind(cell["type"])
            best = (0.0, 0, 0, "port")
            for port, bits in (cell.get("connections") or {}).items():
                if (cell.get("port_directions") or {}).get(port) != "input":
                    continue
                for b in bits:
                    src = driver.get(b) if isinstance(b, int) else None
                    if src is not None and kind(cells[src[0]]["type"]) in ("lut", "carry", "mux") and src[0] not in memo:
                        continue  # combinational loop guard
                    t, lv, cy, start = arrival_of_bit(b)
                    if k == "carry":
                        t += delays["carry_step"] if port in ("CI", "CIN", "CI_TOP") else delays["carry_entry"]
                        cy += 1
                    else:
                        t += delays[k]
                        lv += 1
                    if t > best[0]:
                        best = (t, lv, cy, start)
            memo[name] = best
    worst = max(memo.values(), default=(0.0, 0, 0, "port"), key=lambda v: v[0])
    path_ns = worst[0] + delays["reg"]
    return {
        "logic_levels": int(worst[1]),
        "carry_cells": int(worst[2]),
        "path_ns": round(path_ns, 3),
        "fmax_mhz_estimate": round(1000.0 / path_ns, 1) if path_ns > 0 else None,
        "band": XILINX_TIMING_BAND,
        "delays_ns": dict(delays),
        "kind": "estimate",
        "source": f"hwgen logic-depth estimate on the Yosys-mapped netlist ({family}; DS181/DS923-derived delays, "
                  f"+-{int(XILINX_TIMING_BAND * 100)}%, no place-and-route)",
    }
