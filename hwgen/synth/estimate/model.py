"""Structural model of what hls4ml 1.x generates, layer by layer (no vendor tool involved).

For every layer the model counts what the HLS tool will build from hls4ml's templates
(nnet_dense_latency.h, nnet_dense_resource.h, nnet_conv*_latency.h, nnet_activation.h, ...):

* Products that survive quantization and pruning. Each weight is quantized onto its weight_t
  exactly as the C++ cast does; a zero weight disappears, a power of two becomes a shift (wires),
  a constant with few canonical-signed-digits becomes a shift-add (adders), and the rest are real
  multipliers whose operand widths (data width, bits of the constant) decide DSP or LUT fabric.
* Adder trees (one per output, terms - 1 adders at the accumulator width; some are absorbed into
  DSP post-adders), activation logic and lookup tables (BRAM for tables that need it), weight ROMs
  of the Resource strategy, stream FIFOs.
* Reuse factor R: the Latency kernel keeps its unrolled products but shares the real multipliers
  (ceil(n/R) instances behind R:1 multiplexers) and sets II=R; the Resource kernel instantiates
  ceil(n_in*n_out/R) general multipliers reading weights from a ROM.
* Latency: each layer's pipeline depth from its critical path (multiplier delay + adder-tree depth
  x adder delay) at the effective clock period (target minus uncertainty), plus one register per
  called function and the top-level I/O register; dataflow designs overlap their processes.

All constants live in `FamilyParams` (per tool family, read from calibration.yaml), so every
number the estimate uses can be read and changed in one place. The result here is the *raw*
structural estimate; `hwgen.synth.estimate.calibration` applies the per-family scale factors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace

import numpy as np

from hwgen.synth.estimate.fixedtype import FixedType, csd_digits, signed_width
from hwgen.synth.estimate.project import HlsProject, LayerCall


def _safe_float(value) -> float | None:
    try:
        return float(str(value).rstrip("f"))
    except (TypeError, ValueError):
        return None

RESOURCES = ("dsp", "lut", "ff", "bram_18k", "uram")


@dataclass
class FamilyParams:
    """Per tool-family constants of the structural model (defaults = vitis_hls)."""

    # Multiplier binding: a real (non shift/shift-add) product goes to DSP when the narrower
    # operand has >= dsp_min_width bits and the wider one >= dsp_max_width bits.
    dsp_min_width: int = 6
    dsp_max_width: int = 10
    shift_add_digits: int = 2  # constants with <= this many CSD digits become shift/add networks
    # LUT costs (csynth-level estimates)
    lut_per_mult_bit2: float = 0.5  # fabric multiplier: LUT per (data bits x constant bits)
    lut_per_adder_bit: float = 1.0
    lut_per_dsp: float = 20.0  # fabric logic the HLS estimate puts around each DSP product
    dsp_add_absorb: float = 0.75  # fraction of DSP products whose adder goes into the DSP post-adder
    lut_per_mux_bit: float = 0.33  # per bit per extra mux input (R:1 sharing, input selection)
    lut_per_relu_bit: float = 0.65
    lut_per_table_lookup: float = 12.0  # index arithmetic per table read
    # sigmoid/tanh/softplus/softsign index: hls4ml scales and offsets the input into a C `int`
    # (x * N / range + N / 2) and clamps it on both sides to [0, N-1]: a 32-bit add and two 32-bit
    # compares with their selects per lane, on top of the read (ELU/SELU clamp one side only)
    lut_per_clamped_lookup: float = 0.0
    lut_per_layer: float = 10.0  # control of a called function (io_parallel)
    lut_per_stream_layer: float = 120.0  # control + handshakes of a dataflow process (io_stream)
    # FF costs
    ff_per_dsp: float = 5.0
    ff_per_stream_layer: float = 60.0
    # Delays (ns) for the pipeline-depth model
    t_dsp_ns: float = 2.6
    t_lut_mult_ns: float = 1.8
    t_add_ns: float = 0.55
    t_table_ns: float = 2.0  # BRAM/LUTROM read
    dsp_pipeline_fraction: float = 0.8  # DSP multipliers slower than this x period get pipelined
    call_overhead_cycles: int = 1  # register at the boundary of a called (non-inlined) layer
    chained_call_overhead_cycles: int = 0  # same for cheap layers HLS chains (relu, linear)
    top_overhead_cycles: int = 1  # input/output register of the top function
    default_uncertainty: float = 0.27  # fraction of the period, when the project does not say
    stream_conv_min_ii: int = 1  # achieved II per pixel of the stream convolution
    # hls4ml's stream convolution pipelines its pixel loop only for the Latency strategy; with
    # Resource each input pixel waits for the whole kernel call plus the window shift and the
    # output write (None: treat Resource like Latency)
    stream_conv_resource_px_overhead: int | None = None
    # Costs added in model v2 (hls4ml's own synthesis baselines):
    ff_per_register_bit: float = 1.0  # FF per bit of a pipeline / call-boundary register
    lut_per_pool_output: float = 0.0  # window control/rounding per pooling output beyond the adders
    table_latency_cycles: int = 1  # cycles of a table activation (index arithmetic + ROM read)
    # Vivado HLS cannot fold the divide of AveragePooling with 'same' padding (the divisor is the
    # count of non-padded cells): one pipelined divider per output
    avgpool_same_divider: bool = False
    lut_per_divider: float = 500.0
    ff_per_divider: float = 800.0
    divider_latency_cycles: int = 21
    # io_stream FIFOs (shift-register FIFOs: SRL/LUTRAM or registers, by tool) and AXI-Stream ports
    lut_per_fifo_bit: float = 0.5  # per bit of width and 32 entries of depth
    ff_per_fifo_bit: float = 2.0  # input/output registers per bit of width
    ff_per_port_bit: float = 2.0  # register slices on the top's stream ports
    # Resource strategy (R > 1): registers per operand bit of each general multiplier, which the
    # reuse loop pipelines (operands, product); Vivado HLS 2019.2 Conv1D at RF 16: ~65 FF per
    # 16x16 multiplier in its csynth module row
    ff_per_reuse_mult_bit: float = 0.5
    # a register (and a cycle) at the input of every dense/conv after the first in a pipelined
    # (io_parallel) top
    product_input_register: bool = False

    @classmethod
    def from_dict(cls, data: dict | None) -> "FamilyParams":
        names = {f.name for f in fields(cls)}
        unknown = set(data or {}) - names
        if unknown:
            raise ValueError(f"unknown structural parameter(s) {sorted(unknown)}")
        return cls(**(data or {}))


@dataclass(frozen=True)
class Device:
    """What the part string says about arithmetic blocks."""

    part: str
    dsp_a: int  # widest multiplier operand one DSP slice takes (signed bits)
    dsp_b: int
    has_uram: bool
    series: str
    speed: float = 1.0  # delay multiplier relative to UltraScale+ (the t_*_ns constants)

    @classmethod
    def from_part(cls, part: str) -> "Device":
        p = (part or "").lower()
        if p.startswith(("xcvc", "xcve", "xcvp", "xcvm", "xcvh")):
            return cls(part, 27, 24, True, "versal")
        if p.startswith(("xc7", "xa7", "xq7")):
            return cls(part, 25, 18, False, "7series", 1.45)
        if p.startswith(("xcvu", "xcku", "xczu", "xcu", "xck", "xcau", "xqzu", "xqvu")):
            return cls(part, 27, 18, p.startswith(("xcu", "xcvu")), "ultrascale")
        return cls(part, 27, 18, False, "unknown")

    def dsp_tiles(self, a: int, b: int) -> int:
        """DSP slices of an a x b signed product. A wide product is split into a signed top chunk
        of the port width and unsigned chunks one bit narrower below it, and the tools pick the
        cheaper way round: 32 x 21 puts the 21-bit operand on the 27-bit port and splits the 32-bit
        one over the 18-bit port (18 + 14 bits, 2 slices; Vivado HLS 2020.1, DepthwiseConv2D with
        32-bit data and constants of <= 21 bits: 54 DSP for 27 products); 32 x 32 needs 4."""

        def chunks(width: int, port: int) -> int:
            return 1 if width <= port else 1 + math.ceil((width - port) / (port - 1))

        return min(chunks(a, self.dsp_a) * chunks(b, self.dsp_b), chunks(b, self.dsp_a) * chunks(a, self.dsp_b))


@dataclass
class LayerEstimate:
    name: str
    func: str
    kind: str
    resources: dict[str, float] = field(default_factory=lambda: {k: 0.0 for k in RESOURCES})
    latency: int = 0  # pipeline stages (cycles) of this layer, before top-level overheads
    ii: int = 1
    counts: dict[str, float] = field(default_factory=dict)  # structural counts behind the numbers
    notes: list[str] = field(default_factory=list)
    path_ns: float = 0.0

    def add(self, **res: float) -> None:
        for key, value in res.items():
            self.resources[key] = self.resources.get(key, 0.0) + float(value)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "func": self.func, "kind": self.kind,
            "resources": {k: round(v, 2) for k, v in self.resources.items()},
            "latency": self.latency, "ii": self.ii,
            "counts": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.counts.items()},
            "notes": list(self.notes),
        }


@dataclass
class RawEstimate:
    """Uncalibrated structural estimate of one project."""

    layers: list[LayerEstimate]
    top: LayerEstimate
    totals: dict[str, float]
    latency_cycles: int
    ii: int
    clock_period_ns: float
    effective_period_ns: float
    features: dict[str, float]  # aggregate counts used by calibration (per-point records)


# --------------------------------------------------------------------------- helpers


def _bits(t: FixedType | None, default: int = 16) -> int:
    return t.width if t is not None else default


def _cfg_num(call: LayerCall, key: str, default: float | None = None) -> float | None:
    return call.config.num(key, default) if call.config is not None else default


def _strategy(call: LayerCall, project: HlsProject) -> str:
    text = call.config.text("strategy") if call.config is not None else ""
    if "resource" in text:
        return "resource"
    if "distributed_arithmetic" in text:
        return "da"
    if "latency" in text:
        return "latency"
    kernel = call.config.templates.get("kernel", "") if call.config is not None else ""
    if "Resource" in kernel:
        return "resource"
    return "resource" if project.strategy.lower() == "resource" else "latency"


def _weight_type(project: HlsProject, call: LayerCall, mult_cfg=None) -> FixedType | None:
    for cfg in (mult_cfg, call.config):
        if cfg is not None and "weight_t" in cfg.types:
            t = project.resolve_type(cfg.types["weight_t"])
            if t is not None:
                return t
    return None


def _accum_type(project: HlsProject, call: LayerCall, mult_cfg=None) -> FixedType | None:
    for cfg in (mult_cfg, call.config):
        if cfg is not None and "accum_t" in cfg.types:
            t = project.resolve_type(cfg.types["accum_t"])
            if t is not None:
                return t
    return None


def _clog2(n: float) -> int:
    return int(math.ceil(math.log2(n))) if n > 1 else 0


def _stages(path_ns: float, t_eff: float) -> int:
    return max(0, int(math.ceil(path_ns / t_eff - 1e-9)) - 1)


_BRAM18_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))


def _bram18(depth: int, width: int) -> int:
    """BRAM18 blocks of one memory: the cheapest of the block's aspect ratios (16K x 1 ... 1K x 18,
    512 x 36), as the tools tile a ROM table (a 1024 x 18 table is one block)."""
    if depth <= 0 or width <= 0:
        return 0
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in _BRAM18_SHAPES)


# --------------------------------------------------------------------------- kernels


@dataclass
class _KernelCounts:
    n_products: int = 0
    zero: int = 0
    shift: int = 0
    shift_add: int = 0
    shift_add_adders: int = 0
    mult_ops: int = 0
    dsp_ops: int = 0
    lut_mult_ops: int = 0
    mult_instances: int = 0
    dsp_instances: int = 0
    dsp: int = 0
    lut_mult_bits2: float = 0.0
    shift_add_bits: float = 0.0
    adders: int = 0
    adder_bits: float = 0.0
    absorbed_adders: float = 0.0
    mux_bits: float = 0.0
    max_terms: int = 0
    max_const_bits: int = 0
    path_ns: float = 0.0
    mult_ns: float = 0.0  # delay of the product stage
    operand_bits: float = 0.0  # bits entering the product stage (registered if a boundary falls there)
    tree: list = field(default_factory=list)  # (terms, width) per output adder tree


def _constant_kernel(codes: np.ndarray, n_in: int, n_out: int, data_bits: int, w_type: FixedType,
                     acc_bits: int, bias_codes: np.ndarray | None, reuse: int, fam: FamilyParams,
                     dev: Device) -> _KernelCounts:
    """Dense kernel with constant weights (Latency strategy / unrolled): what survives of each
    product, the multipliers (shared R:1 when R > 1) and the per-output adder trees."""
    k = _KernelCounts(n_products=n_in * n_out)
    codes = codes.reshape(n_in, n_out) if codes.size == n_in * n_out else codes.reshape(-1, max(n_out, 1))
    terms = np.zeros(codes.shape[1], dtype=np.int64)
    dsp_per_out = np.zeros(codes.shape[1], dtype=np.float64)
    mult_path = 0.0
    mults: list[tuple[int, int, bool]] = []  # (const bits, out column, is_dsp)
    for (i, j), c in np.ndenumerate(codes):
        c = int(c)
        if c == 0:
            k.zero += 1
            continue
        terms[j] += 1
        digits = csd_digits(c)
        if digits <= 1:
            k.shift += 1
            continue
        bc = signed_width(c)
        k.max_const_bits = max(k.max_const_bits, bc)
        if digits <= fam.shift_add_digits:
            k.shift_add += 1
            k.shift_add_adders += digits - 1
            k.shift_add_bits += (digits - 1) * (data_bits + bc)
            mult_path = max(mult_path, fam.t_add_ns)
            continue
        is_dsp = min(data_bits, bc) >= fam.dsp_min_width and max(data_bits, bc) >= fam.dsp_max_width
        mults.append((bc, j, is_dsp))
    k.mult_ops = len(mults)
    k.dsp_ops = sum(1 for m in mults if m[2])
    k.lut_mult_ops = k.mult_ops - k.dsp_ops
    if reuse <= 1:
        k.mult_instances = k.mult_ops
        k.dsp_instances = k.dsp_ops
        for bc, j, is_dsp in mults:
            if is_dsp:
                k.dsp += dev.dsp_tiles(data_bits, bc)
                dsp_per_out[j] += 1
                mult_path = max(mult_path, fam.t_dsp_ns)
            else:
                k.lut_mult_bits2 += data_bits * bc
                mult_path = max(mult_path, fam.t_lut_mult_ns * max(1.0, math.log2(max(bc, 2)) / 2.5))
    else:
        # ALLOCATION limit: the real multiplications are spread over R cycles on ceil(n/R) shared
        # general multipliers whose constant operand comes through an R:1 multiplexer.
        bc_max = max((m[0] for m in mults), default=w_type.width if w_type else 8)
        share_dsp = k.dsp_ops >= k.lut_mult_ops
        k.mult_instances = math.ceil(k.mult_ops / reuse) if k.mult_ops else 0
        is_dsp = min(data_bits, bc_max) >= fam.dsp_min_width and max(data_bits, bc_max) >= fam.dsp_max_width and share_dsp
        if is_dsp:
            k.dsp_instances = k.mult_instances
            k.dsp = k.mult_instances * dev.dsp_tiles(data_bits, bc_max)
            mult_path = max(mult_path, fam.t_dsp_ns)
        else:
            k.lut_mult_bits2 = k.mult_instances * data_bits * bc_max
            mult_path = max(mult_path, fam.t_lut_mult_ns)
        fan = min(reuse, max(1, k.mult_ops))
        k.mux_bits = k.mult_instances * (data_bits + bc_max) * (fan - 1)
        # spread absorbed adders proportionally
        for _bc, j, _d in mults:
            dsp_per_out[j] += (k.dsp_instances / k.mult_ops) if k.mult_ops else 0.0
    if bias_codes is not None and bias_codes.size == codes.shape[1]:
        terms = terms + (bias_codes != 0)
    k.max_terms = int(terms.max()) if terms.size else 0
    w_bits = w_type.width if w_type else 16
    for j, t in enumerate(terms):
        if t <= 1:
            continue
        adders = int(t) - 1
        width = min(acc_bits, data_bits + w_bits + _clog2(t))
        absorbed = min(adders, fam.dsp_add_absorb * dsp_per_out[j])
        k.adders += adders
        k.absorbed_adders += absorbed
        k.adder_bits += (adders - absorbed) * width
    k.path_ns = mult_path + _clog2(max(k.max_terms, 1)) * fam.t_add_ns
    k.mult_ns = mult_path
    nonzero = int(terms.sum())
    k.operand_bits = nonzero * data_bits
    k.tree = [(int(t), min(acc_bits, data_bits + w_bits + _clog2(max(int(t), 1)))) for t in terms]
    return k


def _register_bits(k: _KernelCounts, stages: int) -> float:
    """Bits registered at the `stages` pipeline boundaries of a kernel. HLS retimes each boundary
    to the cheapest cut it may use; for hls4ml's kernels that is (about) the per-output sums, so
    every boundary costs the outputs' widths (case4: 64 x 15 bit -> 956 FF for a latency-1 dense)."""
    return stages * sum(width for terms, width in k.tree if terms > 0)


