"""Write an election record directory: canonical JSON files, ballots streamed as JSON Lines.

The writer holds no state the verifier could lean on: it only serialises what it is given (the ballots
as the board published them, each once), then lists every file's SHA-256 in ``files.json`` and returns
the record hash. See ``docs/record-format.md``.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from saylau.crypto import ChallengedBallot, ElectionParameters
from saylau.election.manifest import Manifest, canonical_json
from saylau.errors import RecordError
from saylau.record import format as fmt
from saylau.record.tally import TallyEntry, results_summary
from saylau.voting.device import DeviceRecord
from saylau.voting.submitted import SubmittedBallot

__all__ = ["JsonLinesWriter", "write_record"]


class JsonLinesWriter:
    """Appends canonical JSON lines to a file (one object per line, RFC 8785, newline-terminated)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._f: IO[bytes] = fmt.open_lines_for_writing(path)

    def write(self, obj: Any) -> None:
        """Write one object as a line."""
        self._f.write(fmt.canonical_line(obj))
        self.count += 1

    def close(self) -> None:
        """Flush and close the file (a gzip one closes its underlying file too)."""
        inner = getattr(self._f, "fileobj", None)
        self._f.close()
        if inner is not None:
            inner.close()

    def __enter__(self) -> JsonLinesWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_json(path: Path, obj: Any) -> None:
    path.write_bytes(canonical_json(obj))


def parameters_document(manifest: Manifest, params: ElectionParameters) -> dict[str, Any]:
    """The content of ``parameters.json``."""
    key = params.joint_key
    return {
        "format": fmt.RECORD_FORMAT,
        "group": fmt.GROUP_NAME,
        "manifest_hash": manifest.manifest_hash().hex(),
        "guardians": key.n,
        "quorum": key.quorum,
        "election": params.to_dict(),
    }


def write_record(
    out_dir: Path,
    manifest: Manifest,
    params: ElectionParameters,
    devices: Iterable[DeviceRecord],
    ballots: Iterable[SubmittedBallot] | None,
    challenged: Iterable[ChallengedBallot] | None,
    tallies: Iterable[TallyEntry],
    on_ballot: Any = None,
    *,
    board_rows: Iterable[dict[str, Any]],
) -> bytes:
    """Write the whole record into ``out_dir`` (created if needed) and return the record hash.

    Each ballot is held once (``docs/record-format.md`` §2): the board's ``ballot`` and ``challenge``
    entries carry the ballots, so ``ballots.jsonl.gz`` and ``challenged.jsonl`` are written from
    ``board_rows`` (the bulletin board's export, ``BulletinBoard.export_rows()``: header, entries,
    checkpoints), in board order, and the record's ``board.jsonl.gz`` leaves those entries' payloads
    out. ``board_rows`` is consumed once, streaming; the payloads wait in an anonymous, gzip-compressed
    temporary file (about 2 KB per ballot) and memory holds only the superseded ballots' ids.
    ``ballots`` and ``challenged`` (optional, for callers that have them; ``None`` skips) are only
    counted, by state, against what the board holds: a difference raises ``RecordError``.
    ``on_ballot`` (optional) is called after each ballot line, for progress bars.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(out_dir / fmt.MANIFEST, manifest.to_json_obj())
    _write_json(out_dir / fmt.PARAMETERS, parameters_document(manifest, params))
    _write_json(
        out_dir / fmt.DEVICES,
        {"format": fmt.RECORD_FORMAT, "devices": [d.to_dict() for d in devices]},
    )
    written: Counter[str] = Counter()
    positions: Counter[str] = Counter()
    with tempfile.TemporaryFile() as raw_spool:
        with gzip.GzipFile(fileobj=raw_spool, mode="wb", compresslevel=1, mtime=0) as into:
            superseded = _write_board(out_dir / fmt.BOARD, board_rows, into)
        raw_spool.seek(0)
        spool = gzip.GzipFile(fileobj=raw_spool, mode="rb")
        ballot_lines = JsonLinesWriter(out_dir / fmt.BALLOTS)
        openings = JsonLinesWriter(out_dir / fmt.CHALLENGED)
        with spool, ballot_lines as w, openings as cw:
            for raw in spool:
                line, opening = _ballot_line(json.loads(raw), superseded, positions)
                w.write(line)
                written[line["state"]] += 1
                if opening is not None:
                    cw.write(opening)
                if on_ballot is not None:
                    on_ballot()
    _check_counts(written, ballots, challenged)
    entries = list(tallies)
    with JsonLinesWriter(out_dir / fmt.TALLIES) as w:
        for entry in entries:
            w.write(entry.to_dict())
    _write_json(out_dir / fmt.RESULTS, results_summary(manifest, entries))
    return write_files_manifest(out_dir)


def _write_board(path: Path, rows: Iterable[dict[str, Any]], spool: gzip.GzipFile) -> dict[str, str]:
    """Write the record's board (elided payloads), spool those payloads; return superseded id -> by."""
    superseded: dict[str, str] = {}
    with JsonLinesWriter(path) as w:
        for row in rows:
            kind = row.get("kind")
            if row.get("type") == "entry" and kind in fmt.ELIDED_KINDS:
                spool.write(fmt.fast_canonical(row["payload"]) + b"\n")
                row = {k: v for k, v in row.items() if k != "payload"}
            elif row.get("type") == "entry" and kind == "superseded":
                superseded[row["payload"]["ballot_id"]] = row["payload"]["by"]
            w.write(row)
    return superseded


def _ballot_line(
    payload: dict[str, Any], superseded: dict[str, str], positions: Counter[str]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The ``ballots.jsonl`` line of one elided entry's payload, and its ``challenged.jsonl`` line if any.

    ``positions`` counts each device's ballots so far: the sequence is the ballot's chain position (the
    board holds each device's entries in chain order).
    """
    opened = payload.get("challenged")
    ballot = opened["ballot"] if opened is not None else payload["ballot"]
    bid, device = ballot["ballot_id"], payload["device_id"]
    state = "challenged" if opened is not None else "superseded" if bid in superseded else "cast"
    line = {
        "ballot": ballot,
        "device_id": device,
        "station_id": payload["station_id"],
        "sequence": positions[device],
        "state": state,
        "superseded_by": superseded.get(bid) if state == "superseded" else None,
    }
    positions[device] += 1
    opening = None
    if opened is not None:
        opening = {"ballot_id": bid, "ballot_nonce": opened["ballot_nonce"], "choices": opened["choices"]}
    return line, opening


def _check_counts(
    written: Counter[str],
    ballots: Iterable[SubmittedBallot] | None,
    challenged: Iterable[ChallengedBallot] | None,
) -> None:
    if ballots is not None:
        given = Counter(sb.state for sb in ballots)
        if +given != +written:
            raise RecordError(
                f"record: the board holds ballots {dict(written)}, the caller gave {dict(given)}"
            )
    if challenged is not None:
        n = sum(1 for _ in challenged)
        if n != written["challenged"]:
            raise RecordError(
                f"record: the board holds {written['challenged']} challenges, the caller gave {n}"
            )


def write_files_manifest(out_dir: Path) -> bytes:
    """(Re)write ``files.json`` listing every data file's SHA-256 and size; return the record hash."""
    files = []
    for name in fmt.DATA_FILES:
        digest, size = fmt.file_sha256(out_dir / name)
        files.append({"name": name, "sha256": digest, "bytes": size})
    doc = {"format": fmt.RECORD_FORMAT, "files": files}
    data = canonical_json(doc)
    (out_dir / fmt.FILES).write_bytes(data)
    return fmt.record_hash(data)
