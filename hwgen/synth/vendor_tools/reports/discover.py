"""Which reports a project folder holds, by kind, and which one of each kind is the main one
(the top function's C-synthesis report, the one Vivado utilization report, the one folder of
oneAPI or i++ reports). Ambiguity is an error naming the candidates, never a silent pick.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

from hwgen.errors import HwgenError
from hwgen.synth.vendor_tools.reports import intel_hls, oneapi


def find_reports(root: str | os.PathLike) -> dict[str, Path | list[Path]]:
    """The reports inside a project directory, by kind: 'hls' (the top's C-synthesis report),
    'utilization' (one Vivado utilization report), 'oneapi' (the ndjson files of one project),
    'intel_hls' (the i++ json/js files). Kinds without a report, or with several candidates and
    nothing to choose between them, are left out."""
    return discover(Path(root))[0]


def discover(root: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """(found, problems): the main report of each kind under `root`, and for each kind whose
    candidates cannot be told apart, the error message saying so."""
    hls_xml, hls_rpt, util, oneapi_files, intel_files = [], [], [], [], []
    for file in _walk(root):
        name = file.name
        if name == "csynth.xml" or name.endswith("_csynth.xml"):
            hls_xml.append(file)
        elif name == "csynth.rpt" or name.endswith("_csynth.rpt"):
            hls_rpt.append(file)
        elif name.endswith(".rpt") and (name == "vivado_synth.rpt" or "utilization" in name):
            util.append(file)
        elif name in oneapi.FILE_NAMES:
            oneapi_files.append(file)
        elif name in intel_hls.FILE_NAMES:
            intel_files.append(file)
    found: dict[str, Any] = {}
    problems: dict[str, str] = {}
    try:
        hls = _choose_hls_report(root, hls_xml, hls_rpt)
        if hls is not None:
            found["hls"] = hls
    except HwgenError as exc:
        problems["hls"] = str(exc)
    if util:
        if len(util) == 1:
            found["utilization"] = util[0]
        elif sum(p.name == "vivado_synth.rpt" for p in util) == 1:
            found["utilization"] = next(p for p in util if p.name == "vivado_synth.rpt")
        else:
            problems["utilization"] = (
                f"{root}: several Vivado utilization reports ({', '.join(map(str, util))}); pass the one you mean"
            )
    for kind, files in (("oneapi", oneapi_files), ("intel_hls", intel_files)):
        if not files:
            continue
        folders = sorted({p.parent for p in files})
        if len(folders) == 1:
            found[kind] = sorted(files)
        else:
            problems[kind] = f"{root}: reports in several folders ({', '.join(map(str, folders))}); pass one of them"
    return found, problems


# Tool work folders (generated HDL, simulation, databases) hold no report and can be huge.
_SKIP_DIRS = {".autopilot", ".Xil", ".git", "__pycache__", "hdl", "verilog", "vhdl", "csim", "db", "node_modules"}


def _walk(root: Path, max_depth: int = 10) -> Iterator[Path]:
    root = Path(root)
    base = len(root.parts)
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).parts) - base
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and depth < max_depth)
        for name in sorted(files):
            yield Path(folder) / name


def _project_hints(start: Path, stop: Path) -> tuple[str | None, bool]:
    """hls4ml project name (and whether its backend wraps the top as <name>_axi) from project.tcl or
    hls4ml_config.yml in `start` or a parent, looking at most 4 levels above `stop`."""
    floor = max(1, len(stop.resolve().parts) - 4)
    folder = start.resolve()
    while len(folder.parts) >= floor:
        tcl = folder / "project.tcl"
        if tcl.is_file():
            text = tcl.read_text(errors="replace")
            m = re.search(r'^\s*set\s+project_name\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', text, re.M)
            b = re.search(r'^\s*set\s+backend\s+"?([A-Za-z_]+)"?', text, re.M)
            if m:
                return m.group(1), bool(b and "accelerator" in b.group(1).lower())
        cfg = folder / "hls4ml_config.yml"
        if cfg.is_file():
            text = cfg.read_text(errors="replace")
            m = re.search(r"^ProjectName:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$", text, re.M)
            b = re.search(r"^Backend:\s*(\S+)", text, re.M)
            if m:
                return m.group(1), bool(b and "accelerator" in b.group(1).lower())
        if folder.parent == folder:
            break
        folder = folder.parent
    return None, False


def _choose_hls_report(root: Path, xmls: list[Path], rpts: list[Path]) -> Path | None:
    if not xmls and not rpts:
        return None
    folders = sorted({p.parent for p in xmls + rpts})
    if len(folders) > 1:
        sol1 = [f for f in folders if "solution1" in f.parts]
        if len(sol1) == 1:
            folders = sol1
        else:
            raise HwgenError(
                f"{root}: C-synthesis reports in several folders ({', '.join(map(str, folders))}); "
                "pass the solution folder or the report file"
            )
    folder = folders[0]
    names = {p.name for p in xmls + rpts if p.parent == folder}
    top, axi = _project_hints(folder, root)
    order: list[str] = []
    if top:
        if axi:
            order += [f"{top}_axi_csynth.xml", f"{top}_axi_csynth.rpt"]
        order += [f"{top}_csynth.xml"]
    order += ["csynth.xml"]
    if top:
        order += [f"{top}_csynth.rpt"]
    order += ["csynth.rpt"]
    for name in order:
        if name in names:
            return folder / name
    for suffix in ("_csynth.xml", "_csynth.rpt"):
        cands = sorted(n for n in names if n.endswith(suffix))
        if len(cands) == 1:
            return folder / cands[0]
        if len(cands) > 1:
            raise HwgenError(
                f"{folder}: several C-synthesis reports ({', '.join(cands)}) and no project.tcl or "
                "hls4ml_config.yml naming the top function; pass the top's report file"
            )
    return None  # pragma: no cover
