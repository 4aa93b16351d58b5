"""Explicit, reported model transforms applied to a user's model before it becomes the reference.

`fold_batchnorm`: a float (or QKeras) batch normalization after a quantized Dense/Conv layer is
computed by QKeras in float32, so no fixed-point hardware is guaranteed to match it. Folding it
into the preceding layer (W' = W * gamma / sqrt(var + eps) per output channel, b' = (b - mean) *
gamma / sqrt(var + eps) + beta), quantizing W' and b' with the layer's quantizers, and fine-tuning
with quantization-aware training gives a model whose arithmetic is all fixed point: after the
transform the folded model is the reference, and the C-simulation is exact by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hwgen.errors import HwgenError

BN_CLASSES = ("BatchNormalization", "QBatchNormalization")
FOLDABLE_INTO = ("QDense", "QConv1D", "QConv2D", "Dense", "Conv1D", "Conv2D")


@dataclass
class FoldRecord:
    folded: list[dict] = field(default_factory=list)  # {batchnorm, into, bias_quantizer}
    fine_tuned: bool = False
    fine_tune_epochs: int = 0
    fine_tune_samples: int = 0
    why_not_fine_tuned: str | None = None
    accuracy_before: float | None = None  # the unfolded model on the test split
    accuracy_after: float | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _bias_quantizer_for(values: np.ndarray, kernel_q):
    from qkeras import quantized_bits

    m = float(np.max(np.abs(values))) if values.size else 1.0
    integer = max(0, math.ceil(math.log2(m + 1e-12)) + 1) if m > 0 else 0
    bits = max(8, int(getattr(kernel_q, "bits", 8)) + 4, integer + 6)
    return quantized_bits(bits, integer, alpha=1)


def fold_batchnorm(model, X_train=None, y_train=None, epochs: int = 5, seed: int = 0, X_test=None, y_test=None):
    """(folded model, FoldRecord). Raises HwgenError naming a batch norm that cannot be folded."""
    from hwgen.hwform import _graph
    from hwgen.tfcompat import tf

    graph = _graph(model)
    producers = {layer.name: (layer, inbound) for layer, inbound in graph}
    consumers: dict[str, int] = {}
    for _, inbound in graph:
        for n in inbound:
            consumers[n] = consumers.get(n, 0) + 1
    fold_into: dict[str, object] = {}  # weighted layer name -> bn layer
    for layer, inbound in graph:
        if type(layer).__name__ not in BN_CLASSES:
            continue
        prev = producers.get(inbound[0])[0] if inbound and inbound[0] in producers else None
        if prev is None or type(prev).__name__ not in FOLDABLE_INTO:
            raise HwgenError(
                f"--fold-batchnorm: layer '{layer.name}' ({type(layer).__name__}) does not follow a Dense/Conv layer, so it "
                "cannot be folded; move it after one, or run without --fold-batchnorm (agreement then measured)")
        if consumers.get(prev.name, 0) != 1:
            raise HwgenError(f"--fold-batchnorm: the output of '{prev.name}' feeds more than the batch norm '{layer.name}'")
        act = getattr(prev, "activation", None)
        if act is not None and (getattr(act, "__name__", "linear") != "linear"):
            raise HwgenError(f"--fold-batchnorm: '{prev.name}' applies an activation before '{layer.name}'; fold needs a linear layer")
        fold_into[prev.name] = layer
    if not fold_into:
        raise HwgenError("--fold-batchnorm: the model has no batch normalization to fold")
    record = FoldRecord()
    inp = tf.keras.Input(shape=model.input_shape[1:], name=next((l.name for l in model.layers if type(l).__name__ == "InputLayer"), "x_input"))
    tensors = {inp.name.split(":")[0]: inp}
    first_inbound = graph[0][1][0] if graph and graph[0][1] else None
    if first_inbound:
        tensors[first_inbound] = inp
    new_weights = []
    skip = {bn.name: wname for wname, bn in fold_into.items()}
    for layer, inbound in graph:
        srcs = [tensors[n] for n in inbound if n in tensors] or [inp]
        x = srcs[0] if len(srcs) == 1 else srcs
        if layer.name in skip:
            tensors[layer.name] = tensors[skip[layer.name]]
            continue
        cfg = layer.get_config()
        if layer.name in fold_into:
            bn = fold_into[layer.name]
            kernel = layer.get_weights()[0]
            bias = layer.get_weights()[1] if layer.use_bias else np.zeros(kernel.shape[-1], np.float32)
            gamma = np.asarray(bn.gamma) if bn.gamma is not None else 1.0
            beta = np.asarray(bn.beta) if bn.beta is not None else 0.0
            scale = gamma / np.sqrt(np.asarray(bn.moving_variance) + bn.epsilon)
            w = (kernel * scale).astype(np.float32)
            b = ((bias - np.asarray(bn.moving_mean)) * scale + beta).astype(np.float32)
            cfg["use_bias"] = True
            kq = getattr(layer, "kernel_quantizer_internal", None)
            bq = getattr(layer, "bias_quantizer_internal", None)
            added = None
            if type(layer).__name__.startswith("Q") and bq is None:
                # The folded bias is a float; give it a fixed-point grid so that the model stays exact.
                bq = _bias_quantizer_for(b, kq)
                cfg["bias_quantizer"] = bq
                added = f"quantized_bits({bq.bits},{bq.integer},alpha=1)"
            new = layer.__class__.from_config(cfg)
            tensors[layer.name] = new(x)
            new_weights.append((new, [w, b]))
            record.folded.append({"batchnorm": bn.name, "into": layer.name, "bias_quantizer_added": added})
            continue
        new = layer.__class__.from_config(cfg)
        tensors[layer.name] = new(x)
        if layer.get_weights():
            new_weights.append((new, layer.get_weights()))
    out_name = graph[-1][0].name
    out_name = skip.get(out_name, out_name)
    folded = tf.keras.Model(inp, tensors[out_name], name=model.name)
    for new, ws in new_weights:
        new.set_weights(ws)
    if X_test is not None and y_test is not None and len(y_test):
        record.accuracy_before = _acc(model, X_test, y_test)
    if X_train is not None and len(X_train):
        tf.keras.utils.set_random_seed(seed)
        folded.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                       loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        folded.fit(X_train, y_train, epochs=epochs, batch_size=32, shuffle=True, verbose=0)
        record.fine_tuned, record.fine_tune_epochs, record.fine_tune_samples = True, int(epochs), int(len(X_train))
    else:
        record.why_not_fine_tuned = "no training split (X_train/y_train) in --data"
    if X_test is not None and y_test is not None and len(y_test):
        record.accuracy_after = _acc(folded, X_test, y_test)
    return folded, record


def _acc(model, X, y) -> float:
    logits = np.asarray(model.predict(X, batch_size=2048, verbose=0))
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(y)))
