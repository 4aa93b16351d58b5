"""report.html and plots from a report dict assembled from real pieces: a real baseline run on a
tiny QKeras model, its real layer statistics, and SynthResults filled against a registry board."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hwgen.boards import load_board
from hwgen.results import SynthResult


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables = 0
        self.imgs: list[str] = []
        self.h2: list[str] = []
        self._in_h2 = False
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables += 1
        if tag == "img":
            self.imgs.append(dict(attrs).get("src", ""))
        if tag == "h2":
            self._in_h2 = True
            self.h2.append("")
        if tag not in ("img", "meta", "br", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()

    def handle_data(self, data):
        if self._in_h2:
            self.h2[-1] += data


def _parse(text: str) -> _Collect:
    p = _Collect()
    p.feed(text)
    return p


@pytest.fixture(scope="module")
def pieces(tmp_path_factory):
    from test_baseline import make_tiny_run

    from hwgen.baseline import run_baselines
    from hwgen.modelio import load_model
    from hwgen.qmodel import layer_stats

    run = make_tiny_run(tmp_path_factory.mktemp("report"), "tinyrep")
    record = run_baselines(run, reps=5, warmup=1, predict_reps=2, batches=(32,), throughput_reps=1, throughput_warmup=1)
    layers = [s.to_dict() for s in layer_stats(load_model(run / "train" / "model.h5"), 8)]
    board = load_board("pynq-z2")
    est = SynthResult(
        source="estimate:v1", kind="estimate", tool="hwgen-estimator", tool_version="1", board=board.name,
        part=board.part, resources={"lut": 5320, "ff": 2128, "dsp": 11, "bram_18k": 0}, latency_cycles_min=6,
        latency_cycles_max=8, ii_min=2, ii_max=2, clock_mhz=board.clock_mhz, latency_ns=80.0,
        uncertainty={"lut": [4000, 7000]},
    ).with_board(board)
    yosys = SynthResult(
        source="yosys-0.40", kind="synthesized", tool="yosys", tool_version="0.40", board=board.name, part=board.part,
        resources={"lut": 60000, "ff": 1000, "carry": 200}, notes=["cell counts only, no timing"],
    ).with_board(board)
    return run, record, layers, board, [est.to_dict(), yosys.to_dict()]


def _report(record, layers, board, synth, run_name="tinyrep") -> dict:
    from hwgen.report.metrics import comparison_rows

    acc = record["agreement"]
    return {
        "hwgen_version": "0.1.0",
        "run": {"name": run_name, "fingerprint": "0123456789abcdef", "board": board.to_dict(), "options": {}},
        "model": {"layers": layers, "params": sum(l["params"] for l in layers), "nonzero": sum(l["nonzero"] for l in layers),
                  "sparsity": 0.05, "bops": sum(l["bops"] for l in layers), "source": "layer_stats of train/model.h5"},
        "accuracy": {"float": {"value": acc["float_accuracy"], "source": "float twin, TensorFlow"},
                     "qkeras": {"value": acc["qkeras_accuracy"], "source": "QKeras, TensorFlow"},
                     "csim": None, "rtl_sim": None, "dataset": "synthetic", "n_test": acc["n_samples"]},
        "train": {"epochs": 8, "seed": 0}, "convert": None,
        "csim": {"bit_exact_fraction": 1.0, "max_abs_diff": 0.0, "accuracy": acc["qkeras_accuracy"], "n_samples": 64,
                 "source": "hls4ml csim g++ 12.2.0"},
        "rtl_sim": None, "synth": synth, "baselines": record["baselines"],
        "baseline_env": {k: v for k, v in record.items() if k != "baselines"},
        "comparison": comparison_rows(synth, record["baselines"]), "stages": {"train": 1.5, "baseline": 4.2},
    }


def test_comparison_rows_arithmetic(pieces):
    from hwgen.report.metrics import comparison_rows

    _, record, _, board, synth = pieces
    rows = comparison_rows(synth, record["baselines"])
    # yosys gives no latency/II: only the estimate is compared, once, against the best software figures.
    assert [c["fpga_source"] for c in rows] == ["estimate:v1"]
    c = rows[0]
    assert c["fpga_throughput_sps"] == pytest.approx(board.clock_mhz * 1e6 / 2)  # clock / II
    assert c["fpga_latency_ns"] == 80.0
    measured = [r for r in record["baselines"] if r["available"]]
    best_lat = min((r for r in measured if r["batch"] == 1), key=lambda r: r["latency_us_median"])
    best_tp = max(measured, key=lambda r: r["throughput_sps"])
    # No ratio against a slower engine: the software side is the fastest row over all engines.
    assert c["sw_latency_us"] == best_lat["latency_us_median"] and c["sw_latency_source"] == best_lat["source"]
    assert c["sw_throughput_sps"] == best_tp["throughput_sps"] and c["sw_throughput_batch"] == best_tp["batch"]
    assert best_lat["engine"] in c["sw_latency_engine"] and best_tp["engine"] in c["sw_throughput_engine"]
    assert c["latency_ratio"] == pytest.approx(best_lat["latency_us_median"] * 1000 / 80.0)
    assert c["throughput_ratio"] == pytest.approx(board.clock_mhz * 1e6 / 2 / best_tp["throughput_sps"])
    assert comparison_rows([], record["baselines"]) == [] and comparison_rows(synth, []) == []


def test_fpga_figures_from_cycles():
    from hwgen.report.metrics import fpga_figures

    fig = fpga_figures({"latency_cycles_max": 10, "clock_mhz": 200.0, "fmax_mhz": 250.0, "ii_min": 1})
    assert fig["clock_mhz"] == 250.0 and fig["latency_ns"] == pytest.approx(40.0)
    assert fig["throughput_sps"] == pytest.approx(250e6)
    assert fpga_figures({"clock_mhz": 100.0})["throughput_sps"] is None


def test_full_report_html(pieces):
    from hwgen.report.html import write_html

    run, record, layers, board, synth = pieces
    report = _report(record, layers, board, synth)
    path = write_html(report, run)
    assert path == run / "report.html" and path.is_file()
    text = path.read_text()
    parsed = _parse(text)
    assert not parsed.errors, parsed.errors[:3]
    assert parsed.tables >= 6
    for title in ("Accuracy", "Model", "Bit-exactness", "Hardware", "Software baselines", "FPGA vs software"):
        assert any(h.startswith(title) for h in parsed.h2), (title, parsed.h2)
    # Three plots, embedded as data URIs and identical to the PNGs kept in RUN/plots/.
    assert sorted(p.name for p in (run / "plots").glob("*.png")) == ["latency.png", "layers.png", "utilization.png"]
    assert len(parsed.imgs) == 3 and all(src.startswith("data:image/png;base64,") for src in parsed.imgs)
    embedded = {base64.b64decode(src.split(",", 1)[1]) for src in parsed.imgs}
    assert embedded == {p.read_bytes() for p in (run / "plots").glob("*.png")}
    assert all(b[:8] == b"\x89PNG\r\n\x1a\n" for b in embedded)
    # Source labels accompany the figures.
    for label in ("estimate:v1", "yosys-0.40", "hls4ml csim g++ 12.2.0", "float twin, TensorFlow",
                  f"tensorflow-{record['versions']['tensorflow']}:cpu:tf_function",
                  f"onnxruntime-{record['versions']['onnxruntime']}:cpu:run:threads=1", "numpy-",
                  "Best measured software figure per batch size", "baseline/onnx/qkeras.onnx"):
        assert label in text, label
    best = record["best"][0]
    assert best["batch"] == 1 and best["source"] in text  # the best batch-1 row is named with its source
    assert "not available" in text  # the GPU rows (or, with a GPU, nothing is hidden)
    assert "does not fit pynq-z2" in text  # yosys LUT count exceeds the board
    # The file is self-contained: no external fetches.
    assert not re.search(r"""(src|href)=["']https?://""", text)


