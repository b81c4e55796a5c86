"""What one running application holds: engine, sessions, board signer, writer, verifiers, settings."""

from __future__ import annotations

import os
import secrets
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from saylau.api.committer import GroupCommitter, GroupWrite
from saylau.api.logins import LoginLimiter
from saylau.api.settings import Settings
from saylau.api.token_lookup import TokenLookups
from saylau.api.verify_pool import VerifyPool, params_for
from saylau.board import BoardEntry, BoardSigner, BulletinBoard, Clock, system_clock
from saylau.crypto import ElectionParameters
from saylau.errors import ElectionStateError, SaylauError
from saylau.store.accounts import DEFAULT_HASHER, TokenCache
from saylau.store.board_store import SqlBoardStore
from saylau.store.models import Election
from saylau.voting.revote import RevoteSlots

__all__ = [
    "AppState",
    "check_private_file",
    "load_board_signer",
    "load_pseudonym_key",
    "load_revote_key",
    "private_parent",
]

REVOTE_KEY_BYTES = 32


def _no_cast_writer(session: Session, items: list[Any]) -> list[Any]:
    """The cast writer's place until ``create_app`` installs ``cast_batch.CastWriter``."""
    raise RuntimeError("no cast writer installed (saylau.api.app.create_app installs it)")


def private_parent(path: Path) -> None:
    """Create the directory of a key file if missing, with mode 0700 (only the server's user enters)."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)  # mkdir's mode is reduced by the umask, never widened: make it exact


def check_private_file(path: Path, what: str) -> None:
    """Refuse a key file that group or others may read or write (``SaylauError`` saying how to fix it)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SaylauError(
            f"{what} file {path}: mode {mode:04o} lets group or others read or change it; a server key "
            f"must be private to its user (chmod 600 {path})"
        )


def _load_secret(path: Path, what: str, create: bool) -> bytes:
    """A 32-byte secret (hex in the file), created once with mode 0600 in a private directory."""
    if path.exists():
        check_private_file(path, what)
        text = path.read_text(encoding="ascii", errors="replace").strip()
        try:
            key = bytes.fromhex(text)
        except ValueError as exc:
            raise SaylauError(f"{what} file {path}: not hexadecimal") from exc
        if len(key) != REVOTE_KEY_BYTES:
            raise SaylauError(f"{what} file {path}: key is {len(key)} bytes, not {REVOTE_KEY_BYTES}")
        return key
    if not create:
        raise SaylauError(f"{what} file {path}: does not exist")
    key = secrets.token_bytes(REVOTE_KEY_BYTES)
    private_parent(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    return key


def load_revote_key(path: Path, create: bool = True) -> bytes:
    """The revote service's secret ``k_R`` (32 bytes, hex in the file), created once with mode 0600.

    It derives every remote voter's revote tag (``docs/record-format.md`` §6), so it must outlive
    restarts: a new key would give returning voters a tag that no longer matches their earlier ballots.
    """
    return _load_secret(path, "revote key", create)


def load_pseudonym_key(path: Path, create: bool = True) -> bytes:
    """The key of voter pseudonyms (``HMAC-SHA-256(key, election, voter id)``), created once with mode 0600.

    Without it a leaked database's pseudonyms cannot be brute-forced back to voter ids (an IIN has ~30 bits
    of entropy once the birth date is guessed). It must outlive restarts: a voter's pseudonym finds
    their earlier remote ballots and derives their revote tag.
    """
    return _load_secret(path, "voter-pseudonym key", create)


def load_board_signer(path: Path) -> BoardSigner:
    """The board's signing key, created once (mode 0600) in a private directory; refused if not private."""
    if path.exists():
        check_private_file(path, "board key")
    else:
        private_parent(path)
    return BoardSigner.from_file(path)


@dataclass
class AppState:
    """Shared by every request of one application instance."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    signer: BoardSigner
    revote_key: bytes = field(repr=False)
    pseudonym_key: bytes = field(default=b"", repr=False)
    read_sessions: sessionmaker[Session] | None = None
    worker: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    hasher: PasswordHasher = DEFAULT_HASHER
    clock: Clock = system_clock  # the board's time: the server's clock (tests inject election day's)
    committer: GroupCommitter = field(init=False)
    casts: GroupWrite = _no_cast_writer  # the cast path's group writer (create_app: cast_batch.CastWriter)
    verifier: VerifyPool = field(init=False)
    _keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    admission_rules: dict[str, Any] = field(default_factory=dict)  # election id -> admission.ElectionRules
    _board_heads: dict[str, BoardEntry] = field(default_factory=dict)
    tokens: TokenCache = field(default_factory=TokenCache)
    token_lookups: TokenLookups = field(default_factory=TokenLookups)
    logins: LoginLimiter = field(default_factory=LoginLimiter)
    _revote_slots: dict[str, RevoteSlots] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        """The writer thread and the verification pool start on first use."""
        self.committer = GroupCommitter(
            self.transaction, self.settings.commit_batch, self.settings.commit_linger_ms / 1000
        )
        self.verifier = VerifyPool(
            self.settings.verify_processes,
            max_queue=self.settings.max_verify_queue,
            retry_after=self.settings.overload_retry_after,
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any exception.

        On SQLite one writer runs at a time in this process (a thread lock), so threads queue here
        instead of polling SQLite's lock with its sleeping busy handler.
        """
        if self.engine.dialect.name == "sqlite":
            with self.lock, self.sessions() as session, session.begin():
                yield session
        else:
            with self.sessions() as session, session.begin():
                yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads; closing it ends the transaction and keeps loaded rows readable."""
        with (self.read_sessions or self.sessions)() as session:
            yield session

    def board(self, session: Session, election_id: str) -> BulletinBoard:
        """The bulletin board of an election, on this session's transaction (one store per session)."""
        boards: dict[str, SqlBoardStore] = session.info.setdefault("boards", {})
        store = boards.get(election_id)
        if store is None:
            store = boards[election_id] = SqlBoardStore(session, election_id, self._board_heads)
        return BulletinBoard(election_id, store, self.signer, self.settings.checkpoint_every, self.clock)

    def publish(
        self, session: Session, election_id: str, kind: str, payload: dict[str, Any], code: str | None = None
    ) -> BoardEntry:
        """Append to the board inside the caller's transaction (committed with the write it reports)."""
        return self.board(session, election_id).append(kind, payload, code=code)

    def key_document(self, election: Election) -> dict[str, Any]:
        """The election's parameters in record form once the key ceremony is complete (never changes)."""
        doc = self._keys.get(election.id)
        if doc is None:
            if election.joint_key is None:
                raise ElectionStateError(f"election {election.id}: the key ceremony is not complete")
            doc = self._keys[election.id] = election.joint_key
        return doc

    def revote_tag(self, base_hash: str, voter_id: str) -> str:
        """A remote voter's revote tag (hex): ``RevoteSlots(k_R, context=H_B).slot(pseudonym)``.

        Keyed by the voter's pseudonym (never the voter id), so the same voter always gets the same tag in
        one election and a different, unlinkable one in another.
        """
        slots = self._revote_slots.get(base_hash)
        if slots is None:
            slots = self._revote_slots[base_hash] = RevoteSlots(self.revote_key, bytes.fromhex(base_hash))
        return slots.slot(voter_id.encode()).hex()

    def election_params(self, election: Election) -> ElectionParameters:
        """Parsed ``ElectionParameters`` once the key ceremony is complete."""
        return params_for(self.key_document(election))

    def shutdown(self) -> None:
        """Stop the writer and the verification workers."""
        self.committer.stop()
        self.verifier.shutdown()
