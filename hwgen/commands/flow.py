"""`hwgen flow SPEC` and the options shared with `hwgen convert`."""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path

from hwgen.errors import HwgenError


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", nargs="?", help="model spec YAML, or a zoo name (see `hwgen models`)")
    p.add_argument("--model-file", help="your own trained QKeras model (.h5/.keras) instead of a spec")
    p.add_argument("--data", help="data file: .npz with X,y (or X_train/y_train/X_test/y_test), or CSV")
    p.add_argument("--trust-model-code", action="store_true", help="load model files with Lambda layers/custom objects")
    p.add_argument("--fold-batchnorm", action="store_true",
                   help="--model-file: fold batch norms into the preceding layer's quantized weights and fine-tune on "
                        "X_train/y_train from --data (the folded model becomes the exact reference)")
    p.add_argument("--input-bits", type=int, default=16, help="input fixed-point width for --model-file (default 16)")
    p.add_argument("--input-integer", type=int, default=5, help="input integer bits, sign excluded, for --model-file (default 5)")
    p.add_argument("--board", default=None, help="board name or part (see `hwgen boards`; default pynq-z2)")
    p.add_argument("--out", help="run directory (default runs/<model name>)")
    p.add_argument("--force", action="store_true", help="replace an earlier, different hwgen run in --out")
    p.add_argument("--untrained", action="store_true", help="skip training: seeded random weights, one-shot pruning")
    p.add_argument("--seed", type=int, help="override the spec's training seed")
    p.add_argument("--epochs", type=int, help="override the spec's number of epochs")
    p.add_argument("--bits", type=int, help="override every weight/bias/activation width (integer bits kept)")
    p.add_argument("--sparsity", type=float, help="override the pruning target sparsity")
    p.add_argument("--backend", choices=["Vitis", "Vivado"], help="hls4ml backend (default from spec: Vitis)")
    p.add_argument("--strategy", choices=["latency", "resource"], help="hls4ml strategy")
    p.add_argument("--reuse-factor", type=int, help="hls4ml reuse factor")
    p.add_argument("--io-type", choices=["io_parallel", "io_stream"], help="hls4ml IO type")
    p.add_argument("--clock-mhz", type=float, help="target clock (default: the board's)")
    p.add_argument("--classes", help="class names in class-number order, comma-separated, for string labels in --data")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


# option -> (low, high, integer?); None = unbounded on that side. Checked before any work.
_RANGES = {
    "seed": (0, 2**31 - 1, True),
    "epochs": (1, 10000, True),
    "bits": (2, 32, True),
    "sparsity": (0.0, 0.99, False),
    "reuse_factor": (1, 4096, True),
    "clock_mhz": (None, 2000.0, False),
    "input_bits": (2, 32, True),
    "input_integer": (0, 31, True),
    "baseline_reps": (1, 1_000_000, True),
    "rtl_samples": (1, 10_000_000, True),
    "timeout": (None, 30 * 24 * 3600.0, False),
}


