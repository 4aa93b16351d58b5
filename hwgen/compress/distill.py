"""Knowledge distillation (spec key `distillation`): a teacher's softened logits guide the
student's training.

The student is the spec's own architecture, trained with

    loss = alpha * T^2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * CE(label, s)

(Hinton et al. 2015; T^2 keeps the soft term's gradient scale independent of T). The teacher is
a spec path or zoo name, trained here by hwgen's own training on the student's dataset split,
or a .h5/.keras model file (float Keras or QKeras) loaded through the model-file safety gate.
The student is also trained once without the teacher (same seed and epochs) so the record can
show what distillation changed. The distilled student is a plain QKeras model of the spec's
architecture: convert and C-simulation treat it like any other.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwgen.compress import CompressContext, Method
from hwgen.errors import HwgenError

MODEL_SUFFIXES = (".h5", ".keras")


def _resolve(teacher: str, spec_source: str | None) -> Path | None:
    """The teacher as a file, resolved as the spec parser did (hwgen.spec.resolve_teacher:
    beside the student's spec file, else the working directory), or None for a zoo name."""
    from hwgen.spec import resolve_teacher

    return resolve_teacher(teacher, spec_source)


def _err(msg: str) -> HwgenError:
    return HwgenError(f"distillation.teacher: {msg}")


def distillation_loss(temperature: float, alpha: float, n_classes: int):
    """The Keras loss of a student whose y_true packs [label, teacher logits (n_classes)] per row.

    Packing the teacher's logits into y_true keeps the training a plain model.fit, so the
    callbacks of the other methods (pruning masks) act on the student as they always do.
    """
    from hwgen.tfcompat import tf

    T = float(temperature)

    def loss(y_true, y_pred):
        labels = tf.cast(y_true[:, 0], tf.int32)
        teacher = y_true[:, 1:1 + n_classes]
        ce = tf.keras.losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=True)
        p_t = tf.nn.softmax(teacher / T, axis=-1)
        # KL(p_t || p_s) = sum p_t (log p_t - log p_s); log_softmax keeps both logs finite.
        kl = tf.reduce_sum(p_t * (tf.nn.log_softmax(teacher / T, axis=-1) - tf.nn.log_softmax(y_pred / T, axis=-1)),
                           axis=-1)
        return alpha * T * T * kl + (1.0 - alpha) * ce

    loss.__name__ = "distillation_loss"
    return loss


def packed_accuracy(y_true, y_pred):
    """Accuracy against the label column of the packed y_true (Keras's 'accuracy' would take the
    packed row as one-hot). Named `accuracy` so the epoch lines show it as usual."""
    from hwgen.tfcompat import tf

    labels = tf.cast(y_true[:, 0], tf.int64)
    return tf.cast(tf.equal(tf.argmax(y_pred, axis=-1), labels), tf.float32)


packed_accuracy.__name__ = "accuracy"


