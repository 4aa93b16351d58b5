"""Structured pruning: whole groups of weights zeroed during training, and for neuron/filter
granularity removed from the exported model, so the hardware is smaller rather than sparse.

Groups (spec `pruning.granularity`):

    vector  Conv2D: one kernel row (kw weights) of one (input channel, filter) pair, i.e. the
            groups kernel[i, :, c, f] of a [kh, kw, cin, cout] kernel
    kernel  Conv2D: a whole kh x kw kernel of one (input channel, filter) pair, kernel[:, :, c, f]
    neuron  Dense: a unit, its kernel column kernel[:, u] and its bias b[u]; the logits layer
            keeps its units (they are the classes), only its inputs shrink with the layer before
    filter  Conv2D: an output filter, kernel[:, :, :, f] and its bias b[f]

Each layer's groups are ranked by the L1 or L2 norm (`pruning.norm`) of their latent float
weights (what tfmot ranks for single weights) and the lowest fraction is zeroed. The fraction
follows tfmot's PolynomialDecay, the schedule `weight` granularity uses in hwgen.train._fit
(same begin/end steps, frequency, cubic decay, final sparsity = target_sparsity), so the two
granularities are compared at the same schedule. A Keras callback re-applies the masks after
every training batch, so a pruned group is exactly zero in the trained model.

After training (`finalize`), neuron/filter groups are removed: a smaller spec and its QKeras
model are built, the surviving weights copied, and the next weighted layer's input weights
sliced to match, through relu, maxpool2d and flatten. The removed model is checked to compute
the very same float32 logits as the masked one (a pruned unit outputs exactly 0, and an exact
0 contributes nothing to fixed-point sums that float32 holds exactly), and a difference is an
error, never a silent change of the reference the hardware is compared against.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hwgen.compress import CompressContext, Method
from hwgen.errors import HwgenError
from hwgen.tfcompat import tf

CONV_GRANULARITIES = ("vector", "kernel", "filter")
REMOVING = ("neuron", "filter")  # granularities whose pruned groups leave the exported model
POWER = 3  # tfmot PolynomialDecay's default exponent, the one hwgen.train._fit uses


# ---------------------------------------------------------------------------------------------
# ranking (pure numpy: unit-testable without a model)


def group_norms(kernel: np.ndarray, bias: np.ndarray | None, granularity: str, norm: str) -> np.ndarray:
    """The norm of every group of one layer, shaped like the group index:
    neuron [units], filter [cout], kernel [cin, cout], vector [kh, cin, cout].

    neuron/filter groups include their bias: the bias is zeroed with the group (a unit with a
    non-zero bias would still output a constant and could not be removed), so it counts too."""
    if norm not in ("l1", "l2"):
        raise HwgenError(f"pruning.norm must be l1 or l2, got {norm!r}")
    kernel = np.asarray(kernel, dtype=np.float64)
    # Move each group's weights onto the reduced axes: norms over `axes` of the kernel.
    if granularity == "neuron":
        if kernel.ndim != 2:
            raise HwgenError(f"neuron pruning needs a Dense kernel [in, units], got shape {list(kernel.shape)}")
        axes: tuple[int, ...] = (0,)
    elif granularity == "filter":
        axes = (0, 1, 2)
    elif granularity == "kernel":
        axes = (0, 1)
    elif granularity == "vector":
        axes = (1,)
    else:
        raise HwgenError(f"no structured group for granularity {granularity!r}")
    if granularity in CONV_GRANULARITIES and kernel.ndim != 4:
        raise HwgenError(f"{granularity} pruning needs a Conv2D kernel [kh, kw, cin, cout], got shape {list(kernel.shape)}")
    with_bias = granularity in REMOVING and bias is not None
    b = np.asarray(bias, dtype=np.float64) if with_bias else None
    if norm == "l1":
        out = np.abs(kernel).sum(axis=axes)
        if with_bias:
            out = out + np.abs(b)
    else:
        out = np.square(kernel).sum(axis=axes)
        if with_bias:
            out = out + np.square(b)
        out = np.sqrt(out)
    return out


def n_pruned(n_groups: int, sparsity: float) -> int:
    """How many of n groups a sparsity zeroes: tfmot keeps round(n * (1 - sparsity)) weights;
    here at least one group stays, so no layer is left without an output."""
    keep = int(round(n_groups * (1.0 - sparsity)))
    return n_groups - max(keep, 1)


def keep_mask(norms: np.ndarray, sparsity: float) -> np.ndarray:
    """True for the groups that stay: the n_pruned lowest norms go. Ties go in index order
    (a stable sort), so the choice is deterministic."""
    flat = norms.reshape(-1)
    k = n_pruned(flat.size, sparsity)
    keep = np.ones(flat.size, dtype=bool)
    if k > 0:
        keep[np.argsort(flat, kind="stable")[:k]] = False
    return keep.reshape(norms.shape)


def expand_mask(keep: np.ndarray, kernel_shape: tuple[int, ...], granularity: str) -> np.ndarray:
    """The group mask broadcast onto the kernel (float32 0/1, the kernel's shape)."""
    if granularity == "neuron":  # keep[u] -> kernel[:, u]
        m = keep[None, :]
    elif granularity == "filter":  # keep[f] -> kernel[:, :, :, f]
        m = keep[None, None, None, :]
    elif granularity == "kernel":  # keep[c, f] -> kernel[:, :, c, f]
        m = keep[None, None, :, :]
    else:  # vector: keep[i, c, f] -> kernel[i, :, c, f]
        m = keep[:, None, :, :]
    return np.broadcast_to(m, kernel_shape).astype(np.float32)


def polynomial_sparsity(step: int, begin_step: int, end_step: int, final: float, power: int = POWER) -> float:
    """tfmot PolynomialDecay with initial sparsity 0: final * (1 - (1 - p)^power), p clipped to [0, 1]."""
    p = min(1.0, max(0.0, (step - begin_step) / (end_step - begin_step)))
    return final + (0.0 - final) * (1.0 - p) ** power


def should_prune(step: int, begin_step: int, end_step: int, frequency: int) -> bool:
    """tfmot's _should_prune_in_step: inside [begin, end] and on a multiple of frequency from begin."""
    return begin_step <= step <= end_step and (step - begin_step) % frequency == 0


def schedule_steps(spec, n_train: int) -> tuple[int, int]:
    """(begin_step, end_step) exactly as hwgen.train._fit derives them for tfmot's schedule."""
    pr = spec.pruning
    steps_per_epoch = int(np.ceil(n_train / spec.training.batch_size))
    end_epoch = pr.end_epoch or max(pr.begin_epoch + 1, int(round(0.8 * spec.training.epochs)))
    begin = pr.begin_epoch * steps_per_epoch
    return begin, max(end_epoch * steps_per_epoch, begin + 1)


# ---------------------------------------------------------------------------------------------
# which layers


def pruned_layer_names(spec) -> list[str]:
    """The layers whose groups are pruned: Conv2D for vector/kernel/filter, Dense but the
    logits layer for neuron."""
    g = spec.pruning.granularity
    if g == "neuron":
        dense = [layer.name for layer in spec.layers if layer.type == "dense"]
        return dense[:-1]  # the last Dense gives the logits: its units are the classes
    return [layer.name for layer in spec.layers if layer.type == "conv2d"]


class _MaskCallback(tf.keras.callbacks.Callback):
    """Recompute the group masks on the schedule's steps and apply them after every batch."""

    def __init__(self, layers: dict, granularity: str, norm: str, target: float, begin: int, end: int, frequency: int):
        super().__init__()
        self.layers = layers  # name -> Keras layer (held directly: the model fit sees may wrap them)
        self.granularity, self.norm, self.target = granularity, norm, target
        self.begin, self.end, self.frequency = begin, end, frequency
        self.step = 0  # the global batch index, tfmot's pruning step
        self.keep: dict[str, np.ndarray] = {}  # name -> group keep mask, once pruning began
        self._masks: dict[str, tuple] = {}  # name -> (kernel mask, bias mask or None) as tf constants

    def _update(self, sparsity: float) -> None:
        for name, layer in self.layers.items():
            bias = layer.bias.numpy() if getattr(layer, "bias", None) is not None else None
            keep = keep_mask(group_norms(layer.kernel.numpy(), bias, self.granularity, self.norm), sparsity)
            self.keep[name] = keep
            kmask = tf.constant(expand_mask(keep, tuple(layer.kernel.shape), self.granularity))
            bmask = tf.constant(keep.astype(np.float32)) if self.granularity in REMOVING and bias is not None else None
            self._masks[name] = (kmask, bmask)

    def apply(self) -> None:
        for name, (kmask, bmask) in self._masks.items():
            layer = self.layers[name]
            layer.kernel.assign(layer.kernel * kmask)
            if bmask is not None:
                layer.bias.assign(layer.bias * bmask)

    def on_train_batch_end(self, batch, logs=None):
        # After the optimizer step: the masks chosen at this step zero the groups, and every
        # later batch re-zeroes them (Adam's momentum would otherwise move them off zero).
        if should_prune(self.step, self.begin, self.end, self.frequency):
            self._update(polynomial_sparsity(self.step, self.begin, self.end, self.target))
        self.apply()
        self.step += 1


# ---------------------------------------------------------------------------------------------
# removal of neuron/filter groups


def _weights(layer) -> tuple[np.ndarray, np.ndarray | None]:
    w = layer.get_weights()
    return w[0], (w[1] if len(w) > 1 else None)


def remove_pruned(spec, model, keep: dict[str, np.ndarray]):
    """The smaller spec and model without the groups `keep` marks False (neuron/filter), the
    next weighted layer's inputs sliced to match. Returns (new_spec, new_model, removed), removed
    = {layer: units removed}."""
    from hwgen.qmodel import build_qkeras_model

    new_layers = []
    new_weights: dict[str, list[np.ndarray]] = {}
    removed: dict[str, int] = {}
    ch: np.ndarray | None = None  # surviving indices along the current tensor's last axis (None: all)
    for ls in spec.layers:
        layer = model.get_layer(ls.name)
        if ls.type in ("dense", "conv2d"):
            kernel, bias = _weights(layer)
            if ch is not None:  # inputs that came from removed units/filters go
                kernel = kernel[ch, :] if ls.type == "dense" else kernel[:, :, ch, :]
            if ls.name in keep:
                out = np.flatnonzero(keep[ls.name])
                kernel = kernel[..., out]
                bias = bias[out] if bias is not None else None
                removed[ls.name] = int(keep[ls.name].size - out.size)
                ls = dataclasses.replace(ls, **({"units": int(out.size)} if ls.type == "dense" else {"filters": int(out.size)}))
                ch = out
            else:
                ch = None
            new_weights[ls.name] = [kernel] + ([bias] if bias is not None else [])
        elif ls.type == "flatten" and ch is not None:
            # Keras flattens (H, W, C) row-major, channels fastest: position (h, w, c) is
            # (h*W + w)*C + c. The smaller tensor's (h, w, j) holds old channel ch[j], so its
            # flattened inputs are the old positions (h*W + w)*C + ch[j] in that order.
            h, w, c = layer.input_shape[1:]
            ch = (np.arange(h * w)[:, None] * c + ch[None, :]).reshape(-1)
        # relu (elementwise) and maxpool2d (per channel) keep the channel indices as they are;
        # a removed unit's output is exactly 0 before them and after them.
        new_layers.append(ls)
    new_spec = dataclasses.replace(spec, layers=tuple(new_layers))
    new_model = build_qkeras_model(new_spec)
    for name, ws in new_weights.items():
        new_model.get_layer(name).set_weights(ws)
    return new_spec, new_model, removed


class StructuredPruning(Method):
    name = "structured"

    def __init__(self):
        self._cb: _MaskCallback | None = None

    def active(self, spec) -> bool:
        return spec.pruning.granularity != "weight" and spec.pruning.target_sparsity > 0

    def prepare(self, spec, ds, cctx: CompressContext):
        by_name = {layer.name: layer for layer in spec.layers}
        for name in pruned_layer_names(spec):
            w = by_name[name].weight
            # binary(alpha=1) maps 0 to +-1: a zeroed group would not be zero in hardware.
            if w is not None and w.type == "binary":
                raise HwgenError(f"pruning.granularity {spec.pruning.granularity!r}: layer {name!r} has binary weights, "
                                 "which cannot hold a pruned zero; use ternary or fixed-point weights, or no pruning")
        return spec

    def callbacks(self, spec, model, ds, cctx: CompressContext) -> list:
        pr = spec.pruning
        begin, end = schedule_steps(spec, len(ds.X_train))
        layers = {name: model.get_layer(name) for name in pruned_layer_names(spec)}
        self._cb = _MaskCallback(layers, pr.granularity, pr.norm, pr.target_sparsity, begin, end, pr.frequency)
        return [self._cb]

    def finalize(self, spec, model, ds, cctx: CompressContext):
        pr = spec.pruning
        keep = dict(self._cb.keep) if self._cb is not None else {}
        names = pruned_layer_names(spec)
        before = {layer.name: list(layer.get_weights()[0].shape) for layer in model.layers if layer.get_weights()}
        summary = {"granularity": pr.granularity, "norm": pr.norm, "target_sparsity": pr.target_sparsity}
        if pr.granularity in REMOVING and keep:
            new_spec, new_model, removed = remove_pruned(spec, model, keep)
            # The removed model is the reference the hardware is compared against: it must
            # compute what the trained (masked) model computed, bit for bit.
            X = ds.X_test if len(ds.X_test) else ds.X_train[:256]
            a = model.predict(X, batch_size=2048, verbose=0)
            b = new_model.predict(X, batch_size=2048, verbose=0)
            if a.shape != b.shape or not np.array_equal(a, b):
                raise HwgenError("structured pruning: the model with the pruned units removed does not compute the same "
                                 "logits as the masked model (internal error)")
            cctx.update(f"structured pruning removed {sum(removed.values())} {pr.granularity}(s)")
            summary["removed_units"] = int(sum(removed.values()))
            summary["removed_by_layer"] = removed
        else:
            new_spec, new_model = spec, model
            if pr.granularity in REMOVING:
                summary["removed_units"] = 0
        after = {layer.name: list(layer.get_weights()[0].shape) for layer in new_model.layers if layer.get_weights()}
        rows = []
        for name in before:
            if name not in names and before[name] == after[name]:
                continue  # neither pruned nor resized: nothing to show
            k = keep.get(name)
            rows.append({
                "layer": name, "shape_before": before[name], "shape_after": after[name],
                "groups": int(k.size) if k is not None else self._n_groups(before[name], pr.granularity, name in names),
                "groups_pruned": int(k.size - np.count_nonzero(k)) if k is not None else 0,
            })
        cctx.records[self.name] = {"summary": summary, "layers": rows}
        return new_spec, new_model

    @staticmethod
    def _n_groups(shape: list[int], granularity: str, pruned: bool) -> int:
        """Groups of a layer pruning never reached (training shorter than begin_epoch) or that is
        only resized (the logits layer: its units)."""
        if not pruned or granularity in REMOVING:
            return int(shape[-1])
        return int(np.prod(shape[2:])) * (shape[0] if granularity == "vector" else 1)
