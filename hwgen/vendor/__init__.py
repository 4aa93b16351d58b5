"""Vendor tools (Vivado/Vitis HLS, Vivado, oneAPI/Quartus): their reports and their synthesis flow.

`reports.parse_report` reads a report file or project folder into one `VendorReport`;
`flow.run_vendor_synth` runs the vendor HLS tool on a run's hls4ml project and records the results.
"""

from hwgen.vendor.reports import VendorReport, find_reports, parse_report

__all__ = ["VendorReport", "find_reports", "parse_report"]
