"""`hwgen baseline RUN_DIR`: time the run's network in software: ONNX Runtime, numpy and TensorFlow on
the CPU, and ONNX Runtime's CUDA provider (and TensorFlow) on a GPU when one is visible.

Writes RUN_DIR/baseline/baseline.json (and baseline/onnx/*.onnx) and prints the best figure per
batch size and the per-engine table. See hwgen/baseline/__init__.py for what 'float' and
'qkeras' mean and how each figure is measured.
"""

from __future__ import annotations

import argparse

from hwgen.errors import HwgenError


def _batches(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--batches must be comma-separated integers, got {text!r}") from None
    if not values or any(v < 2 for v in values):
        raise argparse.ArgumentTypeError(f"--batches needs integers >= 2 (batch 1 is always timed), got {text!r}")
    return values


def _engines(text: str) -> tuple[str, ...]:
    from hwgen.baseline import ENGINES

    values = tuple(v.strip() for v in text.split(",") if v.strip())
    if values == ("all",):
        return ENGINES
    bad = [v for v in values if v not in ENGINES]
    if not values or bad:
        raise argparse.ArgumentTypeError(f"--engine takes 'all' or a comma-separated list of {', '.join(ENGINES)}; "
                                         f"got {text!r}")
    return values


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    from hwgen import baseline as b

    parser.add_argument("run_dir", metavar="RUN_DIR", help="an hwgen run directory (made by `hwgen flow`)")
    parser.add_argument("--reps", type=_positive, default=b.DEFAULT_REPS,
                        help=f"timed batch-1 calls per row (default {b.DEFAULT_REPS}; Keras predict rows use at most "
                        f"--predict-reps)")
    parser.add_argument("--warmup", type=int, default=b.DEFAULT_WARMUP,
                        help=f"untimed calls before timing batch 1 (default {b.DEFAULT_WARMUP})")
    parser.add_argument("--predict-reps", type=_positive, default=b.DEFAULT_PREDICT_REPS,
                        help=f"cap on timed batch-1 Keras predict() calls, which cost tens of ms each "
                        f"(default {b.DEFAULT_PREDICT_REPS})")
    parser.add_argument("--throughput-reps", type=_positive, default=b.DEFAULT_THROUGHPUT_REPS,
                        help=f"timed calls per large-batch row (default {b.DEFAULT_THROUGHPUT_REPS})")
    parser.add_argument("--batches", type=_batches, default=b.DEFAULT_BATCHES,
                        help="large batch sizes for throughput, comma-separated (default "
                        + ",".join(map(str, b.DEFAULT_BATCHES)) + ")")
    parser.add_argument("--device", choices=("all", "cpu", "gpu"), default="all",
                        help="which devices to time (default all: CPU, and a GPU when an engine can use one)")
    parser.add_argument("--engine", type=_engines, default="all",
                        help="engines to time: all (default; torch only where it is installed) or a comma-separated list of "
                        "tensorflow, onnxruntime, numpy, torch")
    parser.add_argument("--threads", type=_positive, default=None,
                        help="threads for every engine (default: ONNX Runtime and numpy timed with 1 thread and with "
                        "all usable cores; TensorFlow's own default pool)")
    parser.add_argument("--trust-model-code", action="store_true",
                        help="load a model file with Lambda layers or custom objects (runs code from the file)")


def main(args: argparse.Namespace) -> int:
    from hwgen.baseline import format_table, run_baselines
    from hwgen.rundir import existing_run

    paths = existing_run(args.run_dir)
    if args.warmup < 0:
        raise HwgenError("--warmup must be >= 0")
    devices = ("cpu", "gpu") if args.device == "all" else (args.device,)
    record = run_baselines(
        paths.root,
        reps=args.reps,
        warmup=args.warmup,
        predict_reps=args.predict_reps,
        throughput_reps=args.throughput_reps,
        batches=args.batches,
        devices=devices,
        engines=args.engine if isinstance(args.engine, tuple) else _engines(args.engine),
        threads=args.threads,
        trust_code=args.trust_model_code,
    )
    print(format_table(record))
    print(f"wrote {paths.baseline_dir / 'baseline.json'}")
    return 0
