"""Revote tags in the ballot box, and what the box publishes on the bulletin board."""

from __future__ import annotations

import pytest

from saylau.board import BoardSigner, BulletinBoard, MemoryBoardStore, verify_board
from saylau.crypto import ElectionParameters, run_key_ceremony
from saylau.errors import ElectionStateError, InvalidBallot
from saylau.record.format import election_base_hash
from saylau.sim.pilot import pilot_election
from saylau.voting.ballot_box import BallotBox
from saylau.voting.device import VotingDevice
from saylau.voting.revote import RevoteSlots

MANIFEST = pilot_election(stations=2, ballots=6).manifest
CONTEST = MANIFEST.contests[0].contest_id
STYLE = MANIFEST.ballot_styles[0].style_id
STATION = next(iter(MANIFEST.locations())).station.station_id
KEY = bytes(range(32))


@pytest.fixture(scope="module")
def params() -> ElectionParameters:
    base = election_base_hash(MANIFEST.manifest_hash(), 3, 2)
    _, key = run_key_ceremony(3, 2, base)
    return ElectionParameters(base, key, MANIFEST.contest_specs())


def vote(choice: str = "tokayev") -> dict[str, list[str]]:
    return {CONTEST: [choice]}


def test_tags_are_per_election_and_per_voter() -> None:
    one, two = RevoteSlots(KEY, context=b"election-1"), RevoteSlots(KEY, context=b"election-2")
    assert one.slot(b"v") == RevoteSlots(KEY, context=b"election-1").slot(b"v")
    assert one.slot(b"v") != two.slot(b"v") and one.slot(b"v") != one.slot(b"w")
    assert len(one.slot(b"v")) == 32


def test_tagged_revote_is_published_and_verifies(params: ElectionParameters) -> None:
    board = BulletinBoard(MANIFEST.election_id, MemoryBoardStore(), BoardSigner.generate(), 2)
    box = BallotBox(params, revote_key=KEY, board=board)
    dev = VotingDevice(params, f"{STATION}-remote", STATION)
    tag = box.revote_tag(b"voter-1")
    first = dev.cast(dev.encrypt(vote("abden"), STYLE, revote_tag=tag))
    assert box.cast(first, voter_credential=b"voter-1") is None
    second = dev.cast(dev.encrypt(vote(), STYLE, revote_tag=tag))
    assert box.cast(second, voter_credential=b"voter-1") == first.ballot_id
    audit = dev.encrypt(vote(), STYLE, revote_tag=tag)
    box.challenge(*dev.challenge(audit))
    box.close_device(dev.close())
    box.close_voting()
    board.close()
    rows = list(board.export_rows())
    kinds = [r["kind"] for r in rows if r["type"] == "entry"]
    assert kinds == ["ballot", "superseded", "ballot", "challenge", "phase"]
    assert verify_board(rows, board.signer.public_key_hex, require_final=True).count == 5
    sup = next(r for r in rows if r.get("kind") == "superseded")
    assert sup["payload"] == {
        "ballot_id": first.ballot_id,
        "code": first.ballot.code.hex(),
        "by": second.ballot_id,
    }
    closed = rows[-2]["payload"]
    assert (
        closed["phase"] == "closed" and closed["devices"][0]["closing_code"] == box.devices()[0].closing_code
    )
    with pytest.raises(ElectionStateError, match="voting is closed"):
        box.cast(first, voter_credential=b"voter-1")


def test_box_refuses_a_tag_that_is_not_the_voters(params: ElectionParameters) -> None:
    box = BallotBox(params, revote_key=KEY)
    dev = VotingDevice(params, f"{STATION}-remote-2", STATION)
    p = dev.encrypt(vote(), STYLE, revote_tag=box.revote_tag(b"someone-else"))
    with pytest.raises(InvalidBallot, match="revote tag is not the casting voter's"):
        box.cast(dev.cast(p), voter_credential=b"voter-2")
    p = dev.encrypt(vote(), STYLE, revote_tag=box.revote_tag(b"voter-2"))
    with pytest.raises(InvalidBallot, match="revote tag is not the casting voter's"):
        box.cast(dev.cast(p))  # a tagged ballot needs the credential it was derived from


def test_untagged_then_tagged_revote_is_refused(params: ElectionParameters) -> None:
    box = BallotBox(params, revote_key=KEY)
    dev = VotingDevice(params, f"{STATION}-remote-3", STATION)
    box.cast(dev.cast(dev.encrypt(vote(), STYLE)), voter_credential=b"voter-3")
    p = dev.encrypt(vote(), STYLE, revote_tag=box.revote_tag(b"voter-3"))
    with pytest.raises(InvalidBallot, match="differs from the voter's earlier ballot"):
        box.cast(dev.cast(p), voter_credential=b"voter-3")
