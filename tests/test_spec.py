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
