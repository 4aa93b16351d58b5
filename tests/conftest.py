"""Shared fixtures. Runs use the real stack (QKeras training, hls4ml, g++); the expensive
ones are module- or session-scoped so each is built once per test run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent


def tiny_spec(name: str = "tiny", dataset: str = "{name: synthetic, n_samples: 64}", epochs: int = 2,
              pruning: bool = True) -> str:
    """A 4-4-3 spec that trains in a second: the shared subject of the fault, hostile-input
    and report tests (each varies only what it needs)."""
    text = (
        f"name: {name}\n"
        f"dataset: {dataset}\n"
        "input: {shape: [4], precision: {bits: 8, integer: 3}}\n"
        "classes: 3\n"
        "layers:\n"
        "  - {type: dense, name: fc1, units: 4, weight: {bits: 6, integer: 0}}\n"
        "  - {type: relu, name: relu1, bits: 6, integer: 2}\n"
        "  - {type: dense, name: out, units: 3, weight: {bits: 6, integer: 0}}\n"
    )
    if pruning:
        text += "pruning: {target_sparsity: 0.5, begin_epoch: 0, end_epoch: 2}\n"
    return text + f"training: {{epochs: {epochs}, batch_size: 16, seed: 3}}\n"


def run_cli(*argv: str) -> int:
    from hwgen.cli import main

    return main([str(a) for a in argv])


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory) -> Path:
    """The embedded default, digits_mlp, through train/convert/csim/report (no synthesis)."""
    out = tmp_path_factory.mktemp("digits") / "run"
    rc = run_cli("flow", "models/digits_mlp.yaml", "--out", out, "--synth", "none", "--no-baseline", "--quiet")
    assert rc == 0
    return out
