"""The C/RTL co-simulation summary Vivado HLS / Vitis HLS write to
`<solution>/sim/report/<top>_cosim.rpt`: one row per RTL language,
`| Verilog | Pass | latency min | avg | max | II min | avg | max |`.

Not in the `parse_report` registry: it carries no resources, so it becomes no `VendorReport`
of its own; the vendor flow attaches it to the C-synthesis record (`extra["cosim"]`). Its title
line is the C-synthesis report's, so `hls_csynth` would take it and refuse it as incomplete.
No genuine fixture backs this reader; the layout follows hls4ml's cosim report reader.
"""

from __future__ import annotations

from pathlib import Path

from hwgen.errors import HwgenError


def read_cosim_summary(rpt: Path, log: Path) -> dict:
    """The first RTL row that ran: {rtl, status, latency_min/avg/max, interval_min/avg/max,
    report}. `log` is the tool log named in the error when the report is missing or holds no
    result row."""
    if not rpt.is_file():
        raise HwgenError(f"co-simulation was asked for but {rpt} was not written (log: {log})")
    for line in rpt.read_text(errors="replace").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 8 and cells[0] in ("Verilog", "VHDL") and cells[1] not in ("NA", ""):
            def num(x):
                return int(x) if x.isdigit() else None

            return {
                "rtl": cells[0], "status": cells[1], "latency_min": num(cells[2]), "latency_avg": cells[3],
                "latency_max": num(cells[4]), "interval_min": num(cells[5]), "interval_avg": cells[6],
                "interval_max": num(cells[7]), "report": str(rpt),
            }
    raise HwgenError(f"{rpt}: no Verilog/VHDL result row; co-simulation did not run to completion (log: {log})")
