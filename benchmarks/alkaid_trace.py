"""EVALUATION ONLY (issue 16, item 1): the open-path tracer ported from da4ml 0.5.2 to alkaid.

Not part of the hwgen package (it needs alkaid); `benchmarks/bench_alkaid_vs_da4ml.py`, beside it,
compares it with
`hwgen.synth.open.trace` + `hwgen.synth.open.verilog`. alkaid (da4ml's successor, compiled C++
kernels, no numba JIT) must be importable, e.g. installed with
`pip install --target DIR --no-deps alkaid==0.8.2` and DIR on PYTHONPATH (its only other
dependency, `quantizers>=1,<2`, is already in hwgen's environment).

What changes against trace.py / verilog.py:

* da4ml `FixedVariable` / `FixedVariableArray(vars, solver_options)` / `comb_trace` become
  alkaid `FVariable` / `FVArray(vars, solver_options, hwconf)` (an ndarray subclass: elements
  are reached with `np.asarray(x)`, not `x._vars`) / `alkaid.trace.trace`.
* QKeras arithmetic is built exactly as in trace.py: round-half-even as "add half-LSB minus one
  input LSB plus the kept LSB bit, then truncate", then `quantize(..., 'SAT'|'SAT_SYM', 'TRN')`.
  (alkaid has a native `RND_CONV` round-half-even, but only with WRAP overflow; QKeras saturates.)
* alkaid's optimizer replaces the hardware config's latency model with its own surrogate (about
  1.1-1.5 "ns" per adder, width dependent); to cut the pipeline every N adder levels as hwgen
  does with da4ml, each op's latency is re-labelled with its adder depth (two-operand add/sub
  count one level; constant adds, MSB muxes, shifts, wraps and relus count zero, as da4ml 0.5.2
  does with hwgen's HWConfig(1, -1, -1)) before `alkaid.trace.to_pipeline(..., latency_cutoff=N)`.
* Verilog comes from alkaid's `comb_logic_gen` / `fsm_logic_gen` (same port names `clk`,
  `model_inp`, `model_out`, same LSB-first packing); the primitives are alkaid's own
  `codegen/rtl/verilog/source/*.v`. The result is a `hwgen.synth.open.verilog.RtlDesign`, so
  `hwgen.synth.open.rtlsim.run_rtlsim` and the Yosys stage consume it unchanged.
"""

from __future__ import annotations

import math
import re
import time
from decimal import Decimal
from functools import reduce
from pathlib import Path
from typing import Callable

import numpy as np

from hwgen.errors import HwgenError
from hwgen.results import write_json

# Keras-side helpers (parameter extraction, validation, layer chain) do not touch da4ml.
from hwgen.synth.open.trace import (
    HWCONF,
    TracedModel,
    _act_name,
    _bits_fn,
    _keras_activation,
    _layer_chain,
    _quantized_param,
    _relu_fn,
    _same_or_valid,
    _scalar,
    input_kif,
)
from hwgen.synth.open.verilog import RtlDesign, design_base_name, levels_per_stage, verilog_identifier

ADDER_OPCODES = (0, 1)  # two-operand add / sub
LEVEL_OPCODES = (0, 1)  # ops that take one adder level; the MSB mux is free, as in da4ml 0.5.2


# --------------------------------------------------------------------------------------------
# Fixed-point helpers on alkaid FVariable(s)
# --------------------------------------------------------------------------------------------


def _const(value, hwconf):
    from alkaid.trace import FVariable

    return FVariable.from_const(float(value), hwconf)


def _lsb_frac(v) -> int:
    return -int(math.log2(float(v.step)))


def _rne_const(value, f: int) -> Decimal:
    scaled = Decimal(float(value)) * (Decimal(2) ** f)
    q = scaled.to_integral_value(rounding="ROUND_HALF_EVEN")
    return q / (Decimal(2) ** f)


