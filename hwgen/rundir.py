"""Run directory layout and its safe, atomic creation.

A run is built in a hidden sibling folder and renamed into place only when every stage
succeeded, so a failed or interrupted run never leaves a half-written directory, and an
existing directory is replaced only when it holds the same run (same fingerprint) or the
user passed --force for an earlier hwgen run. A folder hwgen did not make is never touched.

The swap is a transaction: a lock file beside the target (`.NAME.lock`, held with fcntl.flock
for the whole run, so a second run into the same --out is refused at once), the checks for
"different run" and "files hwgen did not create" repeated under the lock right before the
swap, files a user added to an earlier run folder carried into the new one (hard links, so
the original stays in place until the swap), and staging folders of dead processes (their
lock no longer held) cleaned, or an interrupted swap rolled back, at the next start.

Layout (paths relative to the run dir; each stage reads only what earlier stages wrote):
    run.json                 manifest: name, fingerprint, spec, board, options, versions, stage times
    spec.yaml                the (normalized) model spec
    train/model.h5           trained QKeras model (pruning wrappers stripped)
    train/data.npz           X_test (already on the input fixed-point grid), y_test, logits_qkeras, logits_float
    train/train.json         TrainResult
    hls/                     the hls4ml project (hls4ml_config.yml, firmware/, build scripts)
    convert.json             ConvertResult
    csim.json                CsimResult
    synth/<source>.json      one SynthResult per synthesis source; synth/<source>/ holds its logs
    baseline/baseline.json   software CPU/GPU baselines
    report.json, report.md, report.html, plots/
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from hwgen.errors import HwgenError, os_error_message
from hwgen.results import INVENTORY, read_json, read_inventory, write_inventory

MANIFEST = "run.json"
# Top-level entries hwgen writes into a run dir: runs made before the inventory file existed
# are classified by these names.
HWGEN_ENTRIES = frozenset({
    MANIFEST, "spec.yaml", "train", "hls", "convert.json", "csim.json", "synth", "rtl", "rtlsim.json", "baseline",
    "report.json", "report.md", "report.html", "plots",
})
# Files `hwgen report` rewrites in place without recording them (they are hwgen's in any run).
_REWRITTEN = re.compile(r"(report\.(json|md|html)|plots/[^/]+\.(png|svg|html))\Z")
_STAGING_SUFFIX = re.compile(r"\.(partial|old)-[A-Za-z0-9_]{8}\Z")
_TMP = re.compile(r"\..+\.tmp-\d+\Z")
_NAME_MAX = 255
_RESERVE = len(".partial-") + 8 + 2  # room for the staging folder's name next to the target


class RunPaths:
    """Names of the artifacts inside one run directory."""

    def __init__(self, root: Path):
        self.root = Path(root)

    manifest = property(lambda self: self.root / MANIFEST)
    spec = property(lambda self: self.root / "spec.yaml")
    train_dir = property(lambda self: self.root / "train")
    model = property(lambda self: self.root / "train" / "model.h5")
    data = property(lambda self: self.root / "train" / "data.npz")
    train_json = property(lambda self: self.root / "train" / "train.json")
    hls_dir = property(lambda self: self.root / "hls")
    convert_json = property(lambda self: self.root / "convert.json")
    csim_json = property(lambda self: self.root / "csim.json")
    synth_dir = property(lambda self: self.root / "synth")
    baseline_dir = property(lambda self: self.root / "baseline")
    report_json = property(lambda self: self.root / "report.json")


def notice(text: str) -> None:
    """A one-line note on stderr about what hwgen did to the user's folders."""
    print(f"hwgen: note: {text}", file=sys.stderr, flush=True)


def _make_staging(parent: Path, prefix: str) -> Path:
    """mkdtemp, but with the permissions a normal mkdir would give (mkdtemp makes it 0700)."""
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(staging, 0o777 & ~mask)
    return staging


