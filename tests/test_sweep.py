"""`hwgen sweep`: strict sweep files, grid expansion with shared training, Pareto fronts, and
real sweeps (QKeras training, hls4ml, g++ C-sim, the estimator) on a local process pool and on a
loopback Dask cluster, including a sweep killed half way and resumed.

The quick sweeps use 3 training epochs on the digits MLP; the shipped 3x3 example is @slow.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from hwgen.errors import HwgenError

HAS_ESTIMATOR = importlib.util.find_spec("hwgen.synth.estimate") is not None

SMALL = """\
name: t_small
model: digits_mlp
epochs: 3
synth: [estimate]
axes:
  bits: [4, 8]
  reuse_factor: [1, 2]
"""


def _parse(text: str, tmp_path: Path):
    import yaml

    from hwgen.sweep import parse_sweep

    return parse_sweep(yaml.safe_load(text), source=str(tmp_path / "s.yaml"), base_dir=tmp_path)


def _rows(out: Path) -> list[dict]:
    with open(out / "sweep.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _records(out: Path) -> dict[str, dict]:
    recs = {}
    for p in (out / "points").glob("*.json"):
        try:
            recs[p.name] = json.loads(p.read_text())
        except ValueError:
            pass
    return recs


def _mtimes(folder: Path, pattern: str = "*") -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob(pattern)}


# ---------------------------------------------------------------------------------------------
# sweep files (no TensorFlow)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("model: digits_mlp\naxes: {bits: [4]}\nworkers: 2\n", "unknown key(s) ['workers']"),
        ("model: digits_mlp\naxes: {bitz: [4]}\n", "unknown axis/axes ['bitz']"),
        ("model: digits_mlp\naxes: {sparsity: [0.5, 1.5]}\n", "axes.sparsity[1]"),
        ("model: digits_mlp\naxes: {bits: [4, 4]}\n", "axes.bits: lists 4 more than once"),
        ("model: digits_mlp\naxes: {bits: [4], weight_bits: [6]}\n", "do not combine it with weight_bits"),
        ("model: digits_mlp\naxes: {strategy: [fast]}\n", "axes.strategy[0]"),
        ("model: digits_mlp\naxes: {board: [no-such-board]}\n", "unknown board 'no-such-board'"),
        ("model: digits_mlp\npoints: [{bits: 4}, {sparsity: 0.5, colour: red}]\n", "points[1]: unknown axis/axes ['colour']"),
        ("model: digits_mlp\nsynth: [estimate, magic]\naxes: {bits: [4]}\n", "synth[1]"),
        ("model: no_such_model\naxes: {bits: [4]}\n", "neither a spec file"),
        ("axes: {bits: [4]}\n", "missing required key 'model'"),
        ("model: digits_mlp\n", "give 'axes'"),
        ("model: digits_mlp\nepochs: 0\naxes: {bits: [4]}\n", "epochs: must be an integer in [1, 10000]"),
    ],
)
def test_sweep_file_errors_name_the_key(tmp_path, text, needle):
    with pytest.raises(HwgenError) as info:
        _parse(text, tmp_path)
    assert needle in str(info.value)


def test_grid_expansion_shares_training_between_hardware_points(tmp_path):
    from hwgen.sweep import expand_points

    cfg = _parse(
        "model: digits_mlp\nepochs: 5\naxes: {bits: [4, 6], sparsity: [0.0, 0.75], reuse_factor: [1, 4]}\n"
        "points: [{bits: 4, sparsity: 0.0, reuse_factor: 1}, {weight_bits: 8, activation_bits: 3}]\n",
        tmp_path,
    )
    points = expand_points(cfg)
    assert len(points) == 2 * 2 * 2 + 1  # the first listed point repeats a grid point
    assert len({p.hash for p in points}) == len(points)
    assert len({p.label for p in points}) == len(points)
    assert len({p.train_key for p in points}) == 2 * 2 + 1  # reuse factor does not retrain
    by_label = {p.label: p for p in points}
    a, b = by_label["w4a4_s0_rf1"], by_label["w4a4_s0_rf4"]
    assert a.train_key == b.train_key and a.hash != b.hash
    assert b.spec.hls.reuse_factor == 4 and a.spec.hls.reuse_factor == 1
    s = by_label["w6a6_s0.75_rf4"].spec
    assert {layer.weight.bits for layer in s.layers if layer.weight} == {6}
    assert {layer.bits for layer in s.layers if layer.type == "relu"} == {6}
    assert s.pruning.target_sparsity == 0.75
    # epochs 5 pulls the spec's pruning schedule (begin 4, end 20) inside the training
    assert s.training.epochs == 5 and s.pruning.end_epoch == 5 and s.pruning.begin_epoch == 4
    mixed = [p for p in points if p.given.get("weight_bits") == 8][0]
    assert mixed.params["weight_bits"] == 8 and mixed.params["activation_bits"] == 3
    assert mixed.spec.hls.reuse_factor == 1  # the spec's value where the point says nothing
    # the hash is stable and covers everything that changes the result
    again = {p.label: p.hash for p in expand_points(cfg)}
    assert again == {p.label: p.hash for p in points}
    other = expand_points(_parse("model: digits_mlp\nepochs: 6\naxes: {bits: [4]}\n", tmp_path))[0]
    same = expand_points(_parse("model: digits_mlp\nepochs: 5\naxes: {bits: [4]}\n", tmp_path))[0]
    assert other.hash != same.hash and other.train_key != same.train_key


def test_pareto_front_by_hand():
    from hwgen.sweep import pareto_front

    rows = [
        {"id": "a", "status": "ok", "accuracy": 0.90, "lut": 100},
        {"id": "b", "status": "ok", "accuracy": 0.95, "lut": 300},
        {"id": "c", "status": "ok", "accuracy": 0.93, "lut": 300},  # dominated by b (same cost, lower acc)
        {"id": "d", "status": "ok", "accuracy": 0.89, "lut": 150},  # dominated by a
        {"id": "e", "status": "ok", "accuracy": 0.97, "lut": 1000},
        {"id": "f", "status": "failed", "accuracy": 0.99, "lut": 1},  # failed: not a candidate
        {"id": "g", "status": "ok", "accuracy": 0.96, "lut": None},  # no figure: not a candidate
        {"id": "h", "status": "ok", "accuracy": 0.90, "lut": 100},  # ties a exactly: both stay
    ]
    front = [rows[i]["id"] for i in pareto_front(rows, "lut")]
    assert sorted(front[:2]) == ["a", "h"] and front[2:] == ["b", "e"]


def _hand_record(pid: str, label: str, acc: float, bops: float, lut=None) -> dict:
    from hwgen.sweep.tasks import SCHEMA_POINT

    metrics = {"accuracy_csim": acc, "accuracy_qkeras": acc, "bit_exact_fraction": 1.0, "bops": bops}
    if lut is not None:
        metrics.update({"lut": lut, "dsp": 0, "latency_ns": 40.0, "synth_source": "hand"})
    return {"schema": SCHEMA_POINT, "id": pid, "hash": pid * 4, "label": label, "status": "ok", "params": {},
            "metrics": metrics, "stages": {}, "run_dir": None}


def test_report_copes_with_points_without_resources(tmp_path):
    """Rows without synthesis figures (no source ran, or its tool is missing): the CSV leaves
    them empty, the resource fronts say why they are empty, the BOPs front is still drawn."""
    from hwgen.sweep import write_sweep_report

    out = tmp_path / "sw"
    (out / "points").mkdir(parents=True)
    for rec in (_hand_record("1111", "p1", 0.9, 1e5), _hand_record("2222", "p2", 0.95, 3e5), _hand_record("3333", "p3", 0.8, 4e5)):
        (out / "points" / f"{rec['id']}.json").write_text(json.dumps(rec))
    md = write_sweep_report(out)
    assert md == out / "sweep.md" and md.is_file()
    rows = _rows(out)
    assert [r["label"] for r in rows] == ["p1", "p2", "p3"] and all(r["lut"] == "" for r in rows)
    assert [r["pareto_bops"] for r in rows] == ["True", "True", "False"]
    pareto = json.loads((out / "pareto.json").read_text())
    assert "no finished point has LUT figures" in pareto["fronts"]["lut"]["missing"]
    assert [p["label"] for p in pareto["fronts"]["bops"]["points"]] == ["p1", "p2"]
    assert (out / "plots" / "pareto_bops.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "plots" / "pareto_lut.png").exists()
    # `hwgen report DIR` regenerates a sweep directory
    assert run_cli("report", out) == 0


def test_out_dir_with_foreign_files_is_refused(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(SMALL)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    assert run_cli("sweep", spec, "--out", out, "--quiet") == 2
    assert "did not create" in capsys.readouterr().err
    assert run_cli("sweep", spec, "--out", tmp_path / "x", "--scheduler", "localhost", "--quiet") == 2
    assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]


# ---------------------------------------------------------------------------------------------
# real sweeps


def _tagged_pids(tag: str) -> list[int]:
    """Processes carrying HWGEN_TEST_TAG=tag in their environment (the sweep and its workers)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            env = (d / "environ").read_bytes()
        except OSError:
            continue
        if f"HWGEN_TEST_TAG={tag}".encode() in env.split(b"\0"):
            pids.append(int(d.name))
    return pids


