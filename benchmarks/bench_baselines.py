"""Print the software-baseline table of a run directory.

    python benchmarks/bench_baselines.py RUN_DIR [--reps N] [--batches 1024,16384] [--device cpu|gpu|all]
    python benchmarks/bench_baselines.py RUN_DIR --existing     # print RUN/baseline/baseline.json as stored

Without --existing it times the network again (hwgen.baseline.run_baselines, which also rewrites
RUN/baseline/baseline.json) and prints the table, the definitions of what was timed, and the
float-vs-QKeras agreement. A RUN_DIR needs train/model.h5 and train/data.npz (from `hwgen flow`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hwgen.errors import HwgenError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    from hwgen import baseline as b

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir", type=Path)
    p.add_argument("--reps", type=int, default=b.DEFAULT_REPS)
    p.add_argument("--predict-reps", type=int, default=b.DEFAULT_PREDICT_REPS)
    p.add_argument("--throughput-reps", type=int, default=b.DEFAULT_THROUGHPUT_REPS)
    p.add_argument("--batches", default=",".join(map(str, b.DEFAULT_BATCHES)))
    p.add_argument("--device", choices=("all", "cpu", "gpu"), default="all")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--existing", action="store_true", help="print the stored baseline.json instead of timing again")
    args = p.parse_args(argv)
    try:
        if args.existing:
            record = b.read_baselines(args.run_dir)
            if record is None:
                raise HwgenError(f"{args.run_dir}/baseline/baseline.json not found; run without --existing first")
        else:
            record = b.run_baselines(
                args.run_dir,
                reps=args.reps,
                predict_reps=args.predict_reps,
                throughput_reps=args.throughput_reps,
                batches=tuple(int(x) for x in args.batches.split(",") if x.strip()),
                devices=("cpu", "gpu") if args.device == "all" else (args.device,),
                threads=args.threads,
            )
    except HwgenError as exc:
        print(f"bench_baselines: error: {exc}", file=sys.stderr)
        return 2
    print(b.format_table(record))
    agr = record.get("agreement") or {}
    if agr.get("argmax_agreement") is not None:
        print(f"float vs qkeras on {agr['n_samples']} test samples: same class {agr['argmax_agreement']:.2%}, "
              f"max |logit diff| {agr['max_abs_logit_diff']:.3g}; accuracy float {agr.get('float_accuracy')}, "
              f"qkeras {agr.get('qkeras_accuracy')}")
    for name, text in (record.get("definitions") or {}).items():
        print(f"[{name}] {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
