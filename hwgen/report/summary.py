"""The one-screen summary `hwgen flow` / `hwgen report` print at the end."""

from __future__ import annotations

from hwgen.report.metrics import fmt, resources_of, utilization_of
from hwgen.report.model import Report, as_report


def summary_lines(report: "Report | dict") -> list[str]:
    r = as_report(report)
    acc, csim = r.accuracy, r.csim or {}
    out = [f"hwgen {r.run.get('name')} on {(r.board or {}).get('name')}"]
    out.append("  accuracy   " + "  ".join(f"{k} {acc[k]['value']:.4f}" for k in ("float", "qkeras", "csim", "rtl_sim") if acc.get(k) and acc[k].get("value") is not None))
    out.append(f"  model      params {fmt(r.model.get('params'))}  non-zero {fmt(r.model.get('nonzero'))}  sparsity {fmt(r.model.get('sparsity'))}  BOPs {fmt(r.model.get('bops'))}")
    if csim:
        word = "bit-exact" if csim.get("guaranteed", True) else "agreement (measured, NOT guaranteed)"
        out.append(f"  csim       {word} {csim['bit_exact_fraction']:.4f} of {csim['n_samples']}  max|diff| {csim['max_abs_diff']:g}")
    rtl = r.rtl_sim
    if rtl and rtl.get("n_samples") and rtl.get("bit_exact_fraction") is not None:
        out.append(f"  rtl sim    bit-exact {rtl['bit_exact_fraction']:.4f} of {rtl['n_samples']} ({rtl.get('simulator')})")
        post = rtl.get("post_route")
        if isinstance(post, dict) and post.get("bit_exact_fraction") is not None:
            out.append(f"  post-route bit-exact {post['bit_exact_fraction']:.4f} of {post['n_samples']} (routed netlist, gate level)")
    elif rtl:
        out.append(f"  rtl sim    not run: {rtl.get('skipped') or 'no samples simulated'}")
    for s in r.synth:
        res, util = resources_of(s), utilization_of(s)
        fit = "" if s.fits is not False else "  DOES NOT FIT"
        out.append(
            f"  {s.source[:28]:<28} LUT {fmt(res['lut'])} ({fmt(util['lut'], 3)}%)  FF {fmt(res['ff'])}  DSP {fmt(res['dsp'])}"
            f"  lat {fmt(s.latency_cycles_max)} cyc / {fmt(s.latency_ns)} ns{fit}"
        )
    if r.baselines:
        from hwgen.baseline.compare import best_latency, best_throughput, describe

        lat, tp = best_latency(r.baselines), best_throughput(r.baselines)
        if lat:
            out.append(f"  {'sw best batch-1 latency':<28} {fmt(lat.get('latency_us_median'))} µs  {describe(lat)}")
        if tp:
            out.append(f"  {'sw best throughput':<28} {fmt(tp.get('throughput_sps'))} samples/s at batch {tp.get('batch')}  {describe(tp)}")
    for n in r.notices:
        out.append(f"  note: {n}")
    return out
