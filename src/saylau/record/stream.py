"""Write an election record from lines encoded elsewhere: the national simulation's streaming writer.

``writer.write_record`` serialises objects it is given; at national size that serialisation (RFC 8785
of ~4 KB per ballot, twice) is most of the work, so the simulation's workers encode each ballot line,
opening and board row with the writer's own encoder (``format.canonical_line``, or
``board.hashing.canonical_object`` around an already canonical ballot) and this module only streams
the bytes into the record's files in order, then lists them in ``files.json`` with
``writer.write_files_manifest``. It checks the shape of every line (bytes, one terminating newline,
none inside); whether a line is canonical and means what it should is the verifier's job, as for any
record (``docs/record-format.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from saylau.crypto import ElectionParameters
from saylau.election.manifest import Manifest, canonical_json
from saylau.errors import RecordError
from saylau.record import format as fmt
from saylau.record.tally import TallyEntry, results_summary
from saylau.record.writer import JsonLinesWriter, parameters_document, write_files_manifest
from saylau.voting.device import DeviceRecord

__all__ = ["write_encoded_lines", "write_record_stream"]


def write_encoded_lines(
    path: Path, lines: Iterable[bytes], on_line: Callable[[], None] | None = None
) -> int:
    """Write already canonical JSON Lines to ``path``; return how many (``RecordError`` for a bad line)."""
    count = 0
    f: BinaryIO
    with open(path, "wb") as f:
        for line in lines:
            if not line.endswith(b"\n") or b"\n" in line[:-1]:
                raise RecordError(f"{path.name} line {count + 1}: not one newline-terminated JSON line")
            f.write(line)
            count += 1
            if on_line is not None:
                on_line()
    return count


def write_record_stream(
    out_dir: Path,
    manifest: Manifest,
    params: ElectionParameters,
    devices: Sequence[DeviceRecord],
    ballot_lines: Iterable[bytes],
    challenged_lines: Iterable[bytes],
    tallies: Sequence[TallyEntry],
    board_lines: Iterable[bytes],
    on_board_line: Callable[[], None] | None = None,
) -> bytes:
    """Write the record into ``out_dir`` and return its record hash (as ``writer.write_record`` does).

    ``ballot_lines`` must come grouped by device in ``devices`` order, each device in chain order;
    ``board_lines`` are the board export's rows (header, entries, checkpoints), consumed last, so a
    caller may build the board while this writes it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / fmt.MANIFEST).write_bytes(canonical_json(manifest.to_json_obj()))
    (out_dir / fmt.PARAMETERS).write_bytes(canonical_json(parameters_document(manifest, params)))
    (out_dir / fmt.DEVICES).write_bytes(
        canonical_json({"format": fmt.RECORD_FORMAT, "devices": [d.to_dict() for d in devices]})
    )
    write_encoded_lines(out_dir / fmt.BALLOTS, ballot_lines)
    write_encoded_lines(out_dir / fmt.CHALLENGED, challenged_lines)
    with JsonLinesWriter(out_dir / fmt.TALLIES) as w:
        for entry in tallies:
            w.write(entry.to_dict())
    (out_dir / fmt.RESULTS).write_bytes(canonical_json(results_summary(manifest, tallies)))
    write_encoded_lines(out_dir / fmt.BOARD, board_lines, on_board_line)
    return write_files_manifest(out_dir)
