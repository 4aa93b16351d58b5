"""The model-file gate: what a Keras .h5/.keras file may contain before hwgen deserializes it.

A Keras file stores its architecture as JSON, and Keras turns parts of that JSON into code
while loading: a Lambda layer carries marshalled Python bytecode, a `module` field makes Keras
import a module by name, a QKeras quantizer string is evaluated by QKeras's own parser, and a
class name hwgen does not know needs the user's code. The gate parses the stored config with
the same JSON parser Keras uses, walks *every* dict and list node (a bare-list Sequential, a
nested functional model, a wrapper's inner layer and an initializer's nested quantizer alike)
and admits only an explicit list of layer classes, containers, quantizers and data objects
(initializers, regularizers, constraints). Anything else is refused with its path inside the
config, before a single Keras object is built.

Layer names must also be ASCII identifiers that cannot collide with the names hls4ml
generates (`<layer>_<activation>`, `<layer>_alpha`, ...): a collision silently breaks the C++.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError

# Layer classes hwgen takes to hardware (issue 11's list) - Keras built-ins and QKeras.
HARDWARE_LAYERS = frozenset({
    "InputLayer", "Dense", "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
    "SeparableConv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "Flatten", "Reshape", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "Activation", "ReLU", "LeakyReLU", "Softmax", "BatchNormalization", "Add",
    "Concatenate", "ZeroPadding1D", "ZeroPadding2D",
    "QDense", "QConv1D", "QConv2D", "QDepthwiseConv2D", "QSeparableConv1D", "QSeparableConv2D",
    "QConv2DBatchnorm", "QDepthwiseConv2DBatchnorm", "QBatchNormalization", "QActivation",
    "QAveragePooling2D", "QGlobalAveragePooling2D",
})
CONTAINERS = frozenset({"Functional", "Sequential", "Model"})
QUANTIZERS = frozenset({
    "quantized_bits", "quantized_relu", "quantized_tanh", "quantized_sigmoid", "quantized_po2",
    "quantized_relu_po2", "binary", "stochastic_binary", "ternary", "stochastic_ternary", "bernoulli",
    "quantized_linear",
})
# Plain functions QKeras (and Keras) accept as activations by name.
ACTIVATION_NAMES = frozenset({
    "linear", "relu", "softmax", "sigmoid", "tanh", "hard_sigmoid", "elu", "selu", "softplus", "softsign",
    "swish", "silu", "gelu", "exponential", "relu6", "leaky_relu",
    "binary_sigmoid", "smooth_sigmoid", "binary_tanh", "hard_tanh", "smooth_tanh",
})
# Objects that are data: Keras initializers, regularizers, constraints (and QKeras's two).
DATA_CLASSES = frozenset({
    "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
    "Orthogonal", "Identity", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal",
    "LecunUniform", "zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal",
    "variance_scaling", "orthogonal", "identity", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
    "lecun_normal", "lecun_uniform",
    "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
    "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "RadialConstraint", "max_norm", "min_max_norm", "non_neg",
    "unit_norm",
    "QInitializer", "Clip",
})
# `module` values Keras 2.15 writes for the classes above; Keras imports this module by name.
ALLOWED_MODULES = frozenset({
    "keras",  # what Keras writes for a Sequential model in the .keras format (the package itself, already imported)
    "keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints", "keras.activations",
    "keras.models", "keras.src.engine.functional", "keras.src.engine.sequential", "keras.src.engine.training",
    "keras.engine.functional", "keras.engine.sequential", "keras.engine.training",
    "qkeras.qlayers", "qkeras.quantizers", "qkeras.qconvolutional", "qkeras.qpooling", "qkeras.qnormalization",
    "qkeras.qconv2d_batchnorm", "qkeras.qdepthwiseconv2d_batchnorm",
})
CODE_CLASSES = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda", "__lambda__", "__function__"})
CODE_KEYS = frozenset({"function", "function_type", "output_shape_type", "code"})
# Base-layer keyword arguments Keras accepts on every layer besides the class's own.
_BASE_LAYER_ARGS = frozenset({
    "name", "trainable", "dtype", "dynamic", "input_dim", "input_shape", "batch_input_shape", "batch_size",
    "weights", "activity_regularizer", "autocast", "implementation",
})
# Suffixes hls4ml appends to a layer's name for nodes and types it generates.
HLS_SUFFIXES = ("alpha", "act", "rescale", "t", "accum_t", "weight_t", "bias_t", "result_t", "table_t",
                "param_t", "depthwise_t", "pointwise_t", "scale_t", "mean_t", "variance_t")
# Names reserved for layers of hwgen's own specs (hwgen names its input layer x_input), not for model files.
HWGEN_SPEC_ONLY_NAMES = frozenset({"input", "x_input", "output_layer"})
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
MAX_CONFIG_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    kind: str  # 'code' | 'custom' | 'unsupported' | 'name' | 'argument' | 'format'
    where: str  # path inside the config, e.g. config.layers[2]
    what: str


def read_model_config(path: Path) -> Any:
    """The architecture JSON a Keras file stores, parsed (nothing is deserialized)."""
    path = Path(path)
    if path.suffix == ".h5":
        import h5py

        try:
            with h5py.File(path, "r") as fh:
                raw = fh.attrs.get("model_config")
        except OSError as exc:
            raise HwgenError(f"cannot read model file {path} as HDF5: {exc}") from None
        if raw is None:
            raise HwgenError(f"{path} holds weights only (no model_config); save the whole model with model.save()")
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        text = str(raw)
    elif path.suffix == ".keras":
        try:
            with zipfile.ZipFile(path) as zf:
                info = zf.getinfo("config.json")
                if info.file_size > MAX_CONFIG_BYTES:
                    raise HwgenError(f"{path}: config.json is {info.file_size} bytes; refusing an oversized model config")
                text = zf.read(info).decode("utf-8", errors="replace")
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise HwgenError(f"{path} is not a valid .keras archive: {exc}") from None
    else:
        raise HwgenError(f"model file {path} must be a Keras .h5 or .keras file")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise HwgenError(f"{path}: the stored model config is not JSON ({exc}); the file is damaged or not a Keras model") from None


def _literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float, str, bool)) or node.value is None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _literal(node.operand)
    return False


def quantizer_string_problem(text: str) -> str | None:
    """Why a quantizer/activation string like "quantized_bits(6,0,alpha=1)" is not allowed, or None."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return f"{text!r} is not a quantizer expression"
    if isinstance(tree, ast.Name):
        name, args = tree.id, []
    elif isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name):
        name = tree.func.id
        args = list(tree.args) + [kw.value for kw in tree.keywords]
        if any(kw.arg is None for kw in tree.keywords):
            return f"{text!r}: ** arguments are not allowed"
    else:
        return f"{text!r} is not a quantizer name or call"
    if name not in QUANTIZERS and name not in ACTIVATION_NAMES:
        return f"{text!r}: {name!r} is not a known quantizer or activation"
    if name in ACTIVATION_NAMES and isinstance(tree, ast.Call):
        return f"{text!r}: activation {name!r} takes no arguments here"
    if not all(_literal(a) for a in args):
        return f"{text!r}: quantizer arguments must be numbers, strings or booleans"
    return None


