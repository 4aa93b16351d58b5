"""Software baselines on a tiny real QKeras model in a temporary run directory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hwgen.errors import HwgenError


def make_tiny_run(root: Path, name: str = "tiny") -> Path:
    """A run dir holding a small trained QKeras MLP (train/model.h5) and its test data (train/data.npz)."""
    from hwgen.tfcompat import tf
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    from hwgen.modelio import save_model

    rng = np.random.default_rng(0)
    n_in, n_cls = 12, 4
    # Inputs on an 8-bit fixed-point grid (1 integer bit), labels from a fixed random linear rule.
    X = np.round(rng.uniform(-1, 1, size=(192, n_in)) * 64) / 64
    y = np.argmax(X @ rng.normal(size=(n_in, n_cls)), axis=1)
    inp = tf.keras.Input(shape=(n_in,), name="input")
    x = QDense(16, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1), name="fc1")(inp)
    x = QActivation(quantized_relu(6, 2), name="relu1")(x)
    x = QDense(n_cls, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1), name="out")(x)
    model = tf.keras.Model(inp, x, name="tiny")
    model.compile(optimizer=tf.keras.optimizers.Adam(0.02),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(X[:128].astype(np.float32), y[:128], epochs=8, batch_size=32, verbose=0)
    run = root / name
    save_model(model, run / "train" / "model.h5")
    np.savez(run / "train" / "data.npz", X_test=X[128:].astype(np.float32), y_test=y[128:].astype(np.int64))
    (run / "run.json").write_text(json.dumps({"name": name, "fingerprint": "test-" + name, "board": "pynq-z2", "options": {}}))
    return run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    return make_tiny_run(tmp_path_factory.mktemp("baseline"))


@pytest.fixture(scope="module")
def record(tiny_run) -> dict:
    from hwgen.baseline import run_baselines

    return run_baselines(tiny_run, reps=15, warmup=3, predict_reps=3, predict_warmup=2, batches=(64, 256),
                         throughput_reps=2)


def _gpu_visible() -> bool:
    from hwgen.tfcompat import tf

    return bool(tf.config.list_physical_devices("GPU"))


def test_record_written_and_complete(tiny_run, record):
    path = tiny_run / "baseline" / "baseline.json"
    assert path.is_file()
    on_disk = json.loads(path.read_text())
    assert on_disk["baselines"] == record["baselines"]
    assert not list(tiny_run.glob(".baseline.partial-*"))  # staged folder swapped in
    v = record["versions"]
    assert v["tensorflow"].startswith("2.") and v["keras"].startswith("2.") and v["qkeras"]
    assert record["host"]["cpu_model"] and record["host"]["cpu_cores_usable"] >= 1
    assert {"intra_op", "inter_op"} <= set(record["threads"])
    assert "float_twin" in record["definitions"]["float"]
    assert record["settings"]["reps"] == 15 and record["settings"]["batches"] == [1, 64, 256]


def test_cpu_rows_measured(record):
    cpu = [r for r in record["baselines"] if r["device"] == "cpu"]
    # 2 models x 3 modes x 3 batch sizes; XLA may legitimately be unavailable, everything else must run.
    assert len(cpu) == 18
    assert {(r["model"], r["mode"], r["batch"]) for r in cpu} == {
        (m, mode, b) for m in ("float", "qkeras") for mode in ("predict", "tf_function", "xla") for b in (1, 64, 256)
    }
    for r in cpu:
        assert r["device_name"] == record["host"]["cpu_model"]
        if r["mode"] == "xla" and not r["available"]:
            assert r["reason"].startswith("XLA")
            continue
        assert r["available"], r
        assert r["source"].startswith("tensorflow-") and r["source"].endswith(f":cpu:{r['mode']}")
        assert 0 < r["latency_us_min"] <= r["latency_us_median"] <= r["latency_us_p99"]
        # throughput is batch / median call time
        assert r["throughput_sps"] == pytest.approx(r["batch"] / (r["latency_us_median"] * 1e-6))
        if r["batch"] == 1:
            assert r["reps"] == (3 if r["mode"] == "predict" else 15)
            assert r["warmup"] == (2 if r["mode"] == "predict" else 3)
        else:
            assert r["reps"] == 2 and r["warmup"] == 2
    xla = record["xla"]["cpu"]
    assert set(xla) == {"float", "qkeras"} and all("compiled" in v for v in xla.values())


def test_gpu_rows_say_why_not(record):
    gpu_rows = [r for r in record["baselines"] if r["device"] == "gpu"]
    if _gpu_visible():
        pytest.skip("a GPU is visible here; the GPU path is checked by test_gpu_baseline")
    assert record["devices"]["gpu"]["available"] is False
    assert [r["model"] for r in gpu_rows] == ["float", "qkeras"]
    for r in gpu_rows:
        assert r["available"] is False and r["reps"] == 0 and r["latency_us_median"] is None
        assert "tensorflow-cpu build" in r["reason"] or "no GPU visible" in r["reason"]


def test_float_network_is_unquantized_twin(tiny_run, record):
    """The timed float network computes relu(x W1 + b1) W2 + b2 with the stored (unquantized) weights."""
    import h5py

    from hwgen.baseline import _load_models

    # Read the stored weights straight from the file, independently of Keras.
    with h5py.File(tiny_run / "train" / "model.h5", "r") as fh:
        g = fh["model_weights"]

        def w(layer, name):
            grp = g[layer][layer]
            key = next(k for k in grp.keys() if k.startswith(name))
            return np.asarray(grp[key])

        W1, b1, W2, b2 = w("fc1", "kernel"), w("fc1", "bias"), w("out", "kernel"), w("out", "bias")
    X = np.load(tiny_run / "train" / "data.npz")["X_test"]
    expected = np.maximum(X @ W1 + b1, 0) @ W2 + b2
    qmodel, fmodel, why = _load_models(tiny_run / "train" / "model.h5", "/CPU:0", False)
    assert why is None
    np.testing.assert_allclose(np.asarray(fmodel(X)), expected, rtol=1e-5, atol=1e-5)
    # ...and it is a different network from the QKeras one (weights quantized there).
    assert record["agreement"]["max_abs_logit_diff"] > 0
    assert 0 <= record["agreement"]["argmax_agreement"] <= 1


def test_cli_baseline(tiny_run, tmp_path, capsys):
    import shutil

    from hwgen.cli import main

    run = tmp_path / "copy"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("baseline"))
    rc = main(["baseline", str(run), "--reps", "3", "--warmup", "1", "--predict-reps", "2",
               "--throughput-reps", "1", "--batches", "32", "--device", "cpu"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "tf_function" in out and "samples/s" in out and "baseline.json" in out
    rec = json.loads((run / "baseline" / "baseline.json").read_text())
    assert rec["settings"]["devices"] == ["cpu"] and rec["settings"]["batches"] == [1, 32]
    assert all(r["device"] == "cpu" for r in rec["baselines"])


def test_missing_inputs_are_clear_errors(tmp_path, capsys):
    from hwgen.baseline import run_baselines
    from hwgen.cli import main

    with pytest.raises(HwgenError, match="model.h5 not found"):
        run_baselines(tmp_path)
    assert main(["baseline", str(tmp_path)]) == 2
    assert "not an hwgen run directory" in capsys.readouterr().err


def test_bad_arguments(tiny_run):
    from hwgen.baseline import run_baselines

    with pytest.raises(HwgenError, match="unknown baseline device"):
        run_baselines(tiny_run, devices=("tpu",))
    with pytest.raises(HwgenError, match="batches must be >= 2"):
        run_baselines(tiny_run, batches=(1,))


@pytest.mark.gpu
def test_gpu_baseline(tiny_run):
    """Runs wherever TensorFlow sees a GPU; elsewhere it is reported as skipped with the reason."""
    from hwgen.baseline import gpu_status, run_baselines

    status = gpu_status()
    if not status["available"]:
        pytest.skip(f"GPU baseline not run: {status['reason']}")
    rec = run_baselines(tiny_run, reps=20, warmup=3, predict_reps=3, batches=(1024,), throughput_reps=2,
                        devices=("gpu",), write=False)
    rows = rec["baselines"]
    assert rows and all(r["device"] == "gpu" for r in rows)
    assert rec["devices"]["gpu"]["device_name"]
    for r in rows:
        if r["mode"] == "xla" and not r["available"]:
            continue  # recorded with the compiler's reason
        assert r["available"], r
        assert r["latency_us_median"] > 0 and r["throughput_sps"] > 0
