"""Version 2 of the compact board entry (``store/entry_codec.py``): exact round trips over real encrypted
ballots, a code derived exactly as the crypto layer derives it, contexts named by digest, every broken
byte refused or caught, and other shapes left to version 1 or JSON."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saylau.board import payload_hash
from saylau.board.hashing import canonical_json
from saylau.crypto import ContestSpec, ElectionParameters, JointPublicKey, run_key_ceremony
from saylau.crypto.ballot import encrypt_ballot
from saylau.crypto.ballot_types import EncryptedBallot, record_tracking_code, tracking_code
from saylau.crypto.challenge import open_challenged_ballot
from saylau.store import ballot_codec
from saylau.store.entry_codec import CODE, TIME, Context, decode, encode
from saylau.voting.publish import published_ballot, published_challenge
from saylau.voting.submitted import SubmittedBallot

BASE = hashlib.sha256(b"saylau entry codec test").digest()
TIME_AT = "2022-11-20T05:17:03.004211Z"
ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


@cache
def _key() -> JointPublicKey:
    return run_key_ceremony(3, 2, BASE)[1]


@cache
def _seven_options() -> dict[str, Any]:
    options = ("tokayev", "dairabayev", "abden", "kazhyken", "auesbayev", "tursynbekova", "against-all")
    params = ElectionParameters(BASE, _key(), (ContestSpec("president", options, 1),))
    ballot, _ = encrypt_ballot(
        params, "st-1-kiosk-000007", "main", {"president": ["abden"]}, rng=random.Random(7)
    )
    return published_ballot(SubmittedBallot(ballot, "st-1", "st-1-kiosk", 7, "cast"))


@st.composite
def entries(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A ``ballot`` or ``challenge`` payload of a real encrypted ballot, and a board time."""
    contests = []
    for i in range(draw(st.integers(1, 2))):
        options = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
        limit = draw(st.integers(1, len(options)))
        contests.append(ContestSpec(f"c{i}-{draw(ids)}", tuple(options), limit, allow_undervote=True))
    params = ElectionParameters(BASE, _key(), tuple(contests))
    choices = {
        c.contest_id: draw(st.lists(st.sampled_from(c.selection_ids), max_size=c.votes_allowed, unique=True))
        for c in contests
    }
    device, station = draw(ids), draw(ids)
    number = draw(st.integers(0, 10**7))
    ballot_id = draw(
        st.sampled_from(
            [
                f"{device}-{number:06d}",
                f"{device}-{number}",
                f"{device}-x{number}",
                f"{device}-",
                f"other-{number:06d}",
            ]
        )
    )
    tag = draw(st.one_of(st.none(), st.binary(min_size=32, max_size=32)))
    rng = random.Random(draw(st.integers()))
    ballot, secret = encrypt_ballot(params, ballot_id, draw(ids), choices, rng=rng, revote_tag=tag)
    at = draw(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(4000, 1, 1)))
    time = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if draw(st.booleans()):
        sb = SubmittedBallot(ballot, station, device, 0, "challenged")
        return published_challenge(open_challenged_ballot(params, ballot, secret), sb), time
    return published_ballot(SubmittedBallot(ballot, station, device, 0, "cast")), time


def _decode(body: bytes, ctx: Context) -> tuple[str | None, dict[str, Any]]:
    known = {ctx.digest(): ctx}

    def context_of(digest: bytes) -> Context:
        if digest not in known:
            raise ValueError(f"ballot context {digest.hex()}: unknown")
        return known[digest]

    return decode(body, context_of)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries())
