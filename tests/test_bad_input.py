"""Bad input gets one clear error, exit code 2, and leaves nothing half-written behind."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, run_cli


def _no_debris(parent):
    return not [p for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name]


def test_unknown_board_and_model(tmp_path, capsys):
    assert run_cli("flow", "digits_mlp", "--board", "zedboard9000", "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err
    assert "unknown board 'zedboard9000'" in err and "pynq-z2" in err
    assert run_cli("flow", "nosuchmodel", "--out", tmp_path / "r") == 2
    assert "unknown model 'nosuchmodel'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists() and _no_debris(tmp_path)


def test_malformed_yaml_via_cli_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "hwgen", "flow", str(bad), "--out", str(tmp_path / "r")], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("hwgen: error:") and "not valid YAML" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()


def _spec_with_npz(tmp_path):
    spec = (REPO / "models" / "digits_mlp.yaml").read_text().replace("dataset: {name: digits, test_fraction: 0.25}", "dataset: {name: npz}")
    p = tmp_path / "spec.yaml"
    p.write_text(spec.replace("epochs: 30", "epochs: 2").replace("end_epoch: 20", "end_epoch: 2").replace("begin_epoch: 4", "begin_epoch: 0"))
    return p


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda rng: (rng.normal(size=(100, 63)), rng.integers(0, 10, 100)), "samples have shape [63] but the model input is [64]"),
        (lambda rng: (np.where(rng.random((100, 64)) < 0.01, np.nan, 1.0), rng.integers(0, 10, 100)), "NaN/inf"),
        (lambda rng: (rng.normal(size=(100, 64)), rng.integers(0, 12, 100)), "labels must lie in 0..9"),
        (lambda rng: (rng.normal(size=(100, 64)), rng.integers(0, 10, 99)), "y must be 100 integer labels"),
    ],
)
def test_bad_data_is_refused(tmp_path, capsys, make, needle):
    X, y = make(np.random.default_rng(0))
    np.savez(tmp_path / "d.npz", X=X, y=y)
    assert run_cli("flow", _spec_with_npz(tmp_path), "--data", tmp_path / "d.npz", "--out", tmp_path / "r", "--quiet") == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "r").exists() and _no_debris(tmp_path)


def test_user_files_in_out_are_never_touched(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    assert run_cli("flow", "digits_mlp", "--out", out, "--force", "--quiet") == 2
    assert "did not create" in capsys.readouterr().err
    assert (out / "thesis.tex").read_text() == "precious" and sorted(p.name for p in out.iterdir()) == ["thesis.tex"]


def test_failure_mid_flow_leaves_no_half_written_run(tmp_path, capsys, monkeypatch):
    import hwgen.csim

    def broken(*a, **k):
        raise hwgen.errors.HwgenError("g++ could not compile (simulated failure for this test)")

    monkeypatch.setattr(hwgen.csim, "run_csim", broken)
    out = tmp_path / "r"
    assert run_cli("flow", "digits_mlp", "--epochs", "1", "--out", out, "--synth", "none", "--no-baseline", "--quiet") == 2
    assert "simulated failure" in capsys.readouterr().err
    assert not out.exists() and _no_debris(tmp_path)
