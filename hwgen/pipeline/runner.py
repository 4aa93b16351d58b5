"""The one runner: it owns the sequence of stages of a run and everything around it.

For each stage it checks what the stage requires, shows a progress line, sends the libraries'
log output (TensorFlow, absl, XLA, Keras warnings) to RUN/logs/<stage>.log instead of the
terminal, times it, collects its notices, and records it in run.json under `applied` (stage,
status, wall time, error) so that a later command runs only what has not been applied yet. A
stage that `keeps_going` (a synthesis source) and fails is recorded with its error, and the
run, with everything the earlier stages made, is kept.
"""

from __future__ import annotations

import datetime
import importlib
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from hwgen import __version__
from hwgen.errors import HwgenError
from hwgen.pipeline.context import RunContext
from hwgen.pipeline.stages import Stage, get_stage
from hwgen.results import read_json, write_json

LOG_DIR = "logs"


def versions() -> dict:
    import hwgen.tfcompat  # noqa: F401  (binds Keras 2 before tfmot is imported below)

    out = {"hwgen": __version__}
    for mod in ("tensorflow", "keras", "qkeras", "tensorflow_model_optimization", "hls4ml", "da4ml", "numpy"):
        try:
            out[mod] = importlib.import_module(mod).__version__
        except Exception:  # noqa: BLE001 - a version we cannot read is just left out
            pass
    return out


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@dataclass
class StageRecord:
    stage: str
    status: str  # 'ok' | 'failed' | 'reused'
    wall_s: float
    error: str | None = None
    log: str | None = None  # the stage's library log, relative to the run dir

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def label(name: str) -> str:
    """The name shown on progress lines and used for stage times: 'synth:open' -> 'open'."""
    return name.split(":", 1)[-1]


def new_manifest(ctx: RunContext, extra: dict | None = None) -> dict:
    return {
        "name": ctx.spec.name,
        "fingerprint": ctx.fingerprint,
        "created": now_iso(),
        "spec": ctx.spec.to_dict(),
        "board": ctx.board.to_dict(),
        "options": ctx.options.to_manifest(),
        "versions": versions(),
        "stages": {},
        "applied": [],
        "notices": [],
        "synth_errors": {},
        "complete": False,
        **(extra or {}),
    }


def applied_ok(manifest: dict) -> set[str]:
    """Stages a run's manifest records as done (runs made before the record: none)."""
    return {r["stage"] for r in manifest.get("applied") or [] if r.get("status") in ("ok", "reused")}


