"""The sweep file: which model, which axes, which synthesis source; strict parsing and the
expansion into points.

    name: digits_sweep              # optional (default: the file name); the default --out is runs/<name>
    description: ...                # optional
    model: digits_mlp               # zoo name, or a spec path (relative to this file), or an inline spec mapping
    data: my.npz                    # optional data file for the model's dataset (relative to this file)
    epochs: 10                      # optional: override the spec's training epochs for every point
    board: pynq-z2                  # optional default board (else pynq-z2)
    synth: [estimate]               # synthesis sources: estimate (default), open, vendor, auto, none
    clock_mhz: 100                  # optional target clock (default: the board's)
    accuracy: csim                  # the accuracy the Pareto fronts use: csim (default) or qkeras
    rtl_samples: 300                # samples simulated at RTL level by the open path
    timeout_s: 3600                 # time limit per synthesis tool run
    axes:                           # a grid: every combination
      bits: [4, 6, 8]               # weight + bias + activation width (integer bits kept)
      sparsity: [0.0, 0.5, 0.75]
      reuse_factor: [1, 4]
    points:                         # and/or an explicit list (each point: axis -> value)
      - {weight_bits: 8, activation_bits: 4, sparsity: 0.9}

Axes: bits, weight_bits, activation_bits, sparsity, seed, epochs (they change the trained model)
and reuse_factor, strategy, io_type, backend, board (hardware only: points that differ only in
these share one trained model). An axis not given takes the model spec's value.

Every point is identified by a hash of everything that determines its result (the full model
spec after the overrides, the board, clock and synthesis sources, the data file's content and
the hwgen version), so a sweep directory can be resumed and extended: a point whose record is
already there is never recomputed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hwgen import __version__
from hwgen.errors import HwgenError
from hwgen.spec import BACKENDS, IO_TYPES, STRATEGIES, ModelSpec, parse_spec

# `method` names an entry of the sweep file's `methods:` (compression keys laid over the model
# spec: pruning granularity, distillation, low_rank, weight_sharing, quantization.auto, ...).
TRAIN_AXES = ("method", "bits", "weight_bits", "activation_bits", "sparsity", "seed", "epochs")
HW_AXES = ("reuse_factor", "strategy", "io_type", "backend", "board")
AXES = TRAIN_AXES + HW_AXES
TOP_KEYS = (
    "name", "description", "model", "data", "epochs", "board", "synth", "clock_mhz", "accuracy",
    "rtl_samples", "timeout_s", "axes", "points", "methods",
)
BASELINE_METHOD = "baseline"  # the model spec as it is (always defined)
SYNTH_SOURCES = ("estimate", "open", "vendor", "auto", "none")
ACCURACY_CHOICES = ("csim", "qkeras")
DEFAULT_BOARD = "pynq-z2"

_SHORT = {"sparsity": "s", "seed": "seed", "epochs": "e", "reuse_factor": "rf"}
_WORDS = {"latency": "lat", "resource": "res", "io_parallel": "par", "io_stream": "stream"}


@dataclass(frozen=True)
class SweepConfig:
    name: str
    model_ref: str  # what `model:` said (a zoo name, a path, or '<inline>')
    model_raw: dict  # the model spec as YAML data (parse_spec input), kept so the sweep dir is self-contained
    base: ModelSpec
    description: str = ""
    data: str | None = None  # resolved data file path
    epochs: int | None = None
    board: str = DEFAULT_BOARD
    synth: tuple[str, ...] = ("estimate",)
    clock_mhz: float | None = None
    accuracy: str = "csim"
    rtl_samples: int = 300
    timeout_s: float = 3600.0
    axes: dict[str, tuple] = dataclasses.field(default_factory=dict)  # canonical order of AXES
    points: tuple[dict, ...] = ()
    source: str | None = None
    methods: dict[str, dict] = dataclasses.field(default_factory=dict)  # name -> spec keys laid over the model

    def to_dict(self) -> dict:
        """The normalized sweep file (what `SWEEP_DIR/sweep.yaml` holds): self-contained, the
        model spec inline and the data path absolute."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["model"] = self.model_raw
        if self.data:
            out["data"] = self.data
        if self.epochs is not None:
            out["epochs"] = self.epochs
        out.update({"board": self.board, "synth": list(self.synth)})
        if self.clock_mhz is not None:
            out["clock_mhz"] = self.clock_mhz
        out.update({"accuracy": self.accuracy, "rtl_samples": self.rtl_samples, "timeout_s": self.timeout_s})
        if self.axes:
            out["axes"] = {k: list(v) for k, v in self.axes.items()}
        if self.points:
            out["points"] = [dict(p) for p in self.points]
        if self.methods:
            out["methods"] = {k: dict(v) for k, v in self.methods.items()}
        return out

    def method_spec(self, method: str | None) -> ModelSpec:
        """The model spec of one compression method (the base spec for 'baseline')."""
        if method in (None, BASELINE_METHOD):
            return self.base
        # source: the sweep file, so that a method's relative paths (a distillation teacher) are
        # found beside it
        return parse_spec(overlay(self.model_raw, self.methods[method]), source=self.source or f"methods.{method}")


