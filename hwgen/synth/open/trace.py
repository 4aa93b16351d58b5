"""Trace a QKeras model into da4ml's fixed-point dataflow graph, bit-exact with QKeras.

The graph is built from the numbers QKeras itself uses: the quantized weights are what the
layer's own quantizer returns for its kernel/bias, the input is the signed fixed-point type
`fixed<input_bits, input_integer>` (integer bits include the sign, as in ap_fixed), and every
activation reproduces QKeras's arithmetic exactly:

* `quantized_relu(bits, integer)`: clip(round_half_even(x * 2**f) / 2**f, 0, 2**integer - 2**-f)
  with f = bits - integer. QKeras rounds with `tf.round` (half to even) and saturates; da4ml's
  own RND rounds half up and its relu(i=...) wraps, so both are built explicitly here: add
  half-LSB minus one input LSB plus the kept LSB bit, truncate, then saturate (`SAT`).
* `quantized_bits(bits, integer, keep_negative, symmetric, alpha=1)`: the same rounding with a
  signed (or unsigned) saturating clip.
* Keras 'relu' / 'linear' are exact; a trailing softmax is left out (the reference outputs are
  the logits before any softmax).

Supported layers: InputLayer, (Q)Dense, QActivation / Activation / ReLU, Flatten, Reshape,
Dropout, (Q)Conv2D (channels_last, any stride, 'valid' or 'same'; one constant matrix-vector
product per output position) and MaxPooling2D. Anything else raises HwgenError naming it.

Tracing itself is done by da4ml 0.5.2 (constant matrix-vector products solved into shift-add
networks); its numba kernels are compiled on first use (84-98 s measured on 2 cores, once
per installation, cached in the venv; `make install` calls `warm_up()` so no trace pays it).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hwgen.errors import HwgenError

# da4ml hardware model: every addition counts 1 latency unit ("adder level") and costs its
# width in LUTs; the pipeliner cuts the graph every N levels (see hwgen.synth.open.verilog).
HWCONF = (1, -1, -1)
MAX_WEIGHT_FRACTION_BITS = 32
UNQUANTIZED_FRACTION_BITS = 16  # plain Keras weights are accepted only when already on a coarse grid
FLOAT32_SIGNIFICAND_BITS = 24


# --------------------------------------------------------------------------------------------
# Fixed-point helpers on da4ml FixedVariable(s)
# --------------------------------------------------------------------------------------------


def input_kif(input_bits: int, input_integer: int) -> tuple[int, int, int]:
    """(keep_negative, integer bits without sign, fraction bits) of signed fixed<bits, integer>."""
    bits, integer = int(input_bits), int(input_integer)
    if bits < 2 or bits > 32:
        raise HwgenError(f"input_bits={bits} is outside the supported range 2..32")
    if integer > bits:
        raise HwgenError(f"input_integer={integer} is larger than input_bits={bits}")
    return 1, integer - 1, bits - integer


def _lsb_frac(v) -> int:
    """Fraction bits of a FixedVariable's grid (its step is 2**-f)."""
    return -int(math.log2(float(v.step)))


def round_half_even_floor_operand(v, f: int):
    """Return y with floor(y * 2**f) == round_half_even(v * 2**f) for every value v can take.

    v lies on the grid 2**-fv. When fv <= f, v is already on the target grid (y = v). Else
        round_half_even(v) = floor(v + 2**-(f+1) - 2**-fv + b * 2**-fv),
    where b is the bit of v at weight 2**-f (the kept LSB): an exact half rounds down when that
    bit is 0 (even) and up when it is 1 (odd); every other value is unaffected by the 2**-fv term.
    """
    if v.low == v.high:  # constant: compute exactly
        return type(v).from_const(_rne_const(v.low, f), hwconf=v.hwconf)
    fv = _lsb_frac(v)
    if fv <= f:
        return v
    half_minus_ulp = Decimal(2) ** -(f + 1) - Decimal(2) ** -fv
    # b * 2**-f: one bit, taken by wrapping v to an unsigned 1-bit field at weight 2**-f.
    kept_lsb = v.quantize(0, 1 - f, f, "WRAP", "TRN")
    y = v + half_minus_ulp if half_minus_ulp != 0 else v
    if kept_lsb.low != kept_lsb.high or kept_lsb.low != 0:
        y = y + kept_lsb * (2.0 ** (f - fv))
    return y


