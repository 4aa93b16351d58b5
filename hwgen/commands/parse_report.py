"""`hwgen parse-report PATH`: read a vendor synthesis report (or a project folder holding one)
and print one normalized record, as aligned `key: value` lines or, with --json, as JSON."""

from __future__ import annotations

import json

from hwgen.synth.vendor_tools.reports import parse_report

_SCALARS = (
    "path", "format", "tool", "tool_version", "part", "top", "design_state",
    "clock_target_ns", "clock_estimated_ns", "clock_uncertainty_ns",
    "latency_min", "latency_max", "interval_min", "interval_max", "pipeline_type",
)


def configure(parser) -> None:
    parser.add_argument(
        "path",
        help="report file (*_csynth.rpt, csynth.xml, csynth.rpt, vivado_synth.rpt, *utilization*.rpt, "
        "oneAPI *.ndjson, i++ *.json) or a project/solution folder containing one",
    )
    parser.add_argument("--json", action="store_true", help="print the record as JSON")


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=False, default=str)
    return str(value)


def format_record(record: dict) -> str:
    """Aligned `key: value` lines: the scalar fields, then resource.<key> (with what the report
    says the part has), then extra.<key>."""
    pairs: list[tuple[str, str]] = [(k, _fmt(record.get(k))) for k in _SCALARS]
    available = record.get("available") or {}
    for key, used in (record.get("resources") or {}).items():
        text = _fmt(used)
        if key in available:
            text += f" / {_fmt(available[key])}"
        pairs.append((f"resource.{key}", text))
    for key, value in (record.get("extra") or {}).items():
        pairs.append((f"extra.{key}", _fmt(value)))
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k + ':':<{width + 1}} {v}" for k, v in pairs)


def main(args) -> int:
    record = parse_report(args.path).to_dict()
    if args.json:
        print(json.dumps(record, indent=2, default=str))
    else:
        print(format_record(record))
    return 0
