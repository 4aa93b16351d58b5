"""Board registry: one YAML file per board in `boards/`, with data-sheet capacities.

Adding a board means adding a file; nothing here names a board.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hwgen.errors import HwgenError
from hwgen.resources import data_dir

VENDORS = ("xilinx", "lattice", "intel")
# Capacity fields a board file may give; absent means the part has none of that resource.
CAPACITY_KEYS = ("lut", "ff", "dsp", "bram_18k", "bram_36k", "uram", "lut4", "ebr", "mult18", "spram", "carry")


@dataclass(frozen=True)
class Board:
    name: str
    vendor: str
    family: str  # e.g. zynq7000, artix7, zynquplus, virtexuplus, ecp5, ice40up
    part: str  # exact part string handed to the vendor tools
    clock_mhz: float  # default target clock
    capacity: dict[str, int]  # resource name -> count on the part
    description: str = ""
    yosys_family: str = ""  # synth_xilinx -family value, or 'ecp5' / 'ice40'
    nextpnr: dict = field(default_factory=dict)  # e.g. {'arch': 'ecp5', 'device': '85k', 'package': 'CABGA381'}
    source: str = ""  # where the capacities come from (data sheet)
    pins: dict = field(default_factory=dict)  # board pins for the UART wrapper: clk/rx/tx sites (hwgen.synth.open.constraints)

    @property
    def clock_period_ns(self) -> float:
        return 1000.0 / self.clock_mhz

    def utilization(self, used: dict[str, float]) -> dict[str, float]:
        """Percent of this board's capacity for each resource in `used` the part has."""
        out = {}
        for key, value in used.items():
            cap = self.capacity.get(key)
            if cap and value is not None:
                out[key] = 100.0 * float(value) / cap
        return out

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def boards_dir() -> Path:
    return data_dir("boards")


def _parse_board(path: Path) -> Board:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise HwgenError(f"board file {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise HwgenError(f"board file {path} must be a mapping of fields")
    known = {f.name for f in dataclasses.fields(Board)}
    unknown = set(raw) - known
    if unknown:
        raise HwgenError(f"board file {path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(known)}")
    for key in ("name", "vendor", "family", "part", "clock_mhz", "capacity"):
        if key not in raw:
            raise HwgenError(f"board file {path}: missing required key '{key}'")
    if raw["vendor"] not in VENDORS:
        raise HwgenError(f"board file {path}: vendor must be one of {VENDORS}, got {raw['vendor']!r}")
    cap = raw["capacity"]
    if not isinstance(cap, dict) or not cap:
        raise HwgenError(f"board file {path}: 'capacity' must be a mapping like {{lut: 53200, ff: 106400}}")
    for key, value in cap.items():
        if key not in CAPACITY_KEYS:
            raise HwgenError(f"board file {path}: capacity key '{key}' unknown; allowed: {CAPACITY_KEYS}")
        if not isinstance(value, int) or value < 0:
            raise HwgenError(f"board file {path}: capacity '{key}' must be a non-negative integer")
    if not isinstance(raw["clock_mhz"], (int, float)) or raw["clock_mhz"] <= 0:
        raise HwgenError(f"board file {path}: clock_mhz must be a positive number")
    raw["clock_mhz"] = float(raw["clock_mhz"])
    return Board(**raw)


def list_boards() -> list[Board]:
    return [_parse_board(p) for p in sorted(boards_dir().glob("*.yaml"))]


def load_board(name: str) -> Board:
    """Board by registry name (file stem / `name` field) or by exact part string."""
    boards = list_boards()
    for board in boards:
        if name in (board.name, board.part):
            return board
    names = ", ".join(b.name for b in boards)
    raise HwgenError(f"unknown board '{name}'; known boards: {names} (see `hwgen boards`)")
