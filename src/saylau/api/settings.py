"""Server settings, read from the environment (``SAYLAU_*``) or given directly in tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from saylau.store.engine import database_url

__all__ = ["Settings", "default_data_dir", "revote_key_path"]

BOARD_KEY_NAME = "saylau-board.pem"
REVOTE_KEY_NAME = "saylau-revote.key"
PSEUDONYM_KEY_NAME = "saylau-pseudonym.key"


def default_data_dir() -> Path:
    """``$SAYLAU_DATA_DIR``, else ``$XDG_DATA_HOME/saylau``, else ``~/.local/share/saylau``."""
    given = os.environ.get("SAYLAU_DATA_DIR")
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "saylau"


@dataclass(frozen=True)
class Settings:
    """Everything ``create_app`` needs.

    ``verify_processes`` worker processes check ballot proofs (``0``: threads in this process, for
    tests); ``commit_batch`` bounds how many writes share one commit, and the writer waits up to
    ``commit_linger_ms`` for writes announced as on their way (``GroupCommitter``); ``roll_batch``
    voters are stored per commit (and checkpoint) of a background roll import. The argon2 costs
    default to argon2-cffi's production parameters; only tests lower them.

    The server's secret key files live in ``data_dir`` (created with mode 0700; a key file that group
    or others may read is refused): the board's signing key (``board_key_file``, else
    ``$SAYLAU_BOARD_KEY``, else ``saylau-board.pem`` in ``data_dir``), and beside it the revote
    service's secret ``k_R`` (``saylau-revote.key``) and the voter-pseudonym key
    (``saylau-pseudonym.key``), each created once (mode 0600) and kept across restarts, never in the
    record, the board, logs or the database.

    ``max_roll_bytes`` and ``max_sheet_bytes`` bound a voter-roll and a signature-sheet upload (other
    routes' limits: ``saylau.api.limits``); ``login_*`` set the failed-login throttle
    (``saylau.api.logins``).

    Admission control (``saylau.api.overload``): at most ``max_cast_requests`` cast requests are in the
    server at once and at most ``max_verify_queue`` ballots wait for proof verification; past either,
    a request is refused with 503 and ``Retry-After: overload_retry_after`` (``0`` turns a bound off).
    The defaults keep the queue under about a second of verification work on two cores.
    """

    database_url: str = field(default_factory=database_url)
    db_schema: str | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    board_key_file: Path | None = None
    revote_key_file: Path | None = None
    pseudonym_key_file: Path | None = None
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
    max_roll_bytes: int = 256 * 1024 * 1024
    max_sheet_bytes: int = 64 * 1024 * 1024
    login_account_failures: int = 10
    login_address_failures: int = 50
    login_window: timedelta = timedelta(minutes=15)
    max_cast_requests: int = 256
    max_verify_queue: int = 2048
    overload_retry_after: int = 1

    @property
    def board_key_path(self) -> Path:
        """The board key: as given, else ``$SAYLAU_BOARD_KEY``, else in the data directory."""
        if self.board_key_file is not None:
            return self.board_key_file
        env = os.environ.get("SAYLAU_BOARD_KEY")
        return Path(env) if env else self.data_dir / BOARD_KEY_NAME

    @property
    def revote_key_path(self) -> Path:
        """Where the revote key lives: as given, else ``$SAYLAU_REVOTE_KEY``, else beside the board key."""
        return revote_key_path(self.revote_key_file, self.board_key_path)

    @property
    def pseudonym_key_path(self) -> Path:
        """The voter-pseudonym key: as given, else ``$SAYLAU_PSEUDONYM_KEY``, else beside the board key."""
        if self.pseudonym_key_file is not None:
            return self.pseudonym_key_file
        env = os.environ.get("SAYLAU_PSEUDONYM_KEY")
        return Path(env) if env else self.board_key_path.parent / PSEUDONYM_KEY_NAME


def revote_key_path(given: Path | None, board_key_file: Path) -> Path:
    """The revote key file: ``given``, else ``$SAYLAU_REVOTE_KEY``, else beside the board key file."""
    if given is not None:
        return given
    env = os.environ.get("SAYLAU_REVOTE_KEY")
    return Path(env) if env else board_key_file.parent / REVOTE_KEY_NAME
