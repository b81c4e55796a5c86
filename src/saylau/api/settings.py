"""Server settings, read from the environment (``SAYLAU_*``) or given directly in tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from saylau.store.engine import database_url

__all__ = ["Settings", "revote_key_path"]


@dataclass(frozen=True)
class Settings:
    """Everything ``create_app`` needs.

    ``verify_processes`` worker processes check ballot proofs (``0``: threads in this process, for
    tests); ``commit_batch`` bounds how many writes share one commit, and the writer waits up to
    ``commit_linger_ms`` for writes announced as on their way (``GroupCommitter``); ``roll_batch``
    voters are stored per commit (and checkpoint) of a background roll import. The argon2 costs
    default to argon2-cffi's production parameters; only tests lower them. ``revote_key_file`` holds
    the revote service's secret ``k_R`` (created once, mode 0600), kept like the board key: never in
    the record, the board, logs or the database; unset, it is ``$SAYLAU_REVOTE_KEY`` or
    ``saylau-revote.key`` beside the board key (``revote_key_path``).
    """

    database_url: str = field(default_factory=database_url)
    db_schema: str | None = None
    board_key_file: Path = field(
        default_factory=lambda: Path(os.environ.get("SAYLAU_BOARD_KEY", "saylau-board.pem"))
    )
    revote_key_file: Path | None = None
    checkpoint_every: int = 1000
    token_ttl: timedelta = timedelta(hours=12)
    voter_token_ttl: timedelta = timedelta(hours=2)
    job_workers: int = 2
    job_poll_seconds: float = 0.2
    job_stall_after: timedelta = timedelta(seconds=60)
    roll_batch: int = 5000
    migrate: bool = True
    pool_size: int = 10
    commit_batch: int = 256
    commit_linger_ms: float = 2.0
    verify_processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4

    @property
    def revote_key_path(self) -> Path:
        """Where the revote key lives: as given, else ``$SAYLAU_REVOTE_KEY``, else beside the board key."""
        return revote_key_path(self.revote_key_file, self.board_key_file)


def revote_key_path(given: Path | None, board_key_file: Path) -> Path:
    """The revote key file: ``given``, else ``$SAYLAU_REVOTE_KEY``, else beside the board key file."""
    if given is not None:
        return given
    env = os.environ.get("SAYLAU_REVOTE_KEY")
    return Path(env) if env else board_key_file.parent / "saylau-revote.key"
