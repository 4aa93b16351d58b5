"""A user's own QKeras model file instead of a spec; files carrying code are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_cli


def _qkeras_model():
    from hwgen.tfcompat import tf
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    tf.keras.utils.set_random_seed(3)
    inp = tf.keras.Input((12,), name="features")
    x = QDense(8, kernel_quantizer=quantized_bits(8, 0, alpha=1), bias_quantizer=quantized_bits(8, 0, alpha=1), name="hidden")(inp)
    x = QActivation(quantized_relu(8, 1), name="act")(x)
    x = QDense(3, kernel_quantizer=quantized_bits(8, 0, alpha=1), bias_quantizer=quantized_bits(8, 0, alpha=1), name="logits")(x)
    return tf.keras.Model(inp, x)


def test_user_model_file_runs_bit_exact(tmp_path):
    model = _qkeras_model()
    model.save(tmp_path / "mine.h5")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 12)).astype(np.float32)
    np.savez(tmp_path / "data.npz", X_test=X, y_test=rng.integers(0, 3, 200))
    out = tmp_path / "run"
    assert run_cli("flow", "--model-file", tmp_path / "mine.h5", "--data", tmp_path / "data.npz", "--out", out, "--synth", "none", "--no-baseline", "--quiet") == 0
    r = json.loads((out / "report.json").read_text())
    assert r["csim"]["bit_exact_fraction"] == 1.0 and r["csim"]["n_samples"] == 200
    assert r["run"]["name"] == "mine"
    assert {l["name"]: l["weight"] for l in r["convert"]["layers"] if "weight" in l}["hidden"].startswith("fixed<8,1")


def test_lambda_layer_is_refused_unless_trusted(tmp_path, capsys):
    from hwgen.tfcompat import tf

    inp = tf.keras.Input((4,))
    x = tf.keras.layers.Lambda(lambda t: t * 2.0, name="sneaky")(inp)
    x = tf.keras.layers.Dense(2, name="out")(x)
    tf.keras.Model(inp, x).save(tmp_path / "lam.h5")
    np.savez(tmp_path / "d.npz", X=np.zeros((20, 4)), y=np.zeros(20, dtype=int))
    rc = run_cli("flow", "--model-file", tmp_path / "lam.h5", "--data", tmp_path / "d.npz", "--out", tmp_path / "r", "--quiet")
    assert rc == 2
    err = capsys.readouterr().err
    assert "sneaky (Lambda)" in err and "--trust-model-code" in err
    assert not (tmp_path / "r").exists()


def test_unknown_custom_object_is_refused(tmp_path, capsys):
    from hwgen.modelio import check_model_file
    from hwgen.errors import HwgenError
    import h5py

    model = _qkeras_model()
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r+") as fh:
        cfg = json.loads(fh.attrs["model_config"])
        cfg["config"]["layers"][2]["class_name"] = "MyFancyActivation"
        fh.attrs["model_config"] = json.dumps(cfg)
    with pytest.raises(HwgenError, match="MyFancyActivation"):
        check_model_file(tmp_path / "m.h5")
    check_model_file(tmp_path / "m.h5", trust_code=True)  # the user may opt in


def test_model_file_without_data_or_missing(tmp_path, capsys):
    assert run_cli("flow", "--model-file", tmp_path / "nope.h5", "--out", tmp_path / "r") == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_sequential_keras_archive_passes_the_gate(tmp_path):
    """Keras stores `"module": "keras"` at the top of a Sequential model's .keras config; that
    is Keras itself, not code from the file (found when a distillation teacher was refused)."""
    import json
    import zipfile

    from hwgen.modelgate import check_model_file
    from hwgen.tfcompat import tf
    from qkeras import QDense, quantized_bits

    model = tf.keras.Sequential([tf.keras.Input((4,)), QDense(3, kernel_quantizer=quantized_bits(6, 0, alpha=1),
                                                              bias_quantizer=quantized_bits(6, 0, alpha=1), name="d")])
    model.save(tmp_path / "seq.keras")
    config = json.loads(zipfile.ZipFile(tmp_path / "seq.keras").read("config.json"))
    assert config.get("module") == "keras"
    check_model_file(tmp_path / "seq.keras")