def existing_run(path: Path) -> RunPaths:
    """A finished run directory given on the command line; error if it is not one."""
    path = Path(path)
    if not (path / MANIFEST).is_file():
        raise HwgenError(f"{path} is not an hwgen run directory (no {MANIFEST}); create one with `hwgen flow`")
    return RunPaths(path)


def run_fingerprint(path: Path) -> str | None:
    try:
        return read_json(Path(path) / MANIFEST).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None


# ---------------------------------------------------------------------------------------------
# the lock: .NAME.lock beside the target, flock'ed; it exists only while held


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode(errors="replace").strip()
        return text if text.isdigit() else ""
    except OSError:
        return ""


def acquire_lock(lock_path: Path, what: str) -> int:
    """Hold `lock_path` exclusively or raise HwgenError at once if another process holds it. The
    file is unlinked before release, so after locking we check that the path still names the
    file we locked (else someone released and removed it meanwhile: try again)."""
    for _ in range(100):
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _holder(fd)
            os.close(fd)
            raise HwgenError(
                f"{what} is in use by another hwgen run{f' (pid {pid})' if pid else ''}; wait for it to finish "
                "or choose another --out"
            ) from None
        try:
            same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            except OSError:
                pass  # the pid is only for the message of a refused second run
            return fd
        os.close(fd)
    raise HwgenError(f"could not lock {lock_path}")  # pragma: no cover


def release_lock(lock_path: Path, fd: int) -> None:
    try:
        if os.stat(lock_path).st_ino == os.fstat(fd).st_ino:
            os.unlink(lock_path)
    except OSError:
        pass
    os.close(fd)


def _is_lock_debris(path: str, name: str) -> bool:
    if not (name.startswith(".") and name.endswith(".lock")):
        return False
    try:
        with open(path, "rb") as fh:
            data = fh.read(64)
        return len(data) < 32 and data.strip().isdigit() or not data
    except OSError:
        return False


def _is_debris(dirpath: str, name: str) -> bool:
    """What hwgen itself leaves behind when killed: staging folders, temp files, lock files."""
    return bool(_STAGING_SUFFIX.search(name) and name.startswith(".")) or bool(_TMP.match(name)) or _is_lock_debris(
        os.path.join(dirpath, name), name
    )


@contextmanager
def _signals_blocked() -> Iterator[None]:
    """SIGINT/SIGTERM wait until the two renames of a swap are both done."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# ---------------------------------------------------------------------------------------------
# what a folder holds, and whose it is


def entries(root: Path) -> dict[str, str]:
    """Relative path -> 'file' | 'link' | 'dir' (empty directories only) under root, without
    following symlinks, leaving out hwgen's own debris and inventory."""
    root = Path(root)
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel = (lambda n: n) if rel_dir == "." else (lambda n, d=rel_dir: f"{d}/{n}".replace(os.sep, "/"))
        walk_into = []
        for d in dirnames:
            if _is_debris(dirpath, d):
                continue
            if os.path.islink(os.path.join(dirpath, d)):
                out[rel(d)] = "link"
            else:
                walk_into.append(d)
        dirnames[:] = walk_into
        files = 0
        for f in filenames:
            if _is_debris(dirpath, f) or (rel_dir == "." and f == INVENTORY):
                continue
            files += 1
            out[rel(f)] = "link" if os.path.islink(os.path.join(dirpath, f)) else "file"
        if rel_dir != "." and not walk_into and not files:
            out[rel_dir.replace(os.sep, "/")] = "dir"
    return out


def _hwgen_owned(run: Path) -> Callable[[str], bool]:
    """Which paths of a folder hwgen wrote: those in its inventory (plus the report files that
    `hwgen report` rewrites); for runs from before the inventory, hwgen's top-level names;
    nothing in a folder that is not an hwgen run."""
    run = Path(run)
    if not (run / MANIFEST).is_file():
        return lambda rel: False
    recorded = read_inventory(run)
    if recorded is None:
        return lambda rel: rel.split("/")[0] in HWGEN_ENTRIES
    return lambda rel: rel in recorded or rel == MANIFEST or bool(_REWRITTEN.match(rel))


