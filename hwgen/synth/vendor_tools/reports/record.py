"""`VendorReport`: one vendor report, whatever tool or format it came from, in hwgen's terms."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from hwgen.results import RESOURCE_KEYS, SynthResult
from hwgen.synth.vendor_tools.reports._common import norm_part


@dataclass
class VendorReport:
    path: str
    format: str  # csynth_rpt, csynth_xml, synthesis_summary_rpt, vivado_utilization, oneapi_*, intel_hls_json
    tool: str  # vivado_hls, vitis_hls, vivado, oneapi, quartus, intel_hls
    tool_version: str = ""
    part: str = ""
    top: str = ""
    clock_target_ns: float | None = None
    clock_estimated_ns: float | None = None
    clock_uncertainty_ns: float | None = None
    latency_min: int | None = None  # cycles
    latency_max: int | None = None
    interval_min: int | None = None  # cycles
    interval_max: int | None = None
    pipeline_type: str | None = None
    resources: dict[str, float] = field(default_factory=dict)  # RESOURCE_KEYS -> used
    available: dict[str, float] = field(default_factory=dict)  # what the report says the part has
    design_state: str | None = None  # Vivado utilization: 'Synthesized', 'Fully Placed', ...
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def kind(self) -> str:
        """The SynthResult kind this report stands for."""
        if self.format == "vivado_utilization":
            state = (self.design_state or "").lower()
            return "placed" if ("placed" in state or "route" in state) else "synthesized"
        if self.extra.get("quartus_fit"):
            return "placed"
        return "parsed"

    @property
    def source(self) -> str:
        return f"vendor:{self.tool}-{self.tool_version}" if self.tool_version else f"vendor:{self.tool}"

    def to_synth_result(self, board=None) -> SynthResult:
        """This report as a `SynthResult`; with a `hwgen.boards.Board`, utilization is filled in."""
        notes: list[str] = []
        clock_mhz = 1000.0 / self.clock_target_ns if self.clock_target_ns else None
        fmax = self.extra.get("fmax_mhz")
        if fmax is None and self.clock_estimated_ns:
            fmax = 1000.0 / self.clock_estimated_ns
            notes.append("fmax_mhz is the HLS estimate (1000 / estimated clock period), not a post-route figure")
        latency_ns = None
        stated_ns = self.extra.get("latency_max_ns")
        if self.latency_max is not None:
            if fmax:
                latency_ns = self.latency_max * 1000.0 / fmax
                if stated_ns is not None:
                    notes.append(
                        f"latency_ns is at fmax; at the target clock the report states {stated_ns:g} ns"
                    )
            elif clock_mhz:
                latency_ns = self.latency_max * 1000.0 / clock_mhz
        if latency_ns is None and stated_ns is not None:
            latency_ns = float(stated_ns)
            notes.append("latency_ns is the absolute latency the report states (at its target clock)")
        if self.format == "vivado_utilization":
            notes.append(f"Vivado utilization of the netlist (Design State: {self.design_state or 'not stated'})")
        elif self.kind == "parsed" and "loop_attr" not in self.format:
            notes.append("HLS estimate (before logic synthesis), not a post-implementation count")
        details = {
            "format": self.format,
            "report_path": self.path,
            "report_part": self.part,
            "top": self.top,
            "pipeline_type": self.pipeline_type,
            "clock_target_ns": self.clock_target_ns,
            "clock_estimated_ns": self.clock_estimated_ns,
            "clock_uncertainty_ns": self.clock_uncertainty_ns,
            "available": dict(self.available),
            "design_state": self.design_state,
            "extra": dict(self.extra),
        }
        result = SynthResult(
            source=self.source,
            kind=self.kind,
            tool=self.tool,
            tool_version=self.tool_version,
            board="",
            part=self.part,
            resources={k: v for k, v in self.resources.items() if k in RESOURCE_KEYS},
            latency_cycles_min=self.latency_min,
            latency_cycles_max=self.latency_max,
            ii_min=self.interval_min,
            ii_max=self.interval_max,
            clock_mhz=clock_mhz,
            fmax_mhz=fmax,
            latency_ns=latency_ns,
            details=details,
            notes=notes,
        )
        if board is not None:
            if self.part and norm_part(self.part) != norm_part(board.part):
                result.notes.append(
                    f"the report's part {self.part} differs from board {board.name}'s part {board.part}; "
                    "utilization is against the board"
                )
            result = result.with_board(board)
        return result
