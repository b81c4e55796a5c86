import time

import numpy as np
import pytest

from saylau.election.aggregation import aggregate
from saylau.election.scenario import load_scenario
from saylau.sim.daytime import report_times, turnout_snapshots
from saylau.sim.paper import simulate_paper


@pytest.fixture(scope="module")
def kz():
    return load_scenario("kz-2022")


@pytest.fixture(scope="module")
def full(kz):
    t0 = time.perf_counter()
    sim = simulate_paper(kz, scale=1.0, seed=1)
    return sim, time.perf_counter() - t0


def test_national_totals_equal_published_exactly(kz, full) -> None:
    sim, seconds = full
    t = sim.table
    pub = kz.published
    assert len(t) == 10101
    assert int(t.registered.sum()) == 11_953_465 == pub.registered
    assert int(t.voted.sum()) == 8_300_046
    assert int(t.valid.sum()) == 7_940_478
    assert int(t.invalid.sum()) == 359_568
    got = {o: int(v) for o, v in zip(t.options, t.votes.sum(axis=0), strict=True)}
    assert got == {
        "tokayev": 6_456_393,
        "against_all": 460_484,
        "dairabayev": 271_641,
        "abden": 206_206,
        "kazhyken": 200_907,
        "auesbayev": 176_116,
        "tursynbekova": 168_731,
    }
    assert seconds < 5.0


def test_abroad_exact(full) -> None:
    sim, _ = full
    abroad = aggregate(sim.table, "region").row("abroad")
    assert abroad["registered"] == 12_841 and abroad["voted"] == 11_360 and abroad["stations"] == 68


def test_station_values_plausible(full) -> None:
    sim, _ = full
    t = sim.table
    assert (t.voted <= t.registered).all() and (t.invalid <= t.voted).all() and (t.votes >= 0).all()
    assert t.registered.max() <= 3000 and t.registered.min() >= 1
    turnout = t.voted / t.registered
    assert 0.6 < float(np.median(turnout)) < 0.8
    assert float(np.std(turnout)) > 0.03  # stations differ
    regions = aggregate(t, "region")
    rt = regions.voted / regions.registered
    assert rt.max() - rt.min() > 0.1  # regional spread from the model
    assert (sim.ballots_received == sim.unused + t.voted + sim.spoiled).all()
    assert (sim.unused >= 0).all()


def test_deterministic_with_seed(kz, full) -> None:
    sim, _ = full
    again = simulate_paper(kz, scale=1.0, seed=1)
    other = simulate_paper(kz, scale=1.0, seed=2)
    assert np.array_equal(sim.table.votes, again.table.votes)
    assert np.array_equal(sim.table.voted, again.table.voted)
    assert not np.array_equal(sim.table.votes, other.table.votes)
    assert int(other.table.votes.sum()) == int(sim.table.votes.sum())


def test_small_scale_keeps_a_station_per_district(kz) -> None:
    sim = simulate_paper(kz, scale=0.01, seed=3)
    t = sim.table
    assert set(t.district) == {d.id for d in kz.territory_index.districts}
    assert int(t.registered.sum()) == round(11_953_465 * 0.01)
    assert int(t.voted.sum()) == round(8_300_046 * 0.01)
    assert int(t.valid.sum()) == round(7_940_478 * 0.01)
    assert len(t) < 1000


def test_bad_scale(kz) -> None:
    with pytest.raises(ValueError, match="scale"):
        simulate_paper(kz, scale=0.0)
    with pytest.raises(ValueError, match="scale"):
        simulate_paper(kz, scale=1.5)


def test_turnout_snapshots_monotone_and_end_at_voted(kz, full) -> None:
    sim, _ = full
    snaps = turnout_snapshots(sim)
    assert snaps.times == ("10:00", "12:00", "14:00", "16:00", "18:00", "20:00")
    assert (np.diff(snaps.counts, axis=1) >= 0).all()
    assert (snaps.counts[:, -1] == sim.table.voted).all()
    nat = snaps.national()
    assert nat["20:00"] == 8_300_046
    assert 0 < nat["10:00"] < nat["14:00"] < nat["18:00"] < nat["20:00"]


def test_report_times_after_local_close(kz) -> None:
    sim = simulate_paper(kz, scale=0.02, seed=1)
    times = report_times(sim)
    for sid, t in zip(sim.table.station[:50], times[:50], strict=True):
        assert t > kz.local_time(sid, "20:00")