def _rne_const(value, f: int) -> Decimal:
    scaled = Decimal(value) * (Decimal(2) ** f)
    q = scaled.to_integral_value(rounding="ROUND_HALF_EVEN")
    return q / (Decimal(2) ** f)


def qkeras_relu(v, bits: int, integer: int):
    """QKeras quantized_relu(bits, integer) on one FixedVariable, bit-exact."""
    f = int(bits) - int(integer)
    r = v.relu() if v.low < 0 else v  # RNE is monotone with RNE(0) = 0, so relu may go first
    y = round_half_even_floor_operand(r, f)
    return _sat_trn(y, 0, int(integer), f)


def qkeras_bits(v, bits: int, integer: int, keep_negative: bool, symmetric: bool):
    """QKeras quantized_bits(bits, integer, keep_negative, symmetric, alpha=1) on one variable."""
    k = 1 if keep_negative else 0
    f = int(bits) - k - int(integer)
    y = round_half_even_floor_operand(v, f)
    mode = "SAT_SYM" if (symmetric and k) else "SAT"
    return _sat_trn(y, k, int(integer), f, mode)


def _sat_trn(y, k: int, i: int, f: int, mode: str = "SAT"):
    """Truncate y to 2**-f and saturate to fixed(k, i, f); constants are folded exactly."""
    if y.low == y.high:
        step = Decimal(2) ** -f
        val = Decimal(math.floor(Decimal(y.low) / step)) * step
        high = Decimal(2) ** i - step
        low = (-(Decimal(2) ** i) + (step if mode == "SAT_SYM" else 0)) if k else Decimal(0)
        return type(y).from_const(min(max(val, low), high), hwconf=y.hwconf)
    return y.quantize(k, i, f, mode, "TRN")


# --------------------------------------------------------------------------------------------
# Layer handling
# --------------------------------------------------------------------------------------------


@dataclass
class TracedModel:
    """A QKeras model as a da4ml combinational graph with its fixed-point interface."""

    comb: Any  # da4ml.cmvm.types.CombLogic
    model_name: str
    input_shape: tuple[int, ...]
    input_kif: tuple[int, int, int]
    n_inputs: int
    n_outputs: int
    layers: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    trace_s: float = 0.0

    @property
    def cost(self) -> float:
        """da4ml's LUT estimate of the combinational graph."""
        return float(self.comb.cost)

    @property
    def adder_levels(self) -> float:
        return float(self.comb.latency[1])

    def emulate(self, X: np.ndarray, n_threads: int = 1) -> np.ndarray:
        """Outputs of the traced graph for inputs X (n, *input_shape), by da4ml's interpreter."""
        flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        try:
            out = self.comb.predict(flat, n_threads=n_threads)
        except Exception:  # noqa: BLE001 - fall back to the pure-python interpreter
            out = np.array([np.asarray(self.comb(row), dtype=np.float64) for row in flat])
        return np.asarray(out, dtype=np.float64).reshape(len(X), -1)


def _act_name(act) -> str:
    if act is None:
        return "linear"
    name = getattr(act, "__name__", None)
    if isinstance(name, str) and not hasattr(act, "bits"):
        return name
    return type(act).__name__


def _apply_activation(x, act, where: str, is_last: bool, notes: list[str]):
    """Apply a Keras/QKeras activation object to a FixedVariableArray."""
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
        return _map(x, _relu_fn(act, where))
    if name == "quantized_bits":
        return _map(x, _bits_fn(act, where))
    raise HwgenError(
        f"{where}: activation '{name}' is not supported by the open RTL path "
        "(supported: linear, relu, quantized_relu, quantized_bits with alpha=1, trailing softmax)"
    )


def _keras_activation(name: str):
    from hwgen.tfcompat import tf

    return tf.keras.activations.get(name)


def _scalar(value, what: str, where: str) -> float:
    arr = np.asarray(getattr(value, "numpy", lambda: value)())
    if arr.size != 1:
        raise HwgenError(f"{where}: per-channel {what} is not supported by the open RTL path")
    return float(arr.reshape(-1)[0])


