"""Write an election record from board rows encoded elsewhere: the national simulation's writer.

The simulation's workers encode each board row with the writer's own encoders (``format.canonical_line``,
or ``board.hashing.canonical_object`` around an already canonical ballot); this module checks each
line's shape (one terminating newline, none inside) and streams the rows into ``writer.write_record``,
which derives the ballot files from the board's ``ballot`` and ``challenge`` entries (each ballot held
once). Whether a row is canonical and means what it should is the verifier's job, as for any record
(``docs/record-format.md``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from saylau.crypto import ElectionParameters
from saylau.election.manifest import Manifest
from saylau.errors import RecordError
from saylau.record.tally import TallyEntry
from saylau.record.writer import write_record
from saylau.voting.device import DeviceRecord

__all__ = ["write_record_stream"]


def write_record_stream(
    out_dir: Path,
    manifest: Manifest,
    params: ElectionParameters,
    devices: Sequence[DeviceRecord],
    tallies: Sequence[TallyEntry],
    board_lines: Iterable[bytes],
    on_board_line: Callable[[], None] | None = None,
) -> bytes:
    """Write the record into ``out_dir`` and return its record hash (as ``writer.write_record`` does).

    ``board_lines`` are the board export's rows (header, entries, checkpoints) as canonical JSON lines,
    consumed once, so a caller may build the board while this writes it. The record holds each ballot
    once (``docs/record-format.md`` §2): ``writer.write_record`` takes the ballots and openings from the
    board's ``ballot`` and ``challenge`` entries, so nothing else needs to be given.
    """

    def rows() -> Iterator[dict[str, Any]]:
        for number, line in enumerate(board_lines, start=1):
            if not line.endswith(b"\n") or b"\n" in line[:-1]:
                raise RecordError(f"board line {number}: not one newline-terminated JSON line")
            yield json.loads(line)
            if on_board_line is not None:
                on_board_line()

    return write_record(out_dir, manifest, params, devices, None, None, tallies, board_rows=rows())
