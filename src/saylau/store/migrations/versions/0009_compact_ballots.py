"""Ballot and challenge entries' payloads are stored compact: ``board_entries.body`` (BLOB/BYTEA).

``store/ballot_codec.py`` turns a ballot's payload (~4 KB of JSON for 7 options) into ~1.6 KB of bytes
from which the payload is rebuilt exactly; the entry's payload hash (of the canonical JSON) is
unchanged. Every other entry keeps its JSON ``payload``; the column may now be NULL (when ``body`` holds
the payload). ``ballots.payload`` (unused since 0008) becomes SQL NULL where it held JSON ``null``. The
downgrade writes each body back as JSON.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from saylau.store import ballot_codec

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_PAGE = 1000
_entries = sa.table(
    "board_entries",
    sa.column("election_id", sa.String()),
    sa.column("position", sa.BigInteger()),
    sa.column("kind", sa.String()),
    sa.column("payload", sa.JSON(none_as_null=True)),
    sa.column("body", sa.LargeBinary()),
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _rewrite(where: Any, convert: Any) -> None:
    """Page through the rows matching ``where`` by key and update each one ``convert`` maps to values."""
    conn = op.get_bind()
    last: tuple[str, int] = ("", -1)
    while True:
        rows = conn.execute(
            sa.select(_entries.c.election_id, _entries.c.position, _entries.c.payload, _entries.c.body)
            .where(where, sa.tuple_(_entries.c.election_id, _entries.c.position) > sa.tuple_(*last))
            .order_by(_entries.c.election_id, _entries.c.position)
            .limit(_PAGE)
        ).all()
        updates = [
            {"e": e, "p": p, **values}
            for e, p, payload, body in rows
            if (values := convert(_json(payload), body)) is not None
        ]
        if updates:
            conn.execute(
                _entries.update()
                .where(_entries.c.election_id == sa.bindparam("e"), _entries.c.position == sa.bindparam("p"))
                .values(payload=sa.bindparam("new_payload"), body=sa.bindparam("new_body")),
                updates,
            )
        if len(rows) < _PAGE:
            return
        last = (rows[-1][0], rows[-1][1])


def _compact(payload: Any, body: Any) -> dict[str, Any] | None:
    compact = ballot_codec.encode(payload)
    return None if compact is None else {"new_payload": None, "new_body": compact}


def _expand(payload: Any, body: Any) -> dict[str, Any]:
    return {"new_payload": ballot_codec.decode(bytes(body)), "new_body": None}


def upgrade() -> None:
    """Apply: add ``body``, let ``payload`` be NULL, move every ballot and challenge payload to ``body``."""
    with op.batch_alter_table("board_entries") as batch:
        batch.add_column(sa.Column("body", sa.LargeBinary(), nullable=True))
        batch.alter_column("payload", existing_type=sa.JSON(), nullable=True)
    _rewrite(_entries.c.kind.in_(("ballot", "challenge")), _compact)
    op.execute(sa.text("UPDATE ballots SET payload = NULL"))  # SQL NULL, where 0008's rows held JSON null


def downgrade() -> None:
    """Revert: decode every body back to its JSON payload, then drop ``body``."""
    _rewrite(_entries.c.body.is_not(None), _expand)
    with op.batch_alter_table("board_entries") as batch:
        batch.alter_column("payload", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("body")
