"""The board steps around nextpnr in the open flow: what is placed, and what follows routing.

Before nextpnr (`prepare_placement`): on a board with `pins:` the pipelined design is placed
inside the UART wrapper (hwgen.synth.open.uart) with the board's pin constraints, and the wrapper's RTL
is first simulated over its serial line (RUN/rtlsim.json gains a `uart` row); nextpnr is asked
for the textual configuration and the routed netlist. Boards without pins keep the 4-pin serial
shifter (timing only, no bitstream).

After routing (`after_route`): icepack / ecppack write the bitstream (RUN/synth/nextpnr-*/<top>.bin
or .bit), and the routed netlist is simulated at gate level on the RTL test vectors
(hwgen.synth.open.postroute; RUN/rtlsim.json gains a `post_route` row). A missing packer, simulator or
cell-model library skips that step with a one-line notice.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwgen.errors import HwgenError, ToolMissing
from hwgen.results import read_json, write_json

UART_RTL_SAMPLES = 16  # vectors sent over the RTL wrapper's serial line (each is ~10^4 clocks)
ROUTED_JSON = "routed.json"
# Architectures whose routed netlist the available cell models cannot yet simulate faithfully
# (arch -> why). ECP5 left this set once hwgen's model fix for its unconnected LUT inputs landed
# (hwgen.synth.open.postroute.MODEL_FIXES); iCE40 and ECP5 are both simulated now.
POST_ROUTE_UNSUPPORTED: dict[str, str] = {}


@dataclass
class Placement:
    top: str
    sources: list[str]  # relative to the nextpnr work folder
    extra_args: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    uart: object | None = None  # UartConfig when the UART wrapper is placed
    config: str | None = None  # nextpnr's textual configuration (for the packer)
    constraints: str | None = None
    kept: list[str] = field(default_factory=list)  # files of the work folder worth keeping

    @property
    def kind(self) -> str:
        return "uart" if self.uart is not None else "serial"


def _reference(run_dir: Path, n: int) -> tuple[list[str], np.ndarray]:
    """The RTL simulation's input words (RUN/rtl/sim/pipe/inputs.hex) and the QKeras logits for them."""
    from hwgen.rundir import RunPaths

    hex_path = Path(run_dir) / "rtl" / "sim" / "pipe" / "inputs.hex"
    if not hex_path.is_file():
        raise ToolMissing("no RTL test vectors (the RTL simulation was skipped)")
    lines = [ln for ln in hex_path.read_text().split() if ln.strip()]
    with np.load(RunPaths(run_dir).data, allow_pickle=False) as npz:
        logits = np.asarray(npz["logits_qkeras"][: len(lines)], dtype=np.float64).reshape(len(lines), -1)
    return lines, logits


