"""Automatic mixed precision: per-layer widths chosen by a greedy descent over `bits`.

The search unit is a fixed-point Dense/Conv2D layer together with the quantized ReLUs that
follow it (the activation feeding the next layer is what that layer's multipliers take, so
the two widths move together; a ReLU with no fixed-point weighted layer before it is a unit of
its own). Binary/ternary layers are what they are and are not searched.

Every candidate is the spec trained from the same seed (train.fit_plain) for `search_epochs`,
with the pruning schedule moved inside that short training by the same rule as --epochs
(spec.apply_overrides), on the training split minus a held-out validation part; accuracy is
measured on that validation part, never on the test split the report shows. The reference is
every unit at the widest width. Every uniform width is evaluated (for comparison, and as the
start): the descent starts from the uniform width with the fewest BOPs whose accuracy is within
`max_accuracy_drop` of the reference. Each round lowers every still-open unit by one step (one
training each) and keeps the candidate that saves the most BOPs per accuracy lost, provided its
accuracy stays within the budget; a unit whose one-step lowering breaks the budget is closed
(lowering it further, or lowering others, is assumed not to help it), which bounds the
trainings by units x steps. Identical candidates are trained once (training is deterministic).
"""

from __future__ import annotations

import dataclasses
import time
from fractions import Fraction

import numpy as np

from hwgen.compress import CompressContext, Method
from hwgen.errors import HwgenError
from hwgen.spec import ModelSpec, Precision

VALIDATION_FRACTION = 0.2


@dataclasses.dataclass(frozen=True)
class Unit:
    """Layers whose widths move together: a weighted layer (or None) and its ReLUs."""

    weighted: str | None
    relus: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return ((self.weighted,) if self.weighted else ()) + self.relus


def search_units(spec: ModelSpec) -> list[Unit]:
    units: list[list] = []
    current = None
    for layer in spec.layers:
        if layer.weight is not None:
            if layer.weight.type == "fixed":
                current = [layer.name, []]
                units.append(current)
            else:
                current = None  # binary/ternary: a ReLU after it is searched on its own
        elif layer.type == "relu":
            if current is None:
                current = [None, []]
                units.append(current)
            current[1].append(layer.name)
    return [Unit(w, tuple(r)) for w, r in units]


def with_widths(spec: ModelSpec, units: list[Unit], widths: dict[str, int]) -> ModelSpec:
    """The spec with each named layer at its width: weights and biases `bits`, integer bits
    kept and clipped to fit; ReLUs `bits`, integer clipped (the rule of spec.apply_overrides)."""
    per_layer = {name: widths[unit_key(u)] for u in units for name in u.names}

    def width(prec: Precision | None, bits: int) -> Precision | None:
        if prec is None or prec.type != "fixed":
            return prec
        return Precision(bits, min(prec.integer, bits - 1))

    layers = []
    for layer in spec.layers:
        bits = per_layer.get(layer.name)
        if bits is None:
            layers.append(layer)
        elif layer.type == "relu":
            layers.append(dataclasses.replace(layer, bits=bits, integer=min(layer.integer or 0, bits)))
        else:
            layers.append(dataclasses.replace(layer, weight=width(layer.weight, bits), bias=width(layer.bias, bits)))
    return dataclasses.replace(spec, layers=tuple(layers))


def unit_key(unit: Unit) -> str:
    return unit.weighted or unit.relus[0]


def validation_split(ds, seed: int):
    """(search dataset: training part as train, held-out part as test; number held out)."""
    from sklearn.model_selection import train_test_split

    _, counts = np.unique(ds.y_train, return_counts=True)
    strat = ds.y_train if counts.min() >= 2 and len(counts) <= VALIDATION_FRACTION * len(ds.y_train) else None
    Xa, Xv, ya, yv = train_test_split(ds.X_train, ds.y_train, test_size=VALIDATION_FRACTION, random_state=seed,
                                      stratify=strat)
    return dataclasses.replace(ds, X_train=Xa, y_train=ya, X_test=Xv, y_test=yv), len(yv)