def _relu_fn(q, where: str) -> Callable:
    if getattr(q, "use_sigmoid", 0):
        raise HwgenError(f"{where}: quantized_relu(use_sigmoid=1) is not supported by the open RTL path")
    if getattr(q, "negative_slope", 0.0):
        raise HwgenError(f"{where}: quantized_relu with negative_slope (leaky) is not supported by the open RTL path")
    if getattr(q, "use_stochastic_rounding", False):
        raise HwgenError(f"{where}: stochastic rounding cannot be reproduced in hardware; set use_stochastic_rounding=False")
    if _scalar(getattr(q, "qnoise_factor", 1.0), "qnoise_factor", where) != 1.0:
        raise HwgenError(f"{where}: quantized_relu with qnoise_factor != 1 is not a fixed-point function")
    if not getattr(q, "is_quantized_clip", True) and getattr(q, "relu_upper_bound", None) is not None:
        raise HwgenError(f"{where}: quantized_relu with relu_upper_bound is not supported by the open RTL path")
    bits = int(_scalar(q.bits, "bits", where))
    integer = int(_scalar(q.integer, "integer", where))
    return lambda v: qkeras_relu(v, bits, integer)


def _bits_fn(q, where: str) -> Callable:
    alpha = getattr(q, "alpha", None)
    if isinstance(alpha, str) or (alpha is not None and float(alpha) != 1.0):
        raise HwgenError(f"{where}: quantized_bits activation with alpha={alpha!r} is not supported; use alpha=1")
    if getattr(q, "use_stochastic_rounding", False):
        raise HwgenError(f"{where}: stochastic rounding cannot be reproduced in hardware")
    if _scalar(getattr(q, "qnoise_factor", 1.0), "qnoise_factor", where) != 1.0:
        raise HwgenError(f"{where}: quantized_bits with qnoise_factor != 1 is not a fixed-point function")
    bits = int(_scalar(q.bits, "bits", where))
    integer = int(_scalar(q.integer, "integer", where))
    keep_negative = bool(q.keep_negative)
    if bits - int(keep_negative) <= 0:
        raise HwgenError(f"{where}: 1-bit (binary) quantized_bits activations are not supported")
    symmetric = bool(q.symmetric)
    return lambda v: qkeras_bits(v, bits, integer, keep_negative, symmetric)


def _map(x, fn: Callable):
    from da4ml.trace import FixedVariableArray

    flat = [fn(v) for v in x._vars.ravel()]
    arr = np.empty(len(flat), dtype=object)
    arr[:] = flat
    return FixedVariableArray(arr.reshape(x._vars.shape), x.solver_options)


def _quantized_param(layer, attr: str, quantizer_attr: str, where: str) -> np.ndarray | None:
    """The weights as QKeras uses them in the forward pass (quantizer applied), float64."""
    var = getattr(layer, attr, None)
    if var is None:
        return None
    quantizer = getattr(layer, quantizer_attr, None)
    values = var.numpy() if hasattr(var, "numpy") else np.asarray(var)
    if quantizer is not None:
        from hwgen.tfcompat import tf

        alpha = getattr(quantizer, "alpha", None)
        if isinstance(alpha, str) and "po2" not in alpha:
            raise HwgenError(
                f"{where}: {attr} quantizer {quantizer} scales by an arbitrary float (alpha={alpha!r}); "
                "use alpha=1 or alpha='auto_po2' so that the weights are fixed-point numbers"
            )
        values = quantizer(tf.constant(values)).numpy()
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise HwgenError(f"{where}: {attr} has non-finite values")
    if quantizer is None:
        _check_dyadic(values, f"{where}: unquantized {attr} values", UNQUANTIZED_FRACTION_BITS)
    _check_dyadic(values, f"{where}: {attr}")
    if attr == "kernel" and not np.array_equal(values.astype(np.float32).astype(np.float64), values):
        raise HwgenError(f"{where}: quantized kernel values need more than float32 precision; lower the weight bits")
    return values


