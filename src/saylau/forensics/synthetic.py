"""A seeded generator of clean station-level elections, to calibrate and evaluate the forensic tests.

The model is deliberately *not* the Gaussian model the fingerprint fit assumes: regions differ in
turnout and vote shares (logit-normal), stations differ around their region (logit-normal turnout,
Dirichlet shares), station sizes are log-normal and every count is drawn binomially. A test that only
works when the data match its own assumptions would show false alarms here, which is what we want to see.
Defaults describe a dominant-candidate election of about the size of the kz-2022 scenario (ten thousand
stations, a winner near 80 %, turnout near 70 %); any other profile is a matter of arguments.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import expit, logit

from saylau.forensics.data import StationResults, TurnoutSnapshots

__all__ = ["DEFAULT_OPTIONS", "DEFAULT_SHARES", "DEFAULT_TURNOUT", "REPORT_HOURS", "clean_election"]

DEFAULT_OPTIONS = ("A", "B", "C", "D", "E", "F", "G")
#: Shares of valid votes of a dominant-candidate profile (the kz-2022 scenario's, rounded).
DEFAULT_SHARES = (0.8131, 0.0580, 0.0342, 0.0260, 0.0253, 0.0222, 0.0212)
DEFAULT_TURNOUT = 0.6944
#: Hours after opening (08:00) at which turnout is reported: 10:00, 12:00, ... 20:00 (close).
REPORT_HOURS = (2.0, 4.0, 6.0, 8.0, 10.0, 12.0)
_ARRIVAL = np.array([0.06, 0.09, 0.10, 0.10, 0.09, 0.08, 0.08, 0.08, 0.08, 0.09, 0.08, 0.07])


def clean_election(
    rng: np.random.Generator,
    n_stations: int = 10_101,
    options: Sequence[str] = DEFAULT_OPTIONS,
    shares: Sequence[float] = DEFAULT_SHARES,
    turnout: float = DEFAULT_TURNOUT,
    n_regions: int = 20,
    mean_registered: float = 1183.0,
    invalid_rate: float = 0.043,
    station_concentration: float = 150.0,
) -> StationResults:
    """Draw one clean election with hourly arrivals, reported as cumulative turnout snapshots."""
    k = len(options)
    p = np.asarray(shares, dtype=np.float64)
    p = p / p.sum()
    region = rng.integers(0, n_regions, size=n_stations)
    reg_turnout = expit(logit(turnout) + rng.normal(0.0, 0.25, n_regions))
    reg_logits = np.log(p)[None, :] + rng.normal(0.0, 0.25, (n_regions, k))
    reg_p = np.exp(reg_logits)
    reg_p /= reg_p.sum(axis=1, keepdims=True)
    sigma = 0.8
    registered = np.maximum(
        20, rng.lognormal(np.log(mean_registered) - sigma**2 / 2, sigma, n_stations)
    ).astype(np.int64)
    t = expit(logit(reg_turnout[region]) + rng.normal(0.0, 0.35, n_stations))
    voted = rng.binomial(registered, t)
    valid = rng.binomial(voted, 1.0 - invalid_rate)
    alpha = station_concentration * reg_p[region]
    gam = rng.standard_gamma(alpha)
    probs = gam / gam.sum(axis=1, keepdims=True)
    votes = rng.multinomial(valid, probs).astype(np.int64)
    arrivals_p = rng.dirichlet(60.0 * _ARRIVAL, size=n_stations)
    hourly = rng.multinomial(voted, arrivals_p)
    cumulative = np.cumsum(hourly, axis=1)
    cols = [int(h) - 1 for h in REPORT_HOURS]
    ids = np.char.add("S", np.arange(n_stations).astype(np.str_))
    snaps = TurnoutSnapshots(ids, np.asarray(REPORT_HOURS), cumulative[:, cols].astype(np.int64))
    return StationResults(
        stations=ids,
        regions=np.char.add("R", region.astype(np.str_)),
        registered=registered,
        voted=voted.astype(np.int64),
        votes=votes,
        options=tuple(options),
        snapshots=snaps,
    )
