"""The older Intel HLS compiler (i++) reports: `reports/lib/json/*.json` or the JavaScript
`reports/lib/*_data.js` that carry the same JSON (`var areaJSON = {...}`).

No genuine fixture exists for these; the structure follows hls4ml's Quartus report reader
(areaJSON.total = [ALUTs, FFs, RAMs, DSPs, MLABs]; quartusJSON.quartusFit*; verifJSON.functions
[0].data = [invocations, "min,max,avg" latency, "min,max,avg" II]).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError
from hwgen.synth.vendor_tools.reports._common import read_text
from hwgen.synth.vendor_tools.reports.quartus import area_record, quartus_fit, report_from_parts
from hwgen.synth.vendor_tools.reports.record import VendorReport

NAME = "intel_hls"

# The report files of an i++ project's reports/lib/ (json/) folder.
FILE_NAMES = ("quartus.json", "area.json", "report_data.js", "quartus_data.js", "verification_data.js")
_SUFFIXES = (".json", ".js")


def sniff(path: Path, text: str | None) -> bool:
    """By name only: a .json or .js file."""
    return text is None and path.suffix in _SUFFIXES


def parse(path: Path, text: str | None) -> VendorReport:
    return parse_files([path])


def _js_vars(path: Path, text: str) -> dict[str, Any]:
    out = {}
    dec = json.JSONDecoder()
    for m in re.finditer(r"\bvar\s+([A-Za-z_$][\w$]*)\s*=\s*", text):
        try:
            value, _ = dec.raw_decode(text, m.end())
        except json.JSONDecodeError:
            continue
        out[m.group(1)] = value
    if not out:
        raise HwgenError(
            f"{path}: no JSON-literal 'var NAME = {{...}}' in this JavaScript report (truncated, or not an i++ report)"
        )
    return out


def _load_json(path: Path) -> dict[str, Any]:
    text = read_text(path)
    if path.suffix == ".js":
        return _js_vars(path, text)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HwgenError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); truncated?") from None
    if not isinstance(obj, dict):
        raise HwgenError(f"{path}: expected a JSON object")
    return obj


def parse_files(files: list[Path]) -> VendorReport:
    estimate = quartus = verification = None
    for path in files:
        obj = _load_json(path)
        if "areaJSON" in obj or ("total" in obj and "columns" in obj):
            estimate = area_record(path, obj.get("areaJSON", obj))
        if "quartusJSON" in obj or "quartusFitResourceUsageSummary" in obj:
            quartus = quartus_fit(path, obj)
        if "verifJSON" in obj:
            verification = _verification(path, obj["verifJSON"])
        if estimate is None and quartus is None and verification is None and len(files) == 1:
            raise HwgenError(
                f"{path}: JSON, but not an Intel HLS report this reader knows (areaJSON/area.json, "
                "quartusJSON/quartus.json, verifJSON)"
            )
    if estimate is None and quartus is None:
        raise HwgenError(
            f"{files[0].parent}: i++ reports without resource data (need area.json/report_data.js or quartus)"
        )
    return report_from_parts(files[0] if len(files) == 1 else files[0].parent, estimate=estimate, quartus=quartus,
                              verification=verification, fmt="intel_hls_json", tool="intel_hls")


def _verification(path: Path, verif: dict) -> dict:
    try:
        data = verif["functions"][0]["data"]
        lat = [x.strip() for x in str(data[1]).split(",")]
        ii = [x.strip() for x in str(data[2]).split(",")]
        return {"invocations": data[0], "latency_min": int(lat[0]), "latency_max": int(lat[1]),
                "latency_avg": float(lat[2]), "ii_min": int(ii[0]), "ii_max": int(ii[1]), "ii_avg": float(ii[2])}
    except (KeyError, IndexError, TypeError, ValueError):
        raise HwgenError(
            f"{path}: verifJSON.functions[0].data is not [invocations, 'min,max,avg', 'min,max,avg']"
        ) from None
