"""Monte-Carlo p-values: adaptive replications, and the floor reported as a bound with its z-score."""

from __future__ import annotations

import numpy as np
from scipy import stats

from saylau.forensics import suite
from saylau.forensics.data import StationResults
from saylau.forensics.pvalue import RESOLVE, adaptive_null
from saylau.forensics.rounding import round_number_test
from saylau.sim.fraud import round_protocols


def test_floor_is_reported_as_a_bound_with_z_and_tail() -> None:
    rng = np.random.default_rng(0)
    null, mc = adaptive_null(lambda b: rng.normal(size=b), 7.6, start=200, cap=2000)
    assert mc.at_floor and mc.replications == 2000 and null.size == 2000
    assert mc.p_value == 1 / 2001
    assert abs(mc.z_score - 7.6) < 0.5  # standard normal null: z is the observation itself
    assert mc.tail == stats.norm.sf(mc.z_score)
    assert mc.text().startswith("p < 1/2001 = 0.0005 (z = 7.")


def test_replications_stop_once_resolved() -> None:
    rng = np.random.default_rng(1)
    _, mc = adaptive_null(lambda b: rng.normal(size=b), 1.0, start=200, cap=20000)
    assert mc.replications == 200 and mc.exceed >= RESOLVE  # P(Z >= 1) = 0.16: resolved at once
    _, rare = adaptive_null(lambda b: rng.normal(size=b), 2.8, start=200, cap=20000)
    assert rare.replications > 200 and (rare.exceed >= RESOLVE or rare.replications == 20000)
    assert abs(rare.p_value - stats.norm.sf(2.8)) < 3 * np.sqrt(stats.norm.sf(2.8) / rare.replications)


def test_round_numbers_at_floor_print_no_plain_p(clean_one: StationResults) -> None:
    rng = np.random.default_rng(2)
    fraud, _ = round_protocols(clean_one, rng, fraction=0.3)
    r = round_number_test(fraud, rng, replications=50)
    assert r.p_at_floor and r.replications == 500 and r.z_score > 5
    outcome = suite.TestOutcome("round_numbers", float(r.statistic), r.p_value, {"p_text": r.p_text})
    assert outcome.as_dict()["p_text"].startswith("p < 1/501")


def test_cli_table_prints_the_bound_not_a_plain_p() -> None:
    from rich.console import Console

    from saylau.cli.forensics import forensics_table

    text = "p < 1/2001 = 0.0005 (z = 7.6, normal tail ≈ 1.5e-14)"
    summary = {"tests": {"round_numbers": {"statistic": 812.0, "p_value": 1 / 2001, "p_text": text,
                                           "skipped": None, "calibrated": True}}}  # fmt: skip
    console = Console(width=200, record=True)
    console.print(forensics_table(summary))
    out = console.export_text()
    assert "p < 1/2001" in out and "z = 7.6" in out and "0.0005 " not in out.replace("= 0.0005", "")
