"""Shared fixtures. Runs use the real stack (QKeras training, hls4ml, g++); the expensive
ones are module- or session-scoped so each is built once per test run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent


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
