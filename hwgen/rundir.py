"""Run directory layout and its safe, atomic creation.

A run is built in a hidden sibling folder and renamed into place only when every stage
succeeded, so a failed or interrupted run never leaves a half-written directory, and an
existing directory is replaced only when it holds the same run (same fingerprint) or the
user passed --force for an earlier hwgen run. A folder hwgen did not make is never touched.

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

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from hwgen.errors import HwgenError
from hwgen.results import read_json

MANIFEST = "run.json"


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
    except (OSError, ValueError):
        return None


@contextmanager
def _staged(target: Path) -> Iterator[Path]:
    """Yield a staging folder beside `target`; on success it replaces `target` (the old one is
    moved aside first, so a crash at any moment leaves one complete version), on failure it is
    removed and `target` is untouched."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _make_staging(target.parent, f".{target.name}.partial-")
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    trash = None
    if target.exists():
        trash = _make_staging(target.parent, f".{target.name}.old-")
        os.replace(target, trash / "old")
    os.replace(staging, target)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


@contextmanager
def staged_run_dir(out: Path, fingerprint: str, force: bool = False) -> Iterator[Path]:
    """Yield a fresh staging folder for a whole run; on success it replaces `out`.

    An existing `out` is replaced only when it holds an hwgen run with the same fingerprint,
    or a different hwgen run and `force`; a folder with anything else in it is refused.
    """
    out = Path(out).resolve()
    if out.exists():
        if not out.is_dir():
            raise HwgenError(f"--out {out} exists and is not a directory; choose another --out")
        if any(out.iterdir()):
            old = run_fingerprint(out)
            if old is None:
                raise HwgenError(
                    f"--out {out} already holds files that hwgen did not create; choose an empty or new directory"
                )
            if old != fingerprint and not force:
                raise HwgenError(
                    f"--out {out} already holds a different run (fingerprint {old[:12]}); choose another --out "
                    "or pass --force to replace it"
                )
    with _staged(out) as staging:
        yield staging


@contextmanager
def staged_subdir(target: Path) -> Iterator[Path]:
    """A stage's own folder inside an existing run, replaced atomically (its earlier output only)."""
    with _staged(Path(target)) as staging:
        yield staging
