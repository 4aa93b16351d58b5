"""Stage: the report. Collects what the earlier stages wrote into one report.json (documented
in docs/report-json.md), a Markdown report.md and a self-contained report.html with plots.
Every figure carries the label of its source. `hwgen report RUN_DIR` regenerates all three.
"""

from __future__ import annotations

import importlib.util
import platform
from pathlib import Path
from typing import Any

from hwgen import __version__
from hwgen.results import read_json, read_synth_results, write_json
from hwgen.rundir import RunPaths


def _maybe(path: Path) -> Any:
    return read_json(path) if Path(path).is_file() else None


def _labelled(value, source):
    return {"value": value, "source": source} if value is not None else None


def build_report(paths: RunPaths) -> dict:
    manifest = read_json(paths.manifest)
    train = _maybe(paths.train_json) or {}
    convert = _maybe(paths.convert_json)
    csim = _maybe(paths.csim_json)
    rtlsim = _maybe(paths.root / "rtlsim.json")
    baseline = _maybe(paths.baseline_dir / "baseline.json")
    synth = [s.to_dict() for s in read_synth_results(paths.root)]
    synth.sort(key=lambda s: ("parsed", "placed", "synthesized", "estimate").index(s["kind"]))
    data_src = train.get("dataset_source", "?")
    layers = train.get("layers", [])
    report = {
        "hwgen_version": __version__,
        "run": {
            "name": manifest.get("name"),
            "fingerprint": manifest.get("fingerprint"),
            "created": manifest.get("created"),
            "board": manifest.get("board"),
            "options": manifest.get("options"),
            "versions": manifest.get("versions"),
            "host": {"machine": platform.machine(), "python": platform.python_version()},
        },
        "model": {
            "name": manifest.get("name"),
            "layers": layers,
            "params": train.get("params"),
            "nonzero": train.get("nonzero"),
            "sparsity": train.get("sparsity"),
            "target_sparsity": train.get("target_sparsity"),
            "bops": train.get("bops"),
            "input_precision": train.get("input_precision"),
            "trained": train.get("trained"),
            "source": "train stage (QKeras model, quantized weights)",
        },
        "accuracy": {
            "float": _labelled(train.get("accuracy_float"), f"TensorFlow, quantizers removed, on {data_src}")
            if not train.get("float_unavailable") else {"value": None, "source": f"not available: {train['float_unavailable']}"},
            "qkeras": _labelled(train.get("accuracy_qkeras"), f"QKeras model on {data_src}"),
            "csim": _labelled((csim or {}).get("accuracy"), (csim or {}).get("source")),
            "rtl_sim": _labelled((rtlsim or {}).get("accuracy"), (rtlsim or {}).get("simulator")),
            "dataset": data_src,
            "n_test": train.get("n_test"),
        },
        "train": train,
        "convert": convert,
        "csim": csim,
        "rtl_sim": rtlsim,
        "synth": synth,
        "baselines": (baseline or {}).get("baselines", []),
        "baseline_env": {k: v for k, v in (baseline or {}).items() if k != "baselines"} or None,
        "software_best": _software_best((baseline or {}).get("baselines", [])),
        "comparison": [],
        "stages": manifest.get("stages", {}),
        "notices": manifest.get("notices", []),
    }
    html = _html_module()
    if html is not None and hasattr(html, "comparison_rows"):
        report["comparison"] = html.comparison_rows(synth, report["baselines"])
    return report


def _software_best(rows: list) -> list:
    """The fastest measured software row per batch size (hwgen.baseline.compare), [] without baselines."""
    if not rows:
        return []
    from hwgen.baseline.compare import best_by_batch

    return best_by_batch(rows)


