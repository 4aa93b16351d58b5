"""report.html: one self-contained page (CSS inline, plots as base64 PNG data URIs) built from
the report.json dict, plus `comparison_rows` that fills report.json's FPGA-vs-software table.

Every number in a table is shown next to the label of the source that produced it; a section
whose stage did not run says 'not run' instead of failing. The PNGs are also kept in RUN/plots/.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any, Iterable

from hwgen.results import RESOURCE_KEYS

NOT_RUN = "not run"


# --------------------------------------------------------------------------------------------
# FPGA vs software


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def fpga_figures(synth: dict) -> dict[str, float | None]:
    """Latency (ns) and throughput (samples/s) of one SynthResult dict.

    The clock is the one SynthResult.latency_ns uses: the achieved/estimated Fmax when the source
    gives one, else the target clock. Latency: the source's latency_ns, else latency_cycles_max x
    period. Throughput = clock / II (ii_max, else ii_min); None when the source gives no II.
    """
    clock = _num(synth.get("fmax_mhz")) or _num(synth.get("clock_mhz"))
    latency_ns = _num(synth.get("latency_ns"))
    cycles = _num(synth.get("latency_cycles_max"))
    if cycles is None:
        cycles = _num(synth.get("latency_cycles_min"))
    if latency_ns is None and cycles is not None and clock:
        latency_ns = cycles * 1000.0 / clock
    ii = _num(synth.get("ii_max")) or _num(synth.get("ii_min"))
    throughput = clock * 1e6 / ii if clock and ii else None
    return {"latency_ns": latency_ns, "throughput_sps": throughput, "clock_mhz": clock, "ii": ii}


def comparison_rows(synth: list[dict], baselines: list[dict]) -> list[dict]:
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
            "fpga_source": s.get("source"),
            "fpga_kind": s.get("kind"),
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


# --------------------------------------------------------------------------------------------
# HTML pieces


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def fmt(value: Any, digits: int = 4) -> str:
    """Numbers for people: 4 significant digits, thousands separators for big ones, '–' for none."""
    if value is None:
        return "–"
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


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]], cls: str = "") -> str:
    """rows hold already-safe HTML for cells given as `_Safe`, anything else is escaped."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            text = cell.html if isinstance(cell, _Safe) else _e(fmt(cell))
            num = isinstance(cell, (int, float)) and not isinstance(cell, bool)
            span = f' colspan="{cell.colspan}"' if isinstance(cell, _Safe) and cell.colspan > 1 else ""
            if isinstance(cell, _Safe) and cell.cls:
                span += f' class="{cell.cls}"'
            cells.append(f'<td class="num">{text}</td>' if num else f"<td{span}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


class _Safe:
    """A cell that is already HTML (optionally spanning several columns)."""

    def __init__(self, html_text: str, colspan: int = 1, cls: str = ""):
        self.html = html_text
        self.colspan = colspan
        self.cls = cls


def _src(text: Any) -> _Safe:
    return _Safe(f'<span class="src">{_e(text)}</span>' if text else '<span class="src">–</span>')


def _not_run(what: str = "") -> str:
    return f'<p class="notrun">{_e(NOT_RUN)}{(": " + _e(what)) if what else ""}</p>'


def _img(path: Path | None, alt: str) -> str:
    if path is None:
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}"><figcaption>{_e(alt)}</figcaption></figure>'


def _kv_table(data: dict, skip: Iterable[str] = ()) -> str:
    """Scalar fields of a stage record as a two-column table (lists/dicts left out)."""
    skip = set(skip)
    rows = [(k, v) for k, v in data.items() if k not in skip and (v is None or isinstance(v, (str, int, float, bool)))]
    return _table(("field", "value"), rows, "kv") if rows else ""


# --------------------------------------------------------------------------------------------
# Sections


def _section_header(r: dict, board: dict | None) -> str:
    run = r.get("run") or {}
    b = board or {}
    parts = [
        f"<h1>hwgen report: {_e(run.get('name') or '?')}</h1>",
        '<p class="meta">',
        f"Board <b>{_e(b.get('name') or '?')}</b>",
        f" (<code>{_e(b.get('part'))}</code>, {_e(fmt(_num(b.get('clock_mhz'))))} MHz target)" if b.get("part") else "",
        f" · hwgen {_e(r.get('hwgen_version'))}",
        f" · run <code>{_e((run.get('fingerprint') or '')[:12])}</code>" if run.get("fingerprint") else "",
        f" · created {_e(run.get('created'))}" if run.get("created") else "",
        "</p>",
    ]
    notices = r.get("notices") or []
    if notices:
        parts.append('<div class="notice"><b>Notices</b><ul>' + "".join(f"<li>{_e(n)}</li>" for n in notices) + "</ul></div>")
    return "".join(parts)


