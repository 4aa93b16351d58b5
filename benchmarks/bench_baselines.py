"""Time every software engine on the zoo models (or given run directories) and print the tables.

    python benchmarks/bench_baselines.py                      # digits_mlp, digits_cnn, jet_mlp (untrained)
    python benchmarks/bench_baselines.py RUN_DIR [RUN_DIR ...] [--reps N] [--batches 1024,16384] [--device cpu|gpu|all]
    python benchmarks/bench_baselines.py RUN_DIR --existing   # print RUN/baseline/baseline.json as stored
    python benchmarks/bench_baselines.py --json out.json      # also write every record

Without RUN_DIR it makes the zoo runs under --work (default /tmp/hwgen-bench-baselines; reused
when already there) with `hwgen convert MODEL --no-csim` (digits_mlp and digits_cnn trained on
scikit-learn's digits; jet_mlp --untrained on synthetic inputs, as its dataset cannot be
downloaded here; speed does not depend on the weights' values). Each run is then timed by
hwgen.baseline.run_baselines (TensorFlow predict/tf_function/XLA, ONNX Runtime, numpy; CPU and,
where one can be used, GPU), which also rewrites RUN/baseline/.

Per model it prints the best figure per batch size, each engine's best batch-1 latency and best
throughput, and the ratio of the best CPU batch-1 latency to TensorFlow XLA's in the same run.
os.getloadavg() is printed before and after each model: the figures are only as quiet as the host.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hwgen.errors import HwgenError  # noqa: E402

ZOO = (("digits_mlp", []), ("digits_cnn", []), ("jet_mlp", ["--untrained"]))


def _make_run(work: Path, model: str, extra: list[str]) -> Path:
    run = work / model
    if (run / "train" / "model.h5").is_file() and (run / "train" / "data.npz").is_file():
        return run
    cmd = [sys.executable, "-m", "hwgen", "convert", model, "--no-csim", "--out", str(run), "--quiet", *extra]
    print(f"# making {run}: {' '.join(cmd[2:])}", flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise HwgenError(f"`{' '.join(cmd[2:])}` failed with exit code {proc.returncode}")
    return run


def _per_engine(record: dict) -> list[str]:
    """Each (engine, network, device)'s best batch-1 latency and best throughput."""
    from hwgen.baseline.compare import best_latency, best_throughput, describe

    groups: dict[tuple, list[dict]] = {}
    for r in record["baselines"]:
        groups.setdefault((r["engine"], r["model"], r["device"]), []).append(r)
    out = [f"{'engine':<34} {'network':<7} {'dev':<4} {'batch-1 median us':>17} {'p99 us':>9}  "
           f"{'best samples/s':>14} {'at batch':>8}  best rows"]
    for (engine, model, device), rows in groups.items():
        lat, tp = best_latency(rows), best_throughput(rows)
        if lat is None and tp is None:
            reason = next((r.get("reason") for r in rows if r.get("reason")), "")
            out.append(f"{engine:<34} {model:<7} {device:<4} not available: {reason[:90]}")
            continue
        name = f"{engine} {rows[0].get('engine_version') or ''}"[:34]
        out.append(
            f"{name:<34} {model:<7} {device:<4} {lat['latency_us_median'] if lat else float('nan'):>17.1f} "
            f"{lat['latency_us_p99'] if lat else float('nan'):>9.1f}  {tp['throughput_sps'] if tp else 0:>14,.0f} "
            f"{tp['batch'] if tp else '-':>8}  {describe(lat)} | {describe(tp)}"
        )
    return out


def _criterion(record: dict) -> str:
    """Best CPU batch-1 latency against TensorFlow XLA's best batch-1 latency in the same record."""
    from hwgen.baseline.compare import best_latency, describe

    cpu = [r for r in record["baselines"] if r["device"] == "cpu"]
    best = best_latency(cpu)
    xla = best_latency([r for r in cpu if r["engine"] == "tensorflow" and r["mode"] == "xla"])
    tf_best = best_latency([r for r in cpu if r["engine"] == "tensorflow"])
    if not best or not xla:
        return "best CPU vs TensorFlow XLA: not measured (" + ("no XLA row" if not xla else "no CPU row") + ")"
    ratio = best["latency_us_median"] / xla["latency_us_median"]
    return (f"best CPU batch-1 latency {best['latency_us_median']:.1f} us ({describe(best)}) = {ratio:.3f} x TensorFlow "
            f"XLA's {xla['latency_us_median']:.1f} us ({describe(xla)}); best TensorFlow mode "
            f"{tf_best['latency_us_median']:.1f} us ({tf_best['mode']}); "
            f"{'meets' if ratio <= 0.2 else 'MISSES'} the <= 1/5 target")


def main(argv: list[str] | None = None) -> int:
    from hwgen import baseline as b

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dirs", type=Path, nargs="*", help="run directories (default: the zoo, made under --work)")
    p.add_argument("--work", type=Path, default=Path("/tmp/hwgen-bench-baselines"))
    p.add_argument("--reps", type=int, default=b.DEFAULT_REPS)
    p.add_argument("--predict-reps", type=int, default=b.DEFAULT_PREDICT_REPS)
    p.add_argument("--throughput-reps", type=int, default=b.DEFAULT_THROUGHPUT_REPS)
    p.add_argument("--batches", default=",".join(map(str, b.DEFAULT_BATCHES)))
    p.add_argument("--device", choices=("all", "cpu", "gpu"), default="all")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--existing", action="store_true", help="print the stored baseline.json instead of timing again")
    p.add_argument("--full", action="store_true", help="also print every row")
    p.add_argument("--json", type=Path, default=None, help="write {run: record} here")
    args = p.parse_args(argv)
    records = {}
    try:
        runs = list(args.run_dirs) or [_make_run(args.work, m, extra) for m, extra in ZOO]
        for run in runs:
            print(f"\n=== {run}   load average before: {os.getloadavg()}", flush=True)
            if args.existing:
                record = b.read_baselines(run)
                if record is None:
                    raise HwgenError(f"{run}/baseline/baseline.json not found; run without --existing first")
            else:
                record = b.run_baselines(
                    run, reps=args.reps, predict_reps=args.predict_reps, throughput_reps=args.throughput_reps,
                    batches=tuple(int(x) for x in args.batches.split(",") if x.strip()),
                    devices=("cpu", "gpu") if args.device == "all" else (args.device,), threads=args.threads,
                )
            records[str(run)] = record
            text = b.format_table(record)
            if not args.full:  # the best-per-batch block and the environment lines; rows summarized per engine
                head, _, rest = text.partition("\n\n")
                print(head + "\n")
                print("\n".join(_per_engine(record)) + "\n")
                print("\n".join(rest.split("\n\n", 1)[-1].splitlines()))
            else:
                print(text)
            print(_criterion(record))
            checks = (record.get("agreement") or {}).get("engines") or {}
            for key, c in checks.items():
                print(f"check {key} vs {c['against']}: max |diff| {c['max_abs_diff']:.3g}, argmax agreement "
                      f"{c['argmax_agreement']:.4f}{', bit-identical' if c.get('exactly_equal') else ''}")
            print(f"load average after: {os.getloadavg()}")
    except HwgenError as exc:
        print(f"bench_baselines: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
