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
    inp = tf.keras.Input(shape=(n_in,), name="x_in")
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


def make_tiny_cnn(seed: int = 3):
    """A small seeded QKeras CNN (random weights) exercising 'same'/'valid' padding, strides, pooling, flatten."""
    from hwgen.tfcompat import tf
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

    tf.keras.utils.set_random_seed(seed)
    q = dict(kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1),
             bias_initializer="glorot_uniform")
    inp = tf.keras.Input(shape=(9, 7, 2), name="x_in")
    x = QConv2D(4, (3, 3), padding="same", name="c1", **q)(inp)
    x = QActivation(quantized_relu(6, 2), name="r1")(x)
    x = tf.keras.layers.MaxPooling2D((2, 2), padding="same", name="p1")(x)
    x = QConv2D(3, (2, 3), strides=(2, 1), padding="valid", name="c2", **q)(x)
    x = QActivation("relu", name="r2")(x)
    x = tf.keras.layers.Flatten(name="flat")(x)
    x = QDense(5, name="out", **q)(x)
    return tf.keras.Model(inp, x, name="tinycnn")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    return make_tiny_run(tmp_path_factory.mktemp("baseline"))


@pytest.fixture(scope="module")
def record(tiny_run) -> dict:
    from hwgen.baseline import run_baselines

    return run_baselines(tiny_run, reps=15, warmup=3, predict_reps=3, predict_warmup=2, batches=(64, 256),
                         throughput_reps=2)


def test_record_written_and_complete(tiny_run, record):
    path = tiny_run / "baseline" / "baseline.json"
    assert path.is_file()
    on_disk = json.loads(path.read_text())
    assert on_disk["baselines"] == record["baselines"]
    assert not list(tiny_run.glob(".baseline.partial-*"))  # staged folder swapped in
    v = record["versions"]
    assert v["tensorflow"].startswith("2.") and v["keras"].startswith("2.") and v["qkeras"]
    assert v["onnxruntime"] and v["onnx"] and v["numpy"] == np.__version__
    host = record["host"]
    assert host["cpu_model"] and host["cpu_cores_usable"] >= 1
    assert len(host["load_avg_at_start"]) == 3 and len(host["load_avg_at_end"]) == 3
    assert {"intra_op", "inter_op"} <= set(record["threads"]["tensorflow"])
    assert record["threads"]["numpy"]["threads_timed"] == record["settings"]["threads"]
    assert "float_twin" in record["definitions"]["float"]
    assert set(record["definitions"]["engines"]) == {"tensorflow", "onnxruntime", "numpy", "torch"}
    import importlib.util

    if importlib.util.find_spec("torch") is None:  # optional engine: no rows where it is not installed
        assert "torch" not in record["settings"]["engines"] and "torch" in record["settings"]["engines_absent"]
    assert record["settings"]["reps"] == 15 and record["settings"]["batches"] == [1, 64, 256]
    # The ONNX graphs are kept next to the record, with their digests.
    for name in ("float", "qkeras"):
        exp = record["exports"][name]
        data = (tiny_run / exp["file"]).read_bytes()
        import hashlib

        assert hashlib.sha256(data).hexdigest() == exp["sha256"] and exp["opset"] == 17


def test_cpu_rows_measured(record):
    cpu = [r for r in record["baselines"] if r["device"] == "cpu"]
    threads = record["settings"]["threads"]
    assert threads == sorted({1, record["host"]["cpu_cores_usable"]})
    tf_rows = [r for r in cpu if r["engine"] == "tensorflow"]
    # 2 models x 3 modes x 3 batch sizes; XLA may legitimately be unavailable, everything else must run.
    assert {(r["model"], r["mode"], r["batch"]) for r in tf_rows} == {
        (m, mode, b) for m in ("float", "qkeras") for mode in ("predict", "tf_function", "xla") for b in (1, 64, 256)
    }
    for engine, mode in (("onnxruntime", "run"), ("numpy", "numpy")):
        mine = [r for r in cpu if r["engine"] == engine]
        assert sorted((r["model"], r["threads"], r["batch"]) for r in mine) == sorted(
            (m, t, b) for m in ("float", "qkeras") for t in threads for b in (1, 64, 256))
        assert all(r["mode"] == mode and r["engine_version"] for r in mine)
    for r in cpu:
        assert r["device_name"] == record["host"]["cpu_model"]
        if r["mode"] == "xla" and not r["available"]:
            assert r["reason"].startswith("XLA")
            continue
        assert r["available"], r
        assert r["source"].startswith(f"{r['engine']}-{r['engine_version']}:cpu:{r['mode']}")
        assert r["threads"] >= 1
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