def _section_accuracy(r: dict) -> str:
    acc = r.get("accuracy") or {}
    out = ["<h2>Accuracy</h2>"]
    entries = [(k, acc.get(k)) for k in ("float", "qkeras", "csim", "rtl_sim")]
    if not any(isinstance(v, dict) for _, v in entries):
        return "".join(out) + _not_run("no accuracy was measured")
    if acc.get("dataset"):
        out.append(f"<p>On {_e(acc.get('dataset'))}" + (f" ({_e(fmt(acc.get('n_test')))} test samples)" if acc.get("n_test") else "") + ".</p>")
    rows = []
    for key, entry in entries:
        if isinstance(entry, dict):
            rows.append((key, _num(entry.get("value")), _src(entry.get("source"))))
        else:
            rows.append((key, _Safe(f'<span class="notrun">{NOT_RUN}</span>'), _src(None)))
    out.append(_table(("model", "accuracy", "source"), rows))
    return "".join(out)


def _section_model(r: dict, plots: dict) -> str:
    model = r.get("model") or {}
    out = ["<h2>Model</h2>"]
    layers = model.get("layers") or []
    if not layers and model.get("params") is None:
        return "".join(out) + _not_run("no model statistics")
    out.append(
        "<p>"
        + " · ".join(
            f"{label} <b>{_e(fmt(model.get(key)))}</b>"
            for label, key in (("parameters", "params"), ("non-zero", "nonzero"), ("sparsity", "sparsity"),
                               ("target sparsity", "target_sparsity"), ("BOPs", "bops"))
            if model.get(key) is not None
        )
        + f' <span class="src">source: {_e(model.get("source"))}</span></p>'
    )
    if layers:
        rows = [
            (l.get("name"), l.get("type"), l.get("units"), l.get("weight_bits"), l.get("weight_integer"),
             l.get("activation_bits"), l.get("params"), l.get("nonzero"), _num(l.get("sparsity")), _num(l.get("bops")))
            for l in layers
        ]
        out.append(_table(("layer", "type", "units", "weight bits", "weight int bits", "activation bits", "params",
                           "non-zero", "sparsity", "BOPs"), rows))
        out.append(f'<p class="src">Per-layer figures: {_e(model.get("source"))}.</p>')
    out.append(_img(plots.get("layers"), "Per-layer weight sparsity and bit widths"))
    return "".join(out)


def _section_bitexact(r: dict) -> str:
    out = ["<h2>Bit-exactness</h2>"]
    rows = []
    for label, rec, src_key in (("C simulation", r.get("csim"), "source"), ("RTL simulation", r.get("rtl_sim"), "simulator")):
        if isinstance(rec, dict):
            src = rec.get(src_key) or rec.get("source")
            if src_key == "simulator" and rec.get("simulator_version"):
                src = f"{src} {rec.get('simulator_version')}"
            rows.append((label, _num(rec.get("bit_exact_fraction")), rec.get("n_samples"), _num(rec.get("max_abs_diff")),
                         _num(rec.get("accuracy")), _src(src)))
        else:
            rows.append((label, _Safe(f'<span class="notrun">{NOT_RUN}</span>'), None, None, None, _src(None)))
    out.append(_table(("check", "bit-exact fraction vs QKeras", "samples", "max |diff|", "accuracy", "source"), rows))
    return "".join(out)


def _section_convert(r: dict) -> str:
    conv = r.get("convert")
    out = ["<h2>HLS project</h2>"]
    if not isinstance(conv, dict):
        return "".join(out) + _not_run()
    out.append(_kv_table(conv, skip=("layers",)))
    if conv.get("hls4ml_version"):
        out.append(f'<p class="src">source: hls4ml {_e(conv.get("hls4ml_version"))} (convert.json)</p>')
    return "".join(out)


