"""The report's Compression section: what each compression method did (hwgen.compress), as
rows that the Markdown and the HTML page both render.

A method's record is {"summary": {key: value}, "layers": [{"layer": name, ...}]}; values may be
numbers, strings, lists (shapes) or small mappings, shown as compact text.
"""

from __future__ import annotations

from typing import Any

from hwgen.report.metrics import fmt


def text(value: Any) -> str:
    """A record value as compact text: shapes (lists of integers) as 64x32, other lists
    comma-separated, mappings as k=v."""
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return "x".join(fmt(v) for v in value)  # a shape
        return ", ".join(text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={text(v)}" for k, v in value.items())
    return fmt(value)


def sections(compression: dict) -> list[dict]:
    """[{"method", "summary": [(key, text)], "headers": [...], "rows": [[text, ...]]}] in the
    order the methods were applied."""
    out = []
    for method, record in (compression or {}).items():
        record = record or {}
        summary = [(k, text(v)) for k, v in (record.get("summary") or {}).items()]
        layers = [row for row in record.get("layers") or [] if isinstance(row, dict)]
        headers: list[str] = []
        for row in layers:
            headers += [k for k in row if k not in headers]
        rows = [[text(row.get(h)) if row.get(h) is not None else "–" for h in headers] for row in layers]
        out.append({"method": method, "summary": summary, "headers": headers, "rows": rows})
    return out
