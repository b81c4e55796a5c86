"""A pilot of encrypted voting in a few polling stations of a simulated election.

Encrypting all 8.3 million ballots of a national election is the scale benchmark's job; the demo and
the tests run the verifiable protocol in a sample of stations instead. The pilot takes its geography
from the scenario (``Scenario.to_manifest`` restricted to the sampled stations) and its votes from the
paper simulation of those same stations, scaled down to a ballot budget, so that the decrypted
encrypted tally can be compared with the paper protocols station by station.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from saylau.election.aggregation import StationTable
from saylau.election.manifest import Manifest
from saylau.election.scenario import Scenario, load_scenario
from saylau.sim.apportion import apportion
from saylau.sim.paper import PaperSimulation, simulate_paper

__all__ = ["Pilot", "VotePlan", "pick_stations", "pilot_election", "pilot_plan", "pilot_registered"]

VotePlan = Mapping[str, Mapping[str, int]]
"""Votes to cast per station id, per option id."""


@dataclass(frozen=True)
class Pilot:
    """The pilot's manifest, its vote plan and the paper simulation it was drawn from."""

    manifest: Manifest
    plan: VotePlan
    paper: PaperSimulation
    station_ids: tuple[str, ...]
    registered: Mapping[str, int] = field(default_factory=dict)
    """Voters on each pilot station's roll: the paper roll scaled like its votes (for the protocols)."""

    @property
    def ballots(self) -> int:
        """Number of voters in the plan."""
        return sum(sum(v.values()) for v in self.plan.values())


def pick_stations(scenario: Scenario, count: int, seed: int) -> tuple[str, ...]:
    """``count`` station ids, in a seeded order.

    One station is abroad when the scenario has stations abroad; the rest are spread round-robin
    over the domestic regions, a random station of each.
    """
    if count < 1:
        raise ValueError(f"pilot needs at least one station, got {count}")
    terr = scenario.territory_index
    rng = np.random.default_rng(seed)
    abroad_regions = {r.id for r in terr.regions if r.kind == "abroad"}
    by_region: dict[str, list[str]] = {}
    district_region = {d.id: d.region for d in terr.districts}
    for st in terr.stations:
        by_region.setdefault(district_region[st.district], []).append(st.id)
    for ids in by_region.values():
        rng.shuffle(ids)
    picked: list[str] = []
    abroad = [sid for r in sorted(abroad_regions) for sid in by_region.get(r, [])]
    if abroad:
        picked.append(abroad[0])
    domestic = [r.id for r in terr.regions if r.id not in abroad_regions and by_region.get(r.id)]
    depth = 0
    while len(picked) < count:
        added = False
        for region in domestic:
            if len(picked) == count:
                break
            if depth < len(by_region[region]):
                picked.append(by_region[region][depth])
                added = True
        if not added:
            raise ValueError(f"the scenario has fewer than {count} stations")
        depth += 1
    return tuple(picked)


def pilot_plan(table: StationTable, station_ids: tuple[str, ...], ballots: int) -> dict[str, dict[str, int]]:
    """Each pilot station's valid votes, scaled so that all stations together cast ``ballots``.

    Stations keep their relative sizes and their own vote split (largest-remainder rounding), so a
    station that leans away from the national result still does in the pilot.
    """
    index = {sid: i for i, sid in enumerate(table.station)}
    rows = [index[sid] for sid in station_ids]
    valid = table.valid[rows].astype(np.float64)
    per_station = apportion(ballots, valid)
    plan: dict[str, dict[str, int]] = {}
    for sid, row, n in zip(station_ids, rows, per_station, strict=True):
        split = apportion(int(n), table.votes[row]) if n else np.zeros(len(table.options), dtype=np.int64)
        plan[sid] = {opt: int(v) for opt, v in zip(table.options, split, strict=True)}
    return plan


def pilot_registered(table: StationTable, plan: VotePlan) -> dict[str, int]:
    """Each pilot station's roll, scaled from its paper roll by the pilot's share of its valid votes.

    Rounded up, and never below the station's pilot voters, so the protocol's "voted <= registered" holds.
    """
    index = {sid: i for i, sid in enumerate(table.station)}
    out: dict[str, int] = {}
    for sid, votes in plan.items():
        row = index[sid]
        voters = sum(votes.values())
        valid = int(table.valid[row])
        scaled = math.ceil(int(table.registered[row]) * voters / valid) if valid else voters
        out[sid] = max(scaled, voters)
    return out


def pilot_election(
    scenario: str | Scenario = "kz-2022",
    *,
    stations: int = 20,
    ballots: int = 3000,
    seed: int = 2022,
    scale: float = 1.0,
    paper: PaperSimulation | None = None,
) -> Pilot:
    """Simulate (or reuse) the paper election and draw the encrypted pilot from it."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    sim = paper if paper is not None else simulate_paper(sc, scale=scale, seed=seed)
    chosen = pick_stations(sc, stations, seed)
    present = set(sim.table.station)
    chosen = tuple(s for s in chosen if s in present)
    manifest: Manifest = sc.to_manifest(station_ids=chosen)
    plan = pilot_plan(sim.table, chosen, ballots)
    return Pilot(manifest, plan, sim, chosen, pilot_registered(sim.table, plan))
