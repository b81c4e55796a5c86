"""The election-night projection: stratified by region and settlement, honest intervals, labelled."""

from __future__ import annotations

import numpy as np
import pytest

from saylau.audit.projection import LABEL, arrival_times, project
from saylau.audit.simulate import lower_leader
from saylau.election.aggregation import StationTable
from saylau.election.scenario import load_scenario
from saylau.errors import ElectionError
from saylau.sim.paper import PaperSimulation, simulate_paper


@pytest.fixture(scope="module")
def sim() -> PaperSimulation:
    return simulate_paper(load_scenario("kz-2022"), scale=0.25, seed=11)


def _city_effect(table: StationTable, settlement: tuple[str, ...], rng: np.random.Generator) -> StationTable:
    """Cities 10 points less for the leader (their votes to the runner-up)."""
    urban = np.array(settlement) == "urban"
    w, r = table.options.index("tokayev"), table.options.index("dairabayev")
    moved = np.where(urban, rng.binomial(table.votes[:, w], 0.12), 0)
    votes = table.votes.copy()
    votes[:, w] -= moved
    votes[:, r] += moved
    return StationTable(table.station, table.district, table.region, table.options, table.registered,
                        table.voted, table.valid, table.invalid, votes)  # fmt: skip


def _final(table: StationTable, option: str) -> float:
    return float(table.votes[:, table.options.index(option)].sum() / table.valid.sum())


def test_intervals_cover_when_stations_report_at_random(sim: PaperSimulation) -> None:
    rng = np.random.default_rng(0)
    sc, t = sim.scenario, sim.table
    final = _final(t, "tokayev")
    hits = 0
    for _ in range(30):
        p = project(t, sim.settlement, rng.uniform(size=len(t)) < 0.2, sc.rules, sc.against_all)
        lo, hi = p.intervals["tokayev"]
        hits += lo <= final <= hi
    assert hits >= 24  # nominal 95%: at least 80% of 30 (P < 0.01 of fewer if the level is right)


def test_city_first_biases_the_tally_not_the_projection(sim: PaperSimulation) -> None:
    rng = np.random.default_rng(1)
    sc = sim.scenario
    t = _city_effect(sim.table, sim.settlement, rng)
    stamps = np.array([a.timestamp() for a in arrival_times(sim, rng)])
    rep = stamps <= np.quantile(stamps, 0.15)  # the first 15% of protocols: mostly cities
    assert np.mean(np.array(sim.settlement)[rep] == "urban") > 0.6
    final = _final(t, "tokayev")
    tally = t.votes[rep, t.options.index("tokayev")].sum() / t.valid[rep].sum()
    p = project(t, sim.settlement, rep, sc.rules, sc.against_all)
    lo, hi = p.intervals["tokayev"]
    assert final - tally > 0.02  # the running tally is two points or more too low
    assert lo <= final <= hi and hi - lo < 0.03
    assert p.label == LABEL and "PROJECTION" in p.label
    assert p.decision == "winner: tokayev"


def test_close_race_is_not_called_early(sim: PaperSimulation) -> None:
    rng = np.random.default_rng(2)
    sc = sim.scenario
    t = lower_leader(sim.table, "tokayev", 0.5005, rng)
    stamps = np.array([a.timestamp() for a in arrival_times(sim, rng)])
    for q in (0.02, 0.3):  # early (regions missing) and once the interval straddles 50%
        p = project(t, sim.settlement, stamps <= np.quantile(stamps, q), sc.rules, sc.against_all)
        assert p.decision == "too close to call", q
    everything = project(t, sim.settlement, np.ones(len(t), dtype=bool), sc.rules, sc.against_all)
    assert everything.shares["tokayev"] == pytest.approx(_final(t, "tokayev"))
    with pytest.raises(ElectionError, match="no station"):
        project(t, sim.settlement, np.zeros(len(t), dtype=bool), sc.rules, sc.against_all)


def test_a_kind_with_no_report_gets_the_widest_honest_interval(sim: PaperSimulation) -> None:
    sc, t = sim.scenario, sim.table
    urban = np.array(sim.settlement) == "urban"
    only_cities = project(t, sim.settlement, urban, sc.rules, sc.against_all, sim.abroad)
    some_villages = project(t, sim.settlement, urban | (np.arange(len(t)) % 7 == 0), sc.rules, sc.against_all)
    lo, hi = only_cities.intervals["tokayev"]
    assert lo <= _final(t, "tokayev") <= hi
    # no village has reported: the villages' ratio is only known to lie in its range (Popoviciu bound)
    wide = hi - lo
    narrow = some_villages.intervals["tokayev"][1] - some_villages.intervals["tokayev"][0]
    assert wide > 5 * narrow
