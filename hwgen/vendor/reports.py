"""Readers for vendor synthesis reports, normalized into one `VendorReport` record.

Formats (see tests/fixtures/vendor-reports/README.md for which are backed by genuine files):

- Vivado HLS / Vitis HLS C-synthesis report `<top>_csynth.rpt` ("== Vivado HLS Report for",
  "== Vitis HLS Report for"): timing, latency and utilization summary tables.
- The same tools' `<top>_csynth.xml` / `csynth.xml` (`<profile>` document).
- The Vitis "Synthesis Summary" `csynth.rpt` ("== Synthesis Summary Report of"), whose
  resource cells read like `2557 (20%)`.
- Vivado `report_utilization` output (hls4ml's `vivado_synth.rpt`, `*utilization*.rpt`) for
  7-series ("Slice LUTs") and UltraScale(+) ("CLB LUTs") parts; Block RAM tiles are reported
  as `bram_18k = 2 * tiles` with the tile count kept in `extra`.
- Intel oneAPI FPGA reports (`reports/resources/json/*.ndjson`: quartus, summary, area,
  loop_attr) and the older Intel HLS compiler (i++) JSON (`reports/lib/json/*.json`,
  `reports/lib/*_data.js`).

A report that is empty, binary, foreign, truncated or lacks a table the record needs raises
`HwgenError` naming the file and what is missing; no number is ever defaulted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from hwgen.errors import HwgenError
from hwgen.results import RESOURCE_KEYS, SynthResult

# Vitis/Vivado HLS write 2**32-1 when no initiation interval target was set.
_II_UNSET = 4294967295
_MAX_BYTES = 64 * 1024 * 1024


@dataclass
class VendorReport:
    path: str
    format: str  # csynth_rpt, csynth_xml, synthesis_summary_rpt, vivado_utilization, oneapi_*, intel_hls_json
    tool: str  # vivado_hls, vitis_hls, vivado, oneapi, quartus, intel_hls
    tool_version: str = ""
    part: str = ""
    top: str = ""
    clock_target_ns: float | None = None
    clock_estimated_ns: float | None = None
    clock_uncertainty_ns: float | None = None
    latency_min: int | None = None  # cycles
    latency_max: int | None = None
    interval_min: int | None = None  # cycles
    interval_max: int | None = None
    pipeline_type: str | None = None
    resources: dict[str, float] = field(default_factory=dict)  # RESOURCE_KEYS -> used
    available: dict[str, float] = field(default_factory=dict)  # what the report says the part has
    design_state: str | None = None  # Vivado utilization: 'Synthesized', 'Fully Placed', ...
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def kind(self) -> str:
        """The SynthResult kind this report stands for."""
        if self.format == "vivado_utilization":
            state = (self.design_state or "").lower()
            return "placed" if ("placed" in state or "route" in state) else "synthesized"
        if self.extra.get("quartus_fit"):
            return "placed"
        return "parsed"

    @property
    def source(self) -> str:
        return f"vendor:{self.tool}-{self.tool_version}" if self.tool_version else f"vendor:{self.tool}"

    def to_synth_result(self, board=None) -> SynthResult:
        """This report as a `SynthResult`; with a `hwgen.boards.Board`, utilization is filled in."""
        notes: list[str] = []
        clock_mhz = 1000.0 / self.clock_target_ns if self.clock_target_ns else None
        fmax = self.extra.get("fmax_mhz")
        if fmax is None and self.clock_estimated_ns:
            fmax = 1000.0 / self.clock_estimated_ns
            notes.append("fmax_mhz is the HLS estimate (1000 / estimated clock period), not a post-route figure")
        latency_ns = None
        stated_ns = self.extra.get("latency_max_ns")
        if self.latency_max is not None:
            if fmax:
                latency_ns = self.latency_max * 1000.0 / fmax
                if stated_ns is not None:
                    notes.append(
                        f"latency_ns is at fmax; at the target clock the report states {stated_ns:g} ns"
                    )
            elif clock_mhz:
                latency_ns = self.latency_max * 1000.0 / clock_mhz
        if latency_ns is None and stated_ns is not None:
            latency_ns = float(stated_ns)
            notes.append("latency_ns is the absolute latency the report states (at its target clock)")
        if self.format == "vivado_utilization":
            notes.append(f"Vivado utilization of the netlist (Design State: {self.design_state or 'not stated'})")
        elif self.kind == "parsed" and "loop_attr" not in self.format:
            notes.append("HLS estimate (before logic synthesis), not a post-implementation count")
        details = {
            "format": self.format,
            "report_path": self.path,
            "report_part": self.part,
            "top": self.top,
            "pipeline_type": self.pipeline_type,
            "clock_target_ns": self.clock_target_ns,
            "clock_estimated_ns": self.clock_estimated_ns,
            "clock_uncertainty_ns": self.clock_uncertainty_ns,
            "available": dict(self.available),
            "design_state": self.design_state,
            "extra": dict(self.extra),
        }
        result = SynthResult(
            source=self.source,
            kind=self.kind,
            tool=self.tool,
            tool_version=self.tool_version,
            board="",
            part=self.part,
            resources={k: v for k, v in self.resources.items() if k in RESOURCE_KEYS},
            latency_cycles_min=self.latency_min,
            latency_cycles_max=self.latency_max,
            ii_min=self.interval_min,
            ii_max=self.interval_max,
            clock_mhz=clock_mhz,
            fmax_mhz=fmax,
            latency_ns=latency_ns,
            details=details,
            notes=notes,
        )
        if board is not None:
            if self.part and _norm_part(self.part) != _norm_part(board.part):
                result.notes.append(
                    f"the report's part {self.part} differs from board {board.name}'s part {board.part}; "
                    "utilization is against the board"
                )
            result = result.with_board(board)
        return result


# --------------------------------------------------------------------------------------------
# entry points


def parse_report(path: str | os.PathLike) -> VendorReport:
    """Read a report file, or find the main report inside a project/solution directory
    (preference: HLS C-synthesis report, oneAPI reports, i++ reports, Vivado utilization)."""
    path = Path(path)
    if not path.exists():
        raise HwgenError(f"{path}: no such file or directory")
    if not path.is_dir():
        return parse_report_file(path)
    found, problems = _discover(path)
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


def find_reports(root: str | os.PathLike) -> dict[str, Path | list[Path]]:
    """The reports inside a project directory, by kind: 'hls' (the top's C-synthesis report),
    'utilization' (one Vivado utilization report), 'oneapi' (the ndjson files of one project),
    'intel_hls' (the i++ json/js files). Kinds without a report, or with several candidates and
    nothing to choose between them, are left out."""
    return _discover(Path(root))[0]


def _discover(root: Path) -> tuple[dict[str, Any], dict[str, str]]:
    hls_xml, hls_rpt, util, oneapi, intel = [], [], [], [], []
    for file in _walk(root):
        name = file.name
        if name == "csynth.xml" or name.endswith("_csynth.xml"):
            hls_xml.append(file)
        elif name == "csynth.rpt" or name.endswith("_csynth.rpt"):
            hls_rpt.append(file)
        elif name.endswith(".rpt") and (name == "vivado_synth.rpt" or "utilization" in name):
            util.append(file)
        elif name in ("quartus.ndjson", "summary.ndjson", "area.ndjson", "loop_attr.ndjson"):
            oneapi.append(file)
        elif name in ("quartus.json", "area.json", "report_data.js", "quartus_data.js", "verification_data.js"):
            intel.append(file)
    found: dict[str, Any] = {}
    problems: dict[str, str] = {}
    try:
        hls = _choose_hls_report(root, hls_xml, hls_rpt)
        if hls is not None:
            found["hls"] = hls
    except HwgenError as exc:
        problems["hls"] = str(exc)
    if util:
        if len(util) == 1:
            found["utilization"] = util[0]
        elif sum(p.name == "vivado_synth.rpt" for p in util) == 1:
            found["utilization"] = next(p for p in util if p.name == "vivado_synth.rpt")
        else:
            problems["utilization"] = (
                f"{root}: several Vivado utilization reports ({', '.join(map(str, util))}); pass the one you mean"
            )
    for kind, files in (("oneapi", oneapi), ("intel_hls", intel)):
        if not files:
            continue
        folders = sorted({p.parent for p in files})
        if len(folders) == 1:
            found[kind] = sorted(files)
        else:
            problems[kind] = f"{root}: reports in several folders ({', '.join(map(str, folders))}); pass one of them"
    return found, problems


def parse_report_file(path: Path) -> VendorReport:
    path = Path(path)
    if path.suffix == ".ndjson":
        return _parse_ndjson_file(path)
    if path.suffix in (".json", ".js"):
        return _parse_intel_hls_files([path])
    text = _read_text(path)
    head = text.lstrip()[:200]
    if path.suffix == ".xml" or head.startswith("<"):
        return _parse_csynth_xml(path, text)
    if head.startswith("{"):
        return _parse_ndjson_file(path, text)
    if re.search(r"^== Synthesis Summary Report of '", text, re.M):
        return _parse_synthesis_summary(path, text)
    if re.search(r"^== (Vivado|Vitis) HLS Report for '", text, re.M):
        return _parse_csynth_rpt(path, text)
    if "Utilization Design Information" in text or re.search(r"^\| Command\s*:\s*report_utilization", text, re.M):
        return _parse_vivado_utilization(path, text)
    raise HwgenError(
        f"{path}: not a recognised vendor report (expected a Vivado/Vitis HLS *_csynth.rpt or csynth.xml, "
        "a Vitis Synthesis Summary csynth.rpt, a Vivado report_utilization file, or oneAPI/i++ ndjson/json)"
    )


def _parse_found(kind: str, found) -> VendorReport:
    if kind == "oneapi":
        return _parse_oneapi_folder(found)
    if kind == "intel_hls":
        return _parse_intel_hls_files(found)
    return parse_report_file(found)


# --------------------------------------------------------------------------------------------
# file helpers


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise HwgenError(f"{path}: {size} bytes is too large for a synthesis report")
        data = path.read_bytes()
    except OSError as exc:
        raise HwgenError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not data.strip():
        raise HwgenError(f"{path}: file is empty; expected a vendor synthesis report")
    if b"\x00" in data[:65536]:
        raise HwgenError(f"{path}: binary file, not a vendor synthesis report")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            raise HwgenError(f"{path}: not a text file") from None


_SKIP_DIRS = {".autopilot", ".Xil", ".git", "__pycache__", "hdl", "verilog", "vhdl", "csim", "db", "node_modules"}


def _walk(root: Path, max_depth: int = 10) -> Iterator[Path]:
    root = Path(root)
    base = len(root.parts)
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).parts) - base
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and depth < max_depth)
        for name in sorted(files):
            yield Path(folder) / name


def _project_hints(start: Path, stop: Path) -> tuple[str | None, bool]:
    """hls4ml project name (and whether its backend wraps the top as <name>_axi) from project.tcl or
    hls4ml_config.yml in `start` or a parent, looking at most 4 levels above `stop`."""
    floor = max(1, len(stop.resolve().parts) - 4)
    folder = start.resolve()
    while len(folder.parts) >= floor:
        tcl = folder / "project.tcl"
        if tcl.is_file():
            text = tcl.read_text(errors="replace")
            m = re.search(r'^\s*set\s+project_name\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', text, re.M)
            b = re.search(r'^\s*set\s+backend\s+"?([A-Za-z_]+)"?', text, re.M)
            if m:
                return m.group(1), bool(b and "accelerator" in b.group(1).lower())
        cfg = folder / "hls4ml_config.yml"
        if cfg.is_file():
            text = cfg.read_text(errors="replace")
            m = re.search(r"^ProjectName:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$", text, re.M)
            b = re.search(r"^Backend:\s*(\S+)", text, re.M)
            if m:
                return m.group(1), bool(b and "accelerator" in b.group(1).lower())
        if folder.parent == folder:
            break
        folder = folder.parent
    return None, False


def _choose_hls_report(root: Path, xmls: list[Path], rpts: list[Path]) -> Path | None:
    if not xmls and not rpts:
        return None
    folders = sorted({p.parent for p in xmls + rpts})
    if len(folders) > 1:
        sol1 = [f for f in folders if "solution1" in f.parts]
        if len(sol1) == 1:
            folders = sol1
        else:
            raise HwgenError(
                f"{root}: C-synthesis reports in several folders ({', '.join(map(str, folders))}); "
                "pass the solution folder or the report file"
            )
    folder = folders[0]
    names = {p.name for p in xmls + rpts if p.parent == folder}
    top, axi = _project_hints(folder, root)
    order: list[str] = []
    if top:
        if axi:
            order += [f"{top}_axi_csynth.xml", f"{top}_axi_csynth.rpt"]
        order += [f"{top}_csynth.xml"]
    order += ["csynth.xml"]
    if top:
        order += [f"{top}_csynth.rpt"]
    order += ["csynth.rpt"]
    for name in order:
        if name in names:
            return folder / name
    for suffix in ("_csynth.xml", "_csynth.rpt"):
        cands = sorted(n for n in names if n.endswith(suffix))
        if len(cands) == 1:
            return folder / cands[0]
        if len(cands) > 1:
            raise HwgenError(
                f"{folder}: several C-synthesis reports ({', '.join(cands)}) and no project.tcl or "
                "hls4ml_config.yml naming the top function; pass the top's report file"
            )
    return None  # pragma: no cover


def _norm_part(part: str) -> str:
    p = part.lower().strip()
    if p.startswith("xc"):
        p = p[2:]
    return re.sub(r"[^a-z0-9]", "", p)


# --------------------------------------------------------------------------------------------
# number parsing

_NUM_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_UNITS_NS = {"ps": 1e-3, "ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9, "sec": 1e9}


def _is_num(text: str) -> bool:
    return bool(_NUM_RE.match(text.strip()))


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "e" not in text.lower() and "." not in text else value


def _clean(value: int | float) -> int | float:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _int_or_none(text: str | None) -> int | None:
    """Cycle counts: an integer, or None where the tool prints '?', 'undef' or '-' (unknown)."""
    if text is None:
        return None
    t = text.strip()
    if re.fullmatch(r"\d+", t):
        return int(t)
    if t in ("?", "undef", "-", "", "N/A", "NA"):
        return None
    raise ValueError(t)


def _time_ns(text: str, default_unit: str | None = None) -> float | None:
    t = text.strip()
    if t in ("-", "?", "undef", ""):
        return None
    m = re.fullmatch(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-z]*)", t)
    if not m:
        raise ValueError(t)
    unit = m.group(2) or default_unit
    if unit not in _UNITS_NS:
        raise ValueError(t)
    return float(m.group(1)) * _UNITS_NS[unit]


def _count_cell(text: str) -> int | float:
    """A resource count; the HLS tools print '-' for none."""
    t = text.strip()
    if t == "-":
        return 0
    if _is_num(t):
        return _number(t)
    raise ValueError(t)


def _pct_cell(text: str) -> float | str:
    """A utilization percentage as printed; approximate ones ('~0', '<0.01') stay strings."""
    t = text.strip().rstrip("%")
    return float(t) if _is_num(t) else t


# --------------------------------------------------------------------------------------------
# ASCII tables (+----+----+ / | a | b |)


@dataclass
class _Table:
    columns: list[str]
    rows: list[list[str]]
    start: int  # line index of the top border
    end: int  # line index after the table
    closed: bool

    def col(self, *words: str, exclude: tuple[str, ...] = ()) -> int | None:
        for i, name in enumerate(self.columns):
            low = name.lower()
            if all(w in low for w in words) and not any(x in low for x in exclude):
                return i
        return None

    def row(self, first: str) -> list[str] | None:
        for r in self.rows:
            if r and r[0].strip().rstrip("*").strip() == first:
                return r
        return None


def _is_border(s: str) -> bool:
    return bool(re.fullmatch(r"\+[-+=]*\+", s)) and "-" in s


def _read_table(lines: list[str], i: int) -> _Table:
    block: list[str] = []
    j = i
    while j < len(lines):
        s = lines[j].strip()
        if s.startswith("|") or _is_border(s):
            block.append(s)
            j += 1
        else:
            break
    border = block[0]
    bounds = [k for k, ch in enumerate(border) if ch == "+"]
    spans = list(zip(bounds[:-1], bounds[1:]))
    segments: list[list[str]] = [[]]
    for s in block[1:]:
        if _is_border(s):
            segments.append([])
        else:
            segments[-1].append(s)
    header_lines = segments[0]
    columns = []
    for a, b in spans:
        mid = (a + b) // 2
        parts = []
        for h in header_lines:
            bars = [k for k, ch in enumerate(h) if ch == "|"]
            for x, y in zip(bars[:-1], bars[1:]):
                if x <= mid < y:
                    parts.append(h[x + 1 : y].strip())
                    break
        columns.append(" ".join(p for p in parts if p))
    rows = []
    for seg in segments[1:]:
        for s in seg:
            cells = [c.strip() for c in s.strip().strip("|").split("|")]
            rows.append(cells)
    closed = bool(block) and _is_border(block[-1]) and len(block) > 1
    return _Table(columns=columns, rows=rows, start=i, end=j, closed=closed)


def _next_table(lines: list[str], start: int, stop_at_section: bool = True) -> _Table | None:
    for i in range(start, len(lines)):
        s = lines[i].strip()
        if _is_border(s):
            return _read_table(lines, i)
        if stop_at_section and s.startswith("== "):
            return None
    return None


def _find_line(lines: list[str], pattern: str, start: int = 0) -> int | None:
    rx = re.compile(pattern)
    for i in range(start, len(lines)):
        if rx.search(lines[i]):
            return i
    return None


def _check_ends_with_table(path: Path, lines: list[str]) -> None:
    tail = [s.strip() for s in lines if s.strip()]
    if not tail or not _is_border(tail[-1]):
        raise HwgenError(
            f"{path}: the report ends in the middle of a table or section (truncated?); "
            "a complete report ends with a closed table - re-run the tool or copy the whole file"
        )


def _need(path: Path, table: _Table | None, what: str) -> _Table:
    if table is None:
        raise HwgenError(f"{path}: no {what} table found (truncated or not a complete report?)")
    if not table.closed or not table.rows:
        raise HwgenError(f"{path}: the {what} table is incomplete (truncated?)")
    return table


def _header_fields(lines: list[str]) -> dict[str, str]:
    out = {}
    for s in lines[:80]:
        m = re.match(r"^\s*\*\s*([A-Za-z][A-Za-z ]*?):\s*(.*?)\s*$", s)
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2)
    return out


def _version(text: str) -> tuple[str, str]:
    m = re.match(r"\s*v?\.?(\d{4}\.\d+(?:\.\d+)?(?:\.[A-Za-z]+)?)\s*(?:\((?:lin64\)\s*)?Build\s+(\d+))?", text or "")
    if not m:
        m2 = re.search(r"(\d{4}\.\d+(?:\.\d+)?)", text or "")
        return (m2.group(1) if m2 else "", "")
    build = m.group(2) or ""
    if not build:
        b = re.search(r"Build\s+(\d+)", text)
        build = b.group(1) if b else ""
    return m.group(1), build


# --------------------------------------------------------------------------------------------
# HLS C-synthesis report (*_csynth.rpt)

_HLS_RESOURCE_COLUMNS = {"BRAM_18K": "bram_18k", "BRAM": "bram_18k", "DSP48E": "dsp", "DSP": "dsp", "DSP48": "dsp",
                         "FF": "ff", "LUT": "lut", "URAM": "uram"}


def _parse_csynth_rpt(path: Path, text: str) -> VendorReport:
    lines = text.splitlines()
    m = re.search(r"^== (Vivado|Vitis) HLS Report for '([^']+)'", text, re.M)
    tool = "vivado_hls" if m.group(1) == "Vivado" else "vitis_hls"
    top = m.group(2)
    _check_ends_with_table(path, lines)
    hdr = _header_fields(lines)
    version, build = _version(hdr.get("Version", ""))
    if not version:
        raise HwgenError(f"{path}: no '* Version:' line in the report header")
    part = hdr.get("Target device", "")
    if not part:
        raise HwgenError(f"{path}: no '* Target device:' line in the report header")
    extra: dict[str, Any] = {"build": build, "product_family": hdr.get("Product family", ""),
                             "project": hdr.get("Project", ""), "solution": hdr.get("Solution", "")}
    flow = re.search(r"\((.+?) Flow Target\)", hdr.get("Solution", ""))
    if flow:
        extra["flow_target"] = flow.group(1)

    # Timing summary
    t_at = _find_line(lines, r"^\s*\+ Timing\b")
    timing = _need(path, _next_table(lines, t_at + 1) if t_at is not None else None, "timing summary")
    unit = "ns" if t_at is not None and "(ns)" in lines[t_at] else None
    ci_t, ci_e, ci_u = timing.col("target"), timing.col("estimated"), timing.col("uncertainty")
    if None in (ci_t, ci_e, ci_u):
        raise HwgenError(f"{path}: the timing summary has no Target/Estimated/Uncertainty columns")
    clk_row = timing.row("ap_clk") or timing.rows[0]
    try:
        target = _time_ns(clk_row[ci_t], unit or "ns")
        estimated = _time_ns(clk_row[ci_e], unit or "ns")
        uncertainty = _time_ns(clk_row[ci_u], unit or "ns")
    except (ValueError, IndexError):
        raise HwgenError(f"{path}: cannot read the clock row of the timing summary: {clk_row}") from None
    if target is None:
        raise HwgenError(f"{path}: the timing summary gives no target clock period")
    extra["clock_name"] = clk_row[0]

    # Latency summary
    l_at = _find_line(lines, r"^\s*\+ Latency\b")
    lat = _need(path, _next_table(lines, l_at + 1) if l_at is not None else None, "latency summary")
    c_lmin = lat.col("latency", "min", exclude=("absolute",))
    c_lmax = lat.col("latency", "max", exclude=("absolute",))
    c_amin, c_amax = lat.col("absolute", "min"), lat.col("absolute", "max")
    c_imin, c_imax = lat.col("interval", "min"), lat.col("interval", "max")
    c_pipe = lat.col("pipeline")
    if None in (c_lmin, c_lmax, c_imin, c_imax):
        raise HwgenError(f"{path}: the latency summary lacks latency/interval min/max columns ({lat.columns})")
    row = lat.rows[0]
    try:
        lmin, lmax = _int_or_none(row[c_lmin]), _int_or_none(row[c_lmax])
        imin, imax = _int_or_none(row[c_imin]), _int_or_none(row[c_imax])
        if c_amin is not None:
            extra["latency_min_ns"] = _time_ns(row[c_amin])
            extra["latency_max_ns"] = _time_ns(row[c_amax])
    except (ValueError, IndexError):
        raise HwgenError(f"{path}: cannot read the latency summary row: {row}") from None
    pipeline = row[c_pipe].strip().lower() if c_pipe is not None and c_pipe < len(row) else None

    # Utilization summary
    u_sec = _find_line(lines, r"^== Utilization Estimates")
    u_at = _find_line(lines, r"^\s*\* Summary:", u_sec + 1) if u_sec is not None else None
    util = _need(path, _next_table(lines, u_at + 1) if u_at is not None else None, "utilization summary")
    resources, available, pct = _hls_util_rows(path, util)
    slr = util.row("Available SLR")
    if slr is not None:
        extra["available_slr"] = _row_values(path, util, slr)
    if pct is not None:
        extra["utilization_pct_reported"] = pct
    slr_pct = _pct_row(util, "Utilization SLR (%)")
    if slr_pct is not None:
        extra["utilization_slr_pct_reported"] = slr_pct
    # The interface section closes every C-synthesis report; without it the file was cut short.
    i_at = _find_line(lines, r"^== Interface\b", util.end)
    _need(path, _next_table(lines, i_at + 1) if i_at is not None else None, "Interface summary")
    return VendorReport(
        path=str(path), format="csynth_rpt", tool=tool, tool_version=version, part=part, top=top,
        clock_target_ns=target, clock_estimated_ns=estimated, clock_uncertainty_ns=uncertainty,
        latency_min=lmin, latency_max=lmax, interval_min=imin, interval_max=imax, pipeline_type=pipeline,
        resources=resources, available=available, extra=extra,
    )


def _row_values(path: Path, table: _Table, row: list[str]) -> dict[str, int | float]:
    out = {}
    for i, name in enumerate(table.columns[1:], start=1):
        key = _HLS_RESOURCE_COLUMNS.get(name.strip())
        if key is None:
            continue
        if i >= len(row):
            raise HwgenError(f"{path}: row '{row[0]}' of the utilization table is cut short")
        try:
            out[key] = _count_cell(row[i])
        except ValueError:
            raise HwgenError(f"{path}: cannot read '{row[i]}' in row '{row[0]}' of the utilization table") from None
    return out


def _hls_util_rows(path: Path, util: _Table):
    if not any(_HLS_RESOURCE_COLUMNS.get(c.strip()) for c in util.columns):
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


def _pct_row(util: _Table, name: str) -> dict[str, Any] | None:
    row = util.row(name)
    if row is None:
        return None
    pct = {}
    for i, col in enumerate(util.columns[1:], start=1):
        key = _HLS_RESOURCE_COLUMNS.get(col.strip())
        if key and i < len(row):
            pct[key] = _pct_cell(row[i])
    return pct


# --------------------------------------------------------------------------------------------
# Vitis "Synthesis Summary" report (csynth.rpt)


def _split_count_pct(cell: str) -> tuple[int | float, str | float | None]:
    t = cell.strip()
    if t == "-":
        return 0, None
    m = re.fullmatch(r"(\S+)\s*\(([^)]*)\)", t)
    if m:
        return _count_cell(m.group(1)), _pct_cell(m.group(2))
    return _count_cell(t), None


def _parse_synthesis_summary(path: Path, text: str) -> VendorReport:
    lines = text.splitlines()
    top = re.search(r"^== Synthesis Summary Report of '([^']+)'", text, re.M).group(1)
    _check_ends_with_table(path, lines)
    hdr = _header_fields(lines)
    version, build = _version(hdr.get("Version", ""))
    if not version:
        raise HwgenError(f"{path}: no '* Version:' line in the General Information section")
    part = hdr.get("Target device", "")
    if not part:
        raise HwgenError(f"{path}: no '* Target device:' line in the General Information section")
    extra: dict[str, Any] = {"build": build, "product_family": hdr.get("Product family", ""),
                             "project": hdr.get("Project", ""), "solution": hdr.get("Solution", "")}
    flow = re.search(r"\((.+?) Flow Target\)", hdr.get("Solution", ""))
    if flow:
        extra["flow_target"] = flow.group(1)
    p_at = _find_line(lines, r"^\+ Performance & Resource Estimates")
    perf = _need(path, _next_table(lines, p_at + 1) if p_at is not None else None, "Performance & Resource Estimates")
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
        latency = _int_or_none(top_row[cols["latency"]])
        interval = _int_or_none(top_row[cols["interval"]])
        if cols["latency_ns"] is not None:
            extra["latency_max_ns"] = _time_ns(top_row[cols["latency_ns"]], "ns")
        if cols["slack"] is not None and _is_num(top_row[cols["slack"]]):
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


# --------------------------------------------------------------------------------------------
# csynth.xml


def _parse_csynth_xml(path: Path, text: str) -> VendorReport:
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
        lmin = _int_or_none(get(lat + "Best-caseLatency"))
        lmax = _int_or_none(get(lat + "Worst-caseLatency"))
        imin = _int_or_none(get(lat + "Interval-min"))
        imax = _int_or_none(get(lat + "Interval-max"))
    except ValueError as exc:
        raise HwgenError(f"{path}: cannot read latency/interval value '{exc}'") from None
    extra: dict[str, Any] = {"product_family": get("UserAssignments/ProductFamily", required=False) or ""}
    avg = get(lat + "Average-caseLatency", required=False)
    if avg is not None:
        try:
            extra["latency_avg"] = _int_or_none(avg)
        except ValueError:
            extra["latency_avg"] = avg
    for tag, key in (("Best-caseRealTimeLatency", "latency_min_ns"), ("Worst-caseRealTimeLatency", "latency_max_ns")):
        value = get(lat + tag, required=False)
        if value is not None:
            try:
                extra[key] = _time_ns(value, "ns")
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
            extra["dataflow_throughput_min"] = _int_or_none((rng.findtext("min") or "").strip() or "?")
            extra["dataflow_throughput_max"] = _int_or_none((rng.findtext("max") or "").strip() or "?")
        elif node.text and node.text.strip():
            value = _int_or_none(node.text.strip()) if node.text.strip().isdigit() else None
            extra["dataflow_throughput_min"] = extra["dataflow_throughput_max"] = value
    tii = get("UserAssignments/TargetInitiationInterval", required=False)
    if tii is not None:
        extra["target_initiation_interval"] = None if tii == str(_II_UNSET) else _int_or_none(tii)
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
        return _time_ns(text, unit if unit in _UNITS_NS else "ns")
    except ValueError:
        raise HwgenError(f"{path}: cannot read time value '{text}'") from None


def _xml_resources(path: Path, node) -> dict[str, float]:
    out = {}
    for child in node:
        key = _HLS_RESOURCE_COLUMNS.get(child.tag)
        if key is None:
            continue
        t = (child.text or "").strip()
        if not _is_num(t):
            raise HwgenError(f"{path}: <{child.tag}> value '{t}' is not a number")
        out[key] = _number(t)
    return out


# --------------------------------------------------------------------------------------------
# Vivado report_utilization

_UTIL_ROWS = {
    "lut": ("Slice LUTs", "CLB LUTs"),
    "ff": ("Slice Registers", "CLB Registers", "Registers"),
    "bram_tiles": ("Block RAM Tile",),
    "dsp": ("DSPs", "DSP Slices"),
    "uram": ("URAM",),
}
_UTIL_EXTRA_ROWS = {
    "LUT as Logic": "lut_logic", "LUT as Memory": "lut_memory", "LUT as Distributed RAM": "lut_distributed_ram",
    "LUT as Shift Register": "lut_shift_register", "Register as Flip Flop": "registers_flip_flop",
    "Register as Latch": "registers_latch", "CARRY4": "carry4", "CARRY8": "carry8", "F7 Muxes": "f7_muxes",
    "F8 Muxes": "f8_muxes", "F9 Muxes": "f9_muxes", "RAMB36/FIFO": "ramb36", "RAMB18": "ramb18",
    "Bonded IOB": "bonded_iob", "Slice": "slices", "CLB": "clbs",
}


def _parse_vivado_utilization(path: Path, text: str) -> VendorReport:
    lines = text.splitlines()
    info = {}
    for s in lines[:40]:
        m = re.match(r"^\|\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.*?)\s*$", s)
        if m:
            info.setdefault(m.group(1), m.group(2))
    tv = info.get("Tool Version", "")
    version, build = _version(re.sub(r"^Vivado\s+", "", tv))
    if not tv or not version:
        raise HwgenError(f"{path}: no '| Tool Version : Vivado v.YYYY.N' header line")
    # Every section the table of contents lists must be present (catches truncation).
    toc_at = _find_line(lines, r"^Table of Contents")
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
    _check_ends_with_table(path, lines)
    rows: dict[str, dict[str, Any]] = {}
    primitives: dict[str, int] = {}
    i = toc_at
    while True:
        t = _next_table(lines, i, stop_at_section=False)
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
                    entry = {"used": _count_cell(r[c_used])}
                except ValueError:
                    raise HwgenError(f"{path}: cannot read used count '{r[c_used]}' of '{name}'") from None
                if c_avail is not None and _is_num(r[c_avail]):
                    entry["available"] = _number(r[c_avail])
                if c_util is not None and r[c_util].strip():
                    entry["util_pct"] = _pct_cell(r[c_util])
                rows[name] = entry
        elif first == "Ref Name" and c_used is not None:
            for r in t.rows:
                if len(r) > c_used and _is_num(r[c_used]):
                    primitives[r[0].strip()] = _number(r[c_used])
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
        resources[target] = _clean(entry["used"] * factor)
        if "available" in entry:
            available[target] = _clean(entry["available"] * factor)
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


# --------------------------------------------------------------------------------------------
# Intel oneAPI (*.ndjson) and Quartus fit data

_INTEL_COLUMNS = {"aluts": "alut", "alut": "alut", "ffs": "ff", "ff": "ff", "registers": "ff", "reg": "ff",
                  "rams": "ram", "ram": "ram", "dsps": "dsp", "dsp": "dsp", "mlabs": "mlab", "mlab": "mlab"}


def _load_ndjson(path: Path, text: str | None = None) -> list[dict]:
    text = _read_text(path) if text is None else text
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


def _parse_ndjson_file(path: Path, text: str | None = None) -> VendorReport:
    records = _load_ndjson(path, text)
    first = records[0]
    if "quartusFitResourceUsageSummary" in first or "quartusFitClockSummary" in first:
        return _report_from_parts(path, quartus=_quartus_fit(path, first), fmt="oneapi_quartus_ndjson")
    if any(r.get("summary_type") == "estimatedResources" for r in records):
        return _report_from_parts(path, estimate=_oneapi_summary(path, records), fmt="oneapi_summary_ndjson")
    if first.get("name") == "loop_attributes":
        return _report_from_parts(path, loops=_oneapi_loops(path, records), fmt="oneapi_loop_attr_ndjson")
    if "total" in first and "columns" in first:
        return _report_from_parts(path, estimate=_intel_area(path, first), fmt="oneapi_area_ndjson")
    raise HwgenError(
        f"{path}: JSON lines, but not a oneAPI report this reader knows (quartus, summary, area or loop_attr ndjson)"
    )


def _num_field(path: Path, value, what: str) -> int | float:
    t = str(value).strip()
    if not _is_num(t):
        raise HwgenError(f"{path}: {what} is '{t}', not a number")
    return _number(t)


def _quartus_fit(path: Path, obj: dict) -> dict:
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


def _map_intel_columns(path: Path, columns: list[str], values: list, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    extra: dict[str, float] = {}
    for name, value in zip(columns, values):
        key = _INTEL_COLUMNS.get(name.strip().lower().rstrip("."))
        label = name.strip()
        if key is None:
            if label and label.lower() != "details":
                extra[label] = _num_field(path, value, f"{what} {label}")
            continue
        out[key] = _num_field(path, value, f"{what} {label}")
    return {**out, **({"_other": extra} if extra else {})}


def _oneapi_summary(path: Path, records: list[dict]) -> dict:
    head = next(r for r in records if r.get("summary_type") == "estimatedResources")
    columns = head.get("columns")
    if not isinstance(columns, list) or len(columns) < 2:
        raise HwgenError(f"{path}: the 'Estimated Resource Usage' header has no columns")
    rows = {r.get("name"): r for r in records if r.get("parent") == "estimatedResources"}
    for name in ("Total", "Available"):
        if name not in rows or not isinstance(rows[name].get("data"), list):
            raise HwgenError(f"{path}: no '{name}' row in the estimated resources (truncated?)")
    total = _map_intel_columns(path, columns[1:], rows["Total"]["data"], "Total")
    avail = _map_intel_columns(path, columns[1:], rows["Available"]["data"], "Available")
    kernels = {}
    for name, r in rows.items():
        if name in ("Total", "Available") or not isinstance(r.get("data"), list):
            continue
        kernels[name] = {k: v for k, v in _map_intel_columns(path, columns[1:], r["data"], name).items()}
    return {
        "resources": {k: v for k, v in total.items() if k != "_other"},
        "available": {k: v for k, v in avail.items() if k != "_other"},
        "other": {"total": total.get("_other", {}), "available": avail.get("_other", {})},
        "data_percent": rows["Total"].get("data_percent"),
        "rows": kernels,
        "dsp_packing_factor": head.get("dsp_packing_factor"),
    }


def _intel_area(path: Path, obj: dict) -> dict:
    """Area record: {'columns': [...], 'total': [...], 'max_resources': [...]} (oneAPI area.ndjson
    first line; older i++ areaJSON)."""
    columns = obj.get("columns") or ["", "ALUTs", "FFs", "RAMs", "DSPs", "MLABs"]
    total = obj.get("total")
    if not isinstance(total, list) or not total:
        raise HwgenError(f"{path}: area data has no 'total' list")
    data_cols = [c for c in columns[1:] if str(c).strip().lower() != "details"]
    res = _map_intel_columns(path, data_cols[: len(total)], total, "total")
    out = {"resources": {k: v for k, v in res.items() if k != "_other"},
           "other": {"total": res.get("_other", {})}, "total_percent": obj.get("total_percent")}
    mx = obj.get("max_resources")
    if isinstance(mx, list):
        av = _map_intel_columns(path, data_cols[: len(mx)], mx, "max_resources")
        out["available"] = {k: v for k, v in av.items() if k != "_other"}
    if obj.get("name"):
        out["name"] = obj["name"]
    return out


def _oneapi_loops(path: Path, records: list[dict]) -> dict:
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
    fmaxes = [float(k["fmax"]) for k in kernels if _is_num(str(k.get("fmax", "")))]
    iis = [int(l["ii"]) for l in loops if str(l.get("ii", "")).isdigit()]
    lts = [float(l["lt"]) for l in loops if _is_num(str(l.get("lt", "")))]
    return {
        "kernels": [k.get("name") for k in kernels],
        "loops": loops,
        "fmax_mhz_min": min(fmaxes) if fmaxes else None,
        "loop_ii_max": max(iis) if iis else None,
        "loop_latency_max": max(lts) if lts else None,
    }


def _report_from_parts(path, *, estimate: dict | None = None, quartus: dict | None = None,
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


def _parse_oneapi_folder(files: list[Path]) -> VendorReport:
    by_name = {p.name: p for p in files}
    folder = files[0].parent
    estimate = quartus = loops = None
    if "summary.ndjson" in by_name:
        estimate = _oneapi_summary(by_name["summary.ndjson"], _load_ndjson(by_name["summary.ndjson"]))
    elif "area.ndjson" in by_name:
        estimate = _intel_area(by_name["area.ndjson"], _load_ndjson(by_name["area.ndjson"])[0])
    if "quartus.ndjson" in by_name:
        recs = _load_ndjson(by_name["quartus.ndjson"])
        fmax = recs[0].get("quartusFitClockSummary", {}).get("nodes", [{}])[0].get("clock fmax", "")
        if str(fmax).strip().upper() != "TBD":  # TBD: only the report (no Quartus compile) was built
            quartus = _quartus_fit(by_name["quartus.ndjson"], recs[0])
    if "loop_attr.ndjson" in by_name:
        loops = _oneapi_loops(by_name["loop_attr.ndjson"], _load_ndjson(by_name["loop_attr.ndjson"]))
    if estimate is None and quartus is None:
        raise HwgenError(
            f"{folder}: oneAPI reports without resource data (need summary.ndjson, area.ndjson or quartus.ndjson)"
        )
    return _report_from_parts(folder, estimate=estimate, quartus=quartus, loops=loops, fmt="oneapi_project")


# --------------------------------------------------------------------------------------------
# Older Intel HLS compiler (i++) JSON: reports/lib/json/*.json or reports/lib/*_data.js
# No genuine fixture exists for these; the structure follows hls4ml's Quartus report reader
# (areaJSON.total = [ALUTs, FFs, RAMs, DSPs, MLABs]; quartusJSON.quartusFit*; verifJSON.functions
# [0].data = [invocations, "min,max,avg" latency, "min,max,avg" II]).


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


def _load_intel_json(path: Path) -> dict[str, Any]:
    text = _read_text(path)
    if path.suffix == ".js":
        return _js_vars(path, text)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HwgenError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); truncated?") from None
    if not isinstance(obj, dict):
        raise HwgenError(f"{path}: expected a JSON object")
    return obj


def _parse_intel_hls_files(files: list[Path]) -> VendorReport:
    estimate = quartus = verification = None
    for path in files:
        obj = _load_intel_json(path)
        if "areaJSON" in obj or ("total" in obj and "columns" in obj):
            estimate = _intel_area(path, obj.get("areaJSON", obj))
        if "quartusJSON" in obj or "quartusFitResourceUsageSummary" in obj:
            quartus = _quartus_fit(path, obj)
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
    return _report_from_parts(files[0] if len(files) == 1 else files[0].parent, estimate=estimate, quartus=quartus,
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