def _html_module():
    if importlib.util.find_spec("hwgen.report_html") is None:
        return None
    import hwgen.report_html as html

    return html


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value == int(value) and abs(value) >= 1:
            return f"{int(value):,}"
        return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_markdown(r: dict) -> str:
    run, model, acc = r["run"], r["model"], r["accuracy"]
    board = run.get("board") or {}
    if isinstance(board, str):
        board = {"name": board}
    lines = [
        f"# hwgen report: {run['name']}",
        "",
        f"Board **{board.get('name')}** (`{board.get('part')}`, {board.get('clock_mhz')} MHz) · hwgen {r['hwgen_version']} · run `{(run.get('fingerprint') or '')[:12]}`",
        "",
        "## Model",
        "",
        f"Parameters {_fmt(model['params'])}, non-zero {_fmt(model['nonzero'])}, sparsity {_fmt(model['sparsity'])} (target {_fmt(model['target_sparsity'])}), BOPs {_fmt(model['bops'])}. Source: {model['source']}.",
        "",
        "| layer | type | units | weight bits | act bits | params | non-zero | sparsity | BOPs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for layer in model.get("layers") or []:
        lines.append(
            f"| {layer['name']} | {layer['type']} | {_fmt(layer.get('units'))} | {_fmt(layer.get('weight_bits'))} | "
            f"{_fmt(layer.get('activation_bits'))} | {_fmt(layer['params'])} | {_fmt(layer['nonzero'])} | "
            f"{_fmt(layer['sparsity'])} | {_fmt(layer['bops'])} |"
        )
    lines += ["", "## Accuracy", "", f"On {acc.get('dataset')} ({_fmt(acc.get('n_test'))} test samples).", "", "| | value | source |", "|---|---|---|"]
    for key in ("float", "qkeras", "csim", "rtl_sim"):
        entry = acc.get(key)
        value = ("n/a" if entry["value"] is None else _fmt(entry["value"])) if entry else "not run"
        lines.append(f"| {key} | {value} | {entry['source'] if entry else ''} |")
    csim = r.get("csim")
    lines += ["", "## Bit-exactness", ""]
    if csim:
        lines.append(f"- C-simulation vs QKeras logits: **{_fmt(csim['bit_exact_fraction'])}** of {csim['n_samples']} samples identical, max |diff| {_fmt(csim['max_abs_diff'])} ({csim['source']}).")
        if csim.get("guaranteed") is False:
            measured = ", ".join((r.get("convert") or {}).get("measured_only") or [])
            lines.append(f"- **Not guaranteed bit-exact**: {measured} computed in float32 by QKeras; the fraction above is measured on these samples only (`--fold-batchnorm` makes it exact).")
    final = (r.get("train") or {}).get("final_activation")
    if final:
        lines.append(f"- The model's final {final} is left out: the logits before it are compared bit for bit.")
    for name, rec in ((r.get("train") or {}).get("transforms") or {}).items():
        lines.append(f"- Transform `{name}` applied before the model became the reference: {_fmt(rec)}.")
    rtl = r.get("rtl_sim")
    if rtl:
        lines.append(f"- RTL simulation vs QKeras logits: **{_fmt(rtl.get('bit_exact_fraction'))}** of {rtl.get('n_samples')} samples identical ({rtl.get('simulator')} {rtl.get('simulator_version', '')}).")
    conv = r.get("convert")
    if conv:
        lines += ["", "## HLS project", "", f"hls4ml {conv['hls4ml_version']}, {conv['backend']} backend, {conv['strategy']} strategy, reuse factor {conv['reuse_factor']}, {conv['io_type']}, input `{conv['input_type']}`, clock {conv['clock_mhz']} MHz; project sha256 `{conv['project_sha256'][:16]}…`."]
    lines += ["", "## Hardware", ""]
    if r["synth"]:
        lines += ["| source | kind | LUT | FF | DSP | BRAM18 | LUT % | FF % | DSP % | fits | latency (cycles) | II | Fmax/clock (MHz) | latency (ns) |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for s in r["synth"]:
            res, util = s.get("resources", {}), s.get("utilization_pct", {})
            lut = res.get("lut", res.get("lut4", res.get("alut")))
            lut_pct = util.get("lut", util.get("lut4"))
            cycles = s.get("latency_cycles_max")
            lines.append(
                f"| {s['source']} | {s['kind']} | {_fmt(lut)} | {_fmt(res.get('ff'))} | {_fmt(res.get('dsp', res.get('mult18')))} | "
                f"{_fmt(res.get('bram_18k', res.get('ebr')))} | {_fmt(lut_pct, 3)} | {_fmt(util.get('ff'), 3)} | {_fmt(util.get('dsp', util.get('mult18')), 3)} | "
                f"{'yes' if s.get('fits') else ('**NO**' if s.get('fits') is False else '?')} | {_fmt(cycles)} | {_fmt(s.get('ii_max'))} | "
                f"{_fmt(s.get('fmax_mhz') or s.get('clock_mhz'))} | {_fmt(s.get('latency_ns'))} |"
            )
        for s in r["synth"]:
            if s.get("fits") is False:
                lines.append(f"\n**{s['source']}: the design does not fit {board.get('name')}** ({', '.join(f'{k} {v:.0f}%' for k, v in s['utilization_pct'].items() if v > 100)}).")
    else:
        lines.append("No synthesis source ran.")
    lines += ["", "## Software baselines", ""]
    if r["baselines"]:
        from hwgen.baseline.compare import best_by_batch, describe

        best = r.get("software_best") or best_by_batch(r["baselines"])
        if best:
            lines += ["Best measured software figure per batch size (over every engine, network and device):", "",
                      "| batch | engine | latency median (µs) | p99 (µs) | throughput (samples/s) | source |", "|---|---|---|---|---|---|"]
            for e in best:
                lines.append(f"| {e['batch']} | {describe(e)} | {_fmt(e.get('latency_us_median'))} | {_fmt(e.get('latency_us_p99'))} | {_fmt(e.get('throughput_sps'))} | {e.get('source')} |")
            lines.append("")
        lines += ["| engine | network | device | mode | threads | batch | latency median (µs) | p99 (µs) | throughput (samples/s) | reps |", "|---|---|---|---|---|---|---|---|---|---|"]
        for b in r["baselines"]:
            engine = f"{b.get('engine') or 'tensorflow'} {b.get('engine_version') or ''}".strip()
            if b.get("available", True):
                lines.append(f"| {engine} | {b.get('model')} | {b.get('device_name') or b.get('device')} | {b.get('mode')} | {_fmt(b.get('threads'))} | {b.get('batch')} | {_fmt(b.get('latency_us_median'))} | {_fmt(b.get('latency_us_p99'))} | {_fmt(b.get('throughput_sps'))} | {_fmt(b.get('reps'))} |")
            else:
                lines.append(f"| {engine} | {b.get('model')} | {b.get('device')} | {b.get('mode') or 'all'} | | – | not available: {b.get('reason')} | | | |")
        host = ((r.get("baseline_env") or {}).get("host") or {})
        if host.get("load_avg_at_start") is not None:
            lines += ["", f"Host load average (1, 5, 15 min) at start {host.get('load_avg_at_start')}, at end {host.get('load_avg_at_end')}; {host.get('cpu_model')}, {host.get('cpu_cores_usable')} usable cores."]
    else:
        lines.append("Not run.")
    if r.get("comparison"):
        lines += ["", "## FPGA vs software", "", "Software: the best measured figure over every engine, network and device (latency: batch 1; throughput: the best batch). FPGA: latency = cycles × clock period, throughput = clock / II. A ratio above 1 means the FPGA is better.", "",
                  "| FPGA source | FPGA latency (ns) | software batch-1 latency (µs) | software engine | latency ratio (sw/FPGA) | FPGA throughput (samples/s) | software throughput (samples/s) | software batch, engine | throughput ratio (FPGA/sw) |", "|---|---|---|---|---|---|---|---|---|"]
        for c in r["comparison"]:
            lines.append(f"| {c.get('fpga_source')} | {_fmt(c.get('fpga_latency_ns'))} | {_fmt(c.get('sw_latency_us'))} | {c.get('sw_latency_engine')} | {_fmt(c.get('latency_ratio'))} | {_fmt(c.get('fpga_throughput_sps'))} | {_fmt(c.get('sw_throughput_sps'))} | {c.get('sw_throughput_batch')}, {c.get('sw_throughput_engine')} | {_fmt(c.get('throughput_ratio'))} |")
    if r.get("notices"):
        lines += ["", "## Notices", ""] + [f"- {n}" for n in r["notices"]]
    if r.get("stages"):
        lines += ["", "## Stage wall times (s)", "", " · ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())]
    return "\n".join(lines) + "\n"


def write_report(run_dir: Path) -> dict:
    paths = RunPaths(Path(run_dir))
    report = build_report(paths)
    write_json(paths.report_json, report)
    (paths.root / "report.md").write_text(render_markdown(report))
    html = _html_module()
    if html is not None:
        html.write_html(report, paths.root)
    return report


def summary_lines(r: dict) -> list[str]:
    """The one-screen summary printed at the end of `hwgen flow`."""
    acc, csim = r["accuracy"], r.get("csim") or {}
    out = [f"hwgen {r['run']['name']} on {(r['run'].get('board') or {}).get('name')}"]
    out.append("  accuracy   " + "  ".join(f"{k} {acc[k]['value']:.4f}" for k in ("float", "qkeras", "csim", "rtl_sim") if acc.get(k) and acc[k]["value"] is not None))
    out.append(f"  model      params {_fmt(r['model']['params'])}  non-zero {_fmt(r['model']['nonzero'])}  sparsity {_fmt(r['model']['sparsity'])}  BOPs {_fmt(r['model']['bops'])}")
    if csim:
        word = "bit-exact" if csim.get("guaranteed", True) else "agreement (measured, NOT guaranteed)"
        out.append(f"  csim       {word} {csim['bit_exact_fraction']:.4f} of {csim['n_samples']}  max|diff| {csim['max_abs_diff']:g}")
    if r.get("rtl_sim") and r["rtl_sim"].get("n_samples") and r["rtl_sim"].get("bit_exact_fraction") is not None:
        out.append(f"  rtl sim    bit-exact {r['rtl_sim']['bit_exact_fraction']:.4f} of {r['rtl_sim']['n_samples']} ({r['rtl_sim'].get('simulator')})")
    elif r.get("rtl_sim"):
        out.append(f"  rtl sim    not run: {r['rtl_sim'].get('skipped') or 'no samples simulated'}")
    for s in r["synth"]:
        res = s.get("resources", {})
        lut = res.get("lut", res.get("lut4"))
        util = s.get("utilization_pct", {})
        pct = util.get("lut", util.get("lut4"))
        fit = "" if s.get("fits") is not False else "  DOES NOT FIT"
        out.append(
            f"  {s['source'][:28]:<28} LUT {_fmt(lut)} ({_fmt(pct, 3)}%)  FF {_fmt(res.get('ff'))}  DSP {_fmt(res.get('dsp', res.get('mult18')))}"
            f"  lat {_fmt(s.get('latency_cycles_max'))} cyc / {_fmt(s.get('latency_ns'))} ns{fit}"
        )
    if r["baselines"]:
        from hwgen.baseline.compare import best_latency, best_throughput, describe

        lat, tp = best_latency(r["baselines"]), best_throughput(r["baselines"])
        if lat:
            out.append(f"  {'sw best batch-1 latency':<28} {_fmt(lat.get('latency_us_median'))} µs  {describe(lat)}")
        if tp:
            out.append(f"  {'sw best throughput':<28} {_fmt(tp.get('throughput_sps'))} samples/s at batch {tp.get('batch')}  {describe(tp)}")
    for n in r.get("notices", []):
        out.append(f"  note: {n}")
    return out
