"""The open-source synthesis path of a run: RTL generation, RTL simulation, Yosys, nextpnr.

    run_open_synth(run_dir, board) reads   RUN/train/model.h5, RUN/train/data.npz
                                   writes  RUN/rtl/            Verilog (combinational + pipelined),
                                                               design.json, sim/ (testbench, vectors, logs)
                                           RUN/rtlsim.json     bit-exactness of the RTL vs QKeras
                                           RUN/synth/<source>.json + RUN/synth/<source>/ (logs)

A missing simulator, Yosys or nextpnr skips that step with a one-line notice (in the result's
`notes`); everything that can run still runs. Each output folder is built in a hidden staging
folder and renamed into place only when its step finished, so a failure leaves no half-written
folder behind (a failing tool's log is kept as RUN/synth/<source>.failed.log).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from hwgen.errors import HwgenError, ToolMissing
from hwgen.results import SynthResult, read_json, slug, write_json, write_synth_result
from hwgen.rundir import RunPaths, staged_subdir

RTLSIM_JSON = "rtlsim.json"
MIN_TOOL_SECONDS = 5.0


@dataclass
class OpenSynthResult:
    run_dir: Path
    board: str
    design: dict | None = None  # RUN/rtl/design.json contents
    rtlsim: dict | None = None  # RUN/rtlsim.json contents
    synth_results: list[SynthResult] = field(default_factory=list)
    synth_paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    step_wall_s: dict[str, float] = field(default_factory=dict)

    @property
    def rtl_dir(self) -> Path:
        return Path(self.run_dir) / "rtl"

    @property
    def notices(self) -> list[str]:
        """One-line notices for the user (skipped steps, left-out softmax); same list as `notes`."""
        return self.notes

    def to_dict(self) -> dict:
        return {
            "run_dir": str(self.run_dir),
            "board": self.board,
            "design": self.design,
            "rtlsim": self.rtlsim,
            "synth_results": [r.to_dict() for r in self.synth_results],
            "synth_paths": [str(p) for p in self.synth_paths],
            "notes": list(self.notes),
            "step_wall_s": dict(self.step_wall_s),
        }


def _load_run_inputs(paths: RunPaths, max_samples: int, trust_model_code: bool):
    from hwgen.modelio import load_model

    if not paths.model.is_file():
        raise HwgenError(f"{paths.model} is missing; train the model first (`hwgen flow`)")
    if not paths.data.is_file():
        raise HwgenError(f"{paths.data} is missing; train the model first (`hwgen flow`)")
    try:
        with np.load(paths.data, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise HwgenError(f"cannot read {paths.data}: {exc}") from None
    for key in ("X_test", "logits_qkeras", "input_bits", "input_integer"):
        if key not in data:
            raise HwgenError(f"{paths.data} lacks '{key}'; re-run training with this hwgen version")
    n = int(min(max(1, int(max_samples)), len(data["X_test"])))
    if len(data["logits_qkeras"]) < n:
        raise HwgenError(f"{paths.data}: logits_qkeras has fewer rows than X_test")
    X = np.asarray(data["X_test"][:n], dtype=np.float64)
    logits = np.asarray(data["logits_qkeras"][:n], dtype=np.float64).reshape(n, -1)
    y = np.asarray(data["y_test"][:n]) if "y_test" in data else None
    # data.npz follows the spec's QKeras convention (integer bits exclude the sign, so 16/5 is
    # ap_fixed<16,6>); the tracer takes ap_fixed's convention (sign included).
    bits = int(np.asarray(data["input_bits"]).reshape(-1)[0])
    integer = int(np.asarray(data["input_integer"]).reshape(-1)[0]) + 1
    from hwgen.hwform import PathUnsupported, hardware_form

    form = hardware_form(load_model(paths.model, trust_code=trust_model_code))
    blockers = [r for r in form.rows if r.rtl == "no"]
    if form.model is None or blockers:
        names = "; ".join(f"layer '{r.name}' ({r.cls}): {r.why}" for r in blockers) or "the model has no hardware form"
        raise PathUnsupported(f"open RTL path skipped: {names}")
    return form.model, X, logits, y, bits, integer


def _keep_failed_log(run_dir: Path, source: str, work: Path, log_name: str) -> Path | None:
    log = work / log_name
    if not log.is_file():
        return None
    dst = Path(run_dir) / "synth" / f"{slug(source)}.failed.log"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(log, dst)
    return dst


def run_open_synth(
    run_dir: Path,
    board,
    *,
    max_samples: int = 500,
    timeout_s: float = 1800,
    place_route: bool = True,
    progress: Callable[[str], None] | None = None,
    simulator: str = "auto",
    levels_per_stage: int | None = None,
    pnr_timeout_s: float | None = None,
    trust_model_code: bool = False,
    synthesize: bool = True,
) -> OpenSynthResult:
    """Generate, simulate and synthesize the run's model with open tools for `board`.

    timeout_s bounds the whole call's external tool time (simulation, Yosys, nextpnr); a tool
    gets what is left of it. nextpnr that runs out of time still yields its post-placement Fmax
    estimate. pnr_timeout_s additionally caps nextpnr alone. simulator: 'auto' (Icarus, else
    Verilator), 'icarus' or 'verilator'. levels_per_stage overrides the clock-derived pipeline cut.
    Raises HwgenError when the fixed-point graph or the RTL is not bit-exact with QKeras, and
    PathUnsupported (before any work) naming each layer the open path cannot take.
    """
    from hwgen.synth.open.rtlsim import run_rtlsim
    from hwgen.synth.open.trace import check_input_grid, trace_qkeras, verify_emulation
    from hwgen.synth.open.verilog import RtlDesign, write_rtl

    say = progress or (lambda _msg: None)
    run_dir = Path(run_dir)
    paths = RunPaths(run_dir)
    deadline = time.monotonic() + float(timeout_s)
    result = OpenSynthResult(run_dir=run_dir, board=board.name)

    def remaining() -> float:
        return deadline - time.monotonic()

    # 1. Model -> fixed-point graph, checked against QKeras --------------------------------
    t0 = time.monotonic()
    model, X, logits, y, bits, integer = _load_run_inputs(paths, max_samples, trust_model_code)
    check_input_grid(X, bits, integer)
    from hwgen.synth.open.trace import numba_cache_warm

    cold = "" if numba_cache_warm() else ("; da4ml compiles its numba kernels first, about 1.5 minutes once per "
                                          "installation (`make install` does it ahead)")
    say(f"rtl: tracing {model.name} with da4ml (input fixed<{bits},{integer}>{cold})")
    traced = trace_qkeras(model, bits, integer)
    emulation = verify_emulation(traced, X, logits)
    say(
        f"rtl: da4ml emulation identical to QKeras on {emulation['n_samples']} samples "
        f"(estimated {traced.cost:.0f} LUTs, {traced.adder_levels:.0f} adder levels)"
    )
    result.notes.extend(traced.notes)
    result.step_wall_s["trace"] = round(time.monotonic() - t0, 3)

    # 2. Verilog + RTL simulation, staged as RUN/rtl -------------------------------------------
    t0 = time.monotonic()
    sim_record: dict
    with staged_subdir(run_dir / "rtl") as stage:
        design: RtlDesign = write_rtl(traced, stage, board, levels=levels_per_stage)
        say(
            f"rtl: wrote {design.comb_top} (combinational) and {design.pipe_top} "
            f"({design.n_stages} stages of <= {design.levels_per_stage} adder levels, latency "
            f"{design.latency_cycles} cycles, II=1)"
        )
        result.step_wall_s["rtlgen"] = round(time.monotonic() - t0, 3)
        t0 = time.monotonic()
        try:
            sim_record = run_rtlsim(
                stage, design, X, logits, y, simulator=simulator, timeout_s=max(remaining(), MIN_TOOL_SECONDS), progress=say
            )
            for d in sim_record["designs"].values():
                d["logs"] = [f"rtl/{p}" for p in d["logs"]]
        except ToolMissing as exc:
            msg = f"rtl-sim skipped: {exc}"
            say(msg)
            result.notes.append(msg)
            sim_record = {
                "simulator": None,
                "simulator_version": None,
                "n_samples": 0,
                "bit_exact_fraction": None,
                "max_abs_diff": None,
                "accuracy": None,
                "latency_cycles": design.latency_cycles,
                "ii": 1,
                "wall_s": 0.0,
                "skipped": msg,
            }
        sim_record["emulation"] = {"tool": f"da4ml-{design.da4ml_version}", **emulation}
        sim_record["board"] = board.name
        sim_record["rtl_dir"] = "rtl"
    result.design = design.to_dict()
    write_json(run_dir / RTLSIM_JSON, sim_record)
    result.rtlsim = sim_record
    result.step_wall_s["rtlsim"] = round(time.monotonic() - t0, 3)
    if sim_record.get("bit_exact_fraction") not in (None, 1.0):
        raise HwgenError(
            f"RTL simulation is not bit-exact with QKeras: {sim_record['bit_exact_fraction']:.1%} of "
            f"{sim_record['n_samples']} samples identical (max |diff| {sim_record['max_abs_diff']:g}); "
            f"see {run_dir / RTLSIM_JSON} and the logs under {run_dir / 'rtl' / 'sim'}. This is a bug; please report it"
        )

    # 3. Yosys -----------------------------------------------------------------------------------
    if not synthesize:  # RTL generation and simulation only (the conformance suite)
        return result
    _synthesize(run_dir, board, design, result, say, remaining, place_route, pnr_timeout_s)
    return result


def _common_fields(board, design) -> dict:
    lat = int(design.latency_cycles)
    return {
        "board": board.name,
        "part": board.part,
        "latency_cycles_min": lat,
        "latency_cycles_max": lat,
        "ii_min": 1,
        "ii_max": 1,
        "clock_mhz": float(board.clock_mhz),
    }


def _design_details(design) -> dict:
    return {
        "design": "pipelined",
        "top": design.pipe_top,
        "stages": design.n_stages,
        "levels_per_stage": design.levels_per_stage,
        "adder_levels": design.adder_levels,
        "timing_model": design.timing_model,
        "da4ml_cost_luts": design.da4ml_cost_luts,
        "pipe_reg_bits": design.pipe_reg_bits,
        "in_width": design.in_width,
        "out_width": design.out_width("pipe"),
    }


def _synthesize(
    run_dir: Path, board, design, result: OpenSynthResult, say, remaining, place_route: bool, pnr_timeout_s: float | None
) -> None:
    from hwgen.synth.open.nextpnr import run_nextpnr
    from hwgen.synth.open.board_flow import after_route, prepare_placement
    from hwgen.synth.open.yosys import XILINX_DELAYS, logic_depth, run_yosys, stage_sources, synth_family
    from hwgen.tools import find_tool

    family = synth_family(board)
    if family is None:
        msg = f"yosys skipped: board {board.name} has no supported yosys_family (xc7, xcup, ecp5, ice40)"
        say(msg)
        result.notes.append(msg)
        return
    try:
        yosys = find_tool("yosys")
    except ToolMissing as exc:
        msg = f"yosys skipped: {exc}"
        say(msg)
        result.notes.append(msg)
        return
    if remaining() < MIN_TOOL_SECONDS:
        result.notes.append("yosys skipped: the time limit was used up by earlier steps")
        return

    rtl_dir = run_dir / "rtl"
    source = f"yosys-{yosys.version}" if yosys.version else "yosys"
    t0 = time.monotonic()
    say(f"yosys: {source} ({yosys.flavour}) synthesizing {design.pipe_top} for {board.name} [{family}]; may take minutes")
    with staged_subdir(run_dir / "synth" / slug(source)) as work:
        try:
            srcs = stage_sources(rtl_dir, design.pipe_files, design.mem_files, work)
            ys = run_yosys(
                yosys, work, srcs, design.pipe_top, family,
                netlist="netlist.json" if family in XILINX_DELAYS else None, timeout_s=remaining(), progress=say,
            )  # fmt: skip
        except HwgenError as exc:
            kept = _keep_failed_log(run_dir, source, work, "yosys.log")
            raise HwgenError(f"{exc}" + (f"\n(log kept as {kept})" if kept else "")) from None
        shutil.rmtree(work / "src", ignore_errors=True)
        timing = logic_depth(work / "netlist.json", family) if family in XILINX_DELAYS else None
        (work / "netlist.json").unlink(missing_ok=True)
    period = 1000.0 / board.clock_mhz
    lat = design.latency_cycles
    details = {**_design_details(design), **ys["details"], "yosys_flavour": yosys.flavour}
    latency_note = f"latency_ns = {lat} cycles x {period:g} ns target period (Yosys gives no timing; no place-and-route here)"
    if timing is not None:  # Xilinx: labelled estimate from the mapped netlist's logic depth
        details["timing_estimate"] = timing
        period = max(period, timing["path_ns"])
        latency_note = (
            f"latency_ns = {lat} cycles x {period:g} ns: the slower of the target period and the estimated critical "
            f"path ({timing['path_ns']:g} ns, {timing['logic_levels']} LUT levels + {timing['carry_cells']} carry cells, "
            f"Fmax ~{timing['fmax_mhz_estimate']} MHz +-{int(timing['band'] * 100)}%; {timing['source']})"
        )
    synth = SynthResult(
        source=source,
        kind="synthesized",
        tool="yosys",
        tool_version=yosys.version,
        resources=ys["resources"],
        fmax_mhz=None,
        latency_ns=round(lat * period, 3),
        details=details,
        logs=[f"synth/{slug(source)}/yosys.log", f"synth/{slug(source)}/stat.txt"],
        notes=[
            f"pipelined da4ml design: {design.n_stages} stages of <= {design.levels_per_stage} adder levels, "
            f"latency {lat} cycles, II=1",
            latency_note,
        ],
        wall_s=round(ys["wall_s"], 3),
        **_common_fields(board, design),
    ).with_board(board)
    result.synth_paths.append(write_synth_result(run_dir, synth))
    result.synth_results.append(synth)
    result.step_wall_s["yosys"] = round(time.monotonic() - t0, 3)
    say(f"yosys: {_fmt_resources(synth.resources)} in {ys['wall_s']:.0f} s")

    # 4. nextpnr (Lattice) -------------------------------------------------------------------
    if not place_route:
        return
    arch = (board.nextpnr or {}).get("arch")
    if board.vendor != "lattice" or not arch:
        return
    try:
        pnr_tool = find_tool(f"nextpnr-{arch}")
    except (ToolMissing, HwgenError) as exc:
        msg = f"nextpnr skipped: {exc}"
        say(msg)
        result.notes.append(msg)
        return
    if remaining() < MIN_TOOL_SECONDS:
        result.notes.append("nextpnr skipped: the time limit was used up by earlier steps")
        return
    pnr_source = f"nextpnr-{arch}-{pnr_tool.version}" if pnr_tool.version else f"nextpnr-{arch}"
    t0 = time.monotonic()
    extra_notes: list[str] = []
    with staged_subdir(run_dir / "synth" / slug(pnr_source)) as work:
        logs = []
        # The parallel ports exceed every package: place the design in-context inside the UART board
        # wrapper (or, for a board without pins, a 4-pin serial shifter), so the clock takes the global
        # network and I/O is real (nextpnr-ice40 has no out-of-context mode; on ECP5 the out-of-context
        # mode routes the clock in fabric). See hwgen.synth.open.board_flow.
        placement = prepare_placement(run_dir, board, design, arch, work, rtl_dir, say)
        placed_top, srcs = placement.top, placement.sources
        say(f"nextpnr: synthesizing {placed_top} ({placement.kind} wrapper for the {board.nextpnr.get('package')} package)")
        try:
            wrapped = run_yosys(
                yosys, work, srcs, placed_top, family, netlist="netlist.json",
                timeout_s=remaining(), log_name="yosys_wrapper.log", progress=say,
            )  # fmt: skip
        except HwgenError as exc:
            kept = _keep_failed_log(run_dir, pnr_source, work, "yosys_wrapper.log")
            raise HwgenError(f"{exc}" + (f"\n(log kept as {kept})" if kept else "")) from None
        shutil.rmtree(work / "src", ignore_errors=True)
        logs.append(f"synth/{slug(pnr_source)}/yosys_wrapper.log")
        extra_notes.extend(placement.notes)
        if remaining() < MIN_TOOL_SECONDS:
            result.notes.append("nextpnr skipped: the time limit was used up by earlier steps")
            return
        limit = remaining() if pnr_timeout_s is None else min(remaining(), float(pnr_timeout_s))
        say(f"nextpnr: {pnr_source} placing and routing {placed_top} at {board.clock_mhz:g} MHz (time limit {limit:.0f} s)")
        pnr = run_nextpnr(
            pnr_tool, work, "netlist.json", board, freq_mhz=board.clock_mhz, timeout_s=limit, progress=say,
            extra_args=placement.extra_args,
        )
        (work / "netlist.json").unlink(missing_ok=True)
        logs.insert(0, f"synth/{slug(pnr_source)}/nextpnr.log")
        if (work / "report.json").is_file():
            logs.append(f"synth/{slug(pnr_source)}/report.json")
        t_board = time.monotonic()
        board_details, board_notes = after_route(
            run_dir, board, design, arch, placement, work, pnr, f"synth/{slug(pnr_source)}", say, remaining, yosys
        )
        extra_notes.extend(board_notes)
        result.step_wall_s["post_route"] = round(time.monotonic() - t_board, 3)
    if (run_dir / RTLSIM_JSON).is_file():
        result.rtlsim = read_json(run_dir / RTLSIM_JSON)
    result.step_wall_s["nextpnr"] = round(time.monotonic() - t0, 3)
    if not pnr["ok"]:
        msg = f"nextpnr gave no timing result ({'; '.join(pnr['notes'])}); see {run_dir / logs[0]}"
        say(msg)
        result.notes.append(msg)
        return
    fmax = float(pnr["fmax_mhz"])
    resources = dict(pnr["resources"])
    if "ff" not in resources:
        resources["ff"] = float(wrapped["resources"].get("ff", 0.0))
    placed = SynthResult(
        source=pnr_source,
        kind="placed",
        tool=f"nextpnr-{arch}",
        tool_version=pnr_tool.version,
        resources=resources,
        fmax_mhz=round(fmax, 3),
        latency_ns=round(design.latency_cycles * 1000.0 / fmax, 3),
        details={
            **_design_details(design),
            "placed_top": placed_top,
            "routed": pnr["routed"],
            "nextpnr_utilization": pnr["utilization"],
            "nextpnr_args": pnr["args"],
            "timed_out": pnr["timed_out"],
            "meets_clock": fmax >= board.clock_mhz,
            "critical_path": pnr.get("critical_path"),
            **board_details,
        },
        logs=logs,
        notes=[
            *pnr["notes"],
            *extra_notes,
            f"latency_ns = {design.latency_cycles} cycles / {fmax:.1f} MHz achieved Fmax",
        ],
        wall_s=round(pnr["wall_s"], 3),
        **_common_fields(board, design),
    ).with_board(board)
    result.synth_paths.append(write_synth_result(run_dir, placed))
    result.synth_results.append(placed)
    say(f"nextpnr: Fmax {fmax:.1f} MHz (target {board.clock_mhz:g}), {_fmt_resources(resources)} in {pnr['wall_s']:.0f} s")


def _fmt_resources(res: dict) -> str:
    return ", ".join(f"{int(v)} {k}" for k, v in res.items() if v)