def test_best_is_the_fastest_row_per_batch(record):
    from hwgen.baseline import best_latency, best_throughput

    rows = [r for r in record["baselines"] if r["available"]]
    best = record["best"]
    assert [e["batch"] for e in best] == [1, 64, 256]
    for e in best:
        same = [r for r in rows if r["batch"] == e["batch"]]
        assert e["latency_us_median"] == min(r["latency_us_median"] for r in same)
        assert e["engine"] in ("tensorflow", "onnxruntime", "numpy") and e["source"]
    assert best_latency(record["baselines"]) == best[0]
    assert best_throughput(record["baselines"])["throughput_sps"] == max(r["throughput_sps"] for r in rows)
    assert best_latency([]) is None and best_throughput([]) is None


def test_gpu_rows_say_why_not(record):
    gpu_rows = [r for r in record["baselines"] if r["device"] == "gpu"]
    gpu = record["devices"]["gpu"]
    if gpu["available"]:
        pytest.skip("a GPU is usable here; the GPU path is checked by test_gpu_baseline")
    assert sorted((r["engine"], r["model"]) for r in gpu_rows) == [
        ("onnxruntime", "float"), ("onnxruntime", "qkeras"), ("tensorflow", "float"), ("tensorflow", "qkeras")]
    for r in gpu_rows:
        assert r["available"] is False and r["reps"] == 0 and r["latency_us_median"] is None
        assert r["reason"] == gpu["engines"][r["engine"]]["reason"] and r["reason"]
    assert "CUDAExecutionProvider" in gpu["engines"]["onnxruntime"]["reason"]


def test_float_network_is_unquantized_twin(tiny_run, record):
    """The timed float network computes relu(x W1 + b1) W2 + b2 with the stored (unquantized) weights."""
    import h5py

    from hwgen.baseline.tf_engine import load_models

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
    qmodel, fmodel, why = load_models(tiny_run / "train" / "model.h5", "/CPU:0", False)
    assert why is None
    np.testing.assert_allclose(np.asarray(fmodel(X)), expected, rtol=1e-5, atol=1e-5)
    # ...and it is a different network from the QKeras one (weights quantized there).
    assert record["agreement"]["max_abs_logit_diff"] > 0
    assert 0 <= record["agreement"]["argmax_agreement"] <= 1


def _float_rounding_close(out, ref):
    """Equal up to float32 summation order: a few ulps of the largest logit."""
    scale = max(1.0, float(np.max(np.abs(ref))))
    np.testing.assert_allclose(out, ref, rtol=0, atol=16 * np.finfo(np.float32).eps * scale)
    assert np.array_equal(np.argmax(out, axis=1), np.argmax(ref, axis=1))


@pytest.mark.parametrize("which", ["mlp", "cnn"])
def test_onnx_export_matches_keras(tiny_run, which):
    """hwgen's ONNX graphs, run by ONNX Runtime and by the numpy engine, compute the Keras networks."""
    import onnxruntime as ort

    from hwgen.baseline.numpy_engine import compile_graph
    from hwgen.onnx_export import keras_to_onnx
    from hwgen.qmodel import float_twin

    if which == "mlp":
        from hwgen.modelio import load_model

        qmodel = load_model(tiny_run / "train" / "model.h5")
        X = np.load(tiny_run / "train" / "data.npz")["X_test"]
    else:
        qmodel = make_tiny_cnn()
        # inputs on an 8-bit grid, as the flow feeds them
        X = (np.round(np.random.default_rng(1).uniform(-1, 1, size=(40, 9, 7, 2)) * 64) / 64).astype(np.float32)
    fmodel = float_twin(qmodel)
    for keras_model, quantized in ((fmodel, False), (qmodel, True)):
        proto = keras_to_onnx(keras_model, quantized=quantized, graph_name="t")
        data = proto.SerializeToString()
        assert data == keras_to_onnx(keras_model, quantized=quantized, graph_name="t").SerializeToString()  # deterministic
        ref = np.asarray(keras_model(X, training=False))
        sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        out_ort = sess.run(None, {"x": X})[0]
        out_np = compile_graph(data)(X)
        assert out_ort.shape == ref.shape == out_np.shape
        _float_rounding_close(out_ort, ref)
        _float_rounding_close(out_np, ref)
    if which == "cnn":
        ops = [n.op_type for n in keras_to_onnx(qmodel, quantized=True, graph_name="t").graph.node]
        assert ops.count("Conv") == 2 and "MaxPool" in ops and ops.count("Round") == 1 and "Transpose" in ops