def test_missing_sections_say_not_run(pieces, tmp_path):
    from hwgen.report.html import write_html

    _, record, layers, board, synth = pieces
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "utilization.png").write_bytes(b"stale")
    report = {"hwgen_version": "0.1.0", "run": {"name": "bare", "board": "pynq-z2"}, "model": {}, "accuracy": {},
              "synth": [], "baselines": [], "comparison": [], "csim": None, "rtl_sim": None, "convert": None,
              "train": None, "stages": {}}
    text = write_html(report, tmp_path).read_text()
    assert not _parse(text).errors
    assert text.count("not run") >= 6
    assert "<img" not in text
    assert not (tmp_path / "plots" / "utilization.png").exists()  # stale plot removed
    assert "xc7z020clg400-1" in text  # board name looked up in the registry


def test_labels_are_escaped(pieces, tmp_path):
    from hwgen.report.html import write_html

    _, record, layers, board, synth = pieces
    evil = dict(synth[0], source="<script>alert(1)</script>")
    text = write_html(_report(record, layers, board, [evil], run_name="<b>x</b>"), tmp_path).read_text()
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>x</b>" not in text


def test_markdown_and_summary_name_the_best_engine(pieces):
    from hwgen.baseline.compare import best_by_batch, describe
    from hwgen.report import render_markdown, summary_lines

    _, record, layers, board, synth = pieces
    report = _report(record, layers, board, synth)
    report.update({"software_best": best_by_batch(record["baselines"]), "notices": [], "stages": {}})
    report["model"]["target_sparsity"] = 0.05
    text = render_markdown(report)
    best = report["software_best"]
    assert "Best measured software figure per batch size" in text
    for e in best:
        assert f"| {e['batch']} | {describe(e)} |" in text
    comp = report["comparison"][0]
    assert f"| {comp['fpga_source']} | 80 | " in text and comp["sw_latency_engine"] in text
    lines = summary_lines(report)
    assert any(l.strip().startswith("sw best batch-1 latency") and describe(best[0]) in l for l in lines)
    assert any(l.strip().startswith("sw best throughput") for l in lines)
