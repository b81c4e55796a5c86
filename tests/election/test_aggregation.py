import numpy as np
import pytest

from saylau.election.aggregation import StationTable, aggregate, parent_chain, partial_results
from saylau.election.scenario import load_scenario
from saylau.errors import ElectionError
from saylau.sim.paper import simulate_paper


def _table() -> StationTable:
    votes = np.array([[5, 3, 1], [2, 2, 0], [7, 0, 1], [1, 1, 1]], dtype=np.int64)
    valid = votes.sum(axis=1)
    invalid = np.array([1, 0, 2, 0], dtype=np.int64)
    return StationTable(
        station=("s1", "s2", "s3", "s4"),
        district=("d1", "d1", "d2", "d3"),
        region=("r1", "r1", "r1", "r2"),
        options=("a", "b", "aa"),
        registered=np.array([20, 10, 15, 5], dtype=np.int64),
        voted=valid + invalid,
        valid=valid,
        invalid=invalid,
        votes=votes,
    )


def test_hand_made_sums() -> None:
    t = _table()
    d = aggregate(t, "district")
    assert d.keys == ("d1", "d2", "d3")
    assert d.row("d1") == {
        "stations": 2,
        "registered": 30,
        "voted": 14,
        "valid": 13,
        "invalid": 1,
        "a": 7,
        "b": 5,
        "aa": 1,
    }
    r = aggregate(t, "region", ("r2", "r1", "r3"))
    assert r.row("r3")["stations"] == 0
    assert r.row("r1")["a"] == 14
    c = aggregate(t, "country")
    assert c.row("country")["registered"] == 50
    assert c.totals("country", "aa").votes == {"a": 15, "b": 6, "aa": 3}
    with pytest.raises(ElectionError, match="district 'dx' has no results"):
        d.row("dx")


def test_unknown_unit_in_order() -> None:
    with pytest.raises(ElectionError, match="not in the given order"):
        aggregate(_table(), "region", ("r1",))


def test_table_checks_relations() -> None:
    t = _table()
    with pytest.raises(ElectionError, match="sum of option votes = valid fails at station s1"):
        StationTable(**{**t.__dict__, "valid": t.valid + np.array([1, 0, 0, 0])})
    with pytest.raises(ElectionError, match="voted > registered at station s4"):
        StationTable(**{**t.__dict__, "registered": np.array([20, 10, 15, 1])})
    with pytest.raises(ElectionError, match="negative invalid"):
        StationTable(**{**t.__dict__, "invalid": np.array([1, 0, 2, -1]), "voted": t.voted - 1})


def test_partial_results() -> None:
    t = _table()
    p = partial_results(t, np.array([True, False, True, False]))
    assert p.stations_reporting == 2 and p.stations_total == 4
    assert p.regions_reporting == {"r1": (2, 3), "r2": (0, 1)}
    assert p.national.row("country")["valid"] == 9 + 8
    shares = p.shares()
    assert shares["a"] == pytest.approx(12 / 17)
    assert sum(shares.values()) == pytest.approx(1.0)
    empty = partial_results(t, np.zeros(4, dtype=bool))
    assert empty.shares() == {"a": 0.0, "b": 0.0, "aa": 0.0}


def test_every_level_sums_to_the_stations_kz() -> None:
    sc = load_scenario("kz-2022")
    t = simulate_paper(sc, scale=0.2, seed=5).table
    st = {name: getattr(t, name).sum(axis=0) for name in ("registered", "voted", "valid", "invalid", "votes")}
    for level in ("station", "district", "region", "country"):
        lt = aggregate(t, level)
        for name, expect in st.items():
            assert np.array_equal(getattr(lt, name).sum(axis=0), expect), (level, name)
    # district sums roll up to region sums
    d = aggregate(t, "district")
    r = aggregate(t, "region")
    terr = sc.territory_index
    for key in r.keys:
        idx = [i for i, k in enumerate(d.keys) if terr.district_by_id[k].region == key]
        assert np.array_equal(d.votes[idx].sum(axis=0), r.votes[r.keys.index(key)])


def test_parent_chain() -> None:
    sc = load_scenario("kz-2022")
    assert parent_chain(sc.territory_index, "almaty-0001")[2] == "almaty"
    assert parent_chain(sc.territory_index, "abroad-0001") == ("abroad-0001", "abroad-ru", "abroad")
    with pytest.raises(Exception, match="not in the territory"):
        parent_chain(sc.territory_index, "nowhere-1")


def test_stations_by_unit() -> None:
    from saylau.election.aggregation import stations_by_unit

    terr = load_scenario("kz-2022").territory_index
    regions = stations_by_unit(terr, "region")
    assert len(regions) == 21 and len(regions["abroad"]) == 68
    assert sum(len(v) for v in regions.values()) == 10101
    assert stations_by_unit(terr, "country")["country"][0] == terr.stations[0].id
    assert len(stations_by_unit(terr, "district")) == len(terr.districts)


def test_signed_protocols_aggregate_like_the_simulation() -> None:
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from saylau.election.protocols import ProtocolBook, sign_protocol

    sc = load_scenario("kz-2022")
    sim = simulate_paper(sc, scale=0.02, seed=4)
    keys = {s: Ed25519PrivateKey.generate() for s in sim.table.station}
    book = ProtocolBook(sc.election_id, sim.table.options, {s: k.public_key() for s, k in keys.items()})
    at = datetime(2022, 11, 20, 15, tzinfo=UTC)
    for i, sid in enumerate(sim.table.station):
        book.submit(sign_protocol(sim.protocol(i), keys[sid], election_id=sc.election_id, signed_at=at))
    parents = {s: sc.territory_index.parent_chain(s)[1:] for s in sim.table.station}
    got = aggregate(book.table(parents), "region")
    want = aggregate(sim.table, "region")
    assert got.keys == want.keys
    assert np.array_equal(got.votes, want.votes) and np.array_equal(got.invalid, want.invalid)