def _general_kernel(n_mults: int, n_out: int, data_bits: int, w_bits: int, acc_bits: int, fam: FamilyParams,
                    dev: Device) -> _KernelCounts:
    """Kernel whose weights are read at run time (Resource strategy, R > 1): general multipliers."""
    k = _KernelCounts(n_products=n_mults, mult_ops=n_mults, mult_instances=n_mults)
    is_dsp = min(data_bits, w_bits) >= fam.dsp_min_width and max(data_bits, w_bits) >= fam.dsp_max_width
    if is_dsp:
        k.dsp_ops = k.dsp_instances = n_mults
        k.dsp = n_mults * dev.dsp_tiles(data_bits, w_bits)
        mult_path = fam.t_dsp_ns
    else:
        k.lut_mult_ops = n_mults
        k.lut_mult_bits2 = n_mults * data_bits * w_bits
        mult_path = fam.t_lut_mult_ns
    k.max_const_bits = w_bits
    k.adders = n_mults
    absorbed = fam.dsp_add_absorb * k.dsp_instances
    k.absorbed_adders = min(n_mults, absorbed)
    k.adder_bits = (n_mults - k.absorbed_adders) * acc_bits
    per_out = max(1, math.ceil(n_mults / max(n_out, 1)))
    k.max_terms = per_out
    k.path_ns = mult_path + _clog2(per_out + 1) * fam.t_add_ns
    return k


