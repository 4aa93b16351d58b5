"""Stage 2: hls4ml turns the trained QKeras model into an HLS C++ project for the board.

Precisions follow the QKeras quantizers (hls4ml's QKeras-aware 'name' granularity); result and
accumulator types are hls4ml's 'auto' inference, wide enough to be exact, which the C-sim
stage then checks bit for bit. Reads train/model.h5 and train/data.npz; writes hls/ and
convert.json.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwgen.boards import Board
from hwgen.errors import HwgenError
from hwgen.modelio import load_model
from hwgen.results import write_json
from hwgen.rundir import RunPaths

PROJECT_NAME = "myproject"
# Generated files whose bytes define the project (the Keras copy and absolute paths excluded).
_HASHED_SUFFIXES = (".cpp", ".h", ".tcl", ".txt", ".sh")


@dataclass(frozen=True)
class HlsOptions:
    backend: str = "Vitis"
    strategy: str = "latency"  # latency | resource
    reuse_factor: int = 1
    io_type: str = "io_parallel"
    clock_mhz: float | None = None  # default: the board's clock


@dataclass(frozen=True)
class ConvertResult:
    project_dir: str
    backend: str
    part: str
    board: str
    clock_mhz: float
    clock_period_ns: float
    strategy: str
    reuse_factor: int
    io_type: str
    input_type: str
    layers: list[dict]  # name, class, result/weight/bias/accum precisions, reuse factor
    model_layers: list[dict]  # the model's own layers: quantizers, what the hardware form changed, support
    measured_only: list[str]  # layers whose exactness is measured, not guaranteed (float batch norm)
    hls4ml_version: str
    project_sha256: str
    wall_s: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _hls_precision(text: str) -> str:
    """hls4ml config precision for an ap type string: ap_fixed<16,6> -> fixed<16,6>."""
    return text.replace("ap_", "")


def build_config(model, opts: HlsOptions, input_type: str, form=None) -> dict:
    """hls4ml configuration of the hardware form `model` (see hwgen.hwform).

    Precisions come from the QKeras quantizers (hls4ml's 'name' granularity) and, for layers the
    hardware form rewrote, from the exact grid of their effective weights; result and accumulator
    types of weighted and pooling layers are hls4ml's 'auto' inference (wide enough to be exact).
    """
    import hls4ml

    try:
        cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend=opts.backend)
    except Exception as exc:  # noqa: BLE001 - hls4ml's parser reports unsupported layers as assorted exceptions
        raise HwgenError(f"hls4ml could not read the model ({type(exc).__name__}: {exc})") from None
    cfg["Model"]["Strategy"] = opts.strategy.capitalize()
    cfg["Model"]["ReuseFactor"] = opts.reuse_factor
    input_name = form.input_name if form is not None else _input_layer_name(model)
    for name, layer_cfg in cfg["LayerName"].items():
        if "ReuseFactor" in layer_cfg:
            layer_cfg["ReuseFactor"] = opts.reuse_factor
        if opts.strategy == "resource" and name != input_name:
            layer_cfg["Strategy"] = "Resource"
    cfg["LayerName"].setdefault(input_name, {})["Precision"] = {"result": _hls_precision(input_type)}
    if form is not None:
        for name, precisions in form.weight_precision.items():
            prec = cfg["LayerName"].setdefault(name, {}).setdefault("Precision", {})
            prec.update(precisions)
            prec.setdefault("result", "auto")
            prec.setdefault("accum", "auto")
        for act_name, parent in form.merge_into_parent.items():
            # hls4ml drops a linear QActivation(quantized_bits) whose parent's result type is 'auto'
            # without applying its quantizer; give the parent that result type instead (its
            # accumulator is exact, and the cast rounds half to even and saturates like QKeras).
            act_prec = cfg["LayerName"].get(act_name, {}).get("Precision", {}).get("result")
            if act_prec:
                cfg["LayerName"].setdefault(parent, {}).setdefault("Precision", {})["result"] = act_prec
        for name, precisions in form.extra_config.items():
            prec = cfg["LayerName"].setdefault(name, {}).setdefault("Precision", {})
            prec.update(precisions)
            prec["result"] = "auto"
        for name, layer_cfg in cfg["LayerName"].items():
            # Layers without a quantizer of their own (pooling, reshape, merges, plain relu) keep
            # their input's exact type; hls4ml's default would be the lossy model default precision.
            prec = layer_cfg.setdefault("Precision", {})
            if isinstance(prec, dict) and "result" not in prec:
                prec["result"] = "auto"
    return cfg


def exact_average_pooling(hls_model, cfg: dict) -> bool:
    """Give average-pooling layers and float ReLUs exact types; returns True if the config changed.

    hls4ml sums n = 2**k inputs in `accum_t` and divides by n, then casts to the result type,
    which 'auto' makes equal to the input type: the k fraction bits the division adds are lost.
    (Its global pooling does not infer `accum_t` at all.) The exact type of the mean of n values
    of fixed<w, i> is fixed<w + 2k, i + k> (k integer bits for the sum, k fraction bits for the
    division; hwform refuses non-power-of-two n).
    """
    from hls4ml.model.types import FixedPrecisionType

    changed = False
    for layer in hls_model.get_layers():
        if layer.class_name == "Activation" and layer.get_attr("activation") == "relu" and layer.get_attr("quantizer") is None:
            # A float ReLU keeps its input's grid; 'auto' here would be the lossy model default.
            p = layer.get_input_variable().type.precision
            prec = cfg["LayerName"].setdefault(layer.name, {}).setdefault("Precision", {})
            if isinstance(p, FixedPrecisionType) and prec.get("result") in (None, "auto"):
                exact = f"{'' if p.signed else 'u'}fixed<{p.width},{p.integer}>"
                if prec.get("result") != exact:
                    prec["result"] = exact
                    changed = True
            continue
        if "Pooling" not in layer.class_name or str(layer.get_attr("pool_op", "")).lower() != "average":
            continue
        p = layer.get_input_variable().type.precision
        if not isinstance(p, FixedPrecisionType):
            continue
        if layer.class_name.startswith("Global"):
            n = int(np.prod(layer.get_input_variable().shape[:-1]))
        else:
            n = int(layer.get_attr("pool_height", 1)) * int(layer.get_attr("pool_width", 1))
        k = int(np.ceil(np.log2(max(n, 1))))
        exact = f"{'' if p.signed else 'u'}fixed<{p.width + 2 * k},{p.integer + k}>"
        prec = cfg["LayerName"].setdefault(layer.name, {}).setdefault("Precision", {})
        if prec.get("result") != exact or prec.get("accum") != exact:
            prec["accum"] = prec["result"] = exact
            changed = True
    return changed


def _input_layer_name(model) -> str:
    first = model.layers[0]
    return first.name if type(first).__name__ == "InputLayer" else f"{first.name}_input"


def project_digest(project_dir: Path) -> str:
    """sha256 over the generated sources (the random build stamp is fixed by the caller)."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(project_dir).rglob("*") if p.is_file() and p.suffix in _HASHED_SUFFIXES):
        rel = path.relative_to(project_dir).as_posix()
        if rel.startswith("firmware/ap_types/") or rel.startswith("firmware/nnet_utils/"):
            continue  # library headers copied verbatim from hls4ml
        text = path.read_bytes().replace(str(Path(project_dir).resolve()).encode(), b"<project>")
        h.update(rel.encode() + b"\0" + text + b"\0")
    return h.hexdigest()


def run_convert(paths: RunPaths, board: Board, opts: HlsOptions, stamp: str, trust_code: bool = False) -> ConvertResult:
    import hls4ml

    start = time.monotonic()
    from hwgen.hwform import hardware_form

    form = hardware_form(load_model(paths.model, trust_code=trust_code))
    if form.refusals:
        raise HwgenError(form.refusal_message(str(paths.model)))
    model = form.model
    data = np.load(paths.data)
    input_type = str(data["input_hls_type"])
    clock_mhz = opts.clock_mhz or board.clock_mhz
    cfg = build_config(model, opts, input_type, form)
    out_dir = paths.hls_dir

    def convert(config):
        try:
            return hls4ml.converters.convert_from_keras_model(
                model,
                hls_config=config,
                output_dir=str(out_dir),
                project_name=PROJECT_NAME,
                backend=opts.backend,
                part=board.part,
                clock_period=round(1000.0 / clock_mhz, 6),
                io_type=opts.io_type,
            )
        except Exception as exc:  # noqa: BLE001 - hls4ml reports unsupported layers as assorted exceptions
            raise HwgenError(
                f"hls4ml could not convert the model ({type(exc).__name__}: {exc}); check that every layer is one "
                "hls4ml supports (Dense, Conv1D/2D, pooling, activations, QKeras quantizers)"
            ) from None

    # Conversion builds the graph in memory only (nothing is written before write_hls below), so a
    # first pass can read the precisions hls4ml inferred and fix those that would lose bits.
    hls_model = convert(cfg)
    if exact_average_pooling(hls_model, cfg):
        hls_model = convert(cfg)
    # hls4ml's writer flow starts with a pass that draws a random build stamp; run only its
    # writing pass with a stamp derived from the run fingerprint so the project is reproducible.
    from hls4ml.model.optimizer import get_optimizer

    hls_model.config.config["Stamp"] = stamp
    get_optimizer(f"{opts.backend.lower()}:write_hls").transform(hls_model)
    from hwgen.hlsproject import make_paths_safe

    make_paths_safe(out_dir)  # no file-system path in the generated C++/scripts (a '"' in --out, say)
    layers = []
    for layer in hls_model.get_layers():
        entry = {"name": layer.name, "class": layer.class_name, "result": str(layer.get_output_variable().type.precision)}
        for var_name, var in getattr(layer, "weights", {}).items():
            entry[var_name] = str(var.type.precision)
        accum = layer.get_attr("accum_t")
        if accum is not None:
            entry["accum"] = str(accum.precision)
        rf = layer.get_attr("reuse_factor")
        if rf is not None:
            entry["reuse_factor"] = int(rf)
        layers.append(entry)
    used_rf = sorted({entry["reuse_factor"] for entry in layers if "reuse_factor" in entry})
    result = ConvertResult(
        project_dir=str(out_dir.relative_to(paths.root)),
        backend=opts.backend,
        part=board.part,
        board=board.name,
        clock_mhz=clock_mhz,
        clock_period_ns=round(1000.0 / clock_mhz, 6),
        strategy=opts.strategy,
        reuse_factor=used_rf[-1] if used_rf else opts.reuse_factor,
        io_type=opts.io_type,
        input_type=input_type,
        layers=layers,
        model_layers=[r.to_dict() for r in form.rows],
        measured_only=[r.name for r in form.measured_only],
        hls4ml_version=hls4ml.__version__,
        project_sha256=project_digest(out_dir),
        wall_s=round(time.monotonic() - start, 3),
    )
    write_json(paths.convert_json, result.to_dict())
    return result
