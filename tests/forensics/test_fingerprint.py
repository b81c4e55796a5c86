from __future__ import annotations

import numpy as np
import pytest

from saylau.errors import ForensicsError
from saylau.forensics.data import StationResults
from saylau.forensics.fingerprint import fingerprint_histogram, fingerprint_test, fit_fingerprint
from saylau.sim.fraud import stuff_ballots


def klimek_election(rng: np.random.Generator, n: int, f_i: float, sigma_x: float) -> StationResults:
    """Data drawn from the Klimek et al. (2012) model itself: Gaussian turnout and share, and with
    probability f_i a fraction x ~ |N(0, sigma_x)| of non-voters' ballots stuffed for the winner and
    y ~ |N(0, sigma_x)| of the other votes moved to the winner. Written here independently of the
    module under test."""
    reg = np.full(n, 2000)
    v = np.clip(rng.normal(0.6, 0.07, n), 0.05, 0.95)
    a = np.clip(rng.normal(0.65, 0.06, n), 0.05, 0.95)
    fraud = rng.uniform(size=n) < f_i
    x = np.where(fraud, np.minimum(np.abs(rng.normal(0, sigma_x, n)), 1), 0.0)
    y = np.where(fraud, np.minimum(np.abs(rng.normal(0, sigma_x, n)), 1), 0.0)
    voted = np.rint(reg * (v + x * (1 - v))).astype(np.int64)
    win = np.rint(reg * (a * v + x * (1 - v) + y * (1 - a) * v)).astype(np.int64)
    return StationResults.from_arrays(reg, voted, np.column_stack([win, voted - win]), ["W", "O"])


def test_histogram_is_normalised() -> None:
    h = fingerprint_histogram(np.array([0.1, 0.5, 1.0]), np.array([0.2, 0.99, 1.0]), bins=10)
    assert h.sum() == pytest.approx(1.0)
    # (0.1, 0.2) -> bin (1, 2); (0.5, 0.99) -> (5, 9); (1.0, 1.0) is clipped into the last bin (9, 9)
    assert h[1, 2] == h[5, 9] == h[9, 9] == pytest.approx(1 / 3)


def test_recovers_incremental_fraud_from_its_own_model() -> None:
    rng = np.random.default_rng(5)
    fit = fit_fingerprint(klimek_election(rng, 20_000, f_i=0.25, sigma_x=0.45), rng)
    # 25% of stations have x,y ~ |N(0, 0.45)|; about 1/3 of those move less than 0.2 (nuisance range),
    # so the fitted f_i (sigma_x >= 0.2) must lie between 0.25 * 2/3 and 0.25 (+ tolerance 0.05)
    assert 0.25 * 2 / 3 - 0.05 <= fit.f_incremental <= 0.30
    assert fit.f_extreme < 0.02
    assert fit.clean.v0 == pytest.approx(0.6, abs=0.02) and fit.clean.a0 == pytest.approx(0.65, abs=0.02)


def test_clean_model_data_score_near_zero() -> None:
    rng = np.random.default_rng(6)
    res = fingerprint_test(klimek_election(rng, 5000, f_i=0.0, sigma_x=0.1), rng, replications=19)
    assert res.score < 0.03
    assert res.p_value is not None and res.p_value > 0.05


def test_strong_stuffing_is_detected(clean_one: StationResults) -> None:
    rng = np.random.default_rng(7)
    fraud, _ = stuff_ballots(clean_one, rng, fraction=0.15, intensity=0.9)
    res = fingerprint_test(fraud, rng, replications=19)
    assert res.f_incremental + res.f_extreme > 0.05
    assert res.p_value == pytest.approx(1 / 20)


def test_too_few_stations() -> None:
    tiny = StationResults.from_arrays([100] * 5, [50] * 5, [[30, 20]] * 5, ["A", "B"])
    with pytest.raises(ForensicsError, match="at least 100"):
        fit_fingerprint(tiny, np.random.default_rng(0))
