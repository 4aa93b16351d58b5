"""Compression methods beyond uniform bits and magnitude pruning, each carried to the same end
as every model: a QKeras model that hls4ml converts and that C-simulates bit-exact.

A method is an object with a `name` (its record's key in train.json / report.json) and five
hooks the train stage calls, in this order, for every active method (hwgen.train._fit):

    prepare(spec, ds, cctx) -> spec          before the model is built: choose widths
                                              (auto_quant), train a teacher (distillation)
    callbacks(spec, model, ds, cctx) -> list  Keras callbacks for the main training
                                              (structured pruning masks)
    fit(spec, model, ds, callbacks, cctx)     the main training, when a method replaces
        -> model | None                       model.fit (distillation's loss); None: not mine
    finalize(spec, model, ds, cctx)           after training, pruning wrappers stripped:
        -> (spec, model)                      factorize (low_rank), remove pruned units
                                              (structured), cluster (weight_sharing); each may
                                              fine-tune, and returns the spec of what it built
    record(cctx) -> dict                      what it changed: {"summary": {...},
                                              "layers": [{"layer": name, ...before/after}]}

The order of METHODS is the documented order in which methods combine: widths first, then
the training (structured pruning masks and distillation's loss act together), then the
transforms of the trained model from the coarsest to the finest (low-rank factorization,
removal of pruned units, weight sharing).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

# module, class: a method lives in its own module and is imported only when a spec uses it
METHODS: tuple[tuple[str, str], ...] = (
    ("hwgen.compress.auto_quant", "AutoQuant"),
    ("hwgen.compress.structured", "StructuredPruning"),
    ("hwgen.compress.distill", "Distillation"),
    ("hwgen.compress.low_rank", "LowRank"),
    ("hwgen.compress.weight_sharing", "WeightSharing"),
)


@dataclass
class CompressContext:
    """What the hooks share within one training: progress, and each method's record."""

    progress: Any = None
    records: dict[str, dict] = field(default_factory=dict)

    def update(self, text: str) -> None:
        if self.progress is not None:
            self.progress.update(text)


class Method:
    """Base class: every hook does nothing. A method overrides `active` and what it needs."""

    name = "method"

    def active(self, spec) -> bool:
        return False

    def prepare(self, spec, ds, cctx: CompressContext):
        return spec

    def callbacks(self, spec, model, ds, cctx: CompressContext) -> list:
        return []

    def fit(self, spec, model, ds, callbacks: list, cctx: CompressContext):
        return None

    def finalize(self, spec, model, ds, cctx: CompressContext):
        return spec, model

    def record(self, cctx: CompressContext) -> dict:
        return cctx.records.get(self.name, {})


def requested(spec) -> list[str]:
    """The method names a spec asks for (binary/ternary weights need none: they are quantizers)."""
    names = list(spec.compression.active())
    if spec.pruning.granularity != "weight" and spec.pruning.target_sparsity > 0:
        names.append("structured")
    return names


def active_methods(spec) -> list[Method]:
    """The methods this spec asks for, in METHODS order; a method that is asked for but not
    part of this build is an error, never a silent no-op."""
    from hwgen.errors import HwgenError

    out = []
    for module, cls in METHODS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue  # not built in this checkout
            raise
        method = getattr(mod, cls)()
        if method.active(spec):
            out.append(method)
    missing = set(requested(spec)) - {m.name for m in out}
    if missing:
        raise HwgenError(f"compression method(s) {', '.join(sorted(missing))} asked for by the spec are not "
                         "available in this build of hwgen")
    return out
