"""Calibration of the structural estimate (model v2).

What is fitted, per tool family, are only per-unit costs with a physical meaning (model.FITTED_COSTS:
LUT per adder bit, LUT per DSP product, LUT per relu bit, FF per register bit, ...). Every LUT and
FF figure of the structural model is an exact linear function of them, `const + sum(cost * count)`;
calibration.yaml stores, per calibration point, those counts (`terms`) next to the measured figures,
so a fit is a small non-negative least-squares problem on relative errors, regularised toward the
first-principles values of calibrate.FAMILY_STRUCTURE (the prior). DSP, BRAM, latency and II are not
fitted at all: they are what the structure gives (multipliers that survive, DSP-vs-LUT rule, table
blocks, pipeline depth at the clock).

Honesty rules:
* leave-one-out leaves out a whole *design* (the same hls4ml project synthesized by several tool
  versions is one design), so a near-duplicate never predicts itself;
* points with split 'heldout' (a frozen list in calibrate.py) are never in any fit; their error is
  reported separately (benchmarks/estimate_loo.py);
* the uncertainty band of a figure is the range of the leave-one-design-out log residuals of its own
  family (5th..95th percentile, at least +-min_band).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from hwgen.errors import HwgenError
from hwgen.synth.estimate.model import FITTED_COSTS, FamilyParams

CALIBRATION_FILE = Path(__file__).with_name("calibration.yaml")
TARGETS = ("dsp", "lut", "ff", "bram_18k", "latency")
FAMILIES = ("vivado_hls", "vitis_hls")
LATENCY_BAND_OFFSET = 4.0  # cycles: keeps the relative difference of a 0-2 cycle design finite
BAND_QUANTILES = (0.05, 0.95)


@dataclass
class CalPoint:
    id: str
    family: str
    tool: str
    measured: dict[str, float]
    raw: dict[str, float]  # structural estimate with the prior costs (dsp, bram_18k, latency, ii are final)
    use: list[str]  # targets this point informs (fit and leave-one-out)
    provenance: dict = field(default_factory=dict)
    structure: dict = field(default_factory=dict)
    terms: dict[str, dict[str, float]] = field(default_factory=dict)  # target -> {'const': c, cost: count}
    design: str = ""  # leave-one-out group (same hls4ml project)
    split: str = "fit"  # 'fit' or 'heldout'

    @property
    def group(self) -> str:
        return self.design or self.id


@dataclass
class Calibration:
    model_version: str
    fitted_targets: list[str]  # targets whose per-unit costs are fitted (lut, ff)
    params: dict[str, FamilyParams]  # prior structure per family
    points: list[CalPoint]
    min_band: dict[str, float] = field(default_factory=lambda: {"default": 0.10})  # smallest band half-width (log)
    ridge: float = 1.0  # weight of the prior (per cost, relative deviation) against the points
    # per family and cost: relative standard deviation of the prior (a cost from first principles is
    # trusted, e.g. 0.5; the rest get 1/sqrt(ridge)); a point the leave-one-out fit cannot see then
    # cannot drag a cost it alone determines far from its physical value
    prior_sigma: dict[str, dict[str, float]] = field(default_factory=dict)
    version_overrides: dict[str, dict[str, dict]] = field(default_factory=dict)  # family -> version prefix -> params
    _fits: dict = field(default_factory=dict, repr=False, compare=False)  # (family, left-out design) -> costs

    # ------------------------------------------------------------------ selection

    def family_points(self, family: str, target: str, exclude: str | None = None,
                      include_heldout: bool = False) -> list[CalPoint]:
        """Points of `family` that inform `target`; `exclude` drops a point id *and its design*."""
        drop = self._group_of(exclude)
        return [p for p in self.points if p.family == family and target in p.use
                and (include_heldout or p.split != "heldout")
                and p.id != exclude and (drop is None or p.group != drop)
                and _positive(p.measured.get(target))]

    def _group_of(self, point_id: str | None) -> str | None:
        if point_id is None:
            return None
        for p in self.points:
            if p.id == point_id:
                return p.group
        return None

    # ------------------------------------------------------------------ fitted costs

    def fitted_costs(self, family: str, exclude: str | None = None) -> dict[str, float]:
        """Fitted per-unit costs of `family` (prior values where no point informs them)."""
        key = (family, self._group_of(exclude) or exclude)
        if key not in self._fits:
            self._fits[key] = self._fit(family, exclude)
        return dict(self._fits[key])

    def _fit(self, family: str, exclude: str | None) -> dict[str, float]:
        prior = self.params[family]
        sigma = self.prior_sigma.get(family) or {}
        out: dict[str, float] = {}
        for target, names in FITTED_COSTS.items():
            p0 = np.array([float(getattr(prior, n)) for n in names])
            if target not in self.fitted_targets:
                out.update(dict(zip(names, p0)))
                continue
            pts = [p for p in self.family_points(family, target, exclude) if target in p.terms]
            default = 1.0 / math.sqrt(self.ridge) if self.ridge > 0 else 1e6
            sig = np.array([float(sigma.get(n, default)) for n in names])
            out.update(dict(zip(names, _ridge_nnls(pts, target, names, p0, sig))))
        return {k: round(float(v), 6) for k, v in out.items()}

    def family_params(self, family: str, version: str = "", exclude: str | None = None) -> FamilyParams:
        """Structure of `family` for tool `version` (overrides by version prefix) with fitted costs."""
        base = self.params[family]
        for prefix, values in sorted((self.version_overrides.get(family) or {}).items(), key=lambda kv: len(kv[0])):
            if version and version.startswith(prefix):
                base = replace(base, **values)
        return replace(base, **self.fitted_costs(family, exclude))

    def predict(self, point: CalPoint, target: str, exclude: str | None = None) -> float | None:
        """The point's estimate of `target` with the costs fitted without `exclude`."""
        if target in FITTED_COSTS and target in point.terms:
            costs = self.fitted_costs(point.family, exclude)
            terms = point.terms[target]
            return terms.get("const", 0.0) + sum(costs[n] * terms.get(n, 0.0) for n in FITTED_COSTS[target])
        value = point.raw.get(target)
        return float(value) if value is not None else None

    # compatibility with model v1 (one factor per target): the v2 estimate is not rescaled
    def factor(self, family: str, target: str, exclude: str | None = None) -> float:
        return 1.0

    def factors(self, family: str, exclude: str | None = None) -> dict[str, float]:
        return {t: 1.0 for t in TARGETS}

    # ------------------------------------------------------------------ residuals and bands

    def loo_log_residuals(self, family: str | None, target: str) -> list[tuple[str, float]]:
        """(point id, log(predicted / measured)) with each point's whole design left out of the fit;
        held-out points are not in this list (see heldout_log_residuals)."""
        out = []
        for p in self.points:
            if (family is not None and p.family != family) or p.split == "heldout":
                continue
            if target not in p.use or not _positive(p.measured.get(target)):
                continue
            pred = self.predict(p, target, exclude=p.id)
            if pred is None or pred <= 0:
                pred = 0.5  # a predicted 0 for a measured > 0: a residual of log(0.5/measured)
            out.append((p.id, math.log(pred / p.measured[target])))
        return out

    def band(self, family: str, target: str) -> tuple[float, float, int, str]:
        """(low, high) multiplicative band and how it was obtained: the 5th..95th percentile of the
        family's leave-one-design-out log residuals (all families when the family has < 4)."""
        res = [r for _, r in self.loo_log_residuals(family, target)]
        scope = family
        if len(res) < 4:
            res = [r for _, r in self.loo_log_residuals(None, target)]
            scope = "all families"
        if not res:
            return (math.exp(-1.0), math.exp(1.0), 0, "no calibration point: +-e-fold default")
        floor = self.min_band.get(target, self.min_band.get("default", 0.10))
        q_lo, q_hi = np.quantile(np.array(res), BAND_QUANTILES)
        lo = min(float(q_lo), -floor)
        hi = max(float(q_hi), floor)
        # prediction / measured = exp(r)  =>  measured = prediction * exp(-r)
        return (math.exp(-hi), math.exp(-lo), len(res),
                f"5..95% of leave-one-design-out residuals over {len(res)} points ({scope})")

    def band_cycles(self, family: str, latency: int) -> tuple[float, float, int, str]:
        """(low, high) latency band in cycles for an estimate of `latency` cycles: the 5th..95th
        percentile of the family's leave-one-design-out differences measured - predicted, each
        divided by (predicted + LATENCY_BAND_OFFSET), scaled back to this estimate (at least -1..+1
        cycle). Relative, so that a stream design thousands of cycles off does not widen the band
        of a 10-cycle MLP by thousands of cycles, nor a 2-cycle miss on a 5-cycle design vanish."""
        rel = []
        for p in self.points:
            if p.family != family or p.split == "heldout" or "latency" not in p.use:
                continue
            m, pred = p.measured.get("latency"), self.predict(p, "latency", exclude=p.id)
            if m is None or pred is None:
                continue
            rel.append((m - pred) / (max(pred, 0.0) + LATENCY_BAND_OFFSET))
        if len(rel) < 4:
            return (max(0.0, latency - 1.0), latency + 1.0, len(rel), "fewer than 4 points: +-1 cycle default")
        q_lo, q_hi = np.quantile(np.array(rel, dtype=float), BAND_QUANTILES)
        scale = latency + LATENCY_BAND_OFFSET
        lo = min(math.floor(latency + q_lo * scale), latency - 1)
        hi = max(math.ceil(latency + q_hi * scale), latency + 1)
        return (float(max(0, lo)), float(hi), len(rel),
                f"5..95% of leave-one-design-out cycle differences relative to (predicted + "
                f"{LATENCY_BAND_OFFSET:g}) over {len(rel)} points ({family})")

    def calibrated_range(self, family: str) -> dict[str, object]:
        """What the family's fit points cover (for the out-of-range notes of an estimate)."""
        pts = [p for p in self.points if p.family == family and p.split != "heldout"]
        cov: dict[str, set] = {"io_type": set(), "strategy": set(), "layer_kinds": set(), "versions": set()}
        widths: list[int] = []
        rf: list[int] = []
        for p in pts:
            s = p.structure
            cov["io_type"].add(s.get("io_type"))
            cov["strategy"].add(str(s.get("strategy", "")).lower())
            cov["layer_kinds"].update(s.get("layer_kinds") or [])
            cov["versions"].add(p.tool.split("-")[-1])
            widths += [int(w) for w in (s.get("data_bits") or [])]
            rf += [int(r) for r in (s.get("reuse_factors") or [])]
        return {
            "io_type": sorted(x for x in cov["io_type"] if x), "strategy": sorted(x for x in cov["strategy"] if x),
            "layer_kinds": sorted(cov["layer_kinds"]), "versions": sorted(cov["versions"]),
            "data_bits": [min(widths), max(widths)] if widths else [], "reuse_factor": [min(rf), max(rf)] if rf else [],
            "points": len(pts),
        }