def _is_quantizer_key(key: str) -> bool:
    return key == "activation" or key.endswith("quantizer") or key == "quantizer"


def _accepted_args(class_name: str) -> set[str] | None:
    """Keyword arguments the real class takes (None when it cannot be determined)."""
    cls = _layer_class(class_name)
    if cls is None:
        return None
    names: set[str] = set()
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names | _BASE_LAYER_ARGS


def _layer_class(class_name: str):
    from hwgen.tfcompat import tf

    cls = getattr(tf.keras.layers, class_name, None)
    if cls is None:
        try:
            from qkeras.utils import _add_supported_quantized_objects

            objs: dict = {}
            _add_supported_quantized_objects(objs)
            cls = objs.get(class_name)
        except ImportError:  # pragma: no cover
            cls = None
    return cls if inspect.isclass(cls) else None


def _is_keras_builtin_layer(class_name: str) -> bool:
    if not IDENTIFIER.match(class_name or ""):
        return False
    try:
        from hwgen.tfcompat import tf

        cls = getattr(tf.keras.layers, class_name, None)
        return inspect.isclass(cls) and issubclass(cls, tf.keras.layers.Layer)
    except Exception:  # noqa: BLE001 - without TensorFlow the name is simply unknown
        return False


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def scan_config(config: Any) -> tuple[list[Problem], list[tuple[str, str, str]], list[tuple[str, str, Any, Any]]]:
    """Walk every node; return the problems, the layers found as (path, class, name) and the same
    with each layer's config."""
    problems: list[Problem] = []
    layers: list[tuple[str, str, str, Any]] = []

    def walk(node: Any, where: str, key: str = "") -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{where}[{i}]", key)
            return
        if isinstance(node, str):
            if _is_quantizer_key(key):
                why = quantizer_string_problem(node)
                if why:
                    problems.append(Problem("custom", where, why))
            return
        if not isinstance(node, dict):
            return
        for k in node:
            if k in CODE_KEYS:
                problems.append(Problem("code", _join(where, k), f"field {k!r} carries code"))
        if "module" in node and node["module"] is not None and node["module"] not in ALLOWED_MODULES:
            problems.append(Problem("code", _join(where, "module"), f"module {node['module']!r} would be imported while loading"))
        if "class_name" in node:
            cls = node["class_name"]
            cfg = node.get("config")
            name = cfg.get("name") if isinstance(cfg, dict) else node.get("name")
            label = f"{name} ({cls})" if isinstance(name, str) else str(cls)
            if not isinstance(cls, str):
                problems.append(Problem("custom", where, f"class_name {cls!r} is not a string"))
            elif cls in CODE_CLASSES:
                problems.append(Problem("code", where, label))
            elif cls in HARDWARE_LAYERS or cls in CONTAINERS:
                layers.append((where, cls, name, cfg))
            elif cls in QUANTIZERS or cls in DATA_CLASSES:
                pass
            elif cls == "function" and node.get("module") == "keras.activations" and isinstance(cfg, str):
                if cfg not in ACTIVATION_NAMES:
                    problems.append(Problem("custom", where, f"activation {cfg!r}"))
            elif _is_keras_builtin_layer(cls):
                problems.append(Problem("unsupported", where, label))
            else:
                problems.append(Problem("custom", where, label))
            reg = node.get("registered_name")
            if reg is not None and reg != cls and not (cls == "function" and reg == "function"):
                problems.append(Problem("custom", _join(where, "registered_name"), f"registered name {reg!r} differs from {cls!r}"))
        for k, v in node.items():
            if k == "compile_config":  # Keras discards it with compile=False, which hwgen always uses
                continue
            walk(v, _join(where, k), k)

    walk(config, "")
    return problems, [(w, c, n) for w, c, n, _ in layers], layers


