"""hwgen.report as a package: the typed Report round-trips report.json, the metrics module is
the one place vendor resource names are mapped, and report.html comes from the package templates
with autoescaping. The run is a real untrained tiny build (train stand-in, hls4ml, g++ C-sim)
with synthesis results for a Xilinx and a Lattice board and a small baseline record added."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_cli, tiny_spec
from hwgen.boards import load_board
from hwgen.results import SynthResult, write_json, write_synth_result

TINY = tiny_spec("tinyrpt")


def xilinx_result() -> SynthResult:
    board = load_board("pynq-z2")
    return SynthResult(
        source="estimate:v1", kind="estimate", tool="hwgen-estimator", tool_version="1", board=board.name,
        part=board.part, resources={"lut": 530, "ff": 212, "dsp": 2, "bram_18k": 1}, latency_cycles_min=3,
        latency_cycles_max=4, ii_min=1, ii_max=1, clock_mhz=100.0, latency_ns=40.0,
    ).with_board(board)


def lattice_result() -> SynthResult:
    board = load_board("ulx3s-85f")
    return SynthResult(
        source="nextpnr-ecp5-0.7", kind="placed", tool="nextpnr-ecp5", tool_version="0.7", board=board.name,
        part=board.part, resources={"lut4": 836, "ff": 100, "ebr": 2, "mult18": 3}, latency_cycles_max=5,
        ii_max=1, clock_mhz=25.0, fmax_mhz=80.0, latency_ns=62.5,
    ).with_board(board)


def _baseline_rows() -> list[dict]:
    common = {"engine": "numpy", "engine_version": "1.26.4", "model": "float", "device": "cpu", "device_name": "cpu",
              "mode": "numpy", "threads": 1, "reps": 5, "warmup": 1, "available": True, "reason": None,
              "source": "numpy-1.26.4:cpu:numpy:threads=1"}
    return [dict(common, batch=1, latency_us_median=12.0, latency_us_p99=15.0, latency_us_min=11.0, throughput_sps=83333.3),
            dict(common, batch=1024, latency_us_median=900.0, latency_us_p99=990.0, latency_us_min=880.0,
                 throughput_sps=1137777.8)]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("reportpkg")
    spec = tmp / "tinyrpt.yaml"
    spec.write_text(TINY)
    out = tmp / "run"
    assert run_cli("convert", spec, "--untrained", "--out", out, "--quiet") == 0
    write_synth_result(out, xilinx_result())
    write_synth_result(out, lattice_result())
    write_json(out / "baseline" / "baseline.json", {"schema": "hwgen.baseline/2", "baselines": _baseline_rows(),
                                                    "versions": {"python": "3.11", "numpy": "1.26.4"}})
    from hwgen.report import write_report

    write_report(out)
    return out


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*") if p.is_file()}


def test_report_round_trip_equals_report_json(run):
    from hwgen.report import Report, build_report, load_report
    from hwgen.rundir import RunPaths

    before = _tree(run)
    report = build_report(run)
    assert _tree(run) == before  # pure: nothing written
    assert isinstance(report, Report) and all(isinstance(s, SynthResult) for s in report.synth)
    d = report.to_dict()
    assert Report.from_dict(d).to_dict() == d
    assert json.loads((run / "report.json").read_text()) == d
    assert load_report(run).to_dict() == d and load_report(run) == report
    assert build_report(RunPaths(run)).to_dict() == d
    # report.json keeps its documented top-level fields, in order
    assert list(d) == ["hwgen_version", "run", "model", "accuracy", "train", "convert", "csim", "rtl_sim", "synth",
                       "baselines", "baseline_env", "software_best", "comparison", "compression", "stages", "synth_errors",
                       "notices"]
    # most faithful source first; one comparison row per source with a latency, vs the best software row
    assert [s.kind for s in report.synth] == ["placed", "estimate"]
    assert [c["fpga_source"] for c in report.comparison] == ["nextpnr-ecp5-0.7", "estimate:v1"]
    assert report.comparison[1]["sw_latency_us"] == 12.0 and report.comparison[1]["latency_ratio"] == pytest.approx(300.0)
    assert [e["batch"] for e in report.software_best] == [1, 1024]
    assert report.csim["bit_exact_fraction"] == 1.0


def test_report_from_partial_and_unknown_fields():
    from hwgen.report import Report

    r = Report.from_dict({"run": {"name": "x", "board": "pynq-z2"}, "future_field": {"a": 1}})
    assert r.synth == [] and r.baselines == [] and r.csim is None and r.board["part"] == "xc7z020clg400-1"
    assert r.to_dict()["future_field"] == {"a": 1}
    with pytest.raises(ValueError):
        Report.from_dict({"synth": [{"source": "s", "kind": "guessed", "tool": "t", "tool_version": "1", "board": "b",
                                     "part": "p"}]})


def test_load_report_errors_name_the_file(tmp_path):
    from hwgen.errors import HwgenError
    from hwgen.report import load_report

    with pytest.raises(HwgenError, match="report.json"):
        load_report(tmp_path)
    (tmp_path / "report.json").write_text("[1, 2]")
    with pytest.raises(HwgenError, match="not an hwgen report"):
        load_report(tmp_path)


def test_metrics_aliases_xilinx_and_lattice():
    from hwgen.report import metrics

    x, l = xilinx_result(), lattice_result()
    assert metrics.resources_of(x) == {"lut": 530, "ff": 212, "dsp": 2, "bram": 1}
    assert metrics.resources_of(l) == {"lut": 836, "ff": 100, "dsp": 3, "bram": 2}
    assert metrics.resources_of(l.to_dict()) == metrics.resources_of(l)  # dict or SynthResult
    assert metrics.utilization_of(l)["lut"] == pytest.approx(100 * 836 / 83640)
    assert metrics.utilization_of(x)["lut"] == pytest.approx(100 * 530 / 53200)
    intel = {"resources": {"alut": 7, "ram": 1, "dsp": 0}}
    assert metrics.resources_of(intel) == {"lut": 7, "ff": None, "dsp": 0, "bram": 1}
    m = metrics.synth_metrics(l)
    assert (m["lut"], m["dsp"], m["bram_18k"], m["synth_kind"]) == (836, 3, 2, "placed")
    assert set(m) == set(metrics.SYNTH_METRIC_KEYS)
    # fidelity: parsed > placed > synthesized > estimate
    kinds = [s["kind"] for s in metrics.by_fidelity([{"kind": k} for k in ("estimate", "synthesized", "parsed", "placed")])]
    assert kinds == list(metrics.FIDELITY) == ["parsed", "placed", "synthesized", "estimate"]
    assert metrics.fidelity_rank("parsed") > metrics.fidelity_rank("estimate") > metrics.fidelity_rank("other")
    fig = metrics.fpga_figures(l)
    assert fig["clock_mhz"] == 80.0 and fig["throughput_sps"] == pytest.approx(80e6)


def test_point_metrics_from_report_and_dict(run):
    from hwgen.report import load_report
    from hwgen.report.metrics import point_metrics

    report = load_report(run)
    m = point_metrics(report)
    assert m == point_metrics(report.to_dict())
    assert m["synth_source"] == "nextpnr-ecp5-0.7" and m["lut"] == 836 and m["bram_18k"] == 2
    assert m["bit_exact_fraction"] == 1.0 and m["params"] == report.model["params"]


def test_fmt_is_the_one_formatter():
    from hwgen.report.metrics import fmt

    assert [fmt(None), fmt(True), fmt(1234567), fmt(80.0), fmt(1234.5), fmt(0.5), fmt(1.5e-5), fmt(float("nan"))] == \
        ["–", "yes", "1,234,567", "80", "1,234", "0.5", "1.500e-05", "nan"]


def test_html_comes_from_the_template_and_escapes(run, tmp_path):
    from hwgen.report import load_report, render_html
    from hwgen.report.html import template_text

    css = template_text("report.css")
    text = (run / "report.html").read_text()
    assert css.strip() and css in text  # the stylesheet file, inlined verbatim
    assert "{{" not in text and "{%" not in text
    assert text.count("<img") == 3
    report = load_report(run)
    report.model["layers"][0]["name"] = "<script>alert(1)</script>"
    report.notices.append('"quoted" & <b>bold</b>')
    page = render_html(report, run)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert render_html(report).count("<img") == 0  # no run dir, no plots given: nothing embedded
    # Markdown and summary read the same aliases: the Lattice LUT4 count appears as LUT.
    from hwgen.report import render_markdown, summary_lines

    assert "| nextpnr-ecp5-0.7 | placed | 836 | 100 | 3 | 2 |" in render_markdown(report)
    assert any("LUT 836" in line for line in summary_lines(report))


def test_template_files_are_package_data():
    tomllib = pytest.importorskip("tomllib")

    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "hwgen.report" in cfg["tool"]["setuptools"]["packages"]
    assert "hwgen.report.templates" in cfg["tool"]["setuptools"]["packages"]
    assert cfg["tool"]["setuptools"]["package-data"]["hwgen.report.templates"] == ["*.j2", "*.css"]
    assert any(d.lower().startswith("jinja2") for d in cfg["project"]["dependencies"])
    assert (REPO / "hwgen" / "report" / "templates" / "report.html.j2").is_file()


@pytest.mark.parametrize("module", ["hwgen.report.plots", "hwgen.report.html", "hwgen.report.metrics", "hwgen.report"])
def test_report_modules_import_alone_without_flow_or_sweep(module):
    code = (f"import sys, {module}; bad = [m for m in sys.modules if m.startswith(('hwgen.flow', 'hwgen.sweep', "
            f"'hwgen.pipeline', 'tensorflow'))]; assert not bad, bad")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
