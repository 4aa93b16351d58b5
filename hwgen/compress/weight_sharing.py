"""Weight sharing: at most `clusters` distinct weight values per Dense/Conv2D kernel.

Each layer's quantized kernel (what the hardware multiplies with) is clustered with a 1-D
k-means whose initial centroids are quantiles of the values (deterministic: no random init).
Every centroid is then put onto the layer's own quantizer grid by applying the layer's kernel
quantizer to it (quantized_bits rounds and saturates exactly as it will at inference), so the
shared values are values the quantizer maps to themselves and the quantized kernel holds only
them. Weights that are zero (pruned, or quantized to zero) stay zero and 0 is one of the shared
values: a shared non-zero value in their place would undo the pruning the hardware exploits.

Fine-tuning keeps the assignment of every weight to its cluster fixed. After each batch the
optimizer's step on the weights of one cluster is averaged into that cluster's float centroid
(a shadow value that can move by less than one grid step per batch), the centroid is snapped
onto the grid again and every weight of the cluster is set back to it. Snapping only a
cluster's mean would never leave the grid point, since one batch moves it by far less than half
a step; the float shadow lets small consistent steps add up. The zero cluster never moves.
"""

from __future__ import annotations

import numpy as np

from hwgen.compress import CompressContext, Method
from hwgen.errors import HwgenError

SHARED_CLASSES = ("QDense", "QConv2D")
KMEANS_ITERATIONS = 100


def kmeans_1d(values: np.ndarray, k: int) -> np.ndarray:
    """Lloyd's 1-D k-means from quantile centroids; returns the sorted centroids (at most k:
    clusters that end up empty, or centroids that coincide, are dropped)."""
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    distinct = np.unique(v)
    if distinct.size <= k:
        return distinct  # every value is its own cluster already
    centroids = np.unique(np.quantile(v, (np.arange(k) + 0.5) / k))
    for _ in range(KMEANS_ITERATIONS):
        # sorted centroids: nearest centroid by the midpoints between neighbours (ties go down)
        assign = np.searchsorted((centroids[1:] + centroids[:-1]) / 2.0, v, side="left")
        new = np.array([v[assign == c].mean() for c in range(centroids.size) if np.any(assign == c)])
        if new.size == centroids.size and np.array_equal(new, centroids):
            break
        centroids = np.unique(new)
    return centroids


