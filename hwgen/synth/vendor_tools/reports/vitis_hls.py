"""The Vitis HLS "Synthesis Summary" report, `csynth.rpt` ("== Synthesis Summary Report of
'<top>'"): one Performance & Resource Estimates table whose resource cells read like
`2557 (20%)`. Vitis HLS writes it next to the classic `<top>_csynth.rpt` (`hls_csynth`).
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
    csynth_header,
    int_or_none,
    is_num,
    need_table,
    next_table,
    pct_cell,
    read_text,
    time_ns,
)
from hwgen.synth.vendor_tools.reports.record import VendorReport

NAME = "vitis_hls"

_TITLE = re.compile(r"^== Synthesis Summary Report of '", re.M)


def sniff(path: Path, text: str | None) -> bool:
    """By content only: the file name (csynth.rpt) is shared with the classic report."""
    return text is not None and bool(_TITLE.search(text))


def parse(path: Path, text: str | None) -> VendorReport:
    return parse_synthesis_summary(path, read_text(path) if text is None else text)


def _split_count_pct(cell: str) -> tuple[int | float, str | float | None]:
    t = cell.strip()
    if t == "-":
        return 0, None
    m = re.fullmatch(r"(\S+)\s*\(([^)]*)\)", t)
    if m:
        return count_cell(m.group(1)), pct_cell(m.group(2))
    return count_cell(t), None


def parse_synthesis_summary(path: Path, text: str) -> VendorReport:
    lines = text.splitlines()
    top = re.search(r"^== Synthesis Summary Report of '([^']+)'", text, re.M).group(1)
    check_ends_with_table(path, lines)
    version, part, extra = csynth_header(path, lines, "the General Information section")
    p_at = find_line(lines, r"^\+ Performance & Resource Estimates")
    perf = need_table(path, next_table(lines, p_at + 1) if p_at is not None else None, "Performance & Resource Estimates")
    cols = {
        "latency": perf.col("latency", "cycles"),
        "latency_ns": perf.col("latency", "(ns)"),
        "interval": perf.col("interval"),
        "pipelined": perf.col("pipelined"),
        "slack": perf.col("slack"),
        "bram_18k": perf.col("bram"),
        "dsp": perf.col("dsp"),
        "ff": perf.col("ff"),
        "lut": perf.col("lut"),
        "uram": perf.col("uram"),
    }
    missing = [k for k, v in cols.items() if v is None and k not in ("slack", "latency_ns", "uram")]
    if missing:
        raise HwgenError(f"{path}: the Performance & Resource Estimates table lacks columns {missing}")
    top_row = next((r for r in perf.rows if r and r[0].startswith("+ ")), None)
    if top_row is None or len(top_row) < len(perf.columns):
        raise HwgenError(f"{path}: no complete top-module row in the Performance & Resource Estimates table")
    name = top_row[0][2:].strip()
    if name.rstrip("*") != top:
        raise HwgenError(f"{path}: first module row is '{name}', expected the top '{top}'")
    resources: dict[str, float] = {}
    pct: dict[str, Any] = {}
    try:
        for key in ("bram_18k", "dsp", "ff", "lut", "uram"):
            if cols[key] is None:
                continue
            value, p = _split_count_pct(top_row[cols[key]])
            resources[key] = value
            if p is not None:
                pct[key] = p
        latency = int_or_none(top_row[cols["latency"]])
        interval = int_or_none(top_row[cols["interval"]])
        if cols["latency_ns"] is not None:
            extra["latency_max_ns"] = time_ns(top_row[cols["latency_ns"]], "ns")
        if cols["slack"] is not None and is_num(top_row[cols["slack"]]):
            extra["slack_ns"] = float(top_row[cols["slack"]])
    except ValueError as exc:
        raise HwgenError(f"{path}: cannot read '{exc}' in the top-module row {top_row}") from None
    extra["dataflow"] = name.endswith("*")
    extra["utilization_pct_reported"] = pct
    extra["latency_note"] = "the Synthesis Summary gives one (worst-case) latency and interval; stored as the max"
    return VendorReport(
        path=str(path), format="synthesis_summary_rpt", tool="vitis_hls", tool_version=version, part=part,
        top=top, latency_max=latency, interval_max=interval,
        pipeline_type=top_row[cols["pipelined"]].strip().lower(), resources=resources, extra=extra,
    )
