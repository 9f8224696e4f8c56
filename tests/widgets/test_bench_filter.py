"""The filter benchmark runs end to end on a small frame (timings are printed, never asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_filter.py"


def test_bench_filter_runs(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ipywidgets")
    spec = importlib.util.spec_from_file_location("bench_filter", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--rows", "20000", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "slowest panel update" in out and "source CIDR /16" in out
