"""Server settings, read from the environment (``SAYLAU_*``) or given directly in tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from saylau.store.engine import database_url

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Everything ``create_app`` needs."""

    database_url: str = field(default_factory=database_url)
    db_schema: str | None = None
    board_key_file: Path = field(
        default_factory=lambda: Path(os.environ.get("SAYLAU_BOARD_KEY", "saylau-board.pem"))
    )
    checkpoint_every: int = 1000
    token_ttl: timedelta = timedelta(hours=12)
    voter_token_ttl: timedelta = timedelta(hours=2)
    job_workers: int = 2
    job_poll_seconds: float = 0.2
    job_stall_after: timedelta = timedelta(seconds=60)
    migrate: bool = True
    pool_size: int = 10
