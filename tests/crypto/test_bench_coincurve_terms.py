"""The coincurve per-term benchmark runs (tiny sizes), and its check of every sum can fail."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_coincurve_terms.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_coincurve_terms", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runs_and_reports_every_path() -> None:
    bench = _load()
    row = bench.measure(3, bench.Terms(8), rounds=1, min_terms=3)
    assert set(row) == {"n", "reps", "multiply", "combine", "sum", "saylau", "weights", "decode"}
    assert all(v > 0 for v in row.values())


def test_a_wrong_sum_stops_the_run() -> None:
    bench = _load()
    terms = bench.Terms(8)
    terms.scalars[0] += 1  # the sums use the bytes of the old scalar, the check the new one
    with pytest.raises(AssertionError, match="wrong sum"):
        bench.measure(3, terms, rounds=1, min_terms=3)
