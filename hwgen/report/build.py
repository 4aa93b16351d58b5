"""Build a run's Report from the artifacts its stages wrote, and write report.json, report.md,
report.html and plots/ from it (`hwgen report RUN_DIR` regenerates them all)."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

from hwgen import __version__
from hwgen.report import metrics
from hwgen.report.model import Report
from hwgen.results import read_json, read_synth_results, write_atomic, write_json
from hwgen.rundir import RunPaths


def _maybe(path: Path) -> Any:
    return read_json(path) if Path(path).is_file() else None


def _labelled(value, source):
    return {"value": value, "source": source} if value is not None else None


def build_report(run_dir: "Path | RunPaths") -> Report:
    """The Report of a run directory. Pure: reads run.json, train/train.json, convert.json,
    csim.json, rtlsim.json, synth/*.json and baseline/baseline.json; writes nothing."""
    paths = run_dir if isinstance(run_dir, RunPaths) else RunPaths(Path(run_dir))
    manifest = read_json(paths.manifest)
    train = _maybe(paths.train_json) or {}
    convert = _maybe(paths.convert_json)
    csim = _maybe(paths.csim_json)
    rtlsim = _maybe(paths.root / "rtlsim.json")
    baseline = _maybe(paths.baseline_dir / "baseline.json") or {}
    synth = metrics.by_fidelity(read_synth_results(paths.root))
    baselines = baseline.get("baselines", [])
    data_src = train.get("dataset_source", "?")
    if train.get("float_unavailable"):
        acc_float = {"value": None, "source": f"not available: {train['float_unavailable']}"}
    else:
        acc_float = _labelled(train.get("accuracy_float"), f"TensorFlow, quantizers removed, on {data_src}")
    return Report(
        hwgen_version=__version__,
        run={
            "name": manifest.get("name"),
            "fingerprint": manifest.get("fingerprint"),
            "created": manifest.get("created"),
            "board": manifest.get("board"),
            "options": manifest.get("options"),
            "versions": manifest.get("versions"),
            "host": {"machine": platform.machine(), "python": platform.python_version()},
        },
        model={
            "name": manifest.get("name"),
            "layers": train.get("layers", []),
            "params": train.get("params"),
            "nonzero": train.get("nonzero"),
            "sparsity": train.get("sparsity"),
            "target_sparsity": train.get("target_sparsity"),
            "bops": train.get("bops"),
            "input_precision": train.get("input_precision"),
            "trained": train.get("trained"),
            "source": "train stage (QKeras model, quantized weights)",
        },
        accuracy={
            "float": acc_float,
            "qkeras": _labelled(train.get("accuracy_qkeras"), f"QKeras model on {data_src}"),
            "csim": _labelled((csim or {}).get("accuracy"), (csim or {}).get("source")),
            "rtl_sim": _labelled((rtlsim or {}).get("accuracy"), (rtlsim or {}).get("simulator")),
            "dataset": data_src,
            "n_test": train.get("n_test"),
        },
        train=train,
        convert=convert,
        csim=csim,
        rtl_sim=rtlsim,
        synth=synth,
        baselines=baselines,
        baseline_env={k: v for k, v in baseline.items() if k != "baselines"} or None,
        software_best=metrics.software_best(baselines),
        comparison=metrics.comparison_rows(synth, baselines),
        compression=dict(train.get("compression") or {}),
        stages=manifest.get("stages", {}),
        synth_errors=dict(manifest.get("synth_errors") or {}),
        notices=manifest.get("notices", []),
    )


def write_report(run_dir: "Path | RunPaths", html: bool = True) -> Report:
    """Build the run's Report once and write report.json, report.md and (with `html`)
    report.html + plots/*.png, each atomically. Returns the Report."""
    from hwgen.report.markdown import render_markdown

    paths = run_dir if isinstance(run_dir, RunPaths) else RunPaths(Path(run_dir))
    report = build_report(paths)
    write_json(paths.report_json, report.to_dict())
    write_atomic(paths.root / "report.md", render_markdown(report).encode("utf-8"))
    if html:
        from hwgen.report.html import write_html

        write_html(report, paths.root)
    return report
