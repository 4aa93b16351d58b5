"""The hardware form of a QKeras model: what hls4ml and the open RTL path are given.

A user's model may be written in many ways that compute the same fixed-point function:
Sequential with or without an `Input`, weights quantized with per-channel power-of-two scales
(`alpha="auto_po2"`), `quantized_po2`, binary or ternary weights, batch normalization folded
into quantized weights during training (`QConv2DBatchnorm`), separable convolutions, a final
softmax. hls4ml handles some of these with constructs of its own (ApplyAlpha layers, XNOR
types, its own folding) that are not always bit-exact with QKeras. hwgen instead rebuilds the
model once into a small canonical form:

* an explicit input layer (so the input precision lands on the input, not on the first layer);
* every weighted layer carries the *effective* weights QKeras multiplies with (the layer's own
  quantizer applied to its kernel, folded batch norm included, computed with the same float32
  TensorFlow ops QKeras uses at inference); where the original quantizer is not plain
  `quantized_bits(alpha=1)` the layer becomes a plain Keras layer whose weights sit exactly on
  the narrowest fixed-point grid that holds them, and that grid is given to hls4ml explicitly;
* separable convolutions become a depthwise and a 1x1 convolution (what QKeras computes);
* Dropout is removed; a final softmax/sigmoid is removed (the logits before it are compared).

Anything outside the supported surface (see `hwgen.support`) is collected as a refusal with
the layer, the construct and what to use instead, before any heavy work starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hwgen.errors import HwgenError


class PathUnsupported(HwgenError):
    """A synthesis path cannot take this model (named layers); the flow goes on with the others."""

# Largest fraction/width accepted for an exact weight grid. Quantizer outputs are far below it;
# a plain float32 weight almost never is, which is what makes it "not quantized".
MAX_GRID_FRACTION_BITS = 32
MAX_GRID_WIDTH = 40
# Weights without any quantizer are taken only if they already sit on a coarse grid.
UNQUANTIZED_FRACTION_BITS = 16
FINAL_ACTIVATIONS = ("softmax", "sigmoid")
PASS_THROUGH = ("Flatten", "Reshape", "MaxPooling1D", "MaxPooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
                "ZeroPadding1D", "ZeroPadding2D", "Add", "Concatenate", "Subtract")
DROPPED = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout")


@dataclass(frozen=True)
class Grid:
    """Signed or unsigned fixed-point grid: `width` bits, `integer` bits (sign included when signed)."""

    width: int
    integer: int
    signed: bool = True

    @property
    def hls(self) -> str:
        return f"{'' if self.signed else 'u'}fixed<{self.width},{self.integer}>"


def exact_grid(values: np.ndarray, max_fraction: int = MAX_GRID_FRACTION_BITS) -> Grid | None:
    """The narrowest fixed-point grid holding every value exactly, or None if there is none
    with at most `max_fraction` fraction bits."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        return None if v.size else Grid(2, 1)
    frac = 0
    while frac <= max_fraction and not np.all(v * 2.0**frac == np.round(v * 2.0**frac)):
        frac += 1
    if frac > max_fraction:
        return None
    ints = np.round(v * 2.0**frac).astype(object)
    lo, hi = int(min(ints)), int(max(ints))
    signed = lo < 0
    if signed:
        # smallest n with -2**(n-1) <= lo and hi <= 2**(n-1) - 1
        n = max(2, max((-lo - 1).bit_length(), hi.bit_length()) + 1)
    else:
        n = max(1, hi.bit_length())
    return Grid(width=n, integer=n - frac, signed=signed)


def quantizer_text(q) -> str:
    """A readable name for a QKeras quantizer, activation or None."""
    if q is None:
        return "-"
    if isinstance(q, str):
        return q
    name = getattr(q, "__name__", None) or type(q).__name__
    cfg = {}
    try:
        cfg = q.get_config()
    except Exception:  # noqa: BLE001 - plain functions have no config
        return name
    keys = [k for k in ("bits", "integer", "alpha", "keep_negative", "symmetric", "max_value", "negative_slope") if k in cfg]
    args = ",".join(f"{k}={cfg[k]!r}" for k in keys if cfg[k] is not None)
    return f"{name}({args})"