def test_onnx_export_refuses_unknown_layers():
    from hwgen.onnx_export import keras_to_onnx
    from hwgen.tfcompat import tf

    inp = tf.keras.Input(shape=(6,), name="x_in")
    x = tf.keras.layers.Dense(4, name="d")(inp)
    x = tf.keras.layers.BatchNormalization(name="bn")(x)
    model = tf.keras.Model(inp, x)
    with pytest.raises(HwgenError, match=r"layer bn \(BatchNormalization\) has no ONNX export"):
        keras_to_onnx(model, quantized=False, graph_name="t")


def test_without_tensorflow_uses_stored_graphs(tiny_run, record, tmp_path):
    """The Python 3.12 GPU install has no TensorFlow: the stored ONNX graphs are timed, TF rows say why."""
    import os
    import shutil
    import subprocess
    import sys

    run = tmp_path / "copy"
    shutil.copytree(tiny_run, run)
    (run / "train" / "model.h5").unlink()  # not needed without TensorFlow
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"  # `import tensorflow` fails, as where it is not installed
        "from hwgen.baseline import run_baselines\n"
        f"run_baselines({str(run)!r}, reps=3, warmup=1, batches=(16,), throughput_reps=1, throughput_warmup=0)\n"
        "assert 'tensorflow' not in sys.modules or sys.modules['tensorflow'] is None\n"
    )
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rec = json.loads((run / "baseline" / "baseline.json").read_text())
    assert rec["versions"].get("tensorflow") is None
    for name in ("float", "qkeras"):
        assert rec["exports"][name]["sha256"] == record["exports"][name]["sha256"]
        assert "earlier run" in rec["exports"][name]["origin"]
        assert (run / "baseline" / "onnx" / f"{name}.onnx").read_bytes() == (tiny_run / "baseline" / "onnx" / f"{name}.onnx").read_bytes()
    tf_rows = [r for r in rec["baselines"] if r["engine"] == "tensorflow"]
    assert tf_rows and all(not r["available"] and "TensorFlow is not importable" in r["reason"] for r in tf_rows)
    measured = [r for r in rec["baselines"] if r["available"]]
    assert {r["engine"] for r in measured} == {"onnxruntime", "numpy"}
    # Without Keras to compare with, ONNX Runtime is checked against the numpy engine.
    for key in ("onnxruntime:float", "onnxruntime:qkeras"):
        assert rec["agreement"]["engines"][key]["against"].startswith("numpy")
        assert rec["agreement"]["engines"][key]["argmax_agreement"] == 1.0