def round_half_even_floor_operand(v, f: int):
    """y with floor(y * 2**f) == round_half_even(v * 2**f) for every value v can take (see trace.py)."""
    if v.low == v.high:
        return _const(_rne_const(v.low, f), v.hwconf)
    fv = _lsb_frac(v)
    if fv <= f:
        return v
    half_minus_ulp = 2.0 ** -(f + 1) - 2.0**-fv
    kept_lsb = v.quantize(0, 1 - f, f, "WRAP", "TRN")  # the bit of weight 2**-f, unsigned
    y = v + half_minus_ulp if half_minus_ulp != 0 else v
    if kept_lsb.low != kept_lsb.high or kept_lsb.low != 0:
        y = y + kept_lsb * (2.0 ** (f - fv))
    return y


def _sat_trn(y, k: int, i: int, f: int, mode: str = "SAT"):
    if y.low == y.high:
        step = Decimal(2) ** -f
        val = Decimal(math.floor(Decimal(float(y.low)) / step)) * step
        high = Decimal(2) ** i - step
        low = (-(Decimal(2) ** i) + (step if mode == "SAT_SYM" else 0)) if k else Decimal(0)
        return _const(min(max(val, low), high), y.hwconf)
    return y.quantize(k, i, f, mode, "TRN")


def qkeras_relu(v, bits: int, integer: int):
    f = int(bits) - int(integer)
    r = v.relu() if v.low < 0 else v
    y = round_half_even_floor_operand(r, f)
    return _sat_trn(y, 0, int(integer), f)


def qkeras_bits(v, bits: int, integer: int, keep_negative: bool, symmetric: bool):
    k = 1 if keep_negative else 0
    f = int(bits) - k - int(integer)
    y = round_half_even_floor_operand(v, f)
    return _sat_trn(y, k, int(integer), f, "SAT_SYM" if (symmetric and k) else "SAT")


def _relu_fn_params(q, where: str) -> tuple[int, int]:
    _relu_fn(q, where)  # trace.py's validation (raises for unsupported settings)
    return int(_scalar(q.bits, "bits", where)), int(_scalar(q.integer, "integer", where))


def _bits_fn_params(q, where: str) -> tuple[int, int, bool, bool]:
    _bits_fn(q, where)
    bits, integer = int(_scalar(q.bits, "bits", where)), int(_scalar(q.integer, "integer", where))
    return bits, integer, bool(q.keep_negative), bool(q.symmetric)


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------


def _fva(vars_, like):
    from alkaid.trace import FVArray

    return FVArray(vars_, like.solver_options, hwconf=like.hwconf)


def _map(x, fn: Callable):
    flat = np.asarray(x).ravel()
    out = np.empty(len(flat), dtype=object)
    for n, v in enumerate(flat):
        out[n] = fn(v)
    return _fva(out.reshape(x.shape), x)


def _apply_activation(x, act, where: str, is_last: bool, notes: list[str]):
    if isinstance(act, str):
        from qkeras.quantizers import get_quantizer

        act = get_quantizer(act) if "(" in act else _keras_activation(act)
    name = _act_name(act)
    if name == "linear":
        return x
    if name == "relu":
        return _map(x, lambda v: v.relu() if v.low < 0 else v)
    if name == "softmax":
        if is_last:
            notes.append(f"{where}: trailing softmax left out (outputs are the logits before softmax)")
            return x
        raise HwgenError(f"{where}: softmax inside the network is not supported by the open RTL path")
    if name == "quantized_relu":
        bits, integer = _relu_fn_params(act, where)
        return _map(x, lambda v: qkeras_relu(v, bits, integer))
    if name == "quantized_bits":
        bits, integer, keep_negative, symmetric = _bits_fn_params(act, where)
        return _map(x, lambda v: qkeras_bits(v, bits, integer, keep_negative, symmetric))
    raise HwgenError(f"{where}: activation '{name}' is not supported by the open RTL path")


