"""The bulletin board: an append-only, hash-chained, checkpointed log over a pluggable store.

The board knows nothing of databases: ``saylau.store`` provides a durable ``BoardStore``, and
``MemoryBoardStore`` serves tests, simulations and the record writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from saylau.board.chain import (
    TIME_PATTERN,
    BoardEntry,
    Clock,
    format_time,
    genesis_hash,
    make_entry,
    system_clock,
)
from saylau.board.checkpoint import BoardSigner, Checkpoint
from saylau.errors import BoardClosed, BoardError

__all__ = ["DEFAULT_CHECKPOINT_EVERY", "BoardStore", "BulletinBoard", "MemoryBoardStore"]

DEFAULT_CHECKPOINT_EVERY = 1000


class BoardStore(Protocol):
    """Where a board keeps its entries and checkpoints; ``head`` and ``append`` run under one lock."""

    def head(self) -> BoardEntry | None:
        """The last entry, or ``None`` for an empty board."""
        ...

    def append(self, entry: BoardEntry) -> None:
        """Store a new entry (its position is one past the head)."""
        ...

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Store a signed checkpoint."""
        ...

    def entries(self, start: int = 0) -> Iterator[BoardEntry]:
        """Entries in position order from ``start``."""
        ...

    def checkpoints(self) -> list[Checkpoint]:
        """All checkpoints in position order."""
        ...

    def closed(self) -> bool:
        """Whether a final checkpoint was stored."""
        ...

    def by_code(self, code: str) -> list[BoardEntry]:
        """Entries published under a tracking code, in position order."""
        ...


class MemoryBoardStore:
    """A ``BoardStore`` in memory."""

    def __init__(self) -> None:
        """Start empty."""
        self._entries: list[BoardEntry] = []
        self._checkpoints: list[Checkpoint] = []
        self._codes: dict[str, list[int]] = {}

    def head(self) -> BoardEntry | None:
        """The last entry."""
        return self._entries[-1] if self._entries else None

    def append(self, entry: BoardEntry) -> None:
        """Append after checking the position."""
        if entry.position != len(self._entries):
            msg = f"board entry at position {entry.position}: expected position {len(self._entries)}"
            raise BoardError(msg)
        self._entries.append(entry)
        if entry.code is not None:
            self._codes.setdefault(entry.code, []).append(entry.position)

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Keep a checkpoint."""
        self._checkpoints.append(checkpoint)

    def entries(self, start: int = 0) -> Iterator[BoardEntry]:
        """Entries from ``start``."""
        yield from self._entries[start:]

    def checkpoints(self) -> list[Checkpoint]:
        """All checkpoints."""
        return list(self._checkpoints)

    def closed(self) -> bool:
        """Whether the last checkpoint is final."""
        return bool(self._checkpoints) and self._checkpoints[-1].final

    def by_code(self, code: str) -> list[BoardEntry]:
        """Entries under ``code``."""
        return [self._entries[p] for p in self._codes.get(code, [])]


class BulletinBoard:
    """Append published objects, sign checkpoints every ``checkpoint_every`` entries and at close.

    Times come from ``clock`` (the server's clock by default; a simulated election day's in the demo)
    and never go backwards: an entry's time is the later of the clock and the previous entry's time, a
    periodic checkpoint carries the time of the entry it covers, and the final one the later of the
    clock and the last entry's time (``docs/board-format.md``).
    """

    def __init__(
        self,
        board_id: str,
        store: BoardStore,
        signer: BoardSigner,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        clock: Clock = system_clock,
    ) -> None:
        """Wrap ``store``; the caller serialises ``append`` calls (a lock or a database row lock)."""
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        self.board_id = board_id
        self.store = store
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self.clock = clock

    def next_time(self, head: BoardEntry | None = None) -> str:
        """The time the next entry gets: the clock's, unless the board's head is later."""
        now = format_time(self.clock())
        return now if head is None or head.time <= now else head.time

    def header(self) -> dict[str, Any]:
        """What a verifier needs besides the entries: id, public key, genesis hash, checkpoint period."""
        return {
            "type": "header",
            "format": "saylau-board/1",
            "board_id": self.board_id,
            "public_key": self.signer.public_key_hex,
            "genesis_hash": genesis_hash(self.board_id),
            "checkpoint_every": self.checkpoint_every,
        }

    @staticmethod
    def _not_before(head: BoardEntry | None, time: str) -> str:
        if not TIME_PATTERN.match(time):
            raise ValueError(f"board time {time!r}: not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ")
        return time if head is None or head.time <= time else head.time

    def is_closed(self) -> bool:
        """Whether a final checkpoint was issued."""
        return self.store.closed()

    def append(
        self,
        kind: str,
        payload: dict[str, Any],
        code: str | None = None,
        known_payload_hash: str | None = None,
        time: str | None = None,
    ) -> BoardEntry:
        """Publish one object; ``BoardClosed`` once closed (``known_payload_hash``: see make_entry).

        ``time``: a board time the caller took from ``next_time`` (to check it before publishing, as the
        server checks a cast ballot's time against its station's voting hours); default: the clock's.
        Either way the entry's time is no earlier than the previous entry's.
        """
        head = self.store.head()
        if self.is_closed():
            pos = 0 if head is None else head.position + 1
            raise BoardClosed(
                f"board {self.board_id}: closed by its final checkpoint, cannot append at position {pos}"
            )
        entry = make_entry(
            head,
            self.board_id,
            kind,
            payload,
            code=code,
            time=self.next_time(head) if time is None else self._not_before(head, time),
            known_payload_hash=known_payload_hash,
        )
        self.store.append(entry)
        if (entry.position + 1) % self.checkpoint_every == 0:
            self.store.add_checkpoint(
                self.signer.sign(self.board_id, entry.position, entry.entry_hash, entry.time, final=False)
            )
        return entry

    def close(self) -> Checkpoint:
        """Sign the final checkpoint; no entry may follow it (``BoardClosed`` if it was already signed)."""
        head = self.store.head()
        if head is None:
            raise BoardError(f"board {self.board_id}: cannot close an empty board")
        if self.is_closed():
            raise BoardClosed(f"board {self.board_id}: already closed at position {head.position}")
        cp = self.signer.sign(self.board_id, head.position, head.entry_hash, self.next_time(head), final=True)
        self.store.add_checkpoint(cp)
        return cp

    def lookup(self, code: str) -> list[BoardEntry]:
        """Entries under a tracking code; ``BoardError`` if there is none."""
        found = self.store.by_code(code)
        if not found:
            raise BoardError(f"board {self.board_id}: no entry with tracking code {code!r}")
        return found

    def export_rows(self) -> Iterator[dict[str, Any]]:
        """The JSON Lines rows: header, then entries with each checkpoint after the entry it covers."""
        yield self.header()
        cps = self.store.checkpoints()
        i = 0
        for entry in self.store.entries():
            yield {"type": "entry", **entry.to_dict()}
            while i < len(cps) and cps[i].position == entry.position:
                yield {"type": "checkpoint", **cps[i].to_dict()}
                i += 1
