"""`hwgen estimate RUN_DIR` / `hwgen estimate --hls-project DIR --tool vitis_hls-2024.1`: analytical
per-layer and total DSP/LUT/FF/BRAM/URAM and latency/II of an hls4ml project, without vendor tools.

With a run directory the estimate of RUN/hls/ is written as RUN/synth/estimate_v2-<family>.json
(kind 'estimate', never mixed with parsed or synthesized figures); with --hls-project it is printed
(and written to --json-out when given).
"""

from __future__ import annotations

import json
from pathlib import Path

from hwgen.errors import HwgenError


def configure(parser) -> None:
    parser.add_argument("run_dir", nargs="?", type=Path, help="hwgen run directory (reads RUN/hls/, writes RUN/synth/)")
    parser.add_argument("--hls-project", type=Path, metavar="DIR",
                        help="an existing hls4ml project folder (hls4ml_config.yml, firmware/) instead of a run")
    parser.add_argument("--tool", default=None, metavar="FAMILY[-VERSION]",
                        help="tool whose C-synthesis report to predict: vitis_hls[-2024.1] or vivado_hls[-2019.2] "
                             "(default: the hls4ml backend the run or project was converted with: Vitis -> vitis_hls, "
                             "Vivado -> vivado_hls)")
    parser.add_argument("--part", default=None, help="FPGA part (default: the project's Part / the run's board)")
    parser.add_argument("--clock-mhz", type=float, default=None, help="target clock (default: the project's ClockPeriod)")
    parser.add_argument("--board", default=None, help="board registry name for utilization (default: the run's board)")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    parser.add_argument("--json-out", type=Path, default=None, metavar="FILE", help="also write the estimate JSON here")


def main(args) -> int:
    from hwgen.boards import load_board
    from hwgen.synth.estimate.estimator import estimate_project, estimate_run
    from hwgen.results import read_json, write_json

    if (args.run_dir is None) == (args.hls_project is None):
        raise HwgenError("give either a run directory or --hls-project DIR (not both)")
    if args.run_dir is not None:
        from hwgen.rundir import existing_run

        paths = existing_run(args.run_dir)
        manifest = read_json(paths.manifest)
        board_name = args.board or manifest.get("board")
        if isinstance(board_name, dict):  # newer manifests record the whole board entry
            board_name = board_name.get("name")
        board = load_board(board_name) if board_name else None
        est, _result, out = estimate_run(paths.root, board, tool=args.tool, part=args.part,
                                         clock_mhz=args.clock_mhz)
        where = f"wrote {out}"
    else:
        board = load_board(args.board) if args.board else None
        est = estimate_project(args.hls_project, tool=args.tool, part=args.part or getattr(board, "part", None),
                               clock_mhz=args.clock_mhz)
        where = ""
    record = est.to_dict()
    if board is not None:
        record["utilization_pct"] = {k: round(v, 2) for k, v in board.utilization(
            {k: est.total[k] for k in ("lut", "ff", "dsp", "bram_18k", "uram")}).items()}
        record["board"] = board.name
    if args.json_out:
        write_json(args.json_out, record)
    if args.json:
        print(json.dumps(record, indent=2, default=str))
    else:
        print(est.format_table())
        if where:
            print(where)
    return 0
