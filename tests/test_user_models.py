"""A user's own QKeras models, made the way users make them (issue 11's done-when checks).

* a plain user script in hwgen's venv (`import tensorflow as tf; import qkeras`) trains a
  Sequential model ending in softmax on the digits data and saves it; `hwgen flow --model-file`
  takes it to a bit-exact C-simulation of the logits and a report that says the softmax was
  left out;
* a CNN with QConv2DBatchnorm, trained, is bit-exact too;
* a float BatchNormalization runs with a measured, explicitly not-guaranteed agreement, and
  `--fold-batchnorm` folds and fine-tunes it into a model that is then exact;
* `hwgen inspect` shows the per-layer table; the README's support table is generated.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import REPO, run_cli


def _digits(flat: bool = True):
    from sklearn.datasets import load_digits

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)  # multiples of 1/16 in [0, 1]: exact on ap_fixed<6,2>
    if not flat:
        X = X.reshape(-1, 8, 8, 1)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(X))
    tr, te = idx[:1200], idx[1200:1500]
    return X[tr], d.target[tr], X[te], d.target[te]


def test_plain_import_of_qkeras_keeps_tf_keras_working():
    # tfmot (imported by QKeras) sets TF_USE_LEGACY_KERAS=1; tf_keras must be installed for this to work.
    code = "import tensorflow as tf; import qkeras; print(tf.keras.layers.Dense.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "keras" in out.stdout


USER_SCRIPT = textwrap.dedent('''
    import numpy as np
    import tensorflow as tf
    import qkeras
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu
    from sklearn.datasets import load_digits

    tf.keras.utils.set_random_seed(4)
    d = load_digits()
    X = (d.data / 16.0).astype("float32")
    y = tf.keras.utils.to_categorical(d.target, 10)
    model = tf.keras.Sequential([
        QDense(32, input_shape=(64,), kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1)),
        QActivation(quantized_relu(6, 2)),
        QDense(10, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1)),
        tf.keras.layers.Activation("softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X[:1400], y[:1400], epochs=4, batch_size=32, verbose=0)
    model.save("user_model.h5")
    np.savez("user_data.npz", X_test=X[1400:], y_test=d.target[1400:])
    print("saved")
''')


def test_user_script_softmax_model_is_bit_exact(tmp_path):
    (tmp_path / "train_mine.py").write_text(USER_SCRIPT)
    out = subprocess.run([sys.executable, "train_mine.py"], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0 and "saved" in out.stdout, out.stderr[-3000:]
    run = tmp_path / "run"
    rc = run_cli("flow", "--model-file", tmp_path / "user_model.h5", "--data", tmp_path / "user_data.npz",
                 "--input-bits", 6, "--input-integer", 1, "--out", run, "--synth", "estimate", "--no-baseline", "--quiet")
    assert rc == 0
    report = json.loads((run / "report.json").read_text())
    assert report["csim"]["bit_exact_fraction"] == 1.0 and report["csim"]["n_samples"] == 397
    assert report["csim"]["guaranteed"] is True
    train = json.loads((run / "train" / "train.json").read_text())
    assert train["final_activation"] == "softmax"
    assert train["accuracy_qkeras"] > 0.6  # a real, trained classifier
    assert "softmax" in (run / "report.md").read_text()


def _train(model, X, y, epochs=3):
    from hwgen.tfcompat import tf

    model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(X, y, epochs=epochs, batch_size=32, verbose=0)
    return model


def test_qconv2d_batchnorm_cnn_is_bit_exact(tmp_path):
    from hwgen.tfcompat import tf
    from qkeras import QActivation, QConv2DBatchnorm, QDense, quantized_bits, quantized_relu

    tf.keras.utils.set_random_seed(5)
    Xtr, ytr, Xte, yte = _digits(flat=False)
    inp = tf.keras.Input((8, 8, 1), name="img")
    x = QConv2DBatchnorm(6, 3, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(8, 3, alpha=1), name="convbn")(inp)
    x = QActivation(quantized_relu(6, 2), name="relu")(x)
    x = tf.keras.layers.MaxPooling2D(2, name="pool")(x)
    x = tf.keras.layers.Flatten(name="flat")(x)
    x = QDense(10, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1), name="out")(x)
    model = _train(tf.keras.Model(inp, x), Xtr, ytr)
    model.save(tmp_path / "cnn.h5")
    np.savez(tmp_path / "d.npz", X_test=Xte, y_test=yte)
    run = tmp_path / "run"
    rc = run_cli("flow", "--model-file", tmp_path / "cnn.h5", "--data", tmp_path / "d.npz", "--input-bits", 6,
                 "--input-integer", 1, "--out", run, "--synth", "none", "--no-baseline", "--quiet")
    assert rc == 0
    report = json.loads((run / "report.json").read_text())
    assert report["csim"]["bit_exact_fraction"] == 1.0 and report["csim"]["guaranteed"] is True
    conv = json.loads((run / "convert.json").read_text())
    row = next(r for r in conv["model_layers"] if r["name"] == "convbn")
    assert "batch norm folded" in row["rewritten"]


def test_float_batchnorm_is_measured_then_folded_exact(tmp_path):
    from hwgen.tfcompat import tf
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    tf.keras.utils.set_random_seed(6)
    Xtr, ytr, Xte, yte = _digits()
    inp = tf.keras.Input((64,), name="x")
    x = QDense(24, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1), name="fc1")(inp)
    x = tf.keras.layers.BatchNormalization(name="bn1")(x)
    x = QActivation(quantized_relu(6, 2), name="relu1")(x)
    x = QDense(10, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1), name="out")(x)
    model = _train(tf.keras.Model(inp, x), Xtr, ytr)
    model.save(tmp_path / "bn.h5")
    np.savez(tmp_path / "d.npz", X_test=Xte, y_test=yte, X_train=Xtr, y_train=ytr)
    common = ["--model-file", tmp_path / "bn.h5", "--data", tmp_path / "d.npz", "--input-bits", 6, "--input-integer", 1,
              "--synth", "none", "--no-baseline", "--quiet"]

    # 1. As it is: runs, agreement measured, the run is never called bit-exact.
    run = tmp_path / "measured"
    rc = run_cli("flow", *common, "--out", run)
    report = json.loads((run / "report.json").read_text())
    csim = report["csim"]
    assert csim["guaranteed"] is False
    assert rc == (0 if csim["bit_exact_fraction"] == 1.0 else 1)
    notice = next(n for n in report["notices"] if "not guaranteed" in n)
    assert "bn1" in notice and f"{csim['bit_exact_fraction']:.4f}" in notice
    assert "bit-exact 1.0000" not in (run / "report.md").read_text() or "not guaranteed" in (run / "report.md").read_text()

    # 2. Folded and fine-tuned: the folded model is the reference and the C-simulation is exact.
    run2 = tmp_path / "folded"
    assert run_cli("flow", *common, "--fold-batchnorm", "--out", run2) == 0
    report2 = json.loads((run2 / "report.json").read_text())
    assert report2["csim"]["bit_exact_fraction"] == 1.0 and report2["csim"]["guaranteed"] is True
    fold = json.loads((run2 / "train" / "train.json").read_text())["transforms"]["fold_batchnorm"]
    assert fold["folded"] == [{"batchnorm": "bn1", "into": "fc1", "bias_quantizer_added": None}]
    assert fold["fine_tuned"] and fold["fine_tune_samples"] == len(Xtr)
    conv = json.loads((run2 / "convert.json").read_text())
    assert "bn1" not in {l["name"] for l in conv["layers"]}


def test_fold_batchnorm_without_batchnorm_is_refused(tmp_path, capsys):
    from hwgen.tfcompat import tf
    from qkeras import QDense, quantized_bits

    m = tf.keras.Sequential([QDense(4, input_shape=(6,), kernel_quantizer=quantized_bits(6, 0, alpha=1), name="d")])
    m.save(tmp_path / "m.h5")
    np.savez(tmp_path / "d.npz", X_test=np.zeros((8, 6)), y_test=np.zeros(8, dtype=int))
    rc = run_cli("flow", "--model-file", tmp_path / "m.h5", "--data", tmp_path / "d.npz", "--fold-batchnorm",
                 "--out", tmp_path / "r", "--synth", "none", "--no-baseline", "--quiet")
    assert rc == 2
    assert "--fold-batchnorm: the model has no batch normalization" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_inspect_shows_each_layer(tmp_path, capsys):
    from hwgen.tfcompat import tf
    from qkeras import QActivation, QDense, quantized_bits

    m = tf.keras.Sequential([
        QDense(8, input_shape=(6,), kernel_quantizer=quantized_bits(4, 0, alpha="auto_po2"), bias_quantizer=quantized_bits(6, 0), name="d1"),
        QActivation("quantized_tanh(6)", name="t"),
        QDense(3, kernel_quantizer=quantized_bits(6, 0, alpha=1), name="d2"),
        tf.keras.layers.Activation("softmax", name="sm"),
    ])
    m.save(tmp_path / "m.h5")
    assert run_cli("inspect", tmp_path / "m.h5", "--json") == 0
    info = json.loads(capsys.readouterr().out)
    rows = {r["name"]: r for r in info["layers"]}
    assert info["csim"] == "refused" and info["final_activation"] == "softmax"
    assert rows["t"]["csim"] == "refused" and "lookup table" in rows["t"]["why"]
    assert "auto_po2" in rows["d1"]["quantizers"]["kernel"] and "exact" in rows["d1"]["rewritten"]
    # Without the refused activation, the precisions hls4ml will use are shown.
    m2 = tf.keras.Sequential([m.layers[0], QDense(3, kernel_quantizer=quantized_bits(6, 0, alpha=1), name="d2b")])
    m2.save(tmp_path / "m2.h5")
    assert run_cli("inspect", tmp_path / "m2.h5") == 0
    table = capsys.readouterr().out
    assert "d1" in table and "weight=fixed<" in table and "C-sim path: bit-exact" in table


def test_readme_support_table_is_generated():
    from hwgen.support import render_readme

    text = (REPO / "README.md").read_text()
    assert render_readme(text) == text, "README support table is stale: run `python -m hwgen.support --write-readme`"


@pytest.mark.parametrize("cls", ["LSTM", "Embedding"])
def test_unsupported_builtin_layer_named(tmp_path, capsys, cls):
    from hwgen.tfcompat import tf

    L = tf.keras.layers
    if cls == "LSTM":
        m = tf.keras.Sequential([L.LSTM(4, input_shape=(5, 3), name="rnn"), L.Dense(2, name="o")])
    else:
        m = tf.keras.Sequential([L.Embedding(10, 4, input_length=5, name="emb"), L.Flatten(), L.Dense(2, name="o")])
    m.save(tmp_path / "m.h5")
    np.savez(tmp_path / "d.npz", X_test=np.zeros((4, *m.input_shape[1:])), y_test=np.zeros(4, dtype=int))
    rc = run_cli("flow", "--model-file", tmp_path / "m.h5", "--data", tmp_path / "d.npz", "--out", tmp_path / "r", "--quiet")
    assert rc == 2
    err = capsys.readouterr().err
    assert cls in err and "custom object" not in err