def prepare_placement(run_dir: Path, board, design, arch: str, work: Path, rtl_dir: Path, say) -> Placement:
    """Write the wrapper to place (and its constraints) below `work`; returns what nextpnr needs."""
    from hwgen.synth.open.bitstream import board_clock_mhz, config_name, has_pins, nextpnr_outputs, write_constraints
    from hwgen.synth.open.uart import uart_config, write_wrapper_sources
    from hwgen.synth.open.verilog import serial_io_wrapper
    from hwgen.synth.open.yosys import stage_sources

    (work / "src").mkdir(parents=True, exist_ok=True)
    core = stage_sources(rtl_dir, design.pipe_files, design.mem_files, work)
    if not has_pins(board):
        top, text = serial_io_wrapper(design)
        (work / "src" / f"{top}.v").write_text(text)
        return Placement(
            top=top,
            sources=core + [f"src/{top}.v"],
            notes=[
                f"placed inside a serial I/O wrapper (clk, sin, load, sout; adds {design.in_width + design.out_width('pipe')} "
                "FFs) because the design's parallel ports exceed the package; the board file has no pins, so no bitstream"
            ],
        )
    cfg = uart_config(design, board_clock_mhz(board))
    top, names = write_wrapper_sources(design, cfg, work)
    for n in names:
        shutil.copy(work / n, work / "src" / n)
    constraints = write_constraints(board, arch, work, top)
    config = config_name(arch, top)
    pl = Placement(
        top=top,
        sources=core + [f"src/{n}" for n in names],
        extra_args=[*nextpnr_outputs(arch, constraints, config), "--write", ROUTED_JSON],
        uart=cfg,
        config=config,
        constraints=constraints,
        kept=[*names, constraints],
        notes=[
            f"placed in-context inside the UART board wrapper (pins clk/rx/tx from boards/{board.name}.yaml, "
            f"{cfg.baud} baud 8N1 at the board's {cfg.clk_hz / 1e6:g} MHz oscillator, {cfg.clks_per_bit} clocks per bit, "
            f"{cfg.baud_error * 100:+.2f}% baud error); see hwgen.synth.open.uart for the byte protocol"
        ],
    )
    if abs(cfg.clk_hz / 1e6 - float(board.clock_mhz)) > 1e-6:
        pl.notes.append(
            f"timing target {board.clock_mhz:g} MHz (board file clock_mhz); the bitstream runs the design at the "
            f"{cfg.clk_hz / 1e6:g} MHz oscillator (no PLL)"
        )
    # RTL of the wrapper over its serial line, before spending minutes in nextpnr.
    try:
        uart_row = _uart_rtl_check(run_dir, design, cfg, work, rtl_dir)
    except ToolMissing as exc:
        pl.notes.append(f"UART RTL simulation skipped: {exc}")
    else:
        say(f"rtl-sim: UART wrapper over its serial line: bit-exact {uart_row['bit_exact_fraction']:.1%} on {uart_row['n_samples']} vectors")
        _add_rtlsim_row(run_dir, "uart", uart_row)
        if uart_row["bit_exact_fraction"] != 1.0:
            raise HwgenError(
                f"the UART wrapper's RTL simulation is not bit-exact ({uart_row['bit_exact_fraction']:.1%} of "
                f"{uart_row['n_samples']} vectors); see {work}. This is a bug; please report it"
            )
    return pl


def _uart_rtl_check(run_dir: Path, design, cfg, work: Path, rtl_dir: Path) -> dict:
    from hwgen.synth.open.rtlsim import decode_outputs
    from hwgen.synth.open.trace import compare_outputs
    from hwgen.synth.open.uart import simulate_uart
    from hwgen.tools import find_tool

    iverilog, vvp = find_tool("iverilog"), find_tool("vvp")
    lines, ref = _reference(run_dir, UART_RTL_SAMPLES)
    lines, ref = lines[:UART_RTL_SAMPLES], ref[:UART_RTL_SAMPLES]
    sim = work / "uart_rtlsim"
    sim.mkdir(exist_ok=True)
    for mem in design.mem_files:
        shutil.copy(Path(rtl_dir) / mem, sim / mem)
    from hwgen.synth.open.uart import UART_LIB, uart_wrapper

    top, _ = uart_wrapper(design, cfg)
    sources = [str(Path("..") / "src" / f) for f in (*design.pipe_files, UART_LIB, f"{top}.v")]
    got, wall, logs = simulate_uart(sim, sources, top, cfg, lines, iverilog, vvp)
    stats = compare_outputs(decode_outputs(got, design.outputs_pipe), ref)
    stats.update(
        top=top,
        simulator="icarus",
        simulator_version=iverilog.version,
        wall_s=round(wall, 3),
        uart=cfg.to_dict(),
        drive="sim/uart_tb.v drives rx and decodes tx (one stray byte and an idle gap first: resynchronization)",
    )
    for p in logs:  # keep the logs next to the placed design
        shutil.copy(p, work / p.name)
    stats["logs"] = [p.name for p in logs]
    shutil.rmtree(sim, ignore_errors=True)
    return stats


def _add_rtlsim_row(run_dir: Path, key: str, row: dict) -> None:
    from hwgen.synth.open.open_flow import RTLSIM_JSON

    path = Path(run_dir) / RTLSIM_JSON
    record = read_json(path) if path.is_file() else {}
    record[key] = row
    write_json(path, record)


