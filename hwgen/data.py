"""Datasets: load, validate, split and put the inputs on the input fixed-point grid.

Inputs are quantized once, here, to the precision the hardware input port has, so the QKeras
model, the C-simulation and the RTL simulation all see exactly the same numbers.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwgen.errors import HwgenError
from hwgen.spec import ModelSpec, Precision

JET_OPENML_NAME = "hls4ml_lhc_jets_hlf"
# The five classes of the OpenML jet dataset (its nominal 'class' attribute), in its order.
JET_CLASSES = ("g", "q", "t", "w", "z")


@dataclass(frozen=True)
class Dataset:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str  # where the data came from, for the report
    labels: tuple[str, ...] = ()
    synthetic: bool = False  # random inputs and labels: accuracy figures mean nothing


def quantize_to_grid(x: np.ndarray, p: Precision) -> np.ndarray:
    """Round half to even onto the signed fixed-point grid of `p`, saturating at its range."""
    frac = p.bits - 1 - p.integer
    scale = float(2.0**frac)
    lo, hi = -(2.0**p.integer), 2.0**p.integer - 1.0 / scale
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * scale) / scale, lo, hi).astype(np.float32)


def class_list(spec: ModelSpec) -> tuple[str, ...]:
    """The explicit class names string labels are mapped by (index = class number), or ()."""
    names = tuple(getattr(spec, "class_names", ()) or ())
    if not names and spec.dataset.name == "jet_hlf":
        names = JET_CLASSES
    return names


def labels_as_given(raw, spec: ModelSpec, what: str) -> np.ndarray:
    """Labels exactly as the file gives them: integers (or integer-valued numbers) are class
    numbers; strings are looked up in the explicit class list (spec `classes: [..]` or
    --classes) and refused without one. Nothing is renumbered."""
    y = np.asarray(raw)
    if y.dtype == object:
        raise HwgenError(f"{what}: labels are Python objects; store them as integers 0..{spec.n_classes - 1}")
    if y.dtype.kind in "US":
        texts = [v.decode() if isinstance(v, bytes) else str(v) for v in y.reshape(-1)]
        stripped = [t.strip() for t in texts]
        try:
            nums = np.array([float(t) for t in stripped]) if stripped else np.zeros(0)
        except ValueError:
            nums = None
        if nums is not None:
            if not np.all(np.isfinite(nums)) or not np.all(np.mod(nums, 1) == 0):
                raise HwgenError(f"{what}: labels must be integers 0..{spec.n_classes - 1}")
            return nums.astype(np.int64).reshape(y.shape)
        names = class_list(spec)
        distinct = sorted(set(stripped))
        if not names:
            shown = ", ".join(repr(t) for t in distinct[:6]) + (" ..." if len(distinct) > 6 else "")
            raise HwgenError(
                f"{what}: labels are strings ({shown}); hwgen does not guess their order. Give the class list "
                f"in order, as `classes: [..]` in the spec or --classes A,B,..."
            )
        index = {n: i for i, n in enumerate(names)}
        unknown = [t for t in distinct if t not in index]
        if unknown:
            raise HwgenError(f"{what}: label(s) {unknown[:6]} are not in the class list {list(names)}")
        return np.array([index[t] for t in stripped], dtype=np.int64).reshape(y.shape)
    if y.dtype.kind == "b":
        raise HwgenError(f"{what}: labels are booleans; store them as integers 0..{spec.n_classes - 1}")
    if not np.issubdtype(y.dtype, np.number) or np.iscomplexobj(y):
        raise HwgenError(f"{what}: labels must be integers 0..{spec.n_classes - 1}, got dtype {y.dtype}")
    return y


def _validate(X: np.ndarray, y: np.ndarray, spec: ModelSpec, what: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    if X.dtype == object or not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise HwgenError(f"{what}: X must be numeric (real), got dtype {X.dtype}")
    if X.ndim < 2 or len(X) == 0:
        raise HwgenError(f"{what}: X holds no samples (shape {list(X.shape)}); need one sample per row")
    y = labels_as_given(y, spec, what)
    if y.ndim == 2 and y.shape[1] == spec.n_classes:  # one-hot
        y = np.argmax(y, axis=1)
    if y.ndim != 1 or len(y) != len(X):
        raise HwgenError(f"{what}: y must be {len(X)} integer labels (or one-hot with {spec.n_classes} columns), got shape {y.shape}")
    if not np.all(np.isfinite(X)):
        bad = int(np.sum(~np.isfinite(X)))
        raise HwgenError(f"{what}: X holds {bad} NaN/inf values; clean or impute them first")
    expected = tuple(spec.input_shape)
    if X.shape[1:] != expected:
        if int(np.prod(X.shape[1:])) == int(np.prod(expected)):
            X = X.reshape((len(X), *expected))
        else:
            raise HwgenError(f"{what}: samples have shape {list(X.shape[1:])} but the model input is {list(expected)}")
    if not np.issubdtype(y.dtype, np.integer):
        if np.all(np.isfinite(y)) and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise HwgenError(f"{what}: labels must be integers 0..{spec.n_classes - 1}")
    if len(y) and (y.min() < 0 or y.max() >= spec.n_classes):
        raise HwgenError(f"{what}: labels must lie in 0..{spec.n_classes - 1}, found {y.min()}..{y.max()}")
    return X.astype(np.float32), y.astype(np.int64)


def _split(X, y, spec: ModelSpec, seed: int):
    from sklearn.model_selection import train_test_split

    classes, counts = np.unique(y, return_counts=True)
    strat = y if counts.min() >= 2 else None
    return train_test_split(X, y, test_size=spec.dataset.test_fraction, random_state=seed, stratify=strat)


def _load_digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data / 16.0, d.target, "scikit-learn load_digits (1797 real 8x8 images, pixels/16)"


def _read_table(path: Path, spec: ModelSpec):
    """CSV with a header: numeric feature columns and a label column ('class' or the last one).
    Labels are kept as given (see labels_as_given), never renumbered by sorting."""
    try:
        with open(path, newline="") as fh:
            rows = [r for r in csv.reader(fh) if r]
    except UnicodeDecodeError as exc:
        raise HwgenError(f"{path}: not a text CSV file ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise HwgenError(f"{path}: malformed CSV ({exc})") from None
    if len(rows) < 2:
        raise HwgenError(f"{path}: expected a header row and data rows")
    header, body = rows[0], rows[1:]
    label_col = header.index("class") if "class" in header else len(header) - 1
    bad = [i + 2 for i, r in enumerate(body) if len(r) != len(header)]
    if bad:
        raise HwgenError(f"{path}: row(s) {bad[:5]} have a different number of columns than the header ({len(header)})")
    try:
        X = np.array([[float(v) for i, v in enumerate(r) if i != label_col] for r in body], dtype=np.float64)
    except ValueError as exc:
        raise HwgenError(f"{path}: non-numeric feature value ({exc})") from None
    y = np.array([r[label_col] for r in body])
    return X, y, list(class_list(spec))


def _load_jet(spec: ModelSpec, path: str | None):
    if path:
        return _load_file(Path(path), spec)
    try:
        from sklearn.datasets import fetch_openml

        bunch = fetch_openml(name=JET_OPENML_NAME, version=1, as_frame=False, parser="liac-arff", download_if_missing=False)
    except Exception as exc:  # noqa: BLE001 - any failure means: not available offline
        raise HwgenError(
            f"the jet dataset (OpenML '{JET_OPENML_NAME}') is not available offline ({type(exc).__name__}). "
            "Pass --data FILE (.npz with X and y, or a CSV export with a 'class' column), or put an sklearn "
            "OpenML cache in ~/scikit_learn_data; to build the hardware without data, add --untrained"
        ) from None
    y = labels_as_given(np.asarray(bunch.target).astype(str), spec, f"OpenML {JET_OPENML_NAME}")
    return bunch.data.astype(np.float64), y, f"OpenML {JET_OPENML_NAME} (sklearn cache)", list(class_list(spec))


def _load_file(path: Path, spec: ModelSpec):
    if not path.is_file():
        raise HwgenError(f"data file {path} does not exist")
    if path.suffix == ".npz":
        try:
            z = np.load(path, allow_pickle=False)
            if not hasattr(z, "files"):
                raise HwgenError(f"{path} holds a single array, not an .npz archive with arrays X and y")
            keys = set(z.files)

            def get(k):
                return z[k]

            names = list(class_list(spec))
            if {"X_train", "y_train", "X_test", "y_test"} <= keys:
                return (get("X_train"), get("y_train"), get("X_test"), get("y_test")), None, f"file {path.name} (given split)", names
            if {"X", "y"} <= keys:
                return get("X"), get("y"), f"file {path.name}", names
            if {"X_test", "y_test"} <= keys:
                return (None, None, get("X_test"), get("y_test")), None, f"file {path.name} (test split only)", names
        except HwgenError:
            raise
        except (ValueError, OSError, EOFError, KeyError) as exc:
            raise HwgenError(f"cannot read {path} as a numpy .npz (object arrays are refused): {' '.join(str(exc).split())}") from None
        except Exception as exc:  # noqa: BLE001 - zipfile/zlib errors of a damaged archive
            raise HwgenError(f"cannot read {path} as a numpy .npz: {type(exc).__name__}: {' '.join(str(exc).split())}") from None
        raise HwgenError(f"{path} must hold arrays X and y, or X_train/y_train/X_test/y_test (found {sorted(keys)})")
    if path.suffix == ".csv":
        X, y, names = _read_table(path, spec)
        return X, y, f"file {path.name}", names
    raise HwgenError(f"data file {path} must be .npz or .csv")


def load_dataset(spec: ModelSpec, data_path: str | None = None, seed: int | None = None) -> Dataset:
    """Load the spec's dataset (or the user's file), split it and quantize the inputs."""
    seed = spec.training.seed if seed is None else seed
    name = "npz" if data_path and spec.dataset.name in ("digits", "synthetic") else spec.dataset.name
    path = data_path or spec.dataset.path
    labels: list[str] = []
    if name == "digits":
        X, y, source = _load_digits()
    elif name == "jet_hlf":
        X, y, source, labels = _load_jet(spec, path)
    elif name == "synthetic":
        return synthetic_dataset(spec, spec.dataset.n_samples, seed)
    else:
        if not path:
            raise HwgenError(f"dataset '{name}' needs a file: pass --data FILE.npz")
        X, y, source, labels = _load_file(Path(path), spec)
    if isinstance(X, tuple):  # a file with its own split
        Xtr, ytr, Xte, yte = X
        if Xtr is None:
            raise HwgenError(f"{path}: holds only a test split; training needs X_train/y_train (or pass a model file)")
        Xtr, ytr = _validate(Xtr, ytr, spec, f"{path} (train)")
        Xte, yte = _validate(Xte, yte, spec, f"{path} (test)")
    else:
        X, y = _validate(X, y, spec, source)
        if len(X) < 10:
            raise HwgenError(f"{source}: only {len(X)} samples; need at least 10 to train and test")
        Xtr, Xte, ytr, yte = _split(X, y, spec, seed)
    if spec.dataset.standardize:
        mean = Xtr.mean(axis=0)
        std = Xtr.std(axis=0)
        std[std == 0] = 1.0
        Xtr, Xte = (Xtr - mean) / std, (Xte - mean) / std
    return Dataset(
        X_train=quantize_to_grid(Xtr, spec.input_precision),
        y_train=ytr,
        X_test=quantize_to_grid(Xte, spec.input_precision),
        y_test=yte,
        source=source,
        labels=tuple(labels),
    )


def synthetic_dataset(spec: ModelSpec, n: int, seed: int) -> Dataset:
    """Seeded random inputs on the input grid (for building hardware without data): accuracy
    figures on it are meaningless and reported as such; bit-exactness checks are not."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, size=(n, *spec.input_shape))
    y = rng.integers(0, spec.n_classes, size=n)
    Xq = quantize_to_grid(X, spec.input_precision)
    half = n // 2
    return Dataset(Xq[:half], y[:half], Xq[half:], y[half:], source=f"synthetic N(0,1) inputs, seed {seed}", synthetic=True)


def load_user_data(path: Path, spec_like: ModelSpec) -> Dataset:
    """Test data for a user's model file (--data): X_test/y_test or X/y (all used as test)."""
    path = Path(path)
    loaded = _load_file(path, spec_like)
    X, y, source = loaded[0], loaded[1], loaded[2]
    if isinstance(X, tuple):
        X, y = X[2], X[3]
    X, y = _validate(X, y, spec_like, str(path))
    Xq = quantize_to_grid(X, spec_like.input_precision)
    return Dataset(Xq[:0], y[:0], Xq, y, source=source)
