"""Voter-roll files queued for a background import (personal data, deleted once imported or refused).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "roll_uploads",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_roll_uploads_job_id_jobs")),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_roll_uploads_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_roll_uploads")),
    )


def downgrade() -> None:
    """Revert."""
    op.drop_table("roll_uploads")
