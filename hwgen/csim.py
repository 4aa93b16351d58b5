"""Stage 3: C-simulation. The hls4ml project is compiled with g++ into a shared library and
run on the test split; its outputs (the logits, before any softmax) are compared bit for bit
with the QKeras model's. Reads hls/ and train/data.npz; writes csim.json.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

import numpy as np

from hwgen.errors import HwgenError, ToolMissing
from hwgen.results import read_json, write_json
from hwgen.rundir import RunPaths


@dataclass(frozen=True)
class CsimResult:
    n_samples: int
    bit_exact_fraction: float
    max_abs_diff: float
    accuracy: float | None
    accuracy_qkeras: float | None
    guaranteed: bool  # False when a layer's exactness is only measured (float batch norm, see convert.json)
    compiler: str
    compile_s: float
    run_s: float
    source: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def compiler_version() -> str:
    gxx = shutil.which("g++")
    if not gxx:
        raise ToolMissing("g++ not found; install it with: apt-get install g++")
    out = subprocess.run([gxx, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"(\d+\.\d+\.\d+)", out)
    return f"g++ {m.group(1) if m else '?'}"


def compare_logits(got: np.ndarray, ref: np.ndarray, y: np.ndarray, meaningful: bool) -> dict:
    got = np.asarray(got, dtype=np.float64).reshape(ref.shape)
    ref = np.asarray(ref, dtype=np.float64)
    same = np.all(got == ref, axis=1)
    return {
        "n_samples": int(len(ref)),
        "bit_exact_fraction": float(np.mean(same)) if len(ref) else float("nan"),
        "max_abs_diff": float(np.max(np.abs(got - ref))) if len(ref) else 0.0,
        "accuracy": float(np.mean(np.argmax(got, axis=1) == y)) if meaningful else None,
        "accuracy_qkeras": float(np.mean(np.argmax(ref, axis=1) == y)) if meaningful else None,
    }


def run_csim(paths: RunPaths, meaningful_labels: bool = True, max_samples: int | None = None) -> CsimResult:
    import hls4ml

    compiler = compiler_version()
    data = np.load(paths.data)
    X, y, ref = data["X_test"], data["y_test"], data["logits_qkeras"]
    if max_samples:
        X, y, ref = X[:max_samples], y[:max_samples], ref[:max_samples]
    project = __import__("hwgen.hlsproject", fromlist=["link_project"]).link_project(paths.hls_dir)
    start = time.monotonic()
    try:
        project.compile()
    except Exception as exc:  # noqa: BLE001 - compiler failures surface as assorted exceptions
        raise HwgenError(f"g++ could not compile the HLS project in {paths.hls_dir}: {exc}") from None
    compile_s = time.monotonic() - start
    start = time.monotonic()
    got = project.predict(np.ascontiguousarray(X.astype(np.float32)))
    run_s = time.monotonic() - start
    stats = compare_logits(np.asarray(got), ref, y, meaningful_labels)
    measured_only = read_json(paths.convert_json).get("measured_only") if paths.convert_json.is_file() else None
    result = CsimResult(
        **stats, guaranteed=not measured_only, compiler=compiler, compile_s=round(compile_s, 3), run_s=round(run_s, 3),
        source=f"csim:{compiler} (hls4ml {hls4ml.__version__} bridge)",
    )
    write_json(paths.csim_json, result.to_dict())
    return result
