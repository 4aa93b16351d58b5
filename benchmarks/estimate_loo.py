"""Leave-one-design-out and frozen held-out error of hwgen's analytical estimator (model v2).

Every calibration point (hwgen/synth/estimate/calibration.yaml: genuine vendor reports and hls4ml's own
C-synthesis baselines, each with provenance) is predicted with its whole *design* (the same hls4ml
project synthesized by other tool versions) left out of the fit of its family. The points of the
frozen held-out split (calibrate.HELDOUT_DESIGNS, listed below) are never in any fit; their error is
printed separately. Figures: sMAPE per target and family, latency within +-1 cycle, the spread
between two tool versions' reports of the same project, and the number of genuine points per tool
version.

    .venv/bin/python benchmarks/estimate_loo.py             # from the stored per-point counts (instant)
    .venv/bin/python benchmarks/estimate_loo.py --rebuild   # rebuild every hls4ml project and run
                                                            # estimate_project end to end (~1 min)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = ("lut", "ff", "dsp", "bram_18k", "latency")
LABELS = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM", "latency": "latency"}


def smape(pairs: list[tuple[float, float]]) -> float | None:
    vals = [2 * abs(p - m) / (abs(p) + abs(m)) if abs(p) + abs(m) > 0 else 0.0 for p, m in pairs]
    return 100.0 * sum(vals) / len(vals) if vals else None


def predictions(rebuild: bool) -> list[dict]:
    from hwgen.synth.estimate.calibration import load_calibration

    cal = load_calibration()
    rows = []
    if not rebuild:
        for p in cal.points:
            ex = None if p.split == "heldout" else p.id
            rows.append({"point": p, "pred": {t: cal.predict(p, t, exclude=ex) for t in TARGETS}})
        return rows
    from hwgen.synth.estimate import baselines, calibrate
    from hwgen.synth.estimate.estimator import estimate_project

    specs = {s["id"]: s for s in calibrate.POINTS}
    cases = {}
    for case, version, path in baselines.cases(calibrate.REPO_ROOT):
        cases[f"hls4ml_{case.backend}_{version}_{path.stem.replace('test_keras_api_test_', '')}"] = case
    built: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="hwgen-loo-") as tmp:
        for p in cal.points:
            out = Path(tmp) / p.group
            if p.group not in built:
                if p.id in specs:
                    specs[p.id]["builder"](out)
                else:
                    baselines.build(cases[p.id], out)
                built[p.group] = out
            ex = None if p.split == "heldout" else p.id
            est = estimate_project(built[p.group], tool=p.tool, exclude_point=ex, calibration=cal)
            pred = dict(est.total)
            pred["latency"] = est.latency_cycles_max
            rows.append({"point": p, "pred": pred})
    return rows


def table(rows: list[dict]) -> str:
    fams = sorted({r["point"].family for r in rows})
    head = f"{'family':<12} {'points':>6} " + " ".join(f"{LABELS[t]:>13}" for t in TARGETS) + f" {'lat +-1':>13}"
    lines = [head, "-" * len(head)]
    for fam in fams + ["all"]:
        sel = [r for r in rows if fam == "all" or r["point"].family == fam]
        cells = []
        for t in TARGETS:
            pairs = [(r["pred"][t], r["point"].measured[t]) for r in sel
                     if t in r["point"].use and t in r["point"].measured and r["pred"].get(t) is not None]
            s = smape(pairs)
            cells.append(f"{s:.1f}% ({len(pairs)})" if s is not None else "-")
        lat = [abs(r["pred"]["latency"] - r["point"].measured["latency"]) <= 1 for r in sel
               if "latency" in r["point"].use and "latency" in r["point"].measured]
        cells.append(f"{100.0 * sum(lat) / len(lat):.0f}% ({len(lat)})" if lat else "-")
        lines.append(f"{fam:<12} {len(sel):>6} " + " ".join(f"{c:>13}" for c in cells))
    return "\n".join(lines)


def version_spread(rows: list[dict]) -> str:
    """The noise floor of a fit that pools tool versions: the same hls4ml project synthesized by two
    versions of one family, one version's report taken as the 'prediction' of the other's."""
    by_design: dict[tuple[str, str], dict[str, dict]] = {}
    for r in rows:
        p = r["point"]
        by_design.setdefault((p.family, p.group), {})[p.tool] = p.measured
    pairs: dict[tuple[str, str], dict[str, list]] = {}
    for (_fam, _design), tools in by_design.items():
        names = sorted(tools)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                cell = pairs.setdefault((a, b), {t: [] for t in ("lut", "ff", "dsp", "latency")})
                for t in cell:
                    if t in tools[a] and t in tools[b]:
                        cell[t].append((tools[a][t], tools[b][t]))
    lines = [f"{'versions':<38} {'designs':>7} " + " ".join(f"{LABELS[t]:>8}" for t in ("lut", "ff", "dsp", "latency"))]
    for (a, b), cell in sorted(pairs.items()):
        n = max(len(v) for v in cell.values())
        vals = " ".join(f"{smape(cell[t]):7.1f}%" if cell[t] else f"{'-':>8}" for t in ("lut", "ff", "dsp", "latency"))
        lines.append(f"{a + ' vs ' + b:<38} {n:>7} {vals}")
    return "\n".join(lines)


def main(argv=None) -> int:
    from hwgen.synth.estimate.calibrate import HELDOUT_DESIGNS

    ap = argparse.ArgumentParser(description="leave-one-design-out and held-out sMAPE of the hwgen estimator")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the hls4ml projects and estimate them end to end")
    ap.add_argument("--quiet", action="store_true", help="tables only")
    args = ap.parse_args(argv)
    rows = predictions(args.rebuild)
    if not args.quiet:
        print("Per point (prediction / measured; leave-one-design-out, or held out):")
        for r in rows:
            p = r["point"]
            cells = [f"{LABELS[t]} {r['pred'][t]:.0f}/{p.measured[t]:.0f}" for t in TARGETS
                     if t in p.use and t in p.measured and r["pred"].get(t) is not None]
            print(f"  {'H' if p.split == 'heldout' else ' '} {p.id:<64.64} {p.tool:<18} " + "  ".join(cells))
    fit = [r for r in rows if r["point"].split != "heldout"]
    held = [r for r in rows if r["point"].split == "heldout"]
    print("\nLeave-one-design-out sMAPE, fit points (cell: sMAPE% (points)):")
    print(table(fit))
    print(f"\nFrozen held-out split ({len(HELDOUT_DESIGNS)} designs, never fitted):")
    for d in sorted(HELDOUT_DESIGNS):
        print(f"  {d}")
    print(table(held))
    print("\nSame rebuilt project, two tool versions (sMAPE between the two genuine reports; a fit pooling")
    print("the two versions can at best predict their mean, so about half of it is that fit's floor):")
    print(version_spread(rows))
    print("\nGenuine points per tool version (fit + held out):")
    for tool, n in sorted(Counter(r["point"].tool for r in rows).items()):
        print(f"  {tool:<22} {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
