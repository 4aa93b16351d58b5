"""What runs on a sweep worker (a local pool process or a Dask worker): training one shared
model, and taking one point through convert -> C-sim -> synthesis -> report.

Both write only into the sweep directory and only atomically: a model folder and a point's
run folder are built staged (hwgen.rundir.staged_run_dir) and renamed into place when
complete, and a point's record (points/<id>.json) is written with hwgen.results.write_json
after its run folder is in place. A worker killed at any moment therefore leaves either
nothing or a complete result, never half of one. Errors never escape a task: they come back
as data (a failed record), so one bad point does not stop the sweep.

Layout of a sweep directory:
    sweep.yaml               the normalized sweep file (model spec inline)
    sweep.json               state, point list, counters, rows, Pareto fronts (write_sweep_report)
    sweep.csv, pareto.json, sweep.md, plots/pareto_*.png
    points/<id>.json         one record per finished point (the source of truth)
    models/<model id>/       one trained model (train/model.h5, train/data.npz, train/train.json)
    runs/<label>-<hash8>/    one complete hwgen run directory per point (report.json, report.md;
                             `hwgen report runs/<name>` adds report.html)
    .status/<task>           the current stage of each running task (for the progress bar)
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import signal
import socket
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError
from hwgen.report.metrics import point_metrics
from hwgen.results import read_json, write_atomic, write_json

SCHEMA_POINT = "hwgen-sweep-point/1"
SCHEMA_MODEL = "hwgen-sweep-model/1"


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# worker process set-up


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_THREADS_SET = False


def prepare_worker(threads: int | None) -> None:
    """Bound TensorFlow's thread pools before the first TF op of this process (idempotent)."""
    global _THREADS_SET
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning, module=r"keras(\..*)?")
    if not _THREADS_SET:
        from hwgen.tfcompat import set_threads

        set_threads(threads)
        _THREADS_SET = True
        import logging

        logging.getLogger("tensorflow").setLevel(logging.ERROR)


def warm_worker(threads: int | None) -> bool:
    """Import the heavy stack (TensorFlow, QKeras, tfmot, hls4ml) up front, so every
    worker pays it in parallel at start rather than one after another inside the first tasks."""
    prepare_worker(threads)
    import hwgen.convert  # noqa: F401  (hls4ml)
    import hwgen.csim  # noqa: F401
    import hwgen.report  # noqa: F401
    import hwgen.train  # noqa: F401  (QKeras, tfmot)

    return True


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(3)  # the sweep process is gone (killed): stop, leaving only complete results


