"""The one place where report figures are derived: resource aliases, the fidelity order of
synthesis kinds, number formatting, the FPGA figures of a synthesis result, the FPGA-vs-software
comparison rows, and the flat per-point metrics a sweep records.

Markdown, HTML, plots, the CLI summary and the sweep all read resources through
`resource()` / `RESOURCE_ALIASES` instead of naming vendor keys themselves, so a vendor's key
(Lattice `lut4`, Intel `alut`, ...) is mapped once, here.

Every function takes a `hwgen.results.SynthResult` or its dict (report.json's form).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from hwgen.results import RESOURCE_KEYS, SYNTH_KINDS, SynthResult

if TYPE_CHECKING:  # pragma: no cover
    from hwgen.report.model import Report

# Canonical resource -> the per-vendor keys (hwgen.results.RESOURCE_KEYS) that count as it, in
# order of preference. Xilinx: lut, ff, dsp, bram_18k; Lattice: lut4, ff, mult18, ebr;
# Intel: alut, ff, dsp, ram.
RESOURCE_ALIASES: dict[str, tuple[str, ...]] = {
    "lut": ("lut", "lut4", "alut"),
    "ff": ("ff",),
    "dsp": ("dsp", "mult18"),
    "bram": ("bram_18k", "ebr", "ram"),
}
assert all(k in RESOURCE_KEYS for keys in RESOURCE_ALIASES.values() for k in keys)

# Display names of the resource keys, in the order tables and plots show them.
RESOURCE_LABELS = {
    "lut": "LUT", "lut4": "LUT4", "alut": "ALUT", "ff": "FF", "carry": "CARRY", "dsp": "DSP", "mult18": "MULT18",
    "bram_18k": "BRAM18K", "ebr": "EBR", "uram": "URAM", "ram": "RAM", "mlab": "MLAB",
}
assert set(RESOURCE_LABELS) == set(RESOURCE_KEYS)

# Synthesis kinds from the most to the least faithful: a vendor report read back, a placed design
# (nextpnr), a synthesized netlist (Yosys), an estimate.
FIDELITY: tuple[str, ...] = ("parsed", "placed", "synthesized", "estimate")
assert set(FIDELITY) == set(SYNTH_KINDS)

NOT_MEASURED = "–"


def synth_dict(synth: SynthResult | Mapping) -> dict:
    """A synthesis result as report.json's dict (SynthResult or dict accepted)."""
    return synth.to_dict() if isinstance(synth, SynthResult) else dict(synth or {})


def fidelity_rank(kind: str | None) -> int:
    """Higher is more faithful: parsed 3, placed 2, synthesized 1, estimate 0; unknown -1."""
    return len(FIDELITY) - 1 - FIDELITY.index(kind) if kind in FIDELITY else -1


def by_fidelity(synth: Iterable):
    """The synthesis results sorted most faithful first (stable within a kind)."""
    return sorted(synth, key=lambda s: -fidelity_rank(_get(s, "kind")))


def _get(s: Any, key: str) -> Any:
    return getattr(s, key, None) if isinstance(s, SynthResult) else (s or {}).get(key)


def num(value: Any) -> float | None:
    """A finite float, or None (None, text, NaN, inf)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def first(d: Mapping | None, *keys: str) -> Any:
    """The first of `keys` whose value in d is not None."""
    for k in keys:
        if d and d.get(k) is not None:
            return d[k]
    return None


def resource(resources: Mapping | None, canonical: str) -> Any:
    """The count of a canonical resource ('lut', 'ff', 'dsp', 'bram') under any vendor's key."""
    return first(resources, *RESOURCE_ALIASES[canonical])


def resources_of(synth: SynthResult | Mapping) -> dict[str, Any]:
    """{lut, ff, dsp, bram} used by one synthesis result (None where it gives none)."""
    res = _get(synth, "resources") or {}
    return {k: resource(res, k) for k in RESOURCE_ALIASES}


