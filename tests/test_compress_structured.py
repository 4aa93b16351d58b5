"""Structured pruning (hwgen.compress.structured): real QAT training with group masks, removal
of pruned neurons/filters, C-simulation bit-exact on the smaller model, and the estimate seeing
the smaller hardware. Specs are small (a few epochs on the digits) so the file stays short."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from hwgen.compress.structured import (
    expand_mask, group_norms, keep_mask, n_pruned, polynomial_sparsity, remove_pruned, schedule_steps, should_prune,
)

W6 = {"bits": 6, "integer": 0}


def _mlp(granularity: str) -> dict:
    # digits_mlp's shape, narrower: two prunable hidden layers in a chain, so a removed fc1 unit
    # also shrinks fc2's inputs, and fc2's removed units shrink the logits layer's inputs.
    return {
        "name": f"mlp_{granularity}", "dataset": {"name": "digits", "test_fraction": 0.25},
        "input": {"shape": [64], "precision": {"bits": 6, "integer": 1}}, "classes": 10,
        "layers": [
            {"type": "dense", "name": "fc1", "units": 24, "weight": W6},
            {"type": "relu", "name": "relu1", "bits": 6, "integer": 0},
            {"type": "dense", "name": "fc2", "units": 16, "weight": W6},
            {"type": "relu", "name": "relu2", "bits": 6, "integer": 0},
            {"type": "dense", "name": "output", "units": 10, "weight": W6},
        ],
        # end - begin = 3 epochs of 43 steps = 129 steps, a multiple of frequency 3: the last
        # mask update lands on end_step, at the full target sparsity.
        "pruning": {"target_sparsity": 0.5, "begin_epoch": 1, "end_epoch": 4, "frequency": 3,
                    "granularity": granularity},
        "training": {"epochs": 5, "batch_size": 32, "learning_rate": 0.01, "seed": 3},
    }


def _cnn(granularity: str) -> dict:
    # digits_cnn shrunk, with a second conv so filter removal also slices a conv's input
    # channels, and a flatten after the pool so the dense layer's interleaved inputs are sliced.
    return {
        "name": f"cnn_{granularity}", "dataset": {"name": "digits", "test_fraction": 0.25},
        "input": {"shape": [8, 8, 1], "precision": {"bits": 6, "integer": 1}}, "classes": 10,
        "layers": [
            {"type": "conv2d", "name": "conv1", "filters": 4, "kernel_size": 3, "weight": W6},
            {"type": "relu", "name": "relu1", "bits": 6, "integer": 0},
            {"type": "conv2d", "name": "conv2", "filters": 6, "kernel_size": 3, "weight": W6},
            {"type": "relu", "name": "relu2", "bits": 6, "integer": 0},
            {"type": "maxpool2d", "name": "pool1", "pool_size": 2},
            {"type": "flatten", "name": "flatten"},
            {"type": "dense", "name": "output", "units": 10, "weight": W6},
        ],
        "pruning": {"target_sparsity": 0.5, "begin_epoch": 1, "end_epoch": 4, "frequency": 3,
                    "granularity": granularity},
        "training": {"epochs": 5, "batch_size": 32, "learning_rate": 0.01, "seed": 3},
    }


def _flow(tmp: Path, spec: dict) -> Path:
    import hwgen

    path = tmp / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec))
    run = hwgen.flow(str(path), synth="estimate", baseline=False, out=tmp / spec["name"], quiet=True)
    return Path(run.dir)


def _read(run: Path, rel: str) -> dict:
    return json.loads((run / rel).read_text())


def _kernel_shapes(run: Path) -> dict:
    return {l["name"]: l["kernel_shape"] for l in _read(run, "train/train.json")["layers"] if l["kernel_shape"]}


def _estimate(run: Path) -> dict:
    (path,) = sorted((run / "synth").glob("estimate_*.json"))
    return json.loads(path.read_text())["resources"]


def _raw_kernels(run: Path) -> dict:
    """The trained latent kernels: a pruned group is exactly 0 there; elsewhere an exact 0 of a
    trained float is not expected, so the zero pattern is the pruning pattern."""
    from hwgen.modelio import load_model

    model = load_model(run / "train" / "model.h5")
    return {l.name: l.get_weights()[0] for l in model.layers if type(l).__name__ in ("QDense", "QConv2D")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("structured")
    return {key: _flow(tmp, make(g)) for key, make, g in (
        ("mlp_neuron", _mlp, "neuron"), ("mlp_weight", _mlp, "weight"),
        ("cnn_filter", _cnn, "filter"), ("cnn_kernel", _cnn, "kernel"), ("cnn_vector", _cnn, "vector"))}


# ---------------------------------------------------------------------------------------------
# (a) neuron pruning removes units; the hardware is smaller than the same sparsity unstructured


def test_neuron_removes_units_bit_exact_and_smaller(runs):
    run = runs["mlp_neuron"]
    # half of each hidden layer's units go (n_pruned(24, .5) = 12, n_pruned(16, .5) = 8), and
    # each next layer loses the inputs they fed; the logits layer keeps its 10 classes.
    assert _kernel_shapes(run) == {"fc1": [64, 12], "fc2": [12, 8], "output": [8, 10]}
    assert _kernel_shapes(runs["mlp_weight"]) == {"fc1": [64, 24], "fc2": [24, 16], "output": [16, 10]}
    # The flow's finalize compared the removed model's logits with the masked model's
    # (np.array_equal, float32) and would have failed the run otherwise; C-sim is bit-exact
    # against that removed model.
    assert _read(run, "csim.json")["bit_exact_fraction"] == 1.0
    rec = _read(run, "train/train.json")["compression"]["structured"]
    assert rec["summary"] == {"granularity": "neuron", "norm": "l1", "target_sparsity": 0.5, "removed_units": 20,
                              "removed_by_layer": {"fc1": 12, "fc2": 8}}
    rows = {r["layer"]: r for r in rec["layers"]}
    assert rows["fc1"] == {"layer": "fc1", "shape_before": [64, 24], "shape_after": [64, 12], "groups": 24,
                           "groups_pruned": 12}
    assert rows["output"]["shape_after"] == [8, 10] and rows["output"]["groups_pruned"] == 0
    # The estimate drops zero products, so the unstructured run pays only for its non-zero
    # weights; the removed units also take their adders, biases and ReLUs with them. At 6-bit
    # weights neither run uses DSPs (the estimate's DSP threshold is wider), so LUTs decide.
    est_n, est_w = _estimate(run), _estimate(runs["mlp_weight"])
    assert est_n["lut"] < est_w["lut"], (est_n, est_w)
    assert est_n["dsp"] <= est_w["dsp"]
    assert est_n["ff"] <= est_w["ff"]


# ---------------------------------------------------------------------------------------------
# (b) conv granularities


def test_filter_removes_filters_bit_exact(runs):
    run = runs["cnn_filter"]
    # conv1 4 -> 2 filters, conv2 loses those inputs and 3 of 6 filters, the dense layer loses
    # the flattened positions of conv2's removed filters: 2x2 positions x 3 channels = 12 inputs.
    assert _kernel_shapes(run) == {"conv1": [3, 3, 1, 2], "conv2": [3, 3, 2, 3], "output": [12, 10]}
    assert _read(run, "csim.json")["bit_exact_fraction"] == 1.0
    rec = _read(run, "train/train.json")["compression"]["structured"]
    assert rec["summary"]["removed_units"] == 5 and rec["summary"]["removed_by_layer"] == {"conv1": 2, "conv2": 3}
    # no pruned group survives in the smaller model: every remaining filter holds weights
    for name, k in _raw_kernels(run).items():
        if name.startswith("conv"):
            assert np.all(np.abs(k).sum(axis=(0, 1, 2)) > 0), name


@pytest.mark.parametrize("granularity, axes, groups", [("kernel", (0, 1), {"conv1": 4, "conv2": 24}),
                                                        ("vector", (1,), {"conv1": 12, "conv2": 72})])
def test_kernel_and_vector_zero_structure(runs, granularity, axes, groups):
    run = runs[f"cnn_{granularity}"]
    # nothing is removed: the zeros stay inside the kernels
    assert _kernel_shapes(run) == {"conv1": [3, 3, 1, 4], "conv2": [3, 3, 4, 6], "output": [24, 10]}
    assert _read(run, "csim.json")["bit_exact_fraction"] == 1.0
    rows = {r["layer"]: r for r in _read(run, "train/train.json")["compression"]["structured"]["layers"]}
    for name, k in _raw_kernels(run).items():
        if not name.startswith("conv"):
            continue
        zero_group = np.all(k == 0, axis=axes)  # whole kh x kw kernels / whole kw rows
        assert zero_group.size == groups[name] == rows[name]["groups"]
        assert int(zero_group.sum()) == n_pruned(groups[name], 0.5) == rows[name]["groups_pruned"]
        # every zero weight lies in a zeroed group: the pattern is structured, not scattered
        assert np.array_equal(k == 0, np.broadcast_to(np.expand_dims(zero_group, axes), k.shape))


# ---------------------------------------------------------------------------------------------
# (c) ranking, masks, schedule, removal (no training)


def test_l1_and_l2_rank_differently():
    # unit 0: four weights of 1 (L1 4, L2 2); unit 1: one weight of 3 (L1 3, L2 3);
    # unit 2: large under both. L1 prunes unit 1, L2 prunes unit 0.
    kernel = np.array([[1.0, 3.0, 5.0], [1.0, 0.0, 5.0], [-1.0, 0.0, 5.0], [1.0, 0.0, 5.0]], dtype=np.float32)
    bias = np.zeros(3, dtype=np.float32)
    l1 = group_norms(kernel, bias, "neuron", "l1")
    l2 = group_norms(kernel, bias, "neuron", "l2")
    assert l1.tolist() == [4.0, 3.0, 20.0] and l2.tolist() == [2.0, 3.0, 10.0]
    assert keep_mask(l1, 0.34).tolist() == [True, False, True]
    assert keep_mask(l2, 0.34).tolist() == [False, True, True]
    # the bias belongs to the neuron group
    assert group_norms(kernel, np.array([0.0, 2.0, 0.0]), "neuron", "l1").tolist() == [4.0, 5.0, 20.0]


def test_conv_groups_and_masks():
    rng = np.random.default_rng(0)
    k = rng.normal(size=(3, 3, 2, 4)).astype(np.float32)
    assert group_norms(k, None, "kernel", "l1").shape == (2, 4)
    assert group_norms(k, None, "vector", "l2").shape == (3, 2, 4)
    assert group_norms(k, np.zeros(4), "filter", "l1").shape == (4,)
    keep = keep_mask(group_norms(k, None, "vector", "l1"), 0.5)
    m = expand_mask(keep, k.shape, "vector")
    assert int((~keep).sum()) == 12
    # a pruned vector is one whole kernel row kernel[i, :, c, f]
    for i, c, f in zip(*np.nonzero(~keep)):
        assert np.all(m[i, :, c, f] == 0)
    assert int((m == 0).sum()) == 12 * 3
    # ties are broken in index order, and at least one group always stays
    assert keep_mask(np.zeros(4), 0.5).tolist() == [False, False, True, True]
    assert keep_mask(np.ones(3), 0.99).tolist() == [False, False, True]


def test_schedule_matches_tfmot():
    import tensorflow_model_optimization as tfmot

    begin, end, freq, final = 10, 47, 4, 0.6
    sched = tfmot.sparsity.keras.PolynomialDecay(initial_sparsity=0.0, final_sparsity=final, begin_step=begin,
                                                 end_step=end, frequency=freq)
    for step in range(0, 60):
        prune, sparsity = sched(step)
        assert bool(prune) == should_prune(step, begin, end, freq), step
        # the group counts the two sparsities give are the same (tfmot computes in float32)
        for n in (10, 16, 24, 72):
            assert n_pruned(n, float(sparsity)) == n_pruned(n, polynomial_sparsity(step, begin, end, final)), (step, n)


def test_schedule_steps_follow_train():
    from hwgen.spec import parse_spec

    spec = parse_spec(_mlp("neuron"))
    # digits: 1347 training samples / batch 32 -> 43 steps per epoch
    assert schedule_steps(spec, 1347) == (43, 172)


@pytest.mark.parametrize("make", [_mlp, _cnn])
def test_removal_computes_exactly_the_masked_model(make):
    """Seeded random weights, groups zeroed by hand, then removed: identical float32 logits."""
    from hwgen.qmodel import build_qkeras_model
    from hwgen.spec import parse_spec
    from hwgen.tfcompat import tf

    spec = parse_spec(make("neuron" if make is _mlp else "filter"))
    tf.keras.utils.set_random_seed(11)
    model = build_qkeras_model(spec)
    rng = np.random.default_rng(5)
    keep = {}
    for layer in model.layers:
        if type(layer).__name__ in ("QDense", "QConv2D") and layer.name != "output":
            kernel, bias = layer.get_weights()
            bias = rng.uniform(-0.5, 0.5, size=bias.shape).astype(np.float32)  # non-zero: the bias goes too
            k = rng.permutation(kernel.shape[-1]) < kernel.shape[-1] // 2 + 1
            keep[layer.name] = k
            layer.set_weights([kernel * k, bias * k])
    X = np.round(rng.uniform(0, 1, size=(300,) + tuple(spec.input_shape)) * 16) / 16  # the input grid
    X = X.astype(np.float32)
    new_spec, new_model, removed = remove_pruned(spec, model, keep)
    assert removed == {n: int(k.size - k.sum()) for n, k in keep.items()}
    assert {l.name: l.units or l.filters for l in new_spec.layers if l.type in ("dense", "conv2d")} == {
        **{n: int(k.sum()) for n, k in keep.items()}, "output": 10}
    a = model.predict(X, verbose=0)
    b = new_model.predict(X, verbose=0)
    assert a.dtype == b.dtype == np.float32
    assert np.array_equal(a, b)
    assert np.any(a != 0)
