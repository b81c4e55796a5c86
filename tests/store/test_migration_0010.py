"""Migration 0010 on both backends: a database as 0009's code wrote it (rows built here independently of
the 0010 code) reads back as the same board and ballots, passes ``saylau check``, and goes back down to
exactly the rows it came from; a row whose dropped columns do not derive stops the migration, naming
it, and changes nothing."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import text

from saylau.board import BoardEntry, BoardSigner, BulletinBoard, MemoryBoardStore
from saylau.board.hashing import canonical_json
from saylau.crypto import ContestSpec, DeviceChain, ElectionParameters, JointPublicKey, run_key_ceremony
from saylau.crypto.ballot import encrypt_ballot
from saylau.crypto.challenge import open_challenged_ballot
from saylau.store import ballot_codec
from saylau.store.board_store import SqlBoardStore
from saylau.store.engine import make_engine, make_sessionmaker
from saylau.store.integrity import check_election
from saylau.store.migrate import alembic_config, upgrade
from saylau.store.models import Ballot
from saylau.voting.publish import published_ballot, published_challenge, superseded_payload
from saylau.voting.submitted import SubmittedBallot

BASE = hashlib.sha256(b"saylau migration 0010 test").digest()
AT = datetime(2022, 11, 20, 8, 30, 1, 250000, tzinfo=UTC)
EVERY = 3
ELECTION = "e1"
_SIGNER = BoardSigner.generate()


@cache
def _key() -> JointPublicKey:
    return run_key_ceremony(3, 2, BASE)[1]


@dataclass
class Old:
    """The 0009 rows of a small election: board entries, checkpoints, ballots, devices."""

    entries: list[BoardEntry]
    checkpoints: list[dict[str, Any]]
    ballots: list[dict[str, Any]]
    devices: list[dict[str, Any]]


@cache
def _election() -> Old:
    """Two in-person ballots and a challenge on a booth device, a remote ballot and the revote that
    supersedes it on the station's remote channel: board entries as the server publishes them."""
    params = ElectionParameters(BASE, _key(), (ContestSpec("president", ("a", "b", "against-all"), 1),))
    board = BulletinBoard(ELECTION, MemoryBoardStore(), _SIGNER, checkpoint_every=EVERY)
    board.append("note", {"opened": True})
    rng = random.Random(10)
    ballots: list[dict[str, Any]] = []
    chains = {"st-1-kiosk": DeviceChain("st-1-kiosk", BASE), "st-1-remote": DeviceChain("st-1-remote", BASE)}
    tag = bytes(range(32))

    def cast(device: str, n: int, choice: str, voter: str, state: str, remote: bool = False) -> Any:
        bid = f"{device}-{n:06d}"
        ballot, secret = encrypt_ballot(
            params,
            bid,
            "main",
            {"president": [choice]},
            device=chains[device],
            rng=rng,
            revote_tag=tag if remote else None,
        )
        sb = SubmittedBallot(ballot, "st-1", device, n, "challenged" if state == "challenged" else "cast")
        if state == "challenged":
            opened = open_challenged_ballot(params, ballot, secret)
            payload, kind = published_challenge(opened, sb), "challenge"
            doc = opened.to_dict()
        else:
            payload, kind = published_ballot(sb), "ballot"
            doc = ballot.to_dict()
        entry = board.append(kind, payload, code=ballot.code.hex())
        ballots.append(
            {
                "election_id": ELECTION,
                "id": bid,
                "voter_id": voter,
                "station_id": "st-1",
                "code": entry.code,
                "state": state,
                "content_hash": hashlib.sha256(canonical_json(doc)).hexdigest(),
                "payload": None,
                "board_position": entry.position,
                "received_at": AT,
                "device_id": device,
                "sequence": n,
                "superseded_by": None,
            }
        )
        return ballot

    cast("st-1-kiosk", 0, "a", "v0", "cast")
    cast("st-1-kiosk", 1, "b", "v1", "challenged")
    cast("st-1-kiosk", 2, "b", "v1", "cast")
    first = cast("st-1-remote", 0, "a", "v6", "cast", remote=True)
    ballots[-1].update(state="superseded", superseded_by="st-1-remote-000001")
    board.append(
        "superseded",
        superseded_payload("st-1-remote-000000", first.code.hex(), "st-1-remote-000001"),
        code=first.code.hex(),
    )
    cast("st-1-remote", 1, "against-all", "v6", "cast", remote=True)
    board.append("note", {"audit": 1}, code="audit")
    board.close()
    devices = [
        {
            "election_id": ELECTION,
            "id": d,
            "station_id": "st-1",
            "last_code": c.last_code.hex(),
            "count": c.count,
            "closing_code": None,
            "channel": "remote" if d.endswith("remote") else "booth",
        }
        for d, c in chains.items()
    ]
    cps = [
        {"election_id": ELECTION, "position": cp.position, "final": cp.final, "body": cp.to_dict()}
        for cp in board.store.checkpoints()
    ]
    return Old(list(board.store.entries()), cps, ballots, devices)


