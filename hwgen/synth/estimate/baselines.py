"""hls4ml's own C-synthesis baselines as calibration points.

fastmachinelearning/hls4ml keeps, in test/pytest/baselines/<Backend>/<tool version>/<test id>.json,
the C-synthesis summary of every model its synthesis tests build (test/pytest/test_keras_api.py).
The copies with their provenance are in tests/fixtures/calibration/hls4ml_baselines/ (SOURCE.json:
repository, commit, path and sha256 of every file, and of the test file that defines the models).

This module rebuilds each test model as an hls4ml 1.3 project exactly as the test does (layers,
initialiser, `config_from_keras_model` defaults, backend, io_type, strategy, hls4ml's default part
xcvu13p and 5 ns clock). The tests draw their weights from *unseeded* Keras initialisers, so the
weights here are a seeded draw of the same initialiser: the structure (layer sizes, types, reuse,
strategy, io) is exact, the surviving multipliers are statistically the same but not identical.
Each point says so in its record ("weights": "seeded draw of the test's initialiser").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BASELINE_DIR = Path("tests/fixtures/calibration/hls4ml_baselines")
DEFAULT_PART = "xcvu13p-flga2577-2-e"  # hls4ml's default part for Vivado/Vitis; AvailableDSP 12288 agrees

_ID = re.compile(
    r"^test_keras_api_test_(?:"
    r"(?P<dense>dense)_(?P<dio>io_parallel|io_stream)-(?P<dbe>Vivado|Vitis)"
    r"|activations_(?P<aio>io_parallel|io_stream)-(?P<abe>Vivado|Vitis)-(?P<act>\w+)"
    r"|conv2d_(?P<cio>io_parallel|io_stream)-(?P<cbe>Vivado|Vitis)-(?P<cstrat>Resource|Latency)-(?P<cpad>same|valid)-channels_last"
    r"|depthwise(?P<dwdim>[12])d_(?P<dwio>io_stream)-(?P<dwbe>Vivado|Vitis)"
    r"|pooling_(?P<pbe>Vivado|Vitis)-channels_last-(?P<ppad>same|valid)-(?P<pool>\w+)"
    r")$"
)


@dataclass(frozen=True)
class BaselineCase:
    test_id: str
    kind: str  # dense | activation | conv2d | depthwise1d | depthwise2d | pooling
    backend: str
    io_type: str
    variant: str = ""  # activation name, pooling class, conv padding
    strategy: str = "Latency"

    @property
    def design_key(self) -> str:
        """Same key = same hls4ml project (the same test model synthesized by several tool versions)."""
        return f"{self.kind}-{self.variant}-{self.backend}-{self.io_type}-{self.strategy}"


def parse_case(test_id: str) -> BaselineCase | None:
    m = _ID.match(test_id)
    if not m:
        return None
    g = m.groupdict()
    if g["dense"]:
        return BaselineCase(test_id, "dense", g["dbe"], g["dio"])
    if g["act"]:
        return BaselineCase(test_id, "activation", g["abe"], g["aio"], g["act"])
    if g["cbe"]:
        return BaselineCase(test_id, "conv2d", g["cbe"], g["cio"], g["cpad"], g["cstrat"])
    if g["dwbe"]:
        return BaselineCase(test_id, f"depthwise{g['dwdim']}d", g["dwbe"], g["dwio"])
    return BaselineCase(test_id, "pooling", g["pbe"], "io_parallel", f"{g['pool']}-{g['ppad']}")


def read_baseline(path: Path) -> dict:
    """Measured figures of one baseline JSON (`CSynthesisReport`), as numbers."""
    rep = json.loads(Path(path).read_text())["CSynthesisReport"]

    def num(key):
        value = rep.get(key)
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    return {
        "dsp": num("DSP"), "lut": num("LUT"), "ff": num("FF"), "bram_18k": num("BRAM_18K"), "uram": num("URAM"),
        "latency": num("WorstLatency"), "latency_min": num("BestLatency"), "ii": num("IntervalMax"),
        "clock_target_ns": num("TargetClockPeriod"), "clock_estimated_ns": num("EstimatedClockPeriod"),
    }


def _seed(case: BaselineCase) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(case.design_key)) % (2**31)


def build(case: BaselineCase, out: Path) -> Path:
    """Write the hls4ml project of one baseline test case to `out` (no compile, no vendor tool)."""
    import hls4ml
    from hwgen.tfcompat import keras

    layers = keras.layers
    rng = np.random.default_rng(_seed(case))
    default_precision = None
    granularity = "model"
    if case.kind == "dense":
        # Dense(2) on 1 input, RandomUniform(1, 10) kernel, zero bias, then ELU
        model = keras.Sequential([layers.Dense(2, input_shape=(1,), name="Dense"),
                                  layers.Activation("elu", name="Activation")])
        model.get_layer("Dense").set_weights([rng.uniform(1.0, 10.0, (1, 2)), np.zeros(2)])
    elif case.kind == "activation":
        act = {
            "relu": layers.Activation("relu", name="relu"),
            "leaky_relu": layers.LeakyReLU(alpha=1.0),
            "elu": layers.ELU(alpha=1.0),
            "prelu": layers.PReLU(alpha_initializer="zeros"),
            "sigmoid": layers.Activation("sigmoid", name="sigmoid"),
        }[case.variant]
        model = keras.Sequential([layers.Dense(64, input_shape=(1,), name="Dense"), act])
        # lecun_uniform on fan_in 1: U(-sqrt(3), sqrt(3)); bias zeros (Keras default)
        model.get_layer("Dense").set_weights([rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), (1, 64)), np.zeros(64)])
    elif case.kind == "conv2d":
        model = keras.Sequential([layers.Conv2D(32, (4, 4), strides=(4, 4), padding=case.variant,
                                                input_shape=(28, 28, 3), use_bias=False, name="conv2d")])
        # Keras 'normal' initializer: N(0, 0.05)
        model.get_layer("conv2d").set_weights([rng.normal(0.0, 0.05, (4, 4, 3, 32))])
    elif case.kind == "depthwise2d":
        model = keras.Sequential([layers.DepthwiseConv2D((3, 3), input_shape=(32, 32, 3), name="depthwise_conv2d")])
        lim = np.sqrt(6.0 / (9 + 9))  # glorot_uniform: fan_in = fan_out = 9 for a 3x3 depthwise kernel
        model.get_layer("depthwise_conv2d").set_weights([rng.uniform(-lim, lim, (3, 3, 3, 1)), np.zeros(3)])
        granularity, default_precision = "name", "fixed<32,12>"
    elif case.kind == "depthwise1d":
        model = keras.Sequential([layers.DepthwiseConv1D(3, input_shape=(32, 3), name="depthwise_conv1d")])
        lim = np.sqrt(6.0 / (3 + 3))
        model.get_layer("depthwise_conv1d").set_weights([rng.uniform(-lim, lim, (3, 3, 1)), np.zeros(3)])
        granularity = "name"
    elif case.kind == "pooling":
        pool, pad = case.variant.split("-")
        shape = (18, 15, 3) if "2D" in pool else (121, 3)
        model = keras.Sequential([getattr(layers, pool)(padding=pad, input_shape=shape)])
    else:  # pragma: no cover - parse_case only yields the kinds above
        raise ValueError(case.kind)
    kwargs = {"granularity": granularity, "backend": case.backend} if granularity == "name" else {}
    if default_precision:
        kwargs["default_precision"] = default_precision
    cfg = hls4ml.utils.config_from_keras_model(model, **kwargs)
    if case.kind == "conv2d":
        cfg["Model"]["Strategy"] = case.strategy
    io = {"io_type": case.io_type} if case.kind != "pooling" else {}
    hls = hls4ml.converters.convert_from_keras_model(
        model, hls_config=cfg, output_dir=str(out), backend=case.backend, **io)
    hls.config.config["Stamp"] = "0badcafe"
    from hls4ml.model.optimizer import get_optimizer

    get_optimizer(f"{case.backend.lower()}:write_hls").transform(hls)
    return out


def cases(repo_root: Path) -> list[tuple[BaselineCase, str, Path]]:
    """(case, tool version, baseline file) for every stored Vivado/Vitis baseline."""
    root = repo_root / BASELINE_DIR
    out = []
    for path in sorted(root.glob("*/*/*.json")):
        backend, version = path.parts[-3], path.parts[-2]
        case = parse_case(path.stem)
        if case is None:
            continue
        out.append((case, version, path))
    return out