def _section_synth(r: dict, board: dict | None, plots: dict) -> str:
    out = ["<h2>Hardware: resources and latency</h2>"]
    synth = r.get("synth") or []
    if not synth:
        return "".join(out) + _not_run("no synthesis source ran")
    keys = [k for k in RESOURCE_KEYS if any(k in (s.get("resources") or {}) for s in synth)]
    from hwgen.plots import RESOURCE_LABELS, utilization_pct

    capacity = (board or {}).get("capacity") or {}
    headers = ["source", "kind", "tool"]
    for k in keys:
        label = RESOURCE_LABELS.get(k, k)
        cap = capacity.get(k)
        headers.append(f"{label} used" + (f" (% of {fmt(cap)})" if cap else ""))
    headers += ["fits", "latency (cycles)", "II", "clock used (MHz)", "latency (ns)", "throughput (samples/s)"]
    rows = []
    for s in synth:
        util = utilization_pct(s, capacity)
        res = s.get("resources") or {}
        fig = fpga_figures(s)
        lo, hi = s.get("latency_cycles_min"), s.get("latency_cycles_max")
        cycles = f"{fmt(lo)}–{fmt(hi)}" if lo is not None and hi is not None and lo != hi else (hi if hi is not None else lo)
        row: list[Any] = [_src(s.get("source")), s.get("kind"), f"{s.get('tool', '')} {s.get('tool_version', '')}".strip()]
        for k in keys:
            used, pct = _num(res.get(k)), _num(util.get(k))
            text = _e(fmt(used)) + (f' <span class="pct">({_e(fmt(pct, 3))}%)</span>' if pct is not None else "")
            row.append(_Safe(text, cls="num"))
        fits = s.get("fits")
        row.append(_Safe('<b class="bad">NO</b>') if fits is False else ("yes" if fits else "?"))
        row += [cycles, fig["ii"], fig["clock_mhz"], fig["latency_ns"], fig["throughput_sps"]]
        rows.append(row)
    out.append(_table(headers, rows, "wide"))
    for s in synth:
        if s.get("fits") is False:
            over = ", ".join(f"{RESOURCE_LABELS.get(k, k)} {v:.0f}%" for k, v in utilization_pct(s, capacity).items() if v > 100)
            out.append(f'<p class="bad">{_e(s.get("source"))}: the design does not fit {_e((board or {}).get("name"))} ({_e(over)}).</p>')
    notes = [(s.get("source"), n) for s in synth for n in (s.get("notes") or [])]
    unc = [(s.get("source"), s.get("uncertainty")) for s in synth if s.get("uncertainty")]
    if notes or unc:
        out.append("<ul class='notes'>")
        out += [f"<li>{_src(src).html}: {_e(n)}</li>" for src, n in notes]
        out += [
            f"<li>{_src(src).html}: uncertainty "
            + ", ".join(f"{_e(k)} {_e(v)}" for k, v in u.items())
            + "</li>"
            for src, u in unc
        ]
        out.append("</ul>")
    out.append(_img(plots.get("utilization"), "Resource use in % of the board's capacity, one bar group per synthesis source"))
    return "".join(out)


def _engine_name(b: dict) -> str:
    return f"{b.get('engine') or 'tensorflow'} {b.get('engine_version') or ''}".strip()


