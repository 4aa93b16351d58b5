"""report.md: the Report as Markdown (every figure next to the label of its source)."""

from __future__ import annotations

from hwgen.report.compression import sections as compression_sections
from hwgen.report.compression import text as compression_text
from hwgen.report.metrics import fmt, resources_of, utilization_of
from hwgen.report.model import Report, as_report


def _identical(rec: dict, what: str) -> str:
    """'**300** of 300 samples identical (1.0000)': a count, so a fraction of 1 never reads as one sample."""
    frac, n = rec.get("bit_exact_fraction"), rec.get("n_samples")
    if frac is None or not n:
        return f"not compared ({what})"
    return f"**{round(frac * n)}** of {n} {what} identical ({frac:.4f})"


def _target_of(r: Report) -> str:
    """What the pruning target counts when it is not single weights (structured pruning removes
    or zeroes whole groups, so the weight sparsity above is of what remains)."""
    summary = (r.compression.get("structured") or {}).get("summary") or {}
    gran = summary.get("granularity")
    if not gran:
        return ""
    removed = " removed" if gran in ("neuron", "filter") else " zeroed"
    return f" of {gran} groups,{removed}; see Compression: structured"


def render_markdown(report: "Report | dict") -> str:
    r = as_report(report)
    run, model, acc = r.run, r.model, r.accuracy
    board = run.get("board") or {}
    if isinstance(board, str):
        board = {"name": board}
    lines = [
        f"# hwgen report: {run.get('name')}",
        "",
        f"Board **{board.get('name')}** (`{board.get('part')}`, {board.get('clock_mhz')} MHz) · hwgen {r.hwgen_version} · run `{(run.get('fingerprint') or '')[:12]}`",
        "",
        "## Model",
        "",
        f"Parameters {fmt(model.get('params'))}, non-zero {fmt(model.get('nonzero'))}, sparsity {fmt(model.get('sparsity'))} (target {fmt(model.get('target_sparsity'))}{_target_of(r)}), BOPs {fmt(model.get('bops'))}. Source: {model.get('source')}.",
        "",
        "| layer | type | kernel | units | weight bits | act bits | params | non-zero | distinct weights | sparsity | BOPs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for layer in model.get("layers") or []:
        lines.append(
            f"| {layer.get('name')} | {layer.get('type')} | {compression_text(layer.get('kernel_shape'))} | "
            f"{fmt(layer.get('units'))} | {fmt(layer.get('weight_bits'))} | "
            f"{fmt(layer.get('activation_bits'))} | {fmt(layer.get('params'))} | {fmt(layer.get('nonzero'))} | "
            f"{fmt(layer.get('distinct_weights'))} | {fmt(layer.get('sparsity'))} | {fmt(layer.get('bops'))} |"
        )
    for sec in compression_sections(r.compression):
        lines += ["", f"## Compression: {sec['method']}", ""]
        lines += [f"- {k}: {v}" for k, v in sec["summary"]]
        if sec["rows"]:
            lines += ["", "| " + " | ".join(sec["headers"]) + " |", "|" + "---|" * len(sec["headers"])]
            lines += ["| " + " | ".join(row) + " |" for row in sec["rows"]]
    lines += ["", "## Accuracy", "", f"On {acc.get('dataset')} ({fmt(acc.get('n_test'))} test samples).", "", "| | value | source |", "|---|---|---|"]
    for key in ("float", "qkeras", "csim", "rtl_sim"):
        entry = acc.get(key)
        value = ("n/a" if entry.get("value") is None else fmt(entry["value"])) if entry else "not run"
        lines.append(f"| {key} | {value} | {entry.get('source') if entry else ''} |")
    csim = r.csim
    lines += ["", "## Bit-exactness", ""]
    if csim:
        lines.append(f"- C-simulation vs QKeras logits: {_identical(csim, 'samples')}, max |diff| {fmt(csim.get('max_abs_diff'))} ({csim.get('source')}).")
        if csim.get("guaranteed") is False:
            measured = ", ".join((r.convert or {}).get("measured_only") or [])
            lines.append(f"- **Not guaranteed bit-exact**: {measured} computed in float32 by QKeras; the fraction above is measured on these samples only (`--fold-batchnorm` makes it exact).")
    final = (r.train or {}).get("final_activation")
    if final:
        lines.append(f"- The model's final {final} is left out: the logits before it are compared bit for bit.")
    for name, rec in ((r.train or {}).get("transforms") or {}).items():
        lines.append(f"- Transform `{name}` applied before the model became the reference: {fmt(rec)}.")
    rtl = r.rtl_sim
    if rtl:
        lines.append(f"- RTL simulation vs QKeras logits: {_identical(rtl, 'samples')} ({rtl.get('simulator')} {rtl.get('simulator_version', '')}).")
        uart, post = rtl.get("uart"), rtl.get("post_route")
        if isinstance(uart, dict):
            lines.append(f"- UART board wrapper (RTL, driven over its serial line): {_identical(uart, 'vectors')}.")
        if isinstance(post, dict):
            lines.append(
                f"- Routed netlist, gate-level ({post.get('simulator')}, {post.get('cell_models')}): {_identical(post, 'vectors')}; "
                f"routed Fmax {fmt(post.get('fmax_mhz'))} MHz."
            )
    conv = r.convert
    if conv:
        lines += ["", "## HLS project", "", f"hls4ml {conv.get('hls4ml_version')}, {conv.get('backend')} backend, {conv.get('strategy')} strategy, reuse factor {conv.get('reuse_factor')}, {conv.get('io_type')}, input `{conv.get('input_type')}`, clock {conv.get('clock_mhz')} MHz; project sha256 `{(conv.get('project_sha256') or '')[:16]}…`."]
    lines += ["", "## Hardware", ""]
    if r.synth:
        lines += ["| source | kind | LUT | FF | DSP | BRAM18 | LUT % | FF % | DSP % | fits | latency (cycles) | II | Fmax/clock (MHz) | latency (ns) |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for s in r.synth:
            res, util = resources_of(s), utilization_of(s)
            lines.append(
                f"| {s.source} | {s.kind} | {fmt(res['lut'])} | {fmt(res['ff'])} | {fmt(res['dsp'])} | "
                f"{fmt(res['bram'])} | {fmt(util['lut'], 3)} | {fmt(util['ff'], 3)} | {fmt(util['dsp'], 3)} | "
                f"{'yes' if s.fits else ('**NO**' if s.fits is False else '?')} | {fmt(s.latency_cycles_max)} | {fmt(s.ii_max)} | "
                f"{fmt(s.fmax_mhz or s.clock_mhz)} | {fmt(s.latency_ns)} |"
            )
        for s in r.synth:
            if s.fits is False:
                lines.append(f"\n**{s.source}: the design does not fit {board.get('name')}** ({', '.join(f'{k} {v:.0f}%' for k, v in s.utilization_pct.items() if v > 100)}).")
    else:
        lines.append("No synthesis source ran.")
    lines += ["", "## Software baselines", ""]
    if r.baselines:
        from hwgen.baseline.compare import best_by_batch, describe

        best = r.software_best or best_by_batch(r.baselines)
        if best:
            lines += ["Best measured software figure per batch size (over every engine, network and device):", "",
                      "| batch | engine | latency median (µs) | p99 (µs) | throughput (samples/s) | source |", "|---|---|---|---|---|---|"]
            for e in best:
                lines.append(f"| {e['batch']} | {describe(e)} | {fmt(e.get('latency_us_median'))} | {fmt(e.get('latency_us_p99'))} | {fmt(e.get('throughput_sps'))} | {e.get('source')} |")
            lines.append("")
        lines += ["| engine | network | device | mode | threads | batch | latency median (µs) | p99 (µs) | throughput (samples/s) | reps |", "|---|---|---|---|---|---|---|---|---|---|"]
        for b in r.baselines:
            engine = f"{b.get('engine') or 'tensorflow'} {b.get('engine_version') or ''}".strip()
            if b.get("available", True):
                lines.append(f"| {engine} | {b.get('model')} | {b.get('device_name') or b.get('device')} | {b.get('mode')} | {fmt(b.get('threads'))} | {b.get('batch')} | {fmt(b.get('latency_us_median'))} | {fmt(b.get('latency_us_p99'))} | {fmt(b.get('throughput_sps'))} | {fmt(b.get('reps'))} |")
            else:
                lines.append(f"| {engine} | {b.get('model')} | {b.get('device')} | {b.get('mode') or 'all'} | | – | not available: {b.get('reason')} | | | |")
        host = ((r.baseline_env or {}).get("host") or {})
        if host.get("load_avg_at_start") is not None:
            lines += ["", f"Host load average (1, 5, 15 min) at start {host.get('load_avg_at_start')}, at end {host.get('load_avg_at_end')}; {host.get('cpu_model')}, {host.get('cpu_cores_usable')} usable cores."]
    else:
        lines.append("Not run.")
    if r.comparison:
        lines += ["", "## FPGA vs software", "", "Software: the best measured figure over every engine, network and device (latency: batch 1; throughput: the best batch). FPGA: latency = cycles × clock period, throughput = clock / II. A ratio above 1 means the FPGA is better.", "",
                  "| FPGA source | FPGA latency (ns) | software batch-1 latency (µs) | software engine | latency ratio (sw/FPGA) | FPGA throughput (samples/s) | software throughput (samples/s) | software batch, engine | throughput ratio (FPGA/sw) |", "|---|---|---|---|---|---|---|---|---|"]
        for c in r.comparison:
            lines.append(f"| {c.get('fpga_source')} | {fmt(c.get('fpga_latency_ns'))} | {fmt(c.get('sw_latency_us'))} | {c.get('sw_latency_engine')} | {fmt(c.get('latency_ratio'))} | {fmt(c.get('fpga_throughput_sps'))} | {fmt(c.get('sw_throughput_sps'))} | {c.get('sw_throughput_batch')}, {c.get('sw_throughput_engine')} | {fmt(c.get('throughput_ratio'))} |")
    if r.notices:
        lines += ["", "## Notices", ""] + [f"- {n}" for n in r.notices]
    if r.stages:
        lines += ["", "## Stage wall times (s)", "", " · ".join(f"{k} {v:.1f}" for k, v in r.stages.items())]
    return "\n".join(lines) + "\n"