def _apply_kernel(est: LayerEstimate, k: _KernelCounts, fam: FamilyParams, copies: int = 1) -> None:
    lut = (fam.lut_per_mult_bit2 * k.lut_mult_bits2 + fam.lut_per_adder_bit * (k.shift_add_bits + k.adder_bits)
           + fam.lut_per_dsp * k.dsp_instances + fam.lut_per_mux_bit * k.mux_bits)
    # FF around a DSP product (its operand/result registers) only where the layer is pipelined: the
    # callers add fam.ff_per_dsp once they know the stages (a latency-0 Dense(1->64) holds 61 DSPs
    # and no FF beyond its input register in both families' baselines)
    est.add(dsp=k.dsp * copies, lut=lut * copies)
    for name in ("n_products", "zero", "shift", "shift_add", "mult_ops", "dsp_ops", "lut_mult_ops",
                 "mult_instances", "dsp_instances", "adders"):
        est.counts[name] = est.counts.get(name, 0) + getattr(k, name) * copies
    est.counts["absorbed_adders"] = est.counts.get("absorbed_adders", 0.0) + k.absorbed_adders * copies
    est.counts["max_terms"] = max(est.counts.get("max_terms", 0), k.max_terms)


# --------------------------------------------------------------------------- layers


def _dense_like(project: HlsProject, call: LayerCall, fam: FamilyParams, dev: Device, t_eff: float,
                n_in: int, n_out: int, reuse: int, strategy: str, copies: int, mult_cfg=None,
                kind: str = "dense") -> LayerEstimate:
    est = LayerEstimate(call.name, call.func, kind)
    data_bits = _bits(call.input_type)
    w_type = _weight_type(project, call, mult_cfg)
    acc_type = _accum_type(project, call, mult_cfg)
    acc_bits = _bits(acc_type, 32)
    w_bits = _bits(w_type)
    if call.weights is None or call.weights.size != n_in * n_out:
        est.notes.append("weights not readable: all products counted as non-zero general multipliers")
        codes = np.full(n_in * n_out, 2 ** max(w_bits - 2, 1) + 3, dtype=np.int64)
    else:
        codes = w_type.quantize(call.weights) if w_type else np.round(call.weights * 1024).astype(np.int64)
    bias_type = project.resolve_type(call.config.types.get("bias_t", "")) if call.config is not None else None
    bias_codes = None
    if call.biases is not None and call.biases.size == n_out:
        bias_codes = bias_type.quantize(call.biases) if bias_type else np.round(call.biases * 1024).astype(np.int64)
    est.counts.update({"n_in": n_in, "n_out": n_out, "reuse_factor": reuse, "copies": copies,
                       "data_bits": data_bits, "weight_bits": w_bits, "accum_bits": acc_bits})
    est.counts["strategy_resource"] = 1 if strategy == "resource" else 0
    if strategy == "resource" and reuse > 1:
        rf = min(reuse, n_in * n_out)
        block = math.ceil(n_in * n_out / rf)
        k = _general_kernel(block, n_out, data_bits, w_bits, acc_bits, fam, dev)
        k.mux_bits = block * data_bits * (min(rf, n_in) - 1)
        _apply_kernel(est, k, fam, copies)
        est.add(ff=fam.ff_per_dsp * k.dsp_instances * copies)
        # Weight ROM: ARRAY_RESHAPE block factor=block_factor + ROM_nP_BRAM -> one word of
        # block x weight bits per reuse step (512x36 per BRAM18 in wide mode).
        bram = math.ceil(block * w_bits / 36.0) * math.ceil(rf / 512.0)
        est.add(bram_18k=bram * copies)
        est.counts["weight_rom_bits"] = block * w_bits * rf
        # accumulators and the pipelined reuse loop: registers per output and per product
        est.add(ff=copies * (n_out * acc_bits * 2 + block * (data_bits + w_bits) * fam.ff_per_reuse_mult_bit))
        est.latency = rf + _stages(k.path_ns, t_eff) + 2
        est.ii = rf
        est.counts["zero_weights"] = int(np.count_nonzero(codes == 0))
        est.notes.append(f"Resource strategy: {block} general multipliers read weights from ROM, II={rf}")
    else:
        k = _constant_kernel(codes, n_in, n_out, data_bits, w_type, acc_bits, bias_codes, reuse, fam, dev)
        _apply_kernel(est, k, fam, copies)
        stages = _stages(k.path_ns, t_eff)
        arith_stages = stages
        if reuse > 1:
            arith_stages = max(stages, 1)
            stages = arith_stages + reuse - 1
        if stages:
            est.add(ff=fam.ff_per_dsp * k.dsp_instances * copies)
        est.ii = max(1, reuse)
        est.path_ns = k.path_ns
        if k.dsp_instances and k.mult_ns > fam.dsp_pipeline_fraction * t_eff:
            # DSP products whose multiplier alone takes most of a cycle are built as pipelined
            # cores (input/M/P registers, counted as FF by csynth) and add two stages
            stages += 2
            est.add(ff=copies * k.dsp_instances * 3 * (data_bits + k.max_const_bits))
            est.counts["dsp_pipelined"] = 1
        est.latency = stages
        # pipeline registers at each stage boundary of the arithmetic; the R-1 reuse steps of a
        # Latency-strategy layer with R > 1 keep the accumulators in those same registers (Vivado HLS
        # 2020.1, 4-128-3 at RF 16: 3,892 FF in all, not the 16 x sums of one register per step)
        est.add(ff=copies * fam.ff_per_register_bit * _register_bits(k, arith_stages))
        if reuse > 1:
            est.add(ff=copies * k.mult_instances * (data_bits + k.max_const_bits) * 0.5 * (reuse - 1))
    est.add(lut=fam.lut_per_layer)
    return est


