"""The TensorFlow engine: the Keras models themselves, on the CPU (and a GPU TensorFlow can use).

For each device and each execution mode

* ``predict``: ``model.predict(x, batch_size=batch)`` (numpy in, numpy out; Keras overhead included),
* ``tf_function``: ``tf.function(model)`` on a tensor already on the device, result copied to numpy,
* ``xla``: the same with ``jit_compile=True`` (a row says available: false with the compiler's
  error if XLA cannot compile the model on that device),

it times batch 1 and the large batches with the shared protocol (hwgen.baseline.common). Keras
predict() builds a tf.data pipeline on every call (tens of milliseconds of Python), so its
batch-1 rows use at most `predict_reps` timed and `predict_warmup` warm-up calls.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hwgen.baseline.common import cpu_count, measure, row, short_error, source_label, timing_plan
from hwgen.errors import HwgenError

ENGINE = "tensorflow"
MODES = ("predict", "tf_function", "xla")


def available() -> tuple[Any, str | None]:
    """(the tensorflow module via hwgen.tfcompat, or None and why not)."""
    try:
        from hwgen.tfcompat import tf
    except Exception as exc:  # noqa: BLE001 - e.g. the Python 3.12 GPU-baseline install has no TensorFlow
        return None, f"TensorFlow is not importable here ({type(exc).__name__}: {exc})"
    return tf, None


def framework_versions() -> dict[str, Any]:
    from hwgen.tfcompat import keras, qkeras, tf

    out: dict[str, Any] = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "qkeras": getattr(qkeras, "__version__", "unknown"),
    }
    build = {}
    try:
        build = dict(tf.sysconfig.get_build_info())
    except Exception:  # noqa: BLE001 - build info is informative only
        pass
    out["tensorflow_cuda_build"] = bool(tf.test.is_built_with_cuda())
    if build.get("cuda_version"):
        out["tensorflow_cuda"] = str(build.get("cuda_version"))
    if build.get("cudnn_version"):
        out["tensorflow_cudnn"] = str(build.get("cudnn_version"))
    return out


def gpu_status() -> dict[str, Any]:
    """Whether TensorFlow can run on a GPU here, its name, or why not."""
    from hwgen.tfcompat import tf

    try:
        gpus = tf.config.list_physical_devices("GPU")
    except Exception as exc:  # noqa: BLE001
        return {"available": False, "device_name": None, "reason": f"GPU query failed: {exc}"}
    if gpus:
        for gpu in gpus:  # take GPU memory as needed instead of all of it (only possible before first use)
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except (RuntimeError, ValueError):
                pass
        name = gpus[0].name
        try:
            details = tf.config.experimental.get_device_details(gpus[0])
            name = details.get("device_name") or name
            cc = details.get("compute_capability")
            if cc:
                name = f"{name} (compute capability {cc[0]}.{cc[1]})"
        except Exception:  # noqa: BLE001 - name is informative only
            pass
        return {"available": True, "device_name": name, "reason": None, "count": len(gpus)}
    if not tf.test.is_built_with_cuda():
        return {
            "available": False,
            "device_name": None,
            "reason": "tensorflow-cpu build (TensorFlow built without CUDA); GPU rows come from ONNX Runtime's "
            "CUDA provider (the `gpu` extra, README: GPU baselines)",
        }
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    extra = f"; CUDA_VISIBLE_DEVICES={visible!r}" if visible is not None else ""
    return {
        "available": False,
        "device_name": None,
        "reason": f"no GPU visible to TensorFlow (CUDA build; check nvidia-smi and the driver{extra})",
    }


def thread_settings() -> dict[str, Any]:
    from hwgen.tfcompat import tf

    intra = int(tf.config.threading.get_intra_op_parallelism_threads())
    inter = int(tf.config.threading.get_inter_op_parallelism_threads())
    return {"intra_op": intra, "inter_op": inter,
            "note": f"0 means TensorFlow's default (a pool sized to the usable cores, here {cpu_count()})"}


def load_models(model_path: Path, tf_device: str, trust_code: bool):
    """(qkeras model, float model or None, why float is missing) with variables on `tf_device`."""
    from hwgen.modelio import load_model
    from hwgen.tfcompat import tf

    with tf.device(tf_device):
        qmodel = load_model(model_path, trust_code=trust_code)
        try:
            from hwgen.qmodel import float_twin

            fmodel = float_twin(qmodel)
            why = None
        except HwgenError as exc:
            fmodel, why = None, f"no float equivalent: {exc}"
    return qmodel, fmodel, why


def logits(model, X: np.ndarray) -> np.ndarray:
    return np.asarray(model(X, training=False))


def _compiled(model, xla: bool):
    """model(x) as one TensorFlow graph; with xla=True compiled by XLA (jit_compile) on first call."""
    from hwgen.tfcompat import tf

    def call(t):
        return model(t, training=False)

    return tf.function(call, jit_compile=xla)


def time_device(device: str, device_name: str, tf_device: str, models: dict[str, Any],
                inputs: dict[int, np.ndarray], *, reps: int, warmup: int, predict_reps: int, predict_warmup: int,
                throughput_reps: int, throughput_warmup: int, modes: tuple[str, ...],
                version: str, threads: int | None) -> tuple[list[dict], dict[str, Any]]:
    """Rows for one device; `models` maps float/qkeras to a Keras model or the reason it is missing."""
    from hwgen.tfcompat import tf

    rows: list[dict] = []
    xla_info: dict[str, Any] = {}
    batches = sorted(inputs)
    for model_name, model in models.items():
        if isinstance(model, str):  # reason the model could not be built
            rows.append(row(ENGINE, version, model_name, device, device_name, None, None, reason=model))
            continue
        for mode in modes:
            source = source_label(ENGINE, version, device, mode, None)
            fn_for_batch: Callable[[int], Callable[[], Any]]
            if mode == "predict":

                def fn_for_batch(b, _m=model):
                    x = inputs[b]
                    return lambda: _m.predict(x, batch_size=b, verbose=0)

            else:
                with tf.device(tf_device):
                    compiled = _compiled(model, xla=(mode == "xla"))
                    tensors = {b: tf.identity(tf.constant(inputs[b])) for b in inputs}

                def fn_for_batch(b, _f=compiled, _t=tensors):
                    return lambda: _f(_t[b]).numpy()

            for b in batches:
                n, w = timing_plan(b, reps=reps, warmup=warmup, throughput_reps=throughput_reps,
                                   throughput_warmup=throughput_warmup)
                if mode == "predict" and b == 1:
                    n, w = min(n, predict_reps), min(w, predict_warmup)
                common = dict(source=source, threads=threads if device == "cpu" else None)
                with tf.device(tf_device):
                    try:
                        measured = measure(fn_for_batch(b), b, n, w)
                    except Exception as exc:  # noqa: BLE001 - recorded as an unavailable row
                        reason = short_error(exc)
                        if mode == "xla":
                            reason = f"XLA (jit_compile=True) failed: {reason}"
                            xla_info.setdefault(model_name, {"compiled": False, "reason": reason})
                        rows.append(row(ENGINE, version, model_name, device, device_name, mode, b, reason=reason, **common))
                        continue
                if mode == "xla":
                    xla_info.setdefault(model_name, {"compiled": True, "reason": None})
                rows.append(row(ENGINE, version, model_name, device, device_name, mode, b, **common, **measured))
    return rows, xla_info
