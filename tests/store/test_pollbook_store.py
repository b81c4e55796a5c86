"""SqlPollbookStore and SqlVoterRoll: the library's pollbook rules on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from saylau.election.pollbook import CheckIn, IssuedCredential, Pollbook, PollbookStore, credential_hash
from saylau.election.voter_roll import Voter, make_iin
from saylau.errors import PollbookError, VoterRollError
from saylau.store.engine import make_engine, make_sessionmaker
from saylau.store.migrate import upgrade
from saylau.store.models import Base, BoardHead, Election, Station
from saylau.store.pollbook_store import SqlPollbookStore, SqlVoterRoll, save_roll

DAY = date(2022, 11, 20)
AT = datetime(2022, 11, 20, 9, 0, tzinfo=UTC)
STATIONS = {"s1": "r1", "s2": "r1", "s3": "r2"}


def _setup(database):  # type: ignore[no-untyped-def]
    engine = make_engine(database.url, database.schema)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        s.add(Election(id="e1", name="E", phase="open", manifest={}, guardians=3, quorum=2,
                       base_hash="00" * 32))
        s.flush()
        s.add(BoardHead(election_id="e1", position=-1))
        for sid, region in STATIONS.items():
            s.add(Station(election_id="e1", id=sid, region=region, name=sid))
    return engine, sessions


def _voters() -> list[Voter]:
    out = []
    for i, (station, region) in enumerate([("s1", "r1"), ("s2", "r1"), ("s3", "r2"), ("s1", "r1")]):
        born = date(1970 + i, 1, 2) if i < 3 else date(2005, 6, 1)  # the last one is 17 on election day
        out.append(Voter(make_iin(born, i % 2 == 0, 10 + i), f"L{i}", f"F{i}", "", born, region, station))
    return out


def test_migration_head_matches_the_models(database) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(database.url, database.schema)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # nullability/type reflections differ harmlessly between backends; tables and columns must not
    structural = [d for d in diff if isinstance(d, tuple) and d[0] in ("add_table", "remove_table",
                                                                          "add_column", "remove_column")]
    assert structural == [], structural
    engine.dispose()


def test_the_store_is_a_pollbook_store_and_the_rules_apply(database) -> None:  # type: ignore[no-untyped-def]
    engine, sessions = _setup(database)
    voters = _voters()
    with sessions.begin() as s:
        assert save_roll(s, "e1", voters) == 4
    issued: IssuedCredential
    with sessions.begin() as s:
        store = SqlPollbookStore(s, "e1")
        assert isinstance(store, PollbookStore)
        roll = SqlVoterRoll(s, "e1")
        assert len(roll) == 4 and voters[0].voter_id in roll and "000000000000" not in roll
        assert roll.voter(voters[2].voter_id) == voters[2]
        book = Pollbook(roll, store, DAY, 18)
        issued = book.check_in(voters[0].voter_id, "s1", AT)
        with pytest.raises(PollbookError, match="already voted at station 's1'"):
            book.check_in(voters[0].voter_id, "s1", AT + timedelta(minutes=1))
        with pytest.raises(PollbookError, match="is 17 on election day"):
            book.check_in(voters[3].voter_id, "s1", AT)
        with pytest.raises(PollbookError, match="listed at station 's2', not 's1'"):
            book.check_in(voters[1].voter_id, "s1", AT)
        cert = roll.issue_absentee_certificate(voters[1].voter_id, "s3", date(2022, 11, 1))
        with pytest.raises(VoterRollError, match="already issued"):
            roll.issue_absentee_certificate(voters[1].voter_id, "s1", date(2022, 11, 1))
        with pytest.raises(PollbookError, match=cert.certificate_id):
            book.check_in(voters[1].voter_id, "s2", AT)
    with sessions.begin() as s:  # a new session reads the transfer and the check-in back from the database
        roll = SqlVoterRoll(s, "e1")
        assert roll.station_of(voters[1].voter_id) == "s3"
        book = Pollbook(roll, SqlPollbookStore(s, "e1"), DAY, 18)
        book.check_in(voters[1].voter_id, "s3", AT)
        remote = book.register_remote(voters[2].voter_id, AT + timedelta(hours=1))
        assert remote.check_in.channel == "remote" and remote.check_in.station_id == "s3"
        assert book.turnout("s1") == 1 and book.turnout("s3") == 2 and book.turnout("s3", AT) == 1
        assert [c.voter_id for c in book.store.check_ins()] == [v.voter_id for v in voters[:3]]
        assert book.redeem(issued.credential).station_id == "s1"
        with pytest.raises(PollbookError, match="already used"):
            book.redeem(issued.credential)
        with pytest.raises(PollbookError, match="unknown voter credential"):
            book.redeem("not-a-credential")
        found = book.store.find(voters[0].voter_id)
        assert isinstance(found, CheckIn) and found.credential_hash == credential_hash(issued.credential)
        assert roll.public_counts()["stations"]["s3"] == {"region": "r2", "registered": 2,
                                                          "transferred_out": 0, "transferred_in": 1}
    engine.dispose()


def test_concurrent_check_ins_of_one_voter_admit_exactly_one(database) -> None:  # type: ignore[no-untyped-def]
    """Four threads (two stations' check-ins, two remote registrations) race for one voter."""
    engine, sessions = _setup(database)
    voter = _voters()[0]
    with sessions.begin() as s:
        save_roll(s, "e1", [voter])
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            with sessions.begin() as s:
                book = Pollbook(SqlVoterRoll(s, "e1"), SqlPollbookStore(s, "e1"), DAY, 18)
                if i % 2:
                    book.register_remote(voter.voter_id, AT)
                else:
                    book.check_in(voter.voter_id, "s1", AT)
            outcomes.append("ok")
        except PollbookError as exc:
            assert "at station 's1'" in str(exc) and voter.voter_id not in str(exc)
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    with sessions() as s:
        assert SqlPollbookStore(s, "e1").count("s1") == 1
    engine.dispose()


def test_a_direct_duplicate_insert_names_the_first_station(database) -> None:  # type: ignore[no-untyped-def]
    """Without the read-before-write of Pollbook, the unique key still refuses the second entry."""
    engine, sessions = _setup(database)
    iin = _voters()[0].voter_id
    with sessions.begin() as s:
        SqlPollbookStore(s, "e1").add(CheckIn(iin, "s2", "station", AT, credential_hash("a")))
    with sessions.begin() as s:
        store = SqlPollbookStore(s, "e1")
        with pytest.raises(PollbookError, match="already voted at station 's2'"):
            store.add(CheckIn(iin, "s1", "station", AT, credential_hash("b")))
        other = _voters()[1].voter_id
        with pytest.raises(PollbookError, match="credential collision"):
            store.add(CheckIn(other, "s1", "station", AT, credential_hash("a")))
        store.add(CheckIn(other, "s1", "station", AT, credential_hash("c")))  # the session is still usable
    with sessions() as s:
        assert SqlPollbookStore(s, "e1").count("s1") == 1
    engine.dispose()


def test_0003_upgrades_existing_rows_and_downgrades(database) -> None:  # type: ignore[no-untyped-def]
    """Rows written under 0002 survive 0003 (decisions become version 1); 0003 reverts cleanly."""
    from alembic import command
    from sqlalchemy import inspect, text

    from saylau.store.migrate import alembic_config

    engine = make_engine(database.url, database.schema)
    upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO elections (id, name, phase, manifest, guardians, quorum, base_hash, "
                          "remote_revoting, created_at) VALUES ('e0', 'E', 'setup', '{}', 1, 1, '00', false, "
                          "CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO applications (id, election_id, applicant, status, submitted_at) "
                          "VALUES ('e0:a', 'e0', '{}', 'pending', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO decisions (application_id, outcome, detail, decided_by, decided_at) "
                          "VALUES ('e0:a', 'refused', '{}', 'cec', CURRENT_TIMESTAMP)"))
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version FROM decisions")).scalar_one() == 1
        assert conn.execute(text("SELECT voting_age FROM elections")).scalar_one() == 18
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    assert "signature_checks" not in inspect(engine).get_table_names(schema=database.schema)
    upgrade(engine)
    assert "signature_checks" in inspect(engine).get_table_names(schema=database.schema)
    engine.dispose()
