"""The spec that describes a user's own model file (`--model-file`), shared by the CLI and the
Python API. The file is checked (no code runs from it) and its hardware form is checked before
any heavy work: an unsupported construct is refused here, by name."""

from __future__ import annotations

import re
from pathlib import Path

from hwgen.errors import HwgenError
from hwgen.spec import DatasetSpec, ModelSpec, Precision


def spec_for_model_file(path: Path, data: str | None, *, input_bits: int = 16, input_integer: int = 5,
                        trust_model_code: bool = False) -> ModelSpec:
    from hwgen.modelio import check_model_file, load_model

    path = Path(path)
    check_model_file(path, trust_code=trust_model_code)
    model = _quietly(load_model, path, trust_code=trust_model_code)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise HwgenError(f"{path}: hwgen takes models with one input and one output")
    out_shape = model.output_shape
    if len(out_shape) != 2:
        raise HwgenError(f"{path}: the output must be a vector of class scores (got shape {out_shape})")
    from hwgen.hwform import check_hardware_form

    check_hardware_form(model, str(path))  # refuses unsupported constructs before any heavy work
    name = re.sub(r"[^A-Za-z0-9_-]", "_", path.stem) or "model"
    return ModelSpec(
        name=name,
        dataset=DatasetSpec(name="npz", path=data),
        input_shape=tuple(int(s) for s in model.input_shape[1:]),
        input_precision=Precision(input_bits, input_integer),
        layers=(),
        n_classes=int(out_shape[-1]),
        description=f"user model file {path.name}",
        source_path=str(path),
    )


def _quietly(fn, *args, **kwargs):
    """Call fn with TensorFlow's Python logger and Keras warnings muted: this load happens before
    a run directory exists to keep their lines in (the train stage loads the model again, with
    its output in RUN/logs/train.log)."""
    import logging
    import warnings

    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    finally:
        logger.setLevel(level)
