"""Each election keeps its result rules (``ElectoralRules``), given when it is defined from its scenario.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("elections", schema=None, recreate="never") as batch:
        batch.add_column(sa.Column("electoral_rules", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("elections", schema=None, recreate="never") as batch:
        batch.drop_column("electoral_rules")
