"""Seeded simulation of an election's paper results, calibrated to the published totals exactly.

The model (documented in docs/scenario-format.md, parameters in ``[simulation]`` of the scenario):

1. **Stations.** At ``scale`` < 1 each district keeps ``max(1, round(n·scale))`` of its stations
   (a seeded sample); at 1.0 all of them.
2. **Registered voters.** Regions with published figures get them; the rest of the national total
   is split over the other regions by their modelled ``voters`` weights; each region's total is
   split over its stations by their ``expected_size`` (largest-remainder apportionment), none above
   ``max_station_size``.
3. **Turnout.** Station turnout ``p ~ Beta(μκ, (1-μ)κ)`` around the region's mean ``μ``;
   ``registered·p`` are the weights by which the published number who took part is apportioned
   (capped at each station's registered voters).
4. **Invalid ballots.** Rate ``~ Beta`` around ``invalid_rate``; the published invalid total is
   apportioned by ``voted·rate`` (capped at ``voted``).
5. **Votes.** Region means are the national shares times the region's ``tilt``; station shares
   ``~ Dirichlet(κ·mean)``; the expected station×option matrix is raked to both margins (station
   valid votes, published option totals) and rounded by :func:`~saylau.sim.apportion.apportion_matrix`.
6. **Protocol extras.** Ballots received = registered; spoiled ``~ Binomial(voted, 0.002)``.

Everything is numpy; the 12 M voters are never looped over. At ``scale`` ≠ 1 every published total is
scaled and rounded, options by largest remainder so they still sum to the valid votes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from saylau.election.aggregation import StationTable
from saylau.election.protocols import ProtocolFigures
from saylau.election.scenario import Scenario
from saylau.errors import ScenarioError
from saylau.sim.apportion import apportion, apportion_matrix

__all__ = ["SPOIL_RATE", "PaperSimulation", "simulate_paper"]

IntArray = npt.NDArray[np.int64]
SPOIL_RATE = 0.002
"""Probability that an issued ballot is spoiled and replaced (model parameter, not published)."""


@dataclass(frozen=True)
class PaperSimulation:
    """The simulated stations: result table, protocol extras and per-station facts."""

    scenario: Scenario
    scale: float
    seed: int
    table: StationTable
    ballots_received: IntArray = field(repr=False)
    spoiled: IntArray = field(repr=False)
    unused: IntArray = field(repr=False)
    abroad: npt.NDArray[np.bool_] = field(repr=False)
    time_zone: tuple[str, ...] = field(repr=False)
    settlement: tuple[str, ...] = field(repr=False)

    def protocol(self, i: int) -> ProtocolFigures:
        """Row ``i`` as the station's paper protocol (all ballots issued are found in the box)."""
        t = self.table
        return ProtocolFigures(
            station=t.station[i],
            registered=int(t.registered[i]),
            ballots_received=int(self.ballots_received[i]),
            ballots_issued=int(t.voted[i]),
            ballots_unused=int(self.unused[i]),
            ballots_spoiled=int(self.spoiled[i]),
            ballots_in_boxes=int(t.voted[i]),
            valid=int(t.valid[i]),
            invalid=int(t.invalid[i]),
            votes={o: int(v) for o, v in zip(t.options, t.votes[i], strict=True)},
        )


def _scaled_targets(
    sc: Scenario, scale: float
) -> tuple[int, int, int, dict[str, int], dict[str, tuple[int, int]]]:
    pub = sc.published
    if pub is None:
        raise ScenarioError(f"scenario {sc.election_id}: no [published] figures to calibrate to")
    opts = [o.id for o in sc.options]
    if scale == 1.0:
        votes = {o: pub.votes[o] for o in opts}
        fixed = {
            r: (f.registered, f.took_part)
            for r, f in pub.regions.items()
            if f.registered is not None and f.took_part is not None
        }
        return pub.registered, pub.took_part, pub.valid, votes, fixed
    reg, took, valid = round(pub.registered * scale), round(pub.took_part * scale), round(pub.valid * scale)
    counts = apportion(valid, [pub.votes[o] for o in opts])
    fixed = {
        r: (round(f.registered * scale), round(f.took_part * scale))
        for r, f in pub.regions.items()
        if f.registered is not None and f.took_part is not None
    }
    return reg, took, valid, {o: int(c) for o, c in zip(opts, counts, strict=True)}, fixed


