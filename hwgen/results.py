"""Typed results that stages write into a run directory and the report reads back.

Every synthesis source (vendor report parsed, Yosys, nextpnr, estimate) produces one
`SynthResult`, written as `RUN/synth/<slug>.json`; the report stage collects them all, so a
new source needs no change to the report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Resource keys used across sources. Xilinx: lut, ff, dsp, bram_18k, uram, carry.
# Lattice: lut4, ff, ebr, mult18. Intel: alut, ff, ram, dsp, mlab.
RESOURCE_KEYS = ("lut", "ff", "dsp", "bram_18k", "uram", "carry", "lut4", "ebr", "mult18", "alut", "ram", "mlab")
SYNTH_KINDS = ("parsed", "synthesized", "placed", "estimate")


@dataclass
class SynthResult:
    source: str  # label shown in reports, e.g. 'vendor:vitis_hls-2024.1', 'yosys-0.23', 'nextpnr-ecp5-0.11', 'estimate:v1'
    kind: str  # one of SYNTH_KINDS
    tool: str  # tool name ('vitis_hls', 'yosys', 'nextpnr-ecp5', 'hwgen-estimator')
    tool_version: str
    board: str  # board registry name
    part: str
    resources: dict[str, float] = field(default_factory=dict)  # RESOURCE_KEYS -> count
    utilization_pct: dict[str, float] = field(default_factory=dict)  # resource -> % of the board
    fits: bool | None = None  # None when utilization is unknown
    latency_cycles_min: int | None = None
    latency_cycles_max: int | None = None
    ii_min: int | None = None
    ii_max: int | None = None
    clock_mhz: float | None = None  # target clock
    fmax_mhz: float | None = None  # achieved/estimated maximum clock
    latency_ns: float | None = None  # latency_cycles_max * period at the clock used (fmax if known, else target)
    uncertainty: dict[str, Any] = field(default_factory=dict)  # estimates: {'lut': [lo, hi], ...}
    details: dict[str, Any] = field(default_factory=dict)  # source-specific extras (per-layer, cell counts, ...)
    logs: list[str] = field(default_factory=list)  # paths relative to the run dir
    notes: list[str] = field(default_factory=list)
    wall_s: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in SYNTH_KINDS:
            raise ValueError(f"SynthResult.kind must be one of {SYNTH_KINDS}, got {self.kind!r}")
        unknown = set(self.resources) - set(RESOURCE_KEYS)
        if unknown:
            raise ValueError(f"SynthResult.resources has unknown keys {sorted(unknown)}")

    def with_board(self, board) -> "SynthResult":
        """Fill utilization % and `fits` from a `hwgen.boards.Board`."""
        used = {k: v for k, v in self.resources.items() if v}
        util = board.utilization(used)
        # A verdict only when every resource used has a capacity on this board (a Xilinx-style
        # 'lut' count on a Lattice part, say, leaves the fit unknown rather than 'yes').
        over = any(p > 100.0 for p in util.values())
        fits = False if over else (True if util and set(used) <= set(util) else None)
        return dataclasses.replace(self, utilization_pct=util, fits=fits, board=board.name, part=board.part)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SynthResult":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def slug(text: str) -> str:
    """File-system and identifier safe version of a label."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


# Every file a run's hwgen steps wrote, relative to the run dir: what a re-run may replace.
# Files not listed (a user's notes, say) are never deleted (hwgen.rundir).
INVENTORY = ".hwgen-files.json"


def write_atomic(path: Path, data: bytes) -> Path:
    """Write bytes atomically (temp file + rename): a crash or a full disk never leaves half a
    file, and the temp file is removed when the write fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def write_json(path: Path, data: Any) -> Path:
    """Write JSON atomically (temp file + rename) so a crash never leaves half a file; inside a
    finished run, the file is recorded in the run's inventory."""
    path = Path(path)
    write_atomic(path, (json.dumps(data, indent=2, sort_keys=False, default=_json_default) + "\n").encode())
    _record(path)
    return path


def read_inventory(run_dir: Path) -> set[str] | None:
    """The files hwgen wrote into a run dir, or None for a run made before the inventory."""
    try:
        data = json.loads((Path(run_dir) / INVENTORY).read_text())
        return {str(f) for f in data["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_inventory(run_dir: Path, files: list[str]) -> None:
    write_atomic(Path(run_dir) / INVENTORY, (json.dumps({"files": sorted(set(files))}, indent=0) + "\n").encode())


def _record(path: Path) -> None:
    """Add a file written into a finished run (by `hwgen synth`, say) to its inventory."""
    for parent in list(path.parents)[:3]:
        if (parent / INVENTORY).is_file():
            rel = path.relative_to(parent).as_posix()
            have = read_inventory(parent)
            if have is not None and rel not in have:
                write_inventory(parent, sorted(have | {rel}))
            return
        if (parent / "run.json").is_file():
            return


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


def _json_default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(obj)
    if isinstance(obj, Path):
        return str(obj)
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def write_synth_result(run_dir: Path, result: SynthResult) -> Path:
    return write_json(Path(run_dir) / "synth" / f"{slug(result.source)}.json", result.to_dict())


def read_synth_results(run_dir: Path) -> list[SynthResult]:
    folder = Path(run_dir) / "synth"
    return [SynthResult.from_dict(read_json(p)) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
