"""`hwgen synth --open|--vendor|--estimate RUN_DIR`: add synthesis results to an existing run
and regenerate its report (the synth stages and the report stage of the one runner)."""

from __future__ import annotations

from pathlib import Path

from hwgen.errors import HwgenError


def configure(p) -> None:
    p.add_argument("run_dir", help="a run directory made by `hwgen flow`")
    p.add_argument("--open", action="store_true", help="open path: da4ml Verilog, RTL simulation, Yosys, nextpnr")
    p.add_argument("--vendor", action="store_true", help="vendor HLS (vitis_hls / vivado_hls) when installed")
    p.add_argument("--estimate", action="store_true", help="hwgen's analytical estimate")
    p.add_argument("--estimate-tool", help="tool whose reports the estimate predicts, e.g. vivado_hls-2019.2 "
                                           "(default: the family of the run's hls4ml backend)")
    p.add_argument("--board", help="board to synthesize for (default: the run's board)")
    p.add_argument("--timeout", type=float, default=3600.0, help="time limit per tool run, seconds")
    p.add_argument("--rtl-samples", type=int, default=300, help="test samples simulated at RTL level")
    p.add_argument("--trust-model-code", action="store_true",
                   help="the run's model has Lambda layers/custom objects and you trust it (as for `hwgen flow`)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def main(args) -> int:
    from hwgen.commands.flow import validate_options
    from hwgen.pipeline import run_on_existing
    from hwgen.report import summary_lines

    validate_options(args)
    sources = [s for s in ("vendor", "open", "estimate") if getattr(args, s)]
    if not sources:
        raise HwgenError("choose at least one of --open, --vendor, --estimate")
    options = {"tool_timeout_s": args.timeout, "rtl_max_samples": args.rtl_samples,
               "trust_model_code": args.trust_model_code}
    if args.estimate_tool:
        options["estimate_tool"] = args.estimate_tool
    result = run_on_existing(Path(args.run_dir), [f"synth:{s}" for s in sources] + ["report"], board=args.board,
                             options=options, quiet=args.quiet)
    for n in result.notices:
        print(f"hwgen: {n}")
    print("\n".join(summary_lines(result.report)))
    return 0 if not result.synth_errors else 1