def utilization_of(synth: SynthResult | Mapping) -> dict[str, Any]:
    """{lut, ff, dsp, bram} in % of the board, from the result's own utilization_pct."""
    util = _get(synth, "utilization_pct") or {}
    return {k: resource(util, k) for k in RESOURCE_ALIASES}


def fmt(value: Any, digits: int = 4) -> str:
    """Numbers for people: `digits` significant digits, thousands separators for big ones,
    scientific notation below 1e-3, 'yes'/'no' for booleans, '–' for None."""
    if value is None:
        return NOT_MEASURED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if abs(value) >= 10 ** (digits - 1):
            return f"{value:,.0f}"
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}g}"
    return str(value)


def utilization_pct(synth: SynthResult | Mapping, capacity: Mapping | None) -> dict[str, float]:
    """A synthesis result's utilization in % of the board: its own figures, else resources / capacity."""
    util = {k: num(v) for k, v in (_get(synth, "utilization_pct") or {}).items()}
    util = {k: v for k, v in util.items() if v is not None}
    if util or not capacity:
        return util
    out = {}
    for key, used in (_get(synth, "resources") or {}).items():
        cap, used = num(capacity.get(key)), num(used)
        if cap and used is not None:
            out[key] = 100.0 * used / cap
    return out


def fpga_figures(synth: SynthResult | Mapping) -> dict[str, float | None]:
    """Latency (ns) and throughput (samples/s) of one synthesis result.

    The clock is the one SynthResult.latency_ns uses: the achieved/estimated Fmax when the source
    gives one, else the target clock. Latency: the source's latency_ns, else latency_cycles_max x
    period. Throughput = clock / II (ii_max, else ii_min); None when the source gives no II.
    """
    s = synth_dict(synth)
    clock = num(s.get("fmax_mhz")) or num(s.get("clock_mhz"))
    latency_ns = num(s.get("latency_ns"))
    cycles = num(s.get("latency_cycles_max"))
    if cycles is None:
        cycles = num(s.get("latency_cycles_min"))
    if latency_ns is None and cycles is not None and clock:
        latency_ns = cycles * 1000.0 / clock
    ii = num(s.get("ii_max")) or num(s.get("ii_min"))
    throughput = clock * 1e6 / ii if clock and ii else None
    return {"latency_ns": latency_ns, "throughput_sps": throughput, "clock_mhz": clock, "ii": ii}


def comparison_rows(synth: Iterable, baselines: list[dict]) -> list[dict]:
    """FPGA vs software rows for report.json's `comparison`: one per synthesis source with a latency or II.

    The software side is the best measured figure over every engine, model and device
    (hwgen.baseline.compare), so no ratio is made against a slower engine when a faster one was
    measured: latency is the lowest batch-1 median; throughput the highest over all batch sizes
    ('software at its best batch'). The FPGA side is the source's latency and clock / II.
    latency_ratio = software latency / FPGA latency and throughput_ratio = FPGA throughput /
    software throughput, so a ratio above 1 means the FPGA is better on that figure.
    """
    from hwgen.baseline.compare import best_latency, best_throughput, describe

    lat = best_latency(baselines or [])
    tp = best_throughput(baselines or [])
    if lat is None and tp is None:
        return []
    sw_lat = float(lat["latency_us_median"]) if lat else None
    sw_tp = float(tp["throughput_sps"]) if tp else None
    rows: list[dict] = []
    for s in synth or []:
        fig = fpga_figures(s)
        if fig["latency_ns"] is None and fig["throughput_sps"] is None:
            continue
        rows.append({
            "fpga_source": _get(s, "source"),
            "fpga_kind": _get(s, "kind"),
            "fpga_clock_mhz": fig["clock_mhz"],
            "fpga_ii": fig["ii"],
            "fpga_latency_ns": fig["latency_ns"],
            "fpga_throughput_sps": fig["throughput_sps"],
            "sw_latency_us": sw_lat,
            "sw_latency_p99_us": lat.get("latency_us_p99") if lat else None,
            "sw_latency_engine": describe(lat) if lat else None,
            "sw_latency_source": lat.get("source") if lat else None,
            "sw_latency_model": lat.get("model") if lat else None,
            "sw_latency_device": lat.get("device") if lat else None,
            "sw_throughput_sps": sw_tp,
            "sw_throughput_batch": tp.get("batch") if tp else None,
            "sw_throughput_engine": describe(tp) if tp else None,
            "sw_throughput_source": tp.get("source") if tp else None,
            "sw_throughput_model": tp.get("model") if tp else None,
            "sw_throughput_device": tp.get("device") if tp else None,
            "latency_ratio": (sw_lat * 1000.0 / fig["latency_ns"]) if sw_lat and fig["latency_ns"] else None,
            "throughput_ratio": (fig["throughput_sps"] / sw_tp) if sw_tp and fig["throughput_sps"] else None,
        })
    return rows


