"""Knowledge distillation and low-rank factorization (hwgen.compress.distill / low_rank), each
trained for real on the digits data and carried through convert and a bit-exact C-simulation."""

from __future__ import annotations

import json

import numpy as np
import yaml

from conftest import REPO, run_cli


def _digits(name: str, **changes) -> dict:
    """models/digits_mlp.yaml with a short training (and its pruning schedule inside it)."""
    raw = yaml.safe_load((REPO / "models" / "digits_mlp.yaml").read_text())
    raw["name"] = name
    raw["training"]["epochs"] = 4
    raw["pruning"].update(begin_epoch=1, end_epoch=3)
    raw.update(changes)
    return raw


def _write(tmp_path, raw: dict, file: str):
    path = tmp_path / file
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _flow(spec, out) -> int:
    return run_cli("flow", spec, "--synth", "estimate", "--no-baseline", "--quiet", "--out", out)


def _read(run, rel):
    return json.loads((run / rel).read_text())


def _teacher(tmp_path, classes: int = 10):
    """A wider, 8-bit digits MLP (64-64-64-classes), no pruning."""
    raw = _digits("digits_teacher", classes=classes)
    raw["layers"] = [
        {"type": "dense", "name": "fc1", "units": 64, "weight": {"bits": 8, "integer": 0}},
        {"type": "relu", "name": "relu1", "bits": 8, "integer": 2},
        {"type": "dense", "name": "fc2", "units": 64, "weight": {"bits": 8, "integer": 0}},
        {"type": "relu", "name": "relu2", "bits": 8, "integer": 2},
        {"type": "dense", "name": "output", "units": classes, "weight": {"bits": 8, "integer": 0}},
    ]
    raw.pop("pruning")
    raw["training"].update(epochs=6, seed=3)
    return _write(tmp_path, raw, "teacher.yaml")


def test_distillation_from_a_wider_teacher_spec(tmp_path):
    teacher = _teacher(tmp_path)
    student = _write(tmp_path, _digits("digits_student",
                                       distillation={"teacher": str(teacher), "temperature": 4.0, "alpha": 0.5}),
                     "student.yaml")
    run = tmp_path / "run"
    assert _flow(student, run) == 0
    train = _read(run, "train/train.json")
    s = train["compression"]["distillation"]["summary"]
    assert s["teacher"]["kind"] == "spec" and s["teacher"]["name"] == "digits_teacher"
    assert (s["temperature"], s["alpha"]) == (4.0, 0.5)
    for key in ("teacher_accuracy", "student_accuracy_without", "student_accuracy_with"):
        assert 0.0 <= s[key] <= 1.0, key
    assert s["teacher_accuracy"] > 0.9  # a wider 8-bit MLP learns the digits in a few epochs
    # The model the run goes on with is the distilled student (same test split, same model).
    assert s["student_accuracy_with"] == train["accuracy_qkeras"]
    assert [l["name"] for l in train["layers"]] == ["fc1", "relu1", "fc2", "relu2", "output"]
    assert _read(run, "csim.json")["bit_exact_fraction"] == 1.0


def test_distillation_with_alpha_zero_is_exactly_plain_training(tmp_path):
    """alpha = 0 leaves only the cross-entropy: the packed-label loss, the teacher's training and
    the reference training must then leave the student bit for bit where fit_plain puts it."""
    from hwgen import train
    from hwgen.data import load_dataset
    from hwgen.spec import load_spec

    teacher = _teacher(tmp_path)
    raw = _digits("digits_student", distillation={"teacher": str(teacher), "alpha": 0.0})
    raw["training"]["epochs"] = 2
    raw["pruning"].update(begin_epoch=0, end_epoch=2)
    spec = load_spec(_write(tmp_path, raw, "student.yaml"))
    ds = load_dataset(spec)
    train.seed_everything(spec.training.seed)
    model, records = train._fit(spec, ds, None)
    plain = train.fit_plain(spec, ds, None)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), plain.get_weights()))
    s = records["distillation"]["summary"]
    assert s["student_accuracy_with"] == s["student_accuracy_without"]