@dataclass
class LayerRow:
    """One row of `hwgen inspect` and of the convert stage's record."""

    name: str
    cls: str
    quantizers: dict[str, str] = field(default_factory=dict)
    csim: str = "yes"  # "yes" | "measured" (not guaranteed bit-exact) | "refused"
    rtl: str = "yes"  # "yes" | "no"
    why: str = ""  # reason for a refusal / caveat, with what to use instead
    rewritten: str = ""  # what the hardware form changed for this layer
    hw_layers: list[str] = field(default_factory=list)  # names in the hardware form
    precisions: dict[str, str] = field(default_factory=dict)  # hls4ml precisions, filled by convert/inspect

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class HardwareForm:
    model: object | None  # the canonical tf.keras.Model (None when refused)
    rows: list[LayerRow]
    input_name: str
    final_activation: str | None  # stripped softmax/sigmoid
    weight_precision: dict[str, dict[str, str]]  # hw layer name -> {"weight": .., "bias": ..}
    extra_config: dict[str, dict]  # hw layer name -> hls4ml config entries to set (batch norm widths)
    merge_into_parent: dict[str, str] = field(default_factory=dict)  # quantized_bits activation -> weighted parent

    @property
    def refusals(self) -> list[LayerRow]:
        return [r for r in self.rows if r.csim == "refused"]

    @property
    def measured_only(self) -> list[LayerRow]:
        return [r for r in self.rows if r.csim == "measured"]

    @property
    def rtl_blockers(self) -> list[LayerRow]:
        return [r for r in self.rows if r.rtl == "no"]

    def refusal_message(self, where: str) -> str:
        parts = [f"layer '{r.name}' ({r.cls}): {r.why}" for r in self.refusals]
        return f"{where}: hwgen cannot make this model bit-exact hardware: " + "; ".join(parts)


# --------------------------------------------------------------------------------------------
# Effective weights: what QKeras multiplies with at inference
# --------------------------------------------------------------------------------------------


def _q_call(q, w):
    from hwgen.tfcompat import tf

    if q is None:
        return np.asarray(w, dtype=np.float32)
    return np.asarray(q(tf.constant(w, dtype=tf.float32)), dtype=np.float32)


def _folded_bn(layer):
    """Folded kernel and bias of QConv2DBatchnorm / QDepthwiseConv2DBatchnorm at inference,
    with the same float32 ops as QKeras's call() (rsqrt of moving variance + eps, times gamma)."""
    from hwgen.tfcompat import tf

    bn = layer.batchnorm
    kernel = layer.depthwise_kernel if hasattr(layer, "depthwise_kernel") else layer.kernel
    bias = layer.bias if layer.use_bias else 0.0
    inv = tf.math.rsqrt(bn.moving_variance + bn.epsilon)
    if bn.gamma is not None:
        inv *= bn.gamma
    beta = bn.beta if bn.beta is not None else 0.0
    folded_bias = inv * (bias - bn.moving_mean) + beta
    if hasattr(layer, "depthwise_kernel"):
        # depthwise kernel (kh, kw, in, mult): QKeras reshapes inv to (1, 1, in, mult)
        shape = kernel.shape
        folded_kernel = tf.reshape(inv, (1, 1, shape[2], shape[3])) * kernel
    else:
        folded_kernel = inv * kernel
    return np.asarray(folded_kernel, np.float32), np.asarray(folded_bias, np.float32)


def _is_plain_bits(q) -> bool:
    """quantized_bits with alpha 1 (or None): hls4ml takes its precision exactly."""
    if q is None or type(q).__name__ != "quantized_bits":
        return False
    alpha = getattr(q, "alpha", None)
    # keep_negative=False is left to the exact-grid path: hls4ml's own unsigned handling was measured
    # to disagree with QKeras (75% bit-exact on a generated case).
    return ((alpha is None or (not isinstance(alpha, str) and float(alpha) == 1.0))
            and not getattr(q, "use_stochastic_rounding", False) and bool(getattr(q, "keep_negative", True)))


