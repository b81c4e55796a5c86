"""Voter-roll personal data for the pollbook, election rules, decision versions, signature checks.

The pollbook (``saylau.election.pollbook``) and the signature check need the roll's names, region and
date of birth; registration decisions become numbered versions; an election carries its voting age,
candidacy rules and the registered-voter count at nomination.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("voters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("last_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("first_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("patronymic", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("transfer_issued_on", sa.Date(), nullable=True))
    with op.batch_alter_table("elections", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("voting_age", sa.Integer(), nullable=False, server_default="18"))
        batch_op.add_column(sa.Column("candidacy_rules", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("registered_at_nomination", sa.Integer(), nullable=True))
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_unique_constraint("uq_decisions_version", ["application_id", "version"])
    op.create_table(
        "signature_checks",
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("valid_per_region", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("checked_by", sa.String(length=64), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_signature_checks_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_signature_checks")),
    )


def downgrade() -> None:
    """Revert."""
    op.drop_table("signature_checks")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_decisions_version", type_="unique")
        batch_op.drop_column("version")
    # elections is referenced by every table: never copy-and-move it (SQLite >= 3.35 drops columns in place)
    with op.batch_alter_table("elections", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("registered_at_nomination")
        batch_op.drop_column("candidacy_rules")
        batch_op.drop_column("voting_age")
    with op.batch_alter_table("voters", schema=None) as batch_op:
        batch_op.drop_column("transfer_issued_on")
        batch_op.drop_column("patronymic")
        batch_op.drop_column("first_name")
        batch_op.drop_column("last_name")
        batch_op.drop_column("region")
