"""Stage 1: quantization-aware training with QKeras plus magnitude pruning (tfmot).

Reads the spec and dataset; writes train/model.h5, train/data.npz and train/train.json.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwgen.data import Dataset
from hwgen.errors import HwgenError
from hwgen.modelio import save_model
from hwgen.progress import Progress
from hwgen.qmodel import build_qkeras_model, float_twin, layer_stats, reference_logits, top1_accuracy
from hwgen.results import write_json
from hwgen.rundir import RunPaths
from hwgen.spec import ModelSpec, Precision, ap_fixed
from hwgen.tfcompat import tf


@dataclass(frozen=True)
class TrainResult:
    model_path: str
    data_path: str
    trained: bool  # False for --untrained (seeded random weights + one-shot magnitude pruning)
    dataset_source: str
    n_train: int
    n_test: int
    epochs: int
    seed: int
    accuracy_float: float | None  # same weights, quantizers removed
    float_unavailable: str | None  # why there is no float figure (the model has no float twin)
    final_activation: str | None  # a final softmax/sigmoid left out: the logits before it are compared
    transforms: dict  # explicit transforms applied to a user's model before it became the reference
    accuracy_qkeras: float | None
    params: int
    nonzero: int
    sparsity: float  # over all quantized kernel weights
    target_sparsity: float
    bops: float
    layers: list[dict]
    input_precision: dict
    wall_s: float
    # What each compression method did (hwgen.compress): {method: {"summary": {...}, "layers": [...]}}
    compression: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def seed_everything(seed: int) -> None:
    tf.keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except (AttributeError, RuntimeError):  # pragma: no cover
        pass


class _EpochLine(tf.keras.callbacks.Callback):
    def __init__(self, progress: Progress | None, epochs: int):
        super().__init__()
        self.progress, self.epochs = progress, epochs

    def on_epoch_end(self, epoch, logs=None):
        if self.progress:
            logs = logs or {}
            self.progress.update(f"epoch {epoch + 1}/{self.epochs} loss {logs.get('loss', 0):.3f} acc {logs.get('accuracy', 0):.3f}")


def _prunable(layer) -> bool:
    return type(layer).__name__ in ("QDense", "QConv2D")


def compile_for_training(model, spec: ModelSpec, loss=None) -> None:
    opt = {"adam": tf.keras.optimizers.Adam, "sgd": tf.keras.optimizers.SGD}[spec.training.optimizer]
    model.compile(
        optimizer=opt(learning_rate=spec.training.learning_rate),
        loss=loss or tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def fit_plain(spec: ModelSpec, ds: Dataset, progress: Progress | None, epochs: int | None = None):
    """The spec built and trained with no compression method (a method's own reference, e.g.
    distillation's student without a teacher, or a candidate width of auto_quant)."""
    from hwgen.spec import CompressionSpec

    plain = dataclasses.replace(spec, compression=CompressionSpec(),
                                pruning=dataclasses.replace(spec.pruning, granularity="weight"))
    if epochs is not None:
        plain = dataclasses.replace(plain, training=dataclasses.replace(plain.training, epochs=epochs))
    seed_everything(plain.training.seed)
    model, _ = _fit(plain, ds, progress)
    return model


def _fit(spec: ModelSpec, ds: Dataset, progress: Progress | None):
    """Train the spec; returns (model, compression records). Compression methods (hwgen.compress)
    hook in before the build, into the training, and after it, in their documented order."""
    import tensorflow_model_optimization as tfmot

    from hwgen.compress import CompressContext, active_methods

    methods = active_methods(spec)
    cctx = CompressContext(progress=progress)
    for method in methods:
        spec = method.prepare(spec, ds, cctx)
    model = build_qkeras_model(spec)
    steps_per_epoch = int(np.ceil(len(ds.X_train) / spec.training.batch_size))
    pr = spec.pruning
    # Structured granularities are the structured-pruning method's masks; tfmot prunes single weights.
    magnitude = pr.target_sparsity > 0 and pr.granularity == "weight"
    if magnitude:
        end_epoch = pr.end_epoch or max(pr.begin_epoch + 1, int(round(0.8 * spec.training.epochs)))
        schedule = tfmot.sparsity.keras.PolynomialDecay(
            initial_sparsity=0.0,
            final_sparsity=pr.target_sparsity,
            begin_step=pr.begin_epoch * steps_per_epoch,
            end_step=max(end_epoch * steps_per_epoch, pr.begin_epoch * steps_per_epoch + 1),
            frequency=pr.frequency,
        )

        def wrap(layer):
            if _prunable(layer):
                return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)
            return layer

        model = tf.keras.models.clone_model(model, clone_function=wrap)
    callbacks = [_EpochLine(progress, spec.training.epochs)]
    if magnitude:
        callbacks.append(tfmot.sparsity.keras.UpdatePruningStep())
    for method in methods:
        callbacks += method.callbacks(spec, model, ds, cctx)
    fitted = None
    for method in methods:
        fitted = method.fit(spec, model, ds, callbacks, cctx)
        if fitted is not None:
            model = fitted
            break
    if fitted is None:
        compile_for_training(model, spec)
        model.fit(
            ds.X_train, ds.y_train, epochs=spec.training.epochs, batch_size=spec.training.batch_size,
            shuffle=True, verbose=0, callbacks=callbacks,
        )
    if magnitude:
        model = tfmot.sparsity.keras.strip_pruning(model)
    # Rebuild a clean functional model (no pruning leftovers) holding the trained weights.
    clean = build_qkeras_model(spec)
    clean.set_weights(model.get_weights())
    for method in methods:
        spec, clean = method.finalize(spec, clean, ds, cctx)
    return clean, {m.name: m.record(cctx) for m in methods}


