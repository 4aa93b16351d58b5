"""Weight sharing, binary/ternary weights and automatic mixed precision (issue 13, items 4-6),
each trained for real on the digits MLP and carried through hls4ml to a g++ C-simulation that
must match QKeras bit for bit."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import REPO, run_cli


def _spec(tmp_path: Path, name: str, **changes) -> Path:
    """models/digits_mlp.yaml, renamed and shortened (a few epochs keep each test under a minute)."""
    raw = yaml.safe_load((REPO / "models" / "digits_mlp.yaml").read_text())
    raw["name"] = name
    raw["training"]["epochs"] = 8
    raw["pruning"] = {"target_sparsity": 0.5, "begin_epoch": 2, "end_epoch": 6, "frequency": 10}
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _flow(spec: Path, out: Path) -> tuple[dict, dict]:
    rc = run_cli("flow", spec, "--synth", "estimate", "--no-baseline", "--quiet", "--out", out)
    assert rc == 0
    train = json.loads((out / "train" / "train.json").read_text())
    csim = json.loads((out / "csim.json").read_text())
    return train, csim


def _bit_exact(csim: dict) -> None:
    assert csim["bit_exact_fraction"] == 1.0
    assert csim["max_abs_diff"] == 0.0


def test_kmeans_1d_is_deterministic_and_bounded():
    from hwgen.compress.weight_sharing import kmeans_1d

    rng = np.random.default_rng(0)
    v = rng.normal(0, 0.3, 500)
    a, b = kmeans_1d(v, 5), kmeans_1d(v.copy(), 5)
    assert np.array_equal(a, b)
    assert a.size <= 5 and np.all(np.diff(a) > 0)
    # fewer distinct values than clusters: the values themselves
    assert np.array_equal(kmeans_1d(np.array([0.5, -0.25, 0.5]), 4), np.array([-0.25, 0.5]))


def test_weight_sharing_flow(tmp_path):
    clusters = 4
    spec = _spec(tmp_path, "digits_ws", weight_sharing={"clusters": clusters, "fine_tune_epochs": 2})
    train, csim = _flow(spec, tmp_path / "run")
    _bit_exact(csim)
    dense = [l for l in train["layers"] if l["type"] == "QDense"]
    assert [l["name"] for l in dense] == ["fc1", "fc2", "output"]
    rec = train["compression"]["weight_sharing"]
    assert rec["summary"]["clusters"] == clusters
    by_layer = {r["layer"]: r for r in rec["layers"]}
    for layer in dense:
        assert layer["distinct_weights"] <= clusters
        r = by_layer[layer["name"]]
        assert r["distinct_after"] == layer["distinct_weights"] == len(r["values"])
        assert r["distinct_before"] > clusters
        values = np.array(r["values"])
        assert np.all(np.diff(values) > 0)
        # on the quantized_bits(6, 0) grid: multiples of 2**-5 in [-1, 1 - 2**-5]
        assert np.array_equal(values * 32, np.round(values * 32))
        assert values.min() >= -1.0 and values.max() <= 1.0 - 2.0**-5
        assert 0.0 in r["values"]  # the pruned zeros stay zero
    assert train["sparsity"] >= 0.5  # sharing did not undo the pruning


@pytest.mark.parametrize("kind", ["binary", "ternary"])
def test_binary_ternary_hidden_layer(tmp_path, kind):
    raw = yaml.safe_load((REPO / "models" / "digits_mlp.yaml").read_text())
    layers = [
        {"type": "dense", "name": "fc1", "units": 32, "weight": {"type": kind}},  # biases: fixed <8,3>
        {"type": "relu", "name": "relu1", "bits": 4, "integer": 2},
        raw["layers"][-1],  # the fixed-point 6-bit output layer
    ]
    # no pruning: binary(0) is +1, so a pruned weight of a binary layer would not be zero in hardware
    spec = _spec(tmp_path, f"digits_{kind}", layers=layers, pruning=None)
    train, csim = _flow(spec, tmp_path / "run")
    _bit_exact(csim)
    fc1 = next(l for l in train["layers"] if l["name"] == "fc1")
    assert fc1["distinct_weights"] == (2 if kind == "binary" else 3)
    assert train["accuracy_qkeras"] > 0.5  # it learned (10 classes: chance is 0.1)


def test_auto_quant_flow(tmp_path):
    budget = 0.02
    bits = [6, 4, 3]
    spec = _spec(tmp_path, "digits_aq", quantization={"auto": {"max_accuracy_drop": budget, "bits": bits,
                                                                "search_epochs": 2}})
    train, csim = _flow(spec, tmp_path / "run")
    _bit_exact(csim)
    rec = train["compression"]["auto_quant"]
    s = rec["summary"]
    chosen = s["chosen"]
    assert set(chosen) == {"fc1", "relu1", "fc2", "relu2", "output"}
    assert set(chosen.values()) <= set(bits)
    # the model that was trained, converted and C-simulated has the chosen widths
    by_name = {l["name"]: l for l in train["layers"]}
    for name, b in chosen.items():
        assert (by_name[name]["activation_bits"] if name.startswith("relu") else by_name[name]["weight_bits"]) == b
    # the accuracy drop against the reference (widest width), in validation samples: exact
    assert s["reference_bits"] == max(bits)
    assert s["reference_correct"] - s["correct"] <= Fraction(repr(budget)) * s["n_validation"]
    assert [u["bits"] for u in s["uniform"]] == sorted(bits, reverse=True)
    assert s["uniform"][0]["correct"] == s["reference_correct"]
    assert s["best_uniform_within_budget"] is not None
    assert s["bops"] <= s["best_uniform_within_budget"]["bops"]
    assert s["trainings"] <= len(bits) + 3 * (len(bits) - 1) * 3  # uniform + rounds x units
    assert {r["layer"] for r in rec["layers"]} == set(chosen)
