"""Write an election record directory: canonical JSON files, ballots streamed as JSON Lines.

The writer holds no state the verifier could lean on: it only serialises what it is given, then lists
every file's SHA-256 in ``files.json`` and returns the record hash. See ``docs/record-format.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from saylau.crypto import ChallengedBallot, ElectionParameters
from saylau.election.manifest import Manifest, canonical_json
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
        self._f: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()

    def write(self, obj: Any) -> None:
        """Write one object as a line."""
        self._f.write(fmt.canonical_line(obj))
        self.count += 1

    def close(self) -> None:
        """Flush and close the file."""
        self._f.close()

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
    ballots: Iterable[SubmittedBallot],
    challenged: Iterable[ChallengedBallot],
    tallies: Iterable[TallyEntry],
    on_ballot: Any = None,
    *,
    board_rows: Iterable[dict[str, Any]],
) -> bytes:
    """Write the whole record into ``out_dir`` (created if needed) and return the record hash.

    ``ballots`` is consumed once, streaming, and must come grouped by device in chain order;
    ``on_ballot`` (optional) is called after each ballot line, for progress bars. ``board_rows`` is the
    bulletin board's export (``BulletinBoard.export_rows()``: header, entries, checkpoints), written as
    canonical JSON Lines.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(out_dir / fmt.MANIFEST, manifest.to_json_obj())
    _write_json(out_dir / fmt.PARAMETERS, parameters_document(manifest, params))
    _write_json(
        out_dir / fmt.DEVICES,
        {"format": fmt.RECORD_FORMAT, "devices": [d.to_dict() for d in devices]},
    )
    with JsonLinesWriter(out_dir / fmt.BALLOTS) as w:
        for sb in ballots:
            w.write(sb.to_dict())
            if on_ballot is not None:
                on_ballot()
    with JsonLinesWriter(out_dir / fmt.CHALLENGED) as w:
        for opened in challenged:
            w.write(opened.to_dict())
    entries = list(tallies)
    with JsonLinesWriter(out_dir / fmt.TALLIES) as w:
        for entry in entries:
            w.write(entry.to_dict())
    _write_json(out_dir / fmt.RESULTS, results_summary(manifest, entries))
    with JsonLinesWriter(out_dir / fmt.BOARD) as w:
        for row in board_rows:
            w.write(row)
    return write_files_manifest(out_dir)


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
