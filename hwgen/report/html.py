"""report.html: one self-contained page (CSS inline, plots as base64 PNG data URIs) rendered from
a Report with the package templates `templates/report.html.j2` and `templates/report.css`
(Jinja2, autoescaping on: every label from a run is escaped).

This module only prepares what each section shows (rows of cells, already formatted with
hwgen.report.metrics.fmt); the markup is the template's. Every number in a table is shown next to
the label of the source that produced it; a section whose stage did not run says 'not run'
instead of failing. The PNGs are also kept in RUN/plots/.
"""

from __future__ import annotations

import base64
import importlib.resources
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from hwgen.report.compression import sections as compression_sections
from hwgen.report.compression import text as compression_text
from hwgen.report.metrics import (
    RESOURCE_LABELS, fmt, fpga_figures, num, synth_dict, utilization_pct,
)
from hwgen.report.model import Report, as_report
from hwgen.results import RESOURCE_KEYS, write_atomic

NOT_RUN = "not run"
PLOT_NAMES = ("utilization", "latency", "layers")
TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"


# --------------------------------------------------------------------------------------------
# templates


def template_text(name: str) -> str:
    """A file of hwgen/report/templates/ (works from a checkout, an editable and a wheel install)."""
    return (importlib.resources.files("hwgen.report") / "templates" / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    def load(name: str):
        return template_text(name), None, lambda: True

    env = jinja2.Environment(loader=jinja2.FunctionLoader(load), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["fmt"] = fmt
    return env


# --------------------------------------------------------------------------------------------
# cells: what a table cell shows; the template turns each kind into markup


@dataclass(frozen=True)
class Cell:
    kind: str  # text | num | src | notrun | used | bad
    text: str = ""
    pct: str | None = None  # kind 'used': the % of the board, formatted
    colspan: int = 1


def cell(value: Any) -> Cell:
    if isinstance(value, Cell):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Cell("num", fmt(value))
    return Cell("text", fmt(value))


def src(text: Any) -> Cell:
    return Cell("src", str(text) if text else "–")


def _not_run_cell(text: str = NOT_RUN, colspan: int = 1) -> Cell:
    return Cell("notrun", text, colspan=colspan)


def _rows(rows: Iterable[Iterable[Any]]) -> list[list[Cell]]:
    return [[cell(c) for c in row] for row in rows]


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]], cls: str = "") -> dict:
    return {"headers": list(headers), "rows": _rows(rows), "cls": cls}


def _kv_table(data: dict, skip: Iterable[str] = ()) -> dict | None:
    """Scalar fields of a stage record as a two-column table (lists/dicts left out)."""
    skip = set(skip)
    rows = [(k, v) for k, v in data.items() if k not in skip and (v is None or isinstance(v, (str, int, float, bool)))]
    return _table(("field", "value"), rows, "kv") if rows else None


def _img(path: Path | None, alt: str) -> dict | None:
    if path is None:
        return None
    return {"alt": alt, "data": base64.b64encode(Path(path).read_bytes()).decode("ascii")}


# --------------------------------------------------------------------------------------------
# sections


def _header(r: Report, board: dict | None) -> dict:
    run, b = r.run, board or {}
    return {
        "name": run.get("name") or "?", "board": b.get("name") or "?", "part": b.get("part"),
        "clock": fmt(num(b.get("clock_mhz"))), "version": r.hwgen_version,
        "fingerprint": (run.get("fingerprint") or "")[:12], "created": run.get("created"), "notices": list(r.notices),
    }


def _accuracy(r: Report) -> dict:
    acc = r.accuracy or {}
    entries = [(k, acc.get(k)) for k in ("float", "qkeras", "csim", "rtl_sim")]
    if not any(isinstance(v, dict) for _, v in entries):
        return {"not_run": "no accuracy was measured"}
    rows = []
    for key, entry in entries:
        if isinstance(entry, dict):
            rows.append((key, num(entry.get("value")), src(entry.get("source"))))
        else:
            rows.append((key, _not_run_cell(), src(None)))
    return {"dataset": acc.get("dataset"), "n_test": fmt(acc.get("n_test")) if acc.get("n_test") else None,
            "table": _table(("model", "accuracy", "source"), rows)}