def _check_dyadic(values: np.ndarray, what: str, max_bits: int = MAX_WEIGHT_FRACTION_BITS) -> int:
    for f in range(0, max_bits + 1):
        scaled = values * (2.0**f)
        if np.all(scaled == np.round(scaled)):
            return f
    raise HwgenError(
        f"{what} are not fixed-point numbers with at most {max_bits} fraction bits; quantize them "
        "(QDense/QConv2D with quantized_bits(..., alpha=1) or alpha='auto_po2') so that they are exact in hardware"
    )


def _layer_chain(model) -> list:
    """The model's layers as one chain (input -> ... -> output); error for branching graphs."""
    if len(getattr(model, "inputs", []) or []) != 1 or len(getattr(model, "outputs", []) or []) != 1:
        raise HwgenError("the open RTL path supports models with exactly one input and one output")
    layers = [ly for ly in model.layers if type(ly).__name__ != "InputLayer"]
    prev_out = model.inputs[0]
    for ly in layers:
        try:
            inp = ly.input
        except (AttributeError, ValueError) as exc:
            raise HwgenError(f"layer {ly.name} is used more than once or has no single input: {exc}") from None
        if isinstance(inp, (list, tuple)) or inp is None or _tensor_id(inp) != _tensor_id(prev_out):
            raise HwgenError(
                f"layer {ly.name} ({type(ly).__name__}) does not follow the previous layer; the open RTL path "
                "supports a single chain of layers (no branches or merges)"
            )
        prev_out = ly.output
    if layers and _tensor_id(prev_out) != _tensor_id(model.outputs[0]):
        raise HwgenError("the model's output is not its last layer's output; only single-chain models are supported")
    return layers


def _tensor_id(t) -> str:
    return getattr(t, "name", None) or str(id(t))


def _dense(x, kernel: np.ndarray, bias: np.ndarray | None):
    y = x @ kernel
    if bias is not None:
        y = y + bias
    return y


def _same_or_valid(size: int, window: int, stride: int, padding: str) -> tuple[int, int]:
    """(output size, padding before) with TensorFlow's rules."""
    if padding == "valid":
        return (size - window) // stride + 1, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return out, total // 2


def _conv2d(x, kernel: np.ndarray, bias: np.ndarray | None, strides, padding: str, where: str):
    from da4ml.trace import FixedVariableArray

    H, W, C = x.shape
    kh, kw, cin, cout = kernel.shape
    if cin != C:
        raise HwgenError(f"{where}: kernel expects {cin} channels, input has {C}")
    sh, sw = strides
    OH, pad_t = _same_or_valid(H, kh, sh, padding)
    OW, pad_l = _same_or_valid(W, kw, sw, padding)
    out = np.empty((OH, OW, cout), dtype=object)
    for oh in range(OH):
        for ow in range(OW):
            rows, taps = [], []
            for dh in range(kh):
                for dw in range(kw):
                    ih, iw = oh * sh + dh - pad_t, ow * sw + dw - pad_l
                    if 0 <= ih < H and 0 <= iw < W:
                        rows.append(x._vars[ih, iw, :])
                        taps.append(kernel[dh, dw, :, :])
            if not rows:
                vals = np.zeros(cout) if bias is None else np.array(bias, dtype=np.float64)
                hw = x._vars.ravel()[0].hwconf
                from da4ml.trace import FixedVariable

                out[oh, ow, :] = [FixedVariable.from_const(float(v), hwconf=hw) for v in vals]
                continue
            vec = FixedVariableArray(np.concatenate(rows), x.solver_options)
            mat = np.concatenate(taps, axis=0)
            y = vec @ mat
            if bias is not None:
                y = y + bias
            out[oh, ow, :] = y._vars
    return FixedVariableArray(out, x.solver_options)


def _maxpool2d(x, pool, strides, padding: str):
    from da4ml.trace import FixedVariableArray

    H, W, C = x.shape
    ph, pw = pool
    sh, sw = strides
    OH, pad_t = _same_or_valid(H, ph, sh, padding)
    OW, pad_l = _same_or_valid(W, pw, sw, padding)
    out = np.empty((OH, OW, C), dtype=object)
    for oh in range(OH):
        for ow in range(OW):
            for c in range(C):
                win = [
                    x._vars[oh * sh + dh - pad_t, ow * sw + dw - pad_l, c]
                    for dh in range(ph)
                    for dw in range(pw)
                    if 0 <= oh * sh + dh - pad_t < H and 0 <= ow * sw + dw - pad_l < W
                ]
                out[oh, ow, c] = reduce(lambda a, b: a.max_of(b), win)
    return FixedVariableArray(out, x.solver_options)


