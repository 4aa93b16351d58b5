"""ONNX graphs of a trained network, written by hwgen itself from the Keras weights.

Two graphs are written from `RUN/train/model.h5`, with the `onnx` package's helper API (no
converter in between, so every node is one hwgen chose):

* ``float``: `hwgen.qmodel.float_twin` of the model (the project's float network: the stored,
  unquantized weights, plain ReLUs);
* ``qkeras``: the QKeras model with its quantizers folded in: kernels and biases are the
  dequantized values the weight quantizers produce (`hwgen.qmodel.quantized_weights`), and each
  `quantized_relu(bits, integer)` activation becomes ``Mul(2^(bits-integer)) -> Round (half to
  even, as tf.round) -> Clip(0, 2^bits - 1) -> Mul(2^(integer-bits))``, which is QKeras's formula
  ``2^i * clip(round(x * 2^b / 2^i) / 2^b, 0, 1 - 2^-b)`` with the powers of two moved out.

Layers: Dense/QDense, Conv2D/QConv2D (any strides, 'valid'/'same' padding), ReLU, Activation
('relu'/'linear'), QActivation (quantized_relu, 'relu'), MaxPooling2D, Flatten, Reshape,
Dropout (left out: inference). Keras is NHWC and ONNX Conv/MaxPool are NCHW: the graph
transposes in front of a Conv/MaxPool run and back before Flatten/Reshape/Dense, so the
flattened order, and hence the Dense weights, are Keras's. Anything else raises HwgenError
naming the layer (the baseline then records why the ONNX rows are missing).

The input is named ``x`` (float32, shape [batch, *input_shape] with a symbolic batch), the
output ``logits``. Opset 17, IR version 8; the bytes are deterministic for given weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hwgen import __version__
from hwgen.errors import HwgenError

OPSET = 17
IR_VERSION = 8
INPUT_NAME = "x"
OUTPUT_NAME = "logits"
GRAPHS = ("float", "qkeras")


@dataclass
class _Builder:
    """Accumulates ONNX nodes and initializers while walking the Keras layers."""

    nodes: list = field(default_factory=list)
    inits: list = field(default_factory=list)
    names: set = field(default_factory=set)
    current: str = INPUT_NAME
    rank: int = 2
    nchw: bool = False  # a 4-D tensor currently in ONNX (NCHW) order

    def fresh(self, stem: str) -> str:
        name, i = stem, 1
        while name in self.names:
            i += 1
            name = f"{stem}_{i}"
        self.names.add(name)
        return name

    def const(self, stem: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.fresh(stem)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], stem: str, **attrs) -> str:
        from onnx import helper

        out = self.fresh(stem)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        self.current = out
        return out

    def to_nchw(self, stem: str) -> None:
        if self.rank == 4 and not self.nchw:
            self.node("Transpose", [self.current], f"{stem}/to_nchw", perm=[0, 3, 1, 2])
            self.nchw = True

    def to_nhwc(self, stem: str) -> None:
        if self.rank == 4 and self.nchw:
            self.node("Transpose", [self.current], f"{stem}/to_nhwc", perm=[0, 2, 3, 1])
            self.nchw = False


def _same_pads(in_hw: tuple[int, int], kernel: tuple[int, int], strides: tuple[int, int]) -> list[int]:
    """TensorFlow's 'same' padding as explicit ONNX pads [top, left, bottom, right] (extra at the end)."""
    before, after = [], []
    for n, k, s in zip(in_hw, kernel, strides):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        before.append(total // 2)
        after.append(total - total // 2)
    return before + after


def _pads(layer, in_shape, kernel, strides) -> list[int]:
    padding = getattr(layer, "padding", "valid")
    if padding == "valid":
        return [0, 0, 0, 0]
    if padding == "same":
        return _same_pads((int(in_shape[1]), int(in_shape[2])), kernel, strides)
    raise HwgenError(f"layer {layer.name}: padding {padding!r} has no ONNX export in hwgen")


def _quant_relu(b: _Builder, q, stem: str) -> None:
    """quantized_relu(bits, integer) as Mul, Round, Clip, Mul (exact: the scales are powers of two)."""
    bits, integer = int(q.bits), int(q.integer)
    unsupported = {
        "negative_slope": float(getattr(q, "negative_slope", 0.0) or 0.0) != 0.0,
        "use_sigmoid": bool(getattr(q, "use_sigmoid", 0)),
        "use_stochastic_rounding": bool(getattr(q, "use_stochastic_rounding", False)),
        "relu_upper_bound": getattr(q, "relu_upper_bound", None) is not None,
        "qnoise_factor": float(getattr(q, "qnoise_factor", 1.0)) != 1.0,
    }
    bad = [k for k, v in unsupported.items() if v]
    if bad:
        raise HwgenError(f"{stem}: quantized_relu with {', '.join(bad)} has no ONNX export in hwgen")
    if bits < 1:
        raise HwgenError(f"{stem}: quantized_relu with {bits} bits has no ONNX export in hwgen")
    scale = np.float32(2.0 ** (bits - integer))
    x = b.node("Mul", [b.current, b.const(f"{stem}/scale", np.array(scale, np.float32))], f"{stem}/scaled")
    x = b.node("Round", [x], f"{stem}/round")
    lo = b.const(f"{stem}/lo", np.array(0.0, np.float32))
    hi = b.const(f"{stem}/hi", np.array(2.0**bits - 1.0, np.float32))
    x = b.node("Clip", [x, lo, hi], f"{stem}/clip")
    b.node("Mul", [x, b.const(f"{stem}/lsb", np.array(1.0 / scale, np.float32))], stem)


def _activation(b: _Builder, act: Any, stem: str) -> None:
    """A layer's `activation` attribute (Keras function or QKeras quantizer)."""
    if act is None:
        return
    cls = type(act).__name__
    if cls == "quantized_relu":
        _quant_relu(b, act, stem)
        return
    name = getattr(act, "__name__", None) or str(act)
    if name == "linear":
        return
    if name == "relu":
        b.node("Relu", [b.current], stem)
        return
    raise HwgenError(f"{stem}: activation {name!r} has no ONNX export in hwgen")


def _dense(b: _Builder, layer, kernel: np.ndarray, bias: np.ndarray | None) -> None:
    b.to_nhwc(layer.name)
    w = b.const(f"{layer.name}/kernel", kernel.astype(np.float32))
    if b.rank == 2:
        inputs = [b.current, w] + ([b.const(f"{layer.name}/bias", bias.astype(np.float32))] if bias is not None else [])
        b.node("Gemm", inputs, layer.name)
    else:
        b.node("MatMul", [b.current, w], f"{layer.name}/matmul")
        if bias is not None:
            b.node("Add", [b.current, b.const(f"{layer.name}/bias", bias.astype(np.float32))], layer.name)


def _conv(b: _Builder, layer, kernel: np.ndarray, bias: np.ndarray | None) -> None:
    if b.rank != 4:
        raise HwgenError(f"layer {layer.name}: Conv2D on a rank-{b.rank} tensor has no ONNX export in hwgen")
    if tuple(getattr(layer, "dilation_rate", (1, 1))) != (1, 1) or int(getattr(layer, "groups", 1)) != 1:
        raise HwgenError(f"layer {layer.name}: dilated or grouped Conv2D has no ONNX export in hwgen")
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise HwgenError(f"layer {layer.name}: only channels_last Conv2D is exported")
    in_shape = layer.input_shape
    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    strides = tuple(int(s) for s in layer.strides)
    pads = _pads(layer, in_shape, (kh, kw), strides)
    b.to_nchw(layer.name)
    w = b.const(f"{layer.name}/kernel", np.transpose(kernel, (3, 2, 0, 1)).astype(np.float32))  # OIHW
    inputs = [b.current, w] + ([b.const(f"{layer.name}/bias", bias.astype(np.float32))] if bias is not None else [])
    b.node("Conv", inputs, layer.name, kernel_shape=[kh, kw], strides=list(strides), pads=pads)


def _weights(layer, quantized: bool) -> tuple[np.ndarray, np.ndarray | None]:
    if quantized:
        from hwgen.qmodel import quantized_weights

        ws = quantized_weights(layer)
    else:
        ws = layer.get_weights()
    ws = [np.asarray(w, dtype=np.float32) for w in ws]
    if not ws:
        raise HwgenError(f"layer {layer.name} has no weights")
    return ws[0], (ws[1] if len(ws) > 1 else None)


def keras_to_onnx(model, *, quantized: bool, graph_name: str):
    """An onnx.ModelProto computing `model` (a plain Keras model, or a QKeras one when quantized)."""
    from onnx import TensorProto, checker, helper

    in_shape = list(model.input_shape[1:])
    if any(d is None for d in in_shape):
        raise HwgenError(f"model input shape {in_shape} is not fully known; the ONNX export needs it")
    b = _Builder(rank=1 + len(in_shape))
    b.names.add(INPUT_NAME)
    for layer in model.layers:
        cls = type(layer).__name__
        if cls == "InputLayer":
            continue
        if len(getattr(layer, "_inbound_nodes", [None])) > 1:
            raise HwgenError(f"layer {layer.name} is shared; only chains of layers are exported")
        if cls in ("Dense", "QDense"):
            kernel, bias = _weights(layer, quantized and cls == "QDense")
            _dense(b, layer, kernel, bias if getattr(layer, "use_bias", True) else None)
            _activation(b, getattr(layer, "activation", None), f"{layer.name}/activation")
        elif cls in ("Conv2D", "QConv2D"):
            kernel, bias = _weights(layer, quantized and cls == "QConv2D")
            _conv(b, layer, kernel, bias if getattr(layer, "use_bias", True) else None)
            _activation(b, getattr(layer, "activation", None), f"{layer.name}/activation")
        elif cls == "ReLU":
            cfg = layer.get_config()
            if cfg.get("max_value") is not None or float(cfg.get("negative_slope") or 0) or float(cfg.get("threshold") or 0):
                raise HwgenError(f"layer {layer.name}: ReLU with max_value/negative_slope/threshold has no ONNX export")
            b.node("Relu", [b.current], layer.name)
        elif cls == "Activation":
            _activation(b, layer.activation, layer.name)
        elif cls == "QActivation":
            q = layer.quantizer
            if not quantized and type(q).__name__ == "quantized_relu":
                b.node("Relu", [b.current], layer.name)
            else:
                _activation(b, q, layer.name)
        elif cls == "MaxPooling2D":
            if b.rank != 4:
                raise HwgenError(f"layer {layer.name}: MaxPooling2D needs a rank-4 tensor")
            pool = tuple(int(p) for p in layer.pool_size)
            strides = tuple(int(s) for s in (layer.strides or pool))
            pads = _pads(layer, layer.input_shape, pool, strides)
            b.to_nchw(layer.name)
            b.node("MaxPool", [b.current], layer.name, kernel_shape=list(pool), strides=list(strides), pads=pads)
        elif cls == "Flatten":
            b.to_nhwc(layer.name)
            b.node("Flatten", [b.current], layer.name, axis=1)
            b.rank = 2
        elif cls == "Reshape":
            b.to_nhwc(layer.name)
            target = [0, *(int(d) for d in layer.target_shape)]
            b.node("Reshape", [b.current, b.const(f"{layer.name}/shape", np.array(target, np.int64))], layer.name)
            b.rank = len(target)
        elif cls == "Dropout":
            continue
        else:
            raise HwgenError(f"layer {layer.name} ({cls}) has no ONNX export in hwgen")
        out_shape = getattr(layer, "output_shape", None)
        if isinstance(out_shape, tuple) and out_shape:
            b.rank = len(out_shape)
    b.to_nhwc("output")
    if b.current == INPUT_NAME:
        b.node("Identity", [b.current], "identity")
    # The last node's output is renamed to the graph output.
    last = b.nodes[-1]
    last.output[0] = OUTPUT_NAME
    out_dims = [None if d is None else int(d) for d in model.output_shape[1:]]
    graph = helper.make_graph(
        b.nodes,
        graph_name,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", *in_shape])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", *out_dims])],
        initializer=b.inits,
    )
    proto = helper.make_model(
        graph, producer_name="hwgen", producer_version=__version__,
        opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION,
    )
    checker.check_model(proto, full_check=True)
    return proto


def export_graphs(model_path, *, trust_code: bool = False) -> dict[str, bytes | str]:
    """{'float': bytes or why not, 'qkeras': bytes or why not} from a model.h5 (needs TensorFlow)."""
    from hwgen.modelio import load_model
    from hwgen.qmodel import float_twin

    qmodel = load_model(model_path, trust_code=trust_code)
    out: dict[str, bytes | str] = {}
    for name, build in (("float", lambda: keras_to_onnx(float_twin(qmodel), quantized=False, graph_name=f"{qmodel.name}_float")),
                        ("qkeras", lambda: keras_to_onnx(qmodel, quantized=True, graph_name=f"{qmodel.name}_qkeras"))):
        try:
            out[name] = build().SerializeToString()
        except HwgenError as exc:
            out[name] = f"no ONNX export of the {name} network: {exc}"
        except Exception as exc:  # noqa: BLE001 - e.g. the onnx checker: recorded, the other engines still run
            out[name] = f"ONNX export of the {name} network failed: {type(exc).__name__}: {exc}"[:400]
    return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
