"""What every report family's parser shares: reading a report file safely, the number and time
formats the vendor tools print, their ASCII tables (`+----+` / `| a | b |`), header fields and
version strings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hwgen.errors import HwgenError

# A real synthesis report is a few MB at most; anything far larger is not one, and reading it
# whole would only waste memory.
MAX_REPORT_BYTES = 64 * 1024 * 1024


def read_text(path: Path) -> str:
    """A report file's text; empty, binary, unreadable and oversized files are refused by name."""
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
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


def norm_part(part: str) -> str:
    """A part name compared loosely: 'xc7z020clg400-1' and '7Z020CLG400-1' are the same part."""
    p = part.lower().strip()
    if p.startswith("xc"):
        p = p[2:]
    return re.sub(r"[^a-z0-9]", "", p)


# --------------------------------------------------------------------------------------------
# numbers and times

_NUM_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
UNITS_NS = {"ps": 1e-3, "ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9, "sec": 1e9}


def is_num(text: str) -> bool:
    return bool(_NUM_RE.match(text.strip()))


def number(text: str) -> int | float:
    """A printed number as int when it was printed as one ('12'), else float ('12.0', '1e3')."""
    value = float(text)
    return int(value) if value.is_integer() and "e" not in text.lower() and "." not in text else value


def whole(value: int | float) -> int | float:
    """A computed count as int when it is whole (2 * 1.0 BRAM tiles -> 2)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def int_or_none(text: str | None) -> int | None:
    """Cycle counts: an integer, or None where the tool prints '?', 'undef' or '-' (unknown)."""
    if text is None:
        return None
    t = text.strip()
    if re.fullmatch(r"\d+", t):
        return int(t)
    if t in ("?", "undef", "-", "", "N/A", "NA"):
        return None
    raise ValueError(t)


def time_ns(text: str, default_unit: str | None = None) -> float | None:
    """A time ('10.00 ns', '5 us', or a bare number in `default_unit`) in ns; None where unknown."""
    t = text.strip()
    if t in ("-", "?", "undef", ""):
        return None
    m = re.fullmatch(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-z]*)", t)
    if not m:
        raise ValueError(t)
    unit = m.group(2) or default_unit
    if unit not in UNITS_NS:
        raise ValueError(t)
    return float(m.group(1)) * UNITS_NS[unit]


def count_cell(text: str) -> int | float:
    """A resource count; the HLS tools print '-' for none."""
    t = text.strip()
    if t == "-":
        return 0
    if is_num(t):
        return number(t)
    raise ValueError(t)


def pct_cell(text: str) -> float | str:
    """A utilization percentage as printed; approximate ones ('~0', '<0.01') stay strings."""
    t = text.strip().rstrip("%")
    return float(t) if is_num(t) else t


# --------------------------------------------------------------------------------------------
# ASCII tables (+----+----+ / | a | b |)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    start: int  # line index of the top border
    end: int  # line index after the table
    closed: bool

    def col(self, *words: str, exclude: tuple[str, ...] = ()) -> int | None:
        """Index of the first column whose name holds every word (lower case) and none of `exclude`."""
        for i, name in enumerate(self.columns):
            low = name.lower()
            if all(w in low for w in words) and not any(x in low for x in exclude):
                return i
        return None

    def row(self, first: str) -> list[str] | None:
        """The first row whose first cell is `first` (a trailing '*' marker ignored)."""
        for r in self.rows:
            if r and r[0].strip().rstrip("*").strip() == first:
                return r
        return None


def is_border(s: str) -> bool:
    return bool(re.fullmatch(r"\+[-+=]*\+", s)) and "-" in s


def read_table(lines: list[str], i: int) -> Table:
    """The table whose top border is lines[i]. Column names are joined from the header lines
    above the first inner border, cell by cell under each column's span (headers spanning
    several columns, like 'Latency (cycles)' over 'min | max', give each column its part)."""
    block: list[str] = []
    j = i
    while j < len(lines):
        s = lines[j].strip()
        if s.startswith("|") or is_border(s):
            block.append(s)
            j += 1
        else:
            break
    border = block[0]
    bounds = [k for k, ch in enumerate(border) if ch == "+"]
    spans = list(zip(bounds[:-1], bounds[1:]))
    segments: list[list[str]] = [[]]
    for s in block[1:]:
        if is_border(s):
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
    closed = bool(block) and is_border(block[-1]) and len(block) > 1
    return Table(columns=columns, rows=rows, start=i, end=j, closed=closed)


def next_table(lines: list[str], start: int, stop_at_section: bool = True) -> Table | None:
    """The first table at or after line `start`; None when there is none (or, with
    `stop_at_section`, none before the next '== ' section heading)."""
    for i in range(start, len(lines)):
        s = lines[i].strip()
        if is_border(s):
            return read_table(lines, i)
        if stop_at_section and s.startswith("== "):
            return None
    return None


def find_line(lines: list[str], pattern: str, start: int = 0) -> int | None:
    rx = re.compile(pattern)
    for i in range(start, len(lines)):
        if rx.search(lines[i]):
            return i
    return None


def check_ends_with_table(path: Path, lines: list[str]) -> None:
    """The text reports all end with a closed table; anything else was cut short."""
    tail = [s.strip() for s in lines if s.strip()]
    if not tail or not is_border(tail[-1]):
        raise HwgenError(
            f"{path}: the report ends in the middle of a table or section (truncated?); "
            "a complete report ends with a closed table - re-run the tool or copy the whole file"
        )


def need_table(path: Path, table: Table | None, what: str) -> Table:
    """`table`, which the record needs: missing, unclosed or empty is an error naming `what`."""
    if table is None:
        raise HwgenError(f"{path}: no {what} table found (truncated or not a complete report?)")
    if not table.closed or not table.rows:
        raise HwgenError(f"{path}: the {what} table is incomplete (truncated?)")
    return table


# --------------------------------------------------------------------------------------------
# header lines


def header_fields(lines: list[str]) -> dict[str, str]:
    """The '* Name: value' lines at the top of an HLS report (first occurrence of each name)."""
    out = {}
    for s in lines[:80]:
        m = re.match(r"^\s*\*\s*([A-Za-z][A-Za-z ]*?):\s*(.*?)\s*$", s)
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2)
    return out


def tool_version(text: str) -> tuple[str, str]:
    """(version, build) from a version line such as '2024.1 (Build 5069499 on May 21 2024)' or
    'v.2019.2'; ('', '') when it holds no YYYY.N version."""
    m = re.match(r"\s*v?\.?(\d{4}\.\d+(?:\.\d+)?(?:\.[A-Za-z]+)?)\s*(?:\((?:lin64\)\s*)?Build\s+(\d+))?", text or "")
    if not m:
        m2 = re.search(r"(\d{4}\.\d+(?:\.\d+)?)", text or "")
        return (m2.group(1) if m2 else "", "")
    build = m.group(2) or ""
    if not build:
        b = re.search(r"Build\s+(\d+)", text)
        build = b.group(1) if b else ""
    return m.group(1), build


def csynth_header(path: Path, lines: list[str], section: str) -> tuple[str, str, dict]:
    """(version, part, extra) from the '* Version:' / '* Target device:' header that Vivado HLS's
    and Vitis HLS's C-synthesis reports share; `section` names where the header is, for errors."""
    hdr = header_fields(lines)
    version, build = tool_version(hdr.get("Version", ""))
    if not version:
        raise HwgenError(f"{path}: no '* Version:' line in {section}")
    part = hdr.get("Target device", "")
    if not part:
        raise HwgenError(f"{path}: no '* Target device:' line in {section}")
    extra = {"build": build, "product_family": hdr.get("Product family", ""),
             "project": hdr.get("Project", ""), "solution": hdr.get("Solution", "")}
    flow = re.search(r"\((.+?) Flow Target\)", hdr.get("Solution", ""))
    if flow:
        extra["flow_target"] = flow.group(1)
    return version, part, extra
