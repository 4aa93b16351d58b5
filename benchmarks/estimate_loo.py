"""Leave-one-out evaluation of hwgen's analytical estimator over its calibration set.

For every calibration point the hls4ml project is rebuilt (as `hwgen.estimate.calibrate` does:
exact from the fixture where it has config + weights, reconstructed otherwise), then estimated
end to end with `estimate_project(..., exclude_point=<point>)`, i.e. with that point left out of
its family's factors, and compared with the measured figures (vendor report via parse_report, or
the published table). Prints sMAPE per resource and per tool family.

    .venv/bin/python benchmarks/estimate_loo.py            # rebuild projects (~30 s, needs TF/hls4ml)
    .venv/bin/python benchmarks/estimate_loo.py --stored   # use the raw estimates stored in calibration.yaml
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = ("lut", "ff", "dsp", "bram_18k", "latency")
LABELS = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM", "latency": "latency"}


def smape(pairs: list[tuple[float, float]]) -> float | None:
    vals = [2 * abs(p - m) / (abs(p) + abs(m)) for p, m in pairs if abs(p) + abs(m) > 0]
    return 100.0 * sum(vals) / len(vals) if vals else None


def predictions(stored: bool) -> list[dict]:
    from hwgen.estimate.calibration import load_calibration

    cal = load_calibration()
    rows = []
    if stored:
        for p in cal.points:
            pred = {t: p.raw.get(t, 0.0) * cal.factor(p.family, t, exclude=p.id) for t in TARGETS}
            rows.append({"point": p, "pred": pred})
        return rows
    from hwgen.estimate import calibrate
    from hwgen.estimate.estimator import estimate_project

    specs = {s["id"]: s for s in calibrate.POINTS}
    with tempfile.TemporaryDirectory(prefix="hwgen-loo-") as tmp:
        for p in cal.points:
            out = Path(tmp) / p.id
            specs[p.id]["builder"](out)
            est = estimate_project(out, tool=p.tool, exclude_point=p.id, calibration=cal)
            pred = dict(est.total)
            pred["latency"] = est.latency_cycles_max
            rows.append({"point": p, "pred": pred})
    return rows


def table(rows: list[dict], used_only: bool) -> str:
    fams = sorted({r["point"].family for r in rows})
    head = f"{'family':<12} {'n':>3} " + " ".join(f"{LABELS[t]:>12}" for t in TARGETS)
    lines = [head, "-" * len(head)]
    for fam in fams + ["all"]:
        sel = [r for r in rows if fam == "all" or r["point"].family == fam]
        cells = []
        for t in TARGETS:
            pairs = [(r["pred"][t], r["point"].measured[t]) for r in sel
                     if t in r["point"].measured and (t in r["point"].use or not used_only)]
            s = smape(pairs)
            cells.append(f"{s:.1f}% ({len(pairs)})" if s is not None else "-")
        lines.append(f"{fam:<12} {len(sel):>3} " + " ".join(f"{c:>12}" for c in cells))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="leave-one-out sMAPE of the hwgen estimator")
    ap.add_argument("--stored", action="store_true", help="use the stored raw estimates (no TF, instant)")
    args = ap.parse_args(argv)
    rows = predictions(args.stored)
    print("Per point (leave-one-out prediction / measured; * = used for that target):")
    for r in rows:
        p = r["point"]
        cells = []
        for t in TARGETS:
            if t in p.measured:
                mark = "*" if t in p.use else " "
                cells.append(f"{LABELS[t]} {r['pred'][t]:.0f}/{p.measured[t]:.0f}{mark}")
        print(f"  {p.id:<22} {p.family:<10} " + "  ".join(cells))
    print("\nLeave-one-out sMAPE, points used for each target (cell: sMAPE% (points)):")
    print(table(rows, used_only=True))
    print("\nSame, every point with a measurement (incl. targets a point is not trusted for):")
    print(table(rows, used_only=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
