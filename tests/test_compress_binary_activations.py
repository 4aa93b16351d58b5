"""Binary and ternary activations from a spec (issue 13, item 5): QKeras binary/ternary
activations with no batch normalization, trained, converted and C-simulated bit-exact; the
open RTL path refuses them by name; and the combinations that cannot be exact are refused
before any work."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import run_cli
from hwgen.errors import HwgenError
from hwgen.spec import parse_spec

SPEC = {
    "name": "digits_act", "dataset": {"name": "digits", "test_fraction": 0.25},
    "input": {"shape": [64], "precision": {"bits": 6, "integer": 1}}, "classes": 10,
    "layers": [
        {"type": "dense", "name": "fc1", "units": 24, "weight": {"type": "ternary"}},
        {"type": "ACT", "name": "act1"},
        {"type": "dense", "name": "output", "units": 10, "weight": {"bits": 6, "integer": 0}},
    ],
    "training": {"epochs": 4, "batch_size": 32, "learning_rate": 0.005, "seed": 3},
}


@pytest.mark.parametrize("act, weight", [("binary", {"type": "ternary"}), ("ternary", {"bits": 6, "integer": 0})])
def test_binary_and_ternary_activations_are_bit_exact(tmp_path, act, weight):
    raw = json.loads(json.dumps(SPEC).replace('"ACT"', f'"{act}"'))
    raw["layers"][0]["weight"] = weight
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(raw))
    run = tmp_path / "run"
    assert run_cli("flow", spec, "--out", run, "--synth", "open,estimate", "--no-baseline", "--quiet",
                   "--rtl-samples", "20") == 0
    csim = json.loads((run / "csim.json").read_text())
    assert csim["bit_exact_fraction"] == 1.0 and csim["n_samples"] == 450
    layers = {l["name"]: l for l in json.loads((run / "train" / "train.json").read_text())["layers"]}
    assert layers["act1"]["activation_bits"] == (1 if act == "binary" else 2)
    if weight.get("type"):
        assert layers["fc1"]["distinct_weights"] <= 3
    report = json.loads((run / "report.json").read_text())
    # The open RTL path does not take these activations: it says so by name, the run goes on.
    assert any("act1" in n and "open RTL path skipped" in n for n in report["notices"]), report["notices"]


def test_what_cannot_be_exact_is_refused_by_name(tmp_path, capsys):
    # hls4ml 1.3 keeps a standalone ternary_tanh (thresholds +-1) after binary/ternary weights:
    # measured 0.0 bit-exact, so the spec is refused before any work, naming the layer ...
    raw = json.loads(json.dumps(SPEC).replace('"ACT"', '"ternary"'))
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(raw))
    assert run_cli("flow", spec, "--out", tmp_path / "run", "--synth", "none", "--no-baseline", "--quiet") == 2
    err = capsys.readouterr().err
    assert "act1" in err and "thresholds at +-1" in err and not (tmp_path / "run").exists()
    # ... and so is the same construct in a user's model file (hwgen.hwform), before any work
    from hwgen.tfcompat import tf
    from qkeras import QActivation, QDense, quantized_bits, ternary

    model = tf.keras.Sequential([tf.keras.Input((8,)), QDense(4, kernel_quantizer=ternary(alpha=1),
                                 bias_quantizer=quantized_bits(8, 3, alpha=1), name="d1"),
                                 QActivation(ternary(alpha=1), name="t1"),
                                 QDense(3, kernel_quantizer=quantized_bits(6, 0, alpha=1), name="d2")])
    model.save(tmp_path / "m.h5")
    import numpy as np

    np.savez(tmp_path / "d.npz", X_test=np.zeros((4, 8), np.float32), y_test=np.zeros(4, int))
    assert run_cli("flow", "--model-file", tmp_path / "m.h5", "--data", tmp_path / "d.npz", "--out", tmp_path / "r2",
                   "--quiet") == 2
    err = capsys.readouterr().err
    assert "t1" in err and "thresholds at +-1" in err and not (tmp_path / "r2").exists()
    raw = json.loads(json.dumps(SPEC).replace('"ACT"', '"binary"'))
    raw["pruning"] = {"target_sparsity": 0.5, "granularity": "neuron"}
    with pytest.raises(HwgenError, match=r"pruning.granularity: 'neuron' removes units whose output is 0"):
        parse_spec(raw)
    raw = json.loads(json.dumps(SPEC).replace('"ACT"', '"binary"'))
    raw["layers"][0]["weight"] = {"type": "binary"}
    raw["pruning"] = {"target_sparsity": 0.5}
    with pytest.raises(HwgenError, match=r"pruning.target_sparsity: binary weights cannot be zero"):
        parse_spec(raw)
