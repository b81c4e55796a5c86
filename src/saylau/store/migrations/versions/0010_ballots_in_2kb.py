"""A ballot in under 2 KB: binary hashes, compact entries naming a shared context, no derivable column.

``board_entries``: a ballot or challenge entry's body becomes version 2 of the compact form
(``store/entry_codec.py``): its device, station, style and selection ids are a row of the new
``ballot_contexts`` table, named by digest; its tracking code is derived from the ballot; its time is
in the body (``time`` and ``code`` are then NULL); the payload and entry hashes are 32 bytes, not 64 hex
digits; ``prev_hash`` goes (it is the entry hash of the entry before). ``ix_board_entries_code`` holds
only the entries with a code of their own (a ballot's is ``ballots.code``).

``ballots``: ``code`` is 32 bytes; ``content_hash``, ``payload`` (NULL since 0009), ``station_id``,
``device_id`` (both in the ballot's board entry), ``sequence`` (the number the ballot id ends with:
``check_position``) and ``superseded_by`` (in the board's ``superseded`` entry) go; ``remote`` is new
(the device's channel), so that ``ix_ballots_voter`` holds the remote ballots only, the only ones looked
up by voter. Columns are reordered so that a PostgreSQL row packs without padding; on SQLite the table is
``WITHOUT ROWID`` (its rows are the primary key's b-tree: no rowid, no second copy of the key).

Both tables are rebuilt (created anew, filled, renamed). A column is dropped only if its values are what
the others give: a row that does not derive (a previous hash that is not the entry hash before it, a
content hash that is not the ballot's, …) stops the migration with its table, election and position,
and nothing changes. The downgrade rebuilds the 0009 tables from these.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from saylau.board.chain import genesis_hash
from saylau.board.hashing import canonical_json
from saylau.store import ballot_codec
from saylau.store.ballot_documents import ballot_document
from saylau.store.board_rows import row_fields, stored_columns
from saylau.store.entry_codec import Context
from saylau.store.models import id_sequence

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_PAGE = 1000
_OLD, _NEW = "_0009", "_0010"


def _board_columns_0009() -> list[Any]:
    return [
        sa.Column("election_id", sa.String(64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("time", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("code", sa.String(128), nullable=True),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
    ]


def _board_columns_0010() -> list[Any]:
    return [
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("election_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("time", sa.String(40), nullable=True),
        sa.Column("code", sa.String(128), nullable=True),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("payload_hash", sa.LargeBinary(), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(), nullable=False),
    ]


def _ballot_columns_0009() -> list[Any]:
    return [
        sa.Column("election_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("voter_id", sa.String(64), nullable=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("code", sa.String(128), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("board_position", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("superseded_by", sa.String(100), nullable=True),
    ]


def _ballot_columns_0010() -> list[Any]:
    return [
        sa.Column("board_position", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remote", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("election_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("voter_id", sa.String(64), nullable=True),
        sa.Column("code", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
    ]


def _table(name: str, columns: list[Any]) -> sa.Table:
    """A table to read and write rows of (no constraints: the database has them)."""
    return sa.Table(name, sa.MetaData(), *columns)


def _create_board(name: str, columns: Callable[[], list[Any]], suffix: str) -> sa.Table:
    """Create a board table under ``name`` whose constraints carry ``suffix`` until it is renamed."""
    op.create_table(
        name,
        *columns(),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name="fk_board_entries_election_id_elections"
        ),
        sa.PrimaryKeyConstraint("election_id", "position", name="pk_board_entries" + suffix),
    )
    return _table(name, columns())


def _create_ballots(
    name: str, columns: Callable[[], list[Any]], suffix: str, with_rowid: bool = True
) -> sa.Table:
    """Create a ballots table under ``name`` whose constraints carry ``suffix`` until it is renamed."""
    op.create_table(
        name,
        *columns(),
        sa.ForeignKeyConstraint(["election_id"], ["elections.id"], name="fk_ballots_election_id_elections"),
        sa.PrimaryKeyConstraint("election_id", "id", name="pk_ballots" + suffix),
        sa.UniqueConstraint("election_id", "code", name="uq_ballots_code" + suffix),
        sqlite_with_rowid=with_rowid,
    )
    return _table(name, columns())


_contexts = sa.table(
    "ballot_contexts", sa.column("digest", sa.LargeBinary()), sa.column("context", sa.LargeBinary())
)
_devices = sa.table(
    "devices",
    sa.column("election_id", sa.String()),
    sa.column("id", sa.String()),
    sa.column("channel", sa.String()),
)


class MigrationError(RuntimeError):
    """A row whose dropped columns are not what the other columns give (nothing is changed)."""


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _hex_bytes(value: str, where: str) -> bytes:
    if not (isinstance(value, str) and len(value) == 64 and value == value.lower()):
        raise MigrationError(f"{where}: {value!r:.80} is not 64 lowercase hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise MigrationError(f"{where}: {value!r:.80} is not 64 lowercase hex digits") from None


def _pages(table: sa.Table, keys: tuple[str, str]) -> Iterator[list[Any]]:
    """Every row of ``table`` in key order, a page at a time (keyset paging)."""
    conn = op.get_bind()
    a, b = table.c[keys[0]], table.c[keys[1]]
    last: tuple[Any, Any] | None = None
    while True:
        q = sa.select(table).order_by(a, b).limit(_PAGE)
        if last is not None:
            q = q.where(sa.tuple_(a, b) > sa.tuple_(*last))
        rows = list(conn.execute(q).all())
        if rows:
            yield rows
        if len(rows) < _PAGE:
            return
        last = (getattr(rows[-1], keys[0]), getattr(rows[-1], keys[1]))


def _doc_and_inner(kind: str, payload: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    doc = ballot_document(kind, payload)
    inner = doc.get("ballot") if doc is not None and "ballot_nonce" in doc else doc
    return doc, inner if isinstance(inner, dict) else None


def _entries_at(table: sa.Table, election_id: str, positions: list[int]) -> dict[int, Any]:
    rows = op.get_bind().execute(
        sa.select(table).where(table.c.election_id == election_id, table.c.position.in_(positions))
    )
    return {int(r.position): r for r in rows}


def _superseded_by(table: sa.Table, election_id: str, ballot_id: str, code: str) -> str | None:
    """The ballot the board's ``superseded`` entry for this ballot names (``None``: no such entry)."""
    rows = op.get_bind().execute(
        sa.select(table.c.payload).where(
            table.c.election_id == election_id, table.c.code == code, table.c.kind == "superseded"
        )
    )
    for (payload,) in rows:
        p = _json(payload)
        if isinstance(p, dict) and p.get("ballot_id") == ballot_id and isinstance(p.get("by"), str):
            return str(p["by"])
    return None


