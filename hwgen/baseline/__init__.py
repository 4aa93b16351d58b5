"""Software baselines: the same trained network, the same weights, timed by several engines.

Two networks, both from `RUN/train/model.h5`:

* ``float``: `hwgen.qmodel.float_twin` of the QKeras model (FLOAT_DEFINITION);
* ``qkeras``: the QKeras model as trained, quantizers applied (QKERAS_DEFINITION).

Engines (one module each, all timed by the protocol in `hwgen.baseline.common`):

* ``tensorflow`` (`tf_engine`): the Keras models, modes predict / tf_function / xla;
* ``onnxruntime`` (`ort_engine`): the ONNX graphs hwgen writes (`hwgen.onnx_export`), CPU
  execution provider; on a GPU, the CUDA provider (the ``gpu`` extra), used automatically;
* ``numpy`` (`numpy_engine`): the same ONNX graphs evaluated with numpy;
* ``torch`` (`torch_engine`, only where PyTorch is importable, e.g. a GPU machine's image): the
  same ONNX graphs as PyTorch operations, on the CPU and on a CUDA GPU (eager and CUDA graphs).

CPU rows of ONNX Runtime and numpy are timed with 1 thread and with all usable cores (or the
`threads` given); TensorFlow's rows state its intra-op pool. Every row names its engine, version,
mode, threads and device. The record's ``best`` gives, per batch size, the fastest measured row
over all engines (`hwgen.baseline.compare`), which is what the report compares the FPGA with.

Without TensorFlow (the Python 3.12 GPU install) the ONNX graphs are read back from an earlier
run's RUN/baseline/onnx/ and the TensorFlow rows say why they are missing.

Written to ``RUN/baseline/baseline.json`` (plus ``RUN/baseline/onnx/{float,qkeras}.onnx``); the
layout is documented in docs/report-json.md ("baselines").
"""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from hwgen.baseline import numpy_engine, ort_engine, tf_engine, torch_engine
from hwgen.baseline.common import (
    DEVICES, ENGINES, MODELS, OPTIONAL_ENGINES, cpu_count, cpu_model, load_average, measure, nvidia_gpu_name, row, short_error,
    source_label, tile, timing_plan,
)
from hwgen.baseline.compare import best_by_batch, best_latency, best_throughput, describe
from hwgen.errors import HwgenError

__all__ = ["run_baselines", "read_baselines", "format_table", "gpu_status", "best_by_batch", "best_latency",
           "best_throughput", "MODES", "ENGINES", "MODELS", "DEVICES"]

SCHEMA = "hwgen.baseline/2"
MODES = tf_engine.MODES
DEFAULT_REPS = 200
DEFAULT_WARMUP = 10
DEFAULT_BATCHES = (1024, 16384)
DEFAULT_GPU_EXTRA_BATCHES = (262144,)  # a GPU needs far larger batches than a CPU to be busy
DEFAULT_PREDICT_REPS = 10
DEFAULT_PREDICT_WARMUP = 2
DEFAULT_THROUGHPUT_REPS = 5
DEFAULT_THROUGHPUT_WARMUP = 2
ONNX_DIR = "onnx"

