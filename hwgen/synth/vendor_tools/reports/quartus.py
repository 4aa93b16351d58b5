"""Intel FPGA data that both Intel report families carry (oneAPI `oneapi`, the older i++
`intel_hls`): the Quartus fitter summary (fmax and post-fit resources), the HLS area table, the
column names of both, and the assembly of one `VendorReport` from those parts. No file format
of its own: quartus.ndjson is oneAPI's, quartus.json / quartus_data.js are i++'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError
from hwgen.synth.vendor_tools.reports._common import is_num, number
from hwgen.synth.vendor_tools.reports.record import VendorReport

# Intel column names (lower case, trailing '.' dropped) -> hwgen's resource keys.
_COLUMNS = {"aluts": "alut", "alut": "alut", "ffs": "ff", "ff": "ff", "registers": "ff", "reg": "ff",
            "rams": "ram", "ram": "ram", "dsps": "dsp", "dsp": "dsp", "mlabs": "mlab", "mlab": "mlab"}


def _num_field(path: Path, value, what: str) -> int | float:
    t = str(value).strip()
    if not is_num(t):
        raise HwgenError(f"{path}: {what} is '{t}', not a number")
    return number(t)


def quartus_fit(path: Path, obj: dict) -> dict:
    """Quartus fitter summary {quartusFitClockSummary, quartusFitResourceUsageSummary}."""
    if "quartusJSON" in obj:
        obj = obj["quartusJSON"]
    try:
        clocks = obj["quartusFitClockSummary"]["nodes"]
        nodes = obj["quartusFitResourceUsageSummary"]["nodes"]
    except (KeyError, TypeError):
        raise HwgenError(
            f"{path}: Quartus data lacks quartusFitClockSummary/quartusFitResourceUsageSummary nodes"
        ) from None
    if not clocks or not nodes:
        raise HwgenError(f"{path}: Quartus fit summary has no nodes")
    fmax_text = clocks[0].get("clock fmax", clocks[0].get("clock"))
    if fmax_text is None or str(fmax_text).strip().upper() == "TBD":
        raise HwgenError(
            f"{path}: Quartus fmax is '{fmax_text}': the Quartus compile has not run; build with the fpga target"
        )
    kernels = [n for n in nodes if n.get("type") == "kernel"]
    node = kernels[0] if len(kernels) == 1 else next((n for n in nodes if n.get("type") == "system"), nodes[-1])
    resources = {}
    for field_name, key in (("alut", "alut"), ("reg", "ff"), ("ram", "ram"), ("dsp", "dsp"), ("mlab", "mlab")):
        if field_name not in node:
            raise HwgenError(f"{path}: Quartus resource node '{node.get('name')}' has no '{field_name}'")
        resources[key] = _num_field(path, node[field_name], f"Quartus {field_name}")
    out = {
        "resources": resources,
        "fmax_mhz": float(_num_field(path, fmax_text, "Quartus clock fmax")),
        "node": node.get("name", ""),
        "nodes": {n.get("name", str(i)): {k: v for k, v in n.items() if k not in ("type", "id", "name")}
                  for i, n in enumerate(nodes)},
    }
    if "alm" in node:
        out["alm"] = _num_field(path, node["alm"], "Quartus alm")
    return out


def map_columns(path: Path, columns: list[str], values: list, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    extra: dict[str, float] = {}
    for name, value in zip(columns, values):
        key = _COLUMNS.get(name.strip().lower().rstrip("."))
        label = name.strip()
        if key is None:
            if label and label.lower() != "details":
                extra[label] = _num_field(path, value, f"{what} {label}")
            continue
        out[key] = _num_field(path, value, f"{what} {label}")
    return {**out, **({"_other": extra} if extra else {})}


def area_record(path: Path, obj: dict) -> dict:
    """Area record: {'columns': [...], 'total': [...], 'max_resources': [...]} (oneAPI area.ndjson
    first line; older i++ areaJSON)."""
    columns = obj.get("columns") or ["", "ALUTs", "FFs", "RAMs", "DSPs", "MLABs"]
    total = obj.get("total")
    if not isinstance(total, list) or not total:
        raise HwgenError(f"{path}: area data has no 'total' list")
    data_cols = [c for c in columns[1:] if str(c).strip().lower() != "details"]
    res = map_columns(path, data_cols[: len(total)], total, "total")
    out = {"resources": {k: v for k, v in res.items() if k != "_other"},
           "other": {"total": res.get("_other", {})}, "total_percent": obj.get("total_percent")}
    mx = obj.get("max_resources")
    if isinstance(mx, list):
        av = map_columns(path, data_cols[: len(mx)], mx, "max_resources")
        out["available"] = {k: v for k, v in av.items() if k != "_other"}
    if obj.get("name"):
        out["name"] = obj["name"]
    return out


def report_from_parts(path, *, estimate: dict | None = None, quartus: dict | None = None,
                       loops: dict | None = None, verification: dict | None = None, fmt: str,
                       tool: str = "oneapi") -> VendorReport:
    extra: dict[str, Any] = {}
    resources: dict[str, float] = {}
    available: dict[str, float] = {}
    if estimate is not None:
        resources = dict(estimate["resources"])
        available = dict(estimate.get("available", {}))
        extra["hls_estimate"] = {k: v for k, v in estimate.items() if k not in ("available",)}
    if quartus is not None:
        resources = dict(quartus["resources"])
        extra["quartus_fit"] = {k: v for k, v in quartus.items() if k not in ("resources",)}
        extra["fmax_mhz"] = quartus["fmax_mhz"]
        if "alm" in quartus:
            extra["alm"] = quartus["alm"]
        if estimate is not None:
            extra["hls_estimate_resources"] = dict(estimate["resources"])
    if loops is not None:
        extra["loops"] = loops["loops"]
        extra["kernels"] = loops["kernels"]
        extra["loop_fmax_mhz_min"] = loops["fmax_mhz_min"]
        extra["loop_ii_max"] = loops["loop_ii_max"]
        extra["loop_latency_max"] = loops["loop_latency_max"]
        extra["latency_note"] = "loop_attr gives per-loop II/latency, not the kernel's end-to-end latency"
    lat_min = lat_max = ii_min = ii_max = None
    if verification is not None:
        lat_min, lat_max = verification.get("latency_min"), verification.get("latency_max")
        ii_min, ii_max = verification.get("ii_min"), verification.get("ii_max")
        extra["verification"] = verification
    return VendorReport(
        path=str(path), format=fmt, tool=tool, resources=resources, available=available,
        latency_min=lat_min, latency_max=lat_max, interval_min=ii_min, interval_max=ii_max,
        design_state="Fitted" if quartus is not None else None, extra=extra,
    )