def test_real_ballots_round_trip_exactly(entry: tuple[dict[str, Any], str]) -> None:
    payload, time = entry
    compact = encode(payload, time)
    assert compact is not None and compact.has_time
    assert not compact.body[1] & CODE  # the server's ballots: the code is derived, never stored
    back_time, back = _decode(compact.body, compact.context)
    assert (back_time, back) == (time, payload)
    assert canonical_json(back) == canonical_json(payload)  # the bytes whose hash is on the chain
    v1 = ballot_codec.encode(payload)
    assert v1 is not None and len(compact.body) < len(v1)
    # the keys in version 1's order too: the board exported from the database has the same bytes
    assert json.dumps(back) == json.dumps(ballot_codec.decode(v1))
    assert Context.from_bytes(compact.context.to_bytes()) == compact.context


def test_the_derived_code_is_the_crypto_layers() -> None:
    payload = _seven_options()
    ballot = EncryptedBallot.from_dict(payload["ballot"])
    assert (
        record_tracking_code(payload["ballot"])
        == tracking_code(ballot.previous_code, ballot.crypto_hash()).hex()
    )
    assert record_tracking_code(payload["ballot"]) == payload["ballot"]["code"]


def test_a_seven_option_ballot_holds_only_its_own_bytes() -> None:
    payload = _seven_options()
    compact = encode(payload, TIME_AT)
    assert compact is not None
    crypto = 7 * (2 * 32 + 4 * 32) + 2 * 32 + 32  # x coordinates, proofs, the contest proof, previous code
    # + version, flags, digest (8), time (7), ballot id as a number (2), the 14 prefix bits (2)
    assert len(compact.body) == crypto + 1 + 1 + 8 + 7 + 2 + 2
    v1 = ballot_codec.encode(payload)
    assert v1 is not None and len(v1) - len(compact.body) >= 140


def test_a_code_that_is_not_the_derived_one_is_kept_and_a_non_board_time_left_out() -> None:
    payload = json.loads(json.dumps(_seven_options()))
    payload["ballot"]["code"] = "ab" * 32
    compact = encode(payload, "2022-11-20T05:17:03Z")
    assert compact is not None and compact.body[1] & CODE and not compact.body[1] & TIME
    assert _decode(compact.body, compact.context) == (None, payload)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(state="superseded"),
        lambda p: p.update(extra=1),
        lambda p: p["ballot"].update(code=p["ballot"]["code"].upper()),
        lambda p: p["ballot"]["contests"][0]["selections"][0].update(alpha="00" * 33),
        lambda p: p["ballot"]["contests"][0]["selections"][0].update(beta="04" + "11" * 32),
        lambda p: p["ballot"]["contests"][0]["proof"].update(responses=[]),
        lambda p: p["ballot"]["contests"][0].update(selections="none"),
        lambda p: p.update(device_id="\ud800"),
        lambda p: p.update(station_id=7),
    ],
)
def test_other_shapes_are_not_version_2(change: Any) -> None:
    payload = json.loads(json.dumps(_seven_options()))
    change(payload)
    assert encode(payload, TIME_AT) is None
    assert encode({"phase": "open", "at": "2022-11-20T07:00:00+06:00"}, TIME_AT) is None