class Runner:
    """Runs stage names over one context, keeping `manifest` (run.json) up to date."""

    def __init__(self, ctx: RunContext, manifest: dict, *, capture_library_output: bool = True):
        self.ctx = ctx
        self.manifest = manifest
        self.capture = capture_library_output
        self.results: dict[str, Any] = ctx.results
        # run.json's notices are the context's collector (an existing run's earlier ones first)
        earlier = [n for n in manifest.get("notices") or [] if n not in ctx.notices]
        ctx.notices[:0] = earlier
        manifest["notices"] = self.notices = ctx.notices
        manifest.setdefault("applied", [])
        manifest.setdefault("stages", {})
        manifest.setdefault("synth_errors", {})

    def _write_manifest(self) -> None:
        write_json(self.ctx.paths.manifest, self.manifest)

    def _satisfied(self, stage: Stage, done: set[str]) -> None:
        for need in stage.requires:
            if need in done:
                continue
            have = get_stage(need).produces
            if have and all((self.ctx.run_dir / p).exists() for p in have):
                continue  # a run made before run.json recorded its stages
            raise HwgenError(
                f"stage '{label(stage.name)}' needs the '{need}' stage, which {self.ctx.run_dir} does not have; "
                f"make the run with `hwgen flow` (or `hwgen convert`) first"
            )

    def run(self, names: list[str], reuse_from: Path | None = None) -> list[StageRecord]:
        stages = [get_stage(n) for n in names]
        progress = self.ctx.progress
        progress.total = progress.index + len(stages)
        done = applied_ok(self.manifest)
        reusable = applied_ok(read_json(Path(reuse_from) / "run.json")) if reuse_from else set()
        records: list[StageRecord] = []
        for stage in stages:
            if stage.reusable and stage.name in reusable and all(r in done for r in stage.requires):
                records.append(self._reuse(stage, Path(reuse_from)))
                done.add(stage.name)
                continue
            reusable = set()  # everything after a recomputed stage is recomputed too
            self._satisfied(stage, done)
            self.manifest["complete"] = False
            self._write_manifest()  # the report stage reads the times and notices so far
            rec = self._run_one(stage)
            records.append(rec)
            if rec.status == "ok":
                done.add(stage.name)
        reused = [label(r.stage) for r in records if r.status == "reused"]
        if reused:
            self.ctx.notice(f"reused from the earlier identical run whose synthesis had failed: {', '.join(reused)}")
        self.manifest["complete"] = all(r.status in ("ok", "reused") for r in records) and not self.manifest["synth_errors"]
        self._write_manifest()
        return records

    def _record(self, rec: StageRecord) -> None:
        applied = [r for r in self.manifest["applied"] if r.get("stage") != rec.stage]
        self.manifest["applied"] = applied + [rec.to_dict()]
        if rec.status != "reused":
            self.manifest["stages"][label(rec.stage)] = rec.wall_s

    def _reuse(self, stage: Stage, old_run: Path) -> StageRecord:
        """Take an identical earlier run's output of this stage over (resuming a run whose later
        stage failed: its training and HLS project are not made again)."""
        for rel in stage.produces:
            src, dst = old_run / rel, self.ctx.run_dir / rel
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            elif src.is_file():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
        rec = StageRecord(stage.name, "reused", 0.0)
        self._record(rec)
        self.ctx.progress.index += 1
        self.ctx.progress.note(f"[{self.ctx.progress.index}/{self.ctx.progress.total}] {label(stage.name)}: reused from {old_run}")
        return rec

    def _run_one(self, stage: Stage) -> StageRecord:
        ctx = self.ctx
        log_rel = f"{LOG_DIR}/{label(stage.name)}.log"
        start = time.monotonic()
        try:
            with ctx.progress.stage(label(stage.name), stage.describe(ctx)):
                with library_output_to(ctx.run_dir / log_rel, self.capture):
                    self.results[stage.name] = stage.run(ctx)
        except Exception as exc:  # noqa: BLE001 - a failing synthesis source (even a tool crash) is recorded
            if not stage.keeps_going:
                raise
            text = " ".join(str(exc).split()) or type(exc).__name__
            if not isinstance(exc, HwgenError):
                text = f"{type(exc).__name__}: {text}"
            src = label(stage.name)
            self.manifest["synth_errors"][src] = text
            ctx.notice(f"{src} synthesis FAILED: {text} (the run and its other results are kept)")
            rec = StageRecord(stage.name, "failed", round(time.monotonic() - start, 3), error=text,
                              log=self._kept_log(log_rel))
            self._record(rec)
            return rec
        if stage.keeps_going:
            # an earlier failure of this source is mended: its error and notice go
            self.manifest["synth_errors"].pop(label(stage.name), None)
            self.notices[:] = [n for n in self.notices if not n.startswith(f"{label(stage.name)} synthesis FAILED:")]
        rec = StageRecord(stage.name, "ok", round(time.monotonic() - start, 3), log=self._kept_log(log_rel))
        self._record(rec)
        if stage.name == "train" and ctx.options.trained_from:
            # A sweep point's train stage copies the model its training key shares: the time
            # it stands for is that model's training.
            shared = self.results.get("train") or {}
            self.manifest["stages"]["train"] = float(shared.get("wall_s") or 0.0)
        return rec

    def _kept_log(self, rel: str) -> str | None:
        path = self.ctx.run_dir / rel
        try:
            if path.stat().st_size == 0:
                path.unlink()
                if not any(path.parent.iterdir()):
                    path.parent.rmdir()
                return None
        except OSError:
            return None
        return rel


def terminal_stream():
    """A stream on the terminal that stays there while a stage's library output is redirected
    (a duplicate of file descriptor 2), or sys.stderr where it has no descriptor (pytest)."""
    try:
        if sys.stderr.fileno() == 2:
            return os.fdopen(os.dup(2), "w", buffering=1, encoding=getattr(sys.stderr, "encoding", None) or "utf-8",
                             errors="replace")
    except (AttributeError, OSError, ValueError):
        pass
    return sys.stderr


@contextmanager
def library_output_to(log_path: Path, enabled: bool) -> Iterator[None]:
    """Send what libraries print during a stage (TensorFlow's C++ log on fd 2, absl/Python
    warnings on sys.stderr) to `log_path`. Only where fd 2 is sys.stderr's own descriptor."""
    try:
        usable = enabled and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        usable = False
    if not usable:
        yield
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fd = os.dup(2)
    saved_stderr = sys.stderr
    log = open(log_path, "a", buffering=1, encoding="utf-8", errors="replace")
    try:
        os.dup2(log.fileno(), 2)
        sys.stderr = log
        yield
    finally:
        try:
            log.flush()
        finally:
            sys.stderr = saved_stderr
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            log.close()