def _trace_layer(layer, x, is_last: bool, notes: list[str]):
    cls = type(layer).__name__
    where = f"layer '{layer.name}' ({cls})"
    info: dict = {"name": layer.name, "class": cls}
    if cls in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout"):
        return x, info  # identity at inference
    if cls == "Flatten":
        return x.flatten(), info
    if cls == "Reshape":
        return x.reshape(tuple(layer.target_shape)), info
    if cls in ("Dense", "QDense"):
        kernel = _quantized_param(layer, "kernel", "kernel_quantizer_internal", where)
        bias = _quantized_param(layer, "bias", "bias_quantizer_internal", where) if layer.use_bias else None
        info.update(units=int(kernel.shape[1]), nonzero_weights=int(np.count_nonzero(kernel)), weights=int(kernel.size))
        y = _dense(x, kernel, bias)
        return _apply_activation(y, layer.activation, where, is_last, notes), info
    if cls in ("Conv2D", "QConv2D"):
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise HwgenError(f"{where}: only data_format='channels_last' is supported")
        if tuple(layer.dilation_rate) != (1, 1) or getattr(layer, "groups", 1) != 1:
            raise HwgenError(f"{where}: dilated or grouped convolutions are not supported by the open RTL path")
        if len(x.shape) != 3:
            raise HwgenError(f"{where}: expects a (height, width, channels) input, got shape {x.shape}")
        kernel = _quantized_param(layer, "kernel", "kernel_quantizer_internal", where)
        bias = _quantized_param(layer, "bias", "bias_quantizer_internal", where) if layer.use_bias else None
        info.update(filters=int(kernel.shape[-1]), nonzero_weights=int(np.count_nonzero(kernel)), weights=int(kernel.size))
        y = _conv2d(x, kernel, bias, tuple(layer.strides), layer.padding, where)
        return _apply_activation(y, layer.activation, where, is_last, notes), info
    if cls == "MaxPooling2D":
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise HwgenError(f"{where}: only data_format='channels_last' is supported")
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
    raise HwgenError(
        f"{where} is not supported by the open RTL path (supported: Dense/QDense, QActivation, Activation, ReLU, "
        "Flatten, Reshape, Dropout, Conv2D/QConv2D, MaxPooling2D); use the HLS path for this model"
    )


def trace_qkeras(
    model,
    input_bits: int,
    input_integer: int,
    solver_options: dict | None = None,
) -> TracedModel:
    """Trace a (Q)Keras model into a da4ml CombLogic with signed fixed<input_bits, input_integer> inputs."""
    from da4ml.trace import FixedVariableArray, HWConfig, comb_trace

    t0 = time.monotonic()
    k, i, f = input_kif(input_bits, input_integer)
    in_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    if any(d is None or d <= 0 for d in in_shape):
        raise HwgenError(f"the model's input shape {in_shape} must be fully known")
    layers = _layer_chain(model)
    x = FixedVariableArray.from_kif(
        np.full(in_shape, k), np.full(in_shape, i), np.full(in_shape, f), HWConfig(*HWCONF), solver_options=solver_options
    )
    inp = x
    notes: list[str] = []
    infos = []
    for n, layer in enumerate(layers):
        x, info = _trace_layer(layer, x, n == len(layers) - 1, notes)
        info["output_shape"] = list(x.shape)
        infos.append(info)
    comb = comb_trace(inp, x, keep_dead_inputs=True)
    n_out = int(np.prod(x.shape))
    return TracedModel(
        comb=comb,
        model_name=str(model.name),
        input_shape=in_shape,
        input_kif=(k, i, f),
        n_inputs=int(np.prod(in_shape)),
        n_outputs=n_out,
        layers=infos,
        notes=notes,
        trace_s=time.monotonic() - t0,
    )


