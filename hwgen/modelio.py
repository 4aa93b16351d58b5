"""Saving and loading QKeras models, refusing model files that carry code.

A Keras .h5/.keras file with a Lambda layer stores Python bytecode, and unknown custom
objects would need user code to load: both are refused unless the user opts in with
`trust_code=True` (CLI: --trust-model-code). hwgen.modelgate reads the stored model config
as JSON and checks it before anything is deserialized; this module only loads and saves.
"""

from __future__ import annotations

from pathlib import Path

from hwgen.errors import HwgenError


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
