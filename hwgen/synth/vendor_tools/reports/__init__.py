"""Readers for vendor synthesis reports, normalized into one `VendorReport` record: one module
per report family, each offering `sniff(path, text) -> bool` and `parse(path, text) ->
VendorReport`, asked in turn by `parse_report_file`.

| module | reports (see tests/fixtures/vendor-reports/README.md for which are backed by genuine files) |
|---|---|
| `hls_csynth` | Vivado HLS / Vitis HLS `<top>_csynth.rpt` and `<top>_csynth.xml` / `csynth.xml` |
| `vitis_hls` | the Vitis "Synthesis Summary" `csynth.rpt` (cells like `2557 (20%)`) |
| `vivado` | Vivado `report_utilization` (`vivado_synth.rpt`, `*utilization*.rpt`), 7-series and UltraScale(+) |
| `oneapi` | Intel oneAPI `reports/resources/json/*.ndjson` (quartus, summary, area, loop_attr) |
| `intel_hls` | the older Intel HLS compiler (i++) `reports/lib/json/*.json`, `reports/lib/*_data.js` |

`quartus` holds the Intel data both Intel families carry, `hls_cosim` the C/RTL co-simulation
summary the vendor flow attaches to a C-synthesis record, `discover` the search of a project
folder, `_common` the table, number and file helpers every parser uses.

A report that is empty, binary, foreign, truncated or lacks a table the record needs raises
`HwgenError` naming the file and what is missing; no number is ever defaulted.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

from hwgen.errors import HwgenError
from hwgen.synth.vendor_tools.reports import hls_csynth, intel_hls, oneapi, vitis_hls, vivado
from hwgen.synth.vendor_tools.reports._common import read_text
from hwgen.synth.vendor_tools.reports.discover import discover, find_reports
from hwgen.synth.vendor_tools.reports.record import VendorReport

__all__ = ["FAMILIES", "VendorReport", "family_for", "find_reports", "parse_report", "parse_report_file"]

# The registry, in the order the families are asked: the first whose sniff says yes parses the
# file. The order only matters for content that could pass two sniffs: a file starting with '{'
# is JSON lines (oneapi) whatever it contains, and hls_csynth takes XML before vitis_hls looks.
FAMILIES: tuple[ModuleType, ...] = (oneapi, intel_hls, hls_csynth, vitis_hls, vivado)


def family_for(path: Path) -> tuple[ModuleType, str | None]:
    """The family that reads `path`, and the text it was recognised by (None when the file name
    alone decided: those families read, and refuse, the file themselves)."""
    for family in FAMILIES:
        if family.sniff(path, None):
            return family, None
    text = read_text(path)
    for family in FAMILIES:
        if family.sniff(path, text):
            return family, text
    raise HwgenError(
        f"{path}: not a recognised vendor report (expected a Vivado/Vitis HLS *_csynth.rpt or csynth.xml, "
        "a Vitis Synthesis Summary csynth.rpt, a Vivado report_utilization file, or oneAPI/i++ ndjson/json)"
    )


def parse_report_file(path: str | os.PathLike) -> VendorReport:
    """Read one report file with the family that recognises it."""
    path = Path(path)
    family, text = family_for(path)
    return family.parse(path, text)


def parse_report(path: str | os.PathLike) -> VendorReport:
    """Read a report file, or find the main report inside a project/solution directory
    (preference: HLS C-synthesis report, oneAPI reports, i++ reports, Vivado utilization)."""
    path = Path(path)
    if not path.exists():
        raise HwgenError(f"{path}: no such file or directory")
    if not path.is_dir():
        return parse_report_file(path)
    found, problems = discover(path)
    for kind in ("hls", "oneapi", "intel_hls", "utilization"):
        if kind in found:
            return _parse_found(kind, found[kind])
        if kind in problems:
            raise HwgenError(problems[kind])
    raise HwgenError(
        f"{path}: no vendor report found inside (looked for *_csynth.xml, *_csynth.rpt, csynth.rpt, "
        "vivado_synth.rpt, *utilization*.rpt, oneAPI reports/resources/json/*.ndjson, i++ reports/lib/json); "
        "run the vendor synthesis first or pass the report file"
    )


def _parse_found(kind: str, found: Path | list[Path]) -> VendorReport:
    """A report kind `discover` found: the Intel kinds are a folder's set of files, read together."""
    if kind == "oneapi":
        return oneapi.parse_folder(found)
    if kind == "intel_hls":
        return intel_hls.parse_files(found)
    return parse_report_file(found)