def _t(name: str, *columns: str, json_body: bool = False) -> sa.TableClause:
    types: dict[str, Any] = {
        "payload": sa.JSON(none_as_null=True),
        "body": sa.LargeBinary(),
        "final": sa.Boolean(),
        "manifest": sa.JSON(),
        "position": sa.BigInteger(),
        "count": sa.Integer(),
        "received_at": sa.DateTime(timezone=True),
        "board_position": sa.BigInteger(),
        "sequence": sa.Integer(),
        "guardians": sa.Integer(),
        "quorum": sa.Integer(),
        "remote_revoting": sa.Boolean(),
        "closed": sa.Boolean(),
        "created_at": sa.DateTime(timezone=True),
        "voting_age": sa.Integer(),
    }
    if json_body:
        types["body"] = sa.JSON()
    return sa.table(name, *(sa.column(c, types.get(c, sa.String())) for c in columns))


def _write_0009(conn: sa.Connection, old: Old) -> None:
    """The rows 0009's ``SqlBoardStore`` and cast writer stored: version-1 bodies, hex, every column."""
    conn.execute(
        sa.insert(
            _t(
                "elections",
                "id",
                "name",
                "phase",
                "manifest",
                "guardians",
                "quorum",
                "base_hash",
                "remote_revoting",
                "voting_age",
                "created_at",
            )
        ),
        [
            {
                "id": ELECTION,
                "name": "E",
                "phase": "closed",
                "manifest": {},
                "guardians": 3,
                "quorum": 2,
                "base_hash": BASE.hex(),
                "remote_revoting": True,
                "voting_age": 18,
                "created_at": AT,
            }
        ],
    )
    rows = []
    for e in old.entries:
        body = ballot_codec.encode(e.payload)
        rows.append(
            {
                "election_id": ELECTION,
                "position": e.position,
                "time": e.time,
                "kind": e.kind,
                "code": e.code,
                "payload": e.payload if body is None else None,
                "payload_hash": e.payload_hash,
                "prev_hash": e.prev_hash,
                "entry_hash": e.entry_hash,
                "body": body,
            }
        )
    conn.execute(sa.insert(_t("board_entries", *rows[0])), rows)
    conn.execute(sa.insert(_t("board_checkpoints", *old.checkpoints[0], json_body=True)), old.checkpoints)
    conn.execute(
        sa.insert(_t("board_heads", "election_id", "position", "entry_hash", "closed")),
        [
            {
                "election_id": ELECTION,
                "position": old.entries[-1].position,
                "entry_hash": old.entries[-1].entry_hash,
                "closed": True,
            }
        ],
    )
    conn.execute(sa.insert(_t("ballots", *old.ballots[0])), old.ballots)
    conn.execute(sa.insert(_t("devices", *old.devices[0])), old.devices)


_OLD_COLUMNS = {
    "board_entries": "election_id, position, time, kind, code, payload, payload_hash, prev_hash, entry_hash, "
    "body",
    "ballots": "election_id, id, voter_id, station_id, code, state, content_hash, payload, board_position, "
    "received_at, device_id, sequence, superseded_by",
}


