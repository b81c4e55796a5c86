from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from saylau.errors import ForensicsError
from saylau.forensics.data import StationResults
from saylau.forensics.rounding import integer_percent, round_number_test
from saylau.sim.fraud import round_protocols


def test_integer_percent_by_hand() -> None:
    counts = np.array([250, 251, 100, 99, 3, 7], dtype=np.int64)
    base = np.array([1000, 1000, 300, 300, 150, 700], dtype=np.int64)
    # 25.0% yes; 25.1% no; 33.33%: nearest count to 33% of 300 is 99, so 100 no and 99 yes;
    # 2% of 150 = 3 yes; 1% of 700 = 7 yes.
    assert integer_percent(counts, base).tolist() == [True, False, False, True, True, True]


def test_rounding_fraud_is_detected(clean_one: StationResults) -> None:
    rng = np.random.default_rng(3)
    fraud, mask = round_protocols(clean_one, rng, fraction=0.1)
    big = mask & (clean_one.registered >= 100)
    assert integer_percent(fraud.voted[big], fraud.registered[big]).all()
    res = round_number_test(fraud, rng, replications=60)
    # at the floor after the adaptive cap (10 x 60 draws): a bound, printed with the z-score
    assert res.p_value == pytest.approx(1 / 601) and res.p_at_floor
    assert res.p_text.startswith("p < 1/601")
    assert res.z_score > 5


def test_clean_elections_do_not_alarm(clean_small: list[StationResults]) -> None:
    rng = np.random.default_rng(4)
    alarms = sum(round_number_test(r, rng, replications=60).p_value < 0.05 for r in clean_small)
    assert alarms <= 3  # P(>= 4 of 10 | level 0.05) = 0.001


def test_needs_stations_with_a_base() -> None:
    tiny = StationResults.from_arrays([50, 60], [40, 50], [[30, 10], [20, 30]], ["A", "B"])
    with pytest.raises(ForensicsError, match="base"):
        round_number_test(tiny, np.random.default_rng(0))


@given(st.integers(min_value=100, max_value=5000), st.data())
def test_integer_percent_matches_exact_arithmetic(base: int, data: st.DataObject) -> None:
    # reference: exact rational arithmetic — count is "integer" iff it is the count nearest to
    # k% of base for k = the nearest whole percentage (ties resolved as numpy's rint: half to even)
    count = data.draw(st.integers(min_value=0, max_value=base))
    pct = Fraction(100 * count, base)
    k = round(pct)  # Python rounds half to even, like numpy.rint
    nearest = round(Fraction(k * base, 100))
    expected = nearest == count
    assert bool(integer_percent(np.array([count]), np.array([base]))[0]) == expected
