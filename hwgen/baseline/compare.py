"""The best measured software figure per batch size, over every engine, model and device.

Used by the baseline record (``best``), the report's "best software" table and its FPGA-vs-
software rows, so that no comparison is made against a slower engine when a faster one was
measured. Importable without TensorFlow or ONNX Runtime.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

BEST_KEYS = ("batch", "engine", "engine_version", "model", "device", "device_name", "mode", "threads",
             "latency_us_median", "latency_us_p99", "throughput_sps", "reps", "source")


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) and out > 0 else None


def measured(rows: Iterable[dict]) -> list[dict]:
    return [r for r in rows or [] if r.get("available") and _num(r.get("latency_us_median")) and r.get("batch")]


def best_by_batch(rows: Iterable[dict], device: str | None = None) -> list[dict]:
    """For each batch size, the row with the lowest median call time (so the highest throughput).

    Rows are those measured (available, with a median); `device` restricts to 'cpu' or 'gpu'.
    Ties keep the earlier row. Returns BEST_KEYS of each winning row, by ascending batch.
    """
    best: dict[int, dict] = {}
    for r in measured(rows):
        if device is not None and r.get("device") != device:
            continue
        b = int(r["batch"])
        if b not in best or float(r["latency_us_median"]) < float(best[b]["latency_us_median"]):
            best[b] = r
    return [{k: best[b].get(k) for k in BEST_KEYS} for b in sorted(best)]


def best_latency(rows: Iterable[dict]) -> dict | None:
    """The best batch-1 row (lowest median latency), or None."""
    for entry in best_by_batch(rows):
        if entry["batch"] == 1:
            return entry
    return None


def best_throughput(rows: Iterable[dict]) -> dict | None:
    """The row with the highest throughput over all batch sizes ('software at its best batch')."""
    entries = [e for e in best_by_batch(rows) if _num(e.get("throughput_sps"))]
    return max(entries, key=lambda e: float(e["throughput_sps"])) if entries else None


def describe(entry: dict | None) -> str:
    """'onnxruntime 1.32.0 (float, cpu, run, 1 thread)' for a best entry."""
    if not entry:
        return "–"
    bits = [str(entry.get("model")), str(entry.get("device"))]
    if entry.get("mode"):
        bits.append(str(entry["mode"]))
    if entry.get("threads"):
        bits.append(f"{entry['threads']} thread" + ("s" if int(entry["threads"]) != 1 else ""))
    return f"{entry.get('engine')} {entry.get('engine_version')} ({', '.join(bits)})"