def _model(r: Report, plots: dict) -> dict:
    model = r.model or {}
    layers = model.get("layers") or []
    if not layers and model.get("params") is None:
        return {"not_run": "no model statistics"}
    stats = [(label, fmt(model.get(key))) for label, key in (
        ("parameters", "params"), ("non-zero", "nonzero"), ("sparsity", "sparsity"),
        ("target sparsity", "target_sparsity"), ("BOPs", "bops")) if model.get(key) is not None]
    table = None
    if layers:
        rows = [
            (l.get("name"), l.get("type"), compression_text(l.get("kernel_shape")) if l.get("kernel_shape") else None,
             l.get("units"), l.get("weight_bits"), l.get("weight_integer"), l.get("activation_bits"), l.get("params"),
             l.get("nonzero"), l.get("distinct_weights"), num(l.get("sparsity")), num(l.get("bops")))
            for l in layers
        ]
        table = _table(("layer", "type", "kernel", "units", "weight bits", "weight int bits", "activation bits", "params",
                        "non-zero", "distinct weights", "sparsity", "BOPs"), rows)
    return {"stats": stats, "source": model.get("source"), "table": table,
            "img": _img(plots.get("layers"), "Per-layer weight sparsity and bit widths")}


def _compression(r: Report) -> list[dict]:
    return [{"method": sec["method"], "summary": _table(("", ""), sec["summary"], "kv") if sec["summary"] else None,
             "layers": _table(sec["headers"], sec["rows"]) if sec["rows"] else None}
            for sec in compression_sections(r.compression)]


def _bitexact(r: Report) -> dict:
    rows = []
    for label, rec, src_key in (("C simulation", r.csim, "source"), ("RTL simulation", r.rtl_sim, "simulator")):
        if isinstance(rec, dict):
            label_src = rec.get(src_key) or rec.get("source")
            if src_key == "simulator" and rec.get("simulator_version"):
                label_src = f"{label_src} {rec.get('simulator_version')}"
            rows.append((label, num(rec.get("bit_exact_fraction")), rec.get("n_samples"), num(rec.get("max_abs_diff")),
                         num(rec.get("accuracy")), src(label_src)))
        else:
            rows.append((label, _not_run_cell(), None, None, None, src(None)))
    for key, label in (("uart", "UART wrapper RTL, over its serial line"), ("post_route", "routed netlist, gate level")):
        rec = (r.rtl_sim or {}).get(key) if isinstance(r.rtl_sim, dict) else None
        if isinstance(rec, dict):
            where = rec.get("simulator") or "icarus"
            if key == "post_route":
                where = f"{where}; {rec.get('cell_models')}"
            rows.append((label, num(rec.get("bit_exact_fraction")), rec.get("n_samples"), num(rec.get("max_abs_diff")),
                         None, src(where)))
    return {"table": _table(("check", "bit-exact fraction vs QKeras", "samples", "max |diff|", "accuracy", "source"), rows)}


def _convert(r: Report) -> dict:
    conv = r.convert
    if not isinstance(conv, dict):
        return {"not_run": ""}
    return {"table": _kv_table(conv, skip=("layers",)), "hls4ml": conv.get("hls4ml_version")}


def _synth(r: Report, board: dict | None, plots: dict) -> dict:
    synth = [synth_dict(s) for s in r.synth]
    if not synth:
        return {"not_run": "no synthesis source ran"}
    keys = [k for k in RESOURCE_KEYS if any(k in (s.get("resources") or {}) for s in synth)]
    capacity = (board or {}).get("capacity") or {}
    headers = ["source", "kind", "tool"]
    for k in keys:
        cap = capacity.get(k)
        headers.append(f"{RESOURCE_LABELS.get(k, k)} used" + (f" (% of {fmt(cap)})" if cap else ""))
    headers += ["fits", "latency (cycles)", "II", "clock used (MHz)", "latency (ns)", "throughput (samples/s)"]
    rows, over_board = [], []
    for s in synth:
        util = utilization_pct(s, capacity)
        res = s.get("resources") or {}
        fig = fpga_figures(s)
        lo, hi = s.get("latency_cycles_min"), s.get("latency_cycles_max")
        cycles = f"{fmt(lo)}–{fmt(hi)}" if lo is not None and hi is not None and lo != hi else (hi if hi is not None else lo)
        row: list[Any] = [src(s.get("source")), s.get("kind"), f"{s.get('tool', '')} {s.get('tool_version', '')}".strip()]
        for k in keys:
            pct = num(util.get(k))
            row.append(Cell("used", fmt(num(res.get(k))), pct=fmt(pct, 3) if pct is not None else None))
        fits = s.get("fits")
        row.append(Cell("bad", "NO") if fits is False else ("yes" if fits else "?"))
        row += [cycles, fig["ii"], fig["clock_mhz"], fig["latency_ns"], fig["throughput_sps"]]
        rows.append(row)
        if fits is False:
            over = ", ".join(f"{RESOURCE_LABELS.get(k, k)} {v:.0f}%" for k, v in util.items() if v > 100)
            over_board.append({"source": s.get("source"), "over": over})
    notes = [{"source": s.get("source"), "text": n} for s in synth for n in (s.get("notes") or [])]
    notes += [{"source": s.get("source"), "text": "uncertainty " + ", ".join(f"{k} {v}" for k, v in s["uncertainty"].items())}
              for s in synth if s.get("uncertainty")]
    return {"table": _table(headers, rows, "wide"), "over_board": over_board, "board_name": (board or {}).get("name"),
            "notes": notes,
            "img": _img(plots.get("utilization"),
                        "Resource use in % of the board's capacity, one bar group per synthesis source")}


