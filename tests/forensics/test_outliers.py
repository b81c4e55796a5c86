from __future__ import annotations

import numpy as np
import pytest

from saylau.errors import ForensicsError
from saylau.forensics.data import StationResults
from saylau.forensics.outliers import late_jump_test, near_full_test
from saylau.sim.fraud import stuff_ballots


def test_late_stuffing_is_detected(clean_one: StationResults) -> None:
    rng = np.random.default_rng(8)
    fraud, mask = stuff_ballots(clean_one, rng, fraction=0.05, intensity=1.0)
    res = late_jump_test(fraud)
    assert res.p_value < 1e-6
    flagged = set(res.flagged_stations)
    # most flagged stations are stuffed ones
    assert len(flagged & set(clean_one.stations[mask].tolist())) >= 0.8 * len(flagged)


def test_late_jump_clean_rate(clean_small: list[StationResults]) -> None:
    alarms = sum(late_jump_test(r).p_value < 0.05 for r in clean_small)
    assert alarms <= 3  # P(>= 4 of 10 | level 0.05) = 0.001


def test_late_jump_needs_snapshots() -> None:
    res = StationResults.from_arrays([100] * 60, [50] * 60, [[30, 20]] * 60, ["A", "B"])
    with pytest.raises(ForensicsError, match="snapshots"):  # none at all
        late_jump_test(res)


def test_near_full_stations_detected(clean_one: StationResults) -> None:
    rng = np.random.default_rng(9)
    fraud, _ = stuff_ballots(clean_one, rng, fraction=0.2, intensity=1.0)
    res = near_full_test(fraud, rng, replications=50)
    assert res.turnout_count >= 5
    assert res.p_value == pytest.approx(1 / 51)


def test_near_full_clean(clean_small: list[StationResults]) -> None:
    rng = np.random.default_rng(10)
    alarms = sum(near_full_test(r, rng, replications=50).p_value < 0.05 for r in clean_small)
    assert alarms <= 3
