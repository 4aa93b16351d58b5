"""`hwgen convert SPEC`: build (train, or --untrained) and generate the HLS project, then
C-simulate it; no synthesis or baselines."""

from __future__ import annotations

from hwgen.commands.flow import add_model_arguments, options_from_args, spec_from_args


def configure(p) -> None:
    add_model_arguments(p)
    p.add_argument("--no-csim", action="store_true", help="stop after writing the HLS project")


def main(args) -> int:
    from hwgen.pipeline import run_flow
    from hwgen.report import summary_lines

    spec = spec_from_args(args)
    opts = options_from_args(args, until="convert" if args.no_csim else "csim")
    result = run_flow(spec, opts)
    print("\n".join(summary_lines(result.report)))
    print(f"  HLS project {result.run_dir / 'hls'}")
    return 0 if result.ok else 1
