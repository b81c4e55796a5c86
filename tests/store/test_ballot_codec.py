"""Version 1 of the compact form of ballot payloads (``store/ballot_codec.py``, migration 0009): exact
round trips over real encrypted ballots, JSON kept for anything else, every broken byte refused or
caught. Version 2, and the database's migrations, are ``test_entry_codec.py``'s."""

from __future__ import annotations

import hashlib
import json
import random
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saylau.board import payload_hash
from saylau.board.hashing import canonical_json
from saylau.crypto import ContestSpec, ElectionParameters, JointPublicKey, run_key_ceremony
from saylau.crypto.ballot import encrypt_ballot
from saylau.crypto.challenge import open_challenged_ballot
from saylau.store.ballot_codec import decode, encode
from saylau.voting.publish import published_ballot, published_challenge
from saylau.voting.submitted import SubmittedBallot

BASE = hashlib.sha256(b"saylau codec test").digest()


@cache
def _key() -> JointPublicKey:
    return run_key_ceremony(3, 2, BASE)[1]


ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


@st.composite
def ballot_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A ``ballot`` or ``challenge`` payload of a real encrypted ballot: 1-2 contests of 1-8 options."""
    contests = []
    for i in range(draw(st.integers(1, 2))):
        options = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
        limit = draw(st.integers(1, len(options)))
        contests.append(ContestSpec(f"c{i}-{draw(ids)}", tuple(options), limit, allow_undervote=True))
    params = ElectionParameters(BASE, _key(), tuple(contests))
    choices = {c.contest_id: draw(st.lists(st.sampled_from(c.selection_ids), max_size=c.votes_allowed,
                                           unique=True)) for c in contests}
    device, station = draw(ids), draw(ids)
    ballot_id = draw(st.one_of(st.just(f"{device}-000042"), ids))
    tag = draw(st.one_of(st.none(), st.binary(min_size=32, max_size=32)))
    rng = random.Random(draw(st.integers()))
    ballot, secret = encrypt_ballot(params, ballot_id, draw(ids), choices, rng=rng, revote_tag=tag)
    if draw(st.booleans()):
        sb = SubmittedBallot(ballot, station, device, 0, "challenged")
        return published_challenge(open_challenged_ballot(params, ballot, secret), sb)
    return published_ballot(SubmittedBallot(ballot, station, device, 0, "cast"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ballot_payloads())
def test_real_ballots_round_trip_to_the_same_canonical_json(payload: dict[str, Any]) -> None:
    body = encode(payload)
    assert body is not None
    back = decode(body)
    assert back == payload
    assert canonical_json(back) == canonical_json(payload)  # the bytes whose hash is on the chain
    assert len(body) < len(canonical_json(payload)) / 2


@cache
def _seven_options() -> dict[str, Any]:
    options = ("tokayev", "dairabayev", "abden", "kazhyken", "auesbayev", "tursynbekova", "against-all")
    params = ElectionParameters(BASE, _key(), (ContestSpec("president", options, 1),))
    ballot, _ = encrypt_ballot(params, "st-1-kiosk-000007", "main", {"president": ["abden"]},
                               rng=random.Random(7))
    return published_ballot(SubmittedBallot(ballot, "st-1", "st-1-kiosk", 7, "cast"))


def test_a_seven_option_ballot_is_about_a_third_of_its_json() -> None:
    payload = _seven_options()
    body = encode(payload)
    assert body is not None
    # 7 × (2 points + 2-way range proof) + the contest proof + 2 codes, and the ids and counts
    assert 7 * (2 * 33 + 4 * 32) + 2 * 32 + 2 * 32 <= len(body) < 1650
    assert len(canonical_json(payload)) > 3900


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(state="superseded"),
        lambda p: p.update(extra=1),
        lambda p: p["ballot"].update(code=p["ballot"]["code"].upper()),
        lambda p: p["ballot"]["contests"][0]["selections"][0].update(alpha="02" + "0" * 62),
        lambda p: p["ballot"]["contests"][0]["proof"].update(responses=[]),
        lambda p: p["ballot"]["contests"][0].update(selections="none"),
        lambda p: p.update(device_id="\ud800"),
    ],
)
def test_other_shapes_are_left_as_json(change: Any) -> None:
    payload = json.loads(json.dumps(_seven_options()))
    change(payload)
    assert encode(payload) is None
    assert encode({"phase": "open", "at": "2022-11-20T07:00:00+06:00"}) is None


def test_every_changed_byte_is_refused_or_changes_the_payload_hash() -> None:
    payload = _seven_options()
    body = encode(payload)
    assert body is not None
    want = payload_hash(payload)
    for i in range(len(body)):
        for bit in (0x01, 0x80):
            changed = body[:i] + bytes([body[i] ^ bit]) + body[i + 1 :]
            try:
                got = decode(changed)
            except ValueError:
                continue
            assert payload_hash(got) != want, f"byte {i} bit {bit:#x}"
    for cut in (0, 1, 2, len(body) // 2, len(body) - 1):
        with pytest.raises(ValueError, match="compact ballot"):
            decode(body[:cut])
    with pytest.raises(ValueError, match="after the end"):
        decode(body + b"\0")
    with pytest.raises(ValueError, match="version"):
        decode(b"\x02" + body[1:])
