"""The synthesis sources behind one protocol, and the registry `--synth auto` asks.

A source has a `name`, says why it cannot run for a board (`unavailable(board)`, None when
it can) and runs on a run directory (`run(ctx) -> SynthOutcome`). Every SynthResult a source
produces is written as RUN/synth/<slug>.json by the source itself; the report collects them,
so a new source needs no change anywhere else. A missing tool, or a model the source cannot
take, is a `skipped` outcome with its reason; any other failure is raised and the runner
records it against this source while the run and the other sources go on.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from hwgen.errors import HwgenError, ToolMissing
from hwgen.results import SynthResult

if TYPE_CHECKING:
    from hwgen.boards import Board
    from hwgen.pipeline.context import RunContext


@dataclass
class SynthOutcome:
    source: str
    results: list[SynthResult] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    skipped: str | None = None  # why the source did not run (missing tool, unsupported construct)

    def to_dict(self) -> dict:
        return {"source": self.source, "results": [r.source for r in self.results], "notices": list(self.notices),
                "skipped": self.skipped}


class SynthSource(Protocol):
    name: str
    description: str

    def unavailable(self, board: "Board") -> str | None: ...

    def run(self, ctx: "RunContext") -> SynthOutcome: ...


def optional_module(module: str):
    """The module, or None when it (not one of its own imports) is absent from this build."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise


VENDOR_FLOW = "hwgen.synth.vendor_tools.flow"
OPEN_FLOW = "hwgen.synth.open.open_flow"
ESTIMATOR = "hwgen.synth.estimate"


class VendorSource:
    name = "vendor"
    description = "Vitis/Vivado HLS C-synthesis (reports parsed)"

    def unavailable(self, board: "Board") -> str | None:
        if board.vendor != "xilinx":
            return f"board {board.name} is not a Xilinx part; the vendor HLS tools target Xilinx only"
        mod = optional_module(VENDOR_FLOW)
        if mod is None:
            return "the vendor flow is not part of this build"
        if mod.vendor_tool() is None:
            return "neither vitis_hls nor vivado_hls is on PATH (source the Xilinx settings64.sh first)"
        return None

    def run(self, ctx: "RunContext") -> SynthOutcome:
        why = self.unavailable(ctx.board)
        if why:
            return SynthOutcome(self.name, skipped=f"vendor synthesis skipped: {why}")
        mod = importlib.import_module(VENDOR_FLOW)
        results = mod.run_vendor_synth(ctx.run_dir, ctx.board, timeout_s=ctx.options.tool_timeout_s)
        return SynthOutcome(self.name, results=list(results or []))


class OpenSource:
    name = "open"
    description = "da4ml Verilog, Icarus RTL simulation, Yosys, nextpnr"

    def unavailable(self, board: "Board") -> str | None:
        return None if optional_module(OPEN_FLOW) is not None else "the open path is not part of this build"

    def run(self, ctx: "RunContext") -> SynthOutcome:
        why = self.unavailable(ctx.board)
        if why:
            return SynthOutcome(self.name, skipped=why)
        mod = importlib.import_module(OPEN_FLOW)
        res = mod.run_open_synth(
            ctx.run_dir, ctx.board, max_samples=ctx.options.rtl_max_samples, timeout_s=ctx.options.tool_timeout_s,
            progress=ctx.progress.update, trust_model_code=ctx.options.trust_model_code,
        )
        return SynthOutcome(self.name, results=list(res.synth_results), notices=list(res.notes))


class EstimateSource:
    name = "estimate"
    description = "hwgen's analytical estimate of the hls4ml design (labelled, with an uncertainty band)"

    def unavailable(self, board: "Board") -> str | None:
        return None if optional_module(ESTIMATOR) is not None else "the estimator is not part of this build"

    def run(self, ctx: "RunContext") -> SynthOutcome:
        why = self.unavailable(ctx.board)
        if why:
            return SynthOutcome(self.name, skipped=why)
        mod = importlib.import_module(ESTIMATOR)
        # None: the family of the backend this run was converted with (convert.json), never a default.
        result = mod.run_estimate(ctx.run_dir, ctx.board, tool_family=ctx.options.estimate_tool)
        return SynthOutcome(self.name, results=[result])


SOURCES: dict[str, SynthSource] = {}


def register_source(source: SynthSource) -> SynthSource:
    SOURCES[source.name] = source
    return source


for _source in (VendorSource(), OpenSource(), EstimateSource()):
    register_source(_source)

# `--synth auto`: the first hardware source that can run for the board, then the estimate.
AUTO_ORDER = ("vendor", "open")


def resolve_synth(requested: tuple[str, ...], board: "Board") -> list[str]:
    """The sources to run, in order: 'auto' expanded for this board, 'none' for none."""
    choices = ("auto", "none", *SOURCES)
    for item in requested:
        if item not in choices:
            raise HwgenError(f"--synth {item!r} unknown; choose from {', '.join(choices)} (comma-separated)")
    if "none" in requested:
        return []
    out: list[str] = []
    for item in requested:
        if item == "auto":
            hardware = next((name for name in AUTO_ORDER if SOURCES[name].unavailable(board) is None), "open")
            out += [hardware, "estimate"]
        else:
            out.append(item)
    return list(dict.fromkeys(out))


def run_source(name: str, ctx: "RunContext") -> SynthOutcome:
    """Run one registered source; a missing tool or a construct it cannot take is `skipped`."""
    from hwgen.hwform import PathUnsupported

    if name not in SOURCES:
        raise HwgenError(f"unknown synthesis source {name!r}; known: {', '.join(SOURCES)}")
    try:
        return SOURCES[name].run(ctx)
    except ToolMissing as exc:
        return SynthOutcome(name, skipped=f"{name} synthesis skipped: {exc}")
    except PathUnsupported as exc:  # this source cannot take the model; the others go on
        return SynthOutcome(name, skipped=str(exc))