def layer_name_problems(named: list[tuple[str, str, str, Any]]) -> list[Problem]:
    """Names that are not ASCII identifiers or collide with names hls4ml generates."""
    from hwgen.spec import RESERVED_NAMES

    problems: list[Problem] = []
    layer_entries = [(w, c, n, cfg) for w, c, n, cfg in named if c not in CONTAINERS]
    names = [n for _, _, n, _ in layer_entries if isinstance(n, str)]
    generated: dict[str, str] = {}
    for _, _, n, cfg in layer_entries:
        if not isinstance(n, str):
            continue
        act = cfg.get("activation") if isinstance(cfg, dict) else None
        acts = {"linear"}
        if isinstance(act, str):
            acts.add(act.split("(")[0].strip())
        elif isinstance(act, dict) and isinstance(act.get("class_name"), str):
            acts.add(act["class_name"])
        for suffix in (*acts, *HLS_SUFFIXES):
            generated[f"{n}_{suffix}"] = n
    seen: set[str] = set()
    for where, cls, n, _ in layer_entries:
        if not isinstance(n, str):
            problems.append(Problem("name", where, f"{cls} layer without a name"))
            continue
        if not IDENTIFIER.match(n) or not n.isascii():
            problems.append(Problem("name", where, f"layer name {n!r} must be an ASCII identifier (letters, digits, '_', starting with a letter)"))
        elif n.lower() in RESERVED_NAMES - HWGEN_SPEC_ONLY_NAMES:
            problems.append(Problem("name", where, f"layer name {n!r} is reserved (hls4ml/C++/Verilog)"))
        elif n in generated and generated[n] != n and generated[n] in names:
            problems.append(Problem("name", where, f"layer name {n!r} collides with the node hls4ml generates for layer {generated[n]!r}"))
        if n in seen:
            problems.append(Problem("name", where, f"layer name {n!r} is used twice"))
        seen.add(n)
    return problems