def _conv2d(x, kernel, bias, strides, padding: str, where: str):
    H, W, C = x.shape
    kh, kw, cin, cout = kernel.shape
    if cin != C:
        raise HwgenError(f"{where}: kernel expects {cin} channels, input has {C}")
    sh, sw = strides
    OH, pad_t = _same_or_valid(H, kh, sh, padding)
    OW, pad_l = _same_or_valid(W, kw, sw, padding)
    raw = np.asarray(x)
    out = np.empty((OH, OW, cout), dtype=object)
    for oh in range(OH):
        for ow in range(OW):
            rows, taps = [], []
            for dh in range(kh):
                for dw in range(kw):
                    ih, iw = oh * sh + dh - pad_t, ow * sw + dw - pad_l
                    if 0 <= ih < H and 0 <= iw < W:
                        rows.append(raw[ih, iw, :])
                        taps.append(kernel[dh, dw, :, :])
            if not rows:
                vals = np.zeros(cout) if bias is None else np.array(bias, dtype=np.float64)
                for c, v in enumerate(vals):
                    out[oh, ow, c] = _const(v, x.hwconf)
                continue
            y = _fva(np.concatenate(rows), x) @ np.concatenate(taps, axis=0)
            if bias is not None:
                y = y + bias
            out[oh, ow, :] = np.asarray(y)
    return _fva(out, x)


def _maxpool2d(x, pool, strides, padding: str):
    H, W, C = x.shape
    ph, pw = pool
    sh, sw = strides
    OH, pad_t = _same_or_valid(H, ph, sh, padding)
    OW, pad_l = _same_or_valid(W, pw, sw, padding)
    raw = np.asarray(x)
    out = np.empty((OH, OW, C), dtype=object)
    for oh in range(OH):
        for ow in range(OW):
            for c in range(C):
                win = [
                    raw[oh * sh + dh - pad_t, ow * sw + dw - pad_l, c]
                    for dh in range(ph)
                    for dw in range(pw)
                    if 0 <= oh * sh + dh - pad_t < H and 0 <= ow * sw + dw - pad_l < W
                ]
                out[oh, ow, c] = reduce(lambda a, b: a.max_of(b), win)
    return _fva(out, x)


def _trace_layer(layer, x, is_last: bool, notes: list[str]):
    cls = type(layer).__name__
    where = f"layer '{layer.name}' ({cls})"
    info: dict = {"name": layer.name, "class": cls}
    if cls in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout"):
        return x, info
    if cls == "Flatten":
        return x.reshape(-1), info
    if cls == "Reshape":
        return x.reshape(tuple(layer.target_shape)), info
    if cls in ("Dense", "QDense"):
        kernel = _quantized_param(layer, "kernel", "kernel_quantizer_internal", where)
        bias = _quantized_param(layer, "bias", "bias_quantizer_internal", where) if layer.use_bias else None
        info.update(units=int(kernel.shape[1]), nonzero_weights=int(np.count_nonzero(kernel)), weights=int(kernel.size))
        y = x @ kernel
        if bias is not None:
            y = y + bias
        return _apply_activation(y, layer.activation, where, is_last, notes), info
    if cls in ("Conv2D", "QConv2D"):
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise HwgenError(f"{where}: only data_format='channels_last' is supported")
        if tuple(layer.dilation_rate) != (1, 1) or getattr(layer, "groups", 1) != 1:
            raise HwgenError(f"{where}: dilated or grouped convolutions are not supported by the open RTL path")
        kernel = _quantized_param(layer, "kernel", "kernel_quantizer_internal", where)
        bias = _quantized_param(layer, "bias", "bias_quantizer_internal", where) if layer.use_bias else None
        info.update(filters=int(kernel.shape[-1]), nonzero_weights=int(np.count_nonzero(kernel)), weights=int(kernel.size))
        y = _conv2d(x, kernel, bias, tuple(layer.strides), layer.padding, where)
        return _apply_activation(y, layer.activation, where, is_last, notes), info
    if cls == "MaxPooling2D":
        strides = tuple(layer.strides or layer.pool_size)
        return _maxpool2d(x, tuple(layer.pool_size), strides, layer.padding), info
    if cls == "QActivation":
        return _apply_activation(x, layer.quantizer, where, is_last, notes), info
    if cls == "Activation":
        return _apply_activation(x, layer.activation, where, is_last, notes), info
    if cls == "ReLU":
        if layer.max_value is not None or float(layer.negative_slope) != 0.0 or float(layer.threshold) != 0.0:
            raise HwgenError(f"{where}: ReLU with max_value/negative_slope/threshold is not supported")
        return _apply_activation(x, "relu", where, is_last, notes), info
    if cls == "Softmax":
        return _apply_activation(x, "softmax", where, is_last, notes), info
    raise HwgenError(f"{where} is not supported by the open RTL path")


