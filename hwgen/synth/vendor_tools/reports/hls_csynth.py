"""The C-synthesis report that Vivado HLS and Vitis HLS both write, in its two forms:

- `<top>_csynth.rpt` ("== Vivado HLS Report for '<top>'" / "== Vitis HLS Report for '<top>'"):
  timing, latency and utilization summary tables;
- `<top>_csynth.xml` / `csynth.xml` (a `<profile>` document) with the same figures.

One module for both tools because it is one format; which tool wrote a file is read from the
report itself (its title line, or the XML's DSP48E vs DSP element). The Vitis-only
"Synthesis Summary" csynth.rpt is `vitis_hls`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError
from hwgen.synth.vendor_tools.reports._common import (
    UNITS_NS,
    Table,
    check_ends_with_table,
    count_cell,
    find_line,
    csynth_header,
    int_or_none,
    is_num,
    need_table,
    next_table,
    number,
    pct_cell,
    read_text,
    time_ns,
)
from hwgen.synth.vendor_tools.reports.record import VendorReport

NAME = "hls_csynth"

# Vitis/Vivado HLS write 2**32-1 when no initiation interval target was set.
II_UNSET = 4294967295

# The tools' resource column (and XML element) names -> hwgen's resource keys.
RESOURCE_COLUMNS = {"BRAM_18K": "bram_18k", "BRAM": "bram_18k", "DSP48E": "dsp", "DSP": "dsp", "DSP48": "dsp",
                    "FF": "ff", "LUT": "lut", "URAM": "uram"}

_RPT_TITLE = re.compile(r"^== (Vivado|Vitis) HLS Report for '", re.M)
# The Vitis Synthesis Summary is another document (vitis_hls), even where it shares this title.
_SUMMARY_TITLE = re.compile(r"^== Synthesis Summary Report of '", re.M)


def sniff(path: Path, text: str | None) -> bool:
    """By name: a .xml file. By content: an XML document, or a csynth.rpt title line."""
    if text is None:
        return path.suffix == ".xml"
    return text.lstrip().startswith("<") or (bool(_RPT_TITLE.search(text)) and not _SUMMARY_TITLE.search(text))


def parse(path: Path, text: str | None) -> VendorReport:
    text = read_text(path) if text is None else text
    if path.suffix == ".xml" or text.lstrip().startswith("<"):
        return parse_csynth_xml(path, text)
    return parse_csynth_rpt(path, text)


# --------------------------------------------------------------------------------------------
# <top>_csynth.rpt


def parse_csynth_rpt(path: Path, text: str) -> VendorReport:
    lines = text.splitlines()
    m = re.search(r"^== (Vivado|Vitis) HLS Report for '([^']+)'", text, re.M)
    tool = "vivado_hls" if m.group(1) == "Vivado" else "vitis_hls"
    top = m.group(2)
    check_ends_with_table(path, lines)
    version, part, extra = csynth_header(path, lines, "the report header")

    # Timing summary
    t_at = find_line(lines, r"^\s*\+ Timing\b")
    timing = need_table(path, next_table(lines, t_at + 1) if t_at is not None else None, "timing summary")
    unit = "ns" if t_at is not None and "(ns)" in lines[t_at] else None
    ci_t, ci_e, ci_u = timing.col("target"), timing.col("estimated"), timing.col("uncertainty")
    if None in (ci_t, ci_e, ci_u):
        raise HwgenError(f"{path}: the timing summary has no Target/Estimated/Uncertainty columns")
    clk_row = timing.row("ap_clk") or timing.rows[0]
    try:
        target = time_ns(clk_row[ci_t], unit or "ns")
        estimated = time_ns(clk_row[ci_e], unit or "ns")
        uncertainty = time_ns(clk_row[ci_u], unit or "ns")
    except (ValueError, IndexError):
        raise HwgenError(f"{path}: cannot read the clock row of the timing summary: {clk_row}") from None
    if target is None:
        raise HwgenError(f"{path}: the timing summary gives no target clock period")
    extra["clock_name"] = clk_row[0]

    # Latency summary
    l_at = find_line(lines, r"^\s*\+ Latency\b")
    lat = need_table(path, next_table(lines, l_at + 1) if l_at is not None else None, "latency summary")
    c_lmin = lat.col("latency", "min", exclude=("absolute",))
    c_lmax = lat.col("latency", "max", exclude=("absolute",))
    c_amin, c_amax = lat.col("absolute", "min"), lat.col("absolute", "max")
    c_imin, c_imax = lat.col("interval", "min"), lat.col("interval", "max")
    c_pipe = lat.col("pipeline")
    if None in (c_lmin, c_lmax, c_imin, c_imax):
        raise HwgenError(f"{path}: the latency summary lacks latency/interval min/max columns ({lat.columns})")
    row = lat.rows[0]
    try:
        lmin, lmax = int_or_none(row[c_lmin]), int_or_none(row[c_lmax])
        imin, imax = int_or_none(row[c_imin]), int_or_none(row[c_imax])
        if c_amin is not None:
            extra["latency_min_ns"] = time_ns(row[c_amin])
            extra["latency_max_ns"] = time_ns(row[c_amax])
    except (ValueError, IndexError):
        raise HwgenError(f"{path}: cannot read the latency summary row: {row}") from None
    pipeline = row[c_pipe].strip().lower() if c_pipe is not None and c_pipe < len(row) else None

    # Utilization summary
    u_sec = find_line(lines, r"^== Utilization Estimates")
    u_at = find_line(lines, r"^\s*\* Summary:", u_sec + 1) if u_sec is not None else None
    util = need_table(path, next_table(lines, u_at + 1) if u_at is not None else None, "utilization summary")
    resources, available, pct = _util_rows(path, util)
    slr = util.row("Available SLR")
    if slr is not None:
        extra["available_slr"] = _row_values(path, util, slr)
    if pct is not None:
        extra["utilization_pct_reported"] = pct
    slr_pct = _pct_row(util, "Utilization SLR (%)")
    if slr_pct is not None:
        extra["utilization_slr_pct_reported"] = slr_pct
    # The interface section closes every C-synthesis report; without it the file was cut short.
    i_at = find_line(lines, r"^== Interface\b", util.end)
    need_table(path, next_table(lines, i_at + 1) if i_at is not None else None, "Interface summary")
    return VendorReport(
        path=str(path), format="csynth_rpt", tool=tool, tool_version=version, part=part, top=top,
        clock_target_ns=target, clock_estimated_ns=estimated, clock_uncertainty_ns=uncertainty,
        latency_min=lmin, latency_max=lmax, interval_min=imin, interval_max=imax, pipeline_type=pipeline,
        resources=resources, available=available, extra=extra,
    )


def _row_values(path: Path, table: Table, row: list[str]) -> dict[str, int | float]:
    out = {}
    for i, name in enumerate(table.columns[1:], start=1):
        key = RESOURCE_COLUMNS.get(name.strip())
        if key is None:
            continue
        if i >= len(row):
            raise HwgenError(f"{path}: row '{row[0]}' of the utilization table is cut short")
        try:
            out[key] = count_cell(row[i])
        except ValueError:
            raise HwgenError(f"{path}: cannot read '{row[i]}' in row '{row[0]}' of the utilization table") from None
    return out


def _util_rows(path: Path, util: Table):
    if not any(RESOURCE_COLUMNS.get(c.strip()) for c in util.columns):
        raise HwgenError(f"{path}: the utilization summary has no BRAM/DSP/FF/LUT columns ({util.columns})")
    total = util.row("Total")
    if total is None:
        raise HwgenError(f"{path}: the utilization summary has no 'Total' row (truncated?)")
    avail = util.row("Available")
    if avail is None:
        raise HwgenError(f"{path}: the utilization summary has no 'Available' row (truncated?)")
    resources = _row_values(path, util, total)
    available = _row_values(path, util, avail)
    return resources, available, _pct_row(util, "Utilization (%)")


def _pct_row(util: Table, name: str) -> dict[str, Any] | None:
    row = util.row(name)
    if row is None:
        return None
    pct = {}
    for i, col in enumerate(util.columns[1:], start=1):
        key = RESOURCE_COLUMNS.get(col.strip())
        if key and i < len(row):
            pct[key] = pct_cell(row[i])
    return pct


# --------------------------------------------------------------------------------------------
# csynth.xml


def parse_csynth_xml(path: Path, text: str) -> VendorReport:
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise HwgenError(f"{path}: XML with a DOCTYPE/ENTITY declaration is not an HLS csynth.xml; refusing it")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise HwgenError(f"{path}: not well-formed XML ({exc}); truncated or not a csynth.xml") from None
    if root.tag != "profile":
        raise HwgenError(f"{path}: XML root is <{root.tag}>, expected <profile> of an HLS csynth.xml")

    def get(xpath: str, required: bool = True) -> str | None:
        node = root.find(xpath)
        if node is None or node.text is None or not node.text.strip():
            if required:
                raise HwgenError(f"{path}: csynth.xml has no <{xpath.split('/')[-1]}> ({xpath})")
            return None
        return node.text.strip()

    version = get("ReportVersion/Version")
    part = get("UserAssignments/Part")
    top = get("UserAssignments/TopModelName")
    unit = get("UserAssignments/unit", required=False) or "ns"
    target = _xml_time(path, get("UserAssignments/TargetClockPeriod"), unit)
    unc_text = get("UserAssignments/ClockUncertainty", required=False)
    uncertainty = _xml_time(path, unc_text, unit) if unc_text else None
    est_unit = get("PerformanceEstimates/SummaryOfTimingAnalysis/unit", required=False) or unit
    estimated = _xml_time(path, get("PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod"), est_unit)
    lat = "PerformanceEstimates/SummaryOfOverallLatency/"
    try:
        lmin = int_or_none(get(lat + "Best-caseLatency"))
        lmax = int_or_none(get(lat + "Worst-caseLatency"))
        imin = int_or_none(get(lat + "Interval-min"))
        imax = int_or_none(get(lat + "Interval-max"))
    except ValueError as exc:
        raise HwgenError(f"{path}: cannot read latency/interval value '{exc}'") from None
    extra: dict[str, Any] = {"product_family": get("UserAssignments/ProductFamily", required=False) or ""}
    avg = get(lat + "Average-caseLatency", required=False)
    if avg is not None:
        try:
            extra["latency_avg"] = int_or_none(avg)
        except ValueError:
            extra["latency_avg"] = avg
    for tag, key in (("Best-caseRealTimeLatency", "latency_min_ns"), ("Worst-caseRealTimeLatency", "latency_max_ns")):
        value = get(lat + tag, required=False)
        if value is not None:
            try:
                extra[key] = time_ns(value, "ns")
            except ValueError:
                extra[key] = None
    for tag, key in (("PipelineInitiationInterval", "pipeline_ii"), ("PipelineDepth", "pipeline_depth")):
        value = get(lat + tag, required=False)
        if value is not None and value.isdigit():
            extra[key] = int(value)
    node = root.find(lat + "DataflowPipelineThroughput")
    if node is not None:
        rng = node.find("range")
        if rng is not None:
            extra["dataflow_throughput_min"] = int_or_none((rng.findtext("min") or "").strip() or "?")
            extra["dataflow_throughput_max"] = int_or_none((rng.findtext("max") or "").strip() or "?")
        elif node.text and node.text.strip():
            value = int_or_none(node.text.strip()) if node.text.strip().isdigit() else None
            extra["dataflow_throughput_min"] = extra["dataflow_throughput_max"] = value
    tii = get("UserAssignments/TargetInitiationInterval", required=False)
    if tii is not None:
        extra["target_initiation_interval"] = None if tii == str(II_UNSET) else int_or_none(tii)
    flow = get("UserAssignments/FlowTarget", required=False)
    if flow is not None:
        extra["flow_target"] = flow
    res_node, avail_node = root.find("AreaEstimates/Resources"), root.find("AreaEstimates/AvailableResources")
    if res_node is None:
        raise HwgenError(f"{path}: csynth.xml has no <AreaEstimates><Resources>")
    resources = _xml_resources(path, res_node)
    if "lut" not in resources or "ff" not in resources:
        raise HwgenError(f"{path}: csynth.xml <Resources> lacks LUT/FF")
    available = _xml_resources(path, avail_node) if avail_node is not None else {}
    tags = {c.tag for c in res_node}
    tool = "vivado_hls" if "DSP48E" in tags else "vitis_hls"
    extra["tool_inferred_from"] = (
        "DSP48E element (Vivado HLS naming)" if tool == "vivado_hls" else "DSP element (Vitis HLS naming)"
    )
    return VendorReport(
        path=str(path), format="csynth_xml", tool=tool, tool_version=version, part=part, top=top,
        clock_target_ns=target, clock_estimated_ns=estimated, clock_uncertainty_ns=uncertainty,
        latency_min=lmin, latency_max=lmax, interval_min=imin, interval_max=imax,
        pipeline_type=(get("PerformanceEstimates/PipelineType", required=False) or "").lower() or None,
        resources=resources, available=available, extra=extra,
    )


def _xml_time(path: Path, text: str | None, unit: str) -> float | None:
    if text is None:
        return None
    try:
        return time_ns(text, unit if unit in UNITS_NS else "ns")
    except ValueError:
        raise HwgenError(f"{path}: cannot read time value '{text}'") from None


def _xml_resources(path: Path, node) -> dict[str, float]:
    out = {}
    for child in node:
        key = RESOURCE_COLUMNS.get(child.tag)
        if key is None:
            continue
        t = (child.text or "").strip()
        if not is_num(t):
            raise HwgenError(f"{path}: <{child.tag}> value '{t}' is not a number")
        out[key] = number(t)
    return out