def argument_problems(named: list[tuple[str, str, str, Any]]) -> list[Problem]:
    problems: list[Problem] = []
    for where, cls, n, cfg in named:
        if cls in CONTAINERS or cls == "InputLayer" or not isinstance(cfg, dict):
            if cls not in CONTAINERS and cls != "InputLayer" and cfg is not None and not isinstance(cfg, dict):
                problems.append(Problem("argument", where, f"{n} ({cls}): config must be a mapping"))
            continue
        accepted = _accepted_args(cls)
        if accepted is None:
            continue
        unknown = sorted(set(cfg) - accepted)
        if unknown:
            problems.append(Problem("argument", where, f"{n} ({cls}): unknown argument(s) {unknown}"))
    return problems


def _fmt(problems: list[Problem]) -> str:
    return "; ".join(f"{p.what} at {p.where or '(top)'}" for p in problems[:8]) + (
        f"; and {len(problems) - 8} more" if len(problems) > 8 else ""
    )


def check_config(config: Any, source: str, trust_code: bool = False) -> None:
    """Raise HwgenError naming every disallowed node of a parsed model config."""
    if not isinstance(config, dict) or config.get("class_name") not in CONTAINERS:
        got = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        raise HwgenError(f"{source}: the stored config is not a Keras model (top level {got!r}; expected one of {sorted(CONTAINERS)})")
    problems, _, named = scan_config(config)
    by_kind = {k: [p for p in problems if p.kind == k] for k in ("code", "custom", "unsupported")}
    if not trust_code:
        if by_kind["code"]:
            raise HwgenError(
                f"{source} contains parts that execute Python code while loading: {_fmt(by_kind['code'])}. hwgen refuses "
                "them because loading would run code from the file and they cannot become hardware; remove them, or "
                "pass --trust-model-code if you wrote the file yourself"
            )
        if by_kind["custom"]:
            raise HwgenError(
                f"{source} uses custom objects hwgen does not know: {_fmt(by_kind['custom'])}. Only the Keras built-in and "
                "QKeras layers and quantizers hwgen takes to hardware are loaded; pass --trust-model-code to load it "
                "anyway (its code must be importable)"
            )
        if by_kind["unsupported"]:
            raise HwgenError(
                f"{source} uses Keras layers hwgen does not take to hardware (unsupported layer): "
                f"{_fmt(by_kind['unsupported'])}. Supported: {', '.join(sorted(HARDWARE_LAYERS))}"
            )
    names = layer_name_problems(named)
    if names:
        raise HwgenError(f"{source}: {_fmt(names)}; rename the layers (model.layers[i]._name) and save again")
    args = argument_problems([x for x in named if x[1] in HARDWARE_LAYERS])
    if args:
        raise HwgenError(f"{source}: {_fmt(args)}; the file was written by another Keras/QKeras version or edited")


def check_model_file(path: Path, trust_code: bool = False) -> None:
    """The gate for a model file on disk: raise HwgenError unless it may be loaded."""
    path = Path(path)
    if not path.is_file():
        raise HwgenError(f"model file {path} does not exist")
    check_config(read_model_config(path), str(path), trust_code=trust_code)
