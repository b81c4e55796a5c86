"""The server's integrity check: walk each election's rows in the database and find the first broken one.

What is checked, per election:

- ``board_entries``: the hash chain (positions 0, 1, … without a gap, each entry's payload hash, previous
  hash and entry hash), and ``board_checkpoints`` interleaved at their positions: each checkpoint's
  Ed25519 signature and the head it names (the board verifier, ``saylau.board.verify_board``, run on the
  rows as the database holds them), and ``board_heads`` naming the last entry;
- ``ballots``: every row against the board entry at its ``board_position`` (same tracking code and
  ballot id, a state that fits the entry's kind, the remote flag its device's channel), and every
  ballot or challenge entry on the board has its row;
- ``devices``: each device's ballots (the device named in each entry's payload) have sequences 0 … count
  − 1, chain by ``previous_code`` from the device's opening code and end at the device's ``last_code``;
- ``ballot_contexts``: every context a compact entry names exists and matches its digest (read from its
  row, not from the server's cache).

One pass in board order does all of it (each entry is read and decoded once): the ballots rows are
read beside the entries, sorted by board position, and each device's chain is followed as its ballots
appear (a device's ballots are on the board in the order of their sequence).

An editing, deleting or reordering of any such row by hand (SQL) breaks one of these. ``IntegrityError``
names the table, the election and the position (or row id) of the first broken row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.board import Checkpoint, verify_board
from saylau.board.chain import genesis_hash
from saylau.crypto import DeviceChain
from saylau.errors import BoardError, SaylauError
from saylau.store.ballot_contexts import ContextError, Contexts
from saylau.store.ballot_documents import ballot_document
from saylau.store.board_rows import row_fields
from saylau.store.models import (
    Ballot,
    BoardCheckpointRow,
    BoardEntryRow,
    BoardHead,
    Device,
    Election,
    id_sequence,
)

__all__ = ["ElectionCheck", "IntegrityError", "check_database", "check_election"]

_PAGE = 2000
_STREAM = 1000
BALLOT_KINDS = ("ballot", "challenge")
_STATES = {"ballot": ("cast", "superseded"), "challenge": ("challenged",)}


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


@dataclass
class _Chain:
    """A device's chain as far as the walk has followed it."""

    device: Device
    last_code: str
    count: int = 0


