"""Calibrated estimate of an hls4ml project: the structural model (`model.py`) times the
per-family factors of `calibration.yaml`, per layer and in total, with an uncertainty band."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hwgen.errors import HwgenError
from hwgen.estimate.calibration import FAMILIES, Calibration, load_calibration
from hwgen.estimate.model import RESOURCES, estimate_structure
from hwgen.estimate.project import read_project
from hwgen.results import SynthResult

MODEL_VERSION = "v1"
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
                "project_dir": self.project_dir,
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
    params = cal.params[family]
    if project.clock_uncertainty is None:
        project.clock_uncertainty = params.default_uncertainty
    period = 1000.0 / clock_mhz if clock_mhz else project.clock_period_ns
    use_part = part or project.part
    if not use_part:
        raise HwgenError(f"{project_dir}: hls4ml_config.yml names no Part; pass --part")
    raw = estimate_structure(project, params, part=use_part, clock_period_ns=period)
    factors = cal.factors(family, exclude=exclude_point)
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
    latency = max(1, int(round(raw.latency_cycles * factors["latency"])))
    uncertainty: dict[str, object] = {}
    methods = {}
    for key in ("dsp", "lut", "ff", "bram_18k", "latency"):
        lo, hi, n, how = cal.band(family, key)
        value = latency if key == "latency" else total[key]
        uncertainty[key] = [round(value * lo, 1), round(value * hi, 1)]
        methods[key] = how
    uncertainty["uram"] = [0.0, 0.0]
    uncertainty["method"] = methods
    notes = list(project.notes)
    if project.io_type == "io_stream":
        notes.append("io_stream: modelled more coarsely than io_parallel (few calibration points)")
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
    )


def estimate_run(run_dir: Path, board, tool: str = "vitis_hls", part: str | None = None,
                 clock_mhz: float | None = None) -> tuple[Estimate, SynthResult, Path]:
    """Estimate RUN/hls/ (for the board's part unless `part` is given; the project's clock
    unless `clock_mhz`) and write RUN/synth/<source>.json plus RUN/synth/<source>/estimate_layers.txt."""
    from hwgen.results import slug, write_synth_result
    from hwgen.rundir import RunPaths, staged_subdir

    paths = RunPaths(Path(run_dir))
    if not paths.hls_dir.is_dir():
        raise HwgenError(f"{run_dir} has no hls/ project; run `hwgen convert` (or `hwgen flow`) first")
    est = estimate_project(paths.hls_dir, tool=tool, part=part or getattr(board, "part", None), clock_mhz=clock_mhz)
    result = est.to_synth_result(board)
    log_dir = paths.synth_dir / slug(result.source)
    with staged_subdir(log_dir) as stage:
        (stage / "estimate_layers.txt").write_text(est.format_table() + "\n")
    result.logs = [str((log_dir / "estimate_layers.txt").relative_to(paths.root))]
    out = write_synth_result(paths.root, result)
    return est, result, out


def run_estimate(run_dir: Path, board, tool_family: str = "vitis_hls") -> SynthResult:
    """Estimate RUN/hls/ for `board` and write it as RUN/synth/estimate_v1-<family>.json
    (`tool_family` may carry a version: 'vitis_hls-2024.1')."""
    return estimate_run(run_dir, board, tool=tool_family)[1]