def _swap(old: str, new: str, constraints: dict[str, str]) -> None:
    """Drop table ``old``, rename ``new`` to it, and its constraints from their temporary names."""
    op.drop_table(old)
    op.rename_table(new, old)
    if op.get_bind().dialect.name == "postgresql":
        for temporary, final in constraints.items():
            op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT {temporary} TO {final}")


# -- upgrade ----------------------------------------------------------------------------------------------


def _upgrade_board(old: sa.Table, new: sa.Table, contexts: dict[bytes, bytes]) -> None:
    conn = op.get_bind()

    def put(ctx: Context) -> bool:
        digest, raw = ctx.digest(), ctx.to_bytes()
        return contexts.setdefault(digest, raw) == raw

    prev: dict[str, str] = {}
    for rows in _pages(old, ("election_id", "position")):
        out = []
        for r in rows:
            where = f"table board_entries, election {r.election_id}, position {r.position}"
            expected = (
                prev.get(r.election_id, genesis_hash(r.election_id))
                if r.position
                else genesis_hash(r.election_id)
            )
            if r.prev_hash != expected:
                raise MigrationError(f"{where}: prev_hash is not the entry hash before it (run saylau check)")
            prev[r.election_id] = r.entry_hash
            try:
                payload = ballot_codec.decode(bytes(r.body)) if r.body is not None else _json(r.payload)
            except ValueError as exc:
                raise MigrationError(f"{where}: {exc}") from None
            if not isinstance(payload, dict):
                raise MigrationError(f"{where}: the payload is not a JSON object")
            cols = stored_columns(r.kind, r.time, r.code, payload, put)
            out.append(
                {
                    "election_id": r.election_id,
                    "position": r.position,
                    "kind": r.kind,
                    **cols,
                    "payload_hash": _hex_bytes(r.payload_hash, where),
                    "entry_hash": _hex_bytes(r.entry_hash, where),
                }
            )
        conn.execute(sa.insert(new), out)
    if contexts:
        conn.execute(sa.insert(_contexts), [{"digest": d, "context": c} for d, c in sorted(contexts.items())])