def _engine_name(b: dict) -> str:
    return f"{b.get('engine') or 'tensorflow'} {b.get('engine_version') or ''}".strip()


def _baselines(r: Report) -> dict:
    from hwgen.baseline.compare import best_by_batch, describe

    rows_in = r.baselines or []
    if not rows_in:
        return {"not_run": "`hwgen baseline RUN_DIR` times the network with ONNX Runtime, numpy and TensorFlow"}
    env = r.baseline_env or {}
    best = best_by_batch(rows_in)
    out: dict[str, Any] = {"best": None, "env": None, "exports": [], "checks": [], "definitions": [], "agreement": None}
    if best:
        out["best"] = _table(("batch", "engine (network, device, mode, threads)", "latency median (µs)", "latency p99 (µs)",
                              "throughput (samples/s)", "source"),
                             [(e["batch"], describe(e), num(e.get("latency_us_median")), num(e.get("latency_us_p99")),
                               num(e.get("throughput_sps")), src(e.get("source"))) for e in best])
    rows = []
    for b in rows_in:
        if b.get("available"):
            rows.append((_engine_name(b), b.get("model"), b.get("device"), b.get("device_name"), b.get("mode"),
                         b.get("threads"), b.get("batch"), num(b.get("latency_us_median")), num(b.get("latency_us_p99")),
                         num(b.get("throughput_sps")), b.get("reps"), b.get("warmup"), src(b.get("source"))))
        else:
            mode = f"{b.get('mode')}, batch {b.get('batch')}" if b.get("mode") else "all modes"
            rows.append((_engine_name(b), b.get("model"), b.get("device"), b.get("device_name") or "–", mode,
                         b.get("threads"), b.get("batch"), _not_run_cell(f"not available: {b.get('reason')}", colspan=5),
                         src(b.get("source"))))
    out["every"] = _table(("engine", "network", "device", "device name", "mode", "threads", "batch", "latency median (µs)",
                           "latency p99 (µs)", "throughput (samples/s)", "reps", "warm-up", "source"), rows, "wide")
    if not env:
        return out
    v, host = env.get("versions") or {}, env.get("host") or {}
    threads = env.get("threads") or {}
    tfth = threads.get("tensorflow") or threads  # schema 1 kept TensorFlow's pools at the top level
    blas = threads.get("numpy") or {}
    bits = [
        f"Python {v.get('python')}, numpy {v.get('numpy')}"
        + (f" ({blas.get('blas')} {blas.get('blas_version')}, {blas.get('blas_architecture')} kernels)" if blas.get("blas") else "")
        + (f", ONNX Runtime {v.get('onnxruntime')}" if v.get("onnxruntime") else "")
        + (f", onnx {v.get('onnx')}" if v.get("onnx") else "")
        + (f", TensorFlow {v.get('tensorflow')}, Keras {v.get('keras')}, QKeras {v.get('qkeras')}"
           if v.get("tensorflow") else ", no TensorFlow"),
        f"CPU {host.get('cpu_model')} ({host.get('cpu_cores_usable')} usable cores; TensorFlow intra-op "
        f"threads {tfth.get('intra_op')}, inter-op {tfth.get('inter_op')}, 0 = TensorFlow default)",
    ]
    load = host.get("load_avg_at_start") or host.get("load_avg_1m_at_start")
    if load is not None:
        bits.append(f"host load average (1, 5, 15 min) at start {load}, at end {host.get('load_avg_at_end')}")
    gpu = (env.get("devices") or {}).get("gpu") or {}
    if gpu:
        bits.append(f"GPU: {gpu.get('device_name')}" if gpu.get("available") else f"GPU not available: {gpu.get('reason')}")
    out["env"] = "; ".join(bits) + "."
    exports = env.get("exports") or {}
    if exports:
        out["exports"] = [
            {"name": name, "file": exp.get("file"), "sha256": str(exp.get("sha256"))[:16], "opset": exp.get("opset"),
             "origin": exp.get("origin"), "reason": exp.get("reason")}
            for name, exp in exports.items()
        ]
        out["checks"] = [
            f"{key} vs {c.get('against')} on the test set: max |diff| {fmt(num(c.get('max_abs_diff')))}, same class for "
            f"{fmt(100 * (c.get('argmax_agreement') or 0), 4)}%" + (", bit-identical" if c.get("exactly_equal") else "")
            for key, c in ((env.get("agreement") or {}).get("engines") or {}).items()
        ]
    defs = env.get("definitions") or {}
    if defs:
        flat = {k: t for k, t in defs.items() if isinstance(t, str)}
        flat.update({f"engine {k}": t for k, t in (defs.get("engines") or {}).items()})
        out["definitions"] = list(flat.items())
    agr = env.get("agreement") or {}
    if agr.get("argmax_agreement") is not None:
        out["agreement"] = (f"float vs QKeras on {agr.get('n_samples')} test samples: same class for "
                            f"{fmt(100 * agr['argmax_agreement'], 4)}% of them, max |logit diff| {fmt(agr.get('max_abs_logit_diff'))}.")
    return out


