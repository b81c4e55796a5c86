"""The server's integrity check: walk each election's rows in the database and find the first broken one.

What is checked, per election:

- ``board_entries``: the hash chain (positions 0, 1, … without a gap, each entry's payload hash, previous
  hash and entry hash), and ``board_checkpoints`` interleaved at their positions: each checkpoint's
  Ed25519 signature and the head it names (the board verifier, ``saylau.board.verify_board``, run on the
  rows as the database holds them), and ``board_heads`` naming the last entry;
- ``ballots``: every row against the board entry at its ``board_position`` (same tracking code, the
  entry's payload carries exactly the row's ballot, device and station, the row's content hash is the
  SHA-256 of the ballot's canonical JSON), and every ballot or challenge entry on the board has its row;
- ``devices``: each device's ballots have sequences 0 … count − 1, chain by ``previous_code`` and end at
  the device's ``last_code``.

An editing, deleting or reordering of any such row by hand (SQL) breaks one of these. ``IntegrityError``
names the table, the election and the position (or row id) of the first broken row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.board import Checkpoint, verify_board
from saylau.board.chain import genesis_hash
from saylau.board.hashing import canonical_json
from saylau.errors import BoardError, SaylauError
from saylau.store.ballot_documents import ballot_document, with_documents
from saylau.store.models import (
    Ballot,
    BoardCheckpointRow,
    BoardEntryRow,
    BoardHead,
    Device,
    Election,
    stored_payload,
)

__all__ = ["ElectionCheck", "IntegrityError", "check_database", "check_election"]

_PAGE = 2000
BALLOT_KINDS = ("ballot", "challenge")


class IntegrityError(SaylauError):
    """A row of the database does not match the board's chain, its board entry or its device's chain."""


@dataclass(frozen=True)
class ElectionCheck:
    """What one election's check established."""

    election_id: str
    entries: int
    checkpoints: int
    ballots: int
    devices: int


def _payload(row: BoardEntryRow) -> dict[str, Any]:
    """The row's payload, decoded from its compact body if it has one; broken bytes name the row."""
    try:
        return row.payload
    except ValueError as exc:
        raise IntegrityError(
            f"table board_entries, election {row.election_id}, position {row.position}: the stored payload "
            f"does not decode ({exc})"
        ) from None


def _board_rows(session: Session, election_id: str, public_key: str, every: int) -> Iterator[dict[str, Any]]:
    yield {
        "type": "header",
        "format": "saylau-board/1",
        "board_id": election_id,
        "public_key": public_key,
        "genesis_hash": genesis_hash(election_id),
        "checkpoint_every": every,
    }
    cps = [
        Checkpoint.from_dict(r.body)
        for r in session.scalars(
            select(BoardCheckpointRow)
            .where(BoardCheckpointRow.election_id == election_id)
            .order_by(BoardCheckpointRow.position, BoardCheckpointRow.final)
        )
    ]
    k, pos = 0, 0
    while True:
        rows = session.scalars(
            select(BoardEntryRow)
            .where(BoardEntryRow.election_id == election_id, BoardEntryRow.position >= pos)
            .order_by(BoardEntryRow.position)
            .limit(_PAGE)
        ).all()
        for row in rows:
            while k < len(cps) and cps[k].position < row.position:
                yield {"type": "checkpoint", **cps[k].to_dict()}
                k += 1
            yield {
                "type": "entry",
                "position": row.position,
                "time": row.time,
                "kind": row.kind,
                "code": row.code,
                "payload": _payload(row),
                "payload_hash": row.payload_hash,
                "prev_hash": row.prev_hash,
                "entry_hash": row.entry_hash,
            }
        if len(rows) < _PAGE:
            break
        pos = rows[-1].position + 1
    for cp in cps[k:]:
        yield {"type": "checkpoint", **cp.to_dict()}


def _check_board(session: Session, election_id: str, public_key: str, every: int) -> tuple[int, int]:
    try:
        summary = verify_board(_board_rows(session, election_id, public_key, every))
    except BoardError as exc:
        raise IntegrityError(f"table board_entries/board_checkpoints, election {election_id}: {exc}") from exc
    head = session.get(BoardHead, election_id)
    if head is not None and (head.position != summary.count - 1 or head.entry_hash != summary.head_hash):
        raise IntegrityError(
            f"table board_heads, election {election_id}: head names position {head.position}, the board's "
            f"last entry is at position {summary.count - 1}"
        )
    return summary.count, summary.checkpoints