class Distillation(Method):
    name = "distillation"

    def active(self, spec) -> bool:
        return spec.compression.distillation is not None

    # ------------------------------------------------------------------ teacher
    def _teacher_from_spec(self, ref: str, path: Path | None, spec, ds, cctx: CompressContext):
        from hwgen.spec import load_spec
        from hwgen.train import fit_plain

        try:
            teacher_spec = load_spec(path if path is not None else ref)
        except HwgenError as exc:
            raise _err(str(exc)) from None
        # The parser checks these already (hwgen.spec._check_teacher); checked again here because
        # a spec may also come from a run's manifest (ModelSpec.from_dict), which is not parsed.
        if tuple(teacher_spec.input_shape) != tuple(spec.input_shape):
            raise _err(f"{ref!r} takes inputs of shape {list(teacher_spec.input_shape)} but the student "
                       f"{list(spec.input_shape)}; the teacher must see the student's data")
        if teacher_spec.n_classes != spec.n_classes:
            raise _err(f"{ref!r} has {teacher_spec.n_classes} classes but the student {spec.n_classes}; "
                       "the teacher's logits must be over the student's classes")
        if teacher_spec.dataset.name != spec.dataset.name:
            raise _err(f"{ref!r} trains on dataset {teacher_spec.dataset.name!r} but the student on "
                       f"{spec.dataset.name!r}; the teacher must be trained on the student's data")
        cctx.update(f"distillation: training the teacher {teacher_spec.name}")
        # Trained on the student's Dataset object itself: the same split, the same input grid, so
        # no test sample of the student was ever a training sample of the teacher.
        model = fit_plain(teacher_spec, ds, cctx.progress)
        return model, {"kind": "spec", "ref": ref, "name": teacher_spec.name, "epochs": teacher_spec.training.epochs,
                       "seed": teacher_spec.training.seed, "params": int(model.count_params())}

    def _teacher_from_file(self, ref: str, path: Path, spec):
        from hwgen.hwform import logits_model
        from hwgen.modelio import load_model

        try:
            model = load_model(path)  # the safety gate: no Lambda layers / unknown custom objects
        except HwgenError as exc:
            raise _err(str(exc)) from None
        model, final_activation = logits_model(model)
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise _err(f"{ref!r} must have one input and one output")
        in_shape = tuple(model.input_shape[1:])
        out_shape = tuple(model.output_shape[1:])
        if in_shape != tuple(spec.input_shape):
            raise _err(f"{ref!r} takes inputs of shape {list(in_shape)} but the student {list(spec.input_shape)}")
        if out_shape != (spec.n_classes,):
            raise _err(f"{ref!r} outputs shape {list(out_shape)} but the student has {spec.n_classes} classes")
        return model, {"kind": "model_file", "ref": ref, "name": model.name, "final_activation_removed": final_activation,
                       "params": int(model.count_params())}

    def prepare(self, spec, ds, cctx: CompressContext):
        from hwgen.qmodel import reference_logits, top1_accuracy
        from hwgen.train import fit_plain, seed_everything

        d = spec.compression.distillation
        path = _resolve(d.teacher, spec.source_path)
        is_file = d.teacher.endswith(MODEL_SUFFIXES)
        if is_file and path is None:
            raise _err(f"model file {d.teacher!r} does not exist")
        if is_file:
            teacher, info = self._teacher_from_file(d.teacher, path, spec)
        else:
            teacher, info = self._teacher_from_spec(d.teacher, path, spec, ds, cctx)
        self.teacher_train_logits = reference_logits(teacher, ds.X_train).astype(np.float32)
        if not np.all(np.isfinite(self.teacher_train_logits)):
            raise _err(f"{d.teacher!r} produced NaN/inf logits on the training split")
        teacher_acc = top1_accuracy(reference_logits(teacher, ds.X_test), ds.y_test)
        # The student without a teacher: the same spec, seed and epochs, no compression method
        # (its own reference; a structured-pruning student is compared with a plain one).
        cctx.update("distillation: training the student without the teacher")
        plain = fit_plain(spec, ds, cctx.progress)
        without = top1_accuracy(reference_logits(plain, ds.X_test), ds.y_test)
        # Back to the state a plain training starts from: the distilled student is built and its
        # batches drawn from the same seed as the reference above.
        seed_everything(spec.training.seed)
        cctx.records[self.name] = {
            "summary": {
                "teacher": info, "temperature": d.temperature, "alpha": d.alpha,
                "teacher_accuracy": teacher_acc, "student_accuracy_without": without,
                "student_accuracy_with": None, "epochs": spec.training.epochs,
                "without_trained_by": "hwgen.train.fit_plain (no compression method, same seed and epochs)",
            },
            "layers": [],
        }
        return spec

    # ------------------------------------------------------------------ student
    def fit(self, spec, model, ds, callbacks: list, cctx: CompressContext):
        from hwgen.train import compile_for_training

        d = spec.compression.distillation
        if len(self.teacher_train_logits) != len(ds.X_train):  # pragma: no cover - same ds by construction
            raise HwgenError("distillation: the teacher's logits do not match the training split")
        y = np.concatenate([ds.y_train.astype(np.float32)[:, None], self.teacher_train_logits], axis=1)
        loss = distillation_loss(d.temperature, d.alpha, spec.n_classes)
        compile_for_training(model, spec, loss=loss)
        # compile_for_training asks for Keras's 'accuracy', which would read the packed y_true as
        # one-hot rows; compile again with the same optimizer and loss and the label accuracy.
        model.compile(optimizer=model.optimizer, loss=loss, metrics=[packed_accuracy])
        cctx.update(f"distillation: training the student (T={d.temperature:g}, alpha={d.alpha:g})")
        model.fit(ds.X_train, y, epochs=spec.training.epochs, batch_size=spec.training.batch_size,
                  shuffle=True, verbose=0, callbacks=callbacks)
        return model

    def finalize(self, spec, model, ds, cctx: CompressContext):
        from hwgen.qmodel import reference_logits, top1_accuracy

        # Measured on the clean model (pruning wrappers stripped): the model the run goes on with,
        # before any later method (low_rank, weight_sharing) transforms it.
        cctx.records[self.name]["summary"]["student_accuracy_with"] = top1_accuracy(
            reference_logits(model, ds.X_test), ds.y_test)
        return spec, model
