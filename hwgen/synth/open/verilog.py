"""Verilog from a traced model: combinational and pipelined (da4ml code generators).

Layout written into the run's `rtl/` folder:

    <top>_comb.v        combinational module  <top>_comb(model_inp, model_out)
    <top>_pipe.v        pipelined module      <top>_pipe(clk, model_inp, model_out) and its stages
    lib/*.v             da4ml's primitive modules (shift_adder, negative, mux, multiplier;
                        lookup_table.v only when the design has lookup tables)
    design.json         port encoding, pipeline depth, latency, file lists

Ports: `model_inp` packs input 0 in the least significant bits, each input as a two's complement
(or unsigned) integer of its own width (`inputs[i]` = [keep_negative, integer, fraction] bits);
`model_out` likewise. The pipelined module registers its input and every stage output, so its
latency is stages + 1 clock cycles at an initiation interval of 1.

Pipeline depth follows the board's clock: a per-family delay model (time per adder level plus
a fixed register overhead) gives how many adder levels fit in one clock period; da4ml then cuts
the graph every that many levels.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hwgen.errors import HwgenError
from hwgen.results import read_json, write_json

# Family key -> (register overhead ns, ns per adder level, where the numbers come from).
# ECP5 is fitted to two nextpnr-ecp5 measurements of the 6-bit jet MLP (36 MHz with 5 levels,
# 66 MHz with 2 levels per stage); the other families are estimates scaled from vendor carry-
# chain timing and should be refined with measurements.
DELAY_MODEL: dict[str, tuple[float, float, str]] = {
    "ecp5": (6.7, 4.2, "fit to nextpnr-ecp5 -6: 36 MHz at 5 levels, 66 MHz at 2 levels (jet MLP)"),
    "ice40": (8.0, 9.0, "estimate (iCE40 carry chains ~2x slower than ECP5)"),
    "xc7": (1.5, 2.0, "estimate (7-series CARRY4 chain plus routing)"),
    "xcup": (0.8, 1.1, "estimate (UltraScale+ CARRY8 chain plus routing)"),
    "default": (2.0, 2.5, "generic estimate"),
}
CLOCK_MARGIN = 0.9  # use 90% of the period for logic
MAX_LEVELS_PER_STAGE = 16

LIB_MODULES = ("shift_adder", "negative", "mux", "multiplier")
TABLE_MODULE = "lookup_table"

VERILOG_KEYWORDS = frozenset(
    """always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign default
    defparam design disable edge else end endcase endconfig endfunction endgenerate endmodule endprimitive
    endspecify endtable endtask event for force forever fork function generate genvar highz0 highz1 if ifnone
    incdir include initial inout input instance integer join large liblist library localparam macromodule
    medium module nand negedge nmos nor noshowcancelled not notif0 notif1 or output parameter pmos posedge
    primitive pull0 pull1 pulldown pullup pulsestyle_onevent pulsestyle_ondetect rcmos real realtime reg
    release repeat rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled signed small specify specparam
    strong0 strong1 supply0 supply1 table task time tran tranif0 tranif1 tri tri0 tri1 triand trior trireg
    unsigned use uwire vectored wait wand weak0 weak1 while wire wor xnor xor logic bit byte int shortint
    longint chandle string class struct union enum typedef interface endinterface package endpackage import
    export program endprogram property sequence assert assume cover bind final foreach return break continue
    const static virtual extern local protected rand randc constraint""".split()
)


def verilog_identifier(text: str, prefix: str = "m_", max_len: int = 60) -> str:
    """A legal, non-keyword Verilog identifier derived from arbitrary text."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", str(text))
    ident = re.sub(r"_+", "_", ident).strip("_")
    if not ident or not (ident[0].isalpha() or ident[0] == "_"):
        ident = prefix + ident
    if ident.lower() in VERILOG_KEYWORDS or ident in LIB_MODULES or ident == TABLE_MODULE:
        ident = prefix + ident
    return ident[:max_len].rstrip("_") or prefix.rstrip("_")


def design_base_name(model_name: str) -> str:
    """Module name prefix for a model: 'hwgen_' + sanitized model name."""
    return verilog_identifier("hwgen_" + verilog_identifier(model_name, max_len=40))


