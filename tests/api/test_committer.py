"""Group commit, the verification pool and the token cache, below the HTTP layer."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from saylau.api.committer import GroupCommitter
from saylau.api.verify_pool import Admission, VerifyPool, _hashes
from saylau.board.chain import payload_hash
from saylau.board.hashing import canonical_json
from saylau.crypto import ContestSpec, ElectionParameters, run_key_ceremony
from saylau.errors import InvalidBallot
from saylau.record.verifier.admission import rules_document
from saylau.store.accounts import TokenCache, TokenInfo, hash_token
from saylau.store.models import utcnow
from saylau.voting.device import VotingDevice

meta = MetaData()
items = Table("items", meta, Column("id", Integer, primary_key=True), Column("name", String(20)))


@pytest.fixture
def committer(tmp_path: Path) -> Iterator[tuple[GroupCommitter, sessionmaker[Session]]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    meta.create_all(engine)
    sessions = sessionmaker(engine)
    commits = {"n": 0}

    @contextmanager
    def transaction() -> Iterator[Session]:
        with sessions() as s, s.begin():
            yield s
        commits["n"] += 1

    c = GroupCommitter(transaction, max_batch=50)
    yield c, sessions
    c.stop()
    engine.dispose()


def test_queued_writes_share_commits_and_a_refused_one_rolls_back_alone(
    committer: tuple[GroupCommitter, sessionmaker[Session]],
) -> None:
    c, sessions = committer
    gate = threading.Event()

    def slow(session: Session) -> int:
        gate.wait(5)  # hold the writer so that the next writes queue up behind this one
        session.execute(insert(items).values(id=0, name="first"))
        return 0

    def write(i: int):  # type: ignore[no-untyped-def]
        def run(session: Session) -> int:
            session.execute(insert(items).values(id=i, name=f"n{i}"))
            if i == 7:
                raise InvalidBallot("ballot 7: refused")
            return i

        return run

    first = c.submit(slow)
    futures = [c.submit(write(i)) for i in range(1, 21)]
    gate.set()
    assert first.result(10) == 0
    for i, f in enumerate(futures, start=1):
        if i == 7:
            with pytest.raises(InvalidBallot, match="ballot 7"):
                f.result(10)
        else:
            assert f.result(10) == i
    with sessions() as s:
        ids = sorted(s.scalars(select(items.c.id)))
    assert ids == [i for i in range(21) if i != 7]
    assert c.committed == 20 and c.batches <= 3  # 21 writes, at most a few commits


def test_a_write_breaking_a_constraint_is_refused_alone(
    committer: tuple[GroupCommitter, sessionmaker[Session]],
) -> None:
    c, sessions = committer
    gate = threading.Event()

    def hold(session: Session) -> None:
        gate.wait(5)
        session.execute(insert(items).values(id=1, name="a"))

    def dup(session: Session) -> None:
        session.info["x"] = 1
        session.execute(insert(items).values(id=100, name="b"))

    f0 = c.submit(hold)
    f1 = c.submit(dup)
    gate.set()
    f0.result(10)
    f1.result(10)
    # the same primary key again: refused inside its savepoint, the batch still commits
    f2 = c.submit(dup)
    with pytest.raises(Exception, match="UNIQUE"):
        f2.result(10)
    with sessions() as s:
        assert sorted(s.scalars(select(items.c.id))) == [1, 100]


def _linger_committer(tmp_path: Path, linger: float) -> tuple[GroupCommitter, sessionmaker[Session]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'l.db'}")
    meta.create_all(engine)
    sessions = sessionmaker(engine)

    @contextmanager
    def transaction() -> Iterator[Session]:
        with sessions() as s, s.begin():
            yield s

    return GroupCommitter(transaction, max_batch=50, linger=linger), sessions


def _insert(i: int):  # type: ignore[no-untyped-def]
    def run(session: Session) -> int:
        session.execute(insert(items).values(id=i, name=f"n{i}"))
        return i

    return run


def test_the_writer_waits_for_announced_writes_and_never_for_unannounced_ones(tmp_path: Path) -> None:
    c, _ = _linger_committer(tmp_path, linger=1.0)
    try:
        # nothing announced: a lone write is committed at once, not after the linger
        t0 = time.monotonic()
        assert c.submit(_insert(1)).result(5) == 1
        assert time.monotonic() - t0 < 0.5 and c.batches == 1
        # a write announced while the first is queued joins its commit
        with c.expecting(1):
            first = c.submit(_insert(2))
            time.sleep(0.05)  # the writer has the first write and waits: the second is on its way
            second = c.submit(_insert(3))
        assert (first.result(5), second.result(5)) == (2, 3)
        assert c.batches == 2 and c.committed == 3
    finally:
        c.stop()


def test_an_announced_write_that_never_comes_delays_the_commit_by_the_linger_only(tmp_path: Path) -> None:
    c, sessions = _linger_committer(tmp_path, linger=0.2)
    try:
        with c.expecting(1):  # announced, never submitted (e.g. its ballot failed verification)
            t0 = time.monotonic()
            assert c.submit(_insert(1)).result(5) == 1
            waited = time.monotonic() - t0
        assert 0.15 <= waited < 2.0
        with sessions() as s:
            assert list(s.scalars(select(items.c.id))) == [1]
    finally:
        c.stop()


def test_a_negative_linger_is_refused() -> None:
    with pytest.raises(ValueError, match="linger"):
        GroupCommitter(lambda: None, linger=-1)


def test_the_process_pool_verifies_and_refuses_like_the_crypto_layer() -> None:
    base_hash = bytes(range(32))
    _, key = run_key_ceremony(3, 2, base_hash)
    params = ElectionParameters(base_hash, key, (ContestSpec("president", ("a", "b", "c"), 1, False),))
    device = VotingDevice(params, "d1", "st-1")
    ballot = device.encrypt({"president": ["b"]}, "main").ballot.to_dict()
    forged = {**ballot, "ballot_id": "d1-000009"}
    pool = VerifyPool(1)
    styles = {"ballot_styles": [{"style_id": "main", "contest_ids": ["president"], "region_ids": []}]}
    rules, at = rules_document(params.to_dict(), styles), Admission("d1", "r1", "booth")

    async def run() -> None:
        checked = await pool.ballot(rules, ballot, {"ballot": ballot}, at)
        assert checked.ballot_id == "d1-000000" and checked.previous_code == ballot["previous_code"]
        assert checked.sequence == 0
        with pytest.raises(InvalidBallot):
            await pool.ballot(rules, forged, {"ballot": forged}, at)

    try:
        asyncio.run(run())
    finally:
        pool.shutdown()


def test_group_writes_share_one_call_and_refuse_items_alone(
    committer: tuple[GroupCommitter, sessionmaker[Session]],
) -> None:
    c, sessions = committer
    gate = threading.Event()
    calls: list[list[int]] = []

    def hold(session: Session) -> None:
        gate.wait(5)
        session.execute(insert(items).values(id=0, name="hold"))

    def group(session: Session, args: list[int]) -> list[object]:
        calls.append(list(args))
        out: list[object] = []
        for i in args:
            if i % 5 == 0:
                out.append(InvalidBallot(f"item {i}: refused"))
                continue
            session.execute(insert(items).values(id=i, name=f"g{i}"))
            out.append(i * 10)
        return out

    def broken(session: Session, args: list[int]) -> list[object]:
        session.execute(insert(items).values(id=999, name="never"))
        raise RuntimeError("group writer failed")

    def one(session: Session) -> int:
        session.execute(insert(items).values(id=50, name="plain"))
        return 50

    first = c.submit(hold)
    grouped = c.submit_group(group, list(range(1, 12)))
    plain = c.submit(one)
    failed = c.submit_group(broken, [1, 2])
    later = c.submit_group(group, [21, 22])
    gate.set()
    first.result(10)
    for i, f in zip(range(1, 12), grouped, strict=True):
        if i % 5 == 0:
            with pytest.raises(InvalidBallot, match=f"item {i}"):
                f.result(10)
        else:
            assert f.result(10) == i * 10
    assert plain.result(10) == 50
    for f in failed:
        with pytest.raises(RuntimeError, match="group writer failed"):
            f.result(10)
    assert [f.result(10) for f in later] == [210, 220]
    # consecutive items of one group writer were handed over together; the plain write split the runs
    assert calls == [list(range(1, 12)), [21, 22]]
    with sessions() as s:
        ids = sorted(s.scalars(select(items.c.id)))
    assert ids == [0, *(i for i in range(1, 12) if i % 5), 21, 22, 50]  # nothing of the failed group


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    document=st.dictionaries(st.text(), _json, max_size=5),
    others=st.dictionaries(st.text(), _json, max_size=4),
    name=st.text(),
)
@example(document={"a": 1}, others={"\ue000": 1}, name="\U0001f600")  # UTF-16 order differs from str order
def test_the_workers_hashes_equal_canonicalising_the_whole_payload(
    document: dict[str, object], others: dict[str, object], name: str
) -> None:
    """Reusing the document's JCS bytes inside its payload gives exactly RFC 8785 of the payload."""
    payload = {**others, name: document}
    content, board = _hashes(document, payload)
    assert content == hashlib.sha256(canonical_json(document)).hexdigest()
    assert board == payload_hash(payload)


def test_the_token_cache_answers_until_expiry_and_stays_bounded() -> None:
    now = utcnow()

    def info(token: str, expires_in: float) -> TokenInfo:
        expires = now + timedelta(seconds=expires_in)
        return TokenInfo("voter", None, None, "e", "st-1", None, "v", "remote", hash_token(token), expires)

    cache = TokenCache(size=3)
    cache.put(info("live", 3600))
    cache.put(info("dead", -1))
    assert cache.get("live") == info("live", 3600)
    assert cache.get("dead") is None  # expired: resolved again from the database (which refuses it)
    assert cache.get("unknown") is None
    cache.put(info("a", 3600))
    cache.put(info("b", 3600))  # the fourth entry drops the oldest
    assert cache.get("live") is None and cache.get("b") is not None
    cache.forget(hash_token("b"))
    assert cache.get("b") is None
