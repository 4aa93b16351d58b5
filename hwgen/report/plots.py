"""Report plots as PNG files (matplotlib, Agg backend: no display needed).

Each function takes report pieces (SynthResults or their dicts, baseline rows, layer rows),
writes one PNG atomically and returns its path, or returns None when there is nothing to draw
(the HTML then says 'not run' instead of showing an empty figure). Every series is labelled with
the source it came from. Figures are derived by hwgen.report.metrics only.
"""

from __future__ import annotations

import io
from pathlib import Path

from hwgen.report.metrics import RESOURCE_LABELS, board_dict, fpga_figures, synth_dict, utilization_pct
from hwgen.report.metrics import num as _num
from hwgen.report.model import as_report
from hwgen.results import write_atomic

DPI = 110
_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
_KIND_COLORS = {"fpga": "#2ca02c", "cpu": "#1f77b4", "gpu": "#d62728"}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    _plt().close(fig)
    return write_atomic(Path(path), buf.getvalue())


def _si(value: float) -> str:
    """Compact human number: 1234 -> 1.23k."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


def _pct(value: float) -> str:
    if value >= 10:
        return f"{value:.0f}%"
    return f"{value:.1f}%" if value >= 1 else f"{value:.2g}%"


def plot_utilization(synth: list, board: dict | None, path: Path) -> Path | None:
    """Resource use of each synthesis source in % of the board's capacity (log axis, 100 % marked)."""
    capacity = (board or {}).get("capacity") or {}
    synth = [synth_dict(s) for s in synth or []]
    per_source = [(s.get("source", "?"), s, utilization_pct(s, capacity)) for s in synth]
    per_source = [p for p in per_source if p[2]]
    if not per_source:
        return None
    keys = [k for k in RESOURCE_LABELS if any(k in u for _, _, u in per_source)]
    keys += sorted({k for _, _, u in per_source for k in u} - set(keys))
    plt = _plt()
    n = len(per_source)
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(keys) + 2.5), 4.2))
    floor = 0.01
    top = max(100.0, max(v for _, _, u in per_source for v in u.values()))
    for i, (source, s, util) in enumerate(per_source):
        xs = [j + (i - (n - 1) / 2) * width for j, k in enumerate(keys) if k in util]
        pcts = [util[k] for k in keys if k in util]
        counts = [(s.get("resources") or {}).get(k) for k in keys if k in util]
        label = f"{source} ({s.get('kind', '?')})"
        # A zero count has no bar on a log axis; its label still says 0.
        ax.bar(xs, [v if v > 0 else float("nan") for v in pcts], width * 0.95, label=label,
               color=_COLORS[i % len(_COLORS)])
        for x, pct, count in zip(xs, pcts, counts):
            text = (_pct(pct) if pct > 0 else "0") + (f"\n{_si(float(count))}" if _num(count) and pct > 0 else "")
            ax.annotate(text, (x, max(pct, floor)), ha="center", va="bottom",
                        fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_yscale("log")
    ax.set_ylim(floor, top * 4)
    ax.axhline(100.0, color="#d62728", linestyle="--", linewidth=1)
    ax.text(len(keys) - 0.5, 100.0, " 100 % of board", color="#d62728", va="bottom", ha="right", fontsize=8)
    ax.set_xticks(range(len(keys)), [RESOURCE_LABELS.get(k, k) for k in keys])
    ax.set_ylabel("% of board capacity (log scale)")
    name = (board or {}).get("name") or "board"
    part = (board or {}).get("part")
    ax.set_title(f"Resource use on {name}" + (f" ({part})" if part else ""))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(n, 3), frameon=False,
              title="synthesis source (bar labels: % of board, count used)", title_fontsize=8)
    ax.grid(axis="y", which="major", alpha=0.3)
    return _save(fig, path)


def _sw_rows(baselines: list[dict]) -> list[dict]:
    return [b for b in baselines or [] if b.get("available") and _num(b.get("latency_us_median"))]


def _fpga_points(synth: list) -> list[tuple[str, float | None, float | None]]:
    """(source, latency in us, throughput in samples/s) of each synthesis source with a latency."""
    out = []
    for s in map(synth_dict, synth or []):
        fig = fpga_figures(s)
        if fig["latency_ns"] is not None or fig["throughput_sps"] is not None:
            lat = fig["latency_ns"] / 1000.0 if fig["latency_ns"] is not None else None
            out.append((s.get("source", "?"), lat, fig["throughput_sps"]))
    return out