def trace_qkeras(model, input_bits: int, input_integer: int, solver_options: dict | None = None) -> TracedModel:
    """Trace a (Q)Keras model into an alkaid CombLogic with signed fixed<input_bits, input_integer> inputs."""
    from alkaid.trace import FVArray, HWConfig, trace

    t0 = time.monotonic()
    k, i, f = input_kif(input_bits, input_integer)
    in_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    layers = _layer_chain(model)
    x = FVArray.from_kif(
        np.full(in_shape, k), np.full(in_shape, i), np.full(in_shape, f), HWConfig(*HWCONF), solver_options=solver_options
    )
    inp = x
    notes: list[str] = []
    infos = []
    for n, layer in enumerate(layers):
        x, info = _trace_layer(layer, x, n == len(layers) - 1, notes)
        info["output_shape"] = list(x.shape)
        infos.append(info)
    comb = trace(np.asarray(inp).ravel(), np.asarray(x).ravel(), keep_dead_inputs=True)
    return TracedModel(
        comb=comb,
        model_name=str(model.name),
        input_shape=in_shape,
        input_kif=(k, i, f),
        n_inputs=int(np.prod(in_shape)),
        n_outputs=int(np.prod(x.shape)),
        layers=infos,
        notes=notes,
        trace_s=time.monotonic() - t0,
    )


# --------------------------------------------------------------------------------------------
# Graph statistics and Verilog
# --------------------------------------------------------------------------------------------


def adder_depths(comb) -> list[int]:
    """Per-op adder depth (LEVEL_OPCODES count one level)."""
    depth: list[int] = []
    for op in comb.ops:
        base = max((depth[a] for a in op.input_ids if 0 <= a < len(depth)), default=0)
        depth.append(base + (1 if op.opcode in LEVEL_OPCODES else 0))
    return depth


def with_depth_latency(comb):
    """The same graph with each op's latency replaced by its adder depth."""
    depth = adder_depths(comb)
    return comb._replace(ops=[op._replace(latency=float(d)) for op, d in zip(comb.ops, depth)])


def graph_stats(comb) -> dict:
    hist: dict[int, int] = {}
    for op in comb.ops:
        hist[int(op.opcode)] = hist.get(int(op.opcode), 0) + 1
    depth = adder_depths(comb)
    out_depth = max((depth[i] for i in comb.out_idxs if i >= 0), default=0)
    return {
        "adders": sum(hist.get(c, 0) for c in ADDER_OPCODES),
        "const_adds": hist.get(4, 0),
        "opcodes": dict(sorted(hist.items())),
        "adder_depth": int(out_depth),
        "cost_estimate": float(comb.cost),
    }


def _alkaid_source_dir() -> Path:
    import alkaid.codegen.rtl.verilog as vpkg

    return Path(vpkg.__file__).parent / "source"


def _kifs(qints) -> list[list[int]]:
    return [[int(x) for x in q.kif] for q in qints]


