"""The bulletin board's durable store: rows in ``board_entries`` / ``board_checkpoints``.

Rows are written and read by ``board_rows`` (a ballot's entry compact, no stored previous hash).
Appends are serialised per election by locking the election's ``board_heads`` row (``SELECT … FOR
UPDATE`` on PostgreSQL; SQLite transactions start with ``BEGIN IMMEDIATE``), and run inside the caller's
transaction, so a ballot and its board entry are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.board import BoardEntry, Checkpoint
from saylau.board.chain import genesis_hash
from saylau.errors import BoardError
from saylau.store.ballot_contexts import Contexts
from saylau.store.board_rows import board_entry, entry_row, prev_hashes
from saylau.store.models import Ballot, BoardCheckpointRow, BoardEntryRow, BoardHead, is_hex

__all__ = ["SqlBoardStore", "read_entries", "rows_by_code"]

_PAGE = 2000


def _entry(row: BoardEntryRow, prev_hash: str | None, contexts: Contexts) -> BoardEntry:
    if prev_hash is None:
        raise BoardError(f"board entry at position {row.position}: the entry before it is missing")
    try:
        return board_entry(row, prev_hash, contexts)  # a ballot's decoded from its compact body
    except ValueError as exc:
        raise BoardError(
            f"board entry at position {row.position}: the stored payload does not decode ({exc})"
        ) from None


def read_entries(session: Session, election_id: str, rows: Sequence[BoardEntryRow],
                 contexts: Contexts | None = None) -> list[BoardEntry]:
    """The entries of ``rows`` (any positions of one election), each with its previous hash."""
    contexts = Contexts(session) if contexts is None else contexts
    prev = dict(prev_hashes(session, election_id, [r.position for r in rows]))
    return [_entry(r, prev.get(r.position), contexts) for r in rows]


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
        self.contexts = Contexts(session)

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
        return read_entries(self.session, self.election_id, [row], self.contexts)[0]

    def append(self, entry: BoardEntry) -> None:
        """Insert the row and move the head."""
        head = self._lock_head()
        if entry.position != head.position + 1:
            msg = f"board entry at position {entry.position}: expected position {head.position + 1}"
            raise BoardError(msg)
        expected = genesis_hash(self.election_id) if entry.position == 0 else head.entry_hash
        if entry.prev_hash != expected:  # not stored: a reader takes the entry hash before it
            raise BoardError(f"board entry at position {entry.position}: previous hash is not the head's")
        self.session.add(entry_row(self.election_id, entry, self.contexts))  # a ballot's compact
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
        # each entry's previous hash is the entry hash of the row read before it (a missing row shows
        # as a position that does not follow, which the board verifier names)
        pos = start
        prev: str | None = genesis_hash(self.election_id) if start == 0 else None
        while True:
            rows = self.session.scalars(
                select(BoardEntryRow)
                .where(BoardEntryRow.election_id == self.election_id, BoardEntryRow.position >= pos)
                .order_by(BoardEntryRow.position)
                .limit(_PAGE)
            ).all()
            if rows and prev is None:
                prev = prev_hashes(self.session, self.election_id, [start]).get(start)
            for row in rows:
                entry = _entry(row, prev, self.contexts)
                yield entry
                prev = entry.entry_hash
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
        """Entries under a tracking code: its ballot's (by ``ballots.code``) and those naming it."""
        rows = rows_by_code(self.session, self.election_id, code)
        return read_entries(self.session, self.election_id, rows, self.contexts)


def rows_by_code(session: Session, election_id: str, code: str) -> list[BoardEntryRow]:
    """The rows of the entries under ``code``, in position order (two index lookups).

    A compact ballot or challenge entry's code is its ballot's, found through the ``ballots`` row at
    its position (``uq_ballots_code``); any other entry with a code has it in its row
    (``ix_board_entries_code``, which holds only those).
    """
    rows = list(session.scalars(
        select(BoardEntryRow).where(BoardEntryRow.election_id == election_id, BoardEntryRow.code == code)
    ))
    if is_hex(code, 32):
        at = session.scalar(select(Ballot.board_position).where(Ballot.election_id == election_id,
                                                                Ballot.code == code))
        if at is not None:
            row = session.get(BoardEntryRow, (election_id, at))
            if row is not None and row.code is None and row not in rows:
                rows.append(row)
    return sorted(rows, key=lambda r: r.position)
