"""Faults: processes killed mid-run, concurrent runs, files appearing mid-run, full disks,
file-size limits, read-only and forbidden folders. Each case asserts the exit code, the one
`hwgen: error:` line (where there is one), and that nothing of the user's changed: the paths
and checksums of everything around the run are the same before and after (hwgen's own debris
of a killed process aside, which the next run removes).

The transaction tests at the top drive `hwgen.rundir` directly (fast, no TensorFlow); the rest
run the real `hwgen` in a subprocess and kill it, or limit it, from outside.
"""

from __future__ import annotations

import json
import os
import queue
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, run_cli, tiny_spec
from test_hostile_inputs import tree

from hwgen.errors import HwgenError
from hwgen.results import read_inventory, write_json
from hwgen.rundir import staged_run_dir, staged_subdir

TINY = tiny_spec(epochs=1, pruning=False)
DEBRIS = re.compile(r"\.(partial|old)-[A-Za-z0-9_]{8}$|\.lock$")


def _spec(tmp: Path) -> Path:
    p = tmp / "tiny.yaml"
    p.write_text(TINY)
    return p


def _no_debris(tree_: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tree_.items() if not any(DEBRIS.search(part) for part in k.split("/"))}


def _debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if DEBRIS.search(p.name))


def _fake_run(staging: Path, fingerprint: str, **files: str) -> None:
    write_json(staging / "run.json", {"fingerprint": fingerprint})
    for rel, text in files.items():
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / rel).write_text(text)


# ---------------------------------------------------------------------------------------------
# the run-directory transaction itself


def test_rerun_keeps_user_files_and_results_added_later(tmp_path, capsys):
    out = tmp_path / "run"
    with staged_run_dir(out, "fp1") as st:
        _fake_run(st, "fp1", **{"report.md": "v1", "hls/a.cpp": "gen"})
    (out / "notes.txt").write_text("mine")
    (out / "hls" / "mine.cpp").write_text("my edit")
    write_json(out / "synth" / "yosys.json", {"lut": 1})  # as `hwgen synth` adds a result later
    assert "synth/yosys.json" in read_inventory(out)
    before = tree(out)
    with staged_run_dir(out, "fp1") as st:
        _fake_run(st, "fp1", **{"report.md": "v2", "hls/a.cpp": "gen"})
    after = tree(out)
    for rel in ("notes.txt", "hls/mine.cpp", "synth/yosys.json"):
        assert after[rel] == before[rel]
    assert (out / "report.md").read_text() == "v2"
    inv = read_inventory(out)
    assert "synth/yosys.json" in inv and "notes.txt" not in inv and "hls/mine.cpp" not in inv
    err = capsys.readouterr().err
    assert "kept 2 file(s) of yours" in err and "kept 1 result(s) added" in err
    assert _debris(tmp_path) == []


def test_force_replaces_a_different_run_but_never_the_users_files(tmp_path):
    out = tmp_path / "run"
    with staged_run_dir(out, "fp1") as st:
        _fake_run(st, "fp1", **{"report.md": "old", "train/model.h5": "old"})
    write_json(out / "synth" / "yosys.json", {"lut": 1})
    (out / "notes.txt").write_text("mine")
    before = tree(tmp_path)
    with pytest.raises(HwgenError, match="already holds a different run"):
        with staged_run_dir(out, "fp2") as st:
            _fake_run(st, "fp2")
    assert tree(tmp_path) == before
    with staged_run_dir(out, "fp2", force=True) as st:
        _fake_run(st, "fp2", **{"report.md": "new"})
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "synth").exists() and not (out / "train").exists()  # the old run's own outputs went with it
    assert json.loads((out / "run.json").read_text())["fingerprint"] == "fp2"


