"""The bulletin board's durable store: rows in ``board_entries`` / ``board_checkpoints``.

Appends are serialised per election by locking the election's ``board_heads`` row (``SELECT … FOR
UPDATE`` on PostgreSQL; SQLite transactions start with ``BEGIN IMMEDIATE``), and run inside the caller's
transaction, so a ballot and its board entry are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.board import BoardEntry, Checkpoint
from saylau.errors import BoardError
from saylau.store.models import BoardCheckpointRow, BoardEntryRow, BoardHead, store_payload

__all__ = ["SqlBoardStore"]

_PAGE = 2000


def _entry(row: BoardEntryRow) -> BoardEntry:
    try:
        payload = row.payload  # a ballot's decoded from its compact body (store/ballot_codec.py)
    except ValueError as exc:
        raise BoardError(
            f"board entry at position {row.position}: the stored payload does not decode ({exc})"
        ) from None
    return BoardEntry(
        position=row.position,
        time=row.time,
        kind=row.kind,
        code=row.code,
        payload=payload,
        payload_hash=row.payload_hash,
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
    )


class SqlBoardStore:
    """A ``saylau.board.BoardStore`` on one session and election."""

    def __init__(
        self, session: Session, election_id: str, recent: dict[str, BoardEntry] | None = None
    ) -> None:
        """Bind to a session (the caller commits) and an election.

        ``recent`` (shared by one server's transactions) keeps the last entry each board appended, so the
        next transaction need not read it back: it is used only when the locked head row names its
        position and entry hash, so an entry of a transaction that was rolled back is never reused.
        """
        self.session = session
        self.election_id = election_id
        self._head: BoardHead | None = None
        self._last: BoardEntry | None = None
        self._recent = recent

    def _lock_head(self) -> BoardHead:
        if self._head is None:
            head = self.session.execute(
                select(BoardHead).where(BoardHead.election_id == self.election_id).with_for_update()
            ).scalar_one_or_none()
            if head is None:
                raise BoardError(f"board {self.election_id}: no board for this election")
            self._head = head
        return self._head

    def head(self) -> BoardEntry | None:
        """The last entry (locks the head row for the rest of the transaction)."""
        head = self._lock_head()
        if head.position < 0:
            return None
        for known in (self._last, None if self._recent is None else self._recent.get(self.election_id)):
            if known is not None and known.position == head.position and known.entry_hash == head.entry_hash:
                self._last = known
                return known
        row = self.session.get(BoardEntryRow, (self.election_id, head.position))
        if row is None:
            raise BoardError(f"board {self.election_id}: entry at position {head.position} is missing")
        return _entry(row)

    def append(self, entry: BoardEntry) -> None:
        """Insert the row and move the head."""
        head = self._lock_head()
        if entry.position != head.position + 1:
            msg = f"board entry at position {entry.position}: expected position {head.position + 1}"
            raise BoardError(msg)
        payload_json, body = store_payload(entry.payload)  # a ballot's compact, any other as JSON
        self.session.add(
            BoardEntryRow(
                election_id=self.election_id,
                position=entry.position,
                time=entry.time,
                kind=entry.kind,
                code=entry.code,
                payload_json=payload_json,
                body=body,
                payload_hash=entry.payload_hash,
                prev_hash=entry.prev_hash,
                entry_hash=entry.entry_hash,
            )
        )
        head.position = entry.position
        head.entry_hash = entry.entry_hash
        self._last = entry
        if self._recent is not None:
            self._recent[self.election_id] = entry

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Insert a checkpoint; a final one closes the board."""
        self.session.add(
            BoardCheckpointRow(
                election_id=self.election_id,
                position=checkpoint.position,
                final=checkpoint.final,
                body=checkpoint.to_dict(),
            )
        )
        if checkpoint.final:
            self._lock_head().closed = True

    def entries(self, start: int = 0) -> Iterator[BoardEntry]:
        """Entries in position order, read in pages."""
        pos = start
        while True:
            rows = self.session.scalars(
                select(BoardEntryRow)
                .where(BoardEntryRow.election_id == self.election_id, BoardEntryRow.position >= pos)
                .order_by(BoardEntryRow.position)
                .limit(_PAGE)
            ).all()
            for row in rows:
                yield _entry(row)
            if len(rows) < _PAGE:
                return
            pos = rows[-1].position + 1

    def checkpoints(self) -> list[Checkpoint]:
        """All checkpoints in position order (the final one last)."""
        rows = self.session.scalars(
            select(BoardCheckpointRow)
            .where(BoardCheckpointRow.election_id == self.election_id)
            .order_by(BoardCheckpointRow.position, BoardCheckpointRow.final)
        ).all()
        return [Checkpoint.from_dict(r.body) for r in rows]

    def closed(self) -> bool:
        """Whether the final checkpoint was stored (kept on the head row)."""
        return self._lock_head().closed

    def by_code(self, code: str) -> list[BoardEntry]:
        """Entries under a tracking code."""
        rows = self.session.scalars(
            select(BoardEntryRow)
            .where(BoardEntryRow.election_id == self.election_id, BoardEntryRow.code == code)
            .order_by(BoardEntryRow.position)
        ).all()
        return [_entry(r) for r in rows]