def write_rtl(
    traced: TracedModel, out_dir: Path, board, *, levels: int | None = None, base: str | None = None, n_stages: int | None = None
) -> RtlDesign:
    """Combinational and pipelined Verilog of an alkaid-traced model, laid out like verilog.write_rtl.

    The pipeline is cut every `levels` adder levels, or into exactly `n_stages` balanced stages.
    """
    import alkaid
    from alkaid.codegen.rtl.verilog import comb_logic_gen, fsm_logic_gen
    from alkaid.trace import to_pipeline

    out_dir = Path(out_dir)
    (out_dir / "lib").mkdir(parents=True, exist_ok=True)
    base = verilog_identifier(base) if base else design_base_name(traced.model_name)
    comb_top, pipe_top = f"{base}_comb", f"{base}_pipe"
    comb = traced.comb
    timing_levels, timing = levels_per_stage(board)
    levels = int(levels or timing_levels)
    timing["levels_per_stage"] = levels

    comb_code = comb_logic_gen(comb, comb_top, print_latency=False, timescale="`timescale 1ns / 1ps")
    (out_dir / f"{comb_top}.v").write_text(comb_code)

    staged = with_depth_latency(comb)
    depth = graph_stats(comb)["adder_depth"]
    if n_stages:
        fsm = to_pipeline(staged, n_stages=int(n_stages), verbose=False)
    else:
        fsm = to_pipeline(staged, latency_cutoff=float(levels), verbose=False)
    codes = fsm_logic_gen(fsm, pipe_top, print_latency=False, timescale="`timescale 1ns / 1ps")
    ordered = [v for k, v in codes.items() if k != pipe_top] + [codes[pipe_top]]
    text = "\n".join(ordered)
    # Stage modules are called logic0, logic1, ...: give them the design's prefix.
    text = re.sub(r"\blogic(\d+)\b", rf"{pipe_top}_logic\1", text)
    (out_dir / f"{pipe_top}.v").write_text(text)

    lib_files = []
    for src in sorted(_alkaid_source_dir().glob("*.v")):
        (out_dir / "lib" / src.name).write_text(src.read_text())
        lib_files.append(f"lib/{src.name}")

    n_stages = len(fsm.logic)
    out_sig = fsm.out_signals[0]
    inp_sig = fsm.inp_signals[0]
    outputs_pipe = [[int(p[0]), int(p[1]), int(p[2])] for p in out_sig.precisions]
    inputs_pipe = [[int(p[0]), int(p[1]), int(p[2])] for p in inp_sig.precisions]
    design = RtlDesign(
        base=base,
        comb_top=comb_top,
        pipe_top=pipe_top,
        comb_files=lib_files + [f"{comb_top}.v"],
        pipe_files=lib_files + [f"{pipe_top}.v"],
        mem_files=[],
        inputs=_kifs(comb.inp_qint),
        outputs_comb=_kifs(comb.out_qint),
        outputs_pipe=outputs_pipe,
        n_stages=n_stages,
        latency_cycles=n_stages + 1,
        levels_per_stage=levels,
        adder_levels=float(depth),
        timing_model=timing,
        da4ml_cost_luts=float(comb.cost),
        pipe_reg_bits=int(sum(sig.width for sig in fsm.signals.values() if sig.reg)),
        n_inputs=int(traced.n_inputs),
        n_outputs=int(traced.n_outputs),
        input_shape=list(traced.input_shape),
        da4ml_version=f"alkaid-{getattr(alkaid, '__version__', '')}",
    )
    if inputs_pipe != design.inputs:
        raise HwgenError("internal error: pipelined and combinational designs disagree on the input encoding")
    write_json(out_dir / "design.json", design.to_dict())
    return design


def warm_up() -> float:
    from alkaid.trace import FVArray, HWConfig

    t0 = time.monotonic()
    x = FVArray.from_kif(np.ones(4, int), np.full(4, 2), np.full(4, 3), HWConfig(*HWCONF))
    _ = x @ np.array([[0.5, -0.25], [0.125, 0.0], [0.0, 1.0], [0.75, 0.5]])
    return time.monotonic() - t0
