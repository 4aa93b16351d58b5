"""Intel oneAPI FPGA reports: the `reports/resources/json/*.ndjson` files of one project
(quartus, summary, area, loop_attr), read one at a time or as the folder they sit in.
"""

from __future__ import annotations

import json
from pathlib import Path

from hwgen.errors import HwgenError
from hwgen.synth.vendor_tools.reports._common import is_num, read_text
from hwgen.synth.vendor_tools.reports.quartus import area_record, map_columns, quartus_fit, report_from_parts
from hwgen.synth.vendor_tools.reports.record import VendorReport

NAME = "oneapi"

# The report files of a oneAPI project's reports/resources/json/ folder.
FILE_NAMES = ("quartus.ndjson", "summary.ndjson", "area.ndjson", "loop_attr.ndjson")


def sniff(path: Path, text: str | None) -> bool:
    """By name: a .ndjson file. By content: JSON lines (a file starting with '{')."""
    if text is None:
        return path.suffix == ".ndjson"
    return text.lstrip().startswith("{")


def parse(path: Path, text: str | None) -> VendorReport:
    return parse_ndjson_file(path, text)


def load_ndjson(path: Path, text: str | None = None) -> list[dict]:
    text = read_text(path) if text is None else text
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise HwgenError(
                f"{path}: line {n} is not valid JSON ({exc.msg}); truncated or not an ndjson report"
            ) from None
        if not isinstance(obj, dict):
            raise HwgenError(f"{path}: line {n} is not a JSON object")
        out.append(obj)
    if not out:
        raise HwgenError(f"{path}: file is empty; expected a oneAPI/Quartus report")
    return out


def parse_ndjson_file(path: Path, text: str | None = None) -> VendorReport:
    records = load_ndjson(path, text)
    first = records[0]
    if "quartusFitResourceUsageSummary" in first or "quartusFitClockSummary" in first:
        return report_from_parts(path, quartus=quartus_fit(path, first), fmt="oneapi_quartus_ndjson")
    if any(r.get("summary_type") == "estimatedResources" for r in records):
        return report_from_parts(path, estimate=_summary_record(path, records), fmt="oneapi_summary_ndjson")
    if first.get("name") == "loop_attributes":
        return report_from_parts(path, loops=_loop_record(path, records), fmt="oneapi_loop_attr_ndjson")
    if "total" in first and "columns" in first:
        return report_from_parts(path, estimate=area_record(path, first), fmt="oneapi_area_ndjson")
    raise HwgenError(
        f"{path}: JSON lines, but not a oneAPI report this reader knows (quartus, summary, area or loop_attr ndjson)"
    )


def _summary_record(path: Path, records: list[dict]) -> dict:
    head = next(r for r in records if r.get("summary_type") == "estimatedResources")
    columns = head.get("columns")
    if not isinstance(columns, list) or len(columns) < 2:
        raise HwgenError(f"{path}: the 'Estimated Resource Usage' header has no columns")
    rows = {r.get("name"): r for r in records if r.get("parent") == "estimatedResources"}
    for name in ("Total", "Available"):
        if name not in rows or not isinstance(rows[name].get("data"), list):
            raise HwgenError(f"{path}: no '{name}' row in the estimated resources (truncated?)")
    total = map_columns(path, columns[1:], rows["Total"]["data"], "Total")
    avail = map_columns(path, columns[1:], rows["Available"]["data"], "Available")
    kernels = {}
    for name, r in rows.items():
        if name in ("Total", "Available") or not isinstance(r.get("data"), list):
            continue
        kernels[name] = {k: v for k, v in map_columns(path, columns[1:], r["data"], name).items()}
    return {
        "resources": {k: v for k, v in total.items() if k != "_other"},
        "available": {k: v for k, v in avail.items() if k != "_other"},
        "other": {"total": total.get("_other", {}), "available": avail.get("_other", {})},
        "data_percent": rows["Total"].get("data_percent"),
        "rows": kernels,
        "dsp_packing_factor": head.get("dsp_packing_factor"),
    }


def _loop_record(path: Path, records: list[dict]) -> dict:
    head = records[0]
    by_id = {r.get("id"): r for r in records[1:] if "id" in r}
    wanted = list(head.get("nodes") or [])
    kernels = []
    for kid in wanted:
        k = by_id.get(kid)
        if k is None:
            raise HwgenError(f"{path}: kernel node {kid} listed in loop_attributes is missing (truncated?)")
        for child in k.get("children", []):
            if child not in by_id:
                raise HwgenError(f"{path}: loop node {child} of kernel '{k.get('name')}' is missing (truncated?)")
        kernels.append(k)
    loops = []
    for k in kernels:
        for child in k.get("children", []):
            c = by_id[child]
            entry = {"kernel": k.get("name"), "name": c.get("name"), "type": c.get("type")}
            for field_name in ("ii", "lt", "af", "pl", "tc"):
                if field_name in c:
                    entry[field_name] = c[field_name]
            loops.append(entry)
    fmaxes = [float(k["fmax"]) for k in kernels if is_num(str(k.get("fmax", "")))]
    iis = [int(l["ii"]) for l in loops if str(l.get("ii", "")).isdigit()]
    lts = [float(l["lt"]) for l in loops if is_num(str(l.get("lt", "")))]
    return {
        "kernels": [k.get("name") for k in kernels],
        "loops": loops,
        "fmax_mhz_min": min(fmaxes) if fmaxes else None,
        "loop_ii_max": max(iis) if iis else None,
        "loop_latency_max": max(lts) if lts else None,
    }


def parse_folder(files: list[Path]) -> VendorReport:
    by_name = {p.name: p for p in files}
    folder = files[0].parent
    estimate = quartus = loops = None
    if "summary.ndjson" in by_name:
        estimate = _summary_record(by_name["summary.ndjson"], load_ndjson(by_name["summary.ndjson"]))
    elif "area.ndjson" in by_name:
        estimate = area_record(by_name["area.ndjson"], load_ndjson(by_name["area.ndjson"])[0])
    if "quartus.ndjson" in by_name:
        recs = load_ndjson(by_name["quartus.ndjson"])
        fmax = recs[0].get("quartusFitClockSummary", {}).get("nodes", [{}])[0].get("clock fmax", "")
        if str(fmax).strip().upper() != "TBD":  # TBD: only the report (no Quartus compile) was built
            quartus = quartus_fit(by_name["quartus.ndjson"], recs[0])
    if "loop_attr.ndjson" in by_name:
        loops = _loop_record(by_name["loop_attr.ndjson"], load_ndjson(by_name["loop_attr.ndjson"]))
    if estimate is None and quartus is None:
        raise HwgenError(
            f"{folder}: oneAPI reports without resource data (need summary.ndjson, area.ndjson or quartus.ndjson)"
        )
    return report_from_parts(folder, estimate=estimate, quartus=quartus, loops=loops, fmt="oneapi_project")
