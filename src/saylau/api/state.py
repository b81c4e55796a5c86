"""What one running application holds: engine, sessions, board signer, parameter cache, settings."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from saylau.api.crypto_bridge import ParamsCache
from saylau.api.settings import Settings
from saylau.board import BoardEntry, BoardSigner, BulletinBoard
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
    params: ParamsCache = field(default_factory=ParamsCache)
    worker: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

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
        """The bulletin board of an election, on this session's transaction."""
        return BulletinBoard(
            election_id, SqlBoardStore(session, election_id), self.signer, self.settings.checkpoint_every
        )

    def publish(
        self, session: Session, election_id: str, kind: str, payload: dict[str, Any], code: str | None = None
    ) -> BoardEntry:
        """Append to the board inside the caller's transaction (committed with the write it reports)."""
        return self.board(session, election_id).append(kind, payload, code=code)

    def election_params(self, election: Election) -> Any:
        """Parsed ``ElectionParameters`` once the key ceremony is complete."""
        from saylau.errors import ElectionStateError

        if election.joint_key is None:
            raise ElectionStateError(f"election {election.id}: the key ceremony is not complete")
        return self.params.get(election.id, election.joint_key)
