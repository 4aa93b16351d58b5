"""Low-rank factorization (spec key `low_rank`): a trained Dense layer W (m x n) becomes two
Dense layers, m x r then r x n, from its truncated SVD, and the network is fine-tuned with QAT.

W = U S V^T is cut to the r largest singular values and split evenly, A = U_r sqrt(S_r) and
B = sqrt(S_r) V_r^T, so both factors have the same scale and fit quantizers of the same width.
The first factor is called `<name>_lr`, the second keeps the layer's name (and its bias), so
everything that names the layer (later methods, the report) still finds it. There is no
activation between the two: the second factor reads the first one's full accumulator, which
hls4ml's exact ('auto') result type carries unrounded, so the pair stays bit-exact in C-sim.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from hwgen.compress import CompressContext, Method
from hwgen.errors import HwgenError


def choose_rank(s: np.ndarray, rank: int | None, energy: float | None) -> int:
    """`rank`, or the smallest r whose squared singular values keep `energy` of the total."""
    if rank is not None:
        return int(min(rank, len(s)))
    e = np.asarray(s, dtype=np.float64) ** 2
    total = float(e.sum())
    if total == 0.0:
        return 1  # an all-zero layer: one (zero) component holds all of it
    kept = np.cumsum(e) / total
    # The first r with kept >= energy; the 1e-12 only absorbs the cumsum's own rounding (energy 1.0
    # must select the full rank, not fail on 0.9999999999999998).
    return int(np.searchsorted(kept, energy - 1e-12) + 1)


def factor_precision(values: np.ndarray, like):
    """A quantizer precision for a factor: the layer's weight width, integer bits enough for the
    factor's largest |value| (QKeras quantized_bits(bits, integer) spans about +-2**integer)."""
    from hwgen.spec import Precision

    bits = like.bits if like.type == "fixed" else 8  # binary/ternary layers: factors are not +-1
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    integer = max(0, math.ceil(math.log2(peak))) if peak > 0 else 0
    return Precision(bits, min(integer, bits - 1))


def _free_name(base: str, taken: set[str]) -> str:
    """`<base>_lr`, or `<base>_lr<k>` if taken; shortened to the spec's length limit."""
    from hwgen.spec import MAX_NAME

    for k in range(0, 1000):
        tail = "_lr" if k == 0 else f"_lr{k}"
        name = base[: MAX_NAME - len(tail)] + tail
        if name not in taken:
            return name
    raise HwgenError(f"low_rank: no free name for the first factor of layer {base!r}")  # pragma: no cover


def _check_names(layers) -> None:
    """The new layer list passes the spec's layer-name rules (hwgen.spec.parse_spec)."""
    from hwgen.spec import IDENTIFIER, MAX_NAME, RESERVED_NAMES, generated_name_owner

    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise HwgenError(f"low_rank: factor names collide: {names}")
    for n in names:
        if not IDENTIFIER.match(n) or len(n) > MAX_NAME or n.lower() in RESERVED_NAMES:
            raise HwgenError(f"low_rank: factor name {n!r} is not a valid layer name")
        owner = generated_name_owner(n, names)
        if owner:
            raise HwgenError(f"low_rank: layer {n!r} would collide with the node hls4ml generates for {owner!r}")