def _nearest(values: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """Index into sorted `shared` of each value's nearest shared value (ties to the lower one)."""
    if shared.size == 1:
        return np.zeros(values.shape, dtype=np.int64)
    return np.searchsorted((shared[1:] + shared[:-1]) / 2.0, values, side="left")


class _Layer:
    """One shared layer: the fixed assignment, the float centroids and their grid values."""

    def __init__(self, layer, clusters: int):
        self.layer = layer
        self.quantizer = layer.get_quantizers()[0]
        kernel = layer.get_weights()[0]
        qk = self.snap(kernel)
        self.shape = kernel.shape
        self.distinct_before = int(np.unique(qk).size)
        zero = (qk == 0).ravel()
        self.has_zero = bool(zero.any())
        nonzero = qk.ravel()[~zero]
        budget = clusters - 1 if self.has_zero else clusters
        cents = self.snap(kmeans_1d(nonzero, budget)) if nonzero.size and budget > 0 else np.zeros(0, np.float32)
        cents = cents[cents != 0] if self.has_zero else cents  # a centroid snapped to 0 joins the zero cluster
        shared = np.unique(np.concatenate([cents, [0.0]]) if self.has_zero else cents).astype(np.float32)
        if shared.size == 0:  # an all-zero kernel
            shared = np.zeros(1, np.float32)
        assign = _nearest(qk.ravel().astype(np.float64), shared.astype(np.float64))
        if self.has_zero:
            zero_idx = int(np.flatnonzero(shared == 0)[0])
            assign[zero] = zero_idx
            # a non-zero weight whose nearest shared value is 0 goes to its nearest non-zero value:
            # only the zeros the model already had stay (and are) zero
            nz_shared = np.flatnonzero(shared != 0)
            moved = (~zero) & (assign == zero_idx)
            if moved.any() and nz_shared.size:
                sub = shared[nz_shared].astype(np.float64)
                assign[moved] = nz_shared[_nearest(qk.ravel()[moved].astype(np.float64), sub)]
            self.frozen = zero_idx
        else:
            self.frozen = None
        self.assign = assign
        self.shared = shared
        self.shadow = shared.astype(np.float64)

    def snap(self, values) -> np.ndarray:
        """Values put onto the layer's quantizer grid by the quantizer itself (round + saturate)."""
        from hwgen.tfcompat import tf

        arr = np.asarray(values, dtype=np.float32)
        return np.array(self.quantizer(tf.constant(arr)), dtype=np.float32).reshape(arr.shape)  # a writable copy

    def project(self) -> None:
        """Set the kernel to its shared values (assignment fixed), the bias untouched."""
        weights = self.layer.get_weights()
        weights[0] = self.shared[self.assign].reshape(self.shape).astype(weights[0].dtype)
        self.layer.set_weights(weights)

    def step(self) -> None:
        """Fold the optimizer's last step into the float centroids, snap them, project."""
        flat = self.layer.get_weights()[0].ravel().astype(np.float64)
        counts = np.bincount(self.assign, minlength=self.shared.size)
        sums = np.bincount(self.assign, weights=flat - self.shared[self.assign], minlength=self.shared.size)
        moved = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        if self.frozen is not None:
            moved[self.frozen] = 0.0
        self.shadow = self.shadow + moved
        snapped = self.snap(self.shadow.astype(np.float32))
        if self.frozen is not None:
            snapped[self.frozen] = 0.0
        self.shared = snapped
        self.project()


def _projector(shared_layers: list[_Layer]):
    from hwgen.tfcompat import tf

    class Project(tf.keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            for s in shared_layers:
                s.step()

    return Project()


class WeightSharing(Method):
    name = "weight_sharing"

    def active(self, spec) -> bool:
        return spec.compression.weight_sharing is not None

    def finalize(self, spec, model, ds, cctx: CompressContext):
        from hwgen.qmodel import quantized_weights
        from hwgen.train import _EpochLine, compile_for_training, seed_everything

        ws = spec.compression.weight_sharing
        wanted = set(ws.layers)
        targets = [l for l in model.layers if type(l).__name__ in SHARED_CLASSES and (not wanted or l.name in wanted)]
        missing = wanted - {l.name for l in targets}
        if missing:  # the parser checked the names against the spec; the built model must have them too
            raise HwgenError(f"weight_sharing: layer(s) {sorted(missing)} are not Dense/Conv2D layers of the model")
        cctx.update(f"weight sharing: {ws.clusters} values per layer")
        shared = [_Layer(l, ws.clusters) for l in targets]
        for s in shared:
            s.project()
        if ws.fine_tune_epochs > 0:
            seed_everything(spec.training.seed)
            compile_for_training(model, spec)
            model.fit(ds.X_train, ds.y_train, epochs=ws.fine_tune_epochs, batch_size=spec.training.batch_size,
                      shuffle=True, verbose=0,
                      callbacks=[_EpochLine(cctx.progress, ws.fine_tune_epochs), _projector(shared)])
            for s in shared:  # the last batch already projected; again, so nothing depends on that
                s.project()
        rows = []
        for s in shared:
            qk = quantized_weights(s.layer)[0]
            values = np.unique(qk)
            # what the hardware holds, checked here: a violation is a bug in this method, never a result
            if values.size > ws.clusters:
                raise HwgenError(f"weight_sharing: layer {s.layer.name} holds {values.size} distinct quantized "
                                 f"weights after sharing, more than clusters={ws.clusters}")
            if not np.array_equal(qk.ravel(), s.shared[s.assign]):
                raise HwgenError(f"weight_sharing: layer {s.layer.name}'s quantized kernel is not its shared values")
            rows.append({"layer": s.layer.name, "distinct_before": s.distinct_before,
                         "distinct_after": int(values.size), "values": [float(v) for v in values]})
        cctx.records[self.name] = {"summary": {"clusters": ws.clusters, "fine_tune_epochs": ws.fine_tune_epochs},
                                   "layers": rows}
        return spec, model
