"""What every baseline engine shares: the timing protocol, the row layout, host facts.

Every engine is timed by `time_calls` (warm-up calls, then timed calls, perf_counter_ns around
each) and summarized by `summarize` (median, p99, min, throughput = batch / median), so rows of
different engines are measured the same way.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from typing import Any, Callable

import numpy as np

ENGINES = ("tensorflow", "onnxruntime", "numpy", "torch")
OPTIONAL_ENGINES = ("torch",)  # timed when importable; no rows where absent unless asked for by name
MODELS = ("float", "qkeras")
DEVICES = ("cpu", "gpu")


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


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def load_average() -> list[float] | None:
    """os.getloadavg() (1, 5, 15 minutes), rounded; other work on the host inflates the tails."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def nvidia_gpu_name() -> str | None:
    """The first GPU's name from nvidia-smi, when it is on PATH (informative only)."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    line = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else ""
    if not line:
        return None
    parts = [p.strip() for p in line.split(",")]
    return f"{parts[0]} (driver {parts[1]})" if len(parts) > 1 else parts[0]


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


def summarize(times_ns: list[int], batch: int) -> dict[str, float]:
    arr = np.asarray(times_ns, dtype=np.float64) / 1000.0  # microseconds
    median = float(np.median(arr))
    return {
        "latency_us_median": median,
        "latency_us_p99": float(np.percentile(arr, 99)),
        "latency_us_min": float(arr.min()),
        "throughput_sps": batch / (median * 1e-6) if median > 0 else None,
    }


def tile(X: np.ndarray, batch: int) -> np.ndarray:
    """`batch` samples (X_test repeated), float32, C-contiguous."""
    return np.ascontiguousarray(np.resize(X, (batch, *X.shape[1:])).astype(np.float32, copy=False))


def short_error(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def row(engine: str, engine_version: str | None, model: str, device: str, device_name: str | None,
        mode: str | None, batch: int | None, **kw) -> dict:
    """One baseline row; see docs/report-json.md ("baselines") for the keys."""
    out = {
        "engine": engine,
        "engine_version": engine_version,
        "model": model,
        "device": device,
        "device_name": device_name,
        "mode": mode,
        "threads": None,
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
    out.update(kw)
    return out


def source_label(engine: str, version: str | None, device: str, mode: str | None, threads: int | None) -> str:
    """`engine-version:device:mode[:threads=N]`, the label a row's figures carry."""
    label = f"{engine}-{version}:{device}:{mode}"
    return label + (f":threads={threads}" if threads else "")


def timing_plan(batch: int, *, reps: int, warmup: int, throughput_reps: int, throughput_warmup: int) -> tuple[int, int]:
    """(timed calls, warm-up calls) for a batch size: batch 1 is the latency protocol."""
    return (reps, warmup) if batch == 1 else (throughput_reps, throughput_warmup)


def measure(fn: Callable[[], Any], batch: int, reps: int, warmup: int) -> dict:
    """Run the first call (which must succeed), then time; the fields a measured row adds."""
    fn()  # the first call (tracing/compiling/allocating) counts as a warm-up call
    warm = max(warmup, 1)
    times = time_calls(fn, reps, warm - 1)
    return {"reps": reps, "warmup": warm, "available": True, **summarize(times, batch)}
