"""Election day in time: turnout snapshots at local reporting times, and when protocols arrive.

Turnout model: the share of a station's final voters who have voted by local time ``t`` is the
Beta(a, b) distribution function of ``u = (t - open) / (close - open)``, with ``(a, b)`` the
scenario's ``day_curve`` jittered per station (log-normal, σ 0.15). Snapshots are floors of
``voted · F(u)``, so they never decrease and the one at closing equals the protocol's voters.
Protocols reach the commission after closing with a Gamma-distributed delay (mean 90 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
from scipy.special import betainc

from saylau.sim.paper import PaperSimulation

__all__ = ["TurnoutSnapshots", "report_times", "turnout_snapshots"]

IntArray = npt.NDArray[np.int64]


def _minutes(hhmm: str) -> int:
    h, m = (int(x) for x in hhmm.split(":"))
    return 60 * h + m


@dataclass(frozen=True)
class TurnoutSnapshots:
    """Cumulative voters per station (rows) at each local reporting time (columns; last = closing)."""

    times: tuple[str, ...]
    counts: IntArray = field(repr=False)

    def national(self) -> dict[str, int]:
        """Voters so far at each local time, summed over stations (each at its own local time)."""
        return {t: int(c) for t, c in zip(self.times, self.counts.sum(axis=0), strict=True)}


def turnout_snapshots(sim: PaperSimulation) -> TurnoutSnapshots:
    """Snapshots at the scenario's reporting times plus closing time, in each station's local time."""
    rules = sim.scenario.rules
    model = sim.scenario.simulation
    assert model is not None
    times = (*rules.turnout_reports_local, rules.polls_close_local)
    t_open, t_close = _minutes(rules.polls_open_local), _minutes(rules.polls_close_local)
    u = np.array([(_minutes(t) - t_open) / (t_close - t_open) for t in times]).clip(0.0, 1.0)
    rng = np.random.default_rng([sim.seed, 1])
    n = len(sim.table)
    a = model.day_curve[0] * rng.lognormal(0.0, 0.15, size=n)
    b = model.day_curve[1] * rng.lognormal(0.0, 0.15, size=n)
    frac = betainc(a[:, None], b[:, None], u[None, :])
    counts = np.floor(sim.table.voted[:, None] * frac).astype(np.int64)
    counts[:, -1] = sim.table.voted
    counts = np.maximum.accumulate(counts, axis=1)
    return TurnoutSnapshots(times=times, counts=counts)


def report_times(sim: PaperSimulation, mean_minutes: float = 90.0) -> list[datetime]:
    """When each station's protocol reaches the commission (aware datetimes, UTC)."""
    rng = np.random.default_rng([sim.seed, 2])
    delay = rng.gamma(3.0, mean_minutes / 3.0, size=len(sim.table))
    sc = sim.scenario
    out = []
    for sid, d in zip(sim.table.station, delay, strict=True):
        close = sc.local_time(sid, sc.rules.polls_close_local)
        out.append((close + timedelta(minutes=float(d))).astimezone(UTC))
    return out