def test_every_changed_byte_is_refused_or_changes_what_the_hashes_cover() -> None:
    payload = _seven_options()
    compact = encode(payload, TIME_AT)
    assert compact is not None
    body, want = compact.body, (TIME_AT, payload_hash(payload))
    for i in range(len(body)):
        for bit in (0x01, 0x80):
            changed = body[:i] + bytes([body[i] ^ bit]) + body[i + 1 :]
            try:
                time, got = _decode(changed, compact.context)
            except ValueError:
                continue
            assert (time, payload_hash(got)) != want, f"byte {i} bit {bit:#x}"
    for cut in (0, 1, 2, 10, len(body) // 2, len(body) - 1):
        with pytest.raises(ValueError, match="compact ballot"):
            _decode(body[:cut], compact.context)
    with pytest.raises(ValueError, match="after the end"):
        _decode(body + b"\0", compact.context)
    with pytest.raises(ValueError, match="version"):
        _decode(b"\x01" + body[1:], compact.context)


def test_a_context_is_strict_and_named_by_its_bytes() -> None:
    ctx = Context("st-1-kiosk", "st-1", "main", (("president", 1, (("a", 2), ("b", 2))),))
    raw = ctx.to_bytes()
    assert Context.from_bytes(raw) == ctx and len(ctx.digest()) == 8
    other = Context("st-1-kiosk", "st-2", "main", ctx.contests)
    assert other.digest() != ctx.digest()
    for bad in (raw[:-1], raw + b"\0", b"\x02" + raw[1:]):
        with pytest.raises(ValueError, match="ballot context"):
            Context.from_bytes(bad)


def _at(engine: Any, revision: str) -> None:
    from alembic import command

    from saylau.store.migrate import alembic_config

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_the_database_stores_entries_compact_and_migrates_them_both_ways(database) -> None:  # type: ignore[no-untyped-def]
    """A ballot entry at head is a version-2 body naming its context; at 0009 a version-1 body with hex
    hashes and its previous hash; at 0008 JSON; and the same version-2 body on the way back up."""
    from sqlalchemy import select, text

    from saylau.board import BoardSigner, BulletinBoard
    from saylau.board.chain import genesis_hash
    from saylau.store.board_store import SqlBoardStore
    from saylau.store.engine import make_engine, make_sessionmaker
    from saylau.store.migrate import upgrade
    from saylau.store.models import BallotContextRow, BoardEntryRow, BoardHead, Election

    engine = make_engine(database.url, database.schema)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        s.add(
            Election(id="e1", name="E", phase="open", manifest={}, guardians=3, quorum=2, base_hash="00" * 32)
        )
        s.flush()
        s.add(BoardHead(election_id="e1", position=-1))
    payload = _seven_options()
    with sessions.begin() as s:
        board = BulletinBoard("e1", SqlBoardStore(s, "e1"), BoardSigner.generate(), checkpoint_every=10)
        board.append("note", {"i": 1}, code="audit")
        entry = board.append("ballot", payload, code=payload["ballot"]["code"])
    compact = encode(payload, entry.time)
    assert compact is not None
    with sessions() as s:
        note, ballot = s.scalars(select(BoardEntryRow).order_by(BoardEntryRow.position)).all()
        assert (note.payload_json, note.body, note.code) == (
            {"i": 1},
            None,
            "audit",
        ) and note.time is not None
        assert (ballot.payload_json, ballot.time, ballot.code) == (None, None, None)
        assert ballot.body == compact.body and ballot.payload_hash == payload_hash(payload)
        (ctx,) = s.scalars(select(BallotContextRow)).all()
        assert (ctx.digest, ctx.context) == (compact.context.digest(), compact.context.to_bytes())
        assert list(SqlBoardStore(s, "e1").entries())[1] == entry
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT entry_hash FROM board_entries WHERE position = 1")).scalar_one()
        assert bytes(raw) == bytes.fromhex(entry.entry_hash)  # 32 bytes, not 64 hex digits
    _at(engine, "0009")
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT position, time, code, body, payload_hash, prev_hash, entry_hash "
                "FROM board_entries ORDER BY position"
            )
        ).all()
        assert [r.prev_hash for r in rows] == [genesis_hash("e1"), rows[0].entry_hash]
        assert (rows[1].time, rows[1].code, bytes(rows[1].body)) == (
            entry.time,
            entry.code,
            ballot_codec.encode(payload),
        )
        assert (rows[1].payload_hash, rows[1].entry_hash) == (entry.payload_hash, entry.entry_hash)
    _at(engine, "0008")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT payload FROM board_entries WHERE position = 1")).scalar_one()
        assert (json.loads(stored) if isinstance(stored, str) else stored) == payload
    upgrade(engine)
    with sessions() as s:
        row = s.get(BoardEntryRow, ("e1", 1))
        assert row is not None and row.payload_json is None and row.body == compact.body
        assert list(SqlBoardStore(s, "e1").entries())[1] == entry
    engine.dispose()
