import threading
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from saylau.board import BoardSigner, BulletinBoard, verify_board
from saylau.errors import AccessDenied, ElectionStateError
from saylau.store.accounts import authenticate, create_user, issue_token, resolve_token
from saylau.store.board_store import SqlBoardStore
from saylau.store.engine import database_url, make_engine, make_sessionmaker
from saylau.store.jobs import claim_next, create_job, fail_job, mark_stalled, resume_job
from saylau.store.migrate import upgrade
from saylau.store.models import Base, BoardHead, CheckIn, Election, Job, utcnow


def _setup(database):  # type: ignore[no-untyped-def]
    engine = make_engine(database.url, database.schema)
    upgrade(engine)
    return engine, make_sessionmaker(engine)


def _election(session, eid: str = "e1") -> None:  # type: ignore[no-untyped-def]
    session.add(
        Election(id=eid, name="E", phase="setup", manifest={}, guardians=3, quorum=2, base_hash="00" * 32)
    )
    session.flush()
    session.add(BoardHead(election_id=eid, position=-1))


def test_migration_creates_exactly_the_model_tables(database) -> None:  # type: ignore[no-untyped-def]
    engine, _ = _setup(database)
    tables = set(inspect(engine).get_table_names(schema=database.schema)) - {"alembic_version"}
    assert tables == set(Base.metadata.tables)
    upgrade(engine)  # idempotent
    engine.dispose()


def test_database_url_maps_postgres_to_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAYLAU_DATABASE_URL", "postgresql://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv("SAYLAU_DATABASE_URL")
    assert database_url() == "sqlite:///saylau.db"


def test_checkin_unique_constraint_stops_double_voting_under_concurrency(database) -> None:  # type: ignore[no-untyped-def]
    engine, sessions = _setup(database)
    with sessions.begin() as s:
        _election(s)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def attempt(station: str) -> None:
        barrier.wait()
        try:
            with sessions.begin() as s:
                s.add(CheckIn(election_id="e1", voter_id="v1", station_id=station, channel="in_person"))
            outcomes.append("ok")
        except IntegrityError:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(f"s{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    engine.dispose()


def test_board_in_the_database_round_trips_and_detects_a_changed_row(database) -> None:  # type: ignore[no-untyped-def]
    engine, sessions = _setup(database)
    signer = BoardSigner.generate()
    with sessions.begin() as s:
        _election(s)
    for i in range(7):
        with sessions.begin() as s:
            BulletinBoard("e1", SqlBoardStore(s, "e1"), signer, checkpoint_every=3).append(
                "note", {"i": i}, code=f"c{i}"
            )
    with sessions.begin() as s:
        board = BulletinBoard("e1", SqlBoardStore(s, "e1"), signer, checkpoint_every=3)
        board.close()
    with sessions() as s:
        board = BulletinBoard("e1", SqlBoardStore(s, "e1"), signer, checkpoint_every=3)
        rows = list(board.export_rows())
        assert board.lookup("c4")[0].position == 4
    summary = verify_board(rows, signer.public_key_hex, require_final=True)
    assert (summary.count, summary.checkpoints, summary.final) == (7, 3, True)
    from saylau.store.models import BoardEntryRow

    with sessions.begin() as s:
        row = s.get(BoardEntryRow, ("e1", 2))
        assert row is not None
        row.payload_json = {"i": 99}
    with sessions() as s:
        rows = list(BulletinBoard("e1", SqlBoardStore(s, "e1"), signer, 3).export_rows())
    with pytest.raises(Exception, match="position 2"):
        verify_board(rows)
    engine.dispose()


def test_accounts_tokens_expire_and_wrong_passwords_fail(database) -> None:  # type: ignore[no-untyped-def]
    engine, sessions = _setup(database)
    with sessions.begin() as s:
        user = create_user(s, "admin", "correct horse", "cec")
        good = issue_token(s, "cec", timedelta(hours=1), user=user)
        old = issue_token(s, "cec", timedelta(seconds=-1), user=user)
    with sessions() as s:
        assert authenticate(s, "admin", "correct horse").role == "cec"
        with pytest.raises(AccessDenied, match="wrong password"):
            authenticate(s, "admin", "wrong horse")
        assert resolve_token(s, good).username == "admin"
        with pytest.raises(AccessDenied, match="expired"):
            resolve_token(s, old)
        with pytest.raises(AccessDenied, match="unknown"):
            resolve_token(s, "nope")
    with sessions.begin() as s, pytest.raises(ValueError, match="'username'"):
        create_user(s, "admin", "another pass", "cec")
    with sessions.begin() as s, pytest.raises(ValueError, match="'station_id'"):
        create_user(s, "st", "another pass", "station")
    engine.dispose()


def test_jobs_stall_and_resume(database) -> None:  # type: ignore[no-untyped-def]
    engine, sessions = _setup(database)
    with sessions.begin() as s:
        create_job(s, "verify", {}, "cec", None)
    with sessions.begin() as s:
        job = claim_next(s)
        assert job is not None and job.state == "running"
        job.heartbeat_at = utcnow() - timedelta(minutes=5)
        jid = job.id
    with sessions.begin() as s:
        assert claim_next(s) is None
        assert mark_stalled(s, timedelta(seconds=60)) == [jid]
    with sessions.begin() as s:
        assert resume_job(s, jid).state == "pending"
    with sessions.begin() as s:
        job = claim_next(s)
        assert job is not None and job.attempts == 2
        fail_job(s, jid, "boom")
    with sessions.begin() as s:
        assert s.scalars(select(Job.state)).one() == "failed"
        resume_job(s, jid)
    with sessions.begin() as s, pytest.raises(ElectionStateError, match="cannot be resumed"):
        resume_job(s, jid)
    engine.dispose()