def _family_key(board) -> str:
    fam = (getattr(board, "yosys_family", "") or "").lower()
    if fam in DELAY_MODEL:
        return fam
    family = (getattr(board, "family", "") or "").lower()
    if family.startswith("ecp5"):
        return "ecp5"
    if family.startswith("ice40"):
        return "ice40"
    if any(s in family for s in ("uplus", "ultrascale", "versal")):
        return "xcup"
    if getattr(board, "vendor", "") == "xilinx":
        return "xc7"
    return "default"


def levels_per_stage(board, clock_mhz: float | None = None) -> tuple[int, dict]:
    """Adder levels per pipeline stage that fit the board's clock, and the model used."""
    mhz = float(clock_mhz or board.clock_mhz)
    key = _family_key(board)
    overhead, per_level, source = DELAY_MODEL[key]
    usable = CLOCK_MARGIN * 1000.0 / mhz - overhead
    levels = max(1, min(MAX_LEVELS_PER_STAGE, int(math.floor(usable / per_level))))
    info = {
        "family_key": key,
        "clock_mhz": mhz,
        "register_overhead_ns": overhead,
        "ns_per_adder_level": per_level,
        "clock_margin": CLOCK_MARGIN,
        "levels_per_stage": levels,
        "predicted_fmax_mhz": round(1000.0 / (overhead + levels * per_level), 1),
        "source": source,
    }
    return levels, info


@dataclass
class PortLayout:
    """How model_inp / model_out pack the values: one [k, i, f] per element, element 0 at the LSB."""

    kifs: list[list[int]]

    @property
    def widths(self) -> list[int]:
        return [int(k) + int(i) + int(f) for k, i, f in self.kifs]

    @property
    def total_width(self) -> int:
        return sum(self.widths)


@dataclass
class RtlDesign:
    base: str
    comb_top: str
    pipe_top: str
    comb_files: list[str]  # relative to the rtl dir, primitives first
    pipe_files: list[str]
    mem_files: list[str]
    inputs: list[list[int]]  # per input [k, i, f]
    outputs_comb: list[list[int]]
    outputs_pipe: list[list[int]]
    n_stages: int
    latency_cycles: int
    levels_per_stage: int
    adder_levels: float
    timing_model: dict
    da4ml_cost_luts: float
    pipe_reg_bits: int
    n_inputs: int
    n_outputs: int
    input_shape: list[int]
    da4ml_version: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def in_width(self) -> int:
        return PortLayout(self.inputs).total_width

    def out_width(self, which: str) -> int:
        return PortLayout(self.outputs_pipe if which == "pipe" else self.outputs_comb).total_width

    def to_dict(self) -> dict:
        d = asdict(self)
        d["in_width"] = self.in_width
        d["out_width_comb"] = self.out_width("comb")
        d["out_width_pipe"] = self.out_width("pipe")
        return d

    @classmethod
    def load(cls, rtl_dir: Path) -> "RtlDesign":
        data = read_json(Path(rtl_dir) / "design.json")
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def _kifs(qints) -> list[list[int]]:
    from da4ml.cmvm.types import _minimal_kif

    return [[int(x) for x in _minimal_kif(q)] for q in qints]


def _da4ml_source_dir() -> Path:
    import da4ml.codegen.rtl as rtl_pkg

    return Path(rtl_pkg.__file__).parent / "verilog" / "source"