def software_best(baselines: list[dict]) -> list[dict]:
    """The fastest measured software row per batch size (hwgen.baseline.compare), [] without baselines."""
    if not baselines:
        return []
    from hwgen.baseline.compare import best_by_batch

    return best_by_batch(baselines)


# Keys of synth_metrics(), the per-point synthesis figures of a sweep row.
SYNTH_METRIC_KEYS = ("synth_source", "synth_kind", "lut", "ff", "dsp", "bram_18k", "lut_pct", "dsp_pct", "fits",
                     "latency_cycles", "latency_ns", "ii", "fmax_mhz", "clock_mhz")


def synth_metrics(synth: SynthResult | Mapping) -> dict:
    """Resources, latency and II of one synthesis result under vendor-neutral names (LUT4/ALUT
    count as `lut`, MULT18 as `dsp`, EBR/RAM blocks as `bram_18k`): a sweep row's figures."""
    s = synth_dict(synth)
    res, util = resources_of(s), utilization_of(s)
    return {
        "synth_source": s.get("source"), "synth_kind": s.get("kind"),
        "lut": res["lut"], "ff": res["ff"], "dsp": res["dsp"], "bram_18k": res["bram"],
        "lut_pct": util["lut"], "dsp_pct": util["dsp"],
        "fits": s.get("fits"),
        "latency_cycles": s.get("latency_cycles_max"), "latency_ns": s.get("latency_ns"),
        "ii": first(s, "ii_max", "ii_min"),
        "fmax_mhz": s.get("fmax_mhz"), "clock_mhz": s.get("clock_mhz"),
    }


def point_metrics(report: "Report | Mapping") -> dict:
    """The flat numbers of one sweep point from its run's report (a Report or report.json's dict):
    accuracies, bit-exactness, model size, and synth_metrics() of the most faithful source."""
    r = report.to_dict() if hasattr(report, "to_dict") else dict(report or {})
    acc = r.get("accuracy") or {}
    model = r.get("model") or {}
    csim = r.get("csim") or {}

    def val(key):
        entry = acc.get(key)
        return entry.get("value") if isinstance(entry, dict) else None

    m: dict[str, Any] = {
        "accuracy_float": val("float"), "accuracy_qkeras": val("qkeras"), "accuracy_csim": val("csim"),
        "bit_exact_fraction": csim.get("bit_exact_fraction"),
        "max_abs_diff": csim.get("max_abs_diff"), "n_test": acc.get("n_test"),
        "params": model.get("params"), "nonzero": model.get("nonzero"), "sparsity": model.get("sparsity"),
        "bops": model.get("bops"),
    }
    synth = by_fidelity(r.get("synth") or [])
    if synth:
        m.update(synth_metrics(synth[0]))
    return m


def board_dict(board: Any) -> dict | None:
    """The report's board entry as a dict (a bare registry name is looked up for its capacity)."""
    if isinstance(board, dict):
        return board
    if isinstance(board, str) and board:
        try:
            from hwgen.boards import load_board

            return load_board(board).to_dict()
        except Exception:  # noqa: BLE001 - an unknown board only loses the capacity
            return {"name": board}
    return None