def _dense(project, call, fam, dev, t_eff) -> LayerEstimate:
    n_in = int(_cfg_num(call, "n_in", 0) or 0)
    n_out = int(_cfg_num(call, "n_out", 0) or 0)
    reuse = int(_cfg_num(call, "reuse_factor", project.reuse_factor) or 1)
    return _dense_like(project, call, fam, dev, t_eff, n_in, n_out, reuse, _strategy(call, project), 1)


def _conv(project, call, fam, dev, t_eff, stream: bool) -> LayerEstimate:
    cfg = call.config
    mult_cfg = project.structs.get(cfg.types.get("mult_config", "")) if cfg is not None else None
    chan = int(_cfg_num(call, "n_chan", 1) or 1)
    filt = int(_cfg_num(call, "n_filt", 1) or 1)
    fh = int(_cfg_num(call, "filt_height", 1) or 1)
    fw = int(_cfg_num(call, "filt_width", 1) or 1)
    n_in = int(mult_cfg.num("n_in", fh * fw * chan)) if mult_cfg else fh * fw * chan
    n_out = int(mult_cfg.num("n_out", filt)) if mult_cfg else filt
    out_h = int(_cfg_num(call, "out_height", 1) or 1)
    out_w = int(_cfg_num(call, "out_width", 1) or 1)
    in_h = int(_cfg_num(call, "in_height", 1) or 1)
    in_w = int(_cfg_num(call, "in_width", 1) or 1)
    reuse = int(_cfg_num(call, "reuse_factor", project.reuse_factor) or 1)
    strategy = _strategy(call, project)
    n_pixels_out = out_h * out_w
    if stream:
        copies = 1
    else:
        copies = int(_cfg_num(call, "n_pixels", 1) or 1)
    off_channel = 0  # zero entries of a depthwise block-diagonal, which are not products of the layer
    if "depthwise" in call.func:
        w = call.weights
        if w is not None and w.size == fh * fw * chan and not (strategy == "resource" and reuse > 1):
            # one kernel per channel: the window (kernel position, channel) times a block-diagonal
            # matrix, so each channel's own constants decide its multipliers (not full-width
            # placeholders)
            flat = np.asarray(w, dtype=float).reshape(-1)
            diag = np.zeros((fh * fw * chan, chan))
            for c in range(chan):
                diag[c::chan, c] = flat[c::chan]
            call = replace(call, weights=diag.reshape(-1))
            n_in, n_out = fh * fw * chan, chan
            off_channel = fh * fw * chan * (chan - 1)
        else:
            n_in, n_out = fh * fw, 1
            copies *= chan
    est = _dense_like(project, call, fam, dev, t_eff, n_in, n_out, reuse, strategy, copies, mult_cfg, kind="conv")
    if off_channel:
        est.counts["n_products"] = est.counts.get("n_products", 0) - off_channel
        est.counts["zero"] = est.counts.get("zero", 0) - off_channel
    kernel_latency = est.latency
    data_bits = _bits(call.input_type)
    if stream:
        pixels_in = in_h * in_w
        # case8's Conv1D reached II=3 per pixel; depthwise kernels (one product per channel and
        # tap) reach II=1 (hls4ml baselines: 32 and 1024 pixels -> latency 35 and 1028)
        ii_px = max(reuse, 1 if "depthwise" in call.func else fam.stream_conv_min_ii)
        if (strategy == "resource" and "depthwise" not in call.func
                and fam.stream_conv_resource_px_overhead is not None):
            # the ReadInputWidth loop is not pipelined: every pixel takes the kernel's own latency
            ii_px = kernel_latency + fam.stream_conv_resource_px_overhead
            est.ii = pixels_in * ii_px
            est.latency = pixels_in * ii_px + 1  # the last pixel's kernel is inside its own step
        else:
            est.ii = pixels_in * ii_px
            est.latency = pixels_in * ii_px + kernel_latency + 1
        if "depthwise" in call.func:
            # the depthwise window step keeps its stream read and its packed output write as
            # stages of their own: the fit points' depthwise baselines end 2 cycles (DepthwiseConv2D,
            # Vivado HLS 2020.1 and Vitis HLS 2024.1) or 1 cycle (DepthwiseConv1D, Vitis HLS 2024.1)
            # after the kernel's own depth
            est.latency += 2
        # line buffer: (filt_h - 1) rows of the input in shift registers / BRAM
        lb_bits = (fh - 1) * in_w * chan * data_bits + fw * chan * data_bits
        if (fh - 1) * in_w > 64:
            est.add(bram_18k=math.ceil(chan * data_bits / 18.0) * (fh - 1))
        else:
            est.add(ff=lb_bits)
        est.add(lut=fam.lut_per_stream_layer, ff=fam.ff_per_stream_layer)
        est.counts["line_buffer_bits"] = lb_bits
    else:
        n_part = int(_cfg_num(call, "n_partitions", n_pixels_out) or n_pixels_out)
        est.ii = n_part * reuse
        est.latency = n_part * reuse + kernel_latency
        # im2col window selection: each kernel input picks one of n_part positions
        if n_part > 1:
            est.add(lut=fam.lut_per_mux_bit * copies * n_in * data_bits * (n_part - 1) / max(1, n_part) * 3)
        est.counts["n_partitions"] = n_part
    est.counts["out_pixels"] = n_pixels_out
    return est


