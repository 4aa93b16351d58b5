"""Live progress of long tool runs: the phase a tool is in, read from its log while it runs."""

from __future__ import annotations

import io
import sys
import time

from hwgen.progress import Progress
from hwgen.synth.open.nextpnr import nextpnr_phase
from hwgen.synth.open.yosys import yosys_phase
from hwgen.tools import Tool, log_watcher, run_tool

# Lines as nextpnr-ecp5 0.11.1 writes them (from a digits_mlp run on the 85k device).
NEXTPNR_PLACE = """Info: Logic utilisation before packing:
Info:     Total LUT4s:     40777/83640    48%
Info: Packing IOs..
Info: Running main analytical placer, max placement attempts per cell = 54276008.
Info:     at iteration #1, type ALL: wirelen solved = 12, spread = 99, legal = 100; time = 0.5s
"""
NEXTPNR_ANNEAL = """Info: Running simulated annealing placer for refinement.
Info:   at iteration #1: temp = 0.000000, timing cost = 6165, wirelen = 779247
Info:   at iteration #5: temp = 0.000000, timing cost = 7044, wirelen = 702656
"""
NEXTPNR_ROUTE1 = """Info: Routing..
Info: Setting up routing queue.
Info: Routing 139411 arcs.
Info:            |   (re-)routed arcs  |   delta    | remaining|       time spent     |
Info:    IterCnt |  w/ripup   wo/ripup |  w/r  wo/r |      arcs| batch(sec) total(sec)|
Info:       1000 |      419        580 |  419   580 |    139018|       5.22       5.22|
Info:       2000 |      883       1116 |  464   536 |    138734|       0.97       6.19|
"""
NEXTPNR_ROUTE2 = """Info: Running router2...
Info: Setting up routing resources...
Info: Running main router loop...
Info:     iter=1 wires=617900 overused=67263 overuse=91839 archfail=NA
"""


def test_nextpnr_phase_follows_the_log():
    assert nextpnr_phase("") is None
    assert nextpnr_phase(NEXTPNR_PLACE) == "nextpnr placing: analytical (HeAP)"
    assert nextpnr_phase(NEXTPNR_PLACE + NEXTPNR_ANNEAL) == "nextpnr placing: annealing iteration 5, wirelength 702,656"
    text = NEXTPNR_PLACE + NEXTPNR_ANNEAL + NEXTPNR_ROUTE1
    assert nextpnr_phase(text) == "nextpnr routing: 138,734 arcs left after 2,000 iterations"
    assert nextpnr_phase(NEXTPNR_PLACE + NEXTPNR_ANNEAL + NEXTPNR_ROUTE2) == (
        "nextpnr routing: router2 iteration 1, 67,263 overused wires"
    )


def test_yosys_phase_names_the_current_pass():
    log = "1. Executing Verilog-2005 frontend: src/a.v\n6. Executing SYNTH_ECP5 pass.\n6.74. Executing ABC pass.\n"
    assert yosys_phase(log) == "yosys: ABC pass (step 6.74)"
    assert yosys_phase(log.split("6.")[0]) == "yosys: Verilog-2005 frontend (step 1)"
    assert yosys_phase("6.46. Executing HIERARCHY pass (managing design hierarchy).\n") == "yosys: HIERARCHY pass (step 6.46)"
    assert yosys_phase("-- Executing script file `yosys.ys' --\n") is None


def test_run_tool_reports_phases_while_the_tool_runs(tmp_path):
    # A real child process that writes a log in phases; the watcher must see them while it runs.
    script = (
        "import sys, time\n"
        "for i in (1, 2, 3):\n"
        "    print(f'{i}. Executing STEP{i} pass.', flush=True)\n"
        "    time.sleep(0.6)\n"
    )
    tool = Tool(name="python", argv=(sys.executable, "-c", script), version="")
    seen: list[str] = []
    watch = log_watcher(tmp_path / "t.log", yosys_phase, seen.append, every_s=0.0)
    run = run_tool(tool, [], tmp_path, tmp_path / "t.log", timeout_s=30, watch=watch, poll_s=0.2)
    assert run.returncode == 0 and not run.timed_out
    steps = [line.split(" pass")[0] for line in seen]
    assert "yosys: STEP1" in steps and "yosys: STEP2" in steps
    assert all(line.endswith(")") and "(0:0" in line for line in seen)  # elapsed time m:ss


def test_run_tool_time_limit_still_applies_with_a_watcher(tmp_path):
    tool = Tool(name="python", argv=(sys.executable, "-c", "import time; time.sleep(30)"), version="")
    t0 = time.monotonic()
    run = run_tool(tool, [], tmp_path, tmp_path / "t.log", timeout_s=1.0, check=False, watch=lambda _t: None, poll_s=0.3)
    assert run.timed_out and run.returncode == -9
    assert time.monotonic() - t0 < 10


def test_plain_progress_thins_a_topic_but_keeps_its_last_word():
    out = io.StringIO()
    progress = Progress(1, stream=out)
    with progress.stage("open", "open synthesis"):
        progress.update("yosys: ABC pass (step 6.74) (0:30)")
        progress.update("yosys: CHECK pass (step 6.80) (0:31)")  # same topic within 5 s: held back
        progress.update("yosys: 27060 lut4, 12923 ff in 63 s")  # replaces the held-back line
        progress.update("nextpnr: placing and routing")  # new topic: the held-back line comes first
        progress.update("nextpnr: Fmax 70.1 MHz")  # held back, printed at the end of the stage
    lines = out.getvalue().splitlines()
    texts = [line.split("open", 1)[1].strip() for line in lines]
    assert "yosys: CHECK pass (step 6.80) (0:31)" not in texts
    assert texts.index("yosys: 27060 lut4, 12923 ff in 63 s") < texts.index("nextpnr: placing and routing")
    assert texts.index("nextpnr: Fmax 70.1 MHz") < len(texts) - 1
    assert "done in" in lines[-1]