def _check_ballots(session: Session, election_id: str) -> int:
    entries = {
        r.position: r
        for r in session.scalars(
            select(BoardEntryRow).where(
                BoardEntryRow.election_id == election_id, BoardEntryRow.kind.in_(BALLOT_KINDS)
            )
        )
    }
    seen: set[int] = set()
    n = 0
    for b in session.scalars(
        select(Ballot).where(Ballot.election_id == election_id).order_by(Ballot.board_position)
    ):
        where = f"table ballots, election {election_id}, ballot {b.id} (board position {b.board_position})"
        entry = entries.get(b.board_position)
        if entry is None:
            raise IntegrityError(f"{where}: no ballot entry on the board at its position")
        payload = _payload(entry)
        if entry.code != b.code:
            raise IntegrityError(f"{where}: tracking code differs from its board entry's")
        if payload.get("device_id") != b.device_id or payload.get("station_id") != b.station_id:
            raise IntegrityError(f"{where}: device or station differs from its board entry's payload")
        doc = ballot_document(entry.kind, payload)
        if doc is None or (b.payload is not None and b.payload != doc):
            raise IntegrityError(f"{where}: the ballot differs from its board entry's payload")
        if hashlib.sha256(canonical_json(doc)).hexdigest() != b.content_hash:
            raise IntegrityError(f"{where}: content hash does not match the ballot on the board")
        seen.add(b.board_position)
        n += 1
    for position in sorted(set(entries) - seen):
        raise IntegrityError(
            f"table ballots, election {election_id}: the board's {entries[position].kind} entry at position "
            f"{position} (code {entries[position].code}) has no ballot row"
        )
    return n


def _previous_code(doc: dict[str, Any] | None) -> Any:
    """The code a ballot chains to (a challenged ballot's is inside its ``ballot``)."""
    if doc is None:
        return None
    inner = doc.get("ballot") if "ballot_nonce" in doc else doc
    return inner.get("previous_code") if isinstance(inner, dict) else None


def _check_devices(session: Session, election_id: str) -> int:
    devices = session.scalars(select(Device).where(Device.election_id == election_id)).all()
    for d in devices:
        where = f"table devices, election {election_id}, device {d.id}"
        rows = session.execute(
            with_documents(Ballot)
            .where(Ballot.election_id == election_id, Ballot.device_id == d.id)
            .order_by(Ballot.sequence)
        ).all()
        if len(rows) != d.count:
            raise IntegrityError(f"{where}: count {d.count}, but {len(rows)} ballots name the device")
        previous: str | None = None
        for i, (b, kind, payload, body) in enumerate(rows):
            if b.sequence != i:
                raise IntegrityError(f"{where}: ballot {b.id} has sequence {b.sequence}, expected {i}")
            prev = _previous_code(ballot_document(kind, stored_payload(payload, body)))
            if previous is not None and prev != previous:
                raise IntegrityError(f"{where}: ballot {b.id} (sequence {i}) does not chain to the previous")
            previous = b.code
        if previous is not None and d.last_code != previous:
            raise IntegrityError(f"{where}: last_code is not the code of its last ballot")
    return len(devices)


def check_election(
    session: Session, election_id: str, public_key: str, checkpoint_every: int
) -> ElectionCheck:
    """Check one election's board, ballots and devices; raise ``IntegrityError`` at the first broken row."""
    entries, checkpoints = _check_board(session, election_id, public_key, checkpoint_every)
    ballots = _check_ballots(session, election_id)
    devices = _check_devices(session, election_id)
    return ElectionCheck(election_id, entries, checkpoints, ballots, devices)


def check_database(session: Session, public_key: str, checkpoint_every: int) -> list[ElectionCheck]:
    """Check every election in the database (in id order)."""
    ids = session.scalars(select(Election.id).order_by(Election.id)).all()
    return [check_election(session, i, public_key, checkpoint_every) for i in ids]

