from __future__ import annotations

import pytest

from saylau.crypto import ElectionParameters, run_key_ceremony, verify_challenged_ballot, verify_device_chain
from saylau.errors import ElectionStateError, InvalidBallot, RecordError
from saylau.record.format import election_base_hash
from saylau.sim.pilot import pilot_election
from saylau.voting.ballot_box import BallotBox
from saylau.voting.device import DeviceRecord, VotingDevice
from saylau.voting.revote import RevoteSlots
from saylau.voting.submitted import SubmittedBallot

MANIFEST = pilot_election(stations=3, ballots=10).manifest
CONTEST = MANIFEST.contests[0].contest_id
STYLE = MANIFEST.ballot_styles[0].style_id


@pytest.fixture(scope="module")
def params() -> ElectionParameters:
    base = election_base_hash(MANIFEST.manifest_hash(), 3, 2)
    _, key = run_key_ceremony(3, 2, base)
    return ElectionParameters(base, key, MANIFEST.contest_specs())


def vote(choice: str) -> dict[str, list[str]]:
    return {CONTEST: [choice]}


def test_device_chains_codes_and_closes(params: ElectionParameters) -> None:
    dev = VotingDevice(params, "ps-00001-d1", "ps-00001")
    ballots = []
    for choice in ("tokayev", "abden", "against_all"):
        p = dev.encrypt(vote(choice), STYLE)
        assert len(p.tracking_code) == 64
        ballots.append(dev.cast(p).ballot)
    rec = dev.close()
    assert rec.ballot_count == 3
    verify_device_chain(rec.device_id, params.base_hash, ballots, bytes.fromhex(rec.closing_code))
    with pytest.raises(InvalidBallot, match="closing"):
        verify_device_chain(rec.device_id, params.base_hash, ballots[:2], bytes.fromhex(rec.closing_code))
    with pytest.raises(ElectionStateError, match="closed"):
        dev.encrypt(vote("tokayev"), STYLE)
    assert DeviceRecord.from_dict(rec.to_dict()) == rec


def test_one_pending_ballot_at_a_time(params: ElectionParameters) -> None:
    dev = VotingDevice(params, "ps-00001-d2", "ps-00001")
    p = dev.encrypt(vote("tokayev"), STYLE)
    with pytest.raises(ElectionStateError, match="awaits"):
        dev.encrypt(vote("abden"), STYLE)
    with pytest.raises(ElectionStateError, match="pending at close"):
        dev.close()
    dev.cast(p)
    with pytest.raises(ElectionStateError, match="not the pending"):
        dev.cast(p)


def test_challenge_opens_and_is_never_counted(params: ElectionParameters) -> None:
    box = BallotBox(params, verify=True)
    dev = VotingDevice(params, "ps-00002-d1", "ps-00002")
    sb, opened = dev.challenge(dev.encrypt(vote("kazhyken"), STYLE))
    assert sb.state == "challenged"
    verify_challenged_ballot(params, opened)
    box.challenge(sb, opened)
    box.cast(dev.cast(dev.encrypt(vote("tokayev"), STYLE)))
    box.close_device(dev.close())
    states = [b.state for b in box.ballots()]
    assert states == ["challenged", "cast"]
    assert len(box.challenged()) == 1
    assert [d.device_id for d in box.devices()] == ["ps-00002-d1"]


def test_revote_supersedes_only_the_same_voters_ballot(params: ElectionParameters) -> None:
    box = BallotBox(params, verify=False)
    dev = VotingDevice(params, "ps-00003-remote", "ps-00003")
    first = dev.cast(dev.encrypt(vote("tokayev"), STYLE))
    assert box.cast(first, voter_credential=b"alice") is None
    other = dev.cast(dev.encrypt(vote("abden"), STYLE))
    assert box.cast(other, voter_credential=b"bob") is None
    second = dev.cast(dev.encrypt(vote("against_all"), STYLE))
    assert box.cast(second, voter_credential=b"alice") == first.ballot_id
    by_id = {b.ballot_id: b for b in box.ballots()}
    assert by_id[first.ballot_id].state == "superseded"
    assert by_id[first.ballot_id].superseded_by == second.ballot_id
    assert by_id[other.ballot_id].state == "cast" and by_id[second.ballot_id].state == "cast"
    # the public line carries no credential and no slot
    text = str(by_id[first.ballot_id].to_dict())
    assert "alice" not in text


def test_revote_must_stay_at_the_voters_station(params: ElectionParameters) -> None:
    box = BallotBox(params, verify=False)
    here = VotingDevice(params, "ps-00001-remote", "ps-00001")
    there = VotingDevice(params, "ps-00002-remote", "ps-00002")
    box.cast(here.cast(here.encrypt(vote("tokayev"), STYLE)), voter_credential=b"carol")
    moved = there.cast(there.encrypt(vote("abden"), STYLE))
    with pytest.raises(ElectionStateError, match="voter's station ps-00001"):
        box.cast(moved, voter_credential=b"carol")
    assert len(box) == 1


def test_box_refuses_duplicates_and_bad_ballots(params: ElectionParameters) -> None:
    box = BallotBox(params, verify=True)
    dev = VotingDevice(params, "ps-00001-d3", "ps-00001")
    sb = dev.cast(dev.encrypt(vote("tokayev"), STYLE))
    box.cast(sb)
    with pytest.raises(InvalidBallot, match="already"):
        box.cast(sb)
    d = sb.to_dict()
    d["ballot"]["contests"][0]["selections"][0]["proof"]["responses"][0] = "00" * 32
    d["ballot"]["ballot_id"] = "forged"
    with pytest.raises(InvalidBallot):
        box.cast(SubmittedBallot.from_dict(d))
    box.close_device(dev.close())
    with pytest.raises(ElectionStateError, match="closed"):
        renamed = {**sb.to_dict(), "ballot": {**sb.ballot.to_dict(), "ballot_id": "x"}}
        box.cast(SubmittedBallot.from_dict(renamed))


def test_submitted_ballot_round_trip_and_field_checks(params: ElectionParameters) -> None:
    dev = VotingDevice(params, "ps-00001-d4", "ps-00001")
    sb = dev.cast(dev.encrypt(vote("dairabayev"), STYLE))
    assert SubmittedBallot.from_dict(sb.to_dict()) == sb
    for key, value, msg in [
        ("state", "lost", "state"),
        ("sequence", -1, "sequence"),
        ("superseded_by", "x", "superseded_by"),
        ("station_id", 5, "station_id"),
    ]:
        with pytest.raises(RecordError, match=msg):
            SubmittedBallot.from_dict({**sb.to_dict(), key: value})
    with pytest.raises(RecordError, match="fields"):
        SubmittedBallot.from_dict({**sb.to_dict(), "voter": "alice"})


def test_revote_slots_are_keyed_and_stable() -> None:
    a, b = RevoteSlots(b"k" * 32), RevoteSlots(b"j" * 32)
    assert a.slot(b"v1") == a.slot(b"v1") != a.slot(b"v2")
    assert a.slot(b"v1") != b.slot(b"v1")
    assert "k" * 8 not in repr(a)
    with pytest.raises(ValueError, match="16 bytes"):
        RevoteSlots(b"short")
