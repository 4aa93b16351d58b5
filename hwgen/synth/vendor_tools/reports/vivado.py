"""Vivado `report_utilization` output (hls4ml's `vivado_synth.rpt`, `*utilization*.rpt`) for
7-series ("Slice LUTs") and UltraScale(+) ("CLB LUTs") parts. Block RAM tiles are reported as
`bram_18k = 2 * tiles`, with the tile count kept in `extra`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError
from hwgen.synth.vendor_tools.reports._common import (
    check_ends_with_table,
    count_cell,
    find_line,
    is_num,
    next_table,
    number,
    pct_cell,
    read_text,
    tool_version,
    whole,
)
from hwgen.synth.vendor_tools.reports.record import VendorReport

NAME = "vivado"

# The rows each resource is read from: 7-series names first, then UltraScale(+) ones.
_UTIL_ROWS = {
    "lut": ("Slice LUTs", "CLB LUTs"),
    "ff": ("Slice Registers", "CLB Registers", "Registers"),
    "bram_tiles": ("Block RAM Tile",),
    "dsp": ("DSPs", "DSP Slices"),
    "uram": ("URAM",),
}
# Finer rows kept in `extra` where the report has them.
_UTIL_EXTRA_ROWS = {
    "LUT as Logic": "lut_logic", "LUT as Memory": "lut_memory", "LUT as Distributed RAM": "lut_distributed_ram",
    "LUT as Shift Register": "lut_shift_register", "Register as Flip Flop": "registers_flip_flop",
    "Register as Latch": "registers_latch", "CARRY4": "carry4", "CARRY8": "carry8", "F7 Muxes": "f7_muxes",
    "F8 Muxes": "f8_muxes", "F9 Muxes": "f9_muxes", "RAMB36/FIFO": "ramb36", "RAMB18": "ramb18",
    "Bonded IOB": "bonded_iob", "Slice": "slices", "CLB": "clbs",
}

_COMMAND_LINE = re.compile(r"^\| Command\s*:\s*report_utilization", re.M)


def sniff(path: Path, text: str | None) -> bool:
    """By content only: report_utilization files carry no fixed name."""
    return text is not None and ("Utilization Design Information" in text or bool(_COMMAND_LINE.search(text)))


def parse(path: Path, text: str | None) -> VendorReport:
    return parse_vivado_utilization(path, read_text(path) if text is None else text)


def parse_vivado_utilization(path: Path, text: str) -> VendorReport:
    lines = text.splitlines()
    info = {}
    for s in lines[:40]:
        m = re.match(r"^\|\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.*?)\s*$", s)
        if m:
            info.setdefault(m.group(1), m.group(2))
    tv = info.get("Tool Version", "")
    version, build = tool_version(re.sub(r"^Vivado\s+", "", tv))
    if not tv or not version:
        raise HwgenError(f"{path}: no '| Tool Version : Vivado v.YYYY.N' header line")
    # Every section the table of contents lists must be present (catches truncation).
    toc_at = find_line(lines, r"^Table of Contents")
    if toc_at is None:
        raise HwgenError(f"{path}: no 'Table of Contents' (truncated or not a report_utilization file?)")
    sections = []
    for s in lines[toc_at + 2 :]:
        if not s.strip():
            break
        sections.append(s.strip())
    body = lines[toc_at + 2 + len(sections) :]
    body_set = {s.strip() for s in body}
    missing = [s for s in sections if s not in body_set]
    if missing:
        raise HwgenError(f"{path}: section(s) {missing} listed in the table of contents are missing (truncated?)")
    check_ends_with_table(path, lines)
    rows: dict[str, dict[str, Any]] = {}
    primitives: dict[str, int] = {}
    i = toc_at
    while True:
        t = next_table(lines, i, stop_at_section=False)
        if t is None:
            break
        i = t.end
        if not t.closed:
            raise HwgenError(f"{path}: a table starting at line {t.start + 1} is not closed (truncated?)")
        first = t.columns[0].strip() if t.columns else ""
        c_used, c_avail, c_util = t.col("used"), t.col("available"), t.col("util%")
        if first == "Site Type" and c_used is not None:
            for r in t.rows:
                name = r[0].strip().rstrip("*").strip()
                if name in rows or len(r) < len(t.columns):
                    continue
                try:
                    entry = {"used": count_cell(r[c_used])}
                except ValueError:
                    raise HwgenError(f"{path}: cannot read used count '{r[c_used]}' of '{name}'") from None
                if c_avail is not None and is_num(r[c_avail]):
                    entry["available"] = number(r[c_avail])
                if c_util is not None and r[c_util].strip():
                    entry["util_pct"] = pct_cell(r[c_util])
                rows[name] = entry
        elif first == "Ref Name" and c_used is not None:
            for r in t.rows:
                if len(r) > c_used and is_num(r[c_used]):
                    primitives[r[0].strip()] = number(r[c_used])
    found: dict[str, dict[str, Any]] = {}
    for key, names in _UTIL_ROWS.items():
        for n in names:
            if n in rows:
                found[key] = {**rows[n], "row": n}
                break
    for key in ("lut", "ff", "bram_tiles", "dsp"):
        if key not in found:
            raise HwgenError(
                f"{path}: no {' / '.join(repr(n) for n in _UTIL_ROWS[key])} row in the utilization tables "
                "(truncated or not a report_utilization file?)"
            )
    resources: dict[str, float] = {}
    available: dict[str, float] = {}
    pct: dict[str, Any] = {}
    for key, target in (("lut", "lut"), ("ff", "ff"), ("dsp", "dsp"), ("uram", "uram"), ("bram_tiles", "bram_18k")):
        if key not in found:
            continue
        entry = found[key]
        factor = 2 if key == "bram_tiles" else 1
        resources[target] = whole(entry["used"] * factor)
        if "available" in entry:
            available[target] = whole(entry["available"] * factor)
        if "util_pct" in entry:
            pct[target] = entry["util_pct"]
    extra: dict[str, Any] = {
        "build": build,
        "device": info.get("Device", ""),
        "command": info.get("Command", ""),
        "bram_tiles": found["bram_tiles"]["used"],
        "bram_tiles_available": found["bram_tiles"].get("available"),
        "lut_row": found["lut"]["row"],
        "ff_row": found["ff"]["row"],
        "utilization_pct_reported": pct,
    }
    for name, key in _UTIL_EXTRA_ROWS.items():
        if name in rows:
            extra[key] = rows[name] if name == "Bonded IOB" else rows[name]["used"]
    if primitives:
        extra["primitives"] = primitives
    extra["site_rows"] = rows  # every 'Site Type' row as reported (first occurrence of each name)
    return VendorReport(
        path=str(path), format="vivado_utilization", tool="vivado", tool_version=version,
        part=info.get("Device", ""), top=info.get("Design", ""), resources=resources, available=available,
        design_state=info.get("Design State") or None, extra=extra,
    )
