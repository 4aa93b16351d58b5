"""Building QKeras models from a spec, and reading back what the hardware will see
(quantized weights, per-layer bits, sparsity, BOPs) from any QKeras model."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwgen.errors import HwgenError
from hwgen.spec import LayerSpec, ModelSpec
from hwgen.tfcompat import tf


def _wq(p):
    """The QKeras quantizer of a spec precision: quantized_bits, or binary/ternary (alpha=1,
    the forms hls4ml takes bit-exact)."""
    from qkeras import binary, quantized_bits, ternary

    if p.type == "binary":
        return binary(alpha=1)
    if p.type == "ternary":
        return ternary(alpha=1)
    return quantized_bits(p.bits, p.integer, alpha=1)


def build_qkeras_model(spec: ModelSpec, dtype: str = "float32") -> "tf.keras.Model":
    """The spec as a functional QKeras model whose output is the logits (no softmax)."""
    from qkeras import QActivation, QConv2D, QDense, quantized_relu

    inp = tf.keras.Input(shape=spec.input_shape, name="x_input", dtype=dtype)
    x = inp
    for layer in spec.layers:
        kw = {"name": layer.name, "dtype": dtype}
        if layer.type == "dense":
            x = QDense(layer.units, kernel_quantizer=_wq(layer.weight), bias_quantizer=_wq(layer.bias), **kw)(x)
        elif layer.type == "conv2d":
            x = QConv2D(
                layer.filters, layer.kernel_size, strides=layer.strides, padding=layer.padding,
                kernel_quantizer=_wq(layer.weight), bias_quantizer=_wq(layer.bias), **kw,
            )(x)
        elif layer.type == "relu":
            x = QActivation(quantized_relu(layer.bits, layer.integer), **kw)(x)
        elif layer.type in ("binary", "ternary"):
            from qkeras import binary, ternary

            x = QActivation(binary(alpha=1) if layer.type == "binary" else ternary(alpha=1), **kw)(x)
        elif layer.type == "maxpool2d":
            x = tf.keras.layers.MaxPooling2D(layer.pool_size, **kw)(x)
        elif layer.type == "flatten":
            x = tf.keras.layers.Flatten(**kw)(x)
        else:  # pragma: no cover - rejected by the spec parser
            raise HwgenError(f"unsupported layer type {layer.type}")
    return tf.keras.Model(inp, x, name=spec.name)


@dataclass(frozen=True)
class LayerStats:
    name: str
    type: str
    units: int | None
    weight_bits: int | None
    weight_integer: int | None
    bias_bits: int | None
    input_bits: int | None
    activation_bits: int | None  # bits of this layer's output when it is a quantized activation
    params: int
    nonzero: int  # non-zero quantized weights+biases (what the hardware multiplies/adds)
    weight_nonzero: int
    weight_count: int
    sparsity: float  # fraction of quantized kernel weights that are zero
    bops: float
    kernel_shape: list[int] | None = None  # the kernel as the hardware holds it (e.g. [64, 32], [3, 3, 1, 8])
    distinct_weights: int | None = None  # distinct quantized kernel values (weight sharing, binary/ternary)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _quantizer_bits(q) -> tuple[int | None, int | None]:
    if q is None:
        return None, None
    bits = getattr(q, "bits", None)
    integer = getattr(q, "integer", None)
    return (int(bits) if bits is not None else None, int(integer) if integer is not None else None)


def quantized_weights(layer) -> list[np.ndarray]:
    """Kernel and bias as the hardware holds them (after the layer's quantizers)."""
    out = []
    quantizers = getattr(layer, "get_quantizers", lambda: [])()
    for i, w in enumerate(layer.get_weights()):
        q = quantizers[i] if i < len(quantizers) else None
        out.append(np.asarray(q(tf.constant(w))) if q is not None else np.asarray(w))
    return out


def layer_stats(model, input_bits: int) -> list[LayerStats]:
    """Per-layer bits, parameter/non-zero counts, sparsity and BOPs.

    BOPs follow Baskin et al. / Hawks et al. 2021 (as used for the hls4ml jet benchmark):
    for a layer with n inputs per output (fan-in) and m outputs,
    BOPs = m * n * ((1 - f_p) * b_a * b_w + b_a + b_w + log2(n)), times output positions for conv.
    """
    stats = []
    act_bits = input_bits
    for layer in model.layers:
        cls = type(layer).__name__
        if cls == "InputLayer":
            continue
        params = int(sum(np.prod(w.shape) for w in layer.get_weights()))
        wb = wi = bb = None
        units = None
        nonzero = weight_nonzero = weight_count = 0
        sparsity = 0.0
        bops = 0.0
        out_bits = None
        kernel_shape = distinct = None
        if cls in ("QDense", "QConv2D", "Dense", "Conv2D"):
            quantizers = getattr(layer, "get_quantizers", lambda: [None, None])()
            wb, wi = _quantizer_bits(quantizers[0] if quantizers else None)
            bb, _ = _quantizer_bits(quantizers[1] if len(quantizers) > 1 else None)
            ws = quantized_weights(layer)
            kernel = ws[0]
            kernel_shape = [int(d) for d in kernel.shape]
            distinct = int(np.unique(kernel).size)
            weight_count = int(kernel.size)
            weight_nonzero = int(np.count_nonzero(kernel))
            nonzero = int(sum(np.count_nonzero(w) for w in ws))
            sparsity = 1.0 - weight_nonzero / max(weight_count, 1)
            m = kernel.shape[-1]
            n = int(np.prod(kernel.shape[:-1]))
            positions = int(np.prod(layer.output_shape[1:-1])) if cls.endswith("Conv2D") else 1
            b_w = wb or 32
            b_a = act_bits or 32
            bops = positions * m * n * ((1 - sparsity) * b_a * b_w + b_a + b_w + math.log2(max(n, 2)))
            units = int(m)
            act_bits = None  # accumulator output: full precision until the next quantized activation
        elif cls == "QActivation":
            q = layer.quantizer
            out_bits = int(getattr(q, "bits", 0)) or None
            act_bits = out_bits
        stats.append(
            LayerStats(
                name=layer.name, type=cls, units=units, weight_bits=wb, weight_integer=wi, bias_bits=bb,
                input_bits=None, activation_bits=out_bits, params=params, nonzero=nonzero,
                weight_nonzero=weight_nonzero, weight_count=weight_count, sparsity=round(sparsity, 6), bops=bops,
                kernel_shape=kernel_shape, distinct_weights=distinct,
            )
        )
    return stats


_FLOAT_OF = {"QDense": "Dense", "QConv1D": "Conv1D", "QConv2D": "Conv2D", "QDepthwiseConv2D": "DepthwiseConv2D",
             "QSeparableConv1D": "SeparableConv1D", "QSeparableConv2D": "SeparableConv2D",
             "QBatchNormalization": "BatchNormalization", "QAveragePooling2D": "AveragePooling2D"}
_FLOAT_KEYS = {"units", "filters", "kernel_size", "strides", "padding", "dilation_rate", "depth_multiplier", "use_bias",
               "axis", "momentum", "epsilon", "center", "scale", "pool_size", "data_format", "name"}


def _float_activation(act, where: str):
    """The float activation a QKeras activation/quantizer stands for ('relu', 'linear', ...)."""
    if act is None:
        return "linear"
    if isinstance(act, str):
        return act
    name = getattr(act, "__name__", None) or type(act).__name__
    if name in ("quantized_relu", "quantized_relu_po2"):
        return "relu"
    if name in ("quantized_bits", "linear"):
        return "linear"
    if name in ("relu", "softmax", "sigmoid", "tanh"):
        return name
    if name in ("quantized_tanh",):
        return "tanh"
    if name in ("quantized_sigmoid",):
        return "sigmoid"
    raise HwgenError(f"layer {where}: activation {name} has no float equivalent")


def float_twin(model) -> "tf.keras.Model":
    """The same network with the quantizers removed and the same (unquantized) trained weights.

    Q-layers become the plain Keras layers they quantize, with the raw float weights; quantized
    ReLUs become ReLUs and quantized_bits activations identities. This is the 'float-equivalent'
    network of the report and the software baseline. A layer with no float meaning (binary or
    ternary activations, QKeras's folded batch-norm convolutions) raises HwgenError naming it:
    callers report the float figure as not available, and it never blocks a run.
    """
    from hwgen.hwform import _graph

    L = tf.keras.layers
    in_layer = next((l for l in model.layers if type(l).__name__ == "InputLayer"), None)
    graph = _graph(model)
    input_name = in_layer.name if in_layer is not None else "x_input"
    inp = tf.keras.Input(shape=model.input_shape[1:], name=input_name)
    tensors = {input_name: inp}
    copies = []
    for idx, (layer, inbound) in enumerate(graph):
        cls = type(layer).__name__
        srcs = [tensors[n] for n in inbound if n in tensors] or [inp]
        x = srcs[0] if len(srcs) == 1 else srcs
        cfg = layer.get_config()
        if cls in _FLOAT_OF:
            new_cfg = {k: v for k, v in cfg.items() if k in _FLOAT_KEYS}
            if "activation" in cfg or hasattr(layer, "activation"):
                act = _float_activation(getattr(layer, "activation", None), layer.name)
                if cls != "QBatchNormalization":
                    new_cfg["activation"] = act
            new = getattr(L, _FLOAT_OF[cls]).from_config(new_cfg)
        elif cls == "QActivation":
            act = _float_activation(getattr(layer, "quantizer", None) or layer.activation, layer.name)
            new = L.Activation(act, name=layer.name)
        elif cls.startswith("Q"):
            raise HwgenError(f"layer {layer.name} ({cls}) has no float equivalent in hwgen")
        else:
            new = layer.__class__.from_config(cfg)
        tensors[layer.name] = new(x)
        copies.append((new, layer))
    out_name = graph[-1][0].name if graph else input_name
    twin = tf.keras.Model(inp, tensors[out_name], name=f"{model.name}_float")
    for new, old in copies:
        if old.get_weights():
            new.set_weights(old.get_weights())
    return twin


def top1_accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose largest logit is their label (nan for no samples)."""
    return float(np.mean(np.argmax(logits, axis=1) == y)) if len(y) else float("nan")


def reference_logits(model, X: np.ndarray, batch: int = 2048) -> np.ndarray:
    """The QKeras model's logits: the values the hardware must reproduce bit for bit.

    QKeras computes in float32 (its quantizers cast to float32), which is exact for fixed-point
    operands as long as every partial sum stays below 2**24 of its least significant bit; for
    16-bit inputs and <=8-bit weights that holds far beyond the layer sizes used here.
    """
    return np.asarray(model.predict(X, batch_size=batch, verbose=0), dtype=np.float64)