def test_teacher_with_other_classes_is_refused_before_any_training(tmp_path, capsys, monkeypatch):
    from hwgen.tfcompat import tf

    teacher = _teacher(tmp_path, classes=5)
    student = _write(tmp_path, _digits("digits_student", distillation={"teacher": str(teacher)}),
                     "student.yaml")
    fits = []
    original = tf.keras.Model.fit
    monkeypatch.setattr(tf.keras.Model, "fit", lambda self, *a, **k: fits.append(self.name) or original(self, *a, **k))
    assert _flow(student, tmp_path / "run") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "distillation.teacher" in err and "5 classes" in err, err
    assert fits == []  # neither the teacher nor the student was trained
    assert not (tmp_path / "run").exists()
    # A model file's shapes are checked when it is loaded, still before the student trains.
    inp = tf.keras.Input(shape=(64,))
    model = tf.keras.Model(inp, tf.keras.layers.Dense(5)(inp))
    model.save(str(tmp_path / "five.keras"))
    student = _write(tmp_path, _digits("digits_student", distillation={"teacher": str(tmp_path / "five.keras")}),
                     "student_file.yaml")
    assert _flow(student, tmp_path / "run") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "distillation.teacher" in err and "10 classes" in err, err
    assert fits == [] and not (tmp_path / "run").exists()


def test_distillation_from_a_float_keras_model_file(tmp_path):
    """A float Keras teacher with a final softmax, saved as .h5: loaded through the safety gate,
    its logits (softmax left out) guide the student."""
    from hwgen.data import load_dataset
    from hwgen.spec import load_spec
    from hwgen.tfcompat import tf
    from hwgen.train import seed_everything

    # The student's data (the parser checks that a teacher file exists: it is written first).
    ds = load_dataset(load_spec(_write(tmp_path, _digits("digits_plain"), "plain.yaml")))
    seed_everything(1)
    teacher = tf.keras.Sequential([tf.keras.Input(shape=(64,)), tf.keras.layers.Dense(64, activation="relu"),
                                   tf.keras.layers.Dense(10, activation="softmax")])
    teacher.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    teacher.fit(ds.X_train, ds.y_train, epochs=10, batch_size=32, verbose=0)
    teacher.save(str(tmp_path / "teacher.h5"))
    student = _write(tmp_path, _digits("digits_student", distillation={"teacher": str(tmp_path / "teacher.h5"),
                                                                      "temperature": 2.0, "alpha": 0.5}),
                     "student.yaml")
    run = tmp_path / "run"
    assert _flow(student, run) == 0
    s = _read(run, "train/train.json")["compression"]["distillation"]["summary"]
    assert s["teacher"]["kind"] == "model_file" and s["teacher"]["final_activation_removed"] == "softmax"
    assert s["teacher_accuracy"] > 0.9
    assert _read(run, "csim.json")["bit_exact_fraction"] == 1.0


def _layers(train):
    return {l["name"]: l for l in train["layers"]}