def validate_options(args) -> None:
    """Every numeric option in range, with a message naming the option (before any work)."""
    for key, (lo, hi, integer) in _RANGES.items():
        value = getattr(args, key, None)
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, float) and not math.isfinite(value):
            raise HwgenError(f"{flag} must be a finite number, got {value}")
        if lo is None and value <= 0:
            raise HwgenError(f"{flag} must be > 0, got {value:g}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            shown = f"[{lo}, {hi}]" if lo is not None else f"(0, {hi:g}]"
            raise HwgenError(f"{flag} must be in {shown}, got {value:g}")
    if getattr(args, "input_integer", None) is not None and getattr(args, "input_bits", None) is not None:
        if args.input_integer > args.input_bits - 1:
            raise HwgenError(f"--input-integer ({args.input_integer}) must be at most --input-bits - 1 ({args.input_bits - 1}); the sign takes one bit")


def _class_names(args, n_classes: int) -> tuple[str, ...] | None:
    if not getattr(args, "classes", None):
        return None
    from hwgen.spec import parse_classes

    try:
        names = parse_classes("--classes", [c for c in args.classes.split(",")])
    except HwgenError as exc:
        raise HwgenError(str(exc).replace("spec --classes", "--classes")) from None
    if len(names) != n_classes:
        raise HwgenError(f"--classes names {len(names)} classes but the model has {n_classes} outputs")
    return names


def configure(p: argparse.ArgumentParser) -> None:
    add_model_arguments(p)
    p.add_argument("--synth", default="auto", help="comma-separated: auto (vendor if installed, else open; plus estimate), open, vendor, estimate, none")
    p.add_argument("--no-baseline", action="store_true", help="skip the software CPU/GPU baselines")
    p.add_argument("--baseline-reps", type=int, default=100, help="timed repetitions per baseline (default 100)")
    p.add_argument("--rtl-samples", type=int, default=300, help="test samples simulated at RTL level (default 300)")
    p.add_argument("--timeout", type=float, default=3600.0, help="time limit per synthesis tool run, seconds")


def spec_from_args(args):
    """The ModelSpec to run: the given spec with CLI overrides, or one describing --model-file."""
    from hwgen.spec import apply_overrides, check_schedule, load_spec

    validate_options(args)
    if args.model_file:
        if args.spec:
            raise HwgenError("give either a spec or --model-file, not both")
        from hwgen.pipeline.inputs import spec_for_model_file

        given = [f"--{k}" for k in ("bits", "sparsity", "epochs") if getattr(args, k, None) is not None]
        if given:
            raise HwgenError(f"{', '.join(given)} change how a spec is trained and do not apply to --model-file "
                             "(that model is trained already); leave them out")
        spec = spec_for_model_file(Path(args.model_file), args.data, input_bits=args.input_bits,
                                   input_integer=args.input_integer, trust_model_code=args.trust_model_code)
        hls = {"backend": args.backend, "strategy": args.strategy, "reuse_factor": args.reuse_factor, "io_type": args.io_type}
        spec = apply_overrides(spec, seed=args.seed, hls=hls)  # the seed of --fold-batchnorm's fine-tuning
        names = _class_names(args, spec.n_classes)
        return dataclasses.replace(spec, class_names=names) if names else spec
    if not args.spec:
        raise HwgenError("name a model spec (e.g. models/digits_mlp.yaml or digits_mlp) or pass --model-file")
    spec = load_spec(args.spec)
    hls = {"backend": args.backend, "strategy": args.strategy, "reuse_factor": args.reuse_factor, "io_type": args.io_type}
    # (validate_options has already checked each value's range with the option's name)
    spec = apply_overrides(spec, seed=args.seed, epochs=args.epochs, sparsity=args.sparsity, hls=hls,
                           weight_bits=args.bits, activation_bits=args.bits)
    check_schedule(spec.pruning, spec.training, lambda key, msg: HwgenError(
        f"{key} {msg} (after the command-line overrides --epochs/--sparsity)"))
    names = _class_names(args, spec.n_classes)
    if names:
        spec = dataclasses.replace(spec, class_names=names)
    return spec


def options_from_args(args, **extra):
    from hwgen.pipeline import DEFAULT_BOARD, FlowOptions

    synth = tuple(s.strip() for s in getattr(args, "synth", "none").split(",") if s.strip())
    return FlowOptions(
        board=args.board or DEFAULT_BOARD,
        out=Path(args.out) if args.out else None,
        force=args.force,
        untrained=args.untrained,
        data_path=args.data,
        synth=synth or ("none",),
        baseline=not getattr(args, "no_baseline", True),
        clock_mhz=args.clock_mhz,
        rtl_max_samples=getattr(args, "rtl_samples", 300),
        tool_timeout_s=getattr(args, "timeout", 3600.0),
        baseline_reps=getattr(args, "baseline_reps", 100),
        model_file=args.model_file,
        trust_model_code=args.trust_model_code,
        fold_batchnorm=getattr(args, "fold_batchnorm", False),
        quiet=args.quiet,
        **extra,
    )


def main(args) -> int:
    from hwgen.pipeline import run_flow
    from hwgen.report import summary_lines

    spec = spec_from_args(args)
    opts = options_from_args(args)
    result = run_flow(spec, opts)
    print("\n".join(summary_lines(result.report)))
    print(f"  run dir    {result.run_dir}  (report.json, report.md, report.html)")
    return 0 if result.ok else 1
