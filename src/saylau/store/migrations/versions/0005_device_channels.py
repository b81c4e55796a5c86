"""Devices say which channel they serve: a station's booth or the server's remote channel.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=16), nullable=False, server_default="booth"))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("channel")