def check_input_grid(X: np.ndarray, input_bits: int, input_integer: int) -> None:
    """Raise HwgenError unless every value of X is representable in fixed<input_bits, input_integer>."""
    k, i, f = input_kif(input_bits, input_integer)
    X = np.asarray(X, dtype=np.float64)
    scaled = X * 2.0**f
    off = ~np.isfinite(scaled) | (scaled != np.round(scaled))
    lo, hi = -(2.0**i), 2.0**i - 2.0**-f
    out = (X < lo) | (X > hi)
    if off.any() or out.any():
        bad = int(off.sum() + out.sum())
        raise HwgenError(
            f"train/data.npz X_test has {bad} value(s) that are not on the input grid fixed<{input_bits},{input_integer}> "
            f"(step 2^-{f}, range [{lo}, {hi}]); the training stage must quantize X_test to the declared input type"
        )


def compare_outputs(got: np.ndarray, ref: np.ndarray) -> dict:
    """Per-sample bit-exactness of two output arrays (n, outputs)."""
    got = np.asarray(got, dtype=np.float64).reshape(len(got), -1)
    ref = np.asarray(ref, dtype=np.float64).reshape(len(ref), -1)
    if got.shape != ref.shape:
        raise HwgenError(f"output shape mismatch: RTL/emulation gives {got.shape[1:]}, reference {ref.shape[1:]}")
    exact_rows = np.all(got == ref, axis=1)
    diff = np.abs(got - ref)
    diff = np.where(np.isnan(diff), np.inf, diff)
    first = int(np.argmin(exact_rows)) if not exact_rows.all() else None
    return {
        "n_samples": int(len(got)),
        "bit_exact_fraction": float(exact_rows.mean()) if len(got) else None,
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "first_mismatch": first,
    }


def verify_emulation(traced: TracedModel, X: np.ndarray, logits: np.ndarray) -> dict:
    """Run da4ml's interpreter on X and require identical outputs to QKeras's logits."""
    got = traced.emulate(X)
    stats = compare_outputs(got, logits)
    if stats["bit_exact_fraction"] != 1.0:
        i = stats["first_mismatch"]
        acc_bits = _max_accumulator_bits(traced)
        hint = (
            f" Intermediate values need up to {acc_bits} significant bits, more than float32's "
            f"{FLOAT32_SIGNIFICAND_BITS}: QKeras itself rounds there, so lower the input/weight precision."
            if acc_bits > FLOAT32_SIGNIFICAND_BITS
            else ""
        )
        raise HwgenError(
            "the traced fixed-point graph does not reproduce the QKeras logits: "
            f"{stats['bit_exact_fraction']:.1%} of {stats['n_samples']} samples identical, max |diff| "
            f"{stats['max_abs_diff']:g}; first mismatch sample {i}: graph {got[i].tolist()} vs QKeras "
            f"{np.asarray(logits, dtype=np.float64).reshape(len(got), -1)[i].tolist()}.{hint} "
            "This is a bug or an unsupported quantizer setting; please report it with the model."
        )
    return stats


def _max_accumulator_bits(traced: TracedModel) -> int:
    bits = 0
    for op in traced.comb.ops:
        lo, hi, step = op.qint
        if step and step > 0 and (lo or hi):
            span = max(abs(lo), abs(hi)) / step
            bits = max(bits, int(math.ceil(math.log2(span + 1))))
    return bits


def numba_cache_warm() -> bool:
    """Whether da4ml's numba kernels are compiled and cached in this installation (their cache
    index files sit in the package's __pycache__ folders)."""
    import da4ml

    return any(Path(da4ml.__file__).parent.rglob("*.nbi"))


def warm_up() -> float:
    """Compile da4ml's numba kernels once (minutes on the first call of an installation)."""
    from da4ml.trace import FixedVariableArray, HWConfig

    t0 = time.monotonic()
    x = FixedVariableArray.from_kif(np.ones(4, int), np.full(4, 2), np.full(4, 3), HWConfig(*HWCONF))
    _ = x @ np.array([[0.5, -0.25], [0.125, 0.0], [0.0, 1.0], [0.75, 0.5]])
    return time.monotonic() - t0
