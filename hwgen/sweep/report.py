"""Sweep results: one row per point (sweep.csv / sweep.json), the Pareto fronts (pareto.json),
their plots (plots/pareto_*.png) and a Markdown summary (sweep.md). Everything here is derived
from the per-point records in points/, so `write_sweep_report(dir)` can regenerate it at any
time (`hwgen report SWEEP_DIR`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hwgen.errors import HwgenError
from hwgen.report.metrics import SYNTH_METRIC_KEYS, fidelity_rank, fmt, num, synth_metrics
from hwgen.results import read_json, write_atomic, write_json
from hwgen.sweep.tasks import SCHEMA_POINT, now_iso, read_record

SCHEMA_SWEEP = "hwgen-sweep/1"
PARAM_COLUMNS = ("method", "weight_bits", "activation_bits", "sparsity_target", "seed", "epochs", "reuse_factor", "strategy",
                 "io_type", "backend", "board")
COLUMNS = (
    "id", "label", "status", "error_stage", "error",
    *PARAM_COLUMNS,
    "accuracy", "accuracy_float", "accuracy_qkeras", "accuracy_csim", "bit_exact", "bit_exact_fraction",
    "params", "nonzero", "sparsity", "bops",
    "synth_source", "lut", "ff", "dsp", "bram_18k", "lut_pct", "dsp_pct", "fits",
    "latency_cycles", "latency_ns", "ii", "fmax_mhz",
    "pareto_lut", "pareto_dsp", "pareto_latency", "pareto_bops",
    "wall_train_s", "wall_convert_s", "wall_csim_s", "wall_synth_s", "wall_report_s", "wall_point_s",
    "model_id", "run_dir", "computed_at",
)
# cost axis -> (row column, axis label); accuracy is always maximized, the cost minimized
FRONTS = {
    "lut": ("lut", "LUT"),
    "dsp": ("dsp", "DSP"),
    "latency": ("latency_ns", "latency (ns)"),
    "bops": ("bops", "BOPs"),
}
_MARKS = {"lut": "L", "dsp": "D", "latency": "T", "bops": "B"}


# ---------------------------------------------------------------------------------------------
# rows


def cost_source(records: list[dict]) -> str | None:
    """The synthesis source whose figures the rows and fronts use: the one that covers the most
    finished points (then the most faithful kind), so one front never mixes sources."""
    cover: dict[str, int] = {}
    rank: dict[str, int] = {}
    for rec in records:
        if rec.get("status") != "ok":
            continue
        for s in rec.get("synth") or []:
            if s.get("resources"):
                cover[s["source"]] = cover.get(s["source"], 0) + 1
                rank[s["source"]] = fidelity_rank(s.get("kind"))
    if not cover:
        return None
    return max(cover, key=lambda k: (cover[k], rank[k], k))


def row_from_record(rec: dict, label: str | None = None, accuracy: str = "csim", source: str | None = None) -> dict:
    m = dict(rec.get("metrics") or {})
    if source is not None:  # the figures of the sweep's cost source (none if this point lacks it)
        for key in SYNTH_METRIC_KEYS:
            m.pop(key, None)
        for s in rec.get("synth") or []:
            if s.get("source") == source:
                m.update(synth_metrics(s))
                break
    p = rec.get("params") or {}
    stages = rec.get("stages") or {}
    synth_s = [v for k, v in stages.items() if k not in ("train", "convert", "csim", "report") and num(v) is not None]
    acc = m.get("accuracy_csim") if accuracy == "csim" else m.get("accuracy_qkeras")
    if acc is None:
        acc = m.get("accuracy_qkeras")
    bef = m.get("bit_exact_fraction")
    row = {
        "id": rec.get("id"), "label": label or rec.get("label"), "status": rec.get("status"),
        "error_stage": rec.get("error_stage"), "error": rec.get("error"), "method": p.get("method", "baseline"),
        "weight_bits": p.get("weight_bits"), "activation_bits": p.get("activation_bits"),
        "sparsity_target": p.get("sparsity"), "seed": p.get("seed"), "epochs": p.get("epochs"),
        "reuse_factor": p.get("reuse_factor"), "strategy": p.get("strategy"), "io_type": p.get("io_type"),
        "backend": p.get("backend"), "board": p.get("board"),
        "accuracy": acc, "accuracy_float": m.get("accuracy_float"), "accuracy_qkeras": m.get("accuracy_qkeras"),
        "accuracy_csim": m.get("accuracy_csim"), "bit_exact": (bef == 1.0) if bef is not None else None,
        "bit_exact_fraction": bef, "params": m.get("params"), "nonzero": m.get("nonzero"),
        "sparsity": m.get("sparsity"), "bops": m.get("bops"),
        "synth_source": m.get("synth_source"), "lut": m.get("lut"), "ff": m.get("ff"), "dsp": m.get("dsp"),
        "bram_18k": m.get("bram_18k"), "lut_pct": m.get("lut_pct"), "dsp_pct": m.get("dsp_pct"), "fits": m.get("fits"),
        "latency_cycles": m.get("latency_cycles"), "latency_ns": m.get("latency_ns"), "ii": m.get("ii"),
        "fmax_mhz": m.get("fmax_mhz"),
        "pareto_lut": False, "pareto_dsp": False, "pareto_latency": False, "pareto_bops": False,
        "wall_train_s": stages.get("train"), "wall_convert_s": stages.get("convert"), "wall_csim_s": stages.get("csim"),
        "wall_synth_s": round(sum(synth_s), 3) if synth_s else None, "wall_report_s": stages.get("report"),
        "wall_point_s": rec.get("wall_s"), "model_id": (rec.get("model_dir") or "").split("/")[-1] or None,
        "run_dir": rec.get("run_dir"), "computed_at": rec.get("computed_at"),
    }
    return row


def pending_row(entry: dict) -> dict:
    row = {c: None for c in COLUMNS}
    p = entry.get("params") or {}
    row.update({"id": entry["id"], "label": entry.get("label"), "status": "pending", "method": p.get("method", "baseline"),
                "weight_bits": p.get("weight_bits"), "activation_bits": p.get("activation_bits"),
                "sparsity_target": p.get("sparsity"), "seed": p.get("seed"), "epochs": p.get("epochs"),
                "reuse_factor": p.get("reuse_factor"), "strategy": p.get("strategy"), "io_type": p.get("io_type"),
                "backend": p.get("backend"), "board": p.get("board"),
                "pareto_lut": False, "pareto_dsp": False, "pareto_latency": False, "pareto_bops": False})
    return row


# ---------------------------------------------------------------------------------------------
# Pareto


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """(accuracy, cost): a dominates b when it is no worse in both and better in one."""
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


def pareto_front(rows: list[dict], cost: str, accuracy: str = "accuracy") -> list[int]:
    """Indices of the non-dominated rows (accuracy maximized, `cost` minimized) among the rows
    with status ok that have both figures; sorted by cost."""
    cand = [(i, (num(r.get(accuracy)), num(r.get(cost)))) for i, r in enumerate(rows) if r.get("status") == "ok"]
    cand = [(i, v) for i, v in cand if v[0] is not None and v[1] is not None]
    front = [i for i, v in cand if not any(dominates(w, v) for j, w in cand if j != i)]
    return sorted(front, key=lambda i: (num(rows[i][cost]), -num(rows[i][accuracy])))


def compute_fronts(rows: list[dict]) -> dict:
    fronts: dict[str, dict] = {}
    for name, (col, axis_label) in FRONTS.items():
        idx = pareto_front(rows, col)
        n_cand = sum(1 for r in rows if r.get("status") == "ok" and num(r.get("accuracy")) is not None and num(r.get(col)) is not None)
        for r in rows:
            r[f"pareto_{name}"] = False
        for i in idx:
            rows[i][f"pareto_{name}"] = True
        entry = {"cost": col, "axis": axis_label, "n_candidates": n_cand,
                 "points": [{"id": rows[i]["id"], "label": rows[i]["label"], "accuracy": rows[i]["accuracy"],
                             col: rows[i][col], "run_dir": rows[i]["run_dir"]} for i in idx]}
        if not n_cand:
            entry["missing"] = f"no finished point has {axis_label} figures" + (
                " (no synthesis source gave resources)" if col != "bops" else "")
        fronts[name] = entry
    return fronts


# ---------------------------------------------------------------------------------------------
# plots


def plot_front(rows: list[dict], name: str, front: dict, path: Path, title: str, acc_label: str,
               source: str | None = None) -> Path | None:
    col, axis_label = FRONTS[name]
    pts = [(r, num(r.get(col)), num(r.get("accuracy"))) for r in rows if r.get("status") == "ok"]
    pts = [(r, x, y) for r, x, y in pts if x is not None and y is not None]
    if not pts:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 4.6), dpi=110)
    on = [(r, x, y) for r, x, y in pts if r.get(f"pareto_{name}")]
    off = [(r, x, y) for r, x, y in pts if not r.get(f"pareto_{name}")]
    methods = sorted({str(r.get("method") or "baseline") for r, _, _ in pts})
    # With compression methods in the sweep each method has its own marker (grey: dominated,
    # red: on the front); a plain sweep keeps one marker.
    markers = dict(zip(methods, "osD^vP*XhH<>p")) if len(methods) > 1 else {methods[0]: "o"}
    for m in methods:
        sel = [(x, y) for r, x, y in off if str(r.get("method") or "baseline") == m]
        if sel:
            ax.scatter([x for x, _ in sel], [y for _, y in sel], s=28, color="0.65", marker=markers[m], zorder=2,
                       label="dominated" if len(methods) == 1 else f"{m} (dominated)")
    on.sort(key=lambda t: (t[1], -t[2]))
    if on:
        xs, ys = [x for _, x, _ in on], [y for _, _, y in on]
        ax.step(xs, ys, where="post", color="tab:red", lw=1.2, alpha=0.7, zorder=3)
        for m in methods:
            sel = [(x, y) for r, x, y in on if str(r.get("method") or "baseline") == m]
            if sel:
                ax.scatter([x for x, _ in sel], [y for _, y in sel], s=46, color="tab:red", marker=markers[m], zorder=4,
                           edgecolor="black", linewidth=0.5, label="Pareto front" if len(methods) == 1 else f"{m} (front)")
        for r, x, y in on:
            ax.annotate(str(r.get("label")), (x, y), textcoords="offset points", xytext=(5, 5), fontsize=7.5, zorder=5)
    xs_all = [x for _, x, _ in pts]
    if min(xs_all) > 0 and max(xs_all) / min(xs_all) > 30:
        ax.set_xscale("log")
    ax.set_xlabel(axis_label + (f"  [{source}]" if col != "bops" and source else "  [train stage, quantized weights]"))
    ax.margins(x=0.1, y=0.12)
    ax.set_ylabel(acc_label)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return write_atomic(path, buf.getvalue())


# ---------------------------------------------------------------------------------------------
# files


def _csv_text(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in COLUMNS})
    return buf.getvalue()


def sweep_running(sweep_dir: Path) -> bool:
    """Whether a `hwgen sweep` process holds the directory's lock right now."""
    import fcntl

    lock = Path(sweep_dir) / ".lock"
    if not lock.is_file():
        return False
    with open(lock) as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def _markdown(state: dict, rows: list[dict], fronts: dict, plots: dict[str, str]) -> str:
    counts = state.get("counts", {})
    last = state.get("last_run") or {}
    lines = [
        f"# hwgen sweep: {state.get('name')}", "",
        f"{counts.get('points', len(rows))} points: {counts.get('ok', 0)} ok, {counts.get('failed', 0)} failed, "
        f"{counts.get('pending', 0)} pending · {state.get('accuracy_label')} · resources and latency from "
        f"{state.get('cost_source') or 'no synthesis source'} · state {state.get('state')}",
    ]
    if last:
        lines.append(
            f"Last run: {last.get('computed', 0)} computed, {last.get('skipped', 0)} already done, {last.get('failed', 0)} failed, "
            f"{last.get('models_trained', 0)} models trained ({last.get('models_reused', 0)} reused), {fmt(last.get('wall_s'))} s "
            f"with {last.get('executor')}."
        )
    lines += ["", "## Pareto fronts", ""]
    for name, f in fronts.items():
        if f.get("missing"):
            lines.append(f"- accuracy vs {f['axis']}: {f['missing']}")
            continue
        pts = ", ".join(f"{p['label']} ({fmt(p['accuracy'])}, {fmt(p[f['cost']])})" for p in f["points"])
        lines.append(f"- accuracy vs {f['axis']} ({len(f['points'])} of {f['n_candidates']}): {pts}")
        if name in plots:
            lines.append(f"\n  ![accuracy vs {f['axis']}]({plots[name]})\n")
    lines += ["", "## Points", "",
              "| point | status | W/A bits | sparsity | RF | strategy | io | board | accuracy | bit-exact | LUT | FF | DSP | BRAM18 | latency (cyc / ns) | II | BOPs | Pareto |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        marks = "".join(m for k, m in _MARKS.items() if r.get(f"pareto_{k}"))
        lines.append(
            f"| {r['label']} | {r['status']} | {fmt(r['weight_bits'])}/{fmt(r['activation_bits'])} | {fmt(r['sparsity'])} "
            f"(target {fmt(r['sparsity_target'])}) | {fmt(r['reuse_factor'])} | {fmt(r['strategy'])} | {fmt(r['io_type'])} | "
            f"{fmt(r['board'])} | {fmt(r['accuracy'])} | {fmt(r['bit_exact'])} | {fmt(r['lut'])} | {fmt(r['ff'])} | "
            f"{fmt(r['dsp'])} | {fmt(r['bram_18k'])} | {fmt(r['latency_cycles'])} / {fmt(r['latency_ns'])} | {fmt(r['ii'])} | "
            f"{fmt(r['bops'])} | {marks or ''} |"
        )
    failed = [r for r in rows if r["status"] == "failed"]
    if failed:
        lines += ["", "## Failed points", ""]
        lines += [f"- {r['label']} ({r['id']}), at {r['error_stage']}: {r['error']}" for r in failed]
    lines += ["", "Pareto column: on the front of accuracy vs L = LUT, D = DSP, T = latency, B = BOPs. Resources and "
              "latency come from the synthesis source named in sweep.csv (synth_source). Every finished point is a "
              "complete hwgen run directory (sweep.csv column run_dir); `hwgen report <run_dir>` adds its report.html.", ""]
    return "\n".join(lines)


def _point_entries(sweep_dir: Path, state: dict | None) -> list[dict]:
    if state and isinstance(state.get("points"), list):
        return state["points"]
    # No sweep.json (never written): every record present, in label order.
    entries = []
    for path in sorted((sweep_dir / "points").glob("*.json")):
        try:
            rec = read_json(path)
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict) and rec.get("schema") == SCHEMA_POINT:
            entries.append({"id": rec["id"], "hash": rec.get("hash"), "label": rec.get("label"), "params": rec.get("params")})
    return sorted(entries, key=lambda e: str(e.get("label")))


