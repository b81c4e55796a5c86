"""Read an election record directory, streaming: canonical JSON files and JSON Lines.

The reader only parses; every check of meaning lives in the verifier. Each line must already be in
RFC 8785 form, so that a byte changed without changing the value (spaces, escapes) is caught too.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from saylau.errors import RecordError
from saylau.record import format as fmt

__all__ = ["RecordReader"]


class RecordReader:
    """Read-only access to the files of one record directory."""

    def __init__(self, record_dir: Path) -> None:
        self.dir = Path(record_dir)
        if self.dir.is_file():
            raise RecordError(
                f"{self.dir} is a file, not a record directory (a downloaded record archive: extract it "
                "first, e.g. tar xzf, and verify the directory it holds)"
            )
        if not self.dir.is_dir():
            raise RecordError(f"record directory {self.dir} does not exist")

    def path(self, name: str) -> Path:
        """Path of a record file; raises ``RecordError`` when it is missing."""
        p = self.dir / name
        if not p.is_file():
            raise RecordError(f"record file {name} is missing")
        return p

    def raw(self, name: str) -> bytes:
        """The bytes of a whole (small) record file."""
        return self.path(name).read_bytes()

    def json(self, name: str) -> Any:
        """A whole-file JSON document, which must be canonical."""
        return fmt.parse_canonical(self.raw(name), name)

    def lines(self, name: str) -> Iterator[tuple[int, Any]]:
        """``(line number from 1, parsed object)`` for each line of a JSON Lines file."""
        for no, line in self.raw_lines(name):
            yield no, self.parse_line(line, name, no)

    def raw_lines(self, name: str) -> Iterator[tuple[int, bytes]]:
        """``(line number, raw bytes with the newline)`` for each line, unparsed (for worker processes)."""
        no = 0
        try:
            with fmt.open_lines(self.path(name)) as f:
                for no, line in enumerate(f, start=1):
                    yield no, line
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise RecordError(f"{name}: not a complete gzip file after line {no} ({exc})") from exc

    @staticmethod
    def parse_line(line: bytes, name: str, no: int) -> Any:
        """Parse one JSON Lines line; it must be canonical and end with exactly one newline."""
        if not line.endswith(b"\n"):
            raise RecordError(f"{name} line {no}: does not end with a newline")
        return fmt.parse_canonical(line[:-1], f"{name} line {no}")
