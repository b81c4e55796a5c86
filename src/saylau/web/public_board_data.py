"""What the bulletin-board pages show: a page of entries, the checkpoints, one entry, a tracking code.

Read from the same rows as the API's ``GET /board`` (the JSON Lines export) and ``GET /board/codes``;
each checkpoint's Ed25519 signature is verified here against the board's public key (the header's), and
its signed head is compared with the entry at its position, so the page says for each one whether it
holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saylau.board import BoardEntry
from saylau.board.checkpoint import Checkpoint, public_key_from_hex
from saylau.errors import BoardError
from saylau.store.board_store import read_entries, rows_by_code
from saylau.store.models import BoardCheckpointRow, BoardEntryRow

__all__ = [
    "MAX_PAGE_SIZE",
    "PAGE_SIZE",
    "CheckedCheckpoint",
    "by_code",
    "checkpoints",
    "entries_page",
    "entry",
    "entry_count",
    "summary",
]

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class CheckedCheckpoint:
    """A checkpoint with what the page says of it: signature verified, signed head equal to the entry's."""

    checkpoint: Checkpoint
    signature_ok: bool
    head_matches: bool

    @property
    def ok(self) -> bool:
        return self.signature_ok and self.head_matches


def entry_count(session: Session, election_id: str) -> int:
    """Entries on the board."""
    return int(session.scalar(select(func.count()).select_from(BoardEntryRow)
                              .where(BoardEntryRow.election_id == election_id)) or 0)


def entries_page(
    session: Session, election_id: str, start: int, size: int = PAGE_SIZE
) -> list[BoardEntry]:
    """Entries at positions ``start`` … ``start + size - 1`` (``BoardError`` for a row that is broken)."""
    return read_entries(session, election_id, session.scalars(
        select(BoardEntryRow)
        .where(BoardEntryRow.election_id == election_id, BoardEntryRow.position >= start,
               BoardEntryRow.position < start + size)
        .order_by(BoardEntryRow.position)).all())


def entry(session: Session, election_id: str, position: int) -> BoardEntry | None:
    """The entry at ``position``."""
    row = session.get(BoardEntryRow, (election_id, position))
    return None if row is None else read_entries(session, election_id, [row])[0]


def by_code(session: Session, election_id: str, code: str) -> list[BoardEntry]:
    """Entries under a tracking code, in position order."""
    return read_entries(session, election_id, rows_by_code(session, election_id, code))


def checkpoints(session: Session, election_id: str, public_key_hex: str) -> list[CheckedCheckpoint]:
    """Every checkpoint in position order (the final one last), each checked."""
    rows = session.scalars(
        select(BoardCheckpointRow).where(BoardCheckpointRow.election_id == election_id)
        .order_by(BoardCheckpointRow.position, BoardCheckpointRow.final)).all()
    heads: dict[int, str] = {}
    if rows:
        heads = {int(p): str(h) for p, h in session.execute(
            select(BoardEntryRow.position, BoardEntryRow.entry_hash)
            .where(BoardEntryRow.election_id == election_id,
                   BoardEntryRow.position.in_([r.position for r in rows])))}
    out = []
    for r in rows:
        cp = Checkpoint.from_dict(r.body)
        signed = cp.board_id == election_id and _signed(cp, public_key_hex)
        out.append(CheckedCheckpoint(cp, signed, heads.get(cp.position) == cp.entry_hash))
    return out


@lru_cache(maxsize=1 << 16)
def _signed(cp: Checkpoint, public_key_hex: str) -> bool:
    """Whether the signature verifies (remembered: a board has thousands, and every page shows them)."""
    try:
        cp.verify(public_key_from_hex(public_key_hex))
    except BoardError:
        return False
    return True


def summary(payload: dict[str, Any], kind: str) -> dict[str, Any]:
    """A few fields of a payload worth a column in the listing (station, device, phase…)."""
    out: dict[str, Any] = {}
    for key in ("station_id", "device_id", "phase", "applicant_id", "status", "superseded_by"):
        if isinstance(payload.get(key), str):
            out[key] = payload[key]
    ballot = payload.get("ballot")
    if isinstance(ballot, dict) and isinstance(ballot.get("ballot_id"), str):
        out["ballot_id"] = ballot["ballot_id"]
    if kind == "application" and isinstance(payload.get("applicant"), dict):
        out["applicant_id"] = str(payload["applicant"].get("id", ""))
    return out
