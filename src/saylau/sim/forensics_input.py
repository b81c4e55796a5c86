"""Station results from a scenario's paper simulation (``saylau.sim.paper``), as forensic input.

The benchmark and the exit-poll calibration run on the project's own calibrated simulation of the
election of a scenario (national totals exact), not only on the generic generator in ``synthetic``.
"""

from __future__ import annotations

import numpy as np

from saylau.forensics import StationResults, TurnoutSnapshots

__all__ = ["paper_results"]


def paper_results(scenario: str = "kz-2022", seed: int = 1, scale: float = 1.0) -> StationResults:
    """Simulate the scenario's paper results and return them with turnout snapshots (hours from open)."""
    from saylau.election.scenario import load_scenario
    from saylau.sim.daytime import turnout_snapshots
    from saylau.sim.paper import simulate_paper

    sim = simulate_paper(load_scenario(scenario), scale=scale, seed=seed)
    table = sim.table
    snaps = turnout_snapshots(sim)
    opening = sim.scenario.rules.polls_open_local

    def minutes(hhmm: str) -> int:
        h, m = hhmm.split(":")
        return 60 * int(h) + int(m)

    hours = np.array([(minutes(t) - minutes(opening)) / 60 for t in snaps.times], dtype=np.float64)
    names = [o.name.get(sim.scenario.column_language) for o in sim.scenario.options]
    ids = np.asarray(table.station, dtype=np.str_)
    return StationResults(
        stations=ids,
        regions=np.asarray(table.region, dtype=np.str_),
        registered=np.asarray(table.registered, dtype=np.int64),
        voted=np.asarray(table.voted, dtype=np.int64),
        votes=np.asarray(table.votes, dtype=np.int64),
        options=tuple(str(n) for n in names),
        snapshots=TurnoutSnapshots(ids, hours, np.asarray(snaps.counts, dtype=np.int64)),
    )