def _comparison(r: Report, plots: dict) -> dict:
    comp = r.comparison
    if not comp:
        missing = [w for w, have in (("synthesis", r.synth), ("software baseline", r.baselines)) if not have]
        return {"not_run": "needs " + " and ".join(missing) if missing else "no source gave a latency"}
    lat_rows, tp_rows = [], []
    for c in comp:
        lat_rows.append((src(c.get("fpga_source")), num(c.get("fpga_latency_ns")), num(c.get("sw_latency_us")),
                         c.get("sw_latency_engine"), src(c.get("sw_latency_source")), num(c.get("latency_ratio"))))
        tp_rows.append((src(c.get("fpga_source")), num(c.get("fpga_clock_mhz")), num(c.get("fpga_ii")),
                        num(c.get("fpga_throughput_sps")), num(c.get("sw_throughput_sps")), c.get("sw_throughput_batch"),
                        c.get("sw_throughput_engine"), src(c.get("sw_throughput_source")), num(c.get("throughput_ratio"))))
    return {
        "latency": _table(("FPGA source", "FPGA latency (ns)", "best software batch-1 latency (µs, median)",
                           "software engine", "software source", "ratio (software / FPGA)"), lat_rows, "wide"),
        "throughput": _table(("FPGA source", "FPGA clock (MHz)", "FPGA II (cycles)", "FPGA throughput (samples/s, clock/II)",
                              "best software throughput (samples/s)", "software batch", "software engine",
                              "software source", "ratio (FPGA / software)"), tp_rows, "wide"),
        "img": _img(plots.get("latency"), "FPGA latency and throughput against each software engine's best (log axes)"),
    }


def _train(r: Report) -> dict:
    if not isinstance(r.train, dict) or not r.train:
        return {"not_run": ""}
    return {"table": _kv_table(r.train, skip=("layers",))}


def _stages(r: Report) -> dict:
    if not r.stages:
        return {"not_run": "no stage times recorded"}
    return {"table": _table(("stage", "wall time (s)"), [(k, num(v)) for k, v in r.stages.items()])}


# --------------------------------------------------------------------------------------------
# page


def existing_plots(run_dir: Path | None) -> dict[str, Path]:
    """The report plots present in RUN/plots/ (as written by hwgen.report.plots.make_plots)."""
    if run_dir is None:
        return {}
    folder = Path(run_dir) / "plots"
    return {name: folder / f"{name}.png" for name in PLOT_NAMES if (folder / f"{name}.png").is_file()}


def render_html(report: "Report | dict", run_dir: Path | None = None, plots: dict[str, Path] | None = None) -> str:
    """The page as a string. Plots are embedded from `plots` ({name: png}) or else from the
    PNGs present in RUN_DIR/plots/ (utilization, latency, layers); reads, never writes."""
    from markupsafe import Markup

    r = as_report(report)
    plots = existing_plots(run_dir) if plots is None else plots
    board = r.board
    context = {
        "title": f"hwgen report: {r.run.get('name') or '?'}",
        "css": Markup(template_text(STYLESHEET)),  # a package file, not run data
        "not_run": NOT_RUN,
        "version": r.hwgen_version,
        "header": _header(r, board),
        "accuracy": _accuracy(r),
        "model": _model(r, plots),
        "compression": _compression(r),
        "bitexact": _bitexact(r),
        "synth": _synth(r, board, plots),
        "baselines": _baselines(r),
        "comparison": _comparison(r, plots),
        "convert": _convert(r),
        "train": _train(r),
        "stages": _stages(r),
    }
    return _environment().get_template(TEMPLATE).render(**context)


def write_html(report: "Report | dict", run_dir: Path) -> Path:
    """Write RUN/plots/*.png and the self-contained RUN/report.html (atomically); return the HTML path."""
    from hwgen.report.plots import make_plots

    run_dir = Path(run_dir)
    r = as_report(report)
    plots = make_plots(r, run_dir / "plots")
    return write_atomic(run_dir / "report.html", render_html(r, run_dir, plots).encode("utf-8"))