def _select_stations(sc: Scenario, scale: float, rng: np.random.Generator) -> list[int]:
    terr = sc.territory_index
    if scale == 1.0:
        return list(range(len(terr.stations)))
    by_d: dict[str, list[int]] = {}
    for i, s in enumerate(terr.stations):
        by_d.setdefault(s.district, []).append(i)
    keep: list[int] = []
    for idx in by_d.values():
        k = max(1, round(len(idx) * scale))
        keep.extend(int(x) for x in rng.choice(idx, size=min(k, len(idx)), replace=False))
    return sorted(keep)


def simulate_paper(sc: Scenario, scale: float = 1.0, seed: int = 1) -> PaperSimulation:
    """Simulate every selected station's protocol; national totals equal the (scaled) published ones."""
    if not 0 < scale <= 1.0:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    model = sc.simulation
    if model is None:
        raise ScenarioError(f"scenario {sc.election_id}: no [simulation] model")
    rng = np.random.default_rng(seed)
    terr = sc.territory_index
    reg_total, took_total, valid_total, votes_total, fixed = _scaled_targets(sc, scale)
    chosen = _select_stations(sc, scale, rng)
    stations = [terr.stations[i] for i in chosen]
    districts = tuple(s.district for s in stations)
    regions = tuple(terr.district_by_id[d].region for d in districts)
    region_ids = [r.id for r in terr.regions]
    ridx = np.array([region_ids.index(r) for r in regions], dtype=np.int64)
    n = len(stations)
    size = np.array([s.expected_size for s in stations], dtype=np.float64)

    # 2. registered voters: fixed regions first, the rest by modelled weight, then over stations
    free_regions = [r for r in region_ids if r not in fixed]
    reg_by_region = {r: fixed[r][0] for r in fixed}
    rest = reg_total - sum(reg_by_region.values())
    split = apportion(rest, [model.regions[r].voters for r in free_regions])
    reg_by_region.update({r: int(v) for r, v in zip(free_regions, split, strict=True)})
    registered = np.zeros(n, dtype=np.int64)
    for k, r in enumerate(region_ids):
        mask = ridx == k
        if mask.any():
            cap = None if model.max_station_size is None else np.full(int(mask.sum()), model.max_station_size)
            registered[mask] = apportion(reg_by_region[r], size[mask], cap)

    # 3. turnout around regional means
    kappa = model.turnout_concentration
    mu = np.array([model.regions[r].turnout for r in region_ids])[ridx]
    p = rng.beta(mu * kappa, (1 - mu) * kappa)
    voted = np.zeros(n, dtype=np.int64)
    fixed_mask = np.isin(ridx, [region_ids.index(r) for r in fixed])
    for r, (_, took) in fixed.items():
        mask = ridx == region_ids.index(r)
        voted[mask] = apportion(took, registered[mask] * p[mask], registered[mask])
    free = ~fixed_mask
    voted[free] = apportion(
        took_total - sum(t for _, t in fixed.values()), registered[free] * p[free], registered[free]
    )

    # 4. invalid ballots
    ir, ik = model.invalid_rate, model.invalid_concentration
    q = rng.beta(ir * ik, (1 - ir) * ik, size=n)
    invalid = apportion(took_total - valid_total, voted * q, voted)
    valid = voted - invalid

    # 5. votes per option
    opts = [o.id for o in sc.options]
    national = np.array([votes_total[o] for o in opts], dtype=np.float64)
    share = national / national.sum() if national.sum() > 0 else np.full(len(opts), 1 / len(opts))
    tilt = np.array([[model.regions[r].tilt.get(o, 1.0) for o in opts] for r in region_ids])
    means = share[None, :] * tilt
    means /= means.sum(axis=1, keepdims=True)
    alpha = np.maximum(means[ridx] * model.share_concentration, 1e-3)
    pi = rng.gamma(alpha)
    pi /= np.maximum(pi.sum(axis=1, keepdims=True), 1e-300)
    votes = apportion_matrix(valid, [votes_total[o] for o in opts], valid[:, None] * pi)

    # 6. protocol extras
    spoiled = np.minimum(rng.binomial(voted, SPOIL_RATE), registered - voted).astype(np.int64)
    received = registered.copy()
    unused = received - voted - spoiled

    table = StationTable(
        station=tuple(s.id for s in stations),
        district=districts,
        region=regions,
        options=tuple(opts),
        registered=registered,
        voted=voted,
        valid=valid,
        invalid=invalid,
        votes=votes,
    )
    return PaperSimulation(
        scenario=sc,
        scale=scale,
        seed=seed,
        table=table,
        ballots_received=received,
        spoiled=spoiled,
        unused=unused,
        abroad=np.array([terr.region_by_id[r].kind == "abroad" for r in regions], dtype=np.bool_),
        time_zone=tuple(terr.time_zone(s.id) for s in stations),
        settlement=tuple(s.settlement for s in stations),
    )
