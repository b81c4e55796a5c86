"""Initial schema: every table of the saylau server.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 10:26:29.044373
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "elections",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("guardians", sa.Integer(), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("base_hash", sa.String(length=64), nullable=False),
        sa.Column("joint_key", sa.JSON(), nullable=True),
        sa.Column("tally", sa.JSON(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("remote_revoting", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_elections")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("election_id", sa.String(length=64), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("checkpoint", sa.JSON(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_election_id"), ["election_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_state"), ["state"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("election_id", sa.String(length=64), nullable=True),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("guardian_index", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("applicant", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_applications_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_election_id"), ["election_id"], unique=False)

    op.create_table(
        "ballots",
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("voter_id", sa.String(length=64), nullable=True),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("board_position", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_ballots_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("election_id", "id", name=op.f("pk_ballots")),
        sa.UniqueConstraint("election_id", "code", name="uq_ballots_code"),
    )
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.create_index("ix_ballots_voter", ["election_id", "voter_id"], unique=False)

    op.create_table(
        "board_checkpoints",
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_board_checkpoints_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("election_id", "position", "final", name=op.f("pk_board_checkpoints")),
    )
    op.create_table(
        "board_entries",
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("time", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_board_entries_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("election_id", "position", name=op.f("pk_board_entries")),
    )
    with op.batch_alter_table("board_entries", schema=None) as batch_op:
        batch_op.create_index("ix_board_entries_code", ["election_id", "code"], unique=False)

    op.create_table(
        "board_heads",
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_board_heads_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("election_id", name=op.f("pk_board_heads")),
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("voter_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_checkins_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint("election_id", "voter_id", name="uq_checkins_voter"),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkins_station_id"), ["station_id"], unique=False)

    op.create_table(
        "exit_poll_interviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("pollster", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.String(length=64), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_exit_poll_interviews_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exit_poll_interviews")),
    )
    with op.batch_alter_table("exit_poll_interviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exit_poll_interviews_election_id"), ["election_id"], unique=False
        )

    op.create_table(
        "guardian_shares",
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.Integer(), nullable=False),
        sa.Column("share", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_guardian_shares_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("election_id", "sender", "recipient", name=op.f("pk_guardian_shares")),
    )
    op.create_table(
        "guardians",
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("record", sa.JSON(), nullable=True),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_guardians_election_id_elections")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_guardians_user_id_users")),
        sa.PrimaryKeyConstraint("election_id", "index", name=op.f("pk_guardians")),
    )
    op.create_table(
        "partial_decryptions",
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_partial_decryptions_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("election_id", "index", name=op.f("pk_partial_decryptions")),
    )
    op.create_table(
        "protocols",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_protocols_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocols")),
        sa.UniqueConstraint("election_id", "station_id", "version", name="uq_protocols_version"),
    )
    op.create_table(
        "stations",
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_stations_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("election_id", "id", name=op.f("pk_stations")),
    )
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("election_id", sa.String(length=64), nullable=True),
        sa.Column("voter_id", sa.String(length=64), nullable=True),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_tokens")),
    )
    op.create_table(
        "turnout",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("voted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_turnout_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_turnout")),
    )
    with op.batch_alter_table("turnout", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_turnout_election_id"), ["election_id"], unique=False)

    op.create_table(
        "voters",
        sa.Column("election_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("remote", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name=op.f("fk_voters_election_id_elections")
        ),
        sa.PrimaryKeyConstraint("election_id", "id", name=op.f("pk_voters")),
    )
    with op.batch_alter_table("voters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voters_station_id"), ["station_id"], unique=False)

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"], name=op.f("fk_decisions_application_id_applications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_application_id"), ["application_id"], unique=False)


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_application_id"))

    op.drop_table("decisions")
    with op.batch_alter_table("voters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voters_station_id"))

    op.drop_table("voters")
    with op.batch_alter_table("turnout", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_turnout_election_id"))

    op.drop_table("turnout")
    op.drop_table("tokens")
    op.drop_table("stations")
    op.drop_table("protocols")
    op.drop_table("partial_decryptions")
    op.drop_table("guardians")
    op.drop_table("guardian_shares")
    with op.batch_alter_table("exit_poll_interviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exit_poll_interviews_election_id"))

    op.drop_table("exit_poll_interviews")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkins_station_id"))

    op.drop_table("checkins")
    op.drop_table("board_heads")
    with op.batch_alter_table("board_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_board_entries_code")

    op.drop_table("board_entries")
    op.drop_table("board_checkpoints")
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_index("ix_ballots_voter")

    op.drop_table("ballots")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_election_id"))

    op.drop_table("applications")
    op.drop_table("users")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_state"))
        batch_op.drop_index(batch_op.f("ix_jobs_election_id"))

    op.drop_table("jobs")
    op.drop_table("idempotency_keys")
    op.drop_table("elections")
