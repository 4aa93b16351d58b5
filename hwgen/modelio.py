"""Saving and loading QKeras models, refusing model files that carry code.

A Keras .h5/.keras file with a Lambda layer stores Python bytecode, and unknown custom
objects would need user code to load: both are refused unless the user opts in with
`trust_code=True` (CLI: --trust-model-code). The check reads the stored model config as JSON
before anything is deserialized.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from hwgen.errors import HwgenError

# Layer classes hwgen can take to hardware (Keras built-ins and QKeras) plus harmless wrappers.
SAFE_LAYER_CLASSES = {
    "InputLayer", "Dense", "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
    "AveragePooling2D", "Flatten", "Activation", "ReLU", "Softmax", "Dropout", "Reshape",
    "BatchNormalization", "QDense", "QConv1D", "QConv2D", "QActivation", "QBatchNormalization",
    "QDepthwiseConv2D", "QSeparableConv2D", "QAveragePooling2D", "Functional", "Sequential", "Model",
}
CODE_LAYER_CLASSES = {"Lambda", "TFOpLambda", "SlicingOpLambda"}


def _model_config_json(path: Path) -> dict:
    if path.suffix == ".h5":
        import h5py

        try:
            with h5py.File(path, "r") as fh:
                raw = fh.attrs.get("model_config")
        except OSError as exc:
            raise HwgenError(f"cannot read model file {path}: {exc}") from None
        if raw is None:
            raise HwgenError(f"{path} holds weights only (no model_config); save the whole model with model.save()")
        return json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    if path.suffix == ".keras":
        try:
            with zipfile.ZipFile(path) as zf:
                return json.loads(zf.read("config.json"))
        except (zipfile.BadZipFile, KeyError) as exc:
            raise HwgenError(f"{path} is not a valid .keras archive: {exc}") from None
    raise HwgenError(f"model file {path} must be a Keras .h5 or .keras file")


def _layer_classes(config: dict) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(node: dict) -> None:
        cls = node.get("class_name", "")
        cfg = node.get("config", {})
        name = cfg.get("name", "?") if isinstance(cfg, dict) else "?"
        found.append((cls, name))
        if isinstance(cfg, dict):
            for layer in cfg.get("layers", []) or []:
                walk(layer)
            if isinstance(cfg.get("layer"), dict):  # wrappers (pruning, TimeDistributed)
                walk(cfg["layer"])

    walk(config)
    return found


def check_model_file(path: Path, trust_code: bool = False) -> None:
    """Raise HwgenError if the model file carries code or unknown custom objects (hwgen.modelgate)."""
    from hwgen.modelgate import check_model_file as gate

    gate(Path(path), trust_code=trust_code)


def custom_objects() -> dict:
    from hwgen.tfcompat import qkeras  # noqa: F401
    from qkeras.utils import _add_supported_quantized_objects

    objs: dict = {}
    _add_supported_quantized_objects(objs)
    return objs


def load_model(path: Path, trust_code: bool = False):
    """Load a (Q)Keras model after the safety check."""
    check_model_file(Path(path), trust_code=trust_code)
    from hwgen.tfcompat import tf

    try:
        return tf.keras.models.load_model(str(path), custom_objects=custom_objects(), compile=False, safe_mode=not trust_code)
    except TypeError:
        return tf.keras.models.load_model(str(path), custom_objects=custom_objects(), compile=False)
    except Exception as exc:  # noqa: BLE001 - any load failure is a user-facing problem with the file
        raise HwgenError(f"cannot load model {path}: {type(exc).__name__}: {exc}") from None


def save_model(model, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(str(path), include_optimizer=False)
    return path
