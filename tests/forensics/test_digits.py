from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from saylau.forensics.data import StationResults
from saylau.forensics.digits import (
    BENFORD_SECOND,
    last_digit_test,
    last_digits,
    second_digit_test,
    second_digits,
)
from saylau.sim.fraud import fabricate_counts


def test_benford_second_digit_law() -> None:
    # Reference: Benford's second-digit probabilities as tabulated by Mebane ("Election Forensics:
    # Vote Counts and Benford's Law", 2006, Table 1) to three decimals, from
    # P(d) = sum_{k=1}^{9} log10(1 + 1/(10k + d)).
    table = [0.120, 0.114, 0.109, 0.104, 0.100, 0.097, 0.093, 0.090, 0.088, 0.085]
    assert np.allclose(BENFORD_SECOND, table, atol=5e-4)
    assert BENFORD_SECOND.sum() == pytest.approx(1.0, abs=1e-12)
    # Expected second digit 4.187 (same source).
    assert float(np.dot(np.arange(10), BENFORD_SECOND)) == pytest.approx(4.187, abs=5e-4)


def test_digit_extraction_by_hand() -> None:
    counts = np.array([10, 19, 99, 100, 109, 1000, 1234, 98765, 999_999], dtype=np.int64)
    assert second_digits(counts).tolist() == [0, 9, 9, 0, 0, 0, 2, 8, 9]
    assert last_digits(counts).tolist() == [0, 9, 9, 0, 9, 0, 4, 5, 9]
    with pytest.raises(ValueError):
        second_digits(np.array([9], dtype=np.int64))


def test_chi_square_by_hand() -> None:
    # 100 stations, two options; all counts are 10..19 with last digit = station index mod 10,
    # except that we force digit 0 to appear twice as often: hand-computed statistic below.
    a = np.array([10 + (i % 10) for i in range(100)], dtype=np.int64)
    a[:10] = 10  # first ten stations: last digit 0 → digits: 0 appears 10 + 9 = 19 times
    b = np.full(100, 5, dtype=np.int64)  # below min_count, excluded
    res = StationResults.from_arrays(
        registered=np.full(100, 40), voted=a + b, votes=np.column_stack([a, b]), options=["A", "B"]
    )
    t = last_digit_test(res, min_count=10)
    # counts >= 10: a (100 values) and voted = a + 5 (100 values, digits shifted by 5)
    assert t.n == 200
    obs = t.observed.tolist()
    expected = 20.0
    by_hand = sum((o - expected) ** 2 / expected for o in obs)
    assert t.statistic == pytest.approx(by_hand)
    assert sum(obs) == 200


def test_fabricated_protocols_are_detected(clean_one: StationResults) -> None:
    rng = np.random.default_rng(1)
    fraud, _ = fabricate_counts(clean_one, rng, fraction=0.3, intensity=1.0)
    # no null draw reaches the observation: replications go on to the cap (10 x 40), and the p-value
    # is reported as the bound it is
    last = last_digit_test(fraud, rng=rng, replications=40)
    assert last.mc_p_value == pytest.approx(1 / 401) and last.mc_p_at_floor and last.replications == 400
    assert last.mc_p_text.startswith("p < 1/401 = ") and "z = " in last.mc_p_text
    assert last_digit_test(fraud).p_value < 1e-10
    assert second_digit_test(fraud, rng=rng, replications=40).mc_p_value == pytest.approx(1 / 401)


def test_calibrated_digit_tests_do_not_alarm_on_clean(clean_small: list[StationResults]) -> None:
    rng = np.random.default_rng(2)
    alarms_last = sum(
        (last_digit_test(r, rng=rng, replications=40).mc_p_value or 1.0) < 0.05 for r in clean_small
    )
    alarms_second = sum(
        (second_digit_test(r, rng=rng, replications=40).mc_p_value or 1.0) < 0.05 for r in clean_small
    )
    # at level 0.05, P(4 or more alarms in 10 clean elections) = 0.001
    assert alarms_last <= 3
    assert alarms_second <= 3


@given(st.lists(st.integers(min_value=10, max_value=10**15), min_size=1, max_size=50))
def test_digits_match_their_decimal_strings(values: list[int]) -> None:
    # reference: the decimal representation itself
    counts = np.array(values, dtype=np.int64)
    assert second_digits(counts).tolist() == [int(str(v)[1]) for v in values]
    assert last_digits(counts).tolist() == [int(str(v)[-1]) for v in values]