def test_cli_baseline(tiny_run, tmp_path, capsys):
    import shutil

    from hwgen.cli import main

    run = tmp_path / "copy"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("baseline"))
    rc = main(["baseline", str(run), "--reps", "3", "--warmup", "1", "--predict-reps", "2",
               "--throughput-reps", "1", "--batches", "32", "--device", "cpu", "--engine", "onnxruntime,tensorflow",
               "--threads", "1"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "best measured software figure per batch size" in out and "tf_function" in out and "baseline.json" in out
    rec = json.loads((run / "baseline" / "baseline.json").read_text())
    assert rec["settings"]["devices"] == ["cpu"] and rec["settings"]["batches"] == [1, 32]
    assert rec["settings"]["engines"] == ["onnxruntime", "tensorflow"] and rec["settings"]["threads"] == [1]
    assert all(r["device"] == "cpu" and r["engine"] in ("onnxruntime", "tensorflow") for r in rec["baselines"])
    with pytest.raises(SystemExit) as exc:  # argparse: usage and one line, exit code 2
        main(["baseline", str(run), "--engine", "pytorch"])
    assert exc.value.code == 2 and "--engine takes 'all' or" in capsys.readouterr().err


def test_missing_inputs_are_clear_errors(tmp_path, capsys):
    from hwgen.baseline import run_baselines
    from hwgen.cli import main

    with pytest.raises(HwgenError, match="data.npz not found"):
        run_baselines(tmp_path)
    assert main(["baseline", str(tmp_path)]) == 2
    assert "not an hwgen run directory" in capsys.readouterr().err


def test_bad_arguments(tiny_run):
    from hwgen.baseline import run_baselines

    with pytest.raises(HwgenError, match="unknown baseline device"):
        run_baselines(tiny_run, devices=("tpu",))
    with pytest.raises(HwgenError, match="unknown baseline engine"):
        run_baselines(tiny_run, engines=("pytorch",))
    with pytest.raises(HwgenError, match="batches must be >= 2"):
        run_baselines(tiny_run, batches=(1,))


def make_onnx_only_run(root: Path) -> Path:
    """A run dir without TensorFlow: test data and two ONNX graphs (Gemm-Relu-Gemm, and the same with the
    quantized-ReLU nodes hwgen writes) made with onnx.helper from seeded weights, as the Python 3.12 GPU
    install sees a run that was made elsewhere."""
    from onnx import TensorProto, helper, numpy_helper

    from hwgen.onnx_export import IR_VERSION, OPSET

    rng = np.random.default_rng(5)
    w1, b1 = rng.normal(size=(12, 16)).astype(np.float32) / 4, rng.normal(size=16).astype(np.float32) / 4
    w2, b2 = rng.normal(size=(16, 4)).astype(np.float32) / 4, rng.normal(size=4).astype(np.float32) / 4
    run = root / "onnx_only"
    (run / "train").mkdir(parents=True)
    (run / "baseline" / "onnx").mkdir(parents=True)
    X = (np.round(rng.uniform(-1, 1, size=(64, 12)) * 64) / 64).astype(np.float32)
    np.savez(run / "train" / "data.npz", X_test=X, y_test=np.zeros(64, np.int64))
    for name, act in (("float", [helper.make_node("Relu", ["h"], ["a"])]),
                      ("qkeras", [helper.make_node("Mul", ["h", "s"], ["h1"]), helper.make_node("Round", ["h1"], ["h2"]),
                                  helper.make_node("Clip", ["h2", "lo", "hi"], ["h3"]),
                                  helper.make_node("Mul", ["h3", "lsb"], ["a"])])):
        inits = [numpy_helper.from_array(v, k) for k, v in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2),
                 ("s", np.array(16, np.float32)), ("lo", np.array(0, np.float32)), ("hi", np.array(63, np.float32)),
                 ("lsb", np.array(1 / 16, np.float32)))]
        nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]), *act, helper.make_node("Gemm", ["a", "w2", "b2"], ["logits"])]
        g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 12])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 4])], initializer=inits)
        proto = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
        (run / "baseline" / "onnx" / f"{name}.onnx").write_bytes(proto.SerializeToString())
    (run / "run.json").write_text(json.dumps({"name": "onnx_only", "fingerprint": "test-onnx-only", "options": {}}))
    return run