class _Walk:
    """One election's pass over its board entries, with its ballots rows and device chains beside it."""

    def __init__(self, session: Session, election_id: str) -> None:
        self.session = session
        self.election_id = election_id
        self.contexts = Contexts(session, cached=False)  # every context row read and checked
        election = session.get(Election, election_id)
        base = bytes.fromhex(election.base_hash) if election is not None else b""
        self.chains = {
            d.id: _Chain(d, DeviceChain(d.id, base).opening_code.hex())
            for d in session.scalars(select(Device).where(Device.election_id == election_id))
        }
        self.ballots = 0
        rows = session.execute(
            select(
                Ballot.board_position, Ballot.id, Ballot.code, Ballot.state, Ballot.remote
            )
            .where(Ballot.election_id == election_id)
            .order_by(Ballot.board_position)
            .execution_options(yield_per=_STREAM)
        )
        self._result = rows
        self._rows: Iterator[Any] = iter(rows)
        self._next: Any = next(self._rows, None)

    def _where(self, b: Any) -> str:
        return (
            f"table ballots, election {self.election_id}, ballot {b.id} (board position {b.board_position})"
        )

    def _row_at(self, position: int, kind: str, code: str | None) -> Any:
        """The ballots row at ``position``, after refusing the rows before it (they name no ballot entry)."""
        b = self._next
        if b is not None and b.board_position < position:
            raise IntegrityError(f"{self._where(b)}: no ballot entry on the board at its position")
        if b is None or b.board_position != position:
            raise IntegrityError(
                f"table ballots, election {self.election_id}: the board's {kind} entry at position "
                f"{position} (code {code}) has no ballot row"
            )
        self._next = next(self._rows, None)
        return b

    def _ballot(self, position: int, kind: str, code: str | None, payload: dict[str, Any]) -> None:
        """Check the ballot row of the entry at ``position`` and follow its device's chain."""
        b = self._row_at(position, kind, code)
        where = self._where(b)
        doc = ballot_document(kind, payload)
        inner = doc.get("ballot") if doc is not None and "ballot_nonce" in doc else doc
        if not isinstance(inner, dict):
            raise IntegrityError(f"{where}: its board entry carries no ballot")
        if code != b.code or inner.get("code") != b.code:
            raise IntegrityError(f"{where}: tracking code differs from its board entry's")
        if inner.get("ballot_id") != b.id:
            raise IntegrityError(f"{where}: ballot id differs from its board entry's ballot")
        if b.state not in _STATES[kind]:
            raise IntegrityError(f"{where}: state {b.state!r} does not fit its board entry's kind {kind!r}")
        chain = self.chains.get(str(payload.get("device_id")))
        if chain is None or chain.device.station_id != payload.get("station_id"):
            raise IntegrityError(f"{where}: its board entry's device is not a device of its station")
        if b.remote != (chain.device.channel == "remote"):
            raise IntegrityError(f"{where}: the remote flag differs from its device's channel")
        dwhere = f"table devices, election {self.election_id}, device {chain.device.id}"
        sequence = id_sequence(b.id)
        if sequence != chain.count:
            raise IntegrityError(f"{dwhere}: ballot {b.id} has sequence {sequence}, expected {chain.count}")
        if inner.get("previous_code") != chain.last_code:
            raise IntegrityError(
                f"{dwhere}: ballot {b.id} (sequence {chain.count}) does not chain to the previous"
            )
        chain.last_code, chain.count = b.code, chain.count + 1
        self.ballots += 1

    def rows(self, public_key: str, every: int) -> Iterator[dict[str, Any]]:
        """The board as ``verify_board`` reads it; each ballot row is checked once its entry was."""
        eid = self.election_id
        yield {
            "type": "header",
            "format": "saylau-board/1",
            "board_id": eid,
            "public_key": public_key,
            "genesis_hash": genesis_hash(eid),
            "checkpoint_every": every,
        }
        cps = [
            Checkpoint.from_dict(r.body)
            for r in self.session.scalars(
                select(BoardCheckpointRow)
                .where(BoardCheckpointRow.election_id == eid)
                .order_by(BoardCheckpointRow.position, BoardCheckpointRow.final)
            )
        ]
        k, pos, prev = 0, 0, genesis_hash(eid)
        while True:
            rows = self.session.scalars(
                select(BoardEntryRow)
                .where(BoardEntryRow.election_id == eid, BoardEntryRow.position >= pos)
                .order_by(BoardEntryRow.position)
                .limit(_PAGE)
            ).all()
            for row in rows:
                while k < len(cps) and cps[k].position < row.position:
                    yield {"type": "checkpoint", **cps[k].to_dict()}
                    k += 1
                try:
                    time, code, payload = row_fields(
                        row.time, row.code, row.payload_json, row.body, self.contexts.get
                    )
                except ContextError as exc:
                    raise IntegrityError(
                        f"table ballot_contexts, election {eid} (named by the board entry at position "
                        f"{row.position}): {exc}"
                    ) from None
                except ValueError as exc:
                    raise IntegrityError(
                        f"table board_entries, election {eid}, position {row.position}: the stored payload "
                        f"does not decode ({exc})"
                    ) from None
                yield {
                    "type": "entry",
                    "position": row.position,
                    "time": time,
                    "kind": row.kind,
                    "code": code,
                    "payload": payload,
                    "payload_hash": row.payload_hash,
                    "prev_hash": prev,
                    "entry_hash": row.entry_hash,
                }
                prev = row.entry_hash  # the verifier has checked this entry: now its ballot row
                if row.kind in BALLOT_KINDS:
                    self._ballot(row.position, row.kind, code, payload)
            if len(rows) < _PAGE:
                break
            pos = rows[-1].position + 1
        for cp in cps[k:]:
            yield {"type": "checkpoint", **cp.to_dict()}

    def close(self) -> None:
        """Close the ballots cursor (a server-side cursor on PostgreSQL)."""
        self._result.close()

    def finish(self) -> None:
        """Refuse ballots rows past the board's last ballot entry and chains that end short or elsewhere."""
        if self._next is not None:
            raise IntegrityError(f"{self._where(self._next)}: no ballot entry on the board at its position")
        for chain in self.chains.values():
            d = chain.device
            where = f"table devices, election {self.election_id}, device {d.id}"
            if chain.count != d.count:
                raise IntegrityError(f"{where}: count {d.count}, but {chain.count} ballots name the device")
            if chain.count and d.last_code != chain.last_code:
                raise IntegrityError(f"{where}: last_code is not the code of its last ballot")


def check_election(
    session: Session, election_id: str, public_key: str, checkpoint_every: int
) -> ElectionCheck:
    """Check one election's board, ballots and devices; raise ``IntegrityError`` at the first broken row."""
    walk = _Walk(session, election_id)
    try:
        try:
            summary = verify_board(walk.rows(public_key, checkpoint_every))
        except BoardError as exc:
            msg = f"table board_entries/board_checkpoints, election {election_id}: {exc}"
            raise IntegrityError(msg) from exc
        head = session.get(BoardHead, election_id)
        if head is not None and (head.position != summary.count - 1 or head.entry_hash != summary.head_hash):
            raise IntegrityError(
                f"table board_heads, election {election_id}: head names position {head.position}, the "
                f"board's last entry is at position {summary.count - 1}"
            )
        walk.finish()
    finally:
        walk.close()
    return ElectionCheck(election_id, summary.count, summary.checkpoints, walk.ballots, len(walk.chains))


def check_database(session: Session, public_key: str, checkpoint_every: int) -> list[ElectionCheck]:
    """Check every election in the database (in id order)."""
    ids = session.scalars(select(Election.id).order_by(Election.id)).all()
    return [check_election(session, i, public_key, checkpoint_every) for i in ids]
