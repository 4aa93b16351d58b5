"""Model specs: the zoo parses, and bad specs fail with a message naming the key."""

from __future__ import annotations

import pytest
import yaml

from hwgen.errors import HwgenError
from hwgen.spec import list_zoo, load_spec, parse_spec, zoo_names

BASE = yaml.safe_load(open("models/digits_mlp.yaml"))


def _with(**changes):
    raw = yaml.safe_load(yaml.safe_dump(BASE))
    for dotted, value in changes.items():
        node = raw
        keys = dotted.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        last = keys[-1]
        if value is KeyError:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return raw


def test_zoo_has_the_three_models_and_all_parse():
    assert {"digits_mlp", "digits_cnn", "jet_mlp"} <= set(zoo_names())
    specs = {s.name: s for s in list_zoo()}
    jet = specs["jet_mlp"]
    assert [l.units for l in jet.layers if l.type == "dense"] == [64, 32, 32, 5]
    assert jet.input_shape == (16,) and jet.pruning.target_sparsity == 0.75
    assert all(l.weight.bits == 6 for l in jet.layers if l.weight)
    assert specs["digits_cnn"].input_shape == (8, 8, 1)


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"trainig": {}}, "unknown key(s) ['trainig']"),
        ({"training__epochz": 3}, "training: unknown key(s) ['epochz']"),
        ({"training__epochs": 0}, "training.epochs"),
        ({"training__epochs": "ten"}, "training.epochs: must be an integer"),
        ({"pruning__target_sparsity": 1.5}, "pruning.target_sparsity"),
        ({"layers__0__type": "lstm"}, "layers[0].type: must be one of"),
        ({"layers__0__units": -3}, "layers[0].units"),
        ({"layers__0__weight": {"bits": 6}}, "layers[0].weight: missing required key(s) ['integer']"),
        ({"layers__0__weight": {"bits": 4, "integer": 4}}, "layers[0].weight.integer"),
        ({"layers__0__name": "input"}, "reserved"),
        ({"layers__0__name": "fc 1"}, "layers[0].name"),
        ({"layers__2__name": "fc1"}, "repeated"),
        ({"hls__strategy": "fast"}, "hls.strategy"),
        ({"hls__reuse_factor": 0}, "hls.reuse_factor"),
        ({"dataset__name": "mnist"}, "dataset.name"),
        ({"classes": 7}, "classes is 7"),
        ({"input__shape": [8, 8]}, "dense needs a 1-D input"),
        ({"name": KeyError}, "missing required key(s) ['name']"),
        ({"pruning__end_epoch": 99}, "pruning.end_epoch"),
    ],
)
def test_bad_spec_values_name_the_key(changes, needle):
    with pytest.raises(HwgenError) as err:
        parse_spec(_with(**changes))
    assert needle in str(err.value)


def test_malformed_yaml_and_unknown_zoo_name(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlayers: [ {type: dense\n")
    with pytest.raises(HwgenError, match="not valid YAML"):
        load_spec(bad)
    with pytest.raises(HwgenError, match="unknown model 'resnet50'.*digits_mlp"):
        load_spec("resnet50")


def test_yaml_is_safe_loaded(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(HwgenError, match="not valid YAML"):
        load_spec(evil)


def test_fingerprint_is_stable_and_sensitive():
    a, b = load_spec("digits_mlp"), load_spec("models/digits_mlp.yaml")
    assert a.fingerprint() == b.fingerprint()
    assert a.with_overrides(hls={"reuse_factor": 2}).fingerprint() != a.fingerprint()


# --- compression keys (issue 13): every bad value refused before any work, naming the key ---

@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"low_rank": {"layers": ["fc1"], "rank": 32}}, "low_rank.rank: (32) must be smaller than layer 'fc1'"),
        ({"low_rank": {"layers": ["fc1"], "rank": 4, "energy": 0.9}}, "give exactly one of 'rank'"),
        ({"low_rank": {"layers": ["relu1"], "rank": 4}}, "low_rank.layers: layer 'relu1' is a relu layer"),
        ({"low_rank": {"layers": ["nope"], "rank": 4}}, "low_rank.layers: names no layer 'nope'"),
        ({"low_rank": {"layers": ["fc1"], "energy": 1.5}}, "low_rank.energy"),
        ({"weight_sharing": {"clusters": 1}}, "weight_sharing.clusters: must be in [2, 4096]"),
        ({"weight_sharing": {"clusters": 4, "layers": ["relu1"]}}, "weight_sharing.layers"),
        ({"pruning__granularity": "filter"}, "pruning.granularity: 'filter' prunes conv2d layers"),
        ({"pruning__granularity": "channel"}, "pruning.granularity: must be one of"),
        ({"pruning__norm": "l3"}, "pruning.norm"),
        ({"distillation": {"teacher": "digits_cnn"}}, "distillation.teacher: the teacher 'digits_cnn' maps inputs [8, 8, 1]"),
        ({"distillation": {"teacher": "jet_mlp"}}, "distillation.teacher: the teacher 'jet_mlp' maps inputs [16] to 5"),
        ({"distillation": {"teacher": "missing.h5"}}, "distillation.teacher: model file 'missing.h5' does not exist"),
        ({"distillation": {"teacher": "digits_mlp", "temperature": 0}}, "distillation.temperature"),
        ({"distillation": {"temperature": 2}}, "distillation: missing required key(s) ['teacher']"),
        ({"quantization": {"auto": {"max_accuracy_drop": 2}}}, "quantization.auto.max_accuracy_drop"),
        ({"quantization": {"auto": {"bits": [1]}}}, "quantization.auto.bits"),
        ({"quantization": {"manual": {}}}, "quantization: unknown key(s) ['manual']"),
        ({"layers__0__weight": {"type": "quaternary"}}, "layers[0].weight.type: must be one of"),
        ({"layers__0__weight": {"type": "binary", "bits": 4}}, "layers[0].weight: unknown key(s) ['bits']"),
    ],
)
def test_bad_compression_values_name_the_key(changes, needle):
    with pytest.raises(HwgenError) as err:
        parse_spec(_with(**changes))
    assert needle in str(err.value)


def test_compression_keys_round_trip_and_leave_old_fingerprints_alone():
    from hwgen.spec import ModelSpec

    plain = parse_spec(_with())
    assert "compression" not in plain.to_dict() and "granularity" not in plain.to_dict()["pruning"]
    spec = parse_spec(_with(low_rank={"layers": ["fc1"], "energy": 0.9}, weight_sharing={"clusters": 8},
                            distillation={"teacher": "digits_mlp", "temperature": 3},
                            quantization={"auto": {"bits": [8, 4]}}, pruning__granularity="neuron",
                            layers__0__weight={"type": "ternary"}))
    assert spec.compression.active() == ["auto_quant", "distillation", "low_rank", "weight_sharing"]
    assert spec.layers[0].weight.type == "ternary" and spec.compression.auto_quant.bits == (8, 4)
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert spec.fingerprint() != plain.fingerprint()
