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


def _with_full_stations(region_of_full: str, k: int) -> StationResults:
    """400 domestic stations near 65% turnout and 40 'abroad' near 92%, plus k stations at 196 of 196."""
    rng = np.random.default_rng(11)
    dom = rng.integers(400, 2000, 400)
    dom_voted = rng.binomial(dom, 1 / (1 + np.exp(-(0.6 + 0.3 * rng.standard_normal(400)))))
    abr = rng.integers(100, 300, 40)
    abr_voted = rng.binomial(abr, 1 / (1 + np.exp(-(2.4 + 0.8 * rng.standard_normal(40)))))
    reg = np.concatenate([dom, abr, [196] * k])
    voted = np.concatenate([dom_voted, abr_voted, [196] * k])
    win = (voted * 0.6).astype(np.int64)
    regions = ["dom"] * 400 + ["abroad"] * 40 + [region_of_full] * k
    votes = np.stack([win, voted - win], axis=1)
    return StationResults.from_arrays(reg, voted, votes, ["A", "B"], regions=regions)


def test_near_full_judges_a_station_against_its_own_region() -> None:
    # abroad, lists are made on the day: a full station there is ordinary (one national fit flagged it,
    # p = 1/201); at home, where turnout is near 65%, a few full stations are not
    abroad = near_full_test(_with_full_stations("abroad", 1), np.random.default_rng(12), replications=200)
    home = near_full_test(_with_full_stations("dom", 4), np.random.default_rng(12), replications=200)
    assert abroad.turnout_count >= 1 and abroad.p_value > 0.05
    assert home.turnout_count >= 4 and home.p_value < 0.01