def _weight_problem(q, values: np.ndarray, what: str) -> tuple[str | None, Grid | None]:
    """(refusal reason, exact grid) for one weight tensor and the quantizer that produced it."""
    qname = type(q).__name__ if q is not None else None
    if q is not None:
        if getattr(q, "use_stochastic_rounding", False):
            return f"{what} quantizer {quantizer_text(q)} uses stochastic rounding; use use_stochastic_rounding=False", None
        alpha = getattr(q, "alpha", None)
        if isinstance(alpha, str) and alpha == "auto" or (alpha is not None and not isinstance(alpha, str) and float(alpha) != 1.0
                                                          and qname in ("quantized_bits", "binary", "ternary")):
            return (f"{what} quantizer {quantizer_text(q)} scales each channel by a float32 factor that no fixed-point "
                    "type holds exactly; use alpha=1 or alpha='auto_po2'"), None
        if qname not in ("quantized_bits", "quantized_po2", "binary", "ternary", "stochastic_binary", "stochastic_ternary"):
            return f"{what} quantizer {qname} is not supported; use quantized_bits, quantized_po2, binary or ternary", None
        if qname.startswith("stochastic_"):
            return f"{what} quantizer {qname} is random at inference; use {qname.replace('stochastic_', '')}", None
    grid = exact_grid(values, MAX_GRID_FRACTION_BITS if q is not None else UNQUANTIZED_FRACTION_BITS)
    if grid is None or grid.width > MAX_GRID_WIDTH:
        if q is None:
            return (f"{what} is not quantized (float32 values): QKeras computes it in floating point and no "
                    f"fixed-point type reproduces it; give the layer a {what.split()[0]}_quantizer=quantized_bits(...)"), None
        return f"{what} values of {quantizer_text(q)} do not lie on a fixed-point grid of at most {MAX_GRID_WIDTH} bits", None
    return None, grid


# --------------------------------------------------------------------------------------------
# Graph walking
# --------------------------------------------------------------------------------------------


def _graph(model) -> list[tuple[object, list[str]]]:
    """(layer, inbound layer names) in topological order, for Sequential and functional models."""
    cls = type(model).__name__
    layers = [l for l in model.layers]
    if cls == "Sequential":
        out, prev = [], None
        for layer in layers:
            if type(layer).__name__ == "InputLayer":
                prev = layer.name
                continue
            out.append((layer, [prev] if prev else []))
            prev = layer.name
        return out
    cfg = model.get_config()
    inbound: dict[str, list[str]] = {}
    for entry in cfg.get("layers", []):
        nodes = entry.get("inbound_nodes") or []
        if len(nodes) > 1:
            raise HwgenError(f"layer '{entry.get('name')}' is shared (called more than once); hwgen takes each layer once")
        names = []
        for node in nodes:
            args = node if isinstance(node, list) else node.get("args", [])
            for item in args:
                if isinstance(item, list) and item and isinstance(item[0], str):
                    names.append(item[0])
        inbound[entry.get("name")] = names
    by_name = {l.name: l for l in layers}
    return [(by_name[n], inbound.get(n, [])) for n in (l.name for l in layers) if type(by_name[n]).__name__ != "InputLayer"]


def _activation_name(act) -> str:
    if act is None:
        return "linear"
    if isinstance(act, str):
        return act
    return getattr(act, "__name__", None) or type(act).__name__


def _layer_quantizers(layer) -> dict[str, str]:
    out = {}
    for attr in ("kernel_quantizer", "depthwise_quantizer", "pointwise_quantizer", "bias_quantizer",
                 "beta_quantizer", "gamma_quantizer", "mean_quantizer", "variance_quantizer"):
        q = getattr(layer, f"{attr}_internal", None) if hasattr(layer, f"{attr}_internal") else getattr(layer, attr, None)
        if q is not None:
            out[attr.replace("_quantizer", "")] = quantizer_text(q)
    if type(layer).__name__ == "QActivation":
        out["activation"] = quantizer_text(layer.quantizer if hasattr(layer, "quantizer") else layer.activation)
    act = getattr(layer, "activation", None)
    if act is not None and type(layer).__name__ != "QActivation" and _activation_name(act) != "linear":
        out["activation"] = quantizer_text(act)
    return out


_SUPPORTED_ACTIVATION_QUANTIZERS = ("quantized_relu", "quantized_bits", "binary", "ternary")