def _carry(old: Path, new: Path, rels: list[str], kinds: dict[str, str]) -> None:
    """Put the kept entries of `old` into `new`: hard links (the original stays where it is
    until the swap), a copy where the file system has no hard links."""
    for rel in rels:
        src, dst = old / rel, new / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        kind = kinds[rel]
        if kind == "dir":
            dst.mkdir(exist_ok=True)
        elif kind == "link":
            os.symlink(os.readlink(src), dst)
        else:
            try:
                os.link(src, dst, follow_symlinks=False)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
                if not stat.S_ISREG(os.lstat(src).st_mode):
                    raise HwgenError(f"{src} is a special file hwgen cannot carry into the new run; move it away") from None
                shutil.copy2(src, dst)


def _clash(rel: str, kind: str, new: dict[str, str]) -> bool | None:
    """True: the new run has something at rel (or a file where rel needs a folder); None: rel is
    an empty folder that the new run has anyway; False: free."""
    parts = rel.split("/")
    for i in range(1, len(parts)):
        if new.get("/".join(parts[:i])) in ("file", "link"):
            return True
    if rel in new:
        return None if kind == "dir" and new[rel] == "dir" else True
    if kind == "dir" and any(p.startswith(rel + "/") for p in new):
        return None
    return False


def plan_keep(old: Path, new: Path, same_run: bool, owned: Callable[[str], bool]) -> tuple[list[str], list[str], set[str]]:
    """Entries of `old` to carry into `new`, the user's entries that `new` would overwrite
    (conflicts), and which kept entries are hwgen's. A different run's own files go with it;
    everything else of the old folder is kept."""
    old_entries, new_entries = entries(old), entries(new)
    keep: list[str] = []
    conflicts: list[str] = []
    hw: set[str] = set()
    for rel, kind in sorted(old_entries.items()):
        mine = owned(rel)
        if mine and not same_run:
            continue
        clash = _clash(rel, kind, new_entries)
        if clash is None:
            continue
        if clash:
            if not mine:
                conflicts.append(rel)
            continue
        keep.append(rel)
        if mine:
            hw.add(rel)
    return keep, conflicts, hw


def _rescue(old: Path, target: Path, owned: Callable[[str], bool]) -> tuple[list[str], list[str]]:
    """Move the user's entries of a replaced folder that are not in `target` into it (a file the
    user created during the swap itself). Returns (moved, could not be placed)."""
    have = entries(target)
    moved, left = [], []
    for rel, kind in sorted(entries(old).items()):
        if owned(rel):
            continue
        dst = target / rel
        if os.path.lexists(dst):
            try:
                if kind != "dir" and os.path.samefile(old / rel, dst) or kind == "link" and os.readlink(old / rel) == os.readlink(dst):
                    continue  # carried already
            except OSError:
                pass
            if kind != "dir":
                left.append(rel)
            continue
        if _clash(rel, kind, have):
            left.append(rel)
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(old / rel, dst)
        moved.append(rel)
    return moved, left


def _short(rels: list[str], n: int = 6) -> str:
    return ", ".join(rels[:n]) + (f" and {len(rels) - n} more" if len(rels) > n else "")


def _finish_trash(trash: Path, target: Path, owned_for: Callable[[Path], Callable[[str], bool]]) -> None:
    """Remove the folder a swap moved aside, after rescuing any user file it still holds."""
    old = trash / "old"
    left: list[str] = []
    if old.is_dir() and not old.is_symlink() and target.is_dir():
        moved, left = _rescue(old, target, owned_for(old))
        if moved:
            notice(f"moved {len(moved)} file(s) created during the swap into {target}: {_short(moved)}")
    if left:
        keep = trash.parent / f"{target.name}.unplaced-{trash.name[-8:]}"
        os.replace(trash, keep)
        notice(f"{len(left)} file(s) of yours could not be placed in {target} and are kept in {keep}: {_short(left)}")
        return
    shutil.rmtree(trash, ignore_errors=True)