def write_sweep_report(path: str | Path, last_run: dict | None = None, state_name: str | None = None,
                       from_runner: bool = False) -> Path:
    """(Re)generate sweep.csv, sweep.json, pareto.json, plots/pareto_*.png and sweep.md from
    the point records of a sweep directory; returns the path of sweep.md. (`last_run`,
    `state_name` and `from_runner` are for the sweep runner: the invocation's counters.)"""
    sweep_dir = Path(path)
    if not sweep_dir.is_dir():
        raise HwgenError(f"{sweep_dir} is not a directory")
    sj = sweep_dir / "sweep.json"
    state: dict = {}
    if sj.is_file():
        try:
            state = read_json(sj)
        except ValueError:
            state = {}
    if not state and not (sweep_dir / "points").is_dir():
        raise HwgenError(f"{sweep_dir} is not an hwgen sweep directory (no sweep.json and no points/); create one with `hwgen sweep`")
    accuracy = state.get("accuracy", "csim")
    entries = _point_entries(sweep_dir, state)
    recs = [read_record(sweep_dir, e["id"], e.get("hash")) for e in entries]
    source = cost_source([r for r in recs if r])
    rows = [row_from_record(rec, e.get("label"), accuracy, source) if rec else pending_row(e) for e, rec in zip(entries, recs)]
    fronts = compute_fronts(rows)
    counts = {"points": len(rows), "ok": sum(r["status"] == "ok" for r in rows),
              "failed": sum(r["status"] == "failed" for r in rows), "pending": sum(r["status"] == "pending" for r in rows)}
    acc_label = "accuracy (C-sim)" if accuracy == "csim" else "accuracy (QKeras)"
    name = state.get("name") or sweep_dir.name
    plots: dict[str, str] = {}
    plot_dir = sweep_dir / "plots"
    for fname, f in fronts.items():
        target = plot_dir / f"pareto_{fname}.png"
        made = plot_front(rows, fname, f, target, f"{name}: {acc_label} vs {f['axis']}", acc_label, source)
        if made:
            plots[fname] = str(made.relative_to(sweep_dir))
        elif target.exists():
            target.unlink()
    pareto = {"schema": "hwgen-sweep-pareto/1", "name": name, "accuracy": accuracy, "accuracy_label": acc_label,
              "cost_source": source,
              "objectives": "maximize accuracy, minimize cost", "fronts": fronts, "plots": plots, "updated": now_iso()}
    write_json(sweep_dir / "pareto.json", pareto)
    write_atomic(sweep_dir / "sweep.csv", _csv_text(rows).encode("utf-8"))
    state.update({
        "schema": SCHEMA_SWEEP, "name": name, "accuracy": accuracy, "accuracy_label": acc_label, "updated": now_iso(),
        "cost_source": source,
        "counts": counts, "pareto": {k: [p["id"] for p in f["points"]] for k, f in fronts.items()},
        "rows": rows,
        "files": {"csv": "sweep.csv", "pareto": "pareto.json", "markdown": "sweep.md", "plots": plots},
    })
    if state_name is None:  # derive it; a sweep process running now holds the lock
        if not from_runner and sweep_running(sweep_dir):
            state_name = "running"
        else:
            state_name = "finished" if counts["pending"] == 0 else "incomplete"
    state["state"] = state_name
    if last_run is not None:
        state["last_run"] = last_run
        state["computed"] = last_run.get("computed", 0)
        state.setdefault("runs", []).append(last_run)
        state["computed_total"] = sum(r.get("computed", 0) for r in state["runs"])
    write_json(sj, state)
    md = sweep_dir / "sweep.md"
    write_atomic(md, _markdown(state, rows, fronts, plots).encode("utf-8"))
    return md