def _activation_problem(act, where: str) -> str | None:
    """Refusal reason for an activation (string or QKeras quantizer) in the middle of a network."""
    name = _activation_name(act)
    if isinstance(act, str) or callable(act) and not hasattr(act, "get_config"):
        if name in ("relu", "linear"):
            return None
        return (f"activation '{name}' is computed in float32 by Keras and by a sampled lookup table in hls4ml; "
                "no fixed-point hardware reproduces it bit for bit: use QActivation(quantized_relu(...)) or "
                "put it last (a final softmax/sigmoid is left out and the logits are compared)")
    qname = type(act).__name__
    if qname not in _SUPPORTED_ACTIVATION_QUANTIZERS:
        if qname in ("quantized_tanh", "quantized_sigmoid"):
            return (f"{qname} is computed from the float32 tanh/sigmoid by QKeras and from a sampled lookup table by "
                    "hls4ml, so the two differ near every rounding boundary; use quantized_relu or quantized_bits")
        return f"activation quantizer {qname} is not supported; use quantized_relu, quantized_bits, binary or ternary"
    cfg = act.get_config()
    if qname == "quantized_relu":
        if cfg.get("negative_slope"):
            return "quantized_relu with negative_slope (leaky) is not supported; use negative_slope=0"
        if cfg.get("use_sigmoid"):
            return "quantized_relu with use_sigmoid is not supported"
        if cfg.get("use_stochastic_rounding"):
            return "stochastic rounding is random at inference; use use_stochastic_rounding=False"
    if qname == "quantized_bits" and cfg.get("alpha") not in (None, 1, 1.0):
        return "quantized_bits as an activation must have alpha=1"
    if qname in ("binary", "ternary"):
        alpha = cfg.get("alpha")
        if alpha not in (None, 1, 1.0):
            return f"{qname} activation with alpha={alpha!r} is not supported; use alpha=1"
        if cfg.get("use_stochastic_rounding"):
            return "stochastic rounding is random at inference; use use_stochastic_rounding=False"
    return None


def _input_layer(layer):
    """The layer feeding `layer` in its model (None when there is not exactly one)."""
    try:
        inbound = layer._inbound_nodes[0].inbound_layers
    except (AttributeError, IndexError):
        return None
    if isinstance(inbound, (list, tuple)):
        return inbound[0] if len(inbound) == 1 else None
    return inbound


def _binary_or_ternary_kernel(layer) -> bool:
    q = getattr(layer, "kernel_quantizer_internal", None) if layer is not None else None
    return type(q).__name__ in ("binary", "ternary")


def _power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


# --------------------------------------------------------------------------------------------
# Building the hardware form
# --------------------------------------------------------------------------------------------


def hardware_form(model, fold_batchnorm: bool = False) -> HardwareForm:
    """Rebuild `model` into the canonical form described in the module docstring.

    Never raises for an unsupported construct: refusals are collected in the rows, so that
    `hwgen inspect` can show them all and the flow can refuse with every reason at once.
    """
    from hwgen.tfcompat import tf
    import qkeras

    rows: list[LayerRow] = []
    weight_precision: dict[str, dict[str, str]] = {}
    extra_config: dict[str, dict] = {}
    graph = _graph(model)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise HwgenError("hwgen takes models with one input and one output")
    in_layer = next((l for l in model.layers if type(l).__name__ == "InputLayer"), None)
    input_name = in_layer.name if in_layer is not None else f"{graph[0][0].name}_input"
    shape = tuple(model.input_shape[1:])
    inp = tf.keras.Input(shape=shape, name=input_name)
    tensors = {input_name: inp}
    if in_layer is None and graph and graph[0][1] == []:
        graph[0] = (graph[0][0], [input_name])
    final_activation = None
    out_layer_name = graph[-1][0].name if graph else input_name
    copies: list[tuple[object, list[np.ndarray]]] = []

    def add(new_layer, x, weights=None):
        y = new_layer(x)
        if weights is not None:
            copies.append((new_layer, weights))
        return y

    for idx, (layer, inbound) in enumerate(graph):
        cls = type(layer).__name__
        row = LayerRow(name=layer.name, cls=cls, quantizers=_layer_quantizers(layer))
        rows.append(row)
        is_last = layer.name == out_layer_name
        srcs = [tensors.get(n) for n in inbound] or [inp]
        if any(s is None for s in srcs):
            row.csim, row.rtl, row.why = "refused", "no", "its input comes from a layer hwgen could not take"
            tensors[layer.name] = None
            continue
        x = srcs[0] if len(srcs) == 1 else srcs
        try:
            y = _convert_layer(layer, cls, x, row, is_last, weight_precision, extra_config, add, fold_batchnorm, tf, qkeras)
        except _Refuse as exc:
            row.csim, row.why = "refused", str(exc)
            row.rtl = "no"
            y = None
        if isinstance(y, tuple) and y[0] == "final":
            final_activation = y[1]
            y = x
        tensors[layer.name] = y
        if not row.hw_layers and row.csim != "refused" and y is not x:
            row.hw_layers = [layer.name]
    out = tensors.get(out_layer_name)
    rtl_check(rows)
    if any(r.csim == "refused" for r in rows) or out is None:
        return HardwareForm(None, rows, input_name, final_activation, weight_precision, extra_config)
    hw = tf.keras.Model(inp, out, name=_safe_model_name(model.name))
    for new, weights in copies:
        new.set_weights(weights)
    return HardwareForm(hw, rows, input_name, final_activation, weight_precision, extra_config, _linear_quantizer_merges(hw))


