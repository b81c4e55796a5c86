"""Pollbook: check-in rules, double votes at one station and across stations, credentials once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest

from saylau.election.pollbook import (
    InMemoryPollbookStore,
    Pollbook,
    PollbookStore,
    credential_hash,
)
from saylau.election.voter_roll import Voter, VoterRoll, iin_birth_date, make_iin
from saylau.errors import PollbookError

DAY = date(2022, 11, 20)
EAST = timezone(timedelta(hours=6))
STATIONS = {"s1": "east", "s2": "east", "s3": "west"}
ADULT = make_iin(date(1980, 1, 15), False, 1)
OTHER = make_iin(date(1975, 6, 1), True, 7)
TURNS_18 = make_iin(date(2004, 11, 20), True, 3)
TURNS_18_TOMORROW = make_iin(date(2004, 11, 21), False, 4)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2022, 11, 20, hour, minute, tzinfo=EAST)


@pytest.fixture
def book() -> Pollbook:
    roll = VoterRoll(STATIONS)
    for iin, station in ((ADULT, "s1"), (OTHER, "s1"), (TURNS_18, "s2"), (TURNS_18_TOMORROW, "s2")):
        roll.add(Voter(iin, "L", "F", "", iin_birth_date(iin), STATIONS[station], station))
    return Pollbook(roll, InMemoryPollbookStore(), DAY, voting_age=18)


def test_in_memory_store_meets_the_protocol() -> None:
    assert isinstance(InMemoryPollbookStore(), PollbookStore)


def test_check_in_issues_a_credential_and_stores_only_its_hash(book: Pollbook) -> None:
    issued = book.check_in(ADULT, "s1", at(9))
    assert len(issued.credential) >= 43
    assert issued.check_in.credential_hash == credential_hash(issued.credential)
    assert issued.credential not in repr(issued)
    stored = book.store.find(ADULT)
    assert stored == issued.check_in
    assert issued.credential not in repr(stored)
    assert book.turnout("s1") == 1 and book.turnout("s2") == 0


def test_double_vote_at_the_same_station_is_rejected(book: Pollbook) -> None:
    book.check_in(ADULT, "s1", at(9))
    with pytest.raises(PollbookError, match=r"already voted at station 's1' at 2022-11-20T09:00:00\+06:00"):
        book.check_in(ADULT, "s1", at(11))
    assert book.turnout("s1") == 1


def test_double_vote_across_stations_is_rejected(book: Pollbook) -> None:
    cert = book.roll.issue_absentee_certificate(OTHER, "s3", date(2022, 11, 15))
    book.check_in(OTHER, "s3", at(10))
    # Even where the voter is no longer listed, the message names where they voted first.
    with pytest.raises(PollbookError, match="already voted at station 's3'"):
        book.check_in(OTHER, "s1", at(12))
    assert cert.to_station == "s3"


def test_the_old_station_cannot_check_in_a_transferred_voter(book: Pollbook) -> None:
    cert = book.roll.issue_absentee_certificate(ADULT, "s3", date(2022, 11, 15))
    with pytest.raises(PollbookError, match=f"absentee certificate {cert.certificate_id} to station 's3'"):
        book.check_in(ADULT, "s1", at(9))
    assert book.check_in(ADULT, "s3", at(9)).check_in.station_id == "s3"


def test_wrong_station_and_unknown_voter(book: Pollbook) -> None:
    with pytest.raises(PollbookError, match="listed at station 's1', not 's2'"):
        book.check_in(ADULT, "s2", at(9))
    with pytest.raises(PollbookError, match="not on the voter roll"):
        book.check_in(make_iin(date(1990, 1, 1), False, 1), "s1", at(9))


def test_voting_age_on_election_day(book: Pollbook) -> None:
    assert book.check_in(TURNS_18, "s2", at(9)).check_in.voter_id == TURNS_18
    with pytest.raises(PollbookError, match="is 17 on election day 2022-11-20, under the voting age of 18"):
        book.check_in(TURNS_18_TOMORROW, "s2", at(9))


def test_messages_do_not_reveal_the_iin(book: Pollbook) -> None:
    book.check_in(ADULT, "s1", at(9))
    with pytest.raises(PollbookError) as info:
        book.check_in(ADULT, "s1", at(10))
    assert ADULT not in str(info.value) and ADULT[-4:] in str(info.value)


def test_credential_is_redeemed_once(book: Pollbook) -> None:
    issued = book.check_in(ADULT, "s1", at(9))
    assert book.redeem(issued.credential).voter_id == ADULT
    with pytest.raises(PollbookError, match="already used"):
        book.redeem(issued.credential)
    with pytest.raises(PollbookError, match="unknown voter credential"):
        book.redeem("not-a-credential")


def test_remote_registration_blocks_a_station_vote_and_vice_versa(book: Pollbook) -> None:
    remote = book.register_remote(ADULT, at(8))
    assert remote.check_in.channel == "remote" and remote.check_in.station_id == "s1"
    with pytest.raises(PollbookError, match="registered for remote voting at station 's1'"):
        book.check_in(ADULT, "s1", at(9))
    book.check_in(OTHER, "s1", at(9))
    with pytest.raises(PollbookError, match="already voted at station 's1'"):
        book.register_remote(OTHER, at(10))
    assert book.turnout("s1") == 2


def test_naive_time_is_misuse(book: Pollbook) -> None:
    with pytest.raises(ValueError, match="time zone"):
        book.check_in(ADULT, "s1", datetime(2022, 11, 20, 9))


def test_concurrent_check_ins_of_one_voter_admit_exactly_one(book: Pollbook) -> None:
    store = InMemoryPollbookStore()
    pb = Pollbook(book.roll, store, DAY, 18)

    def attempt(_: int) -> bool:
        try:
            pb.check_in(ADULT, "s1", at(9))
        except PollbookError:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(64)))
    assert results.count(True) == 1
    assert store.count("s1") == 1


def test_turnout_until_a_moment(book: Pollbook) -> None:
    book.check_in(ADULT, "s1", at(9, 30))
    book.check_in(OTHER, "s1", at(10, 1))
    assert book.turnout("s1", until=at(10)) == 1
    assert book.turnout("s1", until=at(10, 1)) == 2
    assert [c.voter_id for c in book.store.check_ins("s1")] == [ADULT, OTHER]
