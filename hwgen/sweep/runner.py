"""Running a sweep: decide what is left to do, train each shared model once, run the points on a
local process pool (default) or a Dask cluster, show progress, and write the results.

Scheduling: points are grouped by training key (everything that determines the trained model);
each group's model is trained by one task, and the group's hardware tasks (convert, C-sim,
synthesis) are submitted when it has finished, so a model is never trained twice even with many
workers, and hardware work of one group overlaps the training of the next.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
import time
import uuid
from collections import defaultdict, deque
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hwgen import __version__
from hwgen.errors import HwgenError
from hwgen.results import read_json, write_atomic, write_json
from hwgen.sweep.config import Point, SweepConfig, expand_points
from hwgen.sweep.report import SCHEMA_SWEEP, write_sweep_report
from hwgen.sweep.tasks import (
    finished_model, model_dir, now_iso, point_task, pool_initializer, probe_worker, read_record, train_task,
    usable_cores, warm_worker, write_failed_point,
)

MARKERS = ("sweep.json", "sweep.yaml", "points")


@dataclass
class SweepOutcome:
    sweep_dir: Path
    n_points: int
    name: str = ""
    computed: int = 0  # points run in this invocation (ok or failed)
    recovered: int = 0  # points whose complete run folder was found (killed before the record was written)
    skipped: int = 0  # points already finished before this invocation
    failed: int = 0  # points that failed in this invocation
    models_trained: int = 0
    models_reused: int = 0
    wall_s: float = 0.0
    executor: str = ""
    failures: list[dict] = field(default_factory=list)
    fronts: dict = field(default_factory=dict)
    report: Path | None = None
    interrupted: bool = False
    totals: dict = field(default_factory=dict)
    cost_source: str | None = None
    accuracy_label: str = ""


# ---------------------------------------------------------------------------------------------
# the sweep directory


def check_out_dir(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise HwgenError(f"--out {out} exists and is not a directory; choose another --out")
        if any(out.iterdir()) and not any((out / m).exists() for m in MARKERS):
            raise HwgenError(
                f"--out {out} already holds files that `hwgen sweep` did not create; choose an empty or new directory"
            )


@contextlib.contextmanager
def sweep_lock(out: Path):
    """One sweep process per directory at a time (released by the OS if the process dies)."""
    path = out / ".lock"
    fh = open(path, "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.seek(0)
        holder = fh.read().strip() or "?"
        fh.close()
        raise HwgenError(f"another `hwgen sweep` (pid {holder}) is running in {out}; wait for it or stop it first") from None
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def clean_leftovers(out: Path) -> None:
    """Remove what killed workers can leave: staging folders, temp files, status files. Only
    called while holding the sweep lock, when no worker of ours is running."""
    for sub in ("runs", "models"):
        folder = out / sub
        if folder.is_dir():
            for child in folder.iterdir():
                if child.name.startswith(".") and (".partial-" in child.name or ".old-" in child.name):
                    shutil.rmtree(child, ignore_errors=True)
    for sub in ("points", "."):
        folder = out / sub
        if folder.is_dir():
            for child in folder.glob(".*.tmp-*"):
                with contextlib.suppress(OSError):
                    child.unlink()
    shutil.rmtree(out / ".status", ignore_errors=True)


def _point_entry(p: Point) -> dict:
    return {"id": p.id, "hash": p.hash, "label": p.label, "params": p.params, "given": p.given,
            "model_id": p.model_id, "run_name": p.run_name}


def _payload(p: Point, cfg: SweepConfig, invocation: int, shared_by: int) -> dict:
    return {
        "id": p.id, "hash": p.hash, "label": p.label, "params": p.params, "given": p.given, "train_key": p.train_key,
        "model_id": p.model_id, "run_name": p.run_name, "spec": p.spec, "board": p.board, "synth": list(p.synth),
        "clock_mhz": p.clock_mhz, "rtl_samples": cfg.rtl_samples, "timeout_s": cfg.timeout_s,
        "invocation": invocation, "train_shared_by": shared_by,
    }


# ---------------------------------------------------------------------------------------------
# executors


class LocalBackend:
    """A process pool (spawn context): each worker bounds TF threads to cores // workers."""

    def __init__(self, workers: int):
        self.workers = max(1, int(workers))
        self.threads = max(1, usable_cores() // self.workers)
        self.label = f"local pool, {self.workers} worker{'s' if self.workers != 1 else ''} x {self.threads} TF thread{'s' if self.threads != 1 else ''}"
        self._pool = self._new_pool()

    def _new_pool(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=pool_initializer, initargs=(self.threads, os.getpid()),
        )

    def submit(self, fn, *args, key: str = ""):
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(fn, *args)

    def close(self, cancel: bool = False) -> None:
        if not cancel:
            self._pool.shutdown(wait=True)
            return
        # Interrupted: drop what is queued and stop the running workers now (their staged output
        # is discarded; finished records are already on disk).
        procs = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.terminate()


class DaskBackend:
    """Points sent to an existing Dask distributed cluster. The workers must see the sweep
    directory (a shared file system) and have hwgen installed."""

    def __init__(self, address: str, sweep_dir: Path):
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - a dependency
            raise HwgenError("--scheduler needs dask[distributed]: pip install 'dask[distributed]'") from None
        try:
            self.client = Client(address, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise HwgenError(
                f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}: {exc}); start one "
                "(`dask scheduler` and `dask worker ADDRESS`) or drop --scheduler to use the local pool"
            ) from None
        try:
            info = self.client.run(probe_worker, str(sweep_dir))
        except Exception as exc:  # noqa: BLE001 - whatever the workers raise
            self.client.close()
            raise HwgenError(
                f"the Dask workers at {address} cannot run hwgen ({type(exc).__name__}: {exc}); install hwgen "
                "in the workers' Python environment"
            ) from None
        if not info:
            self.client.close()
            raise HwgenError(f"the Dask cluster at {address} has no workers; start some with `dask worker {address}`")
        blind = sorted(addr for addr, i in info.items() if not i["sees_dir"])
        if blind:
            self.client.close()
            raise HwgenError(
                f"Dask workers {', '.join(blind)} cannot see the sweep directory {sweep_dir}; put --out on a file "
                "system shared with the workers"
            )
        nthreads = self.client.nthreads()
        per_host: dict[str, int] = defaultdict(int)
        cores: dict[str, int] = {}
        for addr, i in info.items():
            per_host[i["host"]] += int(nthreads.get(addr, 1))
            cores[i["host"]] = i["cores"]
        self.threads = min(max(1, cores[h] // max(1, n)) for h, n in per_host.items())
        multi = sorted(addr for addr, n in nthreads.items() if n > 1)
        self.warning = (
            f"Dask workers {', '.join(multi)} run {max(nthreads.values())} threads each: points sharing a worker process "
            "also share TensorFlow's global seed, so trained models may not be reproducible; start workers with "
            "`dask worker --nthreads 1`" if multi else None
        )
        self.workers = sum(per_host.values())
        self.label = f"Dask at {address}, {len(info)} workers / {self.workers} threads x {self.threads} TF thread(s)"
        # Each worker imports the heavy stack now, in parallel, instead of inside its first task.
        self._warm = [self.client.submit(warm_worker, self.threads, workers=[addr], allow_other_workers=False,
                                         pure=False, key=f"hwgen-warm-{uuid.uuid4().hex[:8]}") for addr in info]

    def submit(self, fn, *args, key: str = ""):
        return self.client.submit(fn, *args, key=f"{key}-{uuid.uuid4().hex[:8]}", pure=False, retries=0)

    def close(self, cancel: bool = False) -> None:
        try:
            if cancel:
                self.client.cancel(list(getattr(self, "_futures", [])) + self._warm)
        finally:
            self.client.close()


# ---------------------------------------------------------------------------------------------
# progress


class _Display:
    """One tqdm bar over the points; its postfix names the stage of each running task. On a
    terminal it refreshes twice a second, in a log every 15 s."""

    def __init__(self, total: int, initial: int, name: str, quiet: bool, stream: TextIO):
        from tqdm import tqdm

        tty = hasattr(stream, "isatty") and stream.isatty()
        self.every = 0.5 if tty else 15.0
        self.bar = tqdm(total=total, initial=initial, desc=f"sweep {name}", unit="pt", file=stream, disable=quiet,
                        dynamic_ncols=True, mininterval=self.every, leave=True)
        self.quiet = quiet
        self._last = time.monotonic()

    def refresh(self, status_dir: Path, names: dict[str, str]) -> None:
        if self.quiet or time.monotonic() - self._last < self.every:
            return
        self._last = time.monotonic()
        parts = []
        for task, label in names.items():
            try:
                stage = (status_dir / task).read_text().strip()
            except OSError:
                continue  # queued, not started yet
            parts.append(f"{label}: {stage}")
        self.bar.set_postfix_str(" | ".join(parts)[:160] or "starting workers", refresh=True)

    def advance(self) -> None:
        self.bar.update(1)

    def write(self, text: str) -> None:
        if not self.quiet:
            self.bar.write(text, file=self.bar.fp)

    def close(self) -> None:
        self.bar.close()


# ---------------------------------------------------------------------------------------------
# the run


def default_workers() -> int:
    return max(1, min(4, usable_cores()))


def _write_state(out: Path, cfg: SweepConfig, points: list[Point], invocation: int, executor: str, state: dict) -> None:
    state.update({
        "schema": SCHEMA_SWEEP, "name": cfg.name, "description": cfg.description, "hwgen_version": __version__,
        "state": "running", "accuracy": cfg.accuracy, "updated": now_iso(), "started": now_iso(), "invocation": invocation,
        "executor": executor, "model": cfg.model_ref, "synth": list(cfg.synth),
        "points": [_point_entry(p) for p in points],
    })
    state.setdefault("created", now_iso())
    write_json(out / "sweep.json", state)


def run_sweep(
    cfg: SweepConfig, out: str | Path | None = None, *, workers: int | None = None, scheduler: str | None = None,
    retry_failed: bool = True, quiet: bool = False, stream: TextIO | None = None,
) -> SweepOutcome:
    """Run (or resume) the sweep into `out` (default runs/<name>); returns what happened."""
    import yaml

    stream = stream or sys.stderr
    out = Path(out or Path("runs") / cfg.name).resolve()
    check_out_dir(out)
    points = expand_points(cfg)  # validates boards and sources before anything is written
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    started = now_iso()
    with sweep_lock(out):
        clean_leftovers(out)
        (out / "points").mkdir(exist_ok=True)
        state: dict[str, Any] = {}
        if (out / "sweep.json").is_file():
            with contextlib.suppress(ValueError, OSError):
                state = read_json(out / "sweep.json")
        previous = state.get("invocation") or 0
        invocation = previous + 1
        done: dict[str, dict] = {}
        todo: list[Point] = []
        by_previous = 0
        for p in points:
            rec = read_record(out, p.id, p.hash)
            if rec is not None and rec.get("invocation") == previous:
                by_previous += 1
            if rec is not None and (rec["status"] == "ok" or not retry_failed):
                done[p.id] = rec
            else:
                todo.append(p)
        if state.get("state") == "running" and previous:  # we hold the lock: that sweep process was killed
            state.setdefault("runs", []).append({
                "invocation": previous, "started": state.get("started"), "finished": None, "killed": True,
                "computed": by_previous, "executor": state.get("executor"),
            })
        text = f"# normalized by hwgen {__version__} from {cfg.source or '<mapping>'} (model: {cfg.model_ref})\n"
        write_atomic(out / "sweep.yaml", (text + yaml.safe_dump(cfg.to_dict(), sort_keys=False)).encode())

        outcome = SweepOutcome(sweep_dir=out, n_points=len(points), name=cfg.name, skipped=len(done))
        backend = None
        if todo:
            backend = DaskBackend(scheduler, out) if scheduler else LocalBackend(workers or default_workers())
            outcome.executor = backend.label
        else:
            outcome.executor = "nothing to run"
        _write_state(out, cfg, points, invocation, outcome.executor, state)
        if getattr(backend, "warning", None):
            print(f"hwgen sweep: warning: {backend.warning}", file=stream)
        display = _Display(len(points), len(done), cfg.name, quiet, stream)
        interrupted = False
        completed = False
        try:
            if todo:
                _execute(cfg, out, points, todo, backend, invocation, outcome, display)
            completed = True
        except KeyboardInterrupt:
            interrupted = True
            outcome.interrupted = True
        finally:
            display.close()
            if backend is not None:
                backend.close(cancel=not completed)  # on Ctrl-C or an error: stop the workers now
            shutil.rmtree(out / ".status", ignore_errors=True)
        outcome.wall_s = round(time.monotonic() - start, 3)
        last_run = {
            "invocation": invocation, "started": started, "finished": now_iso(),
            "computed": outcome.computed, "recovered": outcome.recovered, "skipped": outcome.skipped,
            "failed": outcome.failed, "models_trained": outcome.models_trained, "models_reused": outcome.models_reused,
            "wall_s": outcome.wall_s, "executor": outcome.executor, "interrupted": interrupted,
        }
        outcome.report = write_sweep_report(out, last_run=last_run, state_name="interrupted" if interrupted else None,
                                            from_runner=True)
        final = read_json(out / "sweep.json")
        outcome.fronts = read_json(out / "pareto.json").get("fronts", {})
        outcome.totals = final.get("counts", {})
        outcome.cost_source = final.get("cost_source")
        outcome.accuracy_label = final.get("accuracy_label", "")
    if interrupted:
        raise KeyboardInterrupt
    return outcome


def _execute(cfg, out: Path, points: list[Point], todo: list[Point], backend, invocation: int,
             outcome: SweepOutcome, display: _Display) -> None:
    """Feed the executor at most as many tasks as it has slots, hardware tasks of trained models
    before further trainings: points finish (and are recorded) early, and an interrupted sweep
    loses little."""
    shared = defaultdict(int)
    for p in points:
        shared[p.train_key] += 1
    groups: dict[str, list[Point]] = defaultdict(list)
    for p in todo:
        groups[p.train_key].append(p)
    tasks: dict[Any, tuple[str, Any]] = {}
    names: dict[str, str] = {}  # status file name -> label, for the running tasks
    attempts: dict[str, int] = defaultdict(int)
    ready_points: deque[Point] = deque()
    ready_trains: deque[str] = deque()
    futures_list: list = []
    backend._futures = futures_list
    slots = max(1, int(getattr(backend, "workers", 1)))

    def submit_point(p: Point) -> None:
        attempts[p.id] += 1
        fut = backend.submit(point_task, str(out), _payload(p, cfg, invocation, shared[p.train_key]), backend.threads,
                             key=f"hwgen-point-{p.id}")
        tasks[fut] = ("point", p)
        futures_list.append(fut)
        names[p.id] = p.label

    def submit_train(tkey: str) -> None:
        first = groups[tkey][0]
        attempts[tkey] += 1
        fut = backend.submit(train_task, str(out), tkey, first.spec, cfg.data, backend.threads, first.model_label,
                             key=f"hwgen-train-{first.model_id}")
        tasks[fut] = ("train", tkey)
        futures_list.append(fut)
        names[f"train-{first.model_id}"] = f"model {first.model_label}"

    def pump() -> None:
        while len(tasks) < slots and (ready_points or ready_trains):
            if ready_points:
                submit_point(ready_points.popleft())
            else:
                submit_train(ready_trains.popleft())

    def handle(rec: dict) -> None:
        if rec.get("reused_run"):
            outcome.recovered += 1
        else:
            outcome.computed += 1
        if rec["status"] != "ok":
            outcome.failed += 1
            outcome.failures.append({"id": rec["id"], "label": rec["label"], "stage": rec.get("error_stage"), "error": rec.get("error")})
            display.write(f"  point {rec['label']} failed at {rec.get('error_stage')}: {rec.get('error')}")
        display.advance()
        _progress_state(out, outcome)

    for tkey, group in groups.items():
        if finished_model(model_dir(out, group[0].model_id), tkey) is not None:
            outcome.models_reused += 1
            ready_points.extend(group)
        else:
            ready_trains.append(tkey)
    pump()

    status_dir = out / ".status"
    while tasks:
        finished = [f for f in tasks if f.done()]
        if not finished:
            display.refresh(status_dir, names)
            time.sleep(0.2)
            continue
        for fut in finished:
            kind, obj = tasks.pop(fut)
            error = None
            try:
                res = fut.result()
            except BrokenProcessPool:
                res, error = None, "a worker process died (out of memory or a crash in native code)"
            except Exception as exc:  # noqa: BLE001 - the executor's own failure (a task never raises)
                res, error = None, f"{type(exc).__name__}: {exc}"
            if kind == "train":
                tkey = obj
                group = groups[tkey]
                names.pop(f"train-{group[0].model_id}", None)
                if res is not None and res.get("ok"):
                    if res.get("reused"):
                        outcome.models_reused += 1
                    else:
                        outcome.models_trained += 1
                    ready_points.extend(group)
                elif res is None and attempts[tkey] < 2:
                    ready_trains.appendleft(tkey)  # the pool broke under it: once more
                else:
                    err = error or res.get("error")
                    tb = None if res is None else res.get("traceback")
                    for p in group:
                        handle(write_failed_point(str(out), _payload(p, cfg, invocation, 0), "train", err, tb))
            else:
                p = obj
                names.pop(p.id, None)
                if res is None and attempts[p.id] < 2:
                    ready_points.appendleft(p)  # the pool broke under it: once more
                    continue
                if res is None:
                    res = write_failed_point(str(out), _payload(p, cfg, invocation, 0), "worker", error)
                handle(res)
        pump()
        display.refresh(status_dir, names)


def _progress_state(out: Path, outcome: SweepOutcome) -> None:
    """Live counters in sweep.json while the sweep runs (cheap; the full report comes at the end)."""
    try:
        state = read_json(out / "sweep.json")
    except (OSError, ValueError):
        return
    state["progress"] = {"computed": outcome.computed, "recovered": outcome.recovered, "skipped": outcome.skipped,
                         "failed": outcome.failed, "models_trained": outcome.models_trained, "updated": now_iso()}
    write_json(out / "sweep.json", state)