def _upgrade_ballots(old: sa.Table, new: sa.Table, board: sa.Table) -> None:
    conn = op.get_bind()
    for rows in _pages(old, ("election_id", "id")):
        out = []
        by_election: dict[str, list[int]] = {}
        for r in rows:
            by_election.setdefault(r.election_id, []).append(int(r.board_position))
        entries = {
            (e, p): row for e, ps in by_election.items() for p, row in _entries_at(board, e, ps).items()
        }
        channels = {
            (e, i): c
            for e, i, c in conn.execute(
                sa.select(_devices.c.election_id, _devices.c.id, _devices.c.channel).where(
                    _devices.c.election_id.in_(list(by_election)),
                    _devices.c.id.in_({r.device_id for r in rows if r.device_id is not None}),
                )
            )
        }
        for r in rows:
            where = (
                f"table ballots, election {r.election_id}, ballot {r.id} (board position {r.board_position})"
            )
            entry = entries.get((r.election_id, int(r.board_position)))
            payload: Any = None
            if entry is not None:
                payload = (
                    ballot_codec.decode(bytes(entry.body)) if entry.body is not None else _json(entry.payload)
                )
            doc, inner = _doc_and_inner(entry.kind if entry is not None else "", payload)
            if doc is None or inner is None or not isinstance(payload, dict):
                raise MigrationError(
                    f"{where}: no ballot entry on the board at its position (run saylau check)"
                )
            if (payload.get("device_id"), payload.get("station_id")) != (r.device_id, r.station_id):
                raise MigrationError(f"{where}: device or station differs from its board entry's")
            if hashlib.sha256(canonical_json(doc)).hexdigest() != r.content_hash:
                raise MigrationError(f"{where}: content hash is not the hash of its board entry's ballot")
            if _json(r.payload) not in (None, doc):
                raise MigrationError(f"{where}: payload differs from its board entry's ballot")
            if r.sequence is None or id_sequence(r.id) != r.sequence:
                raise MigrationError(f"{where}: sequence {r.sequence} is not the number its id ends with")
            succ = _superseded_by(board, r.election_id, r.id, r.code) if r.state == "superseded" else None
            if succ != r.superseded_by:
                raise MigrationError(f"{where}: superseded_by is not what the board's superseded entry names")
            out.append(
                {
                    "board_position": r.board_position,
                    "received_at": r.received_at,
                    "remote": channels.get((r.election_id, r.device_id)) == "remote",
                    "election_id": r.election_id,
                    "id": r.id,
                    "voter_id": r.voter_id,
                    "code": _hex_bytes(r.code, where),
                    "state": r.state,
                }
            )
        conn.execute(sa.insert(new), out)


def _indexes_0010() -> None:
    op.create_index(
        "ix_board_entries_code",
        "board_entries",
        ["election_id", "code"],
        sqlite_where=sa.text("code IS NOT NULL"),
        postgresql_where=sa.text("code IS NOT NULL"),
    )
    op.create_index(
        "ix_ballots_voter",
        "ballots",
        ["election_id", "voter_id"],
        sqlite_where=sa.text("remote = 1"),
        postgresql_where=sa.text("remote"),
    )


