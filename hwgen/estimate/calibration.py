"""Calibration of the structural estimate: per tool family, one multiplicative factor per target
(fit by least squares on log(measured / raw) over the calibration points, i.e. the geometric mean
ratio), and an uncertainty band per target from the leave-one-out residuals.

The calibration points, their provenance and the raw structural estimate of each (for this
model version) are data in `calibration.yaml` next to this file; `python -m
hwgen.estimate.calibrate` rebuilds them from the vendor-report fixtures (through
`hwgen.vendor.reports.parse_report`) and the published table they cite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from hwgen.errors import HwgenError
from hwgen.estimate.model import FamilyParams

CALIBRATION_FILE = Path(__file__).with_name("calibration.yaml")
TARGETS = ("dsp", "lut", "ff", "bram_18k", "latency")
FAMILIES = ("vivado_hls", "vitis_hls")


@dataclass
class CalPoint:
    id: str
    family: str
    tool: str
    measured: dict[str, float]
    raw: dict[str, float]
    use: list[str]  # targets this point informs (fit and leave-one-out)
    provenance: dict = field(default_factory=dict)
    structure: dict = field(default_factory=dict)


@dataclass
class Calibration:
    model_version: str
    fitted_targets: list[str]  # targets that get a per-family factor; the others stay structural
    params: dict[str, FamilyParams]
    points: list[CalPoint]
    min_band: dict[str, float] = field(default_factory=lambda: {"default": 0.10})  # smallest band half-width (log)

    def family_points(self, family: str, target: str, exclude: str | None = None) -> list[CalPoint]:
        return [p for p in self.points if p.family == family and target in p.use and p.id != exclude
                and _positive(p.measured.get(target)) and _positive(p.raw.get(target))]

    def factor(self, family: str, target: str, exclude: str | None = None) -> float:
        """exp(mean log(measured/raw)) over the family's points (1.0 when not fitted / no points)."""
        if target not in self.fitted_targets:
            return 1.0
        pts = self.family_points(family, target, exclude)
        if not pts:
            return 1.0
        return math.exp(sum(math.log(p.measured[target] / p.raw[target]) for p in pts) / len(pts))

    def factors(self, family: str, exclude: str | None = None) -> dict[str, float]:
        return {t: self.factor(family, t, exclude) for t in TARGETS}

    def loo_log_residuals(self, family: str | None, target: str) -> list[tuple[str, float]]:
        """(point id, log(predicted / measured)) with each point left out of its own fit."""
        out = []
        for p in self.points:
            if family is not None and p.family != family:
                continue
            if target not in p.use or not (_positive(p.measured.get(target)) and _positive(p.raw.get(target))):
                continue
            pred = p.raw[target] * self.factor(p.family, target, exclude=p.id)
            out.append((p.id, math.log(pred / p.measured[target])))
        return out

    def band(self, family: str, target: str) -> tuple[float, float, int, str]:
        """(low, high) multiplicative band and how it was obtained: the extreme leave-one-out
        log residuals of the family (or of all families when the family has fewer than 2)."""
        res = [r for _, r in self.loo_log_residuals(family, target)]
        scope = family
        if len(res) < 2:
            res = [r for _, r in self.loo_log_residuals(None, target)]
            scope = "all families"
        if not res:
            return (math.exp(-1.0), math.exp(1.0), 0, "no calibration point: +-e-fold default")
        floor = self.min_band.get(target, self.min_band.get("default", 0.10))
        lo = min(min(res), -floor)
        hi = max(max(res), floor)
        # prediction / measured = exp(r)  =>  measured = prediction * exp(-r)
        return (math.exp(-hi), math.exp(-lo), len(res), f"leave-one-out residual range over {len(res)} points ({scope})")


def _min_band(value) -> dict[str, float]:
    if isinstance(value, dict):
        return {str(k): float(v) for k, v in value.items()}
    return {"default": float(value)}


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and value > 0


def _point(raw: dict) -> CalPoint:
    try:
        return CalPoint(
            id=str(raw["id"]), family=str(raw["family"]), tool=str(raw.get("tool", "")),
            measured={k: float(v) for k, v in (raw.get("measured") or {}).items() if v is not None},
            raw={k: float(v) for k, v in (raw.get("raw") or {}).items() if v is not None},
            use=list(raw.get("use") or []), provenance=dict(raw.get("provenance") or {}),
            structure=dict(raw.get("structure") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise HwgenError(f"{CALIBRATION_FILE}: malformed calibration point {raw.get('id', '?')}: {exc}") from None


def parse_calibration(data: dict) -> Calibration:
    params = {}
    for fam in FAMILIES:
        try:
            params[fam] = FamilyParams.from_dict(((data.get("families") or {}).get(fam) or {}).get("structure"))
        except ValueError as exc:
            raise HwgenError(f"{CALIBRATION_FILE}: family {fam}: {exc}") from None
    return Calibration(
        model_version=str(data.get("model_version", "")),
        fitted_targets=list(data.get("fitted_targets") or []),
        params=params,
        points=[_point(p) for p in data.get("points") or []],
        min_band=_min_band(data.get("min_band", 0.10)),
    )


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float) -> Calibration:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise HwgenError(f"cannot read the estimator calibration {path}: {exc}") from None
    if not isinstance(data, dict):
        raise HwgenError(f"{path} must be a mapping")
    return parse_calibration(data)


def load_calibration(path: Path | None = None) -> Calibration:
    path = Path(path or CALIBRATION_FILE)
    if not path.is_file():
        raise HwgenError(f"estimator calibration {path} is missing (rebuild it: python -m hwgen.estimate.calibrate)")
    return _load_cached(str(path), path.stat().st_mtime)
