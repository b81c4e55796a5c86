"""Each ballot is stored once: its board entry's payload; ``ballots.payload`` becomes NULL.

The ballot row keeps what indexes the ballot (id, voter, station, device, sequence, state, code,
content hash, board position); the ciphertexts and proofs are the board entry's payload, which the
entry hash covers (``store/ballot_documents.py``). Before: each ballot's JSON was in both tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 16:00:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_KEYS = {"ballot": "ballot", "challenge": "challenged"}


def upgrade() -> None:
    """Apply: the column may be NULL, and is, for every row (the board entries hold the ballots)."""
    with op.batch_alter_table("ballots") as batch:
        batch.alter_column("payload", existing_type=sa.JSON(), nullable=True)
    op.execute(sa.text("UPDATE ballots SET payload = NULL"))


def downgrade() -> None:
    """Revert: copy each ballot back from its board entry, then make the column NOT NULL again."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT b.election_id, b.id, e.kind, e.payload FROM ballots b JOIN board_entries e "
            "ON e.election_id = b.election_id AND e.position = b.board_position"
        )
    )
    for election_id, ballot_id, kind, payload in rows.fetchall():
        doc = (json.loads(payload) if isinstance(payload, str) else payload)[_KEYS[kind]]
        conn.execute(
            sa.text("UPDATE ballots SET payload = :p WHERE election_id = :e AND id = :i").bindparams(
                sa.bindparam("p", type_=sa.JSON())
            ),
            {"p": doc, "e": election_id, "i": ballot_id},
        )
    with op.batch_alter_table("ballots") as batch:
        batch.alter_column("payload", existing_type=sa.JSON(), nullable=False)