def _section_baselines(r: dict) -> str:
    from hwgen.baseline.compare import best_by_batch, describe

    out = ["<h2>Software baselines</h2>"]
    rows_in = r.get("baselines") or []
    if not rows_in:
        return "".join(out) + _not_run("`hwgen baseline RUN_DIR` times the network with ONNX Runtime, numpy and TensorFlow")
    env = r.get("baseline_env") or {}
    best = best_by_batch(rows_in)
    if best:
        out.append("<h3>Best measured software figure per batch size</h3>")
        out.append(_table(("batch", "engine (network, device, mode, threads)", "latency median (µs)", "latency p99 (µs)",
                           "throughput (samples/s)", "source"),
                          [(e["batch"], describe(e), _num(e.get("latency_us_median")), _num(e.get("latency_us_p99")),
                            _num(e.get("throughput_sps")), _src(e.get("source"))) for e in best]))
        out.append("<p class='src'>The fastest row of the table below at each batch size, over every engine, network "
                   "and device; the FPGA is compared with these.</p>")
    out.append("<h3>Every engine</h3>")
    rows = []
    for b in rows_in:
        if b.get("available"):
            rows.append((_engine_name(b), b.get("model"), b.get("device"), b.get("device_name"), b.get("mode"),
                         b.get("threads"), b.get("batch"), _num(b.get("latency_us_median")), _num(b.get("latency_us_p99")),
                         _num(b.get("throughput_sps")), b.get("reps"), b.get("warmup"), _src(b.get("source"))))
        else:
            mode = f"{b.get('mode')}, batch {b.get('batch')}" if b.get("mode") else "all modes"
            rows.append((_engine_name(b), b.get("model"), b.get("device"), b.get("device_name") or "–", mode,
                         b.get("threads"), b.get("batch"),
                         _Safe(f'<span class="notrun">not available: {_e(b.get("reason"))}</span>', colspan=5),
                         _src(b.get("source"))))
    out.append(_table(("engine", "network", "device", "device name", "mode", "threads", "batch", "latency median (µs)",
                       "latency p99 (µs)", "throughput (samples/s)", "reps", "warm-up", "source"), rows, "wide"))
    v, host = env.get("versions") or {}, env.get("host") or {}
    if env:
        threads = env.get("threads") or {}
        tfth = threads.get("tensorflow") or threads  # schema 1 kept TensorFlow's pools at the top level
        blas = threads.get("numpy") or {}
        bits = [
            "Python " + _e(v.get("python")) + ", numpy " + _e(v.get("numpy"))
            + (f" ({_e(blas.get('blas'))} {_e(blas.get('blas_version'))}, {_e(blas.get('blas_architecture'))} kernels)"
               if blas.get("blas") else "")
            + (f", ONNX Runtime {_e(v.get('onnxruntime'))}" if v.get("onnxruntime") else "")
            + (f", onnx {_e(v.get('onnx'))}" if v.get("onnx") else "")
            + (f", TensorFlow {_e(v.get('tensorflow'))}, Keras {_e(v.get('keras'))}, QKeras {_e(v.get('qkeras'))}"
               if v.get("tensorflow") else ", no TensorFlow"),
            f"CPU {_e(host.get('cpu_model'))} ({_e(host.get('cpu_cores_usable'))} usable cores; TensorFlow intra-op "
            f"threads {_e(tfth.get('intra_op'))}, inter-op {_e(tfth.get('inter_op'))}, 0 = TensorFlow default)",
        ]
        load = host.get("load_avg_at_start") or host.get("load_avg_1m_at_start")
        if load is not None:
            bits.append(f"host load average (1, 5, 15 min) at start {_e(load)}, at end {_e(host.get('load_avg_at_end'))}")
        gpu = (env.get("devices") or {}).get("gpu") or {}
        if gpu:
            bits.append(f"GPU: {_e(gpu.get('device_name'))}" if gpu.get("available") else f"GPU not available: {_e(gpu.get('reason'))}")
        out.append("<p class='src'>" + "; ".join(bits) + ".</p>")
        exports = env.get("exports") or {}
        checks = (env.get("agreement") or {}).get("engines") or {}
        if exports:
            items = []
            for name, exp in exports.items():
                if exp.get("file"):
                    items.append(f"<li><b>{_e(name)}</b>: <code>{_e(exp['file'])}</code> (sha256 "
                                 f"<code>{_e(str(exp.get('sha256'))[:16])}…</code>, opset {_e(exp.get('opset'))}; "
                                 f"{_e(exp.get('origin'))})</li>")
                else:
                    items.append(f"<li><b>{_e(name)}</b>: not exported: {_e(exp.get('reason'))}</li>")
            for key, c in checks.items():
                items.append(f"<li>{_e(key)} vs {_e(c.get('against'))} on the test set: max |diff| "
                             f"{_e(fmt(_num(c.get('max_abs_diff'))))}, same class for "
                             f"{_e(fmt(100 * (c.get('argmax_agreement') or 0), 4))}%"
                             + (", bit-identical" if c.get("exactly_equal") else "") + "</li>")
            out.append("<details><summary>ONNX graphs and what each engine computes</summary><ul>" + "".join(items)
                       + "</ul></details>")
        defs = env.get("definitions") or {}
        if defs:
            flat = {k: t for k, t in defs.items() if isinstance(t, str)}
            flat.update({f"engine {k}": t for k, t in (defs.get("engines") or {}).items()})
            out.append("<details><summary>What is timed, and how</summary><ul>"
                       + "".join(f"<li><b>{_e(k)}</b>: {_e(t)}</li>" for k, t in flat.items()) + "</ul></details>")
        agr = env.get("agreement") or {}
        if agr.get("argmax_agreement") is not None:
            out.append(f"<p class='src'>float vs QKeras on {_e(agr.get('n_samples'))} test samples: same class for "
                       f"{_e(fmt(100 * agr['argmax_agreement'], 4))}% of them, max |logit diff| {_e(fmt(agr.get('max_abs_logit_diff')))}.</p>")
    return "".join(out)


