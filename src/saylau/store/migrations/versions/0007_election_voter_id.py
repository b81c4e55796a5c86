"""Elections name their voter identifier (issue 11: the country as data).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply (a plain ADD COLUMN: SQLite's batch mode would rebuild the table other tables refer to)."""
    op.add_column("elections", sa.Column("voter_id", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert (ALTER TABLE … DROP COLUMN: SQLite 3.35 and later, PostgreSQL)."""
    op.execute("ALTER TABLE elections DROP COLUMN voter_id")