class AutoQuant(Method):
    name = "auto_quant"

    def active(self, spec) -> bool:
        return spec.compression.auto_quant is not None

    def prepare(self, spec, ds, cctx: CompressContext):
        from hwgen.qmodel import layer_stats
        from hwgen.spec import apply_overrides
        from hwgen.train import fit_plain

        aq = spec.compression.auto_quant
        start = time.monotonic()
        units = search_units(spec)
        if not units:
            raise HwgenError("quantization.auto: the spec has no fixed-point dense/conv2d layer or quantized ReLU "
                             "whose width could be chosen")
        levels = aq.bits  # widest first (the parser sorted them)
        keys = [unit_key(u) for u in units]
        search_ds, n_val = validation_split(ds, spec.training.seed)
        base = apply_overrides(spec, epochs=aq.search_epochs)  # pruning schedule inside the short training
        cache: dict[tuple[int, ...], dict] = {}

        def evaluate(idx: tuple[int, ...]) -> dict:
            if idx not in cache:
                widths = {k: levels[i] for k, i in zip(keys, idx)}
                cctx.update(f"auto_quant: training {len(cache) + 1} "
                            f"({', '.join(f'{k} {b}' for k, b in widths.items())})")
                model = fit_plain(with_widths(base, units, widths), search_ds, None)
                logits = model.predict(search_ds.X_test, batch_size=2048, verbose=0)
                correct = int(np.sum(np.argmax(logits, axis=1) == search_ds.y_test))
                bops = float(sum(s.bops for s in layer_stats(model, spec.input_precision.bits)))
                cache[idx] = {"bits": widths, "correct": correct, "accuracy": correct / n_val, "bops": bops}
            return cache[idx]

        ref = evaluate(tuple(0 for _ in units))
        # the budget in validation samples, exact for a decimal budget such as 0.01
        allowed = Fraction(repr(aq.max_accuracy_drop)) * n_val

        def within(r: dict) -> bool:
            return ref["correct"] - r["correct"] <= allowed

        # Every uniform width first: the descent starts from the cheapest one within the budget, so
        # the chosen widths never cost more BOPs than the best uniform choice (short trainings are
        # noisy enough that a descent from the widest width can close a unit the uniform point lowers).
        uniform = [evaluate(tuple(j for _ in units)) for j in range(len(levels))]
        ok = [j for j, u in enumerate(uniform) if within(u)]  # j = 0 (the reference) always is
        start_j = min(ok, key=lambda j: (uniform[j]["bops"], -j))
        cur = tuple(start_j for _ in units)
        closed: set[int] = set()
        steps = []
        while True:
            best = None
            for i in range(len(units)):
                if i in closed or cur[i] + 1 >= len(levels):
                    continue
                trial = cur[:i] + (cur[i] + 1,) + cur[i + 1:]
                r = evaluate(trial)
                if not within(r):
                    closed.add(i)
                    continue
                here = cache[cur]
                saved = here["bops"] - r["bops"]
                if saved <= 0:  # narrower but no cheaper (more weights left non-zero): not a saving
                    continue
                # accuracy lost against the current point, at least one validation sample, so a free
                # step ranks by its BOPs saving alone
                lost = max(here["correct"] - r["correct"], 1)
                score = (saved / lost, -i)  # ties: the earlier layer
                if best is None or score > best[0]:
                    best = (score, trial, i)
            if best is None:
                break
            cur = best[1]
            steps.append({"lowered": keys[best[2]], "bits": dict(cache[cur]["bits"]),
                          "accuracy": cache[cur]["accuracy"], "bops": cache[cur]["bops"]})
        best_uniform = uniform[start_j]
        chosen = cache[cur]
        per_layer = {name: chosen["bits"][unit_key(u)] for u in units for name in u.names}

        def row(u: dict) -> dict:  # a uniform point: every unit at the same width
            return {"bits": next(iter(u["bits"].values())), "accuracy": u["accuracy"], "correct": u["correct"],
                    "bops": u["bops"]}

        by_name = {layer.name: layer for layer in spec.layers}
        cctx.records[self.name] = {
            "summary": {
                "reference_bits": levels[0], "reference_accuracy": ref["accuracy"], "reference_correct": ref["correct"],
                "reference_bops": ref["bops"],
                "chosen": per_layer, "accuracy": chosen["accuracy"], "correct": chosen["correct"], "bops": chosen["bops"],
                "max_accuracy_drop": aq.max_accuracy_drop, "n_validation": n_val, "search_epochs": aq.search_epochs,
                "uniform": [row(u) for u in uniform],
                "best_uniform_within_budget": row(best_uniform), "descent_from_bits": levels[start_j],
                "trainings": len(cache), "search_s": round(time.monotonic() - start, 3),
                "accuracy_on": f"validation split ({n_val} of the {len(ds.y_train)} training samples held out)",
            },
            "layers": [
                {"layer": name, "kind": "activation" if by_name[name].type == "relu" else "weight",
                 "bits_before": by_name[name].bits if by_name[name].type == "relu" else by_name[name].weight.bits,
                 "bits_after": per_layer[name]}
                for name in per_layer
            ],
            "steps": steps,
        }
        return with_widths(spec, units, chosen["bits"])
