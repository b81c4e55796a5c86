"""The server's election record: ``saylau-record/1`` written by ``saylau.record.writer``, board included.

The server keeps what the record needs (manifest, parameters, device chains, every submitted ballot
with its device, sequence and state, the challenged openings, each scope's tally and its decryption)
and hands it to the record writer, so the record a client downloads is the one ``saylau verify``
checks (``docs/record-format.md``). The bulletin board (``docs/board-format.md``) is a file of the record
(``record/board.jsonl``), read in the same database snapshot as the ballots so the two agree; the
archive also carries a copy at its top level (``board.jsonl``) for clients that fetch it there.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.api.state import AppState
from saylau.crypto import ChallengedBallot, DeviceChain, EncryptedBallot
from saylau.election.manifest import Manifest
from saylau.errors import ElectionStateError
from saylau.record.format import BOARD
from saylau.record.tally import TallyEntry
from saylau.record.writer import write_record
from saylau.store.models import Ballot, Device, Election
from saylau.voting.device import Channel, DeviceRecord
from saylau.voting.submitted import SubmittedBallot

__all__ = ["BOARD_FILE", "RECORD_DIR", "record_archive", "write_server_record"]

BOARD_FILE = "board.jsonl"
RECORD_DIR = "record"
_PAGE = 1000


def _rows(session: Session, election_id: str) -> Iterator[Ballot]:
    """Every submitted ballot grouped by device, in chain order (the record's order), in pages."""
    last: tuple[str, int] = ("", -1)
    while True:
        rows = session.scalars(
            select(Ballot)
            .where(
                Ballot.election_id == election_id,
                (Ballot.device_id > last[0]) | ((Ballot.device_id == last[0]) & (Ballot.sequence > last[1])),
            )
            .order_by(Ballot.device_id, Ballot.sequence)
            .limit(_PAGE)
        ).all()
        yield from rows
        if len(rows) < _PAGE:
            return
        last = (str(rows[-1].device_id), int(rows[-1].sequence or 0))


def _submitted(row: Ballot) -> SubmittedBallot:
    payload = row.payload["ballot"] if row.state == "challenged" else row.payload
    if row.device_id is None or row.sequence is None:
        raise ElectionStateError(f"ballot {row.id}: stored without its device chain position")
    return SubmittedBallot(
        EncryptedBallot.from_dict(payload),
        row.station_id,
        row.device_id,
        row.sequence,
        "challenged" if row.state == "challenged" else "superseded" if row.state == "superseded" else "cast",
        row.superseded_by,
    )


def write_server_record(state: AppState, election_id: str, out_dir: Path) -> bytes:
    """Write the record of a decrypted election into ``out_dir``; return the record hash."""
    with state.reading() as session:
        e = session.get(Election, election_id)
        if e is None or e.phase != "decrypted" or e.tally is None or "entries" not in e.tally:
            raise ElectionStateError(f"election {election_id}: the record needs phase 'decrypted'")
        manifest = Manifest.from_json_obj(e.manifest)
        params = state.election_params(e)
        devices = []
        for d in session.scalars(
            select(Device).where(Device.election_id == election_id).order_by(Device.id)
        ):
            if d.closing_code is None:
                raise ElectionStateError(f"device {d.id}: not closed")
            opening = DeviceChain(d.id, params.base_hash).opening_code.hex()
            channel: Channel = "remote" if d.channel == "remote" else "booth"
            devices.append(DeviceRecord(d.id, d.station_id, opening, d.closing_code, d.count, channel))
        entries = [TallyEntry.from_dict(t) for t in e.tally["entries"]]
        challenged = [
            ChallengedBallot.from_dict(r.payload)
            for r in _rows(session, election_id)
            if r.state == "challenged"
        ]
        return write_record(
            out_dir,
            manifest,
            params,
            devices,
            (_submitted(r) for r in _rows(session, election_id)),
            challenged,
            entries,
            board_rows=state.board(session, election_id).export_rows(),
        )


def record_archive(state: AppState, election_id: str) -> tuple[bytes, str]:
    """A gzipped tar of ``record/`` (saylau-record/1, board included) and a top-level copy of the board.

    Returns the archive and the record hash (hex).
    """
    with tempfile.TemporaryDirectory(prefix="saylau-record-") as tmp:
        root = Path(tmp)
        record_hash = write_server_record(state, election_id, root / RECORD_DIR)
        shutil.copyfile(root / RECORD_DIR / BOARD, root / BOARD_FILE)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(root / RECORD_DIR, arcname=RECORD_DIR)
            tar.add(root / BOARD_FILE, arcname=BOARD_FILE)
    return buf.getvalue(), record_hash.hex()