def test_a_user_file_the_run_would_overwrite_refuses_the_run(tmp_path):
    out = tmp_path / "run"
    with staged_run_dir(out, "fp1") as st:
        _fake_run(st, "fp1")
    (out / "summary.txt").write_text("mine")
    before = tree(tmp_path)
    with pytest.raises(HwgenError, match=r"would overwrite 1 file\(s\) that hwgen did not write: summary.txt"):
        with staged_run_dir(out, "fp1") as st:
            _fake_run(st, "fp1", **{"summary.txt": "generated"})
    assert tree(tmp_path) == before


def test_the_checks_are_repeated_right_before_the_swap(tmp_path):
    # a file the user puts into the (new) --out while the run goes on is kept
    out = tmp_path / "a"
    with staged_run_dir(out, "fp1") as st:
        _fake_run(st, "fp1")
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    assert (out / "notes.txt").read_text() == "mine" and (out / "run.json").is_file()
    # another run that landed in --out meanwhile is not replaced
    out = tmp_path / "b"
    with pytest.raises(HwgenError, match="already holds a different run"):
        with staged_run_dir(out, "fp1") as st:
            _fake_run(st, "fp1")
            out.mkdir()
            (out / "run.json").write_text(json.dumps({"fingerprint": "other"}))
    assert json.loads((out / "run.json").read_text()) == {"fingerprint": "other"}
    # nor is a file put where the folder should go
    out = tmp_path / "c"
    with pytest.raises(HwgenError, match="not a directory during the run"):
        with staged_run_dir(out, "fp1") as st:
            _fake_run(st, "fp1")
            out.write_text("mine")
    assert out.read_text() == "mine"
    assert _debris(tmp_path) == []


def test_a_second_run_into_the_same_out_is_refused_while_the_first_holds_the_lock(tmp_path):
    out = tmp_path / "run"
    with staged_run_dir(out, "fp1") as st:
        _fake_run(st, "fp1")
        with pytest.raises(HwgenError, match=rf"is in use by another hwgen run \(pid {os.getpid()}\)"):
            with staged_run_dir(out, "fp2", force=True):
                pass
    assert json.loads((out / "run.json").read_text())["fingerprint"] == "fp1" and _debris(tmp_path) == []


def test_leftovers_of_a_dead_process_are_cleaned_and_an_interrupted_swap_rolled_back(tmp_path, capsys):
    out = tmp_path / "run"
    with staged_run_dir(out, "fp1") as st:
        _fake_run(st, "fp1", **{"report.md": "old"})
    (out / "notes.txt").write_text("mine")
    before = tree(out)
    # The state a process killed between the two renames of a swap leaves: the old run moved
    # aside, the new one complete in its staging folder, no --out, a stale lock file.
    (tmp_path / ".run.old-abcdefgh").mkdir()
    os.replace(out, tmp_path / ".run.old-abcdefgh" / "old")
    (tmp_path / ".run.partial-ijklmnop").mkdir()
    _fake_run(tmp_path / ".run.partial-ijklmnop", "fp1", **{"report.md": "new"})
    (tmp_path / ".run.lock").write_text("999999\n")
    with pytest.raises(HwgenError, match="stop here"):
        with staged_run_dir(out, "fp1"):
            raise HwgenError("stop here")
    err = capsys.readouterr().err
    assert "restored" in err and "removed 1 staging folder(s)" in err
    assert tree(out) == before and _debris(tmp_path) == []
    # Killed after the swap, before the old folder was removed, with a file the user created in
    # that instant still in it: the file is moved into the run.
    (tmp_path / ".run.old-qrstuvwx" / "old").mkdir(parents=True)
    _fake_run(tmp_path / ".run.old-qrstuvwx" / "old", "fp1")
    (tmp_path / ".run.old-qrstuvwx" / "old" / "late.txt").write_text("late")
    with staged_run_dir(out, "fp1") as st:
        _fake_run(st, "fp1", **{"report.md": "again"})
    assert (out / "late.txt").read_text() == "late" and (out / "notes.txt").read_text() == "mine"
    assert _debris(tmp_path) == []


