"""Device chains, ballot chain positions, revote links, station keys, pollbook credentials, poll designs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "devices",
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("last_code", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("closing_code", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_devices_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("election_id", "id", name=op.f("pk_devices")),
    )
    op.create_table(
        "exit_poll_designs",
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("pollster", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_exit_poll_designs_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("election_id", "pollster", name=op.f("pk_exit_poll_designs")),
    )
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("superseded_by", sa.String(length=100), nullable=True))
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_key", sa.String(length=64), nullable=True))
    with op.batch_alter_table("voters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("date_of_birth", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("transfer_to", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("certificate_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credential_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("redeemed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_unique_constraint("uq_checkins_credential", ["credential_hash"])


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_constraint("uq_checkins_credential", type_="unique")
        batch_op.drop_column("redeemed")
        batch_op.drop_column("credential_hash")
    with op.batch_alter_table("voters", schema=None) as batch_op:
        batch_op.drop_column("certificate_id")
        batch_op.drop_column("transfer_to")
        batch_op.drop_column("date_of_birth")
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_column("public_key")
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_column("superseded_by")
        batch_op.drop_column("sequence")
        batch_op.drop_column("device_id")
    op.drop_table("exit_poll_designs")
    op.drop_table("devices")
