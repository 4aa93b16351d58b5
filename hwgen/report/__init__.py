"""The report stage: everything a run's stages wrote, as one typed `Report`, and its renderings.

This package owns report.json (its fields are documented in docs/report-json.md) and every
file derived from it: report.md, report.html (from the package templates
templates/report.html.j2 and templates/report.css) and plots/*.png. It also owns the
derivation of report figures, in one place, `hwgen.report.metrics`: the resource aliases of
each vendor (lut|lut4|alut, bram_18k|ebr|ram, ...), the fidelity order of synthesis kinds,
number formatting, FPGA latency/throughput, the FPGA-vs-software comparison and the flat
per-point metrics of a sweep. Other modules (the CLI, the flow, the sweep) read figures
through it rather than re-mapping vendor keys themselves.

Modules: model (Report, load_report), build (build_report, write_report), metrics,
markdown (render_markdown), summary (summary_lines), html (render_html, write_html),
plots (make_plots). Nothing here imports the flow or the sweep.

    from hwgen.report import build_report, write_report, load_report, render_markdown, summary_lines
    report = write_report(run_dir)          # a Report; report.json == report.to_dict()
"""

from hwgen.report.build import build_report, write_report
from hwgen.report.html import render_html, write_html
from hwgen.report.markdown import render_markdown
from hwgen.report.model import Report, load_report
from hwgen.report.summary import summary_lines

__all__ = ["Report", "build_report", "load_report", "render_html", "render_markdown", "summary_lines", "write_html",
           "write_report"]
