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
    from qkeras import quantized_bits

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
        if cls in ("QDense", "QConv2D", "Dense", "Conv2D"):
            quantizers = getattr(layer, "get_quantizers", lambda: [None, None])()
            wb, wi = _quantizer_bits(quantizers[0] if quantizers else None)
            bb, _ = _quantizer_bits(quantizers[1] if len(quantizers) > 1 else None)
            ws = quantized_weights(layer)
            kernel = ws[0]
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
            )
        )
    return stats


def float_twin(model) -> "tf.keras.Model":
    """The same network with the quantizers removed and the same (unquantized) trained weights.

    Dense/Conv layers become plain Keras layers with the raw float weights; quantized ReLUs become
    plain ReLUs. This is the 'float-equivalent' network of the report and the software baseline.
    """
    inp = tf.keras.Input(shape=model.input_shape[1:], name="x_input")
    x = inp
    copies = []
    for layer in model.layers:
        cls = type(layer).__name__
        if cls == "InputLayer":
            continue
        if cls == "QDense":
            new = tf.keras.layers.Dense(layer.units, name=layer.name)
        elif cls == "QConv2D":
            new = tf.keras.layers.Conv2D(layer.filters, layer.kernel_size, strides=layer.strides, padding=layer.padding, name=layer.name)
        elif cls == "QActivation":
            new = tf.keras.layers.ReLU(name=layer.name)
        elif cls in ("MaxPooling2D", "Flatten", "Dense", "Conv2D", "ReLU", "Activation", "Dropout", "Reshape"):
            new = layer.__class__.from_config(layer.get_config())
        else:
            raise HwgenError(f"layer {layer.name} ({cls}) has no float equivalent in hwgen")
        x = new(x)
        copies.append((new, layer))
    twin = tf.keras.Model(inp, x, name=f"{model.name}_float")
    for new, old in copies:
        if old.get_weights():
            new.set_weights(old.get_weights())
    return twin


def reference_logits(model, X: np.ndarray, batch: int = 2048) -> np.ndarray:
    """The QKeras model's logits: the values the hardware must reproduce bit for bit.

    QKeras computes in float32 (its quantizers cast to float32), which is exact for fixed-point
    operands as long as every partial sum stays below 2**24 of its least significant bit; for
    16-bit inputs and <=8-bit weights that holds far beyond the layer sizes used here.
    """
    return np.asarray(model.predict(X, batch_size=batch, verbose=0), dtype=np.float64)
