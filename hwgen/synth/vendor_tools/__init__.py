"""The vendors' own tools as a synthesis source: AMD Vitis HLS / Vivado HLS (and Vivado) runs
when they are installed, and the readers of every vendor report hwgen understands (AMD and
Intel), whether hwgen ran the tool or the report came from elsewhere (`hwgen parse-report`).

- `flow`: `vendor_tool()` finds Vitis HLS (else Vivado HLS); `run_vendor_synth(run_dir, board)`
  runs it on a copy of RUN/hls/ under RUN/synth/vendor/ and records one SynthResult per report.
- `reports`: `parse_report(path)` reads a report file or project folder into one `VendorReport`,
  through a registry of one module per report family.

(Not third-party code: hwgen's own wrappers around the vendors' tools and formats.)
"""

from hwgen.synth.vendor_tools.reports import VendorReport, find_reports, parse_report

__all__ = ["VendorReport", "find_reports", "parse_report"]