def _ridge_nnls(points: list[CalPoint], target: str, names, p0: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """argmin_c>=0  sum_i ((const_i + t_i.c - y_i) / y_i)^2 + sum_j ((c_j - p0_j) / (sigma_j s_j))^2,
    s_j = p0_j (or 1 when the prior is 0), by projected coordinate descent (deterministic)."""
    if not points:
        return p0.copy()
    a = np.array([[p.terms[target].get(n, 0.0) for n in names] for p in points], dtype=np.float64)
    const = np.array([p.terms[target].get("const", 0.0) for p in points], dtype=np.float64)
    y = np.array([p.measured[target] for p in points], dtype=np.float64)
    a = a / y[:, None]
    b = (y - const) / y
    s = np.where(p0 > 0, p0, 1.0)
    reg = 1.0 / (np.asarray(sigma, dtype=np.float64) * s)
    a = np.vstack([a, np.diag(reg)])
    b = np.concatenate([b, reg * p0])
    gram = a.T @ a
    rhs = a.T @ b
    c = p0.copy()
    for _ in range(5000):
        prev = c.copy()
        for j in range(len(c)):
            if gram[j, j] <= 0:
                continue
            c[j] = max(0.0, c[j] + (rhs[j] - gram[j] @ c) / gram[j, j])
        if np.max(np.abs(c - prev)) < 1e-10:
            break
    return c


def _min_band(value) -> dict[str, float]:
    if isinstance(value, dict):
        return {str(k): float(v) for k, v in value.items()}
    return {"default": float(value)}


def _prior_sigma(value) -> dict[str, dict[str, float]]:
    known = {n for group in FITTED_COSTS.values() for n in group}
    out: dict[str, dict[str, float]] = {}
    for fam, costs in (value or {}).items():
        for name, sigma in (costs or {}).items():
            if name not in known or not _positive(sigma):
                raise HwgenError(f"{CALIBRATION_FILE}: prior_sigma.{fam}.{name} must name a fitted cost and be > 0")
            out.setdefault(str(fam), {})[str(name)] = float(sigma)
    return out


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
            terms={t: {k: float(v) for k, v in d.items()} for t, d in (raw.get("terms") or {}).items()},
            design=str(raw.get("design") or ""), split=str(raw.get("split") or "fit"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise HwgenError(f"{CALIBRATION_FILE}: malformed calibration point {raw.get('id', '?')}: {exc}") from None


def parse_calibration(data: dict) -> Calibration:
    params = {}
    overrides: dict[str, dict[str, dict]] = {}
    for fam in FAMILIES:
        fam_data = (data.get("families") or {}).get(fam) or {}
        try:
            params[fam] = FamilyParams.from_dict(fam_data.get("structure"))
            overrides[fam] = {}
            for prefix, values in (fam_data.get("versions") or {}).items():
                FamilyParams.from_dict(values)  # validates the names
                overrides[fam][str(prefix)] = dict(values)
        except (ValueError, TypeError) as exc:
            raise HwgenError(f"{CALIBRATION_FILE}: family {fam}: {exc}") from None
    return Calibration(
        model_version=str(data.get("model_version", "")),
        fitted_targets=list(data.get("fitted_targets") or []),
        params=params,
        points=[_point(p) for p in data.get("points") or []],
        min_band=_min_band(data.get("min_band", 0.10)),
        ridge=float(data.get("ridge", 1.0)),
        version_overrides=overrides,
        prior_sigma=_prior_sigma(data.get("prior_sigma")),
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
        raise HwgenError(f"estimator calibration {path} is missing (rebuild it: python -m hwgen.synth.estimate.calibrate)")
    return _load_cached(str(path), path.stat().st_mtime)