_WEIGHTED_HW = ("Dense", "QDense", "Conv1D", "Conv2D", "QConv1D", "QConv2D", "DepthwiseConv1D", "DepthwiseConv2D",
                "QDepthwiseConv2D", "BatchNormalization", "QBatchNormalization")


def _linear_quantizer_merges(hw) -> dict[str, str]:
    """QActivation(quantized_bits) layers that directly follow a weighted layer in the hardware form."""
    merges = {}
    graph = _graph(hw)
    consumers: dict[str, int] = {}
    for _, inbound in graph:
        for n in inbound:
            consumers[n] = consumers.get(n, 0) + 1
    for layer, inbound in graph:
        if type(layer).__name__ != "QActivation" or type(getattr(layer, "quantizer", None)).__name__ != "quantized_bits":
            continue
        if len(inbound) == 1:
            parent = hw.get_layer(inbound[0]) if inbound[0] in {l.name for l in hw.layers} else None
            if parent is not None and type(parent).__name__ in _WEIGHTED_HW and consumers.get(parent.name) == 1:
                merges[layer.name] = parent.name
    return merges


def _safe_model_name(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_]", "_", name or "model")


class _Refuse(Exception):
    pass


def _grid_for(q, values, what) -> Grid:
    problem, grid = _weight_problem(q, values, what)
    if problem:
        raise _Refuse(problem)
    return grid


def _declared_grid(q) -> Grid:
    bits, integer = int(q.bits), int(q.integer)
    signed = bool(getattr(q, "keep_negative", True))
    return Grid(bits, integer + 1 if signed else integer, signed)


def _weights_for(layer, cls):
    """[(role, quantizer, effective values)] of a weighted layer, in Keras set_weights order."""
    qs = list(getattr(layer, "quantizers", []) or [])
    if cls in ("QConv2DBatchnorm", "QDepthwiseConv2DBatchnorm"):
        kernel, bias = _folded_bn(layer)
        return [("kernel", qs[0] if qs else None, _q_call(qs[0] if qs else None, kernel)),
                ("bias", qs[1] if len(qs) > 1 else None, _q_call(qs[1] if len(qs) > 1 else None, bias))]
    ws = layer.get_weights()
    if cls in ("QSeparableConv1D", "QSeparableConv2D", "SeparableConv1D", "SeparableConv2D"):
        roles = ["depthwise", "pointwise", "bias"]
    elif cls in ("QDepthwiseConv2D", "DepthwiseConv2D", "DepthwiseConv1D"):
        roles = ["depthwise", "bias"]
    else:
        roles = ["kernel", "bias"]
    out = []
    for i, w in enumerate(ws):
        q = qs[i] if i < len(qs) else None
        out.append((roles[i], q, _q_call(q, w)))
    return out


def _precision_entry(role: str, q, values) -> tuple[str, bool]:
    """(hls4ml precision text, rewritten?) for one weight tensor."""
    if _is_plain_bits(q):
        declared = _declared_grid(q)
        return declared.hls, False
    grid = _grid_for(q, values, role if role != "kernel" else "kernel")
    return grid.hls, True