def test_low_rank_with_a_fixed_rank(tmp_path):
    spec = _write(tmp_path, _digits("digits_lr", low_rank={"layers": ["fc1", "output"], "rank": 6,
                                                                    "fine_tune_epochs": 2}), "lr.yaml")
    run = tmp_path / "run"
    assert _flow(spec, run) == 0
    train = _read(run, "train/train.json")
    rec = train["compression"]["low_rank"]
    by = {e["layer"]: e for e in rec["layers"]}
    assert by["fc1"]["shape_before"] == [64, 32] and by["fc1"]["shapes_after"] == [[64, 6], [6, 32]]
    assert by["output"]["shape_before"] == [32, 10] and by["output"]["shapes_after"] == [[32, 6], [6, 10]]
    for e in by.values():
        assert e["rank"] == 6 and e["params_after"] < e["params_before"]
        assert e["params_after"] == 6 * sum(e["shape_before"]) + 6 + e["shape_before"][1]
        assert e["bops_before"] > 0 and e["bops_after"] > 0 and 0 < e["energy_kept"] <= 1
    assert rec["summary"]["params_after"] < rec["summary"]["params_before"]
    layers = _layers(train)
    assert [l["name"] for l in train["layers"]] == ["fc1_lr", "fc1", "relu1", "fc2", "relu2", "output_lr", "output"]
    assert layers["fc1_lr"]["kernel_shape"] == [64, 6] and layers["fc1"]["kernel_shape"] == [6, 32]
    assert layers["output_lr"]["kernel_shape"] == [32, 6] and layers["output"]["kernel_shape"] == [6, 10]
    assert train["params"] == rec["summary"]["params_after"]
    # fc2 was not factorized: its pruning (50%) survives the fine-tuning.
    assert layers["fc2"]["sparsity"] >= 0.5
    # Dense -> Dense with no activation between: the second factor reads the first one's exact
    # accumulator type, so the hardware still computes exactly what QKeras computes.
    conv = {l["name"]: l for l in _read(run, "convert.json")["layers"]}
    assert conv["fc1_lr"]["class"] == "Dense" and conv["fc1"]["class"] == "Dense"
    for e in by.values():  # the record's accumulator width is the one hls4ml derived
        first = e["factor_names"][0]
        assert conv[first]["result"].startswith(f"fixed<{e['intermediate_bits']},"), (conv[first], e)
        assert e["bops_after_at_intermediate_bits"] < e["bops_after"]
    assert _read(run, "csim.json")["bit_exact_fraction"] == 1.0


def test_low_rank_by_energy(tmp_path):
    spec = _write(tmp_path, _digits("digits_lr", low_rank={"layers": ["fc2"], "energy": 0.8,
                                                                    "fine_tune_epochs": 1}), "lr.yaml")
    run = tmp_path / "run"
    assert _flow(spec, run) == 0
    train = _read(run, "train/train.json")
    (e,) = train["compression"]["low_rank"]["layers"]
    r = e["rank"]
    sq = np.asarray(e["singular_values"]) ** 2
    kept = np.cumsum(sq) / sq.sum()
    # r is the smallest rank that keeps 80% of the squared singular values.
    assert kept[r - 1] >= 0.8 - 1e-12 and (r == 1 or kept[r - 2] < 0.8)
    assert abs(e["energy_kept"] - kept[r - 1]) < 1e-12  # two float64 sums of the same squares
    assert e["factored"] and e["shapes_after"] == [[32, r], [r, 32]] and e["params_after"] < e["params_before"]
    layers = _layers(train)
    assert layers["fc2_lr"]["kernel_shape"] == [32, r] and layers["fc2"]["kernel_shape"] == [r, 32]
    assert _read(run, "csim.json")["bit_exact_fraction"] == 1.0


def test_choose_rank_and_factor_precision():
    from hwgen.compress.low_rank import choose_rank, factor_precision
    from hwgen.spec import Precision

    s = np.array([3.0, 2.0, 1.0, 0.0])  # squared: 9, 4, 1, 0 of 14
    assert choose_rank(s, 2, None) == 2
    assert choose_rank(s, None, 9 / 14) == 1 and choose_rank(s, None, 0.65) == 2
    assert choose_rank(s, None, 1.0) == 3  # the zero singular value adds nothing
    assert factor_precision(np.array([0.4, -0.9]), Precision(6, 0)) == Precision(6, 0)
    assert factor_precision(np.array([1.5, -0.2]), Precision(6, 0)) == Precision(6, 1)
    assert factor_precision(np.array([100.0]), Precision(4, 0)) == Precision(4, 3)  # capped at bits - 1
