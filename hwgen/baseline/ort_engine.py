"""The ONNX Runtime engine: hwgen's ONNX graphs in an `onnxruntime.InferenceSession`.

CPU: the CPU execution provider, full graph optimization, sequential execution, intra-op threads
set per row (inter-op 1). Mode ``run``: `session.run` with a numpy array in and out.

GPU (used automatically when the installed onnxruntime has the CUDA execution provider and a
session can actually be placed on it): mode ``run`` (numpy in and out, so the host-to-device and
device-to-host copies are in the time) and mode ``io_binding`` (the input already on the GPU,
the logits copied back to host numpy, which waits for the device; as TensorFlow's
tf_function rows). The CUDA build comes from the ``gpu`` extra (README: GPU baselines).
"""

from __future__ import annotations

import contextlib
import io
import re
from typing import Any, Callable

import numpy as np

from hwgen.onnx_export import INPUT_NAME, OUTPUT_NAME

ENGINE = "onnxruntime"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
GPU_HINT = ("install the `gpu` extra on a CUDA machine (Python 3.12: onnxruntime-gpu; README: GPU baselines)")


def available() -> tuple[Any, str | None]:
    """(the onnxruntime module or None, why not)."""
    try:
        import onnxruntime as ort
    except Exception as exc:  # noqa: BLE001 - recorded as unavailable rows
        return None, f"onnxruntime is not importable here ({type(exc).__name__}: {exc})"
    return ort, None


def _options(ort, threads: int | None):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if threads:
        so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return so


def cpu_session(ort, model_bytes: bytes, threads: int):
    return ort.InferenceSession(model_bytes, sess_options=_options(ort, threads), providers=[CPU])


def _preload_cuda(ort) -> None:
    """Load the CUDA/cuDNN libraries that the nvidia-* wheels of the `gpu` extra bring (ORT >= 1.21)."""
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:
        try:
            preload()
        except Exception:  # noqa: BLE001 - the session creation below reports what is missing
            pass


def gpu_status(ort, probe_model: bytes | None) -> dict[str, Any]:
    """Whether onnxruntime can run on a GPU here: the CUDA provider exists and a session lands on it."""
    if ort is None:
        return {"available": False, "reason": "onnxruntime is not installed"}
    providers = ort.get_available_providers()
    if CUDA not in providers:
        return {"available": False,
                "reason": f"onnxruntime {ort.__version__} has no {CUDA} (providers: {', '.join(providers)}); {GPU_HINT}"}
    if probe_model is None:
        return {"available": False, "reason": "no ONNX graph to place on the GPU"}
    _preload_cuda(ort)
    printed = io.StringIO()
    try:  # onnxruntime prints an "EP Error" banner to stdout when it falls back to the CPU: keep it for the reason
        with contextlib.redirect_stdout(printed):
            sess = ort.InferenceSession(probe_model, sess_options=_options(ort, None), providers=[CUDA, CPU])
    except Exception as exc:  # noqa: BLE001
        return {"available": False, "reason": f"{CUDA} session failed: {type(exc).__name__}: {exc}"[:300]}
    used = sess.get_providers()
    if not used or used[0] != CUDA:
        text = printed.getvalue()
        causes = (re.search(p, text) for p in (r"CUDA failure \d+: [^;]+", r"lib[\w.+-]+\.so[.\d]*: cannot open[^;]*"))
        cause = next((c for c in causes if c), None)
        detail = cause.group(0).strip() if cause else "no visible GPU, or CUDA 12/cuDNN 9 libraries missing"
        return {"available": False,
                "reason": f"{CUDA} is built in but could not be initialised ({detail[:200]}); the session fell back to {used}"}
    return {"available": True, "reason": None}


def gpu_session(ort, model_bytes: bytes):
    """A session on GPU 0 computing in float32 (TF32 tensor-core math off, so the figures are for the
    same arithmetic as the CPU rows)."""
    _preload_cuda(ort)
    try:
        return ort.InferenceSession(model_bytes, sess_options=_options(ort, None),
                                    providers=[(CUDA, {"device_id": 0, "use_tf32": 0}), CPU])
    except Exception:  # noqa: BLE001 - an onnxruntime without the use_tf32 option
        return ort.InferenceSession(model_bytes, sess_options=_options(ort, None), providers=[CUDA, CPU])


def run_fn(sess, x: np.ndarray) -> Callable[[], Any]:
    feed = {INPUT_NAME: x}
    outs = [OUTPUT_NAME]
    return lambda: sess.run(outs, feed)[0]


def io_binding_fn(ort, sess, x: np.ndarray) -> Callable[[], Any]:
    """Input resident on GPU 0; each call runs and copies the logits to host numpy."""
    xv = ort.OrtValue.ortvalue_from_numpy(x, "cuda", 0)
    binding = sess.io_binding()
    binding.bind_ortvalue_input(INPUT_NAME, xv)
    binding.bind_output(OUTPUT_NAME, "cpu")

    def call():
        sess.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()[0]

    call._keep = xv  # the device buffer must outlive the binding
    return call