def _convert_layer(layer, cls, x, row, is_last, weight_precision, extra_config, add, fold_batchnorm, tf, qkeras):
    L = tf.keras.layers
    cfg = layer.get_config()
    name = layer.name
    if cls in DROPPED:
        row.rewritten = "removed (identity at inference)"
        row.rtl = "yes"
        return x
    if cls == "InputLayer":
        return x
    # ---- activations -----------------------------------------------------------------
    if cls in ("Activation", "QActivation", "ReLU", "Softmax"):
        if cls == "QActivation":
            act = layer.quantizer if getattr(layer, "quantizer", None) is not None else layer.activation
        elif cls == "ReLU":
            if cfg.get("max_value") is not None or cfg.get("negative_slope") or cfg.get("threshold"):
                raise _Refuse("ReLU with max_value/negative_slope/threshold is not supported; use QActivation(quantized_relu(...))")
            act = "relu"
        elif cls == "Softmax":
            act = "softmax"
        else:
            act = cfg.get("activation")
        act_name = _activation_name(act)
        if type(act).__name__ in ("binary", "ternary"):
            row.rtl = "no"
            row.why = f"the open RTL path has no {type(act).__name__} activation yet (the flow goes on with the other sources)"
        if is_last and act_name in FINAL_ACTIVATIONS:
            row.rewritten = f"final {act_name} left out: the logits before it are compared bit for bit"
            row.rtl = "yes"
            return ("final", act_name)
        problem = _activation_problem(act, name)
        if problem:
            raise _Refuse(problem)
        if type(act).__name__ == "ternary" and _binary_or_ternary_kernel(_input_layer(layer)):
            # Measured: after a Dense with fixed-point weights hls4ml 1.3 folds the ternary into a
            # thresholded batch norm at QKeras's +-0.33 (exact); after binary/ternary weights it
            # keeps its standalone ternary_tanh, which thresholds at +-1 (0.0 of samples match).
            raise _Refuse("a ternary activation directly after a layer with binary/ternary weights becomes hls4ml's "
                          "ternary_tanh, which thresholds at +-1 instead of QKeras's +-0.33; give the layer before it "
                          "quantized_bits weights, or use a binary or quantized_relu activation")
        if act_name == "linear":
            row.rewritten = "linear activation removed"
            return x
        if cls == "QActivation" and not hasattr(act, "get_config"):
            # QActivation("relu") holds a plain Keras activation, which hls4ml's QKeras parser rejects.
            new = L.Activation(act_name, name=name)
        else:
            new = layer.__class__.from_config(cfg)
        row.hw_layers = [name]
        return add(new, x)
    # ---- pooling ---------------------------------------------------------------------
    if cls in ("AveragePooling1D", "AveragePooling2D", "QAveragePooling2D"):
        pool = cfg.get("pool_size")
        area = int(np.prod(pool if isinstance(pool, (list, tuple)) else [pool]))
        if not _power_of_two(area):
            raise _Refuse(f"average pooling over {area} values divides by {area}, which is not exact in fixed point; "
                          "use a power-of-two pool size or MaxPooling")
        if cfg.get("padding", "valid") != "valid":
            raise _Refuse("average pooling with padding='same' averages fewer values at the borders; use padding='valid'")
        if cls == "QAveragePooling2D":
            raise _Refuse("QAveragePooling2D is not supported; use AveragePooling2D followed by QActivation(quantized_bits(...))")
        row.hw_layers = [name]
        return add(layer.__class__.from_config(cfg), x)
    if cls in ("GlobalAveragePooling1D", "GlobalAveragePooling2D"):
        area = int(np.prod(layer.input_shape[1:-1]))
        if not _power_of_two(area):
            raise _Refuse(f"global average pooling over {area} positions divides by {area}, which is not exact in "
                          "fixed point; make the spatial size a power of two or use GlobalMaxPooling")
        if cfg.get("keepdims"):
            raise _Refuse("global pooling with keepdims=True is not supported; use keepdims=False")
        row.hw_layers = [name]
        return add(layer.__class__.from_config(cfg), x)
    if cls in PASS_THROUGH:
        if cls.startswith("GlobalMax") and cfg.get("keepdims"):
            raise _Refuse("global pooling with keepdims=True is not supported; use keepdims=False")
        row.hw_layers = [name]
        return add(layer.__class__.from_config(cfg), x)
    # ---- batch normalization ---------------------------------------------------------
    if cls in ("BatchNormalization", "QBatchNormalization"):
        if fold_batchnorm:
            raise _Refuse("internal: batch norm should have been folded before building the hardware form")
        row.csim = "measured"
        row.why = (f"{cls} is computed in float32 by QKeras (scale and offset are not on a fixed-point grid), so "
                   "bit-exactness cannot be guaranteed: hwgen gives hls4ml 24-bit-significand scale/offset types and "
                   "reports the measured agreement; --fold-batchnorm folds it into the preceding layer's quantized "
                   "weights and fine-tunes, which makes the folded model the exact reference")
        row.rtl = "no"
        gamma = np.asarray(layer.gamma) if layer.gamma is not None else np.ones(layer.moving_mean.shape)
        beta = np.asarray(layer.beta) if layer.beta is not None else np.zeros(layer.moving_mean.shape)
        scale = gamma / np.sqrt(np.asarray(layer.moving_variance) + layer.epsilon)
        offset = beta - np.asarray(layer.moving_mean) * scale
        extra_config[name] = {"scale": _wide_type(scale), "bias": _wide_type(offset)}
        row.hw_layers = [name]
        return add(layer.__class__.from_config(cfg), x, layer.get_weights())
    # ---- weighted layers -------------------------------------------------------------
    if cls in ("Dense", "QDense", "Conv1D", "Conv2D", "QConv1D", "QConv2D", "DepthwiseConv2D", "QDepthwiseConv2D",
               "SeparableConv1D", "SeparableConv2D", "QSeparableConv1D", "QSeparableConv2D",
               "QConv2DBatchnorm", "QDepthwiseConv2DBatchnorm"):
        return _weighted(layer, cls, cfg, x, row, weight_precision, add, tf, L)
    raise _Refuse(_unsupported_reason(cls))