def _recover(target: Path, owned_for: Callable[[Path], Callable[[str], bool]]) -> None:
    """Under the target's lock: undo what dead processes left. A swap interrupted between its two
    renames is rolled back (the previous folder put back); staging folders are removed."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(partial|old)-[A-Za-z0-9_]{{8}}\Z")
    stale = sorted(p for p in target.parent.iterdir() if pattern.match(p.name))
    for trash in (p for p in stale if pattern.match(p.name).group(1) == "old"):
        old = trash / "old"
        if os.path.lexists(old) and not os.path.lexists(target):
            os.replace(old, target)
            notice(f"restored {target}: an earlier run was interrupted while replacing it")
        _finish_trash(trash, target, owned_for)
    removed = []
    for staging in (p for p in stale if pattern.match(p.name).group(1) == "partial"):
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging.name)
    if removed:
        notice(f"removed {len(removed)} staging folder(s) left by an interrupted hwgen run: {_short(removed)}")


# ---------------------------------------------------------------------------------------------
# the transaction


def _check_target_name(target: Path) -> None:
    size = len(os.fsencode(target.name))
    if size + _RESERVE > _NAME_MAX:
        raise HwgenError(
            f"{target}: file name too long ({size} bytes; at most {_NAME_MAX - _RESERVE}, as hwgen needs room "
            "for its staging folder's name beside it)"
        )


@contextmanager
def _staged(target: Path, owned_for: Callable[[Path], Callable[[str], bool]], plan: Callable[[Path, Path], None] | None = None,
            what: str | None = None, check: Callable[[], None] | None = None) -> Iterator[Path]:
    """Yield a staging folder beside `target`, holding `target`'s lock; on success the staging
    folder replaces `target` (`plan(target, staging)` runs under the lock right before the swap
    and may refuse it), on failure it is removed and `target` is untouched."""
    target = Path(target)
    what = what or str(target)
    _check_target_name(target)
    for above in (target.parent, *target.parent.parents):
        if os.path.lexists(above):
            if not above.is_dir():
                raise HwgenError(f"{what}: {above}: a part of the path is not a directory (ENOTDIR)")
            break
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        lock_path = target.parent / f".{target.name}.lock"
        fd = acquire_lock(lock_path, what)
    except OSError as exc:
        raise HwgenError(f"{what}: {os_error_message(exc)}") from None
    try:
        try:
            _recover(target, owned_for)
        except OSError as exc:
            raise HwgenError(f"{what}: cannot clean up after an interrupted run: {os_error_message(exc)}") from None
        if check:
            check()
        try:
            staging = _make_staging(target.parent, f".{target.name}.partial-")
        except OSError as exc:
            raise HwgenError(f"{what}: {os_error_message(exc)}") from None
        try:
            yield staging
            if plan:
                plan(target, staging)
            _swap(target, staging, what, owned_for)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    finally:
        release_lock(lock_path, fd)


def _swap(target: Path, staging: Path, what: str, owned_for) -> None:
    trash = None
    with _signals_blocked():
        if os.path.lexists(target):
            trash = _make_staging(target.parent, f".{target.name}.old-")
            os.replace(target, trash / "old")
        try:
            os.replace(staging, target)
        except OSError as exc:
            if trash is not None:
                os.replace(trash / "old", target)
                shutil.rmtree(trash, ignore_errors=True)
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise HwgenError(f"{what} was created by someone else during the run; nothing was replaced, run again") from None
            raise
    if trash is not None:
        _finish_trash(trash, target, owned_for)


def _run_checks(out: Path, fingerprint: str, force: bool, during: bool) -> None:
    """May `out` be replaced by this run? (Before the run, and again under the lock before the swap.)"""
    if not os.path.lexists(out):
        return
    if out.is_symlink() or not out.is_dir():
        what = "was replaced by something that is not a directory during the run" if during else "exists and is not a directory"
        raise HwgenError(f"--out {out} {what}; choose another --out")
    if not (out / MANIFEST).is_file():
        # Before the run: a folder of the user's is refused. During it: files the user put into
        # the fresh folder are kept (plan_keep), not refused.
        if entries(out) and not during:
            raise HwgenError(f"--out {out} already holds files that hwgen did not create; choose an empty or new directory")
        return
    old = run_fingerprint(out)
    if old is None:
        raise HwgenError(f"--out {out} holds a damaged {MANIFEST}; move the folder away or choose another --out")
    if old != fingerprint and not force:
        raise HwgenError(
            f"--out {out} already holds a different run (fingerprint {old[:12]}); choose another --out "
            "or pass --force to replace it"
        )


@contextmanager
def staged_run_dir(out: Path, fingerprint: str, force: bool = False) -> Iterator[Path]:
    """Yield a fresh staging folder for a whole run; on success it replaces `out`.

    An existing `out` is replaced only when it holds an hwgen run with the same fingerprint,
    or a different hwgen run and `force`; a folder with anything else in it is refused. The
    checks run again under the lock right before the swap; files in `out` that the new run
    does not write are kept (a different run's own outputs excepted), and a file of the
    user's that the new run would overwrite makes the run fail with the list of them.
    """
    out = Path(out).resolve()

    def plan(target: Path, staging: Path) -> None:
        produced = set(entries(staging))
        kept_hw: set[str] = set()
        if os.path.lexists(target):
            _run_checks(target, fingerprint, force, during=True)
            same = run_fingerprint(target) in (fingerprint, None)
            keep, conflicts, kept_hw = plan_keep(target, staging, same, _hwgen_owned(target))
            if conflicts:
                raise HwgenError(
                    f"--out {target}: the run would overwrite {len(conflicts)} file(s) that hwgen did not write: "
                    f"{_short(conflicts)}; move them away and run again (nothing was changed)"
                )
            try:
                _carry(target, staging, keep, entries(target))
            except OSError as exc:
                raise HwgenError(f"--out {target}: cannot keep your files in the new run: {os_error_message(exc)}") from None
            user = [r for r in keep if r not in kept_hw]
            if user:
                notice(f"kept {len(user)} file(s) of yours in {target}: {_short(user)}")
            if kept_hw:
                notice(f"kept {len(kept_hw)} result(s) added to {target} after it was made: {_short(sorted(kept_hw))} "
                       f"(`hwgen report {target}` folds added results into the report)")
        write_inventory(staging, sorted(produced | kept_hw))

    check = lambda: _run_checks(out, fingerprint, force, during=False)  # noqa: E731
    with _staged(out, _hwgen_owned, plan=plan, what=f"--out {out}", check=check) as staging:
        yield staging


def _run_root(path: Path) -> Path | None:
    for parent in list(Path(path).parents)[:3]:
        if (parent / MANIFEST).is_file():
            return parent
    return None


@contextmanager
def staged_subdir(target: Path) -> Iterator[Path]:
    """A stage's own folder inside an existing run, replaced atomically (its earlier output only:
    files of the user's in it are kept, like those of a whole run)."""
    target = Path(target).resolve()
    root = _run_root(target)
    prefix = target.relative_to(root).as_posix() + "/" if root else ""

    def owned_for(_old: Path) -> Callable[[str], bool]:
        if root is None:
            return lambda rel: True
        run_owned = _hwgen_owned(root)
        return lambda rel: run_owned(prefix + rel)

    produced: set[str] = set()

    def plan(t: Path, staging: Path) -> None:
        produced.update(entries(staging))
        if not os.path.lexists(t):
            return
        if t.is_symlink() or not t.is_dir():
            raise HwgenError(f"{t} is not a directory; move it away and run again")
        keep, conflicts, _ = plan_keep(t, staging, True, owned_for(t))
        if conflicts:
            raise HwgenError(f"{t}: this step would overwrite file(s) that hwgen did not write: {_short(conflicts)}; move them away")
        _carry(t, staging, keep, entries(t))

    with _staged(target, owned_for, plan=plan) as staging:
        yield staging
    if root is not None and read_inventory(root) is not None:
        write_inventory(root, sorted(read_inventory(root) | {prefix + r for r in produced}))
