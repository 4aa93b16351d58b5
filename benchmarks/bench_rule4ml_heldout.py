"""Side-by-side: the published learned estimator rule4ml (v0.2.0, its default pretrained GNNs) against
hwgen's analytical estimator on the frozen held-out calibration points (calibrate.HELDOUT_DESIGNS).

Runs in a SEPARATE virtual environment (rule4ml needs TensorFlow/Keras 3 + torch, hwgen's .venv pins
Keras 2.15); it never imports hwgen itself. The hwgen side (the Keras model and hls4ml config each
held-out point's builder passes to hls4ml, its measured figures and hwgen's held-out prediction) is
exported by this same file run under hwgen's .venv (`--export`, started as a subprocess).

Create the rule4ml venv (exact versions used; PyPI only, the plain torch wheel is CUDA-enabled and
large, CPU inference works with it):

    python3.11 -m venv /tmp/r4env
    /tmp/r4env/bin/pip install tensorflow==2.16.2 keras==3.15.1 torch==2.5.1 torch-geometric==2.6.1 \
        pandas==3.0.6 scikit-learn==1.9.1 keras-tuner==1.4.8 optuna==5.1.0 tqdm==4.70.1 \
        numpy==1.26.4 PyYAML==6.0.4 rule4ml==0.2.0

(or with the Keras 2 stack of rule4ml's own data generator, tensorflow==2.15.1 keras==2.15.0 in place of
the first two: same features, same predictions to the printed digit.)

Run (from the repository root):

    /tmp/r4env/bin/python benchmarks/bench_rule4ml_heldout.py [--md OUT.md] [--hwgen-python .venv/bin/python]

What it does:
  1. `.venv/bin/python benchmarks/bench_rule4ml_heldout.py --export` rebuilds each held-out point's Keras
     model with hwgen's own builder (calibrate.build_case4/build_case7, baselines.build), intercepting
     the hls4ml conversion call to record the layers, the hls4ml config (precision, strategy, reuse
     factor), io_type, backend and part; it adds the measured figures and the `use` targets from
     calibration.yaml and hwgen's held-out prediction (Calibration.predict, as
     benchmarks/estimate_loo.py prints for rows marked H).
  2. In the rule4ml venv, each point is checked against what rule4ml's default models accept (layer
     types, board, io_type, precision format, hls4ml/Vivado version categories). A point outside that is
     reported as "not supported by rule4ml: <why>" and never forced. The rest is rebuilt as a plain
     Keras 3 functional model (QKeras QDense/QActivation(quantized_relu) -> Dense/Activation('relu'),
     which is how rule4ml's parser reads them) and predicted with MultiModelWrapper.load_default_models()
     (torch GNNs, weights/v2/gnn), board/strategy/precision/reuse factor from the point's hls4ml config,
     hls4ml version 1.1.0, Vivado version = the point's tool version.
  3. Prints a Markdown table per point (trusted targets only) and sMAPE per target, for hwgen over all
     held-out points and for hwgen and rule4ml over the points both cover.

Target mapping: LUT/FF/DSP -> rule4ml LUT/FF/DSP; BRAM_18K -> rule4ml BRAM (trained on the csynth
BRAM_18K figure); latency (worst-case cycles) -> rule4ml CYCLES (trained on (best+worst)/2 cycles).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = ("lut", "ff", "dsp", "bram_18k", "latency")
LABELS = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM_18K", "latency": "latency (cycles)"}
R4_KEY = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM", "latency": "CYCLES"}
HLS4ML_VERSION = "1.1.0"  # overridable with --hls4ml-version  # rule4ml knows 0.8.1 and 1.1.0; the measured reports are hls4ml 1.x
# Parts -> rule4ml boards. Exact part matches come from rule4ml's supported_boards.json; xcvu13p is not
# a rule4ml board: alveo-u250's XCU250 has the same resource totals as the VU13P (LUT 1,728,000,
# FF 3,456,000, DSP 12,288, BRAM_18K 5,376, URAM 1,280: the hls4ml baselines' Available* fields), so
# it is the nearest board (a mapping, stated in the table).
PART_MAP = {"xcvu13p-flga2577-2-e": ("alveo-u250", "mapped: xcvu13p -> alveo-u250 (XCU250, same resource totals)")}


def smape(pairs):
    vals = [2 * abs(p - m) / (abs(p) + abs(m)) if abs(p) + abs(m) > 0 else 0.0 for p, m in pairs]
    return 100.0 * sum(vals) / len(vals) if vals else None


# --------------------------------------------------------------------------- export (hwgen .venv)


def _layer_record(layer) -> dict:
    cfg = layer.get_config()
    keep = ("units", "activation", "filters", "kernel_size", "strides", "padding", "use_bias", "pool_size",
            "alpha", "depth_multiplier", "data_format")
    rec = {"class_name": layer.__class__.__name__, "name": layer.name,
           "config": {k: cfg[k] for k in keep if k in cfg},
           "input_shape": list(layer.input_shape[1:]) if not isinstance(layer.input_shape, list) else None,
           "output_shape": list(layer.output_shape[1:]),
           "params": int(layer.count_params())}
    if rec["config"].get("activation") is not None and not isinstance(rec["config"]["activation"], str):
        rec["config"]["activation"] = str(rec["config"]["activation"])
    if rec["class_name"] == "QActivation":
        rec["config"]["activation"] = str(cfg.get("activation"))
    return rec


def export() -> list[dict]:
    sys.path.insert(0, str(REPO))
    from hwgen.tfcompat import keras  # noqa: F401  (Keras 2 before hls4ml/QKeras)
    import hls4ml
    from hwgen.synth.estimate import baselines, calibrate
    from hwgen.synth.estimate.calibration import load_calibration

    cal = load_calibration()
    held = [p for p in cal.points if p.split == "heldout"]
    specs = {s["id"]: s for s in calibrate.POINTS}
    cases = {c.design_key: c for c, _, _ in baselines.cases(calibrate.REPO_ROOT)}

    class _Captured(Exception):
        pass

    captured: dict = {}

    def capture(model, hls_config=None, **kw):
        captured.update(model=model, cfg=hls_config, kw=kw)
        raise _Captured

    orig = hls4ml.converters.convert_from_keras_model
    hls4ml.converters.convert_from_keras_model = capture
    designs: dict[str, dict] = {}
    try:
        for p in held:
            if p.design in designs:
                continue
            captured.clear()
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    if p.design in specs:
                        specs[p.design]["builder"](Path(tmp) / "prj")
                    else:
                        baselines.build(cases[p.design], Path(tmp) / "prj")
                except _Captured:
                    pass
            model, cfg, kw = captured["model"], captured["cfg"], captured["kw"]
            layers = [_layer_record(lyr) for lyr in model.layers]
            designs[p.design] = {
                "input_shape": list(model.input_shape[1:]),
                "layers": layers,
                "hls_model_config": json.loads(json.dumps(cfg["Model"], default=str)),
                "hls_layer_precisions": {n: c.get("Precision") for n, c in (cfg.get("LayerName") or {}).items()},
                "io_type": kw.get("io_type", "io_parallel"),
                "backend": kw.get("backend"),
                "part": kw.get("part") or baselines.DEFAULT_PART,
                "clock_period_ns": kw.get("clock_period", 5),
            }
    finally:
        hls4ml.converters.convert_from_keras_model = orig

    out = []
    for p in held:
        out.append({
            "id": p.id, "design": p.design, "tool": p.tool, "use": list(p.use),
            "measured": {t: p.measured.get(t) for t in TARGETS} | {"latency_min": p.measured.get("latency_min")},
            "hwgen": {t: cal.predict(p, t, exclude=None) for t in TARGETS},
            **designs[p.design],
        })
    return out


# --------------------------------------------------------------------------- rule4ml (separate venv)


def _support(pt: dict, layer_types: set[str], boards: set[str], versions: set[str]) -> tuple[str | None, str, str]:
    """(board or None, board note, reason if not supported)."""
    from rule4ml.parsers.utils import get_activation_name

    reasons = []
    if pt["io_type"] != "io_parallel":
        reasons.append(f"{pt['io_type']} (rule4ml has no io_type input; its data generator synthesizes io_parallel)")
    for lyr in pt["layers"]:
        cls = lyr["class_name"].lower()
        if cls.startswith("q"):
            cls = cls[1:]
        if cls == "inputlayer":
            continue
        kind = get_activation_name(str(lyr["config"].get("activation", ""))) if cls == "activation" else cls
        if kind not in layer_types:
            reasons.append(f"layer {lyr['class_name']}" + (f"('{kind}')" if cls == "activation" else "")
                           + " (not among rule4ml's layer types)")
        act = lyr["config"].get("activation")
        if cls != "activation" and act not in (None, "linear"):
            a = get_activation_name(str(act))
            if a not in layer_types:
                reasons.append(f"fused activation '{a}' (not among rule4ml's layer types)")
    part = pt["part"]
    from rule4ml.parsers.utils import get_supported_boards

    exact = [b for b, v in get_supported_boards().items() if v["part"] == part]
    if exact:
        board, note = exact[0], f"{part} = {exact[0]} (exact part)"
    elif part in PART_MAP:
        board, note = PART_MAP[part]
    else:
        board, note = None, part
        reasons.append(f"part {part} (no rule4ml board)")
    if board is not None and board not in boards:
        reasons.append(f"board {board} not in the default models' categories")
    ver = pt["tool"].split("-")[-1]
    if ver not in versions:
        reasons.append(f"tool version {ver} not among rule4ml's Vivado versions")
    return board, note, "; ".join(reasons)


def _precision(pt: dict) -> str:
    prec = pt["hls_model_config"]["Precision"]
    if isinstance(prec, dict):
        prec = prec.get("default")
    prec = str(prec).replace(" ", "")
    if prec.startswith("fixed<"):
        prec = "ap_" + prec
    a, b = prec[len("ap_fixed<"):-1].split(",")
    return f"ap_fixed<{a}, {b}>"


def _keras_model(pt: dict, name: str):
    import keras

    L = keras.layers
    inp = keras.Input(shape=tuple(pt["input_shape"]))
    x = inp
    for lyr in pt["layers"]:
        cls, c = lyr["class_name"], lyr["config"]
        if cls == "InputLayer":
            continue
        if cls in ("Dense", "QDense"):
            x = L.Dense(c["units"], use_bias=c.get("use_bias", True))(x)
            act = c.get("activation")
            if act not in (None, "linear"):
                x = L.Activation(act)(x)
        elif cls in ("Activation", "QActivation"):
            from rule4ml.parsers.utils import get_activation_name

            x = L.Activation(get_activation_name(str(c["activation"])))(x)
        elif cls in ("Conv1D", "Conv2D"):
            x = getattr(L, cls)(c["filters"], tuple(c["kernel_size"]), strides=tuple(c["strides"]),
                                padding=c["padding"], use_bias=c.get("use_bias", True))(x)
        elif cls in ("MaxPooling1D", "AveragePooling1D", "MaxPooling2D", "AveragePooling2D"):
            ps = c["pool_size"]
            x = getattr(L, cls)(pool_size=tuple(ps) if isinstance(ps, list) else ps, padding=c["padding"])(x)
        else:  # pragma: no cover - filtered by _support
            raise ValueError(cls)
        if tuple(x.shape[1:]) != tuple(lyr["output_shape"]):
            raise ValueError(f"{name}: rebuilt {cls} gives {tuple(x.shape[1:])}, hwgen's {lyr['output_shape']}")
    model = keras.Model(inp, x, name=name)
    model.build((None, *pt["input_shape"]))
    # Keras 3 records no `_build_shapes_dict` for layers without weights (pooling), which is where
    # rule4ml's Keras 3 parser reads a layer's input shape: give it the shape the layer was called on
    for layer in model.layers[1:]:
        if getattr(layer, "_build_shapes_dict", None) is None:
            layer._build_shapes_dict = {"input_shape": tuple(layer.input.shape)}
    return model


def predict_rule4ml(points: list[dict]) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    from rule4ml.models.wrappers import MultiModelWrapper

    est = MultiModelWrapper()
    est.load_default_models()
    any_model = next(iter(est._models.values()))
    layer_types = set(any_model.sequential_categorical_maps["layer_type"]) - {"inputlayer"}
    boards = set(any_model.global_categorical_maps["board"])
    versions = set(any_model.global_categorical_maps["vivado_version"])
    out = {}
    for pt in points:
        board, note, why = _support(pt, layer_types, boards, versions)
        rec = {"board_note": note}
        if why:
            rec["unsupported"] = why
            out[pt["id"]] = rec
            continue
        mc = pt["hls_model_config"]
        cfg = {"board": board, "model": {"strategy": mc["Strategy"].lower(), "precision": _precision(pt),
                                         "reuse_factor": int(mc["ReuseFactor"])}}
        model = _keras_model(pt, pt["id"])
        df = est.predict(model, hls_configs=[cfg], hls4ml_versions=[HLS4ML_VERSION],
                         vivado_versions=[pt["tool"].split("-")[-1]], round_digits=3)
        row = df.iloc[0]
        rec.update(config=cfg, pred={t: float(row[R4_KEY[t]]) for t in TARGETS})
        out[pt["id"]] = rec
    return out


def _fmt(v):
    if v is None:
        return "-"
    return f"{v:.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.2f}"


def report(points: list[dict], r4: dict, versions: dict[str, str]) -> str:
    lines = ["# rule4ml v0.2.0 (default GNNs) vs hwgen analytical estimator, frozen held-out points", ""]
    pairs_h_all = {t: [] for t in TARGETS}
    pairs_h_both = {t: [] for t in TARGETS}
    pairs_r_both = {t: [] for t in TARGETS}
    pairs_r_round = {t: [] for t in TARGETS}
    for pt in points:
        rr = r4[pt["id"]]
        lines.append(f"## {pt['id']}")
        lines.append("")
        mc = pt["hls_model_config"]
        lines.append(f"design `{pt['design']}`; tool {pt['tool']}; {pt['backend']} {pt['io_type']}, "
                     f"{mc.get('Strategy')} RF {mc.get('ReuseFactor')}, precision {mc.get('Precision')}; "
                     f"part {pt['part']}; rule4ml board: {rr['board_note']}")
        if "config" in rr:
            c = rr["config"]
            lines.append(f"rule4ml inputs: board {c['board']}, strategy {c['model']['strategy']}, "
                         f"precision {c['model']['precision']}, reuse {c['model']['reuse_factor']}, "
                         f"hls4ml {HLS4ML_VERSION}, Vivado version {pt['tool'].split('-')[-1]}")
        else:
            lines.append(f"rule4ml: **not supported by rule4ml: {rr['unsupported']}**")
        lines.append("")
        lines.append("| point | tool version | target | measured | hwgen estimate | rule4ml prediction |")
        lines.append("|---|---|---|---:|---:|---:|")
        for t in TARGETS:
            if t not in pt["use"]:
                continue
            m, h = pt["measured"][t], pt["hwgen"][t]
            rp = rr.get("pred", {}).get(t)
            rcell = _fmt(rp) if rp is not None else "not supported"
            lines.append(f"| {pt['id']} | {pt['tool']} | {LABELS[t]} | {_fmt(m)} | {_fmt(h)} | {rcell} |")
            if m is not None and h is not None:
                pairs_h_all[t].append((h, m))
                if rp is not None:
                    pairs_h_both[t].append((h, m))
                    pairs_r_both[t].append((rp, m))
                    pairs_r_round[t].append((float(round(rp)), m))
        lines.append("")
    lines.append("## sMAPE per target")
    lines.append("")
    lines.append("sMAPE = mean of 2|p-m|/(|p|+|m|) (0 where both are 0), as in benchmarks/estimate_loo.py; "
                 "trusted targets (`use`) only.")
    lines.append("")
    lines.append("| target | hwgen, all held-out (n) | hwgen, points rule4ml covers (n) | rule4ml, same points (n) "
                 "| rule4ml rounded to integers, same points (n) |")
    lines.append("|---|---:|---:|---:|---:|")
    for t in TARGETS:
        def cell(pairs):
            s = smape(pairs)
            return f"{s:.1f}% ({len(pairs)})" if s is not None else "- (0)"
        lines.append(f"| {LABELS[t]} | {cell(pairs_h_all[t])} | {cell(pairs_h_both[t])} | {cell(pairs_r_both[t])} | {cell(pairs_r_round[t])} |")
    lines.append("")
    lines.append("## rule4ml venv package versions")
    lines.append("")
    lines.append(", ".join(f"{k}=={v}" for k, v in versions.items()))
    lines.append("")
    return "\n".join(lines)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ["rule4ml", "tensorflow", "keras", "torch", "torch-geometric", "numpy", "pandas", "scikit-learn",
             "keras-tuner", "optuna", "tqdm", "PyYAML"]
    out = {"python": sys.version.split()[0]}
    for n in names:
        try:
            out[n] = version(n)
        except Exception:  # pragma: no cover
            out[n] = "?"
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", action="store_true", help="(hwgen .venv) print the held-out points as JSON")
    ap.add_argument("--hwgen-python", default=str(REPO / ".venv" / "bin" / "python"))
    ap.add_argument("--points-json", help="use this export instead of running the hwgen .venv")
    ap.add_argument("--md", help="also write the Markdown report here")
    ap.add_argument("--hls4ml-version", default=HLS4ML_VERSION, choices=["0.8.1", "1.1.0"],
                    help="hls4ml version category given to rule4ml (default %(default)s)")
    args = ap.parse_args(argv)
    globals()["HLS4ML_VERSION"] = args.hls4ml_version
    if args.export:
        json.dump(export(), sys.stdout, indent=1, default=str)
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.points_json:
        points = json.loads(Path(args.points_json).read_text())
    else:
        res = subprocess.run([args.hwgen_python, str(Path(__file__).resolve()), "--export"], cwd=REPO,
                             capture_output=True, text=True)
        if res.returncode != 0:
            sys.stderr.write(res.stderr)
            return res.returncode
        points = json.loads(res.stdout)
    r4 = predict_rule4ml(points)
    md = report(points, r4, _versions())
    print(md)
    if args.md:
        Path(args.md).write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
