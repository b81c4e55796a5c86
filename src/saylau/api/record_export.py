"""The server's election record: ``saylau-record/2`` written by ``saylau.record.writer``, board included.

The server keeps what the record needs (manifest, parameters, device chains, each scope's tally and its
decryption, and the bulletin board, whose ``ballot``, ``challenge`` and ``superseded`` entries carry every
ballot, its opening and its state) and hands it to the record writer, so the record a client downloads
is the one ``saylau verify`` checks (``docs/record-format.md``). The record's ``board.jsonl`` leaves the
ballot and challenge payloads out (each ballot is held once, in ``ballots.jsonl``); the archive carries
the full board (``docs/board-format.md``) at its top level (``board.jsonl``), as ``GET .../board``
serves it, for clients that check the board alone.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path

from sqlalchemy import select

from saylau.api.state import AppState
from saylau.board.verify import write_jsonl
from saylau.crypto import DeviceChain
from saylau.election.manifest import Manifest
from saylau.errors import ElectionStateError
from saylau.record.tally import TallyEntry
from saylau.record.writer import write_record
from saylau.store.models import Device, Election
from saylau.voting.device import Channel, DeviceRecord

__all__ = ["BOARD_FILE", "RECORD_DIR", "record_archive", "write_server_record"]

BOARD_FILE = "board.jsonl"
RECORD_DIR = "record"


def write_server_record(state: AppState, election_id: str, out_dir: Path) -> bytes:
    """Write the record of a decrypted election into ``out_dir``; return the record hash."""
    with state.reading() as session:
        e = session.get(Election, election_id)
        if e is None or e.phase != "decrypted" or e.tally is None or "entries" not in e.tally:
            raise ElectionStateError(f"election {election_id}: the record needs phase 'decrypted'")
        manifest = Manifest.from_json_obj(e.manifest)
        params = state.election_params(e)
        devices = []
        for d in session.scalars(select(Device).where(Device.election_id == election_id).order_by(Device.id)):
            if d.closing_code is None:
                raise ElectionStateError(f"device {d.id}: not closed")
            opening = DeviceChain(d.id, params.base_hash).opening_code.hex()
            channel: Channel = "remote" if d.channel == "remote" else "booth"
            devices.append(DeviceRecord(d.id, d.station_id, opening, d.closing_code, d.count, channel))
        entries = [TallyEntry.from_dict(t) for t in e.tally["entries"]]
        return write_record(
            out_dir,
            manifest,
            params,
            devices,
            None,  # the board carries every ballot (saylau-record/2 holds each once)
            None,
            entries,
            board_rows=state.board(session, election_id).export_rows(),
        )


def record_archive(state: AppState, election_id: str) -> tuple[bytes, str]:
    """A gzipped tar of ``record/`` (saylau-record/2, board included) and a top-level copy of the board.

    Returns the archive and the record hash (hex).
    """
    with tempfile.TemporaryDirectory(prefix="saylau-record-") as tmp:
        root = Path(tmp)
        record_hash = write_server_record(state, election_id, root / RECORD_DIR)
        with state.reading() as session, (root / BOARD_FILE).open("w", encoding="utf-8") as fh:
            write_jsonl(state.board(session, election_id).export_rows(), fh)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(root / RECORD_DIR, arcname=RECORD_DIR)
            tar.add(root / BOARD_FILE, arcname=BOARD_FILE)
    return buf.getvalue(), record_hash.hex()
