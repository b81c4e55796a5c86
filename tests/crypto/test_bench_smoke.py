"""The crypto benchmark still runs (tiny sizes) and its operation counts match the design."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_crypto_ops.py"


def test_bench_crypto_ops_runs() -> None:
    spec = importlib.util.spec_from_file_location("bench_crypto_ops", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run(3, 1, unit_calls=20)
    # 7 selections x 6 exponentiations + 2 for the contest-limit proof, half fixed-base, half variable-base
    assert result["encrypt_ops"]["base_exp"] == 22
    assert result["encrypt_ops"]["var_exp"] == 22
    # 7 x 4 + 2 variable-base multiplications, each paired with one table product
    assert result["verify_ops"]["var_exp"] == 30
    assert result["verify_ops"]["table_exp"] == 30
    assert result["ballot_json_bytes"] < 6_400  # a tenth of ElectionGuard 1.4's ~64 KB