def test_a_stage_folder_keeps_the_users_files_too(tmp_path):
    out = tmp_path / "run"
    with staged_run_dir(out, "fp1") as st:
        _fake_run(st, "fp1", **{"baseline/baseline.json": "{}"})
    (out / "baseline" / "notes.txt").write_text("mine")
    with staged_subdir(out / "baseline") as st:
        (st / "baseline.json").write_text('{"new": 1}')
        (st / "cpu.txt").write_text("log")
    assert (out / "baseline" / "notes.txt").read_text() == "mine"
    assert json.loads((out / "baseline" / "baseline.json").read_text()) == {"new": 1}
    inv = read_inventory(out)
    assert "baseline/cpu.txt" in inv and "baseline/notes.txt" not in inv
    assert not [p for p in (out).iterdir() if DEBRIS.search(p.name)]


# ---------------------------------------------------------------------------------------------
# real processes


class Proc:
    """`python -m hwgen ...` whose stderr is read line by line (the progress lines say the stage)."""

    def __init__(self, args, cwd: Path, preexec_fn=None, prefix=()):
        self.p = subprocess.Popen(
            [*prefix, sys.executable, "-m", "hwgen", *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn,
            env={**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        self.lines: list[str] = []
        self.q: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stderr:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def wait_for(self, pattern: str, timeout: float = 300) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.q.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"process ended before {pattern!r}:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no {pattern!r} within {timeout}s:\n" + "\n".join(self.lines))

    def finish(self, timeout: float = 300) -> tuple[int, str]:
        rc = self.p.wait(timeout=timeout)
        while True:
            try:
                line = self.q.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return rc, "\n".join(self.lines)


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("hwgen: error:")]


def _base_run(tmp_path: Path, args: list) -> Path:
    out = tmp_path / "runs" / "tiny"
    assert run_cli(*args, "--out", out) == 0
    (out / "notes.txt").write_text("my notes")
    (tmp_path / "runs" / "thesis.tex").write_text("precious")
    return out


def _args(tmp_path: Path, csim: bool) -> list:
    """A tiny untrained build, with progress lines (they tell the test which stage is running)."""
    return ["convert", _spec(tmp_path), "--untrained", "--board", "pynq-z2", *([] if csim else ["--no-csim"])]


def _kill_and_rerun(tmp_path, capsys, sig, stage, csim):
    args = _args(tmp_path, csim)
    out = _base_run(tmp_path, args)
    before = tree(tmp_path / "runs")
    proc = Proc([*args, "--out", out], cwd=tmp_path)
    proc.wait_for(rf"\] {stage}\s")
    if sig == signal.SIGTERM and stage == "csim":
        time.sleep(2)  # inside the g++ compile, not just at the stage line
    proc.p.send_signal(sig)
    rc, err = proc.finish()
    assert rc == (-signal.SIGKILL if sig == signal.SIGKILL else 128 + signal.SIGTERM), err
    after = tree(tmp_path / "runs")
    if sig == signal.SIGTERM:
        assert "hwgen: terminated (SIGTERM)" in err and "Traceback" not in err and not _errors(err)
        assert after == before  # handled like Ctrl-C: not even debris
    else:
        assert _no_debris(after) == before  # the previous run and the user's files untouched
        assert _debris(tmp_path / "runs")  # what the killed process could not clean
    # the next run cleans up and succeeds; the user's files are still there
    capsys.readouterr()
    assert run_cli(*args, "--out", out) == 0
    if sig == signal.SIGKILL:
        assert "removed 1 staging folder(s) left by an interrupted hwgen run" in capsys.readouterr().err
    final = tree(tmp_path / "runs")
    assert final["tiny/notes.txt"] == before["tiny/notes.txt"] and final["thesis.tex"] == before["thesis.tex"]
    assert _debris(tmp_path / "runs") == []


def test_sigkill_during_convert_then_rerun(tmp_path, capsys):
    _kill_and_rerun(tmp_path, capsys, signal.SIGKILL, "convert", csim=False)


def test_sigterm_during_train_is_handled_like_ctrl_c(tmp_path, capsys):
    _kill_and_rerun(tmp_path, capsys, signal.SIGTERM, "train", csim=False)


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["train", "convert", "csim", "report"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_at_each_stage_then_rerun(tmp_path, capsys, sig, stage):
    _kill_and_rerun(tmp_path, capsys, sig, stage, csim=True)


def test_two_concurrent_runs_and_a_file_added_mid_run(tmp_path, capsys):
    args = _args(tmp_path, csim=False)
    out = tmp_path / "runs" / "tiny"
    a = Proc([*args, "--out", out], cwd=tmp_path)
    a.wait_for(r"\] train\s")
    for extra in ([], ["--seed", "9"]):  # the same run and a different one
        capsys.readouterr()
        assert run_cli(*args, *extra, "--out", out) == 2
        err = capsys.readouterr().err
        assert len(_errors(err)) == 1 and f"is in use by another hwgen run (pid {a.p.pid})" in _errors(err)[0], err
    a.wait_for(r"\] convert\s")
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("written while the run was going")
    rc, err = a.finish()
    assert rc == 0, err
    assert (out / "notes.txt").read_text() == "written while the run was going" and (out / "report.json").is_file()
    assert "kept 1 file(s) of yours" in err and _debris(tmp_path / "runs") == []


def _fsize_limit(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_file_size_limit_fails_cleanly_and_keeps_the_previous_run(tmp_path):
    args = _args(tmp_path, csim=False)
    out = _base_run(tmp_path, args)
    (out / "notes.txt").write_text("changed, so the re-run is the same run with a user file in it")
    before = tree(tmp_path / "runs")
    proc = Proc([*args, "--out", out], cwd=tmp_path, preexec_fn=_fsize_limit(64 * 1024))
    rc, err = proc.finish()
    assert rc == 2, err
    assert len(_errors(err)) == 1 and "EFBIG" in _errors(err)[0] and "Traceback" not in err, err
    assert tree(tmp_path / "runs") == before


@pytest.fixture
def small_mount(tmp_path):
    """A real 1 MiB tmpfs (needs root with CAP_SYS_ADMIN; skipped elsewhere)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({proc.stderr.strip() or 'not root'})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_fails_cleanly(tmp_path, small_mount, capsys):
    (small_mount / "mine.txt").write_text("precious")
    before = tree(small_mount)
    assert run_cli(*_args(tmp_path, csim=False), "--out", small_mount / "run") == 2
    err = capsys.readouterr().err
    assert len(_errors(err)) == 1 and "the disk is full (ENOSPC)" in _errors(err)[0], err
    assert tree(small_mount) == before


def test_read_only_file_system_fails_cleanly(tmp_path, small_mount, capsys):
    (small_mount / "mine.txt").write_text("precious")
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    before = tree(small_mount)
    assert run_cli(*_args(tmp_path, csim=False), "--out", small_mount / "run") == 2
    err = capsys.readouterr().err
    assert len(_errors(err)) == 1 and "read-only file system (EROFS)" in _errors(err)[0], err
    assert tree(small_mount) == before


def test_permission_denied_fails_cleanly(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "mine.txt").write_text("precious")
    locked.chmod(0o555)
    prefix: tuple = ()
    if os.geteuid() == 0:  # root ignores permissions: drop the capability that lets it
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot drop CAP_DAC_OVERRIDE")
        prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")
    before = tree(locked)
    try:
        proc = Proc([*_args(tmp_path, csim=False), "--out", locked / "run"], cwd=tmp_path, prefix=prefix)
        rc, err = proc.finish()
    finally:
        locked.chmod(0o755)
    assert rc == 2, err
    assert len(_errors(err)) == 1 and "permission denied (EACCES)" in _errors(err)[0] and "Traceback" not in err, err
    assert tree(locked) == before