def pool_initializer(threads: int, parent_pid: int) -> None:
    """Initializer of the local pool's worker processes: ignore Ctrl-C (the sweep process
    handles it), exit when the sweep process dies, bound TF threads."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="hwgen-sweep-watchdog").start()
    warm_worker(threads)


def probe_worker(sweep_dir: str) -> dict:
    """Run on each Dask worker before the sweep: can it see the sweep directory, how many cores."""
    return {"sees_dir": Path(sweep_dir).is_dir(), "cores": usable_cores(), "host": socket.gethostname()}


# ---------------------------------------------------------------------------------------------
# progress: the current stage of each running task, as a tiny file the sweep process polls


class Status:
    def __init__(self, sweep_dir: Path, task: str):
        self.path = Path(sweep_dir) / ".status" / task

    def set(self, text: str) -> None:
        try:
            write_atomic(self.path, text.encode())
        except OSError:
            pass  # progress display only

    def clear(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass

    # the interface hwgen.train expects of a Progress
    def update(self, text: str) -> None:
        self.set(f"train {text.split(' loss')[0]}")


def status_progress(status: Status, where: dict):
    """A silent hwgen.progress.Progress that shows each stage of a task in its status file
    (polled by the sweep process) and remembers which stage it is in (for a failure record)."""
    from contextlib import contextmanager

    from hwgen.progress import Progress

    class StatusProgress(Progress):
        @contextmanager
        def stage(self, name: str, what: str = ""):
            where["stage"] = name
            status.set(f"{name} {what}".strip())
            with super().stage(name, what) as p:
                yield p

        def update(self, text: str) -> None:
            status.set(f"{where['stage']} {text.split(' loss')[0]}")

    return StatusProgress(0, quiet=True)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HwgenError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _tb_tail(exc: BaseException, lines: int = 12) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return "\n".join(text.rstrip().splitlines()[-lines:])


# ---------------------------------------------------------------------------------------------
# models


def model_dir(sweep_dir: Path, model_id: str) -> Path:
    return Path(sweep_dir) / "models" / model_id


def finished_model(path: Path, tkey: str) -> dict | None:
    """The train.json of a complete model folder for this training key, else None."""
    try:
        manifest = read_json(path / "run.json")
        if manifest.get("fingerprint") != tkey:
            return None
        for name in ("model.h5", "data.npz"):
            if not (path / "train" / name).is_file():
                return None
        return read_json(path / "train" / "train.json")
    except (OSError, ValueError):
        return None


def train_task(sweep_dir: str, tkey: str, spec, data_path: str | None, threads: int | None, label: str = "") -> dict:
    """Train the model shared by every point with this training key (once), into models/<id>/."""
    prepare_worker(threads)
    sweep_dir = Path(sweep_dir)
    mid = tkey[:16]
    status = Status(sweep_dir, f"train-{mid}")
    out = model_dir(sweep_dir, mid)
    start = time.monotonic()
    try:
        have = finished_model(out, tkey)
        if have is not None:
            return {"ok": True, "train_key": tkey, "reused": True, "train": have, "wall_s": have.get("wall_s")}
        from hwgen.pipeline import FlowOptions, run_flow

        opts = FlowOptions(until="train", data_path=data_path, baseline=False, synth=("none",), force=True, quiet=True)
        extra = {"schema": SCHEMA_MODEL, "data_path": data_path, "label": label, "host": socket.gethostname(),
                 "pid": os.getpid()}
        run_flow(spec, dataclasses.replace(opts, out=out), fingerprint=tkey, manifest_extra=extra,
                 capture_library_output=False, progress=status_progress(status, {"stage": "train"}))
        result = read_json(out / "train" / "train.json")
        return {"ok": True, "train_key": tkey, "reused": False, "train": result,
                "wall_s": round(time.monotonic() - start, 3)}
    except BaseException as exc:  # noqa: BLE001 - reported as data; the sweep goes on
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return {"ok": False, "train_key": tkey, "error": _describe(exc), "traceback": _tb_tail(exc),
                "wall_s": round(time.monotonic() - start, 3)}
    finally:
        status.clear()


# ---------------------------------------------------------------------------------------------
# points


def record_path(sweep_dir: Path, point_id: str) -> Path:
    return Path(sweep_dir) / "points" / f"{point_id}.json"


def read_record(sweep_dir: Path, point_id: str, point_hash: str | None = None) -> dict | None:
    """A point's record if it is present and complete (and for this hash), else None."""
    path = record_path(sweep_dir, point_id)
    try:
        rec = read_json(path)
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or rec.get("schema") != SCHEMA_POINT or rec.get("status") not in ("ok", "failed"):
        return None
    if point_hash is not None and rec.get("hash") != point_hash:
        return None
    if not isinstance(rec.get("metrics"), dict):
        return None
    return rec


def _finished_run(run_dir: Path, point_hash: str) -> dict | None:
    """report.json of a complete, error-free run folder of this point (a run that finished just
    before the sweep was killed, its record not yet written), else None."""
    try:
        manifest = read_json(run_dir / "run.json")
        if manifest.get("fingerprint") != point_hash:
            return None
        if not manifest.get("complete") or manifest.get("synth_errors"):
            return None
        return read_json(run_dir / "report.json")
    except (OSError, ValueError):
        return None


def _failed_record(payload: dict, stage: str, error: str, tb: str | None, start: float, extra: dict | None = None) -> dict:
    rec = _base_record(payload, start)
    rec.update({"status": "failed", "error_stage": stage, "error": error, "traceback": tb})
    if extra:
        rec.update(extra)
    return rec


def _base_record(payload: dict, start: float) -> dict:
    return {
        "schema": SCHEMA_POINT, "id": payload["id"], "hash": payload["hash"], "label": payload["label"],
        "params": payload["params"], "given": payload["given"], "train_key": payload["train_key"],
        "model_dir": f"models/{payload['model_id']}", "run_dir": None, "status": None, "error": None,
        "error_stage": None, "traceback": None, "metrics": {}, "synth": [], "synth_errors": {},
        "stages": {}, "notices": [], "computed_at": now_iso(), "wall_s": round(time.monotonic() - start, 3),
        "host": socket.gethostname(), "pid": os.getpid(), "invocation": payload.get("invocation"),
        "tf_threads": _tf_threads(), "reused_run": False,
    }