def _check_finished_sweep(out: Path, n_points: int) -> list[dict]:
    rows = _rows(out)
    assert len(rows) == n_points
    for r in rows:
        assert r["status"] == "ok", r
        assert r["bit_exact"] == "True" and float(r["bit_exact_fraction"]) == 1.0
        assert float(r["accuracy_csim"]) > 0.5 and float(r["accuracy_qkeras"]) == float(r["accuracy_csim"])
        assert float(r["bops"]) > 0 and int(r["params"]) == 64 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10
        for col in ("wall_convert_s", "wall_csim_s", "wall_train_s"):
            assert float(r[col]) > 0
        run = out / r["run_dir"]
        assert (run / "report.json").is_file() and (run / "hls" / "firmware" / "myproject.cpp").is_file()
        if HAS_ESTIMATOR:
            assert r["synth_source"].startswith("estimate") and float(r["lut"]) > 0 and float(r["latency_ns"]) > 0
    state = json.loads((out / "sweep.json").read_text())
    pareto = json.loads((out / "pareto.json").read_text())
    assert state["counts"] == {"points": n_points, "ok": n_points, "failed": 0, "pending": 0}
    assert state["state"] == "finished"
    fronts = ("lut", "dsp", "latency", "bops") if HAS_ESTIMATOR else ("bops",)
    cost = {"lut": "lut", "dsp": "dsp", "latency": "latency_ns", "bops": "bops"}
    for name in fronts:
        on = {p["id"] for p in pareto["fronts"][name]["points"]}
        assert on, name
        # independently: a point is on the front iff no other point is at least as accurate and at
        # most as costly, and strictly better in one of the two
        pts = [(r["id"], float(r["accuracy"]), float(r[cost[name]])) for r in rows]
        expect = {i for i, a, c in pts if not any((a2 >= a and c2 <= c and (a2 > a or c2 < c)) for j, a2, c2 in pts if j != i)}
        assert on == expect, name
        assert {r["id"] for r in rows if r[f"pareto_{name}"] == "True"} == expect
        png = out / "plots" / f"pareto_{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    return rows