def keep_zeros_callback(model, keep: dict[str, np.ndarray]):
    """A callback that holds the pruned (zero) kernel weights of the layers not factorized at zero
    while fine-tuning, so the factorization does not undo the pruning of the rest of the network."""
    from hwgen.tfcompat import tf

    class KeepZeros(tf.keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            for name, mask in keep.items():
                kernel = model.get_layer(name).kernel
                kernel.assign(kernel * mask)

    return KeepZeros()


def _input_bits(spec) -> dict[str, int | None]:
    """Bits of each layer's input as hwgen.qmodel.layer_stats tracks them (None: an accumulator)."""
    bits: int | None = spec.input_precision.bits
    out = {}
    for layer in spec.layers:
        out[layer.name] = bits
        if layer.type in ("dense", "conv2d"):
            bits = None
        elif layer.type == "relu":
            bits = layer.bits
    return out


def _bops(stats, b_a: int) -> float:
    """layer_stats's BOPs of a dense layer at input width b_a (Hawks et al. 2021)."""
    m, n = stats.kernel_shape[-1], int(np.prod(stats.kernel_shape[:-1]))
    b_w = stats.weight_bits or 32
    return float(m * n * ((1 - stats.sparsity) * b_a * b_w + b_a + b_w + math.log2(max(n, 2))))


class LowRank(Method):
    name = "low_rank"

    def active(self, spec) -> bool:
        return spec.compression.low_rank is not None

    def finalize(self, spec, model, ds, cctx: CompressContext):
        from hwgen.qmodel import build_qkeras_model, layer_stats, quantized_weights, reference_logits, top1_accuracy
        from hwgen.spec import LayerSpec
        from hwgen.train import compile_for_training, seed_everything

        lr = spec.compression.low_rank
        bits_in = spec.input_precision.bits
        before_stats = {s.name: s for s in layer_stats(model, bits_in)}
        acc_before = top1_accuracy(reference_logits(model, ds.X_test), ds.y_test)
        taken = {layer.name for layer in spec.layers}
        new_layers: list = []
        factors: dict[str, np.ndarray] = {}  # new layer name -> [kernel, bias]
        entries = []
        for layer in spec.layers:
            if layer.name not in lr.layers:
                new_layers.append(layer)
                continue
            kernel, bias = quantized_weights(model.get_layer(layer.name))  # what the network computes
            m, n = kernel.shape
            # float64 SVD: numpy's LAPACK routine is deterministic for a given input.
            U, s, Vt = np.linalg.svd(kernel.astype(np.float64), full_matrices=False)
            r = choose_rank(s, lr.rank, lr.energy)
            energy_kept = float(np.sum(s[:r] ** 2) / np.sum(s ** 2)) if np.sum(s ** 2) > 0 else 1.0
            entry = {"layer": layer.name, "shape_before": [int(m), int(n)], "rank": r,
                     "params_before": int(m * n + n), "bops_before": float(before_stats[layer.name].bops),
                     "energy_kept": energy_kept,
                     # all of them, so the choice of r can be checked against `energy`
                     "singular_values": [float(v) for v in s]}
            if lr.rank is None and r * (m + n) + r >= m * n:
                # energy asked for a rank at which two factors hold at least as many weights as W
                # (an explicit rank is what the user chose, validated below min(m, n) by the spec).
                entry.update(factored=False, why=f"rank {r} saves nothing for a {m} x {n} layer; kept as it is",
                             shapes_after=[[int(m), int(n)]], params_after=int(m * n + n),
                             bops_after=entry["bops_before"])
                new_layers.append(layer)
                entries.append(entry)
                continue
            root = np.sqrt(s[:r])
            A = (U[:, :r] * root[None, :]).astype(np.float32)
            B = (root[:, None] * Vt[:r, :]).astype(np.float32)
            first = _free_name(layer.name, taken)
            taken.add(first)
            pa, pb = factor_precision(A, layer.weight), factor_precision(B, layer.weight)
            new_layers.append(LayerSpec(type="dense", name=first, units=r, weight=pa, bias=layer.bias))
            new_layers.append(dataclasses.replace(layer, weight=pb))
            factors[first] = [A, np.zeros(r, np.float32)]
            factors[layer.name] = [B, np.asarray(model.get_layer(layer.name).get_weights()[1], np.float32)]
            entry.update(factored=True, factor_names=[first, layer.name], shapes_after=[[int(m), r], [r, int(n)]],
                         params_after=int(m * r + r + r * n + n),
                         factor_precisions=[{"bits": pa.bits, "integer": pa.integer},
                                            {"bits": pb.bits, "integer": pb.integer}])
            entries.append(entry)
        _check_names(new_layers)
        new_spec = dataclasses.replace(spec, layers=tuple(new_layers))
        seed_everything(spec.training.seed)
        new_model = build_qkeras_model(new_spec)
        keep = {}
        for layer in new_model.layers:
            if layer.name in factors:
                layer.set_weights(factors[layer.name])
            elif layer.get_weights():
                weights = model.get_layer(layer.name).get_weights()
                layer.set_weights(weights)
                if type(layer).__name__ in ("QDense", "QConv2D") and np.any(weights[0] == 0):
                    keep[layer.name] = (weights[0] != 0).astype(np.float32)
        acc_factored = top1_accuracy(reference_logits(new_model, ds.X_test), ds.y_test)
        cctx.update(f"low_rank: fine-tuning the factorized model for {lr.fine_tune_epochs} epoch(s)")
        compile_for_training(new_model, new_spec)
        callbacks = [keep_zeros_callback(new_model, keep)] if keep else []
        new_model.fit(ds.X_train, ds.y_train, epochs=lr.fine_tune_epochs, batch_size=spec.training.batch_size,
                      shuffle=True, verbose=0, callbacks=callbacks)
        acc_after = top1_accuracy(reference_logits(new_model, ds.X_test), ds.y_test)
        after_stats = {s.name: s for s in layer_stats(new_model, bits_in)}
        in_bits = _input_bits(new_spec)
        for entry in entries:
            entry["nonzero_before"] = int(before_stats[entry["layer"]].nonzero)
            if entry["factored"]:
                first, second = (after_stats[n] for n in entry["factor_names"])
                entry["bops_after"] = float(first.bops + second.bops)
                entry["nonzero_after"] = int(first.nonzero + second.nonzero)
                # layer_stats takes the second factor's input (an accumulator) as 32 bits; the exact
                # accumulator hls4ml gives it is input + weight bits + log2(fan-in) + 1 (the bias).
                m = entry["shape_before"][0]
                acc = (in_bits[first.name] or 32) + first.weight_bits + math.ceil(math.log2(max(m, 2))) + 1
                entry["intermediate_bits"] = int(acc)
                entry["bops_after_at_intermediate_bits"] = float(first.bops + _bops(second, acc))
            else:
                entry["nonzero_after"] = int(after_stats[entry["layer"]].nonzero)
        cctx.records[self.name] = {
            "summary": {
                "rank": lr.rank, "energy": lr.energy, "fine_tune_epochs": lr.fine_tune_epochs,
                "layers_factored": [e["layer"] for e in entries if e["factored"]],
                "params_before": int(sum(s.params for s in before_stats.values())),
                "params_after": int(sum(s.params for s in after_stats.values())),
                "bops_before": float(sum(s.bops for s in before_stats.values())),
                "bops_after": float(sum(s.bops for s in after_stats.values())),
                "bops_note": ("hwgen.qmodel.layer_stats counts a layer's input as 32 bits when it is an "
                              "accumulator with no quantized activation before it, as the second factor's is; "
                              "each layer's bops_after_at_intermediate_bits uses the exact accumulator width"),
                "nonzero_before": int(sum(s.nonzero for s in before_stats.values())),
                "nonzero_after": int(sum(s.nonzero for s in after_stats.values())),
                "accuracy_before": acc_before, "accuracy_factored": acc_factored, "accuracy_after": acc_after,
            },
            "layers": entries,
        }
        return new_spec, new_model