def _cnn_graph() -> bytes:
    """An NHWC CNN in the node vocabulary hwgen writes, with asymmetric 'same' pads, strides, padded
    max-pool and a quantized ReLU, made with onnx.helper (no Keras needed)."""
    from onnx import TensorProto, helper, numpy_helper

    from hwgen.onnx_export import IR_VERSION, OPSET

    rng = np.random.default_rng(11)
    consts = {"k1": rng.normal(size=(4, 2, 3, 2)).astype(np.float32) / 2, "c1": rng.normal(size=4).astype(np.float32),
              "k2": rng.normal(size=(3, 4, 2, 2)).astype(np.float32) / 2, "c2": rng.normal(size=3).astype(np.float32),
              "w": rng.normal(size=(3 * 3 * 2, 5)).astype(np.float32), "b": rng.normal(size=5).astype(np.float32),
              "s": np.array(8, np.float32), "lo": np.array(0, np.float32), "hi": np.array(31, np.float32),
              "lsb": np.array(1 / 8, np.float32)}
    nodes = [
        helper.make_node("Transpose", ["x"], ["t0"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["t0", "k1", "c1"], ["t1"], kernel_shape=[3, 2], strides=[1, 1], pads=[1, 0, 1, 1]),
        helper.make_node("Mul", ["t1", "s"], ["q1"]), helper.make_node("Round", ["q1"], ["q2"]),
        helper.make_node("Clip", ["q2", "lo", "hi"], ["q3"]), helper.make_node("Mul", ["q3", "lsb"], ["t2"]),
        helper.make_node("MaxPool", ["t2"], ["t3"], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1]),
        helper.make_node("Conv", ["t3", "k2", "c2"], ["t4"], kernel_shape=[2, 2], strides=[2, 1], pads=[0, 0, 0, 0]),
        helper.make_node("Relu", ["t4"], ["t5"]),
        helper.make_node("Transpose", ["t5"], ["t6"], perm=[0, 2, 3, 1]),
        helper.make_node("Flatten", ["t6"], ["t7"], axis=1),
        helper.make_node("Gemm", ["t7", "w", "b"], ["logits"]),
    ]
    g = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 9, 7, 2])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 5])],
                          initializer=[numpy_helper.from_array(v, k) for k, v in consts.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION).SerializeToString()


def test_engines_agree_on_a_handmade_cnn():
    """numpy (and PyTorch, where installed) evaluate hwgen's node vocabulary as ONNX Runtime does."""
    import onnxruntime as ort

    from hwgen.baseline.numpy_engine import compile_graph

    data = _cnn_graph()
    X = (np.round(np.random.default_rng(2).uniform(-1, 1, size=(33, 9, 7, 2)) * 32) / 32).astype(np.float32)
    ref = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {"x": X})[0]
    assert ref.shape == (33, 5)
    _float_rounding_close(compile_graph(data)(X), ref)
    from hwgen.baseline import torch_engine

    torch, why = torch_engine.available()
    if torch is None:
        pytest.skip(f"torch engine not checked: {why}")
    run = torch_engine.compile_graph(torch, data, "cpu")
    _float_rounding_close(torch_engine.cpu_fn(torch, run, X)(), ref)


@pytest.mark.gpu
def test_gpu_baseline(tmp_path_factory):
    """Runs wherever an engine can use a GPU (ONNX Runtime's CUDA provider, or a CUDA TensorFlow);
    elsewhere it is reported as skipped with the reasons. Needs no TensorFlow (the Python 3.12 install)."""
    from hwgen.baseline import gpu_status, run_baselines
    from hwgen.baseline.tf_engine import available

    status = gpu_status()
    if not status["available"]:
        pytest.skip(f"GPU baseline not run: {status['reason']}")
    root = tmp_path_factory.mktemp("gpu")
    run = make_tiny_run(root) if available()[0] is not None else make_onnx_only_run(root)
    rec = run_baselines(run, reps=20, warmup=3, predict_reps=3, batches=(1024,), gpu_extra_batches=(65536,),
                        throughput_reps=2, devices=("gpu",), write=False)
    rows = [r for r in rec["baselines"] if r["engine"] in [e for e, s in status["engines"].items() if s["available"]]]
    assert rows and all(r["device"] == "gpu" for r in rows)
    for r in rows:
        if r["mode"] == "xla" and not r["available"]:
            continue  # recorded with the compiler's reason
        assert r["available"], r
        assert r["latency_us_median"] > 0 and r["throughput_sps"] > 0
    assert {r["batch"] for r in rows} == {1, 1024, 65536}
    for key, check in rec["agreement"]["engines"].items():
        assert check["argmax_agreement"] == 1.0, (key, check)