def write_rtl(traced, out_dir: Path, board, *, levels: int | None = None, base: str | None = None) -> RtlDesign:
    """Write combinational and pipelined Verilog for a TracedModel into out_dir."""
    import da4ml
    from da4ml.codegen.rtl.verilog import comb_logic_gen, pipeline_logic_gen, table_mem_gen
    from da4ml.trace import to_pipeline

    out_dir = Path(out_dir)
    (out_dir / "lib").mkdir(parents=True, exist_ok=True)
    base = verilog_identifier(base) if base else design_base_name(traced.model_name)
    comb_top, pipe_top = f"{base}_comb", f"{base}_pipe"
    comb = traced.comb
    if not any(op.opcode != -1 for op in comb.ops):
        raise HwgenError("the traced model has no operations (outputs are wired inputs); nothing to synthesize")

    timing_levels, timing = levels_per_stage(board)
    levels = int(levels or timing_levels)
    timing["levels_per_stage"] = levels
    pipe = to_pipeline(comb, levels, retiming=True, verbose=False)

    comb_code = comb_logic_gen(comb, comb_top, print_latency=False, timescale="`timescale 1ns / 1ps")
    (out_dir / f"{comb_top}.v").write_text(comb_code)
    stage_codes = pipeline_logic_gen(pipe, pipe_top, print_latency=False, timescale="`timescale 1ns / 1ps")
    # Stages first, top last, one file.
    ordered = [v for k, v in stage_codes.items() if k != pipe_top] + [stage_codes[pipe_top]]
    (out_dir / f"{pipe_top}.v").write_text("\n".join(ordered))

    mem: dict[str, str] = dict(table_mem_gen(comb))
    for sol in pipe.solutions:
        mem.update(table_mem_gen(sol))
    for name, text in mem.items():
        (out_dir / name).write_text(text + "\n")
    wanted = list(LIB_MODULES) + ([TABLE_MODULE] if mem else [])
    lib_files = []
    src = _da4ml_source_dir()
    for mod in wanted:
        text = (src / f"{mod}.v").read_text()
        # Lint pragmas naming WIDTHTRUNC are an error in Verilator < 5.008; they are comments otherwise.
        text = re.sub(r"/\*\s*verilator lint_(?:off|on) WIDTHTRUNC\s*\*/", "", text)
        (out_dir / "lib" / f"{mod}.v").write_text(text)
        lib_files.append(f"lib/{mod}.v")

    n_stages = len(pipe.solutions)
    design = RtlDesign(
        base=base,
        comb_top=comb_top,
        pipe_top=pipe_top,
        comb_files=lib_files + [f"{comb_top}.v"],
        pipe_files=lib_files + [f"{pipe_top}.v"],
        mem_files=sorted(mem),
        inputs=_kifs(comb.inp_qint),
        outputs_comb=_kifs(comb.out_qint),
        outputs_pipe=_kifs(pipe.out_qint),
        n_stages=n_stages,
        latency_cycles=n_stages + 1,
        levels_per_stage=levels,
        adder_levels=float(comb.latency[1]),
        timing_model=timing,
        da4ml_cost_luts=float(comb.cost),
        pipe_reg_bits=int(pipe.reg_bits),
        n_inputs=int(traced.n_inputs),
        n_outputs=int(traced.n_outputs),
        input_shape=list(traced.input_shape),
        da4ml_version=str(getattr(da4ml, "__version__", "")),
    )
    if _kifs(pipe.inp_qint) != design.inputs:
        raise HwgenError("internal error: pipelined and combinational designs disagree on the input encoding")
    write_json(out_dir / "design.json", design.to_dict())
    return design


def serial_io_wrapper(design: RtlDesign, name: str | None = None) -> tuple[str, str]:
    """A 4-pin wrapper (clk, sin, load, sout) around the pipelined module for small packages.

    Inputs shift in one bit per clock; `load` captures model_out into a shift register that is
    shifted out on `sout`. It lets place-and-route run on parts whose package has far fewer pins
    than the design's parallel ports, while keeping all logic observable (nothing is optimized
    away). Returns (module name, Verilog text).
    """
    top = verilog_identifier(name or f"{design.base}_serial")
    win, wout = design.in_width, design.out_width("pipe")
    text = f"""`timescale 1ns / 1ps

module {top} (
    input clk,
    input sin,
    input load,
    output sout
);
    reg [{win - 1}:0] in_shift;
    reg [{wout - 1}:0] out_shift;
    wire [{wout - 1}:0] result;

    {design.pipe_top} core (.clk(clk), .model_inp(in_shift), .model_out(result));

    always @(posedge clk) begin
        in_shift <= {{in_shift[{max(win - 2, 0)}:0], sin}};
        if (load)
            out_shift <= result;
        else
            out_shift <= {{out_shift[{max(wout - 2, 0)}:0], 1'b0}};
    end
    assign sout = out_shift[{wout - 1}];
endmodule
"""
    if win < 2 or wout < 2:
        raise HwgenError("the design's ports are too narrow for the serial I/O wrapper")
    return top, text