def _section_comparison(r: dict, plots: dict) -> str:
    out = ["<h2>FPGA vs software</h2>"]
    comp = r.get("comparison")
    if comp is None:
        comp = comparison_rows(r.get("synth") or [], r.get("baselines") or [])
    if not comp:
        missing = [w for w, have in (("synthesis", r.get("synth")), ("software baseline", r.get("baselines"))) if not have]
        return "".join(out) + _not_run("needs " + " and ".join(missing) if missing else "no source gave a latency")
    lat_rows, tp_rows = [], []
    for c in comp:
        lat_rows.append((_src(c.get("fpga_source")), _num(c.get("fpga_latency_ns")), _num(c.get("sw_latency_us")),
                         c.get("sw_latency_engine"), _src(c.get("sw_latency_source")), _num(c.get("latency_ratio"))))
        tp_rows.append((_src(c.get("fpga_source")), _num(c.get("fpga_clock_mhz")), _num(c.get("fpga_ii")),
                        _num(c.get("fpga_throughput_sps")), _num(c.get("sw_throughput_sps")), c.get("sw_throughput_batch"),
                        c.get("sw_throughput_engine"), _src(c.get("sw_throughput_source")), _num(c.get("throughput_ratio"))))
    out.append("<h3>Latency, batch 1</h3>")
    out.append(_table(("FPGA source", "FPGA latency (ns)", "best software batch-1 latency (µs, median)", "software engine",
                       "software source", "ratio (software / FPGA)"), lat_rows, "wide"))
    out.append("<h3>Throughput</h3>")
    out.append(_table(("FPGA source", "FPGA clock (MHz)", "FPGA II (cycles)", "FPGA throughput (samples/s, clock/II)",
                       "best software throughput (samples/s)", "software batch", "software engine", "software source",
                       "ratio (FPGA / software)"), tp_rows, "wide"))
    out.append("<p class='src'>Software figures are the best measured over every engine, network and device (table "
               "'Best measured software figure per batch size'): the lowest batch-1 median latency, and the highest "
               "throughput over all batch sizes. FPGA latency is the design's cycles × clock period (no host I/O); "
               "software latency is one whole call from Python. A ratio above 1 means the FPGA is better on that "
               "figure.</p>")
    out.append(_img(plots.get("latency"), "FPGA latency and throughput against each software engine's best (log axes)"))
    return "".join(out)


def _section_train(r: dict) -> str:
    train = r.get("train")
    out = ["<h2>Training</h2>"]
    if not isinstance(train, dict) or not train:
        return "".join(out) + _not_run()
    out.append(_kv_table(train, skip=("layers",)))
    return "".join(out)


def _section_stages(r: dict) -> str:
    stages = r.get("stages") or {}
    out = ["<h2>Stage wall times</h2>"]
    if not stages:
        return "".join(out) + _not_run("no stage times recorded")
    out.append(_table(("stage", "wall time (s)"), [(k, _num(v)) for k, v in stages.items()]))
    return "".join(out)


CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:1200px;
 padding:0 16px;color:#1d1d1f;line-height:1.45;font-size:14px}
h1{font-size:24px;margin-bottom:4px}h3{font-size:15px;margin:14px 0 4px}h2{font-size:18px;margin-top:28px;border-bottom:2px solid #e5e5e5;padding-bottom:4px}
.meta{color:#555;margin-top:0}code{background:#f3f3f3;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;
 vertical-align:top}th{background:#f5f7fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#fafafa}table.wide{display:block;overflow-x:auto;max-width:100%}
.src{color:#666;font-size:12px}.pct{color:#555}.notrun{color:#8a6d3b;font-style:italic}.bad{color:#c0392b}
.notice{background:#fff8e1;border:1px solid #f0d58c;padding:6px 12px;border-radius:4px}
figure{margin:12px 0}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#666;font-size:12px}
details{margin:6px 0}summary{cursor:pointer;color:#333}ul.notes{font-size:13px}
"""


def render_html(report: dict, plots: dict[str, Path] | None = None) -> str:
    """The page as a string; `plots` maps plot names ('utilization', 'latency', 'layers') to PNGs."""
    from hwgen.plots import board_dict

    plots = plots or {}
    board = board_dict((report.get("run") or {}).get("board"))
    title = f"hwgen report: {(report.get('run') or {}).get('name') or '?'}"
    body = "".join((
        _section_header(report, board),
        _section_accuracy(report),
        _section_model(report, plots),
        _section_bitexact(report),
        _section_synth(report, board, plots),
        _section_baselines(report),
        _section_comparison(report, plots),
        _section_convert(report),
        _section_train(report),
        _section_stages(report),
    ))
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>{body}"
        f"<footer class='src'><p>Generated by hwgen {_e(report.get('hwgen_version'))} from report.json; "
        "plots are also in plots/.</p></footer></body></html>\n"
    )


def write_html(report: dict, run_dir: Path) -> Path:
    """Write RUN/report.html (self-contained) and RUN/plots/*.png; return the HTML path."""
    from hwgen.plots import make_plots

    run_dir = Path(run_dir)
    plots = make_plots(report, run_dir / "plots")
    path = run_dir / "report.html"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render_html(report, plots), encoding="utf-8")
    tmp.replace(path)
    return path
