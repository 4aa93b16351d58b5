"""Software baselines: the same trained network timed in TensorFlow on the CPU (and a GPU).

Two networks are timed, both built from `RUN/train/model.h5`:

* ``qkeras``: the QKeras model exactly as trained (weight and activation quantizers active,
  computed in float32 by TensorFlow, as QKeras does).
* ``float``: `hwgen.qmodel.float_twin` of it, the project's one definition of the float network
  (see FLOAT_DEFINITION): the same topology as plain Keras layers with the stored, unquantized
  trained weights.

For each device TensorFlow can use (``cpu``, ``gpu``) and each execution mode

* ``predict``: ``model.predict(x, batch_size=batch)`` (numpy in, numpy out; Keras overhead included),
* ``tf_function``: ``tf.function(model)`` on a tensor already on the device, result copied to numpy,
* ``xla``: the same with ``jit_compile=True`` (a row says available: false with the compiler's
  error if XLA cannot compile the model on that device),

it measures batch-1 latency (median and p99 over `reps` timed calls after `warmup` untimed ones)
and large-batch throughput (samples/s = batch / median call time). Every row records the number
of repetitions and warm-up calls it used.

The record is written to ``RUN/baseline/baseline.json``; its layout is documented in
docs/report-json.md ("baselines").
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from hwgen.errors import HwgenError

SCHEMA = "hwgen.baseline/1"
MODELS = ("float", "qkeras")
DEVICES = ("cpu", "gpu")
MODES = ("predict", "tf_function", "xla")
DEFAULT_REPS = 200
DEFAULT_WARMUP = 10
DEFAULT_BATCHES = (1024, 16384)
# Keras predict() builds a tf.data pipeline on every call (tens of milliseconds of Python); its
# batch-1 rows use at most this many reps and warm-up calls by default so that the whole baseline
# of a small model stays within seconds. Each row records the counts it used.
DEFAULT_PREDICT_REPS = 10
DEFAULT_PREDICT_WARMUP = 2
DEFAULT_THROUGHPUT_REPS = 3
DEFAULT_THROUGHPUT_WARMUP = 2

FLOAT_DEFINITION = (
    "float = hwgen.qmodel.float_twin(qkeras model): the same layers as plain Keras float32 layers "
    "(QDense->Dense, QConv2D->Conv2D, QActivation->ReLU; pooling/flatten copied) holding the stored "
    "trained weights as they are in model.h5, i.e. the unquantized float32 'shadow' weights that the "
    "QKeras kernel/bias quantizers round at inference (not the quantized values); no input, weight or "
    "activation quantization. It is the network the report's 'float' accuracy refers to."
)
QKERAS_DEFINITION = (
    "qkeras = RUN/train/model.h5 loaded as is: weight, bias and activation quantizers applied on every "
    "call, computed in float32 by TensorFlow (QKeras simulates fixed point with extra rounding/clipping "
    "ops; it does not run integer arithmetic)."
)
TIMING_METHOD = (
    "time.perf_counter_ns around each call; latency rows: batch 1, `warmup` untimed calls then `reps` "
    "timed calls, median and p99 (numpy linear-interpolated percentile) in microseconds; throughput "
    "rows: batch B built by tiling X_test, `warmup` untimed then `reps` timed calls, throughput = "
    "B / median call time. predict: numpy in/out through model.predict(batch_size=B, verbose=0). "
    "tf_function/xla: input tensor already on the device, timing includes the call and copying the "
    "result to host numpy (which waits for the device)."
)


# --------------------------------------------------------------------------------------------
# Host and framework facts


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux), else platform's best guess."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def framework_versions() -> dict[str, str]:
    from hwgen.tfcompat import keras, qkeras, tf

    out = {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "qkeras": getattr(qkeras, "__version__", "unknown"),
        "numpy": np.__version__,
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
            "reason": "tensorflow-cpu build (TensorFlow built without CUDA); for GPU rows install TensorFlow's "
            "CUDA build, tensorflow[and-cuda]==2.15.1 (README: GPU baselines)",
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
    cores = _cpu_count()
    return {
        "intra_op": intra,
        "inter_op": inter,
        "cpu_cores_usable": cores,
        "note": "0 means TensorFlow's default (a pool sized to the usable cores, here "
        f"{cores}); set with `hwgen baseline --threads N`",
    }


# --------------------------------------------------------------------------------------------
# Timing


def _summarize(times_ns: list[int], batch: int) -> dict[str, float]:
    arr = np.asarray(times_ns, dtype=np.float64) / 1000.0  # microseconds
    median = float(np.median(arr))
    return {
        "latency_us_median": median,
        "latency_us_p99": float(np.percentile(arr, 99)),
        "latency_us_min": float(arr.min()),
        "throughput_sps": batch / (median * 1e-6) if median > 0 else None,
    }


def time_calls(fn: Callable[[], Any], reps: int, warmup: int) -> list[int]:
    """Call `fn` `warmup` times untimed, then `reps` times timed; nanoseconds per call."""
    for _ in range(warmup):
        fn()
    out = []
    clock = time.perf_counter_ns
    for _ in range(reps):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


def _tile(X: np.ndarray, batch: int) -> np.ndarray:
    return np.ascontiguousarray(np.resize(X, (batch, *X.shape[1:])).astype(np.float32, copy=False))


def _short_error(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _row(model: str, device: str, device_name: str | None, mode: str | None, batch: int | None, **kw) -> dict:
    row = {
        "model": model,
        "device": device,
        "device_name": device_name,
        "mode": mode,
        "batch": batch,
        "latency_us_median": None,
        "latency_us_p99": None,
        "latency_us_min": None,
        "throughput_sps": None,
        "reps": 0,
        "warmup": 0,
        "available": False,
        "reason": None,
        "source": None,
    }
    row.update(kw)
    return row


# --------------------------------------------------------------------------------------------
# Models


def _load_models(model_path: Path, tf_device: str, trust_code: bool):
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


def _agreement(qmodel, fmodel, X: np.ndarray, y: np.ndarray | None) -> dict[str, Any]:
    """How close the timed float network is to the QKeras one on X_test (sanity, not a result)."""
    q = np.asarray(qmodel(X, training=False))
    out: dict[str, Any] = {"n_samples": int(len(X))}
    if y is not None and len(y) == len(X):
        out["qkeras_accuracy"] = float(np.mean(np.argmax(q, axis=1) == y))
    if fmodel is not None:
        f = np.asarray(fmodel(X, training=False))
        out["argmax_agreement"] = float(np.mean(np.argmax(q, axis=1) == np.argmax(f, axis=1)))
        out["max_abs_logit_diff"] = float(np.max(np.abs(q - f)))
        if y is not None and len(y) == len(X):
            out["float_accuracy"] = float(np.mean(np.argmax(f, axis=1) == y))
    return out


def _read_inputs(run_dir: Path) -> tuple[Path, np.ndarray, np.ndarray | None]:
    model_path = run_dir / "train" / "model.h5"
    data_path = run_dir / "train" / "data.npz"
    if not model_path.is_file():
        raise HwgenError(f"{model_path} not found: the baseline needs the trained model; run `hwgen flow` first")
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
    return model_path, X, y


# --------------------------------------------------------------------------------------------
# The baseline


def _compiled(model, xla: bool):
    """model(x) as one TensorFlow graph; with xla=True compiled by XLA (jit_compile) on first call."""
    from hwgen.tfcompat import tf

    def call(t):
        return model(t, training=False)

    return tf.function(call, jit_compile=xla)


def _time_device(
    device: str,
    device_name: str,
    tf_device: str,
    models: dict[str, Any],
    X: np.ndarray,
    *,
    reps: int,
    warmup: int,
    predict_reps: int,
    predict_warmup: int,
    batches: tuple[int, ...],
    throughput_reps: int,
    throughput_warmup: int,
    modes: tuple[str, ...],
    tf_version: str,
) -> tuple[list[dict], dict[str, Any]]:
    from hwgen.tfcompat import tf

    rows: list[dict] = []
    xla_info: dict[str, Any] = {}
    inputs = {b: (X[:1].copy() if b == 1 else _tile(X, b)) for b in (1, *batches)}
    for model_name in MODELS:
        model = models.get(model_name)
        if isinstance(model, str):  # reason the model could not be built
            rows.append(_row(model_name, device, device_name, None, None, reason=model))
            continue
        for mode in modes:
            source = f"tensorflow-{tf_version}:{device}:{mode}"
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

            for b in (1, *batches):
                is_latency = b == 1
                n = (min(reps, predict_reps) if mode == "predict" else reps) if is_latency else throughput_reps
                w = (min(warmup, predict_warmup) if mode == "predict" else warmup) if is_latency else throughput_warmup
                fn = fn_for_batch(b)
                w = max(w, 1)  # the first call (which traces/compiles) counts as one warm-up call
                with tf.device(tf_device):
                    try:
                        fn()  # errors here mean the mode does not work on this device
                    except Exception as exc:  # noqa: BLE001 - recorded as an unavailable row
                        reason = _short_error(exc)
                        if mode == "xla":
                            reason = f"XLA (jit_compile=True) failed: {reason}"
                            xla_info.setdefault(model_name, {"compiled": False, "reason": reason})
                        rows.append(_row(model_name, device, device_name, mode, b, reason=reason, source=source))
                        continue
                    if mode == "xla":
                        xla_info.setdefault(model_name, {"compiled": True, "reason": None})
                    times = time_calls(fn, n, w - 1)
                rows.append(
                    _row(model_name, device, device_name, mode, b, reps=n, warmup=w, available=True, source=source,
                         **_summarize(times, b))
                )
    return rows, xla_info


def run_baselines(
    run_dir: Path,
    *,
    reps: int = DEFAULT_REPS,
    batches: Iterable[int] = DEFAULT_BATCHES,
    devices: Iterable[str] | None = None,
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
    """Time the run's network in software; write RUN/baseline/baseline.json and return the record.

    `devices` defaults to ('cpu', 'gpu'); a device TensorFlow cannot use gives one row per model
    with available: false and the reason. `threads` bounds TensorFlow's CPU thread pools (only
    effective before TensorFlow has run any op in this process; the record holds what was used).
    """
    run_dir = Path(run_dir)
    devices = tuple(devices) if devices is not None else DEVICES
    batches = tuple(int(b) for b in batches)
    modes = tuple(modes)
    bad = [d for d in devices if d not in DEVICES]
    if bad:
        raise HwgenError(f"unknown baseline device(s) {bad}; choose from {list(DEVICES)}")
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise HwgenError(f"unknown baseline mode(s) {bad}; choose from {list(MODES)}")
    if min(reps, predict_reps, throughput_reps) < 1 or min(warmup, predict_warmup, throughput_warmup) < 0:
        raise HwgenError("baseline repetitions must be >= 1 and warm-up counts >= 0")
    if any(b < 2 for b in batches):
        raise HwgenError(f"throughput batches must be >= 2 (batch 1 is always timed for latency), got {list(batches)}")

    model_path, X, y = _read_inputs(run_dir)
    t_start = time.perf_counter()
    try:  # other work on the host inflates the tails; recorded so a reader can judge the numbers
        load_avg = round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        load_avg = None
    from hwgen.tfcompat import set_threads, tf

    if threads:
        set_threads(threads)
    versions = framework_versions()
    gpu = gpu_status()
    cpu_name = cpu_model()
    device_info = {
        "cpu": {"available": True, "device_name": cpu_name, "reason": None, "tf_device": "/CPU:0"},
        "gpu": {**gpu, "tf_device": "/GPU:0"},
    }

    rows: list[dict] = []
    xla: dict[str, Any] = {}
    agreement: dict[str, Any] = {}
    for device in devices:
        info = device_info[device]
        if not info["available"]:
            for model_name in MODELS:
                rows.append(_row(model_name, device, info.get("device_name"), None, None, reason=info["reason"]))
            continue
        qmodel, fmodel, float_why = _load_models(model_path, info["tf_device"], trust_code)
        if not agreement:
            with tf.device(info["tf_device"]):
                agreement = _agreement(qmodel, fmodel, X, y)
        models = {"qkeras": qmodel, "float": fmodel if fmodel is not None else float_why}
        dev_rows, dev_xla = _time_device(
            device, info["device_name"], info["tf_device"], models, X,
            reps=reps, warmup=warmup, predict_reps=predict_reps, predict_warmup=predict_warmup, batches=batches,
            throughput_reps=throughput_reps, throughput_warmup=throughput_warmup, modes=modes,
            tf_version=versions["tensorflow"],
        )
        rows.extend(dev_rows)
        xla[device] = dev_xla

    record = {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model_file": "train/model.h5",
        "data_file": "train/data.npz",
        "input_shape": list(X.shape[1:]),
        "definitions": {"float": FLOAT_DEFINITION, "qkeras": QKERAS_DEFINITION, "timing": TIMING_METHOD},
        "settings": {
            "reps": reps,
            "predict_reps": min(reps, predict_reps),
            "warmup": warmup,
            "predict_warmup": min(warmup, predict_warmup),
            "batches": [1, *batches],
            "throughput_reps": throughput_reps,
            "throughput_warmup": throughput_warmup,
            "modes": list(modes),
            "devices": list(devices),
        },
        "versions": versions,
        "host": {
            "cpu_model": cpu_name,
            "cpu_cores_usable": _cpu_count(),
            "os": f"{platform.system()} {platform.release()}",
            "machine": platform.machine(),
            "load_avg_1m_at_start": load_avg,
        },
        "threads": thread_settings(),
        "devices": {d: {k: v for k, v in device_info[d].items() if k != "tf_device"} for d in DEVICES},
        "xla": xla,
        "agreement": agreement,
        "baselines": rows,
        "wall_s": round(time.perf_counter() - t_start, 3),
    }
    if write:
        from hwgen.results import write_json
        from hwgen.rundir import staged_subdir

        with staged_subdir(run_dir / "baseline") as staging:
            write_json(staging / "baseline.json", record)
    return record


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


def format_table(record: dict) -> str:
    """The baseline rows as a fixed-width text table (for the CLI and the benchmark script)."""
    header = ("model", "device", "mode", "batch", "median us", "p99 us", "samples/s", "reps", "warmup", "note")
    lines = []
    for r in record.get("baselines", []):
        note = "" if r.get("available") else f"not available: {r.get('reason')}"
        lines.append((
            r["model"], r["device"], r.get("mode") or "-", _fmt(r.get("batch")),
            _fmt(r.get("latency_us_median")), _fmt(r.get("latency_us_p99")),
            _fmt(r.get("throughput_sps"), ",.0f"), _fmt(r.get("reps")), _fmt(r.get("warmup")), note,
        ))
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    widths[-1] = 0
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    out.append("  ".join("-" * max(w, 4) for w in widths[:-1]))
    for line in lines:
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
    v = record.get("versions", {})
    th = record.get("threads", {})
    host = record.get("host", {})
    out.append("")
    out.append(
        f"tensorflow {v.get('tensorflow')}, keras {v.get('keras')}, qkeras {v.get('qkeras')}; "
        f"CPU: {host.get('cpu_model')} ({host.get('cpu_cores_usable')} usable cores, "
        f"intra_op={th.get('intra_op')}, inter_op={th.get('inter_op')}; 0 = TF default)"
    )
    gpu = record.get("devices", {}).get("gpu", {})
    out.append(f"GPU: {gpu.get('device_name') if gpu.get('available') else 'not available: ' + str(gpu.get('reason'))}")
    if record.get("wall_s") is not None:
        out.append(f"baseline wall time: {record['wall_s']:.1f} s")
    return "\n".join(out)