def _snapshot(conn: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every 0009 row of the two tables, in key order, as the database returns it."""

    def norm(v: Any) -> Any:
        return bytes(v) if isinstance(v, memoryview) else v

    return {
        t: [
            tuple(norm(v) for v in r)
            for r in conn.execute(
                text(f"SELECT {cols} FROM {t} ORDER BY " + ("position" if t == "board_entries" else "id"))
            )
        ]
        for t, cols in _OLD_COLUMNS.items()
    }


def _migrate(engine: sa.Engine, revision: str, down: bool = False) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _old_database(database: Any) -> sa.Engine:
    engine = make_engine(database.url, database.schema)
    upgrade(engine, "0009")
    with engine.begin() as conn:
        _write_0009(conn, _election())
    return engine


def test_0009_rows_read_back_the_same_board_and_ballots_and_go_back_down_unchanged(database: Any) -> None:
    old = _election()
    engine = _old_database(database)
    with engine.connect() as conn:
        before = _snapshot(conn)
    upgrade(engine)
    with make_sessionmaker(engine)() as s:
        assert list(SqlBoardStore(s, ELECTION).entries()) == old.entries  # every field, every payload
        assert [e.entry_hash for e in SqlBoardStore(s, ELECTION).by_code(old.ballots[3]["code"])] == [
            old.entries[4].entry_hash,
            old.entries[5].entry_hash,
        ]  # the superseded ballot and its entry
        rows = {b.id: b for b in s.scalars(sa.select(Ballot))}
        for b in old.ballots:
            row = rows[b["id"]]
            assert (row.code, row.state, row.voter_id, row.board_position, row.sequence) == (
                b["code"],
                b["state"],
                b["voter_id"],
                b["board_position"],
                b["sequence"],
            )
            assert row.remote == (b["device_id"] == "st-1-remote")
        check = check_election(s, ELECTION, _SIGNER.public_key_hex, EVERY)
        assert (check.entries, check.ballots, check.devices) == (len(old.entries), 5, 2)
    with engine.connect() as conn:
        body = conn.execute(text("SELECT body FROM board_entries WHERE position = 1")).scalar_one()
        assert bytes(body)[0] == 2  # version 2
    _migrate(engine, "0009", down=True)
    with engine.connect() as conn:
        assert _snapshot(conn) == before
    engine.dispose()


def _tamper(sql: str) -> Any:
    return lambda conn: conn.execute(text(sql))


TAMPERS = {
    "a previous hash that is not the entry hash before": (
        _tamper("UPDATE board_entries SET prev_hash = entry_hash WHERE position = 2"),
        "table board_entries, election e1, position 2: prev_hash",
    ),
    "a content hash that is not the ballot's": (
        _tamper(
            "UPDATE ballots SET content_hash = '00' || substr(content_hash, 3) WHERE id = 'st-1-kiosk-000000'"
        ),
        "ballot st-1-kiosk-000000 (board position 1): content hash",
    ),
    "a station other than the entry's": (
        _tamper("UPDATE ballots SET station_id = 'st-2' WHERE id = 'st-1-kiosk-000002'"),
        "ballot st-1-kiosk-000002 (board position 3): device or station",
    ),
    "a sequence its id does not name": (
        _tamper("UPDATE ballots SET sequence = 7 WHERE id = 'st-1-kiosk-000002'"),
        "ballot st-1-kiosk-000002 (board position 3): sequence 7",
    ),
    "a successor the board does not name": (
        _tamper("UPDATE ballots SET superseded_by = 'x' WHERE id = 'st-1-remote-000000'"),
        "ballot st-1-remote-000000 (board position 4): superseded_by",
    ),
    "a ballot row with no ballot entry": (
        _tamper("UPDATE ballots SET board_position = 0 WHERE id = 'st-1-kiosk-000000'"),
        "ballot st-1-kiosk-000000 (board position 0): no ballot entry",
    ),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_a_row_that_does_not_derive_stops_the_migration_and_changes_nothing(
    database: Any, tamper: str
) -> None:
    from saylau.store.backup import schema_revision

    change, message = TAMPERS[tamper]
    engine = _old_database(database)
    with engine.begin() as conn:
        change(conn)
    with engine.connect() as conn:
        before = _snapshot(conn)
    with pytest.raises(RuntimeError) as caught:
        upgrade(engine)
    assert type(caught.value).__name__ == "MigrationError" and message in str(caught.value), caught.value
    with engine.connect() as conn:
        assert schema_revision(conn) == "0009" and _snapshot(conn) == before
    engine.dispose()


def test_a_backup_of_a_0009_database_restores_and_is_migrated(database: Any, tmp_path: Any) -> None:
    """An archive of an 0009 database (its own columns: hex, version-1 bodies) restores into an empty
    SQLite database, which is then migrated: the same board, and it checks."""
    from saylau.store.backup import restore_database, write_backup

    old = _election()
    engine = _old_database(database)
    archive = tmp_path / "e1.tar.gz"
    manifest = write_backup(engine, archive)
    assert manifest.schema_revision == "0009"
    ballots = next(t for t in manifest.tables if t.name == "ballots")
    assert "content_hash" in ballots.columns and ballots.rows == len(old.ballots)
    target = make_engine(f"sqlite:///{tmp_path / 'restored.db'}")
    restore_database(archive, target)
    with make_sessionmaker(target)() as s:
        assert list(SqlBoardStore(s, ELECTION).entries()) == old.entries
        check = check_election(s, ELECTION, _SIGNER.public_key_hex, EVERY)
        assert check.ballots == len(old.ballots)
    target.dispose()
    engine.dispose()