def _unsupported_reason(cls: str) -> str:
    from hwgen.support import unsupported_hint

    return unsupported_hint(cls)


def _wide_type(values: np.ndarray) -> str:
    """A fixed type with a float32-like 24-bit significand for the largest value (batch norm)."""
    m = float(np.max(np.abs(values))) if np.size(values) else 1.0
    integer = max(1, math.floor(math.log2(m)) + 2) if m > 0 else 1
    return f"fixed<{integer + 24},{integer}>"


def _weighted(layer, cls, cfg, x, row, weight_precision, add, tf, L):
    name = layer.name
    if cfg.get("data_format", "channels_last") != "channels_last":
        raise _Refuse("data_format='channels_first' is not supported; use channels_last")
    dil = cfg.get("dilation_rate", 1)
    if any(int(d) != 1 for d in (dil if isinstance(dil, (list, tuple)) else [dil])):
        raise _Refuse("dilated convolutions are not supported by hls4ml; use dilation_rate=1")
    if cfg.get("groups", 1) != 1:
        raise _Refuse("grouped convolutions are not supported by hls4ml; use groups=1")
    act = getattr(layer, "activation", None)
    act_name = _activation_name(act)
    weights = _weights_for(layer, cls)
    qs = {role: q for role, q, _ in weights}
    vals = {role: v for role, _, v in weights}
    use_bias = "bias" in vals
    rewritten = []
    precision: dict[str, str] = {}
    for role, q, v in weights:
        text, rw = _precision_entry(role, q, v)
        precision[role] = text
        if rw:
            rewritten.append(f"{role} {quantizer_text(q)} -> exact {text}")
    folded = cls.endswith("Batchnorm")
    plain = not rewritten and not folded and cls.startswith("Q") and not cls.startswith("QSeparable")
    base = {k: cfg[k] for k in ("strides", "padding") if k in cfg}
    if plain:
        # Keep the layer as written: hls4ml reads its quantizers exactly.
        new_cfg = dict(cfg)
        if act_name != "linear":  # split out below as its own layer
            new_cfg["activation"] = "linear"
        new = layer.__class__.from_config(new_cfg)
        y = add(new, x, layer.get_weights())
        row.hw_layers = [name]
    elif cls in ("QSeparableConv1D", "QSeparableConv2D", "SeparableConv1D", "SeparableConv2D"):
        one_d = cls.endswith("1D")
        if int(cfg.get("depth_multiplier", 1)) != 1:
            raise _Refuse("separable convolutions with depth_multiplier != 1 are not supported; use depth_multiplier=1")
        dw = (L.DepthwiseConv1D if one_d else L.DepthwiseConv2D)(cfg["kernel_size"], name=f"{name}_dw", use_bias=False, **base)
        pw = (L.Conv1D if one_d else L.Conv2D)(cfg["filters"], 1, name=f"{name}_pw", use_bias=use_bias)
        y = add(dw, x, [vals["depthwise"]])
        y = add(pw, y, [vals["pointwise"]] + ([vals["bias"]] if use_bias else []))
        weight_precision[f"{name}_dw"] = {"weight": precision["depthwise"]}
        weight_precision[f"{name}_pw"] = {"weight": precision["pointwise"], **({"bias": precision["bias"]} if use_bias else {})}
        rewritten.insert(0, "split into depthwise + 1x1 convolution")
        row.hw_layers = [f"{name}_dw", f"{name}_pw"]
    else:
        if cls in ("Dense", "QDense"):
            new = L.Dense(cfg["units"], name=name, use_bias=use_bias)
        elif cls in ("Conv1D", "QConv1D"):
            new = L.Conv1D(cfg["filters"], cfg["kernel_size"], name=name, use_bias=use_bias, **base)
        elif cls in ("Conv2D", "QConv2D", "QConv2DBatchnorm"):
            new = L.Conv2D(cfg["filters"], cfg["kernel_size"], name=name, use_bias=use_bias or folded, **base)
        else:  # depthwise
            if int(cfg.get("depth_multiplier", 1)) != 1:
                raise _Refuse("depthwise convolutions with depth_multiplier != 1 are not supported; use depth_multiplier=1")
            new = L.DepthwiseConv2D(cfg["kernel_size"], name=name, use_bias=use_bias or folded, **base)
        main = "depthwise" if "depthwise" in vals else "kernel"
        ws = [vals[main]] + ([vals["bias"]] if "bias" in vals else [])
        y = add(new, x, ws)
        weight_precision[name] = {"weight": precision[main], **({"bias": precision["bias"]} if "bias" in vals else {})}
        if folded:
            rewritten.insert(0, "batch norm folded into quantized weights as QKeras does at inference")
        row.hw_layers = [name]
    row.rewritten = "; ".join(rewritten)
    if act_name != "linear":
        problem = _activation_problem(act, name)
        if problem:
            raise _Refuse(problem)
        from qkeras import QActivation

        act_layer = QActivation(act, name=f"{name}_act") if hasattr(act, "get_config") else L.Activation(act_name, name=f"{name}_act")
        y = add(act_layer, y)
        row.hw_layers.append(f"{name}_act")
    return y