def test_sweep_killed_half_way_resumes_without_recomputing(tmp_path):
    """2x2 grid (bits x reuse factor: two trained models, each shared by two points) on 2 workers:
    kill the sweep process (SIGKILL) once a point has finished, re-run: finished points and
    models are not touched and the rest completes; a third run computes nothing."""
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL)
    out = tmp_path / "sweep"
    tag = uuid.uuid4().hex
    env = dict(os.environ, HWGEN_TEST_TAG=tag, PYTHONPATH=str(REPO))
    log = open(tmp_path / "first.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hwgen", "sweep", str(spec), "--workers", "2", "--out", str(out), "--quiet"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 420
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if any(r.get("status") == "ok" for r in _records(out).values()):
                break
            time.sleep(0.3)
        assert proc.poll() is None, f"the sweep ended before it could be killed: {(tmp_path / 'first.log').read_text()[-2000:]}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    # the workers notice that the sweep process is gone and stop (leaving only complete results)
    deadline = time.monotonic() + 20
    while _tagged_pids(tag) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _tagged_pids(tag), "sweep workers outlived the killed sweep process"

    before = {name: rec for name, rec in _records(out).items() if rec.get("status") == "ok"}
    assert 1 <= len(before) < 4, sorted(before)
    mtimes = _mtimes(out / "points", "*.json")
    models_before = _mtimes(out / "models")
    entries = json.loads((out / "sweep.json").read_text())["points"]
    assert len(entries) == 4 and len({e["model_id"] for e in entries}) == 2
    done_ids = {rec["id"] for rec in before.values()}
    models_left = {e["model_id"] for e in entries if e["id"] not in done_ids}

    assert run_cli("sweep", spec, "--workers", "2", "--out", out, "--quiet") == 0
    state = json.loads((out / "sweep.json").read_text())
    last = state["last_run"]
    assert last["skipped"] == len(before)
    assert last["computed"] + last["recovered"] == 4 - len(before)
    assert last["failed"] == 0
    complete_before = {n for n in models_before if not n.startswith(".")}  # (hidden: a killed worker's staging)
    assert last["models_trained"] == len(models_left - complete_before)
    assert last["models_reused"] == len(models_left & complete_before)
    for name, rec in before.items():  # finished points were not recomputed
        assert (out / "points" / name).stat().st_mtime_ns == mtimes[name]
        assert json.loads((out / "points" / name).read_text())["computed_at"] == rec["computed_at"]
    for name, mtime in models_before.items():  # nor were finished models retrained
        if not name.startswith("."):  # (hidden: a killed worker's staging folder, cleaned up)
            assert (out / "models" / name).stat().st_mtime_ns == mtime
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".")]  # no staging left over
    rows = _check_finished_sweep(out, 4)
    assert {r["weight_bits"] for r in rows} == {"4", "8"} and {r["reuse_factor"] for r in rows} == {"1", "2"}
    for bits in ("4", "8"):  # the two points of one model: same weights, so the same C-sim accuracy
        pair = [r for r in rows if r["weight_bits"] == bits]
        assert len({r["model_id"] for r in pair}) == 1 and len({r["accuracy_csim"] for r in pair}) == 1
    from hwgen.sweep.tasks import usable_cores

    # each of the 2 workers bounded TensorFlow to cores // 2 threads
    assert {rec["tf_threads"] for rec in _records(out).values()} == {max(1, usable_cores() // 2)}

    # a finished sweep recomputes nothing
    all_mtimes = _mtimes(out / "points", "*.json")
    assert run_cli("sweep", spec, "--workers", "2", "--out", out, "--quiet") == 0
    state = json.loads((out / "sweep.json").read_text())
    assert state["last_run"]["computed"] == 0 and state["last_run"]["recovered"] == 0
    assert state["last_run"]["skipped"] == 4 and state["last_run"]["models_trained"] == 0
    # history: the killed invocation (its finished points counted from their records), then two runs
    assert [r.get("killed", False) for r in state["runs"]] == [True, False, False]
    assert [r["invocation"] for r in state["runs"]] == [1, 2, 3]
    assert state["runs"][0]["computed"] == len(before) and state["computed_total"] == 4
    assert _mtimes(out / "points", "*.json") == all_mtimes
    # regenerating the report from the records gives the same rows
    assert run_cli("report", out) == 0
    assert _rows(out) == rows


def test_sweep_through_a_local_dask_cluster(tmp_path):
    """One model, two reuse factors, sent to a loopback Dask cluster: trained once, both points
    converted, C-simulated bit-exactly and estimated by the cluster's workers."""
    distributed = pytest.importorskip("distributed")
    spec = tmp_path / "dask.yaml"
    spec.write_text("name: t_dask\nmodel: digits_mlp\nepochs: 3\nsynth: [estimate]\naxes:\n  bits: [6]\n  reuse_factor: [1, 2]\n")
    out = tmp_path / "sweep"
    with distributed.LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert run_cli("sweep", spec, "--scheduler", cluster.scheduler_address, "--out", out, "--quiet") == 0
    state = json.loads((out / "sweep.json").read_text())
    assert "Dask" in state["last_run"]["executor"]
    assert state["last_run"]["computed"] == 2 and state["last_run"]["models_trained"] == 1
    assert len([p for p in (out / "models").iterdir() if not p.name.startswith(".")]) == 1
    rows = _check_finished_sweep(out, 2)
    assert sorted(r["reuse_factor"] for r in rows) == ["1", "2"]
    assert len({r["model_id"] for r in rows}) == 1
    assert len({r["accuracy_csim"] for r in rows}) == 1  # same model, same C-sim result
    hls = [json.loads((out / r["run_dir"] / "convert.json").read_text())["reuse_factor"] for r in rows]
    assert sorted(hls) == [1, 2]


def test_failing_points_are_recorded_and_retried_unless_skipped(tmp_path, capsys):
    """A data file that does not fit the model: training fails on the worker; every point of that
    model is recorded as failed with the error, the sweep still finishes and writes its report."""
    import numpy as np

    np.savez(tmp_path / "bad.npz", X=np.zeros((40, 10), dtype=np.float32), y=np.arange(40) % 10)
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: t_bad\nmodel: digits_mlp\ndata: bad.npz\nepochs: 1\naxes: {reuse_factor: [1, 2]}\n")
    out = tmp_path / "sweep"
    assert run_cli("sweep", spec, "--workers", "1", "--out", out, "--quiet") == 1
    text = capsys.readouterr().out
    assert "failed" in text and "samples have shape [10] but the model input is [64]" in text
    rows = _rows(out)
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert all(r["error_stage"] == "train" and "[10]" in r["error"] for r in rows)
    state = json.loads((out / "sweep.json").read_text())
    assert state["counts"]["failed"] == 2 and state["last_run"]["failed"] == 2
    pareto = json.loads((out / "pareto.json").read_text())
    assert all(f.get("missing") for f in pareto["fronts"].values())
    assert "samples have shape [10]" in (out / "sweep.md").read_text()
    mtimes = _mtimes(out / "points", "*.json")
    assert run_cli("sweep", spec, "--skip-failed", "--out", out, "--quiet") == 1
    state = json.loads((out / "sweep.json").read_text())
    assert state["last_run"]["computed"] == 0 and state["last_run"]["skipped"] == 2
    assert _mtimes(out / "points", "*.json") == mtimes


@pytest.mark.slow
def test_shipped_example_3x3_on_two_workers(tmp_path):
    out = tmp_path / "sweep_digits"
    assert run_cli("sweep", REPO / "examples" / "sweep_digits.yaml", "--workers", "2", "--out", out, "--quiet") == 0
    rows = _check_finished_sweep(out, 9)
    assert {r["weight_bits"] for r in rows} == {"4", "6", "8"}
    assert {r["sparsity_target"] for r in rows} == {"0.0", "0.5", "0.75"}
    state = json.loads((out / "sweep.json").read_text())
    assert state["last_run"]["models_trained"] == 9 and state["last_run"]["computed"] == 9


def test_compression_methods_are_a_sweep_axis(tmp_path):
    """`methods:` lays compression keys over the model spec; `method` is a training axis (each
    method its own trained model) and a column of sweep.csv; bad ones are refused by name."""
    from hwgen.sweep import expand_points, parse_sweep

    raw = {"name": "m", "model": "digits_mlp", "epochs": 2, "synth": ["estimate"],
           "methods": {"neuron50": {"pruning": {"granularity": "neuron", "target_sparsity": 0.5}},
                       "lr8": {"low_rank": {"layers": ["fc1"], "rank": 8}}},
           "axes": {"method": ["baseline", "neuron50", "lr8"], "reuse_factor": [1, 2]}}
    points = expand_points(parse_sweep(raw))
    assert [p.params["method"] for p in points] == ["baseline"] * 2 + ["neuron50"] * 2 + ["lr8"] * 2
    assert len({p.train_key for p in points}) == 3  # reuse factor is a hardware axis: models shared
    by = {p.params["method"]: p.spec for p in points}
    assert by["neuron50"].pruning.granularity == "neuron" and by["lr8"].compression.low_rank.rank == 8
    assert by["baseline"].compression.active() == [] and points[0].label.startswith("baseline")
    from hwgen.sweep.report import COLUMNS

    assert "method" in COLUMNS
    for bad, needle in [
        ({"methods": {"lr": {"low_rank": {"layers": ["fc1"], "rank": 99}}}, "axes": {"method": ["lr"]}}, "methods.lr"),
        ({"axes": {"method": ["nothing"]}}, "names ['nothing'] not defined under 'methods:'"),
        ({"methods": {"baseline": {"low_rank": {}}}, "axes": {"method": ["baseline"]}}, "methods.baseline"),
    ]:
        with pytest.raises(HwgenError, match=re.escape(needle)):
            parse_sweep({"name": "m", "model": "digits_mlp", **bad})
