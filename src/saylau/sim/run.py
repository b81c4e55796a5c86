"""One call from a scenario to a results directory: simulate, snapshot turnout, time reports, write.

Used by ``saylau simulate --paper`` and by the demo; ``progress`` is called after each step so a
caller can drive a progress bar without this module printing anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from saylau.election.aggregation import aggregate, partial_results
from saylau.election.results_io import write_results
from saylau.election.rules import Decision
from saylau.election.scenario import Scenario, load_scenario
from saylau.sim.daytime import TurnoutSnapshots, report_times, turnout_snapshots
from saylau.sim.paper import PaperSimulation, simulate_paper

__all__ = ["STEPS", "PaperRun", "partial_timeline", "run_paper"]

STEPS = 5
"""Number of times ``run_paper`` calls ``progress``."""


@dataclass(frozen=True)
class PaperRun:
    """What a paper run produced."""

    sim: PaperSimulation
    snapshots: TurnoutSnapshots
    reported_at: list[datetime]
    decision: Decision
    out: Path


def partial_timeline(
    sim: PaperSimulation, reported_at: list[datetime], step_minutes: int = 60
) -> list[dict[str, Any]]:
    """Partial results every ``step_minutes`` from the first report until all stations reported."""
    stamps = np.array([t.timestamp() for t in reported_at])
    if stamps.size == 0:
        return []
    start = datetime.fromtimestamp(float(stamps.min()), tz=reported_at[0].tzinfo)
    start = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    out = []
    t = start
    while True:
        mask = stamps <= t.timestamp()
        pr = partial_results(sim.table, mask)
        out.append(
            {
                "at_utc": t.isoformat(timespec="minutes"),
                "stations_reporting": pr.stations_reporting,
                "stations_total": pr.stations_total,
                "took_part_counted": int(pr.national.voted[0]),
                "shares": {k: round(v, 6) for k, v in pr.shares().items()},
            }
        )
        if mask.all():
            return out
        t += timedelta(minutes=step_minutes)


def run_paper(
    scenario: str | Path | Scenario,
    out: Path,
    scale: float = 1.0,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> PaperRun:
    """Simulate the paper election and write the results directory ``out``."""
    tick = progress or (lambda _step: None)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    sim = simulate_paper(sc, scale=scale, seed=seed)
    tick("station protocols")
    snaps = turnout_snapshots(sim)
    tick("turnout snapshots")
    reported = report_times(sim)
    tick("report times")
    t = sim.table
    meta: dict[str, list[Any]] = {
        "district": list(t.district),
        "abroad": [int(x) for x in sim.abroad],
        "time_zone": list(sim.time_zone),
        "settlement": list(sim.settlement),
        "valid": t.valid.tolist(),
        "invalid": t.invalid.tolist(),
        "ballots_received": sim.ballots_received.tolist(),
        "ballots_issued": t.voted.tolist(),
        "spoiled": sim.spoiled.tolist(),
        "unused": sim.unused.tolist(),
        "ballots_in_boxes": t.voted.tolist(),
        "reported_at_utc": [r.isoformat(timespec="seconds") for r in reported],
    }
    regions = tuple(r for r in dict.fromkeys(t.region))
    reg = aggregate(t, "region", regions)
    by_region_turnout: dict[str, dict[str, int]] = {}
    for k, r in enumerate(regions):
        rows = np.array([x == r for x in t.region])
        by_region_turnout[r] = dict(
            zip(snaps.times, (int(x) for x in snaps.counts[rows].sum(axis=0)), strict=True)
        )
        by_region_turnout[r]["registered"] = int(reg.registered[k])
    timeline = partial_timeline(sim, reported)
    tick("partial results")
    extra = {
        "scale": scale,
        "seed": seed,
        "turnout_by_region": by_region_turnout,
        "partial_results": timeline,
    }
    decision = write_results(out, sc, t, meta, snaps.times, snaps.counts, extra=extra)
    tick("written")
    return PaperRun(sim=sim, snapshots=snaps, reported_at=reported, decision=decision, out=out)