def _tf_threads() -> int | None:
    """TensorFlow's intra-op thread bound in this worker (None before TF is imported)."""
    import sys

    tf = sys.modules.get("tensorflow")
    try:
        return int(tf.config.threading.get_intra_op_parallelism_threads()) if tf is not None else None
    except Exception:  # noqa: BLE001 - informational only
        return None


def commit_record(sweep_dir: Path, rec: dict) -> dict:
    """Write a point's record atomically; a failure never replaces a good record of the same point
    (a worker left over from a killed sweep racing a new one)."""
    if rec["status"] == "failed":
        old = read_record(sweep_dir, rec["id"], rec["hash"])
        if old is not None and old["status"] == "ok":
            return old
    write_json(record_path(sweep_dir, rec["id"]), rec)
    return rec


def write_failed_point(sweep_dir: str, payload: dict, stage: str, error: str, tb: str | None = None) -> dict:
    return commit_record(Path(sweep_dir), _failed_record(payload, stage, error, tb, time.monotonic()))


def point_task(sweep_dir: str, payload: dict, threads: int | None) -> dict:
    """Convert, C-simulate, synthesize and report one point from its shared trained model, into
    runs/<name>/ (staged), then write its record. Returns the record."""
    prepare_worker(threads)
    sweep_dir = Path(sweep_dir)
    start = time.monotonic()
    status = Status(sweep_dir, payload["id"])
    where = {"stage": "prepare"}
    try:
        run_dir = sweep_dir / "runs" / payload["run_name"]
        src_model = model_dir(sweep_dir, payload["model_id"])
        train = finished_model(src_model, payload["train_key"])
        if train is None:
            raise HwgenError(f"the trained model {src_model} is missing or incomplete")
        report = _finished_run(run_dir, payload["hash"])
        reused = report is not None
        if report is None:
            report = _build_run(run_dir, src_model, payload, status, where)
        manifest = read_json(run_dir / "run.json")
        rec = _base_record(payload, start)
        rec.update({
            "run_dir": str(run_dir.relative_to(sweep_dir)), "metrics": point_metrics(report),
            "synth": report.get("synth") or [], "synth_errors": manifest.get("synth_errors") or {},
            "stages": dict(manifest.get("stages") or {}), "notices": list(report.get("notices") or []),
            "train_shared_by": payload.get("train_shared_by"), "reused_run": reused,
        })
        if rec["synth_errors"]:
            src, err = next(iter(rec["synth_errors"].items()))
            rec.update({"status": "failed", "error_stage": f"synth:{src}", "error": err})
        else:
            rec["status"] = "ok"
        return commit_record(sweep_dir, rec)
    except BaseException as exc:  # noqa: BLE001 - reported as data; the sweep goes on
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return commit_record(sweep_dir, _failed_record(payload, where["stage"], _describe(exc), _tb_tail(exc), start))
    finally:
        status.clear()


def _build_run(run_dir: Path, src_model: Path, payload: dict, status: Status, where: dict) -> dict:
    """One point: the runner's sweep-point flow (the shared trained model copied in, convert,
    csim, each synthesis source, report without HTML), staged into runs/<name>/."""
    from hwgen.pipeline import FlowOptions, run_flow

    spec = payload["spec"]
    opts = FlowOptions(
        board=payload["board"], out=run_dir, force=True, synth=tuple(payload["synth"]) or ("none",), baseline=False,
        clock_mhz=payload["clock_mhz"], rtl_max_samples=payload["rtl_samples"], tool_timeout_s=payload["timeout_s"],
        quiet=True, trained_from=str(src_model), html=False,
    )
    extra = {"sweep": {"point": payload["id"], "label": payload["label"], "train_key": payload["train_key"],
                       "model_dir": f"models/{payload['model_id']}"}}
    result = run_flow(spec, opts, fingerprint=payload["hash"], manifest_extra=extra, capture_library_output=False,
                      progress=status_progress(status, where))
    return result.report.to_dict() if hasattr(result.report, "to_dict") else result.report