# table activations whose index hls4ml clamps on both sides (nnet_activation.h)
TWO_SIDED_INDEX = frozenset({"sigmoid", "tanh", "softplus", "softsign"})


def _activation(project, call, fam, dev, t_eff, stream: bool) -> LayerEstimate:
    func = call.func
    n = int(_cfg_num(call, "n_in", 0) or 0)
    w_in, w_out = _bits(call.input_type), _bits(call.output_type)
    est = LayerEstimate(call.name, func, "activation")
    est.counts.update({"n": n, "in_bits": w_in, "out_bits": w_out})
    # io_stream activations handle one packed word (pack elements) per cycle
    lanes = max(1, call.input_type.pack) if (stream and call.input_type is not None) else n
    if func in ("linear",):
        est.add(lut=0.0)
    elif func in ("relu", "relu6", "relu1", "thresholded_relu", "hard_tanh", "hard_sigmoid", "binary_tanh",
                  "ternary_tanh", "leaky_relu", "prelu"):
        # leaky_relu(x, alpha, y): hls4ml passes alpha as the middle call argument
        alpha = _safe_float(call.args[1]) if func == "leaky_relu" and len(call.args) == 3 else None
        identity = func == "leaky_relu" and alpha == 1.0  # LeakyReLU(alpha=1) is x either way: folded
        if not identity:
            est.add(lut=lanes * w_out * fam.lut_per_relu_bit)
        if func in ("leaky_relu", "hard_sigmoid") and not identity and alpha not in (0.0, None):
            est.add(lut=lanes * w_in * 0.5 * fam.lut_per_mult_bit2 * 4)
        est.counts["identity"] = int(identity)
        est.path_ns = 0.0 if identity else fam.t_add_ns
    elif func.startswith("softmax") or func == "softmax":
        est = _softmax(project, call, fam, dev, t_eff)
    else:  # table-based: sigmoid, tanh, elu, selu, softplus, softsign, unary_lut, ...
        table_size = int(_cfg_num(call, "table_size", 1024) or 1024)
        table_t = project.resolve_type(call.config.types.get("table_t", "")) if call.config is not None else None
        tw = _bits(table_t, 18)
        if func in ("sigmoid", "hard_sigmoid") and table_t is not None:
            tw = min(tw, table_t.frac + 1)  # values in (0, 1): HLS drops constant leading bits
        elif func == "tanh" and table_t is not None:
            tw = min(tw, table_t.frac + 2)
        copies = math.ceil(lanes / 2)
        per_copy = _bram18(table_size, tw)
        if table_size * tw <= 4096:
            est.add(lut=copies * table_size * tw / 64.0)
        else:
            est.add(bram_18k=copies * per_copy)
        est.add(lut=lanes * fam.lut_per_table_lookup + lanes * w_out * 0.25)
        if func in TWO_SIDED_INDEX:
            est.add(lut=lanes * fam.lut_per_clamped_lookup)
        # the index arithmetic and the ROM read are pipelined: the lanes' values are registered
        est.add(ff=fam.ff_per_register_bit * lanes * w_in * fam.table_latency_cycles)
        est.latency = fam.table_latency_cycles
        est.path_ns = fam.t_table_ns
        est.counts["table_copies"] = copies
    if stream and est.kind == "activation":
        est.add(lut=fam.lut_per_stream_layer, ff=fam.ff_per_stream_layer)
        pack = call.input_type.pack if call.input_type else 1
        reads = max(1, n // max(pack, 1))
        est.latency += reads
        est.ii = reads
    return est


def _softmax(project, call, fam, dev, t_eff) -> LayerEstimate:
    cfg = call.config
    n = int(_cfg_num(call, "n_in", 0) or 0)
    impl = cfg.text("implementation", "") if cfg is not None else ""
    est = LayerEstimate(call.name, call.func, "softmax")
    exp_size = int(_cfg_num(call, "exp_table_size", _cfg_num(call, "table_size", 1024)) or 1024)
    inv_size = int(_cfg_num(call, "inv_table_size", exp_size) or exp_size)
    exp_t = project.resolve_type(cfg.types.get("exp_table_t", cfg.types.get("table_t", ""))) if cfg else None
    inv_t = project.resolve_type(cfg.types.get("inv_table_t", cfg.types.get("table_t", ""))) if cfg else None
    ew, iw = _bits(exp_t, 18), _bits(inv_t, 18)
    if "argmax" in impl:
        est.add(lut=n * _bits(call.input_type) * 2)
        est.latency = _clog2(n)
        return est
    if "stable" in impl and exp_t is not None:
        ew = min(ew, exp_t.frac + 1)  # exp(x - max) <= 1
    stream = call.config is not None and "io_stream" in str(call.config.values.get("io_type", ""))
    copies = math.ceil(n / 2)
    est.add(bram_18k=copies * max(1, _bram18(exp_size, ew)) + max(1, _bram18(inv_size, iw)))
    w_in = _bits(call.input_type)
    # n products exp * (1/sum) (18x18: DSP), sum tree, max tree + subtraction (stable), index math
    est.add(dsp=n * dev.dsp_tiles(max(ew, 18), iw))
    adders = (n - 1) + (2 * n - 1 if "stable" in impl else 0)
    est.add(lut=adders * max(ew, w_in) * fam.lut_per_adder_bit + (n + 1) * fam.lut_per_table_lookup
            + n * fam.lut_per_dsp + fam.lut_per_layer)
    est.add(ff=n * (ew + w_in) + fam.ff_per_dsp * n)
    depth = 2 * fam.t_table_ns + fam.t_dsp_ns + (_clog2(n) * (2 if "stable" in impl else 1) + 1) * fam.t_add_ns
    est.latency = _stages(depth, t_eff) + 2
    est.path_ns = depth
    est.counts.update({"n": n, "exp_copies": copies, "exp_bits": ew, "inv_bits": iw})
    if stream:
        est.add(lut=fam.lut_per_stream_layer, ff=fam.ff_per_stream_layer)
        est.latency += 2
    return est


def _pooling(project, call, fam, dev, t_eff, stream: bool) -> LayerEstimate:
    est = LayerEstimate(call.name, call.func, "pooling")
    cfg = call.config
    w = _bits(call.input_type)
    chan = int(_cfg_num(call, "n_filt", _cfg_num(call, "n_chan", 1)) or 1)
    if "global" in call.func:
        in_h = int(_cfg_num(call, "in_height", 1) or 1)
        in_w = int(_cfg_num(call, "in_width", _cfg_num(call, "n_in", 1)) or 1)
        pool, n_out = in_h * in_w, chan
    else:
        ph = int(_cfg_num(call, "pool_height", 1) or 1)
        pw = int(_cfg_num(call, "pool_width", _cfg_num(call, "pool_size", 1)) or 1)
        oh = int(_cfg_num(call, "out_height", 1) or 1)
        ow = int(_cfg_num(call, "out_width", _cfg_num(call, "n_out", 1)) or 1)
        pool, n_out = ph * pw, oh * ow * chan
    op = cfg.text("pool_op", "Max") if cfg is not None else "Max"
    if stream:
        # one comparator/adder per channel, applied sequentially over the window / stream
        est.add(lut=chan * 2 * w * fam.lut_per_adder_bit + fam.lut_per_stream_layer,
                ff=chan * w + fam.ff_per_stream_layer)
        # pooling1d configs name their input width n_in; pooling2d in_height x in_width
        in_px = int(_cfg_num(call, "in_height", 1) or 1) * int(_cfg_num(call, "in_width", _cfg_num(call, "n_in", 1)) or 1)
        est.latency = in_px + 2
        est.ii = in_px
    else:
        est.add(lut=n_out * (pool - 1) * (2 * w if "Max" in op else w) * fam.lut_per_adder_bit
                + n_out * fam.lut_per_pool_output)
        est.path_ns = _clog2(pool) * fam.t_add_ns * 2
        est.latency = _stages(est.path_ns, t_eff)
        padded = any((_cfg_num(call, k, 0) or 0) > 0 for k in ("pad_top", "pad_bottom", "pad_left", "pad_right"))
        if "Average" in op and padded and fam.avgpool_same_divider:
            est.add(lut=n_out * fam.lut_per_divider, ff=n_out * fam.ff_per_divider)
            est.latency = fam.divider_latency_cycles
            est.path_ns = 0.0
            est.counts["dividers"] = n_out
            est.notes.append(f"average over a padded window: {n_out} dividers (count of non-padded cells)")
    est.counts.update({"pool": pool, "n_out": n_out})
    return est


def _batchnorm(project, call, fam, dev, t_eff) -> LayerEstimate:
    n = int(_cfg_num(call, "n_in", 0) or 0)
    est = LayerEstimate(call.name, call.func, "batchnorm")
    data_bits = _bits(call.input_type)
    scale_t = project.resolve_type(call.config.types.get("scale_t", "")) if call.config is not None else None
    if call.weights is not None and scale_t is not None:
        codes = scale_t.quantize(call.weights)
    else:
        codes = np.full(max(n, 1), 2 ** 9 + 3)
    k = _KernelCounts(n_products=codes.size)
    for c in codes:
        c = int(c)
        if c == 0:
            k.zero += 1
            continue
        d = csd_digits(c)
        if d <= 1:
            k.shift += 1
            continue
        bc = signed_width(c)
        if d <= fam.shift_add_digits:
            k.shift_add += 1
            k.shift_add_bits += (d - 1) * (data_bits + bc)
        elif min(data_bits, bc) >= fam.dsp_min_width and max(data_bits, bc) >= fam.dsp_max_width:
            k.dsp_ops += 1
            k.dsp_instances += 1
            k.dsp += dev.dsp_tiles(data_bits, bc)
        else:
            k.lut_mult_ops += 1
            k.lut_mult_bits2 += data_bits * bc
    k.mult_ops = k.dsp_ops + k.lut_mult_ops
    k.mult_instances = k.mult_ops
    k.adders = n
    k.adder_bits = n * _bits(call.output_type)
    _apply_kernel(est, k, fam)
    est.path_ns = fam.t_dsp_ns + fam.t_add_ns
    est.latency = _stages(est.path_ns, t_eff)
    if est.latency:
        est.add(ff=fam.ff_per_dsp * k.dsp_instances)
    return est


def _merge(project, call, fam, dev, t_eff) -> LayerEstimate:
    est = LayerEstimate(call.name, call.func, "merge")
    n = int(_cfg_num(call, "n_elem", _cfg_num(call, "n_in", 0)) or 0)
    w = _bits(call.output_type)
    if call.func in ("add", "subtract", "average", "maximum", "minimum"):
        est.add(lut=n * w * fam.lut_per_adder_bit * (2 if call.func in ("maximum", "minimum") else 1))
    elif call.func == "multiply":
        if min(w, w) >= fam.dsp_max_width:
            est.add(dsp=n)
        else:
            est.add(lut=n * w * w * fam.lut_per_mult_bit2)
    est.path_ns = fam.t_add_ns * 2
    return est


_NO_LOGIC = ("flatten", "reshape", "repack_stream", "clone_stream", "transpose", "zeropad", "cropping",
             "broadcast_stream", "resize")


def estimate_structure(project: HlsProject, fam: FamilyParams, part: str | None = None,
                       clock_period_ns: float | None = None) -> RawEstimate:
    """Raw (uncalibrated) per-layer and total estimate of an hls4ml project."""
    dev = Device.from_part(part or project.part)
    if dev.speed != 1.0:
        fam = replace(fam, t_dsp_ns=fam.t_dsp_ns * dev.speed, t_lut_mult_ns=fam.t_lut_mult_ns * dev.speed,
                      t_add_ns=fam.t_add_ns * dev.speed, t_table_ns=fam.t_table_ns * dev.speed)
    period = clock_period_ns or project.clock_period_ns
    unc = project.clock_uncertainty if project.clock_uncertainty is not None else fam.default_uncertainty
    t_eff = period * (1.0 - unc)
    stream_io = project.io_type == "io_stream"
    dataflow = project.top_pragma == "dataflow" or stream_io
    layers: list[LayerEstimate] = []
    for call in project.calls:
        f = call.func
        if f.startswith(("conv_", "pointwise_conv", "depthwise_conv", "separable_conv")):
            est = _conv(project, call, fam, dev, t_eff, stream_io)
        elif f.startswith("dense") or f == "einsum_dense":
            est = _dense(project, call, fam, dev, t_eff)
            if stream_io:
                n_in = int(_cfg_num(call, "n_in", 1) or 1)
                pack = call.input_type.pack if call.input_type else 1
                reads = max(1, n_in // max(pack, 1))
                est.add(lut=fam.lut_per_stream_layer, ff=fam.ff_per_stream_layer)
                est.latency += reads
                est.ii = max(est.ii, reads)
        elif f.startswith(("pooling", "global_pooling")):
            est = _pooling(project, call, fam, dev, t_eff, stream_io)
        elif f in ("normalize", "normalize_quantized_tanh", "normalize_binary_tanh"):
            est = _batchnorm(project, call, fam, dev, t_eff)
        elif f in ("add", "subtract", "multiply", "average", "maximum", "minimum") or f.startswith("concatenate"):
            est = _merge(project, call, fam, dev, t_eff)
        elif f.startswith(_NO_LOGIC):
            est = LayerEstimate(call.name, f, "reshape")
            if stream_io:
                n = 1
                if call.config is not None:
                    n = int(call.config.num("in_width", 1) or 1) * int(call.config.num("in_height", 1) or 1)
                est.add(lut=fam.lut_per_stream_layer, ff=fam.ff_per_stream_layer * 0.3)
                est.latency = n + 1
                est.ii = n
        else:
            est = _activation(project, call, fam, dev, t_eff, stream_io)
        # inter-layer storage
        out_t = call.output_type
        if dataflow and call.stream_depth is not None and out_t is not None:
            width = out_t.width * max(out_t.pack, 1)
            depth = call.stream_depth
            if depth > 32 and width * depth > 1024:
                bram = math.ceil(width / 36.0) if depth <= 128 else math.ceil(width / 18.0) * math.ceil(depth / 1024.0)
                est.add(bram_18k=bram, ff=width)  # + the FIFO's output register
            else:
                # shift-register FIFO: data in SRLs plus input/output registers
                est.add(lut=fam.lut_per_fifo_bit * width * math.ceil(depth / 32.0) + 10,
                        ff=fam.ff_per_fifo_bit * width + 5)
            est.counts["fifo_bits"] = width * depth
        layers.append(est)

    depth_of = {id(e): max(1, e.latency - e.ii + 1) for e in layers}  # cycles one item spends in a process
    if stream_io:
        # hls4ml's stream functions are dataflow processes whose body is not one pipeline: a
        # process accepts the next input when it is done (case7: dense latency 7 / II 7; case8:
        # dense 2/2, softmax 8/8, relu 129/129), so its II is its latency.
        for est in layers:
            est.ii = max(est.ii, est.latency, 1)

    # ---- top level: I/O registers, call boundaries, total latency / II
    top = LayerEstimate("<top>", project.project_name, "top")
    in_bits = sum(t.width * s for t, s in zip(project.input_types[:1], project.input_sizes[:1]))
    if not dataflow:
        # the top's input array is registered (pooling baselines: FF = input bits + 2 at latency 0)
        top.add(ff=in_bits + 2, lut=in_bits * 0.02 + 20)
        cycles = fam.top_overhead_cycles
        chain = 0.0  # combinational path carried from earlier latency-0 layers
        seen_products = False
        for call, est in zip(project.calls, layers):
            if est.kind in ("reshape",):
                continue
            if fam.product_input_register and est.kind in ("dense", "conv") and seen_products:
                # Vivado HLS registers the input of every multiplying layer after the first one in
                # a pipelined top (the register lists of four committed projects: the relu output
                # before each later dense, at 5 ns and at 25 ns alike)
                cycles += 1
                n_in = est.counts.get("n_in", 0) * max(1, est.counts.get("copies", 1))
                in_t = call.input_type
                top.add(ff=fam.ff_per_register_bit * n_in * (in_t.width if in_t is not None else 16))
                chain = 0.0
            seen_products = seen_products or est.kind in ("dense", "conv")
            out_bits = 0.0
            if call.output_type is not None:
                n_out = est.counts.get("n_out", est.counts.get("n", 0)) * max(1, est.counts.get("copies", 1))
                out_bits = n_out * call.output_type.width
            if est.latency == 0:
                chain += est.path_ns
                if chain > t_eff:  # HLS breaks the chained combinational logic with a register
                    cycles += 1
                    top.add(ff=fam.ff_per_register_bit * out_bits)
                    chain = est.path_ns
                continue
            chained = est.kind in ("activation",)
            overhead = fam.chained_call_overhead_cycles if chained else fam.call_overhead_cycles
            cycles += est.latency + overhead
            top.add(ff=fam.ff_per_register_bit * out_bits * max(1, overhead))
            chain = 0.0
        ii = max([e.ii for e in layers] + [1])
        latency = cycles
    else:
        top.add(lut=50 + (30 if stream_io else 0), ff=40)
        if stream_io:
            # AXI-Stream ports with register slices on both directions (hls4ml: register both)
            out_t = project.calls[-1].output_type if project.calls else None
            port_bits = in_bits + (out_t.width * max(out_t.pack, 1) if out_t is not None else 0)
            top.add(ff=fam.ff_per_port_bit * port_bits, lut=port_bits * 0.5)
        if stream_io:
            # the first item crosses every process (its depth), the last one leaves the slowest
            # process (II) later
            work = [e for e in layers if e.kind != "reshape" or e.latency > 1]
            slowest = max((e.latency - depth_of[id(e)] + 1 for e in work), default=1)
            latency = fam.top_overhead_cycles + sum(depth_of[id(e)] for e in work) + max(0, slowest - 1)
        else:
            latency = fam.top_overhead_cycles + sum(e.latency + fam.call_overhead_cycles for e in layers)
            # ping-pong buffers between processes (completely partitioned arrays)
            for call, est in zip(project.calls, layers):
                if call.output_type is not None and est.kind not in ("reshape",):
                    n_out = est.counts.get("n_out", 0) * max(1, est.counts.get("copies", 1))
                    n_elem = n_out * est.counts.get("out_pixels", 1) if est.kind == "conv" else est.counts.get("n", n_out)
                    top.add(ff=2 * n_elem * call.output_type.width * 0.5)
        ii = max([e.ii for e in layers] + [1])
    totals = {k: sum(e.resources.get(k, 0.0) for e in layers) + top.resources.get(k, 0.0) for k in RESOURCES}
    features = {
        "n_layers": len(layers),
        "products": sum(e.counts.get("n_products", 0) for e in layers),
        "zero": sum(e.counts.get("zero", 0) for e in layers),
        "shift": sum(e.counts.get("shift", 0) for e in layers),
        "shift_add": sum(e.counts.get("shift_add", 0) for e in layers),
        "dsp_ops": sum(e.counts.get("dsp_ops", 0) for e in layers),
        "lut_mult_ops": sum(e.counts.get("lut_mult_ops", 0) for e in layers),
        "mult_instances": sum(e.counts.get("mult_instances", 0) for e in layers),
        "adders": sum(e.counts.get("adders", 0) for e in layers),
    }
    return RawEstimate(layers, top, totals, int(latency), int(ii), period, t_eff, features)


# --------------------------------------------------------------------------- linear cost terms

# Per-unit costs the calibration fits (non-negative, each the price of one physical unit: a LUT per
# adder bit, an FF per register bit, ...). Every LUT/FF figure of the model is linear in them, so
# each point's estimate is const + sum(coefficient * count); the counts are what
# `linear_terms` returns and what calibration.yaml stores per point.
FITTED_COSTS = {
    "lut": ("lut_per_mult_bit2", "lut_per_adder_bit", "lut_per_dsp", "lut_per_mux_bit", "lut_per_relu_bit",
            "lut_per_table_lookup", "lut_per_clamped_lookup", "lut_per_layer", "lut_per_stream_layer", "lut_per_pool_output",
            "lut_per_divider", "lut_per_fifo_bit"),
    "ff": ("ff_per_dsp", "ff_per_stream_layer", "ff_per_register_bit", "ff_per_divider", "ff_per_fifo_bit",
           "ff_per_port_bit", "ff_per_reuse_mult_bit"),
}


def linear_terms(project: HlsProject, fam: FamilyParams, part: str | None = None,
                 clock_period_ns: float | None = None) -> dict[str, dict[str, float]]:
    """{'lut': {'const': c, 'lut_per_adder_bit': n_bits, ...}, 'ff': {...}}: the estimate of each
    target as an exact linear function of the fitted per-unit costs (the structure, i.e. what
    survives, the DSP decision and the pipeline depth, does not depend on them)."""
    names = [n for group in FITTED_COSTS.values() for n in group]
    zero = replace(fam, **{n: 0.0 for n in names})
    base = estimate_structure(project, zero, part=part, clock_period_ns=clock_period_ns).totals
    out: dict[str, dict[str, float]] = {}
    for target, group in FITTED_COSTS.items():
        terms = {"const": round(base[target], 4)}
        for n in group:
            one = estimate_structure(project, replace(zero, **{n: 1.0}), part=part, clock_period_ns=clock_period_ns)
            terms[n] = round(one.totals[target] - base[target], 4)
        out[target] = terms
    return out
