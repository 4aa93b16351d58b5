"""Model spec: a YAML file naming the dataset, layers with their QKeras quantizers, pruning,
training and HLS options. Parsing is strict: an unknown key or a bad value is an error that
names the key and says what is allowed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hwgen.errors import HwgenError
from hwgen.resources import data_dir

DATASETS = ("digits", "jet_hlf", "npz", "synthetic")
# binary / ternary: QKeras binary (x >= 0 -> +1, else -1) and ternary (|x| >= 0.33 -> sign(x), else 0)
# activations, alpha 1; hls4ml makes both bit-exact without batch normalization.
LAYER_TYPES = ("dense", "conv2d", "relu", "maxpool2d", "flatten", "binary", "ternary")
OPTIMIZERS = ("adam", "sgd")
STRATEGIES = ("latency", "resource")
IO_TYPES = ("io_parallel", "io_stream")
BACKENDS = ("Vitis", "Vivado")
# Layer names become parts of generated C++/Verilog identifiers: keep clear of names hls4ml
# reserves and of C++/Verilog keywords.
RESERVED_NAMES = {
    "input", "x_input", "output_layer", "auto", "bool", "break", "case", "char", "class", "const", "continue",
    "default", "delete", "do", "double", "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int",
    "long", "namespace", "new", "operator", "private", "public", "register", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "template", "this", "typedef", "union", "unsigned", "void",
    "volatile", "while", "module", "endmodule", "wire", "reg", "assign", "always", "begin", "end", "logic",
    "nnet", "myproject",
}
# hls4ml names the nodes and types it adds after a layer `<layer>_<suffix>` (an activation
# split off a Dense/Conv layer, QKeras alpha scaling, precision types): a layer of that name
# would collide with them and silently break the generated C++.
GENERATED_SUFFIXES = (
    "linear", "relu", "softmax", "sigmoid", "tanh", "alpha", "act", "rescale", "t", "accum_t", "weight_t",
    "bias_t", "result_t", "table_t", "param_t", "depthwise_t", "pointwise_t", "scale_t",
)
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
MAX_NAME = 64


@dataclass(frozen=True)
class Precision:
    """Signed fixed point <bits, integer> as in QKeras quantized_bits: `integer` excludes the sign bit,
    so {bits: 16, integer: 5} is ap_fixed<16,6> in HLS terms."""

    bits: int
    integer: int
    # 'fixed' (quantized_bits, alpha=1), or 'binary' / 'ternary' weights (QKeras binary/ternary,
    # alpha=1: values +-1, and -1/0/+1); bits/integer then describe the stored type (2, 1).
    type: str = "fixed"


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    test_fraction: float = 0.25
    path: str | None = None  # npz or csv file for jet_hlf / npz
    standardize: bool = False  # z-score features using the training split
    n_samples: int = 512  # synthetic only


@dataclass(frozen=True)
class LayerSpec:
    type: str
    name: str
    units: int | None = None  # dense
    filters: int | None = None  # conv2d
    kernel_size: tuple[int, int] | None = None
    strides: tuple[int, int] = (1, 1)
    padding: str = "valid"
    pool_size: tuple[int, int] | None = None  # maxpool2d
    weight: Precision | None = None
    bias: Precision | None = None
    bits: int | None = None  # relu activation bits
    integer: int | None = None  # relu activation integer bits


@dataclass(frozen=True)
class PruningSpec:
    target_sparsity: float = 0.0
    begin_epoch: int = 0
    end_epoch: int | None = None  # default: 80% of training
    frequency: int = 10  # pruning steps between mask updates
    # weight: single weights (tfmot magnitude pruning); vector: rows of a conv kernel (one
    # kernel row of one input channel for one filter); kernel: a whole kh x kw kernel of one
    # (input channel, filter) pair; neuron: a Dense unit; filter: a conv filter. neuron/filter
    # units are removed from the exported model (the next layer's inputs shrink with them).
    granularity: str = "weight"
    norm: str = "l1"  # ranking criterion of the structured granularities: l1 | l2


@dataclass(frozen=True)
class TrainingSpec:
    epochs: int = 20
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 0.003
    seed: int = 42


@dataclass(frozen=True)
class HlsSpec:
    backend: str = "Vitis"
    strategy: str = "latency"
    reuse_factor: int = 1
    io_type: str = "io_parallel"


@dataclass(frozen=True)
class DistillationSpec:
    """Knowledge distillation: the teacher (a spec, a zoo name, or a .h5/.keras model file)
    guides the student through the softened-logit loss alpha*T^2*KL + (1-alpha)*CE."""

    teacher: str
    temperature: float = 4.0
    alpha: float = 0.5


@dataclass(frozen=True)
class LowRankSpec:
    """Dense layers W (m x n) replaced by two Dense layers (m x r, r x n) from the truncated
    SVD, then fine-tuned with QAT. `rank` fixes r; `energy` picks the smallest r keeping that
    fraction of the squared singular values."""

    layers: tuple[str, ...]
    rank: int | None = None
    energy: float | None = None
    fine_tune_epochs: int = 5


@dataclass(frozen=True)
class WeightSharingSpec:
    """At most `clusters` distinct weight values per layer (on the layer's quantizer grid)."""

    clusters: int
    layers: tuple[str, ...] = ()  # () = every Dense/Conv layer
    fine_tune_epochs: int = 3


@dataclass(frozen=True)
class AutoQuantSpec:
    """Automatic mixed precision: per-layer weight/activation widths from `bits` chosen to
    keep the accuracy drop against the widest width within `max_accuracy_drop`."""

    max_accuracy_drop: float = 0.01
    bits: tuple[int, ...] = (8, 6, 4, 3, 2)
    search_epochs: int = 5


@dataclass(frozen=True)
class CompressionSpec:
    distillation: DistillationSpec | None = None
    low_rank: LowRankSpec | None = None
    weight_sharing: WeightSharingSpec | None = None
    auto_quant: AutoQuantSpec | None = None

    def active(self) -> list[str]:
        return [k for k in ("auto_quant", "distillation", "low_rank", "weight_sharing") if getattr(self, k) is not None]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    dataset: DatasetSpec
    input_shape: tuple[int, ...]
    input_precision: Precision
    layers: tuple[LayerSpec, ...]
    n_classes: int
    pruning: PruningSpec = PruningSpec()
    training: TrainingSpec = TrainingSpec()
    hls: HlsSpec = HlsSpec()
    description: str = ""
    source_path: str | None = field(default=None, compare=False)
    class_names: tuple[str, ...] = ()  # explicit class list (spec `classes: [..]` / --classes); () = numbers only
    compression: CompressionSpec = CompressionSpec()

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("source_path", None)
        # Keys at their defaults are left out, so the fingerprints of specs written before the
        # key existed stay unchanged.
        if not self.class_names:
            d.pop("class_names", None)
        else:
            d["class_names"] = list(self.class_names)
        d["compression"] = {k: v for k, v in d["compression"].items() if v is not None}
        if not d["compression"]:
            d.pop("compression")
        for key, default in (("granularity", "weight"), ("norm", "l1")):
            if d["pruning"].get(key) == default:
                d["pruning"].pop(key)
        for prec in [d["input_precision"]] + [layer.get(w) for layer in d["layers"] for w in ("weight", "bias")]:
            if prec and prec.get("type") == "fixed":
                prec.pop("type")
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelSpec":
        """The inverse of to_dict, for the spec a run's manifest recorded (written by hwgen, so
        not validated again; user files go through parse_spec)."""

        def prec(v):
            return Precision(**v) if v else None

        def pair(v):
            return tuple(v) if v is not None else None

        layers = tuple(
            LayerSpec(**{**l, "weight": prec(l.get("weight")), "bias": prec(l.get("bias")),
                         "kernel_size": pair(l.get("kernel_size")), "strides": pair(l.get("strides")) or (1, 1),
                         "pool_size": pair(l.get("pool_size"))})
            for l in d.get("layers") or ()
        )
        comp = d.get("compression") or {}
        compression = CompressionSpec(
            distillation=DistillationSpec(**comp["distillation"]) if comp.get("distillation") else None,
            low_rank=LowRankSpec(**{**comp["low_rank"], "layers": tuple(comp["low_rank"]["layers"])})
            if comp.get("low_rank") else None,
            weight_sharing=WeightSharingSpec(**{**comp["weight_sharing"], "layers": tuple(comp["weight_sharing"]["layers"])})
            if comp.get("weight_sharing") else None,
            auto_quant=AutoQuantSpec(**{**comp["auto_quant"], "bits": tuple(comp["auto_quant"]["bits"])})
            if comp.get("auto_quant") else None,
        )
        return cls(
            compression=compression,
            name=d["name"], dataset=DatasetSpec(**d["dataset"]), input_shape=tuple(d["input_shape"]),
            input_precision=Precision(**d["input_precision"]), layers=layers, n_classes=int(d["n_classes"]),
            pruning=PruningSpec(**(d.get("pruning") or {})), training=TrainingSpec(**(d.get("training") or {})),
            hls=HlsSpec(**(d.get("hls") or {})), description=d.get("description", ""),
            class_names=tuple(d.get("class_names") or ()),
        )

    def fingerprint(self, **extra: Any) -> str:
        blob = json.dumps({"spec": self.to_dict(), **extra}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def with_overrides(self, **changes: Any) -> "ModelSpec":
        """Copy with nested fields replaced, e.g. hls={'reuse_factor': 4}, training={'seed': 1}."""
        kw = {}
        for key, value in changes.items():
            current = getattr(self, key)
            kw[key] = dataclasses.replace(current, **value) if isinstance(value, dict) else value
        return dataclasses.replace(self, **kw)


# ---------------------------------------------------------------------------------------------
# parsing


def _err(where: str, msg: str) -> HwgenError:
    return HwgenError(f"spec {where}: {msg}")


def _check_keys(where: str, raw: dict, allowed: set[str], required: set[str] = frozenset()) -> None:
    if not isinstance(raw, dict):
        raise _err(where, f"must be a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _err(where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    missing = sorted(required - set(raw))
    if missing:
        raise _err(where, f"missing required key(s) {missing}")


def _int(where: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _err(where, f"must be an integer, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise _err(where, f"must be in [{lo}, {hi}], got {value}")
    return value


def _float(where: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (lo <= value <= hi):
        raise _err(where, f"must be a number in [{lo}, {hi}], got {value!r}")
    return float(value)


def _choice(where: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _err(where, f"must be one of {list(choices)}, got {value!r}")
    return value


def _pair(where: str, value: Any) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if not (isinstance(value, (list, tuple)) and len(value) == 2):
        raise _err(where, f"must be an integer or a pair [h, w], got {value!r}")
    return (_int(where, value[0], 1, 64), _int(where, value[1], 1, 64))


WEIGHT_TYPES = ("fixed", "binary", "ternary")


def _precision(where: str, raw: Any, allow_type: bool = False) -> Precision:
    if allow_type and isinstance(raw, dict) and raw.get("type", "fixed") != "fixed":
        _check_keys(where, raw, {"type"}, {"type"})
        kind = _choice(f"{where}.type", raw["type"], WEIGHT_TYPES)
        return Precision(2, 1, kind)  # +-1 (and 0): stored as a 2-bit integer type
    _check_keys(where, raw, {"bits", "integer", "type"} if allow_type else {"bits", "integer"}, {"bits", "integer"})
    bits = _int(f"{where}.bits", raw["bits"], 2, 32)
    integer = _int(f"{where}.integer", raw["integer"], 0, bits - 1)
    return Precision(bits, integer)


def _layer(where: str, raw: Any, index: int) -> LayerSpec:
    if not isinstance(raw, dict) or "type" not in raw:
        raise _err(where, "each layer must be a mapping with a 'type'")
    ltype = _choice(f"{where}.type", raw["type"], LAYER_TYPES)
    common = {"type", "name"}
    allowed = {
        "dense": common | {"units", "weight", "bias"},
        "conv2d": common | {"filters", "kernel_size", "strides", "padding", "weight", "bias"},
        "relu": common | {"bits", "integer"},
        "maxpool2d": common | {"pool_size"},
        "flatten": common,
        "binary": common,
        "ternary": common,
    }[ltype]
    required = {"dense": {"units", "weight"}, "conv2d": {"filters", "kernel_size", "weight"}, "relu": {"bits"}}.get(
        ltype, set()
    )
    _check_keys(where, raw, allowed, required)
    name = raw.get("name", f"{ltype}{index}")
    if not isinstance(name, str) or not IDENTIFIER.match(name) or len(name) > MAX_NAME:
        raise _err(f"{where}.name", f"must start with an ASCII letter and hold only ASCII letters, digits and '_' "
                   f"(at most {MAX_NAME}), got {name!r}")
    if name.lower() in RESERVED_NAMES:
        raise _err(f"{where}.name", f"{name!r} is reserved (hls4ml/C++/Verilog); choose another layer name")
    kw: dict[str, Any] = {"type": ltype, "name": name}
    if ltype in ("dense", "conv2d"):
        kw["weight"] = _precision(f"{where}.weight", raw["weight"], allow_type=True)
        if "bias" in raw:
            kw["bias"] = _precision(f"{where}.bias", raw["bias"])
        elif kw["weight"].type != "fixed":  # a binary/ternary layer keeps 8-bit fixed-point biases
            kw["bias"] = Precision(8, 3)
        else:
            kw["bias"] = kw["weight"]
    if ltype == "dense":
        kw["units"] = _int(f"{where}.units", raw["units"], 1, 4096)
    if ltype == "conv2d":
        kw["filters"] = _int(f"{where}.filters", raw["filters"], 1, 1024)
        kw["kernel_size"] = _pair(f"{where}.kernel_size", raw["kernel_size"])
        kw["strides"] = _pair(f"{where}.strides", raw.get("strides", 1))
        kw["padding"] = _choice(f"{where}.padding", raw.get("padding", "valid"), ("valid", "same"))
    if ltype == "relu":
        kw["bits"] = _int(f"{where}.bits", raw["bits"], 2, 32)
        kw["integer"] = _int(f"{where}.integer", raw.get("integer", 0), 0, kw["bits"])
    if ltype == "maxpool2d":
        kw["pool_size"] = _pair(f"{where}.pool_size", raw.get("pool_size", 2))
    return LayerSpec(**kw)


GRANULARITIES = ("weight", "vector", "kernel", "neuron", "filter")


def _names(where: str, value: Any, layers: tuple[LayerSpec, ...], types: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _err(where, f"must be a non-empty list of layer names, got {value!r}")
    by_name = {layer.name: layer for layer in layers}
    for v in value:
        if v not in by_name:
            raise _err(where, f"names no layer {v!r}; layers: {sorted(by_name)}")
        if by_name[v].type not in types:
            raise _err(where, f"layer {v!r} is a {by_name[v].type} layer; it must be one of {list(types)}")
    return tuple(value)


def resolve_teacher(teacher: str, spec_source: str | None) -> Path | None:
    """The distillation teacher as a file: relative to the student's spec file first, then to
    the working directory; None when it names no file (a zoo name)."""
    path = Path(teacher)
    if path.is_absolute():
        return path if path.exists() else None
    if spec_source and Path(spec_source).is_file():
        beside = Path(spec_source).resolve().parent / path
        if beside.exists():
            return beside
    return path if path.exists() else None


def _check_teacher(teacher: str, input_shape: tuple[int, ...], n_classes: int, source: str | None) -> None:
    """A teacher spec (path or zoo name) must see the same inputs and predict the same classes;
    a model file must exist (its shapes are checked when it is loaded, before the student trains)."""
    found = resolve_teacher(teacher, source)
    if teacher.endswith((".h5", ".keras")):
        if found is None or not found.is_file():
            raise _err("distillation.teacher", f"model file {teacher!r} does not exist")
        return
    try:
        t = load_spec(found if found is not None else teacher)
    except HwgenError as exc:
        raise _err("distillation.teacher", f"{' '.join(str(exc).split())}") from None
    if t.compression.distillation is not None:
        raise _err("distillation.teacher", f"the teacher {teacher!r} is distilled itself; give it a plain spec")
    if tuple(t.input_shape) != tuple(input_shape) or t.n_classes != n_classes:
        raise _err("distillation.teacher", f"the teacher {teacher!r} maps inputs {list(t.input_shape)} to {t.n_classes} "
                   f"classes, the student {list(input_shape)} to {n_classes}; they must match")


def _compression(raw: dict, layers: tuple[LayerSpec, ...], layer_inputs: list[tuple[int, ...]],
                 pruning: PruningSpec, source: str | None = None) -> CompressionSpec:
    """The compression keys, each checked against the layers it names (before any work)."""
    kinds = {layer.type for layer in layers}
    for before, layer in zip(layers, layers[1:]):
        if layer.type == "ternary" and before.weight is not None and before.weight.type != "fixed":
            # the same construct hwgen.hwform refuses in a model file (measured 0.0 bit-exact)
            raise _err(f"layers ({layer.name})", f"a ternary activation directly after {before.name!r}'s "
                       f"{before.weight.type} weights becomes hls4ml's ternary_tanh, which thresholds at +-1 instead "
                       "of QKeras's +-0.33; give that layer fixed-point weights or use a binary/relu activation")
    binary = [layer.name for layer in layers if layer.weight is not None and layer.weight.type == "binary"]
    if binary and pruning.target_sparsity > 0:
        raise _err("pruning.target_sparsity", f"binary weights cannot be zero (QKeras binary maps 0 to +1), so layers "
                   f"{binary} cannot be pruned; use ternary weights (-1/0/+1) or no pruning")
    if pruning.granularity in ("neuron", "filter") and pruning.target_sparsity > 0 and "binary" in kinds:
        raise _err("pruning.granularity", f"{pruning.granularity!r} removes units whose output is 0, and a binary "
                   "activation maps 0 to +1; use ternary activations, or 'weight'/'kernel' granularity")
    if pruning.granularity == "neuron" and "dense" not in kinds:
        raise _err("pruning.granularity", "'neuron' needs a dense layer to prune")
    if pruning.granularity in ("filter", "kernel", "vector") and "conv2d" not in kinds:
        raise _err("pruning.granularity", f"{pruning.granularity!r} prunes conv2d layers and this model has none; "
                   "use 'neuron' (dense units) or 'weight'")
    dist = low = share = auto = None
    if raw.get("distillation") is not None:
        d = raw["distillation"]
        _check_keys("distillation", d, {"teacher", "temperature", "alpha"}, {"teacher"})
        if not isinstance(d["teacher"], str) or not d["teacher"]:
            raise _err("distillation.teacher", "must be a spec path, a zoo name or a .h5/.keras model file")
        _check_teacher(d["teacher"], layer_inputs[0] if layer_inputs else (), layers[-1].units, source)
        dist = DistillationSpec(
            teacher=d["teacher"],
            temperature=_float("distillation.temperature", d.get("temperature", 4.0), 0.5, 100.0),
            alpha=_float("distillation.alpha", d.get("alpha", 0.5), 0.0, 1.0),
        )
    if raw.get("low_rank") is not None:
        lr = raw["low_rank"]
        _check_keys("low_rank", lr, {"layers", "rank", "energy", "fine_tune_epochs"}, {"layers"})
        names = _names("low_rank.layers", lr["layers"], layers, ("dense",))
        if (lr.get("rank") is None) == (lr.get("energy") is None):
            raise _err("low_rank", "give exactly one of 'rank' (an integer) or 'energy' (a fraction in (0, 1])")
        rank = None
        if lr.get("rank") is not None:
            rank = _int("low_rank.rank", lr["rank"], 1, 4096)
            dims = {layer.name: (inp[0], layer.units) for layer, inp in zip(layers, layer_inputs) if layer.type == "dense"}
            for n in names:
                m, k = dims[n]
                if rank >= min(m, k):
                    raise _err("low_rank.rank", f"({rank}) must be smaller than layer {n!r}'s smaller side "
                               f"({m} x {k}); a rank that large saves nothing")
        low = LowRankSpec(
            layers=names, rank=rank,
            energy=_float("low_rank.energy", lr["energy"], 0.01, 1.0) if lr.get("energy") is not None else None,
            fine_tune_epochs=_int("low_rank.fine_tune_epochs", lr.get("fine_tune_epochs", 5), 1, 10000),
        )
    if raw.get("weight_sharing") is not None:
        ws = raw["weight_sharing"]
        _check_keys("weight_sharing", ws, {"clusters", "layers", "fine_tune_epochs"}, {"clusters"})
        share = WeightSharingSpec(
            clusters=_int("weight_sharing.clusters", ws["clusters"], 2, 4096),
            layers=_names("weight_sharing.layers", ws["layers"], layers, ("dense", "conv2d")) if "layers" in ws else (),
            fine_tune_epochs=_int("weight_sharing.fine_tune_epochs", ws.get("fine_tune_epochs", 3), 0, 10000),
        )
    if raw.get("quantization") is not None:
        q = raw["quantization"]
        _check_keys("quantization", q, {"auto"}, {"auto"})
        a = q["auto"]
        _check_keys("quantization.auto", a, {"max_accuracy_drop", "bits", "search_epochs"})
        bits = a.get("bits", [8, 6, 4, 3, 2])
        if not isinstance(bits, list) or not bits:
            raise _err("quantization.auto.bits", f"must be a non-empty list of widths, got {bits!r}")
        bits = tuple(sorted({_int("quantization.auto.bits", b, 2, 16) for b in bits}, reverse=True))
        auto = AutoQuantSpec(
            max_accuracy_drop=_float("quantization.auto.max_accuracy_drop", a.get("max_accuracy_drop", 0.01), 0.0, 1.0),
            bits=bits, search_epochs=_int("quantization.auto.search_epochs", a.get("search_epochs", 5), 1, 10000),
        )
    return CompressionSpec(distillation=dist, low_rank=low, weight_sharing=share, auto_quant=auto)


def parse_spec(raw: Any, source: str = "<spec>") -> ModelSpec:
    top = {"name", "description", "dataset", "input", "layers", "classes", "pruning", "training", "hls",
           "distillation", "low_rank", "weight_sharing", "quantization"}
    _check_keys("(top level)", raw, top, {"name", "dataset", "input", "layers", "classes"})
    name = raw["name"]
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name) or len(name) > MAX_NAME:
        raise _err("name", f"must hold only ASCII letters, digits, '_' and '-' (at most {MAX_NAME}), got {name!r}")

    ds_raw = raw["dataset"]
    _check_keys("dataset", ds_raw, {"name", "test_fraction", "path", "standardize", "n_samples"}, {"name"})
    dataset = DatasetSpec(
        name=_choice("dataset.name", ds_raw["name"], DATASETS),
        test_fraction=_float("dataset.test_fraction", ds_raw.get("test_fraction", 0.25), 0.05, 0.9),
        path=ds_raw.get("path"),
        standardize=bool(ds_raw.get("standardize", False)),
        n_samples=_int("dataset.n_samples", ds_raw.get("n_samples", 512), 16, 1_000_000),
    )
    if dataset.path is not None and not isinstance(dataset.path, str):
        raise _err("dataset.path", "must be a file path string")

    in_raw = raw["input"]
    _check_keys("input", in_raw, {"shape", "precision"}, {"shape"})
    shape = in_raw["shape"]
    if not (isinstance(shape, list) and shape and all(isinstance(s, int) and s > 0 for s in shape)) or len(shape) > 3:
        raise _err("input.shape", f"must be a list of 1 to 3 positive integers, got {shape!r}")
    in_prec = _precision("input.precision", in_raw.get("precision", {"bits": 16, "integer": 5}))

    layers_raw = raw["layers"]
    if not isinstance(layers_raw, list) or not layers_raw:
        raise _err("layers", "must be a non-empty list")
    layers = tuple(_layer(f"layers[{i}]", lr, i) for i, lr in enumerate(layers_raw))
    names = [layer.name for layer in layers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _err("layers", f"layer names must be unique, repeated: {dupes}")
    for i, n in enumerate(names):
        other = generated_name_owner(n, names)
        if other:
            raise _err(f"layers[{i}].name", f"{n!r} collides with the node hls4ml generates for layer {other!r}; choose another name")
    if layers[-1].type != "dense":
        raise _err("layers", "the last layer must be 'dense' (its outputs are the logits)")

    class_names = parse_classes("classes", raw["classes"])
    n_classes = len(class_names) if class_names else _int("classes", raw["classes"], 2, 10000)
    if layers[-1].units != n_classes:
        raise _err("layers", f"the last dense layer has {layers[-1].units} units but classes is {n_classes}")
    layer_inputs = _check_layer_shapes(tuple(shape), layers)

    pr = raw.get("pruning", {}) or {}
    _check_keys("pruning", pr, {"target_sparsity", "begin_epoch", "end_epoch", "frequency", "granularity", "norm"})
    pruning = PruningSpec(
        target_sparsity=_float("pruning.target_sparsity", pr.get("target_sparsity", 0.0), 0.0, 0.99),
        begin_epoch=_int("pruning.begin_epoch", pr.get("begin_epoch", 0), 0, 10000),
        end_epoch=_int("pruning.end_epoch", pr["end_epoch"], 1, 10000) if pr.get("end_epoch") is not None else None,
        frequency=_int("pruning.frequency", pr.get("frequency", 10), 1, 100000),
        granularity=_choice("pruning.granularity", pr.get("granularity", "weight"), GRANULARITIES),
        norm=_choice("pruning.norm", pr.get("norm", "l1"), ("l1", "l2")),
    )
    tr = raw.get("training", {}) or {}
    _check_keys("training", tr, {"epochs", "batch_size", "optimizer", "learning_rate", "seed"})
    training = TrainingSpec(
        epochs=_int("training.epochs", tr.get("epochs", 20), 1, 10000),
        batch_size=_int("training.batch_size", tr.get("batch_size", 32), 1, 65536),
        optimizer=_choice("training.optimizer", tr.get("optimizer", "adam"), OPTIMIZERS),
        learning_rate=_float("training.learning_rate", tr.get("learning_rate", 0.003), 1e-7, 10.0),
        seed=_int("training.seed", tr.get("seed", 42), 0, 2**31 - 1),
    )
    check_schedule(pruning, training, lambda key, msg: _err(key, msg))
    hl = raw.get("hls", {}) or {}
    _check_keys("hls", hl, {"backend", "strategy", "reuse_factor", "io_type"})
    hls = HlsSpec(
        backend=_choice("hls.backend", hl.get("backend", "Vitis"), BACKENDS),
        strategy=_choice("hls.strategy", str(hl.get("strategy", "latency")).lower(), STRATEGIES),
        reuse_factor=_int("hls.reuse_factor", hl.get("reuse_factor", 1), 1, 4096),
        io_type=_choice("hls.io_type", hl.get("io_type", "io_parallel"), IO_TYPES),
    )
    description = raw.get("description", "")
    compression = _compression(raw, layers, layer_inputs, pruning, source)
    return ModelSpec(
        compression=compression,
        name=name,
        description=str(description),
        dataset=dataset,
        input_shape=tuple(shape),
        input_precision=in_prec,
        layers=layers,
        n_classes=n_classes,
        pruning=pruning,
        training=training,
        hls=hls,
        source_path=source,
        class_names=class_names,
    )


def parse_classes(where: str, value: Any) -> tuple[str, ...]:
    """`classes: 10` (labels are the numbers 0..9) or `classes: [g, q, t, w, z]` (the names string
    labels stand for, in class-number order). Returns the names, () for a count."""
    if not isinstance(value, (list, tuple)):
        return ()
    names = tuple(value)
    if len(names) < 2 or len(names) > 10000:
        raise _err(where, f"a class list needs 2 to 10000 names, got {len(names)}")
    bad = [n for n in names if not isinstance(n, (str, int)) or isinstance(n, bool) or not str(n).strip()]
    if bad:
        raise _err(where, f"class names must be non-empty strings, got {bad[:5]}")
    names = tuple(str(n).strip() for n in names)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _err(where, f"class names must be unique, repeated: {dupes}")
    return names


def generated_name_owner(name: str, names: list[str]) -> str | None:
    """The other layer whose hls4ml-generated node or type would be called `name`, if any."""
    for suffix in GENERATED_SUFFIXES:
        tail = "_" + suffix
        if name.endswith(tail) and name[: -len(tail)] in names and name[: -len(tail)] != name:
            return name[: -len(tail)]
    return None


def check_schedule(pruning: PruningSpec, training: TrainingSpec, err=None) -> None:
    """Pruning must happen inside training: begin < epochs, begin < end <= epochs."""
    err = err or (lambda key, msg: HwgenError(f"{key}: {msg}"))
    if pruning.target_sparsity <= 0:
        return
    if pruning.begin_epoch >= training.epochs:
        raise err("pruning.begin_epoch", f"({pruning.begin_epoch}) must be before the last epoch (training runs "
                  f"{training.epochs} epoch(s), numbered from 0), or pruning would never happen")
    if pruning.end_epoch is not None:
        if pruning.end_epoch > training.epochs:
            raise err("pruning.end_epoch", f"({pruning.end_epoch}) is after the last epoch ({training.epochs})")
        if pruning.end_epoch <= pruning.begin_epoch:
            raise err("pruning.end_epoch", f"({pruning.end_epoch}) must be after pruning.begin_epoch ({pruning.begin_epoch})")


def _check_layer_shapes(shape: tuple[int, ...], layers: tuple[LayerSpec, ...]) -> list[tuple[int, ...]]:
    """Walk the shapes so a spec that cannot build fails here, naming the layer; returns each
    layer's input shape."""
    cur = shape
    inputs: list[tuple[int, ...]] = []
    for i, layer in enumerate(layers):
        inputs.append(cur)
        where = f"layers[{i}] ({layer.name})"
        if layer.type in ("conv2d", "maxpool2d"):
            if len(cur) != 3:
                raise _err(where, f"{layer.type} needs a 3-D input (height, width, channels), got shape {list(cur)}")
            h, w, c = cur
            if layer.type == "conv2d":
                kh, kw = layer.kernel_size
                sh, sw = layer.strides
                if layer.padding == "valid":
                    h, w = (h - kh) // sh + 1, (w - kw) // sw + 1
                else:
                    h, w = -(-h // sh), -(-w // sw)
                c = layer.filters
            else:
                ph, pw = layer.pool_size
                h, w = h // ph, w // pw
            if h < 1 or w < 1:
                raise _err(where, f"output would be empty (input {list(cur)})")
            cur = (h, w, c)
        elif layer.type == "flatten":
            n = 1
            for s in cur:
                n *= s
            cur = (n,)
        elif layer.type == "dense":
            if len(cur) != 1:
                raise _err(where, f"dense needs a 1-D input; add a 'flatten' layer before it (input {list(cur)})")
            cur = (layer.units,)
    return inputs


def apply_overrides(
    spec: ModelSpec, *, seed: int | None = None, epochs: int | None = None, sparsity: float | None = None,
    hls: dict[str, Any] | None = None, weight_bits: int | None = None, activation_bits: int | None = None,
) -> ModelSpec:
    """The spec with the command-line / sweep-axis overrides applied (one rule for both).

    A shorter training keeps the pruning schedule inside it; `weight_bits` sets every weight and
    bias width and `activation_bits` every quantized ReLU's, integer bits kept (clipped to fit).
    """
    changes: dict[str, dict] = {}
    if seed is not None:
        changes["training"] = {"seed": seed}
    if epochs is not None:
        if epochs < 1:
            raise HwgenError("epochs must be >= 1")
        changes.setdefault("training", {})["epochs"] = epochs
        pr = spec.pruning
        if pr.end_epoch and pr.end_epoch > epochs:
            changes["pruning"] = {"end_epoch": epochs, "begin_epoch": min(pr.begin_epoch, max(epochs - 1, 0))}
        elif pr.begin_epoch >= epochs:
            changes["pruning"] = {"begin_epoch": max(epochs - 1, 0)}
    if sparsity is not None:
        if not 0.0 <= sparsity < 1.0:
            raise HwgenError("sparsity must be in [0, 1)")
        changes.setdefault("pruning", {})["target_sparsity"] = sparsity
    hls = {k: v for k, v in (hls or {}).items() if v is not None}
    if hls.get("reuse_factor") is not None and hls["reuse_factor"] < 1:
        raise HwgenError("reuse_factor must be >= 1")
    if hls:
        changes["hls"] = hls
    if changes:
        spec = spec.with_overrides(**changes)
    for bits in (weight_bits, activation_bits):
        if bits is not None and not 2 <= bits <= 32:
            raise HwgenError(f"bits must be in [2, 32], got {bits}")
    if weight_bits is None and activation_bits is None:
        return spec

    def width(prec: Precision | None, bits: int | None) -> Precision | None:
        if prec is None or bits is None or prec.type != "fixed":  # binary/ternary stay what they are
            return prec
        return Precision(bits, min(prec.integer, bits - 1))

    layers = []
    for layer in spec.layers:
        kw: dict[str, Any] = {}
        if weight_bits is not None and layer.weight is not None:
            kw["weight"] = width(layer.weight, weight_bits)
            kw["bias"] = width(layer.bias, weight_bits)
        if activation_bits is not None and layer.type == "relu":
            kw["bits"] = activation_bits
            kw["integer"] = min(layer.integer or 0, activation_bits)
        layers.append(dataclasses.replace(layer, **kw) if kw else layer)
    return dataclasses.replace(spec, layers=tuple(layers))


def load_yaml(path: Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise HwgenError(f"spec file {path} does not exist")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise HwgenError(f"spec file {path} is not valid YAML: {exc}") from None


def load_spec(ref: str | Path) -> ModelSpec:
    """A spec by path, or by zoo name (e.g. 'digits_mlp')."""
    path = Path(ref)
    if not path.exists() and not str(ref).endswith((".yaml", ".yml")):
        zoo = data_dir("models") / f"{ref}.yaml"
        if zoo.is_file():
            path = zoo
        else:
            raise HwgenError(f"unknown model '{ref}': not a file and not in the zoo ({', '.join(zoo_names())})")
    raw = load_yaml(path)
    try:
        return parse_spec(raw, source=str(path))
    except HwgenError as exc:
        raise HwgenError(f"{path}: {exc}") from None


def zoo_names() -> list[str]:
    return sorted(p.stem for p in data_dir("models").glob("*.yaml"))


def list_zoo() -> list[ModelSpec]:
    return [load_spec(data_dir("models") / f"{n}.yaml") for n in zoo_names()]


def ap_fixed(p: Precision, signed: bool = True) -> str:
    """HLS type string of a QKeras-style precision (the HLS integer width includes the sign)."""
    return f"ap_fixed<{p.bits},{p.integer + 1}>" if signed else f"ap_ufixed<{p.bits},{p.integer}>"
