"""Turnout: local reporting times in two zones, monotonicity, aggregation, final equals pollbook."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saylau.election.pollbook import InMemoryPollbookStore, Pollbook
from saylau.election.turnout import StationPlace, TurnoutBook, resolve_zone
from saylau.election.voter_roll import Voter, VoterRoll, make_iin
from saylau.errors import TurnoutError

DAY = date(2022, 11, 20)
TIMES = [time(10), time(12), time(14), time(16), time(18)]
CLOSE = time(20)
STATIONS = {
    "east-1": StationPlace("astana", "Asia/Almaty"),       # UTC+6 in 2022 (tzdata history)
    "east-2": StationPlace("astana", "UTC+6"),
    "west-1": StationPlace("atyrau", "Asia/Atyrau"),       # UTC+5
}
REGISTERED = {"east-1": 100, "east-2": 50, "west-1": 80}


def book() -> TurnoutBook:
    return TurnoutBook(DAY, TIMES, CLOSE, STATIONS, REGISTERED)


def test_resolve_zone() -> None:
    assert resolve_zone("UTC+5").utcoffset(None) == timedelta(hours=5)
    assert resolve_zone("+05:30").utcoffset(None) == timedelta(hours=5, minutes=30)
    assert resolve_zone("-03").utcoffset(None) == timedelta(hours=-3)
    with pytest.raises(TurnoutError, match="unknown time zone"):
        resolve_zone("Mars/Olympus")


def test_a_label_means_each_station_s_local_time() -> None:
    b = book()
    east, west = b.local_instant("east-1", time(10)), b.local_instant("west-1", time(10))
    assert east.utcoffset() == timedelta(hours=6) and west.utcoffset() == timedelta(hours=5)
    assert west - east == timedelta(hours=1)
    assert b.local_instant("east-2", time(10)) == east
    assert b.local_instant("east-1", time(10)).astimezone(UTC).hour == 4


def test_snapshots_from_the_pollbook_use_local_time() -> None:
    stations = {s: p.region for s, p in STATIONS.items()}
    roll = VoterRoll(stations)
    w, e = make_iin(date(1970, 1, 1), False, 1), make_iin(date(1970, 1, 2), False, 1)
    roll.add(Voter(w, "W", "W", "", date(1970, 1, 1), "atyrau", "west-1"))
    roll.add(Voter(e, "E", "E", "", date(1970, 1, 2), "astana", "east-1"))
    pb = Pollbook(roll, InMemoryPollbookStore(), DAY, 18)
    # 09:30 in Atyrau is 10:30 in Astana: before the western 10:00 label, after the eastern one.
    pb.check_in(w, "west-1", datetime(2022, 11, 20, 9, 30, tzinfo=timezone(timedelta(hours=5))))
    # 10:30 in Astana is 09:30 in Atyrau: after the eastern 10:00 label.
    pb.check_in(e, "east-1", datetime(2022, 11, 20, 10, 30, tzinfo=timezone(timedelta(hours=6))))
    b = book()
    snaps = {s.station_id: s.voted for s in b.record_from(pb.store, time(10))}
    assert snaps == {"east-1": 0, "east-2": 0, "west-1": 1}
    for label in [*TIMES[1:], CLOSE]:
        b.record_from(pb.store, label)
    assert b.snapshot("east-1", time(12)).voted == 1
    b.verify_final(pb.store)
    b.verify_final({"east-1": 1, "west-1": 1})
    with pytest.raises(TurnoutError, match="final turnout 1 differs from the pollbook's 2"):
        b.verify_final({"east-1": 2, "west-1": 1})


def test_decreasing_snapshot_is_rejected() -> None:
    b = book()
    b.record("east-1", time(10), 20)
    b.record("east-1", time(12), 20)
    with pytest.raises(TurnoutError, match="19 voted is lower than 20 at 12:00; turnout cannot decrease"):
        b.record("east-1", time(14), 19)
    b.record("east-1", time(18), 40)
    with pytest.raises(TurnoutError, match="41 voted is higher than 40 already reported at 18:00"):
        b.record("east-1", time(16), 41)
    assert b.record("east-1", time(16), 40).voted == 40


def test_off_schedule_duplicate_and_impossible_snapshots() -> None:
    b = book()
    with pytest.raises(TurnoutError, match="11:00 is not a reporting time"):
        b.record("east-1", time(11), 5)
    b.record("east-1", time(10), 5)
    with pytest.raises(TurnoutError, match="already reported 5 at 10:00"):
        b.record("east-1", time(10), 6)
    with pytest.raises(TurnoutError, match=r"51 voted is outside 0\.\.50 registered"):
        b.record("east-2", time(10), 51)
    with pytest.raises(TurnoutError, match="outside"):
        b.record("east-2", time(10), -1)
    with pytest.raises(TurnoutError, match="unknown station"):
        b.record("nowhere", time(10), 1)
    with pytest.raises(TurnoutError, match="has not reported at 12:00"):
        b.snapshot("east-1", time(12))


def test_aggregates_sum_reporting_stations_by_region() -> None:
    b = book()
    b.record("east-1", time(10), 10)
    b.record("east-2", time(10), 15)
    b.record("west-1", time(12), 40)
    at10 = b.aggregate(time(10))
    assert at10["country"] == {"voted": 25, "registered": 150, "stations_reporting": 2, "stations_total": 3,
                               "percent": 16.67}
    assert at10["regions"]["astana"]["percent"] == 16.67
    assert at10["regions"]["atyrau"] == {"voted": 0, "registered": 0, "stations_reporting": 0,
                                         "stations_total": 1, "percent": 0.0}
    assert b.aggregate(time(12))["country"]["percent"] == 50.0
    published = b.to_dict()
    assert published["labels"][-1] == "20:00"
    assert published["stations"]["west-1"][0]["at"] == "2022-11-20T12:00:00+05:00"


def test_final_must_exist() -> None:
    b = book()
    with pytest.raises(TurnoutError, match="no final turnout at 20:00"):
        b.verify_final({})


def test_schedule_misuse() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        TurnoutBook(DAY, [time(12), time(10)], CLOSE, STATIONS, REGISTERED)
    with pytest.raises(ValueError, match="after closing time"):
        TurnoutBook(DAY, [time(21)], CLOSE, STATIONS, REGISTERED)
    with pytest.raises(ValueError, match="no registered count"):
        TurnoutBook(DAY, TIMES, CLOSE, STATIONS, {"east-1": 1})


def test_kz_2022_territory_reports_in_local_time() -> None:
    from saylau.election.scenario import load_scenario

    t = load_scenario("kz-2022").territory_index
    home = [s for s in t.stations if t.region_of(s.id).kind != "abroad"]
    places = {s.id: StationPlace(t.region_of(s.id).id, t.time_zone(s.id)) for s in home}
    b = TurnoutBook(DAY, TIMES, CLOSE, places, {s.id: s.expected_size for s in home})
    offsets = {b.local_instant(s, CLOSE).utcoffset() for s in places}
    assert offsets == {timedelta(hours=5), timedelta(hours=6)}
    # The 20:00 close happens at two absolute moments, an hour apart (west later).
    closes = sorted({b.local_instant(s, CLOSE).astimezone(UTC) for s in places})
    assert [c.hour for c in closes] == [14, 15]
    for s in places:
        b.record(s, time(10), 1)
    assert b.aggregate(time(10))["country"]["stations_reporting"] == len(home) == 10_033


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([*TIMES, CLOSE]), st.integers(0, 100)), max_size=12))
def test_accepted_snapshots_never_decrease(reports: list[tuple[time, int]]) -> None:
    b = book()
    for label, voted in reports:
        with contextlib.suppress(TurnoutError):
            b.record("east-1", label, voted)
    accepted = [s["voted"] for s in b.to_dict()["stations"]["east-1"]]
    assert accepted == sorted(accepted)
