"""What one running application holds: engine, sessions, board signer, writer, verifiers, settings."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from saylau.api.committer import GroupCommitter
from saylau.api.settings import Settings
from saylau.api.verify_pool import VerifyPool, params_for
from saylau.board import BoardEntry, BoardSigner, BulletinBoard
from saylau.crypto import ElectionParameters
from saylau.errors import ElectionStateError
from saylau.store.accounts import DEFAULT_HASHER, TokenCache
from saylau.store.board_store import SqlBoardStore
from saylau.store.models import Election

__all__ = ["AppState"]


@dataclass
class AppState:
    """Shared by every request of one application instance."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    signer: BoardSigner
    read_sessions: sessionmaker[Session] | None = None
    worker: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    hasher: PasswordHasher = DEFAULT_HASHER
    committer: GroupCommitter = field(init=False)
    casts: Any = field(init=False)
    verifier: VerifyPool = field(init=False)
    _keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    _board_heads: dict[str, BoardEntry] = field(default_factory=dict)
    tokens: TokenCache = field(default_factory=TokenCache)

    def __post_init__(self) -> None:
        """The writer thread and the verification pool start on first use."""
        self.committer = GroupCommitter(self.transaction, self.settings.commit_batch)
        self.verifier = VerifyPool(self.settings.verify_processes)
        from saylau.api.cast_batch import CastWriter  # it imports the route helpers, which import us

        self.casts = CastWriter(self)

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
        return BulletinBoard(election_id, store, self.signer, self.settings.checkpoint_every)

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

    def election_params(self, election: Election) -> ElectionParameters:
        """Parsed ``ElectionParameters`` once the key ceremony is complete."""
        return params_for(self.key_document(election))

    def shutdown(self) -> None:
        """Stop the writer and the verification workers."""
        self.committer.stop()
        self.verifier.shutdown()
