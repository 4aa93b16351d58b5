"""The walking skeleton end to end on real parts: QKeras training with pruning, hls4ml
generation, g++ C-simulation compared bit for bit with QKeras, and the report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_cli


def _report(run):
    return json.loads((run / "report.json").read_text())


def test_digits_mlp_default_is_bit_exact_and_accurate(digits_run):
    r = _report(digits_run)
    csim = r["csim"]
    assert csim["bit_exact_fraction"] == 1.0
    assert csim["max_abs_diff"] == 0.0
    assert csim["n_samples"] == 450  # 25% of the 1797 digits
    assert csim["accuracy"] >= 0.90
    assert r["accuracy"]["qkeras"]["value"] >= 0.90
    assert r["accuracy"]["float"]["value"] >= 0.90
    # every figure labelled with its source
    for key in ("float", "qkeras", "csim"):
        assert r["accuracy"][key]["source"]
    assert "g++" in csim["source"]
    for name in ("report.md", "run.json", "train/model.h5", "train/data.npz", "hls/firmware/myproject.cpp", "hls/hls4ml_config.yml"):
        assert (digits_run / name).is_file(), name


def test_pruning_reaches_the_target_and_stats_are_consistent(digits_run):
    r = _report(digits_run)
    m = r["model"]
    dense = [l for l in m["layers"] if l["type"] == "QDense"]
    assert [l["units"] for l in dense] == [32, 32, 10]
    assert m["params"] == 64 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10
    # polynomial schedule to 50% (quantization may zero a few more weights)
    for layer in dense:
        assert 0.49 <= layer["sparsity"] <= 0.60, layer
    assert m["nonzero"] == sum(l["nonzero"] for l in m["layers"])
    assert m["bops"] == pytest.approx(sum(l["bops"] for l in m["layers"]))
    # the HLS precisions follow the quantizers: 6-bit signed weights, 6-bit unsigned ReLU outputs
    layers = {l["name"]: l for l in r["convert"]["layers"]}
    assert layers["fc1"]["weight"].startswith("fixed<6,1")
    assert layers["relu1"]["result"].startswith("ufixed<6,0,RND_CONV,SAT")
    assert r["convert"]["input_type"] == "ap_fixed<6,2>"


def test_weights_on_disk_are_the_quantized_pruned_ones(digits_run):
    from hwgen.modelio import load_model
    from hwgen.qmodel import quantized_weights

    model = load_model(digits_run / "train" / "model.h5")
    kernel = quantized_weights(model.get_layer("fc1"))[0]
    assert np.all(np.abs(kernel * 32 - np.round(kernel * 32)) == 0)  # on the 6-bit grid (5 fraction bits)
    assert kernel.min() >= -1 and kernel.max() <= 31 / 32
    data = np.load(digits_run / "train" / "data.npz")
    X = data["X_test"]
    assert np.all(X * 16 == np.round(X * 16))  # inputs on the ap_fixed<6,2> grid
    assert X.min() >= 0 and X.max() == 1.0 and len(np.unique(X)) > 8  # real pixels/16, none saturated


def test_same_spec_and_seed_give_the_same_weights_project_and_report(digits_run, tmp_path):
    again = tmp_path / "again"
    assert run_cli("flow", "digits_mlp", "--out", again, "--synth", "none", "--no-baseline", "--quiet") == 0
    import h5py

    def weights(run):
        with h5py.File(run / "train" / "model.h5") as fh:
            out = {}
            fh["model_weights"].visititems(lambda n, o: out.__setitem__(n, o[()]) if hasattr(o, "shape") else None)
            return out

    w1, w2 = weights(digits_run), weights(again)
    assert w1.keys() == w2.keys() and all(np.array_equal(w1[k], w2[k]) for k in w1)
    r1, r2 = _report(digits_run), _report(again)
    assert r1["convert"]["project_sha256"] == r2["convert"]["project_sha256"]
    assert r1["run"]["fingerprint"] == r2["run"]["fingerprint"]
    for key in ("model", "accuracy"):
        assert r1[key] == r2[key]
    assert r1["csim"]["bit_exact_fraction"] == r2["csim"]["bit_exact_fraction"]
    # ...and a different seed gives different weights
    other = tmp_path / "other"
    assert run_cli("convert", "digits_mlp", "--out", other, "--seed", "8", "--epochs", "2", "--no-csim", "--quiet") == 0
    w3 = weights(other)
    assert not all(np.array_equal(w1[k], w3[k]) for k in w1)


def test_rerun_into_the_same_dir_replaces_it_but_a_different_run_is_refused(digits_run, tmp_path, capsys):
    before = sorted(p.name for p in digits_run.iterdir())
    rc = run_cli("flow", "digits_mlp", "--out", digits_run, "--synth", "none", "--no-baseline", "--quiet", "--reuse-factor", "2")
    assert rc == 2
    assert "already holds a different run" in capsys.readouterr().err
    assert sorted(p.name for p in digits_run.iterdir()) == before
    assert not [p for p in digits_run.parent.iterdir() if ".partial-" in p.name]


def test_digits_cnn_reaches_bit_exact_csim(tmp_path):
    out = tmp_path / "cnn"
    assert run_cli("flow", "models/digits_cnn.yaml", "--out", out, "--epochs", "6", "--synth", "none", "--no-baseline", "--quiet") == 0
    r = _report(out)
    assert r["csim"]["bit_exact_fraction"] == 1.0
    assert r["csim"]["accuracy"] > 0.5  # 6 epochs; the full 30-epoch default is checked in the demo
    assert any(l["class"] == "Conv2D" for l in r["convert"]["layers"]) or any("Conv" in l["class"] for l in r["convert"]["layers"])


def test_jet_mlp_without_data_fails_cleanly_but_builds_untrained(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "no_cache"))
    out = tmp_path / "jet"
    assert run_cli("flow", "jet_mlp", "--out", out, "--quiet") == 2
    err = capsys.readouterr().err
    assert "hls4ml_lhc_jets_hlf" in err and "--data" in err and "--untrained" in err
    assert not out.exists() and not list(tmp_path.glob(".jet*"))
    # The hardware benchmark still builds: seeded random weights, one-shot 75% pruning, bit-exact csim.
    assert run_cli("convert", "jet_mlp", "--untrained", "--out", out, "--quiet") == 0
    r = _report(out)
    assert r["csim"]["bit_exact_fraction"] == 1.0
    assert r["accuracy"]["qkeras"] is None  # synthetic inputs: no accuracy claimed
    assert 0.74 <= r["model"]["sparsity"] <= 0.80
    assert [l["units"] for l in r["model"]["layers"] if l["units"]] == [64, 32, 32, 5]


def test_jet_mlp_trains_from_a_local_file(tmp_path):
    # A stand-in file with the real format (16 features, 5 classes); the real dataset is not offline.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 16)).astype(np.float32)
    y = np.argmax(X[:, :5] + 0.1 * rng.normal(size=(600, 5)), axis=1)
    np.savez(tmp_path / "jets.npz", X=X, y=y)
    out = tmp_path / "jet"
    assert run_cli("flow", "jet_mlp", "--data", tmp_path / "jets.npz", "--epochs", "3", "--out", out, "--synth", "none", "--no-baseline", "--quiet") == 0
    assert _report(out)["csim"]["bit_exact_fraction"] == 1.0


def test_resource_strategy_reuse_and_io_stream_stay_bit_exact(tmp_path):
    out = tmp_path / "res"
    rc = run_cli("convert", "digits_mlp", "--epochs", "2", "--strategy", "resource", "--reuse-factor", "4",
                 "--io-type", "io_stream", "--backend", "Vivado", "--out", out, "--quiet")
    assert rc == 0
    r = _report(out)
    conv = r["convert"]
    assert (conv["backend"], conv["strategy"], conv["reuse_factor"], conv["io_type"]) == ("Vivado", "resource", 4, "io_stream")
    assert r["csim"]["bit_exact_fraction"] == 1.0
    assert "Strategy: Resource" in (out / "hls" / "hls4ml_config.yml").read_text() or "Resource" in (out / "hls" / "hls4ml_config.yml").read_text()
