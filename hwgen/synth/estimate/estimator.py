"""Calibrated estimate of an hls4ml project: the structural model (`model.py`) times the
per-family factors of `calibration.yaml`, per layer and in total, with an uncertainty band."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hwgen.errors import HwgenError
from hwgen.synth.estimate.calibration import FAMILIES, Calibration, load_calibration
from hwgen.synth.estimate.model import FITTED_COSTS, RESOURCES, estimate_structure
from hwgen.synth.estimate.project import read_project
from hwgen.results import SynthResult

MODEL_VERSION = "v2"
_TOOL_ALIASES = {"vivado_hls": "vivado_hls", "vivado": "vivado_hls", "vivadohls": "vivado_hls",
                 "vitis_hls": "vitis_hls", "vitis": "vitis_hls", "vitishls": "vitis_hls"}


def parse_tool(tool: str | None, backend: str = "") -> tuple[str, str]:
    """('vitis_hls', '2024.1') from 'vitis_hls-2024.1' / 'vitis_hls' / None (then from the
    project's hls4ml backend: Vitis -> vitis_hls, Vivado* -> vivado_hls)."""
    if not tool:
        fam = "vitis_hls" if backend.lower().startswith("vitis") else "vivado_hls"
        return fam, ""
    m = re.fullmatch(r"([A-Za-z_]+?)(?:[-_ ]?(\d{4}(?:\.\d+)*))?", tool.strip())
    fam = _TOOL_ALIASES.get(m.group(1).lower()) if m else None
    if fam is None:
        raise HwgenError(
            f"unknown --tool {tool!r}; use one of {', '.join(FAMILIES)} with an optional version, "
            "e.g. vitis_hls-2024.1 or vivado_hls-2019.2"
        )
    return fam, (m.group(2) or "")


@dataclass
class Estimate:
    """Per-layer and total estimate of one hls4ml project for one tool family, part and clock."""

    project_dir: str
    project_name: str
    tool_family: str
    tool_version: str
    part: str
    clock_mhz: float
    io_type: str
    strategy: str
    model_version: str
    layers: list[dict]  # name, func, kind, dsp, lut, ff, bram_18k, uram, latency, ii, counts, notes
    total: dict[str, float]  # dsp, lut, ff, bram_18k, uram
    latency_cycles_min: int
    latency_cycles_max: int
    ii: int
    uncertainty: dict[str, object]
    factors: dict[str, float]
    raw_total: dict[str, float]
    raw_latency: int
    notes: list[str] = field(default_factory=list)
    fitted_costs: dict[str, float] = field(default_factory=dict)
    out_of_range: list[str] = field(default_factory=list)
    calibration_points: int = 0

    @property
    def source(self) -> str:
        return f"estimate:{self.model_version}-{self.tool_family}"

    @property
    def latency_ns(self) -> float:
        return self.latency_cycles_max * 1000.0 / self.clock_mhz

    def to_dict(self) -> dict:
        return {
            "source": self.source, "project_dir": self.project_dir, "project_name": self.project_name,
            "tool_family": self.tool_family, "tool_version": self.tool_version, "part": self.part,
            "clock_mhz": self.clock_mhz, "io_type": self.io_type, "strategy": self.strategy,
            "model_version": self.model_version, "total": dict(self.total),
            "latency_cycles_min": self.latency_cycles_min, "latency_cycles_max": self.latency_cycles_max,
            "ii": self.ii, "latency_ns": round(self.latency_ns, 3), "uncertainty": self.uncertainty,
            "factors": self.factors, "raw_total": self.raw_total, "raw_latency": self.raw_latency,
            "layers": self.layers, "notes": self.notes,
            # model v2 additions
            "fitted_costs": self.fitted_costs, "out_of_range": self.out_of_range,
            "in_calibrated_range": not self.out_of_range, "calibration_points": self.calibration_points,
        }

    def to_synth_result(self, board=None) -> SynthResult:
        """This estimate as a `SynthResult(kind='estimate')`; with a board, utilization is filled."""
        tool_label = f"{self.tool_family}-{self.tool_version}" if self.tool_version else self.tool_family
        result = SynthResult(
            source=self.source, kind="estimate", tool="hwgen-estimator", tool_version=self.model_version,
            board=getattr(board, "name", "") or "", part=self.part,
            resources={k: float(round(self.total[k])) for k in RESOURCES},
            latency_cycles_min=self.latency_cycles_min, latency_cycles_max=self.latency_cycles_max,
            ii_min=self.ii, ii_max=self.ii, clock_mhz=self.clock_mhz, fmax_mhz=None,
            latency_ns=round(self.latency_ns, 3), uncertainty=dict(self.uncertainty),
            details={
                "modelled_tool": tool_label, "tool_family": self.tool_family, "io_type": self.io_type,
                "strategy": self.strategy, "factors": self.factors, "raw_total": self.raw_total,
                "raw_latency_cycles": self.raw_latency, "per_layer": self.layers,
                "project_dir": self.project_dir, "fitted_costs": self.fitted_costs,
                "out_of_range": self.out_of_range, "in_calibrated_range": not self.out_of_range,
                "calibration_points": self.calibration_points,
            },
            notes=[f"analytical estimate of what {tool_label} C synthesis would report (no vendor tool ran)"]
            + list(self.notes),
        )
        if board is not None:
            # keep the part that was estimated; with_board would overwrite it with the board's
            part = self.part
            result = result.with_board(board)
            result.part = part
        return result

    def format_table(self) -> str:
        """Per-layer and total lines for the terminal."""
        head = f"{'layer':<20} {'kind':<10} {'DSP':>7} {'LUT':>9} {'FF':>8} {'BRAM18':>7} {'lat':>5} {'II':>5}"
        lines = [head, "-" * len(head)]
        for row in self.layers:
            lines.append(
                f"{row['name'][:20]:<20} {row['kind'][:10]:<10} {row['dsp']:>7.0f} {row['lut']:>9.0f} "
                f"{row['ff']:>8.0f} {row['bram_18k']:>7.0f} {row['latency']:>5} {row['ii']:>5}"
            )
        lines.append("-" * len(head))
        t = self.total
        lines.append(
            f"{'total':<20} {'':<10} {t['dsp']:>7.0f} {t['lut']:>9.0f} {t['ff']:>8.0f} {t['bram_18k']:>7.0f} "
            f"{self.latency_cycles_max:>5} {self.ii:>5}"
        )
        band = []
        for key in ("dsp", "lut", "ff", "bram_18k", "latency"):
            lo_hi = self.uncertainty.get(key)
            if isinstance(lo_hi, list):
                band.append(f"{key} {lo_hi[0]:.0f}..{lo_hi[1]:.0f}")
        lines.append("band: " + ", ".join(band))
        lines.append(
            f"{self.source}: {self.tool_family}{('-' + self.tool_version) if self.tool_version else ''}, "
            f"part {self.part}, {self.clock_mhz:g} MHz, {self.io_type}, latency {self.latency_ns:.1f} ns"
        )
        return "\n".join(lines)


def estimate_project(project_dir: Path, tool: str | None = None, part: str | None = None,
                     clock_mhz: float | None = None, calibration: Calibration | None = None,
                     exclude_point: str | None = None) -> Estimate:
    """Estimate an hls4ml project folder. `tool` is e.g. 'vitis_hls-2024.1' (default: from the
    project's backend); `part` and `clock_mhz` override the project's Part and ClockPeriod.
    `exclude_point` leaves one calibration point out of the factors (leave-one-out)."""
    project = read_project(Path(project_dir))
    family, version = parse_tool(tool, project.backend)
    if clock_mhz is not None and not (isinstance(clock_mhz, (int, float)) and clock_mhz > 0):
        raise HwgenError(f"--clock-mhz must be a positive number, got {clock_mhz!r}")
    cal = calibration or load_calibration()
    params = cal.family_params(family, version, exclude=exclude_point)
    if project.clock_uncertainty is None:
        project.clock_uncertainty = params.default_uncertainty
    period = 1000.0 / clock_mhz if clock_mhz else project.clock_period_ns
    use_part = part or project.part
    if not use_part:
        raise HwgenError(f"{project_dir}: hls4ml_config.yml names no Part; pass --part")
    raw = estimate_structure(project, params, part=use_part, clock_period_ns=period)
    factors = cal.factors(family, exclude=exclude_point)  # v2: all 1.0 (costs are fitted instead)
    scale = {"dsp": factors["dsp"], "lut": factors["lut"], "ff": factors["ff"], "bram_18k": factors["bram_18k"], "uram": 1.0}
    layers = []
    for est in raw.layers + [raw.top]:
        row = {"name": est.name, "func": est.func, "kind": est.kind}
        for key in RESOURCES:
            row[key] = round(est.resources.get(key, 0.0) * scale[key], 2)
        row.update({"latency": est.latency, "ii": est.ii, "counts": est.to_dict()["counts"], "notes": est.notes})
        layers.append(row)
    total = {k: round(sum(r[k] for r in layers), 2) for k in RESOURCES}
    # integer units: DSP and BRAM are whole blocks
    latency = max(0, int(raw.latency_cycles))  # 0: the whole network is one combinational stage
    uncertainty: dict[str, object] = {}
    methods = {}
    for key in ("dsp", "lut", "ff", "bram_18k"):
        lo, hi, n, how = cal.band(family, key)
        uncertainty[key] = [round(total[key] * lo, 1), round(total[key] * hi, 1)]
        methods[key] = how
    lo_c, hi_c, _n, how = cal.band_cycles(family, latency)
    uncertainty["latency"] = [lo_c, hi_c]
    methods["latency"] = how
    uncertainty["uram"] = [0.0, 0.0]
    uncertainty["method"] = methods
    notes = list(project.notes)
    out_of_range = _out_of_range(cal, family, version, project, raw)
    notes += [f"outside the calibrated range: {why}" for why in out_of_range]
    for est in raw.layers:
        for n in est.notes:
            notes.append(f"{est.name}: {n}")
    return Estimate(
        project_dir=str(project.path), project_name=project.project_name, tool_family=family,
        tool_version=version, part=use_part, clock_mhz=round(1000.0 / period, 6), io_type=project.io_type,
        strategy=project.strategy, model_version=MODEL_VERSION, layers=layers, total=total,
        latency_cycles_min=latency, latency_cycles_max=latency, ii=int(raw.ii), uncertainty=uncertainty,
        factors={k: round(v, 4) for k, v in factors.items()},
        raw_total={k: round(v, 2) for k, v in raw.totals.items()}, raw_latency=raw.latency_cycles, notes=notes,
        fitted_costs={n: getattr(params, n) for group in FITTED_COSTS.values() for n in group},
        out_of_range=out_of_range,
        calibration_points=len([p for p in cal.points if p.family == family and p.split != "heldout"]),
    )


def _out_of_range(cal: Calibration, family: str, version: str, project, raw) -> list[str]:
    """Why this project lies outside what the family's calibration points cover (empty: inside)."""
    cov = cal.calibrated_range(family)
    why = []
    if project.io_type not in cov["io_type"]:
        why.append(f"io_type {project.io_type} (calibrated: {', '.join(cov['io_type']) or 'none'})")
    kinds = sorted({e.kind for e in raw.layers} - set(cov["layer_kinds"]) - {"reshape"})
    if kinds:
        why.append(f"layer kind(s) {', '.join(kinds)} (calibrated: {', '.join(cov['layer_kinds'])})")
    bits = [int(e.counts.get("data_bits", 0)) for e in raw.layers if e.counts.get("data_bits")]
    if bits and cov["data_bits"] and (min(bits) < cov["data_bits"][0] or max(bits) > cov["data_bits"][1]):
        why.append(f"data widths {min(bits)}..{max(bits)} bits (calibrated: {cov['data_bits'][0]}..{cov['data_bits'][1]})")
    rfs = [int(e.counts.get("reuse_factor", 1)) for e in raw.layers if "reuse_factor" in e.counts]
    if rfs and cov["reuse_factor"] and max(rfs) > cov["reuse_factor"][1]:
        why.append(f"reuse factor {max(rfs)} (calibrated: {cov['reuse_factor'][0]}..{cov['reuse_factor'][1]})")
    strategies = {str(e.counts.get("strategy_resource", 0)) for e in raw.layers if "strategy_resource" in e.counts}
    if "1" in strategies and "resource" not in cov["strategy"]:
        why.append("Resource strategy (calibrated: Latency only)")
    if version and cov["versions"] and version not in cov["versions"]:
        why.append(f"tool version {version} (calibrated: {', '.join(cov['versions'])})")
    return why


def run_tool_family(run_dir: Path) -> str | None:
    """Tool family of a run from its own convert.json (`backend`: Vitis -> vitis_hls, Vivado ->
    vivado_hls); None when the run has no readable convert.json (then the project's
    hls4ml_config.yml Backend decides)."""
    import json

    path = Path(run_dir) / "convert.json"
    try:
        backend = json.loads(path.read_text()).get("backend")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(backend, str) or not backend:
        return None
    return parse_tool(None, backend)[0]


def estimate_run(run_dir: Path, board, tool: str | None = None, part: str | None = None,
                 clock_mhz: float | None = None) -> tuple[Estimate, SynthResult, Path]:
    """Estimate RUN/hls/ (for the board's part unless `part` is given; the project's clock
    unless `clock_mhz`) and write RUN/synth/<source>.json plus RUN/synth/<source>/estimate_layers.txt.
    Without `tool` the family follows the run's hls4ml backend (convert.json), so a
    `--backend Vivado` run is estimated with the Vivado HLS calibration."""
    from hwgen.results import slug, write_synth_result
    from hwgen.rundir import RunPaths, staged_subdir

    paths = RunPaths(Path(run_dir))
    if not paths.hls_dir.is_dir():
        raise HwgenError(f"{run_dir} has no hls/ project; run `hwgen convert` (or `hwgen flow`) first")
    if not tool:
        tool = run_tool_family(paths.root)
    est = estimate_project(paths.hls_dir, tool=tool, part=part or getattr(board, "part", None), clock_mhz=clock_mhz)
    result = est.to_synth_result(board)
    log_dir = paths.synth_dir / slug(result.source)
    with staged_subdir(log_dir) as stage:
        (stage / "estimate_layers.txt").write_text(est.format_table() + "\n")
    result.logs = [str((log_dir / "estimate_layers.txt").relative_to(paths.root))]
    out = write_synth_result(paths.root, result)
    return est, result, out


def run_estimate(run_dir: Path, board, tool_family: str | None = None) -> SynthResult:
    """Estimate RUN/hls/ for `board` and write it as RUN/synth/estimate_<version>-<family>.json
    (`tool_family` may carry a version: 'vitis_hls-2024.1'; default: the run's own backend)."""
    return estimate_run(run_dir, board, tool=tool_family)[1]