def after_route(run_dir: Path, board, design, arch: str, pl: Placement, work: Path, pnr: dict, folder: str, say, remaining, yosys) -> tuple[dict, list[str]]:
    """Bitstream and post-route simulation after a finished route; returns (details, notes)."""
    from hwgen.synth.open.bitstream import pack_bitstream
    from hwgen.synth.open.postroute import run_post_route
    from hwgen.tools import find_tool

    details: dict = {"wrapper": pl.kind}
    notes: list[str] = []
    crit = pnr.get("critical_path")
    if crit:
        notes.append(
            f"critical path ({crit['source']}): {crit['delay_ns']:.2f} ns, {crit['logic_levels']} logic levels "
            f"(cells incl. carry stages; {crit['logic_ns']:.2f} ns logic, {crit['routing_ns']:.2f} ns routing), "
            f"{crit['start_cell']} -> {crit['end_cell']}"
        )
    if pl.uart is None:
        return details, notes
    details["uart"] = pl.uart.to_dict()
    details["constraints"] = f"{folder}/{pl.constraints}"
    details["wrapper_sources"] = [f"{folder}/{n}" for n in pl.kept if n.endswith(".v")]
    if not pnr.get("routed"):
        notes.append("no bitstream and no post-route simulation: nextpnr did not finish routing")
        return details, notes
    # Bitstream
    try:
        if not (work / pl.config).is_file():
            raise HwgenError(f"nextpnr wrote no {pl.config}")
        bit = pack_bitstream(arch, work, pl.config, pl.top, timeout_s=max(remaining(), 30))
        details["bitstream"] = {**bit, "file": f"{folder}/{bit['file']}", "log": f"{folder}/{bit['log']}"}
        say(f"bitstream: {bit['tool']} {bit['tool_version']} wrote {folder}/{bit['file']} ({bit['bytes']:,} bytes)")
    except ToolMissing as exc:
        notes.append(f"bitstream skipped: {exc}")
        say(notes[-1])
    (work / pl.config).unlink(missing_ok=True)  # textual configuration: large, and the bitstream holds it
    # Post-route gate-level simulation
    try:
        if arch in POST_ROUTE_UNSUPPORTED:
            raise ToolMissing(POST_ROUTE_UNSUPPORTED[arch])
        lines, ref = _reference(run_dir, 10**9)
        row = run_post_route(
            work, ROUTED_JSON, arch, design, lines, ref,
            yosys=yosys, iverilog=find_tool("iverilog"), vvp=find_tool("vvp"), timeout_s=max(remaining(), 60),
        )  # fmt: skip
        row["logs"] = [f"{folder}/{p}" for p in row["logs"]]
        row["fmax_mhz"] = pnr.get("fmax_mhz")
        _add_rtlsim_row(run_dir, "post_route", row)
        details["post_route_bit_exact_fraction"] = row["bit_exact_fraction"]
        say(f"post-route: gate-level simulation of the routed netlist: bit-exact {row['bit_exact_fraction']:.1%} on {row['n_samples']} vectors")
        if row["bit_exact_fraction"] != 1.0:
            notes.append(
                f"post-route simulation NOT bit-exact: {row['bit_exact_fraction']:.1%} of {row['n_samples']} vectors "
                f"(first mismatch at vector {row['first_mismatch']}); see {folder}/post_run.log"
            )
    except ToolMissing as exc:
        notes.append(f"post-route simulation skipped: {exc}")
        say(notes[-1])
    except HwgenError as exc:  # keep the routed result; the logs stay in the folder
        notes.append(f"post-route simulation failed: {' '.join(str(exc).split())[:400]}")
        say(notes[-1])
    finally:
        for big in (ROUTED_JSON, "routed_sim.json", "routed.v", "post_inputs.hex", "post_outputs.hex", "post_tb.v"):
            (work / big).unlink(missing_ok=True)
        shutil.rmtree(work / "cell_models", ignore_errors=True)
    return details, notes
