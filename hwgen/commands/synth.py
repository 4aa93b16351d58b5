"""`hwgen synth --open|--vendor|--estimate RUN_DIR`: add synthesis results to an existing run
and regenerate its report."""

from __future__ import annotations

from pathlib import Path

from hwgen.errors import HwgenError


def configure(p) -> None:
    p.add_argument("run_dir", help="a run directory made by `hwgen flow`")
    p.add_argument("--open", action="store_true", help="open path: da4ml Verilog, RTL simulation, Yosys, nextpnr")
    p.add_argument("--vendor", action="store_true", help="vendor HLS (vitis_hls / vivado_hls) when installed")
    p.add_argument("--estimate", action="store_true", help="hwgen's analytical estimate")
    p.add_argument("--board", help="board to synthesize for (default: the run's board)")
    p.add_argument("--timeout", type=float, default=3600.0, help="time limit per tool run, seconds")
    p.add_argument("--rtl-samples", type=int, default=300, help="test samples simulated at RTL level")


def main(args) -> int:
    from hwgen.boards import load_board
    from hwgen.flow import FlowOptions, run_synth_source
    from hwgen.progress import Progress
    from hwgen.report import summary_lines, write_report
    from hwgen.results import read_json
    from hwgen.rundir import existing_run

    paths = existing_run(Path(args.run_dir))
    sources = [s for s in ("vendor", "open", "estimate") if getattr(args, s)]
    if not sources:
        raise HwgenError("choose at least one of --open, --vendor, --estimate")
    manifest = read_json(paths.manifest)
    board = load_board(args.board or manifest["board"]["name"])
    opts = FlowOptions(board=board.name, tool_timeout_s=args.timeout, rtl_max_samples=args.rtl_samples)
    progress = Progress(len(sources))
    notices = []
    for source in sources:
        with progress.stage(source, f"{source} synthesis on {board.name}"):
            notices += run_synth_source(source, paths.root, board, opts, progress)
    for n in notices:
        print(f"hwgen: {n}")
    report = write_report(paths.root)
    print("\n".join(summary_lines(report)))
    return 0