def plot_latency(synth: list, baselines: list[dict], path: Path) -> Path | None:
    """FPGA latency vs each software engine's best batch-1 latency, and throughputs, on log axes.

    One software bar per (engine, network, device): its lowest batch-1 median over modes and
    thread counts, and its highest throughput over all batch sizes.
    """
    fpga = _fpga_points(synth)
    sw = _sw_rows(baselines)
    lat_items = [(f"FPGA {src}", lat, "fpga") for src, lat, _ in fpga if lat is not None]
    tp_items = [(f"FPGA {src} (clock/II)", tp, "fpga") for src, _, tp in fpga if tp is not None]
    best_lat: dict[tuple, dict] = {}
    best_tp: dict[tuple, dict] = {}
    for b in sw:
        key = (b.get("engine") or "tensorflow", b["model"], b["device"])
        if b.get("batch") == 1 and (key not in best_lat or b["latency_us_median"] < best_lat[key]["latency_us_median"]):
            best_lat[key] = b
        if _num(b.get("throughput_sps")) and (key not in best_tp or b["throughput_sps"] > best_tp[key]["throughput_sps"]):
            best_tp[key] = b

    def _label(key, b, what):
        extra = f", {b['threads']} thr" if b.get("threads") and b["device"] == "cpu" else ""
        return f"{key[0]} {key[1]} {key[2]} ({b.get('mode')}{extra}, {what})"

    lat_items += [(_label(k, b, "batch 1"), float(b["latency_us_median"]), k[2]) for k, b in sorted(best_lat.items())]
    tp_items += [(_label(k, b, f"batch {b['batch']}"), float(b["throughput_sps"]), k[2]) for k, b in sorted(best_tp.items())]
    if not lat_items and not tp_items:
        return None
    plt = _plt()
    panels = [p for p in ((lat_items, "latency (µs, log scale; lower is better)"),
                          (tp_items, "throughput (samples/s, log scale; higher is better)")) if p[0]]
    height = max(2.5, 0.32 * max(len(p[0]) for p in panels) + 1.2)
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), height), squeeze=False)
    for ax, (items, xlabel) in zip(axes[0], panels):
        labels = [i[0] for i in items]
        values = [i[1] for i in items]
        colors = [_KIND_COLORS.get(i[2], "#7f7f7f") for i in items]
        ys = list(range(len(items)))[::-1]
        ax.barh(ys, values, color=colors)
        ax.set_yticks(ys, labels, fontsize=8)
        ax.set_xscale("log")
        lo, hi = min(values), max(values)
        ax.set_xlim(lo / 3, hi * 8)
        for y, v in zip(ys, values):
            ax.annotate(_si(v), (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", which="major", alpha=0.3)
    names = {"fpga": "FPGA (synthesis source)", "cpu": "software on the CPU", "gpu": "software on a GPU"}
    present = [k for k in names if any(i[2] == k for p in panels for i in p[0])]
    handles = [plt.Rectangle((0, 0), 1, 1, color=_KIND_COLORS[k]) for k in present]
    fig.legend(handles, [names[k] for k in present], loc="upper center",
               ncol=3, fontsize=8, bbox_to_anchor=(0.5, 1.02), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return _save(fig, path)


def plot_layers(layers: list[dict], path: Path) -> Path | None:
    """Per-layer weight sparsity and weight/activation bit widths."""
    rows = [l for l in layers or [] if _num(l.get("weight_bits")) or _num(l.get("activation_bits"))]
    if not rows:
        return None
    plt = _plt()
    names = [str(l.get("name", "?")) for l in rows]
    xs = list(range(len(rows)))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(max(8.0, 1.1 * len(rows) + 5), 3.6))
    sp = [(x, 100.0 * float(l["sparsity"])) for x, l in zip(xs, rows) if _num(l.get("weight_bits")) and _num(l.get("sparsity")) is not None]
    if sp:
        ax1.bar([x for x, _ in sp], [v for _, v in sp], color="#1f77b4")
        for x, v in sp:
            ax1.annotate(f"{v:.1f}%", (x, v), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7)
    ax1.set_ylim(0, 105)
    ax1.set_xticks(xs, names, rotation=30, ha="right", fontsize=8)
    ax1.set_ylabel("zero weights (%)")
    ax1.set_title("weight sparsity per layer (quantized kernel)")
    width = 0.38
    wb = [(x, _num(l.get("weight_bits"))) for x, l in zip(xs, rows)]
    ab = [(x, _num(l.get("activation_bits"))) for x, l in zip(xs, rows)]
    ax2.bar([x - width / 2 for x, v in wb if v], [v for _, v in wb if v], width, label="weight bits", color="#ff7f0e")
    ax2.bar([x + width / 2 for x, v in ab if v], [v for _, v in ab if v], width, label="activation bits", color="#2ca02c")
    for (x, v), off in [(p, -width / 2) for p in wb if p[1]] + [(p, width / 2) for p in ab if p[1]]:
        ax2.annotate(f"{v:.0f}", (x + off, v), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7)
    top = max([v for _, v in wb + ab if v] or [8])
    ax2.set_ylim(0, top * 1.3)
    ax2.set_xticks(xs, names, rotation=30, ha="right", fontsize=8)
    ax2.set_ylabel("bits")
    ax2.set_title("bit widths per layer")
    ax2.legend(fontsize=8, loc="upper center", ncol=2, frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def make_plots(report, out_dir: Path) -> dict[str, Path]:
    """All report plots that have data, as {name: png path} under out_dir (a Report or its dict)."""
    r = as_report(report)
    out_dir = Path(out_dir)
    made: dict[str, Path | None] = {
        "utilization": plot_utilization(r.synth, r.board, out_dir / "utilization.png"),
        "latency": plot_latency(r.synth, r.baselines, out_dir / "latency.png"),
        "layers": plot_layers(r.model.get("layers") or [], out_dir / "layers.png"),
    }
    for name, made_path in made.items():  # a plot from an earlier report that has no data now is stale
        stale = out_dir / f"{name}.png"
        if made_path is None and stale.is_file():
            stale.unlink()
    return {k: v for k, v in made.items() if v is not None}


__all__ = ["RESOURCE_LABELS", "board_dict", "make_plots", "plot_latency", "plot_layers", "plot_utilization",
           "utilization_pct"]