@dataclass
class Point:
    """One design point: the model spec after the overrides plus the hardware settings."""

    params: dict[str, Any]  # every axis -> its value for this point (spec defaults filled in)
    given: dict[str, Any]  # the axis values the sweep file set for it
    spec: ModelSpec
    board: str
    synth: tuple[str, ...]  # resolved sources ('auto' expanded)
    clock_mhz: float | None
    train_key: str
    hash: str
    label: str = ""
    model_label: str = ""  # the label's training part: names the shared trained model

    @property
    def id(self) -> str:
        return self.hash[:16]

    @property
    def model_id(self) -> str:
        return self.train_key[:16]

    @property
    def run_name(self) -> str:
        return f"{self.label}-{self.hash[:8]}" if self.label else self.hash[:16]


# ---------------------------------------------------------------------------------------------
# parsing


def _err(where: str, msg: str) -> HwgenError:
    return HwgenError(f"sweep {where}: {msg}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def overlay(base: dict, changes: dict) -> dict:
    """`base` with `changes` laid over it, mappings merged key by key (lists replaced)."""
    out = dict(base)
    for k, v in changes.items():
        out[k] = overlay(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _check_axis_value(where: str, axis: str, v: Any) -> Any:
    if axis == "method":
        if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", v):
            raise _err(where, f"must be a method name defined under 'methods:' (or {BASELINE_METHOD!r}), got {v!r}")
        return v
    if axis in ("bits", "weight_bits", "activation_bits"):
        if not _is_int(v) or not 2 <= v <= 32:
            raise _err(where, f"must be an integer in [2, 32], got {v!r}")
        return v
    if axis == "sparsity":
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 0.99:
            raise _err(where, f"must be a number in [0, 0.99], got {v!r}")
        return float(v)
    if axis == "seed":
        if not _is_int(v) or not 0 <= v < 2**31:
            raise _err(where, f"must be an integer in [0, 2**31), got {v!r}")
        return v
    if axis == "epochs":
        if not _is_int(v) or not 1 <= v <= 10000:
            raise _err(where, f"must be an integer in [1, 10000], got {v!r}")
        return v
    if axis == "reuse_factor":
        if not _is_int(v) or not 1 <= v <= 4096:
            raise _err(where, f"must be an integer in [1, 4096], got {v!r}")
        return v
    if axis == "strategy":
        if not isinstance(v, str) or v.lower() not in STRATEGIES:
            raise _err(where, f"must be one of {list(STRATEGIES)}, got {v!r}")
        return v.lower()
    if axis == "io_type":
        if v not in IO_TYPES:
            raise _err(where, f"must be one of {list(IO_TYPES)}, got {v!r}")
        return v
    if axis == "backend":
        if v not in BACKENDS:
            raise _err(where, f"must be one of {list(BACKENDS)}, got {v!r}")
        return v
    if axis == "board":
        if not isinstance(v, str) or not v:
            raise _err(where, f"must be a board name (see `hwgen boards`), got {v!r}")
        from hwgen.boards import load_board

        try:
            return load_board(v).name
        except HwgenError as exc:
            raise _err(where, str(exc)) from None
    raise _err(where, f"unknown axis {axis!r}; axes: {list(AXES)}")  # pragma: no cover


def _check_combo(where: str, values: dict) -> None:
    if "bits" in values and ({"weight_bits", "activation_bits"} & set(values)):
        raise _err(where, "'bits' sets weight and activation widths together; do not combine it with weight_bits/activation_bits")


def _resolve_model(ref: Any, base_dir: Path) -> tuple[str, dict, str]:
    """(reference, raw spec mapping, source) for `model:`."""
    from hwgen.resources import data_dir
    from hwgen.spec import load_yaml, zoo_names

    if isinstance(ref, dict):
        return "<inline>", ref, "<inline model spec>"
    if not isinstance(ref, str) or not ref:
        raise _err("model", f"must be a zoo model name, a spec file path or an inline spec mapping, got {ref!r}")
    candidates = [base_dir / ref, Path(ref)] if not Path(ref).is_absolute() else [Path(ref)]
    for path in candidates:
        if path.is_file():
            raw = load_yaml(path)
            return ref, raw, str(path.resolve())
    zoo = data_dir("models") / f"{ref}.yaml"
    if zoo.is_file() and not ref.endswith((".yaml", ".yml")):
        return ref, load_yaml(zoo), str(zoo)
    raise _err("model", f"{ref!r} is neither a spec file (looked in {base_dir} and the current directory) nor a zoo model ({', '.join(zoo_names())})")


def parse_sweep(raw: Any, source: str | None = None, base_dir: Path | None = None) -> SweepConfig:
    """Validate the sweep mapping; every error names the key and what is allowed."""
    base_dir = Path(base_dir) if base_dir else Path.cwd()
    if not isinstance(raw, dict):
        raise _err("(top level)", f"must be a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise _err("(top level)", f"unknown key(s) {unknown}; allowed: {sorted(TOP_KEYS)}")
    if "model" not in raw:
        raise _err("(top level)", "missing required key 'model' (a zoo name such as digits_mlp, or a spec file)")
    if "axes" not in raw and "points" not in raw:
        raise _err("(top level)", "give 'axes' (a grid) and/or 'points' (an explicit list)")

    default_name = Path(source).stem if source else "sweep"
    name = raw.get("name", default_name)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
        raise _err("name", f"must hold only letters, digits, '_', '.' and '-', got {name!r}")
    description = raw.get("description", "") or ""
    if not isinstance(description, str):
        raise _err("description", "must be a string")

    model_ref, model_raw, model_src = _resolve_model(raw["model"], base_dir)
    try:
        base = parse_spec(model_raw, source=model_src)
    except HwgenError as exc:
        raise _err("model", f"{model_src}: {exc}") from None

    data = raw.get("data")
    if data is not None:
        if not isinstance(data, str) or not data:
            raise _err("data", f"must be a file path, got {data!r}")
        path = base_dir / data if not Path(data).is_absolute() else Path(data)
        if not path.is_file():
            path = Path(data)
        if not path.is_file():
            raise _err("data", f"file {data!r} does not exist (looked in {base_dir} and the current directory)")
        data = str(path.resolve())

    epochs = raw.get("epochs")
    if epochs is not None:
        epochs = _check_axis_value("epochs", "epochs", epochs)
    board = _check_axis_value("board", "board", raw.get("board", DEFAULT_BOARD))

    synth_raw = raw.get("synth", ["estimate"])
    if isinstance(synth_raw, str):
        synth_raw = [s.strip() for s in synth_raw.split(",") if s.strip()]
    if not isinstance(synth_raw, list) or not synth_raw:
        raise _err("synth", f"must be a list of sources from {list(SYNTH_SOURCES)}, got {synth_raw!r}")
    for i, s in enumerate(synth_raw):
        if s not in SYNTH_SOURCES:
            raise _err(f"synth[{i}]", f"must be one of {list(SYNTH_SOURCES)}, got {s!r}")
    synth = tuple(dict.fromkeys(synth_raw))
    if "none" in synth and len(synth) > 1:
        raise _err("synth", "'none' cannot be combined with other sources")

    clock = raw.get("clock_mhz")
    if clock is not None and (isinstance(clock, bool) or not isinstance(clock, (int, float)) or not 1 <= clock <= 2000):
        raise _err("clock_mhz", f"must be a number in [1, 2000] MHz, got {clock!r}")
    accuracy = raw.get("accuracy", "csim")
    if accuracy not in ACCURACY_CHOICES:
        raise _err("accuracy", f"must be one of {list(ACCURACY_CHOICES)}, got {accuracy!r}")
    rtl_samples = raw.get("rtl_samples", 300)
    if not _is_int(rtl_samples) or rtl_samples < 1:
        raise _err("rtl_samples", f"must be a positive integer, got {rtl_samples!r}")
    timeout_s = raw.get("timeout_s", 3600.0)
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0:
        raise _err("timeout_s", f"must be a positive number of seconds, got {timeout_s!r}")

    axes: dict[str, tuple] = {}
    axes_raw = raw.get("axes") or {}
    if not isinstance(axes_raw, dict):
        raise _err("axes", f"must be a mapping of axis -> list of values, got {type(axes_raw).__name__}")
    bad = sorted(set(axes_raw) - set(AXES))
    if bad:
        raise _err("axes", f"unknown axis/axes {bad}; allowed: {list(AXES)}")
    for axis in AXES:  # canonical order: training axes first, so points sharing a model are adjacent
        if axis not in axes_raw:
            continue
        values = axes_raw[axis]
        if not isinstance(values, list):
            values = [values]
        if not values:
            raise _err(f"axes.{axis}", "must list at least one value")
        checked = [_check_axis_value(f"axes.{axis}[{i}]", axis, v) for i, v in enumerate(values)]
        dupes = sorted({str(v) for v in checked if checked.count(v) > 1})
        if dupes:
            raise _err(f"axes.{axis}", f"lists {', '.join(dupes)} more than once")
        axes[axis] = tuple(checked)
    _check_combo("axes", axes)

    points: list[dict] = []
    points_raw = raw.get("points") or []
    if not isinstance(points_raw, list):
        raise _err("points", "must be a list of mappings (axis -> value)")
    for i, p in enumerate(points_raw):
        where = f"points[{i}]"
        if not isinstance(p, dict) or not p:
            raise _err(where, f"must be a non-empty mapping of axis -> value, got {p!r}")
        bad = sorted(set(p) - set(AXES))
        if bad:
            raise _err(where, f"unknown axis/axes {bad}; allowed: {list(AXES)}")
        checked = {axis: _check_axis_value(f"{where}.{axis}", axis, p[axis]) for axis in AXES if axis in p}
        _check_combo(where, checked)
        points.append(checked)
    if not axes and not points:
        raise _err("axes", "the sweep has no points: give at least one axis value or one entry under 'points'")

    methods_raw = raw.get("methods") or {}
    if not isinstance(methods_raw, dict):
        raise _err("methods", "must be a mapping of method name -> spec keys to lay over the model spec")
    methods: dict[str, dict] = {}
    for mname, changes in methods_raw.items():
        _check_axis_value(f"methods.{mname}", "method", mname)
        if mname == BASELINE_METHOD:
            raise _err(f"methods.{mname}", f"{BASELINE_METHOD!r} is the model spec as it is; do not define it")
        if not isinstance(changes, dict) or not changes:
            raise _err(f"methods.{mname}", "must be a non-empty mapping of spec keys (e.g. {low_rank: {layers: [fc1], rank: 8}})")
        try:
            parse_spec(overlay(model_raw, changes), source=source or f"methods.{mname}")
        except HwgenError as exc:
            raise _err(f"methods.{mname}", str(exc)) from None
        methods[mname] = changes
    used = set(axes.get("method", ())) | {p["method"] for p in points if "method" in p}
    unknown_methods = sorted(used - set(methods) - {BASELINE_METHOD})
    if unknown_methods:
        raise _err("method", f"names {unknown_methods} not defined under 'methods:' (defined: {sorted(methods)})")

    return SweepConfig(
        name=name, model_ref=model_ref, model_raw=model_raw, base=base, description=description,
        data=data, epochs=epochs, board=board, synth=synth, clock_mhz=float(clock) if clock is not None else None,
        accuracy=accuracy, rtl_samples=rtl_samples, timeout_s=float(timeout_s), axes=axes, points=tuple(points),
        source=source, methods=methods,
    )


def load_sweep(path: str | Path, *, epochs: int | None = None, synth: tuple[str, ...] | None = None) -> SweepConfig:
    """Read and validate a sweep file; `epochs` / `synth` override what it says (CLI flags)."""
    path = Path(path)
    if not path.is_file():
        raise HwgenError(f"sweep file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise HwgenError(f"sweep file {path} is not valid YAML: {exc}") from None
    if isinstance(raw, dict):
        raw = dict(raw)
        if epochs is not None:
            raw["epochs"] = epochs
        if synth is not None:
            raw["synth"] = list(synth)
    try:
        return parse_sweep(raw, source=str(path), base_dir=path.resolve().parent)
    except HwgenError as exc:
        raise HwgenError(f"{path}: {exc}") from None


# ---------------------------------------------------------------------------------------------
# points


def apply_point(base: ModelSpec, values: dict, default_epochs: int | None = None) -> ModelSpec:
    """The base spec with one point's training and HLS values applied (the same rule as the
    command-line overrides of `hwgen flow`: hwgen.spec.apply_overrides)."""
    from hwgen.spec import apply_overrides

    return apply_overrides(
        base, seed=values.get("seed"), epochs=values.get("epochs", default_epochs), sparsity=values.get("sparsity"),
        hls={k: values[k] for k in ("strategy", "reuse_factor", "io_type", "backend") if k in values},
        weight_bits=values.get("weight_bits", values.get("bits")),
        activation_bits=values.get("activation_bits", values.get("bits")),
    )


def _widths(spec: ModelSpec) -> tuple[Any, Any]:
    w = sorted({layer.weight.bits for layer in spec.layers if layer.weight is not None})
    a = sorted({layer.bits for layer in spec.layers if layer.type == "relu" and layer.bits is not None})

    def one(vals):
        return None if not vals else (vals[0] if len(vals) == 1 else "/".join(str(v) for v in vals))

    return one(w), one(a)


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _file_digest(path: str | None) -> str | None:
    if not path:
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def train_key(spec: ModelSpec, data_digest: str | None) -> str:
    """Hash of everything that determines the trained model (not the HLS settings)."""
    d = spec.to_dict()
    d.pop("hls", None)
    d.pop("description", None)
    return _digest({"kind": "hwgen-sweep-model", "spec": d, "data": data_digest, "hwgen": __version__})


def point_hash(tkey: str, spec: ModelSpec, board: str, synth: tuple[str, ...], clock_mhz: float | None,
               rtl_samples: int) -> str:
    hw = {
        "kind": "hwgen-sweep-point", "train_key": tkey, "hls": dataclasses.asdict(spec.hls), "board": board,
        "clock_mhz": clock_mhz, "synth": list(synth), "hwgen": __version__,
    }
    if "open" in synth:
        hw["rtl_samples"] = rtl_samples
    return _digest(hw)


def resolve_sources(requested: tuple[str, ...], board: str) -> tuple[str, ...]:
    """'auto' expanded for this board, as `hwgen flow --synth` does; () for 'none'."""
    from hwgen.boards import load_board
    from hwgen.synth.sources import resolve_synth

    return tuple(resolve_synth(tuple(requested), load_board(board)))


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return _WORDS.get(v, str(v)) if isinstance(v, str) else str(v)


def expand_points(cfg: SweepConfig) -> list[Point]:
    """Grid (every combination of `axes`) followed by the explicit `points`; duplicates removed."""
    combos: list[dict] = []
    if cfg.axes:
        names = list(cfg.axes)
        for values in itertools.product(*(cfg.axes[n] for n in names)):
            combos.append(dict(zip(names, values)))
    combos += [dict(p) for p in cfg.points]
    data_digest = _file_digest(cfg.data)
    sources_cache: dict[str, tuple[str, ...]] = {}
    method_specs: dict[str, ModelSpec] = {}
    out: list[Point] = []
    seen: set[str] = set()
    for given in combos:
        board = given.get("board", cfg.board)
        method = given.get("method", BASELINE_METHOD)
        if method not in method_specs:  # one parse per method, not per point
            method_specs[method] = cfg.method_spec(method)
        spec = apply_point(method_specs[method], given, cfg.epochs)
        if board not in sources_cache:
            sources_cache[board] = resolve_sources(cfg.synth, board)
        synth = sources_cache[board]
        tkey = train_key(spec, data_digest)
        h = point_hash(tkey, spec, board, synth, cfg.clock_mhz, cfg.rtl_samples)
        if h in seen:
            continue
        seen.add(h)
        wbits, abits = _widths(spec)
        params = {
            "method": given.get("method", BASELINE_METHOD), "weight_bits": wbits, "activation_bits": abits, "sparsity": spec.pruning.target_sparsity,
            "seed": spec.training.seed, "epochs": spec.training.epochs, "reuse_factor": spec.hls.reuse_factor,
            "strategy": spec.hls.strategy, "io_type": spec.hls.io_type, "backend": spec.hls.backend, "board": board,
        }
        out.append(Point(params=params, given=given, spec=spec, board=board, synth=synth, clock_mhz=cfg.clock_mhz,
                         train_key=tkey, hash=h))
    _label(out)
    return out


_LABEL_KEYS = ("method", "bits", "sparsity", "seed", "epochs", "reuse_factor", "strategy", "io_type", "backend", "board")
_LABEL_TRAIN = {"method", "bits", "sparsity", "seed", "epochs"}


def _label(points: list[Point]) -> None:
    """Readable, unique labels from the values that differ between the points (b6_s0.5_rf4;
    w8a4 where weight and activation widths differ)."""

    def values(p: Point) -> dict:
        v = {k: p.params.get(k) for k in _LABEL_KEYS if k != "bits"}
        v["bits"] = (p.params["weight_bits"], p.params["activation_bits"])
        return v

    vals = [values(p) for p in points]
    varying = [k for k in _LABEL_KEYS if len({str(v[k]) for v in vals}) > 1]
    same_width = all(v["bits"][0] == v["bits"][1] for v in vals)

    def text(v: dict, keys: list[str]) -> str:
        parts = []
        for k in keys:
            if k == "bits":
                w, a = v["bits"]
                parts.append(f"b{w}" if same_width else f"w{w}a{a}")
            else:
                parts.append(f"{_SHORT.get(k, '')}{_fmt_value(v[k])}")
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(parts)) or "base"

    for p, v in zip(points, vals):
        p.label = text(v, varying)
        p.model_label = text(v, [k for k in varying if k in _LABEL_TRAIN])
