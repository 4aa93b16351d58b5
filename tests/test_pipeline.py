"""The one pipeline (issue 12): every command is a list of stages over the same runner.

Real runs throughout: a small QKeras model saved as a user would, real hls4ml projects
compiled by g++, the real estimator and Yosys. Checked here: `hwgen synth --open/--estimate
RUN` and `hwgen report RUN` on an existing run, `--synth auto`, a failing synthesis source
that keeps the run and records why (and a re-run that resumes it), `--trust-model-code`
reaching every stage, the estimate following `--backend Vivado`, library log lines kept off
the terminal, the README's Python API example, and that no module outside hwgen.pipeline
sequences the stages.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, run_cli
from hwgen.tools import tool_available

HAVE_YOSYS = tool_available("yosys") and tool_available("iverilog")


def _save_tiny_model(path: Path, seed: int = 0) -> None:
    from hwgen.tfcompat import tf
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    tf.keras.utils.set_random_seed(seed)
    q = lambda: quantized_bits(6, 0, alpha=1)  # noqa: E731
    model = tf.keras.Sequential([
        tf.keras.Input((8,)),
        QDense(6, kernel_quantizer=q(), bias_quantizer=q(), name="fc1"),
        QActivation(quantized_relu(6, 0), name="relu1"),
        QDense(3, kernel_quantizer=q(), bias_quantizer=q(), name="out"),
    ])
    model.save(str(path))


@pytest.fixture(scope="module")
def user_model(tmp_path_factory):
    """model.h5 + data.npz as a user brings them (inputs on the default 16/5 input grid)."""
    root = tmp_path_factory.mktemp("usermodel")
    _save_tiny_model(root / "model.h5")
    rng = np.random.default_rng(1)
    X = (np.round(rng.normal(0, 1.0, (120, 8)) * 64) / 64).astype(np.float32)
    np.savez(root / "data.npz", X_test=X, y_test=rng.integers(0, 3, 120))
    return root / "model.h5", root / "data.npz"


def _flow(user_model, out: Path, *extra: str) -> int:
    model, data = user_model
    return run_cli("flow", "--model-file", model, "--data", data, "--out", out, "--no-baseline", "--quiet", *extra)


def _manifest(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


def test_flow_records_every_stage_and_synth_adds_to_it(user_model, tmp_path):
    run = tmp_path / "run"
    assert _flow(user_model, run, "--synth", "none") == 0
    m = _manifest(run)
    assert [r["stage"] for r in m["applied"]] == ["train", "convert", "csim", "report"]
    assert all(r["status"] == "ok" for r in m["applied"]) and m["complete"] is True
    report = json.loads((run / "report.json").read_text())
    assert report["synth"] == []
    # `hwgen synth --estimate RUN` adds a stage to the finished run and rebuilds its report
    assert run_cli("synth", "--estimate", "--quiet", run) == 0
    m = _manifest(run)
    assert [r["stage"] for r in m["applied"]][-2:] == ["synth:estimate", "report"]
    report = json.loads((run / "report.json").read_text())
    assert [s["source"] for s in report["synth"]] == ["estimate:v2-vitis_hls"]
    # what the added stage wrote is the run's own (a re-run may replace it; see hwgen.rundir)
    inventory = json.loads((run / ".hwgen-files.json").read_text())["files"]
    assert "synth/estimate_v2-vitis_hls.json" in inventory
    # `hwgen report RUN` is the report stage alone
    before = (run / "report.json").read_bytes()
    (run / "report.md").unlink()
    assert run_cli("report", run) == 0
    again, before = json.loads((run / "report.json").read_bytes()), json.loads(before)
    assert (run / "report.md").is_file()
    assert {k: v for k, v in again.items() if k != "stages"} == {k: v for k, v in before.items() if k != "stages"}
    assert _manifest(run)["applied"][-1]["stage"] == "report"


def test_synth_on_a_run_without_an_hls_project_says_what_to_do(user_model, tmp_path, capsys):
    run = tmp_path / "run"
    model, data = user_model
    assert run_cli("convert", "--model-file", model, "--data", data, "--out", run, "--quiet", "--no-csim") == 0
    shutil.rmtree(run / "hls")
    m = _manifest(run)
    m["applied"] = [r for r in m["applied"] if r["stage"] != "convert"]
    (run / "run.json").write_text(json.dumps(m))
    (run / "convert.json").unlink()
    assert run_cli("synth", "--estimate", run) == 2
    err = capsys.readouterr().err
    assert "needs the 'convert' stage" in err and err.count("\n") == 1


@pytest.mark.skipif(not HAVE_YOSYS, reason="needs yosys and iverilog (apt-get install yosys iverilog)")
def test_synth_open_on_an_existing_run(user_model, tmp_path):
    run = tmp_path / "run"
    assert _flow(user_model, run, "--synth", "estimate") == 0
    assert run_cli("synth", "--open", "--quiet", "--rtl-samples", "60", run) == 0
    rtlsim = json.loads((run / "rtlsim.json").read_text())
    assert rtlsim["bit_exact_fraction"] == 1.0
    report = json.loads((run / "report.json").read_text())
    sources = [s["source"] for s in report["synth"]]
    assert any(s.startswith("yosys") for s in sources) and "estimate:v2-vitis_hls" in sources


def test_synth_auto_picks_the_sources_this_board_can_run(user_model, tmp_path):
    from hwgen.boards import load_board
    from hwgen.synth.sources import SOURCES, resolve_synth

    board = load_board("pynq-z2")
    expected = ["vendor" if SOURCES["vendor"].unavailable(board) is None else "open", "estimate"]
    assert resolve_synth(("auto",), board) == expected
    # On a Lattice board the vendor tools never apply, installed or not.
    assert resolve_synth(("auto",), load_board("icebreaker-up5k")) == ["open", "estimate"]
    run = tmp_path / "run"
    assert _flow(user_model, run, "--synth", "auto", "--rtl-samples", "40") in (0, 1)
    stages = [r["stage"] for r in _manifest(run)["applied"]]
    assert stages == ["train", "convert", "csim"] + [f"synth:{s}" for s in expected] + ["report"]


def test_a_failing_synth_source_keeps_the_run_and_a_rerun_resumes_it(user_model, tmp_path, monkeypatch, capsys):
    """A Yosys crash (here: a yosys that exits 1) must not discard the trained model and HLS
    project; the report names the source and why; the same flow run again reuses train/convert/
    csim and runs the failed source again."""
    import os

    from hwgen import tools

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "yosys").write_text('#!/bin/sh\ncase "$1" in -V|--version) echo "Yosys 0.23 (fake)"; exit 0;; esac\n'
                                'echo "ERROR: simulated crash" >&2; exit 1\n')
    (fake / "yosys").chmod(0o755)
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", f"{fake}:{path}")
    monkeypatch.setattr(tools, "_CACHE", {})
    run = tmp_path / "run"
    rc = _flow(user_model, run, "--synth", "open,estimate", "--rtl-samples", "20")
    out = capsys.readouterr()
    assert rc == 1
    m = _manifest(run)
    assert (run / "train" / "model.h5").is_file() and (run / "hls").is_dir()
    assert m["complete"] is False and "open" in m["synth_errors"]
    status = {r["stage"]: r["status"] for r in m["applied"]}
    assert status["synth:open"] == "failed" and status["synth:estimate"] == "ok" and status["report"] == "ok"
    report = json.loads((run / "report.json").read_text())
    assert report["synth_errors"]["open"] == m["synth_errors"]["open"]
    assert "open synthesis FAILED" in out.out + out.err
    # The same flow again, with the tool mended: earlier stages reused, the failed one re-run.
    monkeypatch.setenv("PATH", path)
    monkeypatch.setattr(tools, "_CACHE", {})
    model_bytes = (run / "train" / "model.h5").read_bytes()
    rc = _flow(user_model, run, "--synth", "open,estimate", "--rtl-samples", "20")
    m = _manifest(run)
    status = {r["stage"]: r["status"] for r in m["applied"]}
    assert status["train"] == status["convert"] == status["csim"] == "reused"
    assert (run / "train" / "model.h5").read_bytes() == model_bytes
    if HAVE_YOSYS:
        assert rc == 0 and status["synth:open"] == "ok" and not m["synth_errors"] and m["complete"] is True


def _module_key_model(src: Path, dst: Path) -> None:
    """`src` with one layer naming a module to import while loading (as a model saved from a
    user's own package does): the gate refuses it unless the user trusts the file."""
    import h5py

    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as fh:
        cfg = json.loads(fh.attrs["model_config"])
        cfg["config"]["layers"][0]["module"] = "collections"
        fh.attrs["model_config"] = json.dumps(cfg)


def test_trust_model_code_reaches_every_stage(user_model, tmp_path, monkeypatch, capsys):
    import hwgen.modelgate

    model, data = user_model
    trusted = tmp_path / "mine.h5"
    _module_key_model(model, trusted)
    assert run_cli("flow", "--model-file", trusted, "--data", data, "--out", tmp_path / "refused", "--quiet") == 2
    assert "--trust-model-code" in capsys.readouterr().err
    calls: list[bool] = []
    real = hwgen.modelgate.check_model_file

    def spy(path, trust_code=False):  # records what each stage asked for, then the real gate decides
        calls.append(trust_code)
        return real(path, trust_code=trust_code)

    monkeypatch.setattr(hwgen.modelgate, "check_model_file", spy)
    run = tmp_path / "run"
    synth = "open,estimate" if HAVE_YOSYS else "estimate"
    rc = run_cli("flow", "--model-file", trusted, "--data", data, "--out", run, "--quiet", "--trust-model-code",
                 "--synth", synth, "--rtl-samples", "20", "--baseline-reps", "3")
    assert rc == 0
    stages = {r["stage"] for r in _manifest(run)["applied"] if r["status"] == "ok"}
    assert {"train", "convert", "csim", "synth:estimate", "baseline", "report"} <= stages
    # train, convert, the open path and the baseline engines each load the model: all trusted
    assert len(calls) >= 4 and all(calls), calls
    # A run whose own model needs trust: `hwgen synth` on it needs --trust-model-code too.
    _module_key_model(run / "train" / "model.h5", run / "train" / "m2.h5")
    (run / "train" / "m2.h5").replace(run / "train" / "model.h5")
    if HAVE_YOSYS:
        assert run_cli("synth", "--open", "--quiet", "--rtl-samples", "20", run) == 1
        assert "--trust-model-code" in _manifest(run)["synth_errors"]["open"]
        calls.clear()
        assert run_cli("synth", "--open", "--quiet", "--rtl-samples", "20", "--trust-model-code", run) == 0
        assert calls and all(calls) and not _manifest(run)["synth_errors"]


def test_vivado_backend_is_estimated_with_the_vivado_calibration(user_model, tmp_path):
    run = tmp_path / "run"
    assert _flow(user_model, run, "--synth", "estimate", "--backend", "Vivado") == 0
    report = json.loads((run / "report.json").read_text())
    assert [s["source"] for s in report["synth"]] == ["estimate:v2-vivado_hls"]
    # and the user may name the modelled tool explicitly for an added estimate
    assert run_cli("synth", "--estimate", "--estimate-tool", "vitis_hls", "--quiet", run) == 0
    sources = {s["source"] for s in json.loads((run / "report.json").read_text())["synth"]}
    assert "estimate:v2-vitis_hls" in sources


def test_library_log_lines_stay_off_the_terminal(user_model, tmp_path):
    """TensorFlow/absl/Keras output goes to RUN/logs/<stage>.log; the terminal gets progress
    lines and the summary only."""
    model, data = user_model
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "hwgen", "flow", "--model-file", str(model), "--data", str(data), "--out", str(run),
         "--synth", "estimate", "--no-baseline"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    noise = [line for line in proc.stderr.splitlines() + proc.stdout.splitlines()
             if re.search(r"tensorflow|WARNING|UserWarning|warnings\.warn|absl|I0000|oneDNN|cuda", line)]
    assert noise == []
    progress = [line for line in proc.stderr.splitlines() if re.match(r"\[\d/\d\] ", line)]
    assert progress and all(re.match(r"\[\d/\d\] (train|convert|csim|estimate|report) ", line) for line in progress)
    logs = "".join(p.read_text() for p in (run / "logs").glob("*.log"))
    assert "UserWarning" in logs or "WARNING" in logs  # what was kept off the terminal is kept here


def _readme_python_example() -> str:
    text = (REPO / "README.md").read_text()
    m = re.search(r"<!-- python-api-example -->\s*```python\n(.*?)```", text, re.S)
    assert m, "README has no Python API example block"
    return m.group(1)


def test_readme_python_api_example_runs(tmp_path):
    code = _readme_python_example()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "bit-exact 1.0" in proc.stdout


def test_no_module_outside_the_pipeline_sequences_stages():
    """Stage functions are called only by their stage (hwgen/pipeline/stages.py, through the
    synthesis-source registry); only the runner writes run.json; the packages import on their
    own (no import cycles)."""
    import ast

    stage_functions = {"run_train", "finish_model", "run_convert", "run_csim", "write_report", "run_baselines",
                       "run_open_synth", "run_vendor_synth", "run_estimate"}
    allowed = {"hwgen/pipeline/stages.py", "hwgen/synth/sources.py"}
    # a stage's own helpers, and the single-purpose `hwgen baseline RUN` (it times engines only)
    allowed_pairs = {("finish_model", "hwgen/train.py"), ("run_baselines", "hwgen/commands/baseline.py")}
    stray, manifest_writers = [], []
    for path in sorted((REPO / "hwgen").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if fn in stage_functions and rel not in allowed and (fn, rel) not in allowed_pairs:
                stray.append(f"{rel}:{node.lineno} {fn}")
            if fn == "write_json" and node.args and "manifest" in ast.unparse(node.args[0]):
                manifest_writers.append(rel)
    assert stray == [], f"stage functions called outside the pipeline: {stray}"
    assert set(manifest_writers) == {"hwgen/pipeline/runner.py"}, manifest_writers
    for pkg in ("hwgen.pipeline", "hwgen.report", "hwgen.report.plots", "hwgen.report.html", "hwgen.synth.sources",
                "hwgen.api"):
        proc = subprocess.run([sys.executable, "-c", f"import {pkg}"], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