FLOAT_DEFINITION = (
    "float = hwgen.qmodel.float_twin(qkeras model): the same layers as plain Keras float32 layers "
    "(QDense->Dense, QConv2D->Conv2D, QActivation->ReLU; pooling/flatten copied) holding the stored "
    "trained weights as they are in model.h5, i.e. the unquantized float32 'shadow' weights that the "
    "QKeras kernel/bias quantizers round at inference (not the quantized values); no input, weight or "
    "activation quantization. It is the network the report's 'float' accuracy refers to. ONNX Runtime and "
    "numpy run baseline/onnx/float.onnx, written by hwgen.onnx_export from the same Keras layers."
)
QKERAS_DEFINITION = (
    "qkeras = RUN/train/model.h5 loaded as is: weight, bias and activation quantizers applied on every "
    "call, computed in float32 by TensorFlow (QKeras simulates fixed point with extra rounding/clipping "
    "ops; it does not run integer arithmetic). ONNX Runtime and numpy run baseline/onnx/qkeras.onnx: the "
    "dequantized (quantizer-output) kernels and biases, and each quantized_relu as Mul/Round/Clip/Mul."
)
TIMING_METHOD = (
    "time.perf_counter_ns around each call; latency rows: batch 1, `warmup` untimed calls then `reps` "
    "timed calls, median and p99 (numpy linear-interpolated percentile) in microseconds; throughput "
    "rows: batch B built by tiling X_test, `warmup` untimed then `reps` timed calls, throughput = "
    "B / median call time. The first call of a row (tracing, compiling, allocating) counts as a warm-up call. "
    "tensorflow predict: numpy in/out through model.predict(batch_size=B, verbose=0); tf_function/xla: input "
    "tensor already on the device, timing includes the call and copying the result to host numpy. "
    "onnxruntime run: InferenceSession.run with numpy in/out (on a GPU this includes both copies); "
    "io_binding: input already on the GPU, logits copied to host numpy. numpy: the graph's layers as numpy "
    "operations, numpy in/out. All engines run in this one Python process, one call at a time."
)
ENGINE_DEFINITIONS = {
    "tensorflow": "TensorFlow/Keras executing the Keras models (modes predict, tf_function, xla)",
    "onnxruntime": "ONNX Runtime InferenceSession on hwgen's ONNX graph: graph optimization ORT_ENABLE_ALL, "
    "sequential execution, intra-op threads as the row's `threads`, inter-op 1; GPU rows use the "
    "CUDAExecutionProvider",
    "torch": "hwgen.baseline.torch_engine: hwgen's ONNX graph as PyTorch operations (float32, TF32 off), "
    "torch.inference_mode; CPU threads via torch.set_num_threads; GPU modes eager and cuda_graph",
    "numpy": "hwgen.baseline.numpy_engine: hwgen's ONNX graph evaluated with numpy (BLAS matmul; Conv as an "
    "im2col gather and one matmul), BLAS threads bounded to the row's `threads` with threadpoolctl",
}


def gpu_status() -> dict[str, Any]:
    """Whether any engine can time on a GPU here: {available, device_name, reason, engines}."""
    ort, ort_why = ort_engine.available()
    probe = _probe_graph()
    engines: dict[str, Any] = {"onnxruntime": ort_engine.gpu_status(ort, probe) if ort else
                               {"available": False, "reason": ort_why}}
    tf, tf_why = tf_engine.available()
    engines["tensorflow"] = tf_engine.gpu_status() if tf else {"available": False, "reason": tf_why}
    torch, _ = torch_engine.available()
    if torch is not None:
        engines["torch"] = torch_engine.gpu_status(torch)
    return _gpu_summary(engines)


def _gpu_summary(engines: dict[str, Any]) -> dict[str, Any]:
    ok = [e for e, s in engines.items() if s.get("available")]
    name = next((s.get("device_name") for s in engines.values() if s.get("device_name")), None) or (
        nvidia_gpu_name() if ok else None)
    reason = None if ok else "; ".join(f"{e}: {s.get('reason')}" for e, s in engines.items())
    return {"available": bool(ok), "device_name": name, "reason": reason, "engines": engines}


def _probe_graph() -> bytes:
    """A one-layer ONNX graph to find out whether a CUDA session can be created."""
    from onnx import TensorProto, helper

    g = helper.make_graph([helper.make_node("Relu", ["x"], ["logits"])], "probe",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 4])])
    from hwgen.onnx_export import IR_VERSION, OPSET

    return helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION).SerializeToString()


# --------------------------------------------------------------------------------------------
# Inputs