def upgrade() -> None:
    """Apply: rebuild both tables in the compact layout, checking each dropped value on the way."""
    op.create_table(
        "ballot_contexts",
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("context", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_ballot_contexts"),
        sqlite_with_rowid=False,
    )
    old_board = _table("board_entries", _board_columns_0009())
    old_ballots = _table("ballots", _ballot_columns_0009())
    board = _create_board("board_entries" + _NEW, _board_columns_0010, _NEW)
    ballots = _create_ballots("ballots" + _NEW, _ballot_columns_0010, _NEW, with_rowid=False)
    _upgrade_board(old_board, board, {})
    _upgrade_ballots(old_ballots, ballots, old_board)
    op.drop_index("ix_board_entries_code", "board_entries")
    op.drop_index("ix_ballots_voter", "ballots")
    _swap("board_entries", "board_entries" + _NEW, {"pk_board_entries" + _NEW: "pk_board_entries"})
    _swap(
        "ballots",
        "ballots" + _NEW,
        {"pk_ballots" + _NEW: "pk_ballots", "uq_ballots_code" + _NEW: "uq_ballots_code"},
    )
    if op.get_bind().dialect.name == "postgresql":  # positions only grow: fill each index page whole
        op.execute("ALTER INDEX pk_board_entries SET (fillfactor = 100)")
    _indexes_0010()


# -- downgrade --------------------------------------------------------------------------------------------


def _context_reader() -> Callable[[bytes], Context]:
    known: dict[bytes, Context] = {}

    def get(digest: bytes) -> Context:
        if digest not in known:
            raw = (
                op.get_bind()
                .execute(sa.select(_contexts.c.context).where(_contexts.c.digest == digest))
                .scalar()
            )
            if raw is None:
                raise ValueError(f"ballot context {digest.hex()}: not in table ballot_contexts")
            known[digest] = Context.from_bytes(bytes(raw))
        return known[digest]

    return get


def _fields(r: Any, get: Callable[[bytes], Context]) -> tuple[str, str | None, dict[str, Any]]:
    try:
        return row_fields(r.time, r.code, _json(r.payload), None if r.body is None else bytes(r.body), get)
    except ValueError as exc:
        raise MigrationError(
            f"table board_entries, election {r.election_id}, position {r.position}: {exc}"
        ) from None


def _downgrade_board(new: sa.Table, old: sa.Table, get: Callable[[bytes], Context]) -> None:
    conn = op.get_bind()
    prev: dict[str, str] = {}
    for rows in _pages(new, ("election_id", "position")):
        out = []
        for r in rows:
            time, code, payload = _fields(r, get)
            body = ballot_codec.encode(payload)
            entry_hash = bytes(r.entry_hash).hex()
            out.append(
                {
                    "election_id": r.election_id,
                    "position": r.position,
                    "time": time,
                    "kind": r.kind,
                    "code": code,
                    "payload": payload if body is None else None,
                    "payload_hash": bytes(r.payload_hash).hex(),
                    "prev_hash": prev.get(r.election_id, genesis_hash(r.election_id))
                    if r.position
                    else genesis_hash(r.election_id),
                    "entry_hash": entry_hash,
                    "body": body,
                }
            )
            prev[r.election_id] = entry_hash
        conn.execute(sa.insert(old), out)


def _downgrade_ballots(
    new: sa.Table, old: sa.Table, board: sa.Table, get: Callable[[bytes], Context]
) -> None:
    conn = op.get_bind()
    for rows in _pages(new, ("election_id", "id")):
        out = []
        by_election: dict[str, list[int]] = {}
        for r in rows:
            by_election.setdefault(r.election_id, []).append(int(r.board_position))
        entries = {
            (e, p): row for e, ps in by_election.items() for p, row in _entries_at(board, e, ps).items()
        }
        for r in rows:
            where = (
                f"table ballots, election {r.election_id}, ballot {r.id} (board position {r.board_position})"
            )
            entry = entries.get((r.election_id, int(r.board_position)))
            if entry is None:
                raise MigrationError(f"{where}: no board entry at its position (run saylau check)")
            _, _, payload = _fields(entry, get)
            doc, inner = _doc_and_inner(entry.kind, payload)
            if doc is None or inner is None:
                raise MigrationError(f"{where}: its board entry carries no ballot (run saylau check)")
            code = bytes(r.code).hex()
            out.append(
                {
                    "election_id": r.election_id,
                    "id": r.id,
                    "voter_id": r.voter_id,
                    "station_id": payload["station_id"],
                    "code": code,
                    "state": r.state,
                    "content_hash": hashlib.sha256(canonical_json(doc)).hexdigest(),
                    "payload": None,
                    "board_position": r.board_position,
                    "received_at": r.received_at,
                    "device_id": payload["device_id"],
                    "sequence": id_sequence(r.id),
                    "superseded_by": _superseded_by(board, r.election_id, r.id, code)
                    if r.state == "superseded"
                    else None,
                }
            )
        conn.execute(sa.insert(old), out)


def downgrade() -> None:
    """Revert: rebuild the 0009 tables (hex hashes, version-1 bodies, every column) from these."""
    board = _table("board_entries", _board_columns_0010())
    ballots = _table("ballots", _ballot_columns_0010())
    old_board = _create_board("board_entries" + _OLD, _board_columns_0009, _OLD)
    old_ballots = _create_ballots("ballots" + _OLD, _ballot_columns_0009, _OLD)
    get = _context_reader()
    _downgrade_board(board, old_board, get)
    _downgrade_ballots(ballots, old_ballots, board, get)
    op.drop_index("ix_board_entries_code", "board_entries")
    op.drop_index("ix_ballots_voter", "ballots")
    _swap("board_entries", "board_entries" + _OLD, {"pk_board_entries" + _OLD: "pk_board_entries"})
    _swap(
        "ballots",
        "ballots" + _OLD,
        {"pk_ballots" + _OLD: "pk_ballots", "uq_ballots_code" + _OLD: "uq_ballots_code"},
    )
    op.create_index("ix_board_entries_code", "board_entries", ["election_id", "code"])
    op.create_index("ix_ballots_voter", "ballots", ["election_id", "voter_id"])
    op.drop_table("ballot_contexts")
