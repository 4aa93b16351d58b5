"""`Report`: report.json as a typed object (the fields are documented in docs/report-json.md).

`Report.to_dict()` is exactly report.json; `Report.from_dict()` reads it back (and tolerates the
partial dicts of older or handmade reports: a missing section is null / empty). Synthesis
results are `hwgen.results.SynthResult` objects; the other sections stay the plain records the
stages wrote (train.json, convert.json, csim.json, ...), whose fields the stages own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError
from hwgen.report.metrics import board_dict
from hwgen.results import SynthResult, read_json


@dataclass
class Report:
    hwgen_version: str | None = None
    run: dict[str, Any] = field(default_factory=dict)  # name, fingerprint, created, board, options, versions, host
    model: dict[str, Any] = field(default_factory=dict)  # layers, params, nonzero, sparsity, bops, ...
    accuracy: dict[str, Any] = field(default_factory=dict)  # float/qkeras/csim/rtl_sim: {value, source} | None
    train: dict[str, Any] | None = field(default_factory=dict)  # train/train.json
    convert: dict[str, Any] | None = None  # convert.json
    csim: dict[str, Any] | None = None  # csim.json
    rtl_sim: dict[str, Any] | None = None  # rtlsim.json
    synth: list[SynthResult] = field(default_factory=list)  # most faithful first (metrics.FIDELITY)
    baselines: list[dict[str, Any]] = field(default_factory=list)  # baseline.json's rows
    baseline_env: dict[str, Any] | None = None  # the rest of baseline.json
    software_best: list[dict[str, Any]] = field(default_factory=list)
    comparison: list[dict[str, Any]] = field(default_factory=list)  # metrics.comparison_rows
    # What each compression method changed (train.json `compression`: {method: {summary, layers}})
    compression: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)
    # Synthesis sources that failed in this run, with why (the run and its other results kept).
    synth_errors: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    # Top-level keys this hwgen does not know (a newer report): kept, and written back by to_dict.
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    # ---- report.json

    def to_dict(self) -> dict:
        """report.json: the top-level keys in their documented order, synth results as dicts."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if f.name == "synth":
                value = [s.to_dict() if isinstance(s, SynthResult) else dict(s) for s in value]
            out[f.name] = value
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        """A Report from report.json's dict; missing sections get their 'not run' value.
        Raises ValueError when the dict is not a report (a synth entry of an unknown kind, say)."""
        if isinstance(data, Report):
            return data
        if not isinstance(data, dict):
            raise ValueError(f"a report is a JSON object, not {type(data).__name__}")
        names = [f.name for f in dataclasses.fields(cls) if f.name != "extra"]
        kwargs: dict[str, Any] = {k: data[k] for k in names if k in data}
        for key in ("run", "model", "accuracy", "stages", "synth_errors", "compression"):
            if kwargs.get(key) is None:
                kwargs.pop(key, None)
        for key in ("baselines", "software_best", "comparison", "notices"):
            if kwargs.get(key) is None:
                kwargs.pop(key, None)
            elif not isinstance(kwargs[key], list):
                raise ValueError(f"report field {key!r} is not a list")
        synth = data.get("synth") or []
        if not isinstance(synth, list):
            raise ValueError("report field 'synth' is not a list")
        kwargs["synth"] = [s if isinstance(s, SynthResult) else SynthResult.from_dict(s) for s in synth]
        if "comparison" not in data:  # a report from before report.json carried it
            from hwgen.report.metrics import comparison_rows

            kwargs["comparison"] = comparison_rows(kwargs["synth"], kwargs.get("baselines") or [])
        kwargs["extra"] = {k: v for k, v in data.items() if k not in names}
        return cls(**kwargs)

    # ---- conveniences for the renderers

    @property
    def name(self) -> str | None:
        return (self.run or {}).get("name")

    @property
    def board(self) -> dict | None:
        """The board as a dict (a bare registry name, as in older reports, is looked up)."""
        return board_dict((self.run or {}).get("board"))

    @property
    def synth_dicts(self) -> list[dict]:
        return [s.to_dict() for s in self.synth]


def as_report(report: "Report | dict") -> Report:
    """A Report from a Report or a report.json dict (the renderers accept both)."""
    return report if isinstance(report, Report) else Report.from_dict(report)


def load_report(run_dir: Path) -> Report:
    """RUN/report.json as a Report (HwgenError when it is missing or not a report)."""
    path = Path(run_dir) / "report.json"
    try:
        data = read_json(path)
    except OSError as exc:
        raise HwgenError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise HwgenError(f"{path} is not JSON: {exc}") from None
    try:
        return Report.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise HwgenError(f"{path} is not an hwgen report: {exc}") from None