def _read_data(run_dir: Path) -> tuple[np.ndarray, np.ndarray | None]:
    data_path = run_dir / "train" / "data.npz"
    if not data_path.is_file():
        raise HwgenError(f"{data_path} not found: the baseline needs X_test from the training stage; run `hwgen flow` first")
    try:
        with np.load(data_path, allow_pickle=False) as data:
            if "X_test" not in data.files:
                raise HwgenError(f"{data_path} has no X_test array (found {sorted(data.files)})")
            X = np.asarray(data["X_test"], dtype=np.float32)
            y = np.asarray(data["y_test"]) if "y_test" in data.files else None
    except (OSError, ValueError) as exc:
        raise HwgenError(f"cannot read {data_path}: {exc}") from None
    if X.ndim < 2 or len(X) == 0:
        raise HwgenError(f"{data_path}: X_test must hold at least one sample, got shape {list(X.shape)}")
    return X, y


def _stored_graphs(run_dir: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for name in MODELS:
        path = run_dir / "baseline" / ONNX_DIR / f"{name}.onnx"
        out[name] = path.read_bytes() if path.is_file() else (
            f"no TensorFlow here to write the ONNX graph and no {path.relative_to(run_dir)} from an earlier run")
    return out


def _diff(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return {"max_abs_diff": float(np.max(np.abs(a - b))) if a.size else 0.0,
            "argmax_agreement": float(np.mean(np.argmax(a, axis=-1) == np.argmax(b, axis=-1))) if a.size else 1.0,
            "exactly_equal": bool(np.array_equal(a, b))}


# --------------------------------------------------------------------------------------------
# The baseline


def run_baselines(
    run_dir: Path,
    *,
    reps: int = DEFAULT_REPS,
    batches: Iterable[int] = DEFAULT_BATCHES,
    gpu_extra_batches: Iterable[int] = DEFAULT_GPU_EXTRA_BATCHES,
    devices: Iterable[str] | None = None,
    engines: Iterable[str] | None = None,
    warmup: int = DEFAULT_WARMUP,
    predict_reps: int = DEFAULT_PREDICT_REPS,
    predict_warmup: int = DEFAULT_PREDICT_WARMUP,
    throughput_reps: int = DEFAULT_THROUGHPUT_REPS,
    throughput_warmup: int = DEFAULT_THROUGHPUT_WARMUP,
    modes: Iterable[str] = MODES,
    threads: int | None = None,
    trust_code: bool = False,
    write: bool = True,
) -> dict:
    """Time the run's network in software; write RUN/baseline/ and return the record.

    `devices` defaults to ('cpu', 'gpu') and `engines` to all three; a device or engine that
    cannot run here gives rows with available: false and the reason. `threads` fixes the thread
    count of every engine (TensorFlow's pools only before it has run any op in this process);
    by default ONNX Runtime and numpy are timed with 1 thread and with all usable cores.
    """
    run_dir = Path(run_dir)
    devices = tuple(devices) if devices is not None else DEVICES
    explicit = engines is not None
    engines = tuple(engines) if engines is not None else ENGINES
    batches = tuple(int(b) for b in batches)
    gpu_extra = tuple(int(b) for b in gpu_extra_batches if int(b) not in batches)
    modes = tuple(modes)
    for what, given, allowed in (("device", devices, DEVICES), ("engine", engines, ENGINES), ("mode", modes, MODES)):
        bad = [v for v in given if v not in allowed]
        if bad:
            raise HwgenError(f"unknown baseline {what}(s) {bad}; choose from {list(allowed)}")
    if min(reps, predict_reps, throughput_reps) < 1 or min(warmup, predict_warmup, throughput_warmup) < 0:
        raise HwgenError("baseline repetitions must be >= 1 and warm-up counts >= 0")
    if any(b < 2 for b in (*batches, *gpu_extra)):
        raise HwgenError(f"throughput batches must be >= 2 (batch 1 is always timed for latency), got {list(batches)}")
    if threads is not None and threads < 1:
        raise HwgenError(f"threads must be >= 1, got {threads}")

    X, y = _read_data(run_dir)
    model_path = run_dir / "train" / "model.h5"
    tf, tf_why = tf_engine.available()
    if tf is not None and not model_path.is_file():
        raise HwgenError(f"{model_path} not found: the baseline needs the trained model; run `hwgen flow` first")
    t_start = time.perf_counter()
    load_start = load_average()
    cores = cpu_count()
    thread_counts = (int(threads),) if threads else tuple(sorted({1, cores}))
    plan = dict(reps=reps, warmup=warmup, throughput_reps=throughput_reps, throughput_warmup=throughput_warmup)

    # --- the networks: Keras models (with TensorFlow) and hwgen's ONNX graphs
    keras_models: dict[str, Any] = {}
    if tf is not None:
        from hwgen.onnx_export import export_graphs
        from hwgen.tfcompat import set_threads

        if threads:
            set_threads(threads)
        graphs = export_graphs(model_path, trust_code=trust_code)
        qmodel, fmodel, float_why = tf_engine.load_models(model_path, "/CPU:0", trust_code)
        keras_models = {"float": fmodel if fmodel is not None else float_why, "qkeras": qmodel}
        graphs_from = "written from train/model.h5 by hwgen.onnx_export"
    else:
        graphs = _stored_graphs(run_dir)
        graphs_from = "read from an earlier run's baseline/onnx/ (no TensorFlow here)"
    ort, ort_why = ort_engine.available()
    torch, torch_why = torch_engine.available() if "torch" in engines else (None, "not selected")
    absent: dict[str, str] = {}
    if torch is None and "torch" in engines and not explicit:  # optional: no rows where it is not installed
        engines = tuple(e for e in engines if e != "torch")
        absent["torch"] = torch_why
    if torch is not None:
        torch_engine.float32_math(torch)

    versions: dict[str, Any] = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        import onnx

        versions["onnx"] = onnx.__version__
    except Exception:  # noqa: BLE001
        versions["onnx"] = None
    versions["onnxruntime"] = ort.__version__ if ort else None
    if torch is not None:
        versions["torch"] = torch.__version__
        versions["torch_cuda"] = getattr(torch.version, "cuda", None)
    if tf is not None:
        versions.update(tf_engine.framework_versions())
    blas = numpy_engine.blas_info()
    np_version = numpy_engine.version_label()

    # --- what each engine computes, checked against Keras on X_test (sanity, not a result)
    agreement: dict[str, Any] = {"n_samples": int(len(X))}
    reference: dict[str, np.ndarray] = {}
    for name, model in keras_models.items():
        if not isinstance(model, str):
            reference[name] = tf_engine.logits(model, X)
    if y is not None and len(y) == len(X):
        for name, ref in reference.items():
            agreement[f"{name}_accuracy"] = float(np.mean(np.argmax(ref, axis=1) == y))
    if "float" in reference and "qkeras" in reference:
        d = _diff(reference["qkeras"], reference["float"])
        agreement["argmax_agreement"] = d["argmax_agreement"]
        agreement["max_abs_logit_diff"] = d["max_abs_diff"]
    checks: dict[str, Any] = {}

    numpy_fns: dict[str, Any] = {}
    for name in MODELS:
        g = graphs.get(name)
        if isinstance(g, bytes):
            try:
                numpy_fns[name] = numpy_engine.compile_graph(g)
            except Exception as exc:  # noqa: BLE001 - recorded as unavailable rows
                numpy_fns[name] = str(exc) if isinstance(exc, HwgenError) else f"numpy engine: {short_error(exc)}"
        else:
            numpy_fns[name] = g

    def check(engine: str, name: str, out: np.ndarray) -> None:
        if name in reference:
            checks[f"{engine}:{name}"] = {"against": f"tensorflow {name} (Keras)", **_diff(out, reference[name])}
        elif not isinstance(numpy_fns.get(name), str) and engine != "numpy":
            checks[f"{engine}:{name}"] = {"against": f"numpy {name}", **_diff(out, numpy_fns[name](X))}

    inputs = {b: (X[:1].copy() if b == 1 else tile(X, b)) for b in (1, *batches)}
    cpu_name = cpu_model()
    rows: list[dict] = []
    xla: dict[str, Any] = {}

    # --- CPU
    if "cpu" in devices:
        if "onnxruntime" in engines:
            for name in MODELS:
                g = graphs.get(name)
                if ort is None or not isinstance(g, bytes):
                    rows.append(row("onnxruntime", None, name, "cpu", cpu_name, None, None,
                                    reason=ort_why if ort is None else g))
                    continue
                for t in thread_counts:
                    try:
                        sess = ort_engine.cpu_session(ort, g, t)
                        if t == thread_counts[0]:
                            check("onnxruntime", name, sess.run(None, {"x": X})[0])
                    except Exception as exc:  # noqa: BLE001
                        rows.append(row("onnxruntime", ort.__version__, name, "cpu", cpu_name, "run", None, threads=t,
                                        reason=f"session failed: {short_error(exc)}"))
                        continue
                    src = source_label("onnxruntime", ort.__version__, "cpu", "run", t)
                    for b in inputs:
                        n, w = timing_plan(b, **plan)
                        rows.append(_timed("onnxruntime", ort.__version__, name, "cpu", cpu_name, "run", b, t, src,
                                           ort_engine.run_fn(sess, inputs[b]), n, w))
        if "numpy" in engines:
            for name in MODELS:
                f = numpy_fns.get(name)
                if isinstance(f, str) or f is None:
                    rows.append(row("numpy", np_version, name, "cpu", cpu_name, None, None, reason=f))
                    continue
                try:
                    check("numpy", name, f(X))
                except Exception as exc:  # noqa: BLE001
                    rows.append(row("numpy", np_version, name, "cpu", cpu_name, None, None,
                                    reason=f"numpy engine failed: {short_error(exc)}"))
                    continue
                for t in thread_counts:
                    src = source_label("numpy", np_version, "cpu", "numpy", t)
                    with numpy_engine.thread_limit(t):
                        for b in inputs:
                            n, w = timing_plan(b, **plan)
                            rows.append(_timed("numpy", np_version, name, "cpu", cpu_name, "numpy", b, t, src,
                                               lambda f=f, x=inputs[b]: f(x), n, w))
        if "torch" in engines:
            for name in MODELS:
                g = graphs.get(name)
                if torch is None or not isinstance(g, bytes):
                    rows.append(row("torch", None, name, "cpu", cpu_name, None, None,
                                    reason=torch_why if torch is None else g))
                    continue
                try:
                    run = torch_engine.compile_graph(torch, g, "cpu")
                    check("torch", name, torch_engine.cpu_fn(torch, run, X)())
                except Exception as exc:  # noqa: BLE001
                    rows.append(row("torch", torch.__version__, name, "cpu", cpu_name, None, None,
                                    reason=f"torch engine failed: {short_error(exc)}"))
                    continue
                for t in thread_counts:
                    src = source_label("torch", torch.__version__, "cpu", "eager", t)
                    with torch_engine.num_threads(torch, t):
                        for b in inputs:
                            n, w = timing_plan(b, **plan)
                            rows.append(_timed("torch", torch.__version__, name, "cpu", cpu_name, "eager", b, t, src,
                                               torch_engine.cpu_fn(torch, run, inputs[b]), n, w))
        if "tensorflow" in engines:
            if tf is None:
                for name in MODELS:
                    rows.append(row("tensorflow", None, name, "cpu", cpu_name, None, None, reason=tf_why))
            else:
                tf_threads = int(tf.config.threading.get_intra_op_parallelism_threads()) or cores
                dev_rows, xla["cpu"] = tf_engine.time_device(
                    "cpu", cpu_name, "/CPU:0", keras_models, inputs, predict_reps=predict_reps,
                    predict_warmup=predict_warmup, modes=modes, version=versions["tensorflow"], threads=tf_threads, **plan)
                rows.extend(dev_rows)

    # --- GPU: every engine that can reach one
    gpu_engines: dict[str, Any] = {}
    if "onnxruntime" in engines:
        probe = next((g for g in graphs.values() if isinstance(g, bytes)), None)
        gpu_engines["onnxruntime"] = (ort_engine.gpu_status(ort, probe) if ort is not None
                                      else {"available": False, "reason": ort_why})
    if "tensorflow" in engines:
        gpu_engines["tensorflow"] = tf_engine.gpu_status() if tf is not None else {"available": False, "reason": tf_why}
    if "torch" in engines:
        gpu_engines["torch"] = torch_engine.gpu_status(torch)
    gpu = _gpu_summary(gpu_engines) if gpu_engines else {"available": False, "device_name": None,
                                                          "reason": "no GPU-capable engine selected", "engines": {}}
    gpu_name = gpu.get("device_name")
    if "gpu" in devices:
        gpu_inputs = dict(inputs)
        gpu_inputs.update({b: tile(X, b) for b in gpu_extra})
        for engine, status in gpu_engines.items():
            if not status.get("available"):
                for name in MODELS:
                    rows.append(row(engine, versions.get(engine), name, "gpu", gpu_name, None, None,
                                    reason=status.get("reason")))
                continue
            if engine == "onnxruntime":
                for name in MODELS:
                    g = graphs.get(name)
                    if not isinstance(g, bytes):
                        rows.append(row(engine, ort.__version__, name, "gpu", gpu_name, None, None, reason=g))
                        continue
                    try:
                        sess = ort_engine.gpu_session(ort, g)
                    except Exception as exc:  # noqa: BLE001
                        rows.append(row(engine, ort.__version__, name, "gpu", gpu_name, None, None,
                                        reason=f"CUDA session failed: {short_error(exc)}"))
                        continue
                    try:
                        check("onnxruntime-gpu", name, sess.run(None, {"x": X})[0])
                    except Exception:  # noqa: BLE001 - the timed rows below record the error
                        pass
                    for mode in ("run", "io_binding"):
                        src = source_label(engine, ort.__version__, "gpu", mode, None)
                        for b in gpu_inputs:
                            n, w = timing_plan(b, **plan)
                            try:
                                fn = (ort_engine.run_fn(sess, gpu_inputs[b]) if mode == "run"
                                      else ort_engine.io_binding_fn(ort, sess, gpu_inputs[b]))
                            except Exception as exc:  # noqa: BLE001
                                rows.append(row(engine, ort.__version__, name, "gpu", gpu_name, mode, b, source=src,
                                                reason=short_error(exc)))
                                continue
                            rows.append(_timed(engine, ort.__version__, name, "gpu", gpu_name, mode, b, None, src, fn, n, w))
            elif engine == "torch":
                for name in MODELS:
                    g = graphs.get(name)
                    if not isinstance(g, bytes):
                        rows.append(row(engine, torch.__version__, name, "gpu", gpu_name, None, None, reason=g))
                        continue
                    try:
                        run = torch_engine.compile_graph(torch, g, "cuda")
                        check("torch-gpu", name, torch_engine.gpu_eager_fn(torch, run, X)())
                    except Exception as exc:  # noqa: BLE001
                        rows.append(row(engine, torch.__version__, name, "gpu", gpu_name, None, None,
                                        reason=f"torch CUDA engine failed: {short_error(exc)}"))
                        continue
                    for mode in ("eager", "cuda_graph"):
                        src = source_label(engine, torch.__version__, "gpu", mode, None)
                        for b in gpu_inputs:
                            n, w = timing_plan(b, **plan)
                            try:
                                fn = (torch_engine.gpu_eager_fn(torch, run, gpu_inputs[b]) if mode == "eager"
                                      else torch_engine.gpu_graph_fn(torch, run, gpu_inputs[b]))
                            except Exception as exc:  # noqa: BLE001
                                rows.append(row(engine, torch.__version__, name, "gpu", gpu_name, mode, b, source=src,
                                                reason=short_error(exc)))
                                continue
                            rows.append(_timed(engine, torch.__version__, name, "gpu", gpu_name, mode, b, None, src, fn, n, w))
            elif engine == "tensorflow":
                qg, fg, fwhy = tf_engine.load_models(model_path, "/GPU:0", trust_code)
                dev_rows, xla["gpu"] = tf_engine.time_device(
                    "gpu", gpu_name, "/GPU:0", {"float": fg if fg is not None else fwhy, "qkeras": qg}, gpu_inputs,
                    predict_reps=predict_reps, predict_warmup=predict_warmup, modes=modes,
                    version=versions["tensorflow"], threads=None, **plan)
                rows.extend(dev_rows)

    exports: dict[str, Any] = {}
    for name in MODELS:
        g = graphs.get(name)
        if isinstance(g, bytes):
            from hwgen.onnx_export import IR_VERSION, OPSET, sha256

            exports[name] = {"file": f"baseline/{ONNX_DIR}/{name}.onnx", "sha256": sha256(g), "bytes": len(g),
                             "opset": OPSET, "ir_version": IR_VERSION, "origin": graphs_from}
        else:
            exports[name] = {"file": None, "reason": g}
    agreement["engines"] = checks

    record = {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model_file": "train/model.h5",
        "data_file": "train/data.npz",
        "input_shape": list(X.shape[1:]),
        "definitions": {"float": FLOAT_DEFINITION, "qkeras": QKERAS_DEFINITION, "timing": TIMING_METHOD,
                        "engines": ENGINE_DEFINITIONS},
        "settings": {
            "reps": reps,
            "predict_reps": min(reps, predict_reps),
            "warmup": warmup,
            "predict_warmup": min(warmup, predict_warmup),
            "batches": [1, *batches],
            "gpu_extra_batches": list(gpu_extra),
            "throughput_reps": throughput_reps,
            "throughput_warmup": throughput_warmup,
            "modes": list(modes),
            "devices": list(devices),
            "engines": list(engines),
            "engines_absent": absent,
            "threads": list(thread_counts),
        },
        "versions": versions,
        "host": {
            "cpu_model": cpu_name,
            "cpu_cores_usable": cores,
            "os": f"{platform.system()} {platform.release()}",
            "machine": platform.machine(),
            "load_avg_at_start": load_start,
            "load_avg_at_end": load_average(),
            "load_avg_1m_at_start": load_start[0] if load_start else None,
        },
        "threads": {
            "tensorflow": tf_engine.thread_settings() if tf is not None else None,
            "onnxruntime": {"intra_op": list(thread_counts), "inter_op": 1},
            "numpy": {**blas, "threads_timed": list(thread_counts)},
            "torch": {"threads_timed": list(thread_counts)} if torch is not None else None,
        },
        "devices": {"cpu": {"available": True, "device_name": cpu_name, "reason": None}, "gpu": gpu},
        "exports": exports,
        "xla": xla,
        "agreement": agreement,
        "best": best_by_batch(rows),
        "baselines": rows,
        "wall_s": round(time.perf_counter() - t_start, 3),
    }
    if write:
        from hwgen.results import write_json
        from hwgen.rundir import staged_subdir

        with staged_subdir(run_dir / "baseline") as staging:
            (staging / ONNX_DIR).mkdir(parents=True, exist_ok=True)
            for name in MODELS:
                if isinstance(graphs.get(name), bytes):
                    (staging / ONNX_DIR / f"{name}.onnx").write_bytes(graphs[name])
            write_json(staging / "baseline.json", record)
    return record


def _timed(engine, version, model, device, device_name, mode, batch, threads, source, fn, reps, warmup) -> dict:
    try:
        measured = measure(fn, batch, reps, warmup)
    except Exception as exc:  # noqa: BLE001 - recorded as an unavailable row
        return row(engine, version, model, device, device_name, mode, batch, threads=threads, source=source,
                   reason=short_error(exc))
    return row(engine, version, model, device, device_name, mode, batch, threads=threads, source=source, **measured)


def read_baselines(run_dir: Path) -> dict | None:
    """The stored baseline record of a run, or None when the baseline was not run."""
    from hwgen.results import read_json

    path = Path(run_dir) / "baseline" / "baseline.json"
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except (OSError, ValueError) as exc:
        raise HwgenError(f"cannot read {path}: {exc}; rerun `hwgen baseline {run_dir}`") from None


# --------------------------------------------------------------------------------------------
# Text table


def _fmt(value: Any, spec: str = ".1f") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def _table(header: tuple[str, ...], lines: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    widths[-1] = 0
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    out.append("  ".join("-" * max(w, 4) for w in widths[:-1]))
    for line in lines:
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
    return out


def format_table(record: dict) -> str:
    """The best figure per batch size, then every row, as fixed-width text (CLI and benchmark)."""
    rows = record.get("baselines", [])
    best = record.get("best") or best_by_batch(rows)
    out = ["best measured software figure per batch size:"]
    out += _table(("batch", "median us", "p99 us", "samples/s", "engine"), [
        (str(e["batch"]), _fmt(e.get("latency_us_median")), _fmt(e.get("latency_us_p99")),
         _fmt(e.get("throughput_sps"), ",.0f"), describe(e)) for e in best])
    out.append("")
    header = ("engine", "model", "device", "mode", "threads", "batch", "median us", "p99 us", "samples/s", "reps",
              "warmup", "note")
    lines = []
    for r in rows:
        note = "" if r.get("available") else f"not available: {r.get('reason')}"
        lines.append((
            f"{r.get('engine')} {r.get('engine_version') or ''}".strip(), r["model"], r["device"], r.get("mode") or "-",
            _fmt(r.get("threads")), _fmt(r.get("batch")), _fmt(r.get("latency_us_median")),
            _fmt(r.get("latency_us_p99")), _fmt(r.get("throughput_sps"), ",.0f"), _fmt(r.get("reps")),
            _fmt(r.get("warmup")), note,
        ))
    out += _table(header, lines)
    v = record.get("versions", {})
    host = record.get("host", {})
    out.append("")
    out.append(
        f"python {v.get('python')}, numpy {v.get('numpy')}, onnxruntime {v.get('onnxruntime')}, "
        f"tensorflow {v.get('tensorflow')}, keras {v.get('keras')}, qkeras {v.get('qkeras')}"
    )
    blas = (record.get("threads") or {}).get("numpy") or {}
    tfth = (record.get("threads") or {}).get("tensorflow") or {}
    out.append(
        f"CPU: {host.get('cpu_model')} ({host.get('cpu_cores_usable')} usable cores); BLAS {blas.get('blas')} "
        f"{blas.get('blas_version')} ({blas.get('blas_architecture')}); TensorFlow intra_op={tfth.get('intra_op')}, "
        f"inter_op={tfth.get('inter_op')} (0 = TF default); load average at start {host.get('load_avg_at_start')}, "
        f"at end {host.get('load_avg_at_end')}"
    )
    gpu = record.get("devices", {}).get("gpu", {})
    out.append(f"GPU: {gpu.get('device_name') if gpu.get('available') else 'not available: ' + str(gpu.get('reason'))}")
    if record.get("wall_s") is not None:
        out.append(f"baseline wall time: {record['wall_s']:.1f} s")
    return "\n".join(out)