def _one_shot_prune(model, target: float):
    """Zero the smallest-magnitude kernel weights of each Dense/Conv layer (untrained builds)."""
    for layer in model.layers:
        if _prunable(layer) and target > 0:
            weights = layer.get_weights()
            kernel = weights[0]
            k = int(round(target * kernel.size))
            if k:
                thresh_idx = np.argsort(np.abs(kernel), axis=None, kind="stable")[:k]
                flat = kernel.reshape(-1).copy()
                flat[thresh_idx] = 0.0
                weights[0] = flat.reshape(kernel.shape)
                layer.set_weights(weights)
    return model


def run_train(
    spec: ModelSpec, ds: Dataset, paths: RunPaths, *, trained: bool = True, progress: Progress | None = None
) -> TrainResult:
    start = time.monotonic()
    seed_everything(spec.training.seed)
    compression: dict = {}
    if trained:
        model, compression = _fit(spec, ds, progress)
    else:
        from hwgen.compress import requested

        if requested(spec):
            raise HwgenError(f"--untrained builds take no compression method (the spec asks for "
                             f"{', '.join(requested(spec))}); train the model, or leave them out")
        model = _one_shot_prune(build_qkeras_model(spec), spec.pruning.target_sparsity)
    return finish_model(spec, model, ds, paths, trained=trained, start=start, compression=compression)


def save_train_artifacts(
    model_path: Path, data_path: Path, model, X_test, y_test, logits_qkeras, input_precision: Precision, **extra
) -> None:
    """Write the train stage's artifacts that later stages read: the model and `data.npz` (test split,
    QKeras reference logits, input precision in QKeras convention and as an HLS type)."""
    save_model(model, model_path)
    data_path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        data_path,
        X_test=X_test,
        y_test=y_test,
        logits_qkeras=logits_qkeras,
        input_bits=np.int64(input_precision.bits),
        input_integer=np.int64(input_precision.integer),
        input_hls_type=np.array(ap_fixed(input_precision)),
        **extra,
    )


def finish_model(
    spec: ModelSpec, model, ds: Dataset, paths: RunPaths, *, trained: bool, start: float, transforms: dict | None = None,
    compression: dict | None = None,
) -> TrainResult:
    """Save the model and test data, and measure what the report needs (shared with --model-file)."""
    from hwgen.hwform import logits_model

    # Everything after this stage compares logits: a final softmax/sigmoid is left out here.
    model, final_activation = logits_model(model)
    logits_ref = reference_logits(model, ds.X_test)
    if not np.all(np.isfinite(logits_ref)):
        raise HwgenError("the model produced NaN/inf logits; check the data scale and the learning rate")
    extra = {}
    float_unavailable = None
    try:
        extra["logits_float"] = np.asarray(float_twin(model).predict(ds.X_test, batch_size=2048, verbose=0))
    except HwgenError as exc:  # the float figure is a side number: it never blocks the hardware flow
        float_unavailable = str(exc)
    save_train_artifacts(paths.model, paths.data, model, ds.X_test, ds.y_test, logits_ref, spec.input_precision, **extra)
    stats = layer_stats(model, spec.input_precision.bits)
    weight_count = sum(s.weight_count for s in stats)
    weight_nonzero = sum(s.weight_nonzero for s in stats)
    meaningful = not ds.synthetic
    result = TrainResult(
        model_path=str(paths.model.relative_to(paths.root)),
        data_path=str(paths.data.relative_to(paths.root)),
        trained=trained,
        dataset_source=ds.source,
        n_train=int(len(ds.X_train)),
        n_test=int(len(ds.X_test)),
        epochs=spec.training.epochs if trained else 0,
        seed=spec.training.seed,
        accuracy_float=top1_accuracy(extra["logits_float"], ds.y_test) if meaningful and "logits_float" in extra else None,
        float_unavailable=float_unavailable,
        final_activation=final_activation,
        transforms=transforms or {},
        accuracy_qkeras=top1_accuracy(logits_ref, ds.y_test) if meaningful else None,
        params=int(sum(s.params for s in stats)),
        nonzero=int(sum(s.nonzero for s in stats)),
        sparsity=round(1.0 - weight_nonzero / max(weight_count, 1), 6),
        target_sparsity=spec.pruning.target_sparsity,
        bops=float(sum(s.bops for s in stats)),
        layers=[s.to_dict() for s in stats],
        input_precision={"bits": spec.input_precision.bits, "integer": spec.input_precision.integer, "hls": ap_fixed(spec.input_precision)},
        wall_s=round(time.monotonic() - start, 3),
        compression=compression or {},
    )
    write_json(paths.train_json, result.to_dict())
    return result