def rtl_check(rows: list[LayerRow]) -> None:
    """Mark rows the open RTL path (hwgen.synth.open.trace) cannot take, with the reason."""
    from hwgen.support import RTL_LAYERS

    for row in rows:
        if row.rtl == "no":
            continue
        if row.cls not in RTL_LAYERS:
            row.rtl = "no"
            if not row.why:
                row.why = f"the open RTL path has no {row.cls} yet (the flow goes on with the other synthesis sources)"


def logits_model(model):
    """(model without a final softmax/sigmoid, the name of the stripped activation or None).

    The stripped model is what the train stage saves and what every later stage compares: the
    logits. A final activation may be its own layer or the `activation` of the last layer.
    """
    from hwgen.tfcompat import tf

    last = model.layers[-1]
    cls = type(last).__name__
    cfg = last.get_config()
    if cls == "Softmax":
        act = "softmax"
    elif cls in ("Activation", "QActivation"):
        act = _activation_name(cfg.get("activation"))
    else:
        act = _activation_name(getattr(last, "activation", None))
        if act in FINAL_ACTIVATIONS:
            cfg["activation"] = "linear"
            new = last.__class__.from_config(cfg)
            out = new(last.input)
            stripped = tf.keras.Model(model.inputs, out, name=model.name)
            new.set_weights(last.get_weights())
            return stripped, act
        return model, None
    if act not in FINAL_ACTIVATIONS:
        return model, None
    return tf.keras.Model(model.inputs, last.input, name=model.name), act


def check_hardware_form(model, where: str) -> HardwareForm:
    """The hardware form of `model`, or HwgenError naming every refused layer (cheap: no hls4ml)."""
    form = hardware_form(logits_model(model)[0])
    if form.refusals:
        raise HwgenError(form.refusal_message(where))
    return form
