"""Conformance: QKeras models written the way users write them, through `hwgen flow --model-file`.

Every case (tests/conformance_cases.py) must reach a bit-exact C-simulation of the logits
(fraction 1.0), or run with a measured, explicitly not-guaranteed agreement (float batch norm),
or be refused before any heavy work with one message naming the layer, the construct and what
to use instead. Every exact case is also given to the open path (da4ml -> Verilog -> Icarus): it must be
bit-exact in RTL simulation or refused by name (rtl="exact" cases must be taken).

The default suite runs the representative subset (`default=True`); `make test-slow` runs all.
Cases run two at a time in worker processes (the real CLI, real hls4ml, real g++).
"""

from __future__ import annotations

import multiprocessing
import shutil
from concurrent.futures import ProcessPoolExecutor

import pytest

import conformance_cases as cc

WORKERS = 2


def _run_all(cases, tmp_path_factory, full: bool = False) -> dict:
    work = tmp_path_factory.mktemp("conformance")
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WORKERS, mp_context=ctx) as pool:
        futures = {
            c.name: pool.submit(cc.run_case, c.name, str(work), c.expect == "exact" and (full or c.rtl_in_default))
            for c in cases
        }
        return {name: f.result() for name, f in futures.items()}


@pytest.fixture(scope="module")
def default_results(tmp_path_factory):
    if not shutil.which("g++"):
        pytest.fail("g++ is required for the C-simulation (apt-get install g++)")
    return _run_all(cc.default_cases(), tmp_path_factory)


def check_case(case: cc.Case, r: dict) -> None:
    if case.expect.startswith("refused:"):
        words = case.expect.split(":", 1)[1]
        assert r["rc"] == 2, r
        assert words in r["error"], r["error"]
        assert r["error"].startswith("hwgen: error:") and "\n" not in r["error"]
        assert not r["run_exists"], "a refused model must leave no run directory"
        assert not r["staging_left"], "a refusal must come before any run directory is staged"
        return
    csim = r.get("csim") or {}
    assert csim, r
    if case.expect == "exact":
        assert r["rc"] == 0, r
        assert csim["bit_exact_fraction"] == 1.0 and csim["max_abs_diff"] == 0.0, r
        assert not r["convert"]["measured_only"], r
        assert csim["n_samples"] == 96
    elif case.expect == "measured":
        # Runs, reports the measured agreement, and never calls itself bit-exact.
        assert r["rc"] in (0, 1), r
        assert r["convert"]["measured_only"], r
        assert any("not guaranteed" in n for n in r["notices"]), r["notices"]
        assert csim["guaranteed"] is False
    rtl = r.get("rtl")
    if rtl is None:
        return  # RTL of this case is simulated in the slow run only
    if "refused" in rtl:
        assert case.rtl != "exact", f"the open path must take {case.name}: {rtl['refused']}"
        assert rtl["refused"].startswith("open RTL path skipped: layer '"), rtl
    else:
        assert rtl.get("bit_exact_fraction") == 1.0 and rtl.get("max_abs_diff") == 0.0, rtl
        assert rtl.get("n_samples") == 96


@pytest.mark.parametrize("case", cc.default_cases(), ids=lambda c: c.name)
def test_conformance_case(case, default_results):
    check_case(case, default_results[case.name])


def test_default_subset_is_representative():
    default = cc.default_cases()
    assert len(default) >= 40
    kinds = {c.expect.split(":")[0] for c in default}
    assert kinds == {"exact", "measured", "refused"}
    assert {c.io_type for c in default} == {"io_parallel", "io_stream"}
    assert {c.strategy for c in default} == {"latency", "resource"}


@pytest.mark.slow
def test_conformance_all_cases(tmp_path_factory):
    results = _run_all(cc.CASES, tmp_path_factory, full=True)
    failures = []
    for case in cc.CASES:
        try:
            check_case(case, results[case.name])
        except AssertionError as exc:
            failures.append(f"{case.name}: {exc}")
    assert not failures, "\n".join(failures)
