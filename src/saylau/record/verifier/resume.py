"""Incremental verification: the state of the ballot pass at a board checkpoint, saved and resumed.

After a full verification the verifier can save (``--state FILE``) what its ballot pass had established
at the last signed board checkpoint before the close of voting: how many lines of ``ballots.jsonl.gz``,
``challenged.jsonl`` and ``board.jsonl.gz`` lay before it and the SHA-256 of those (decompressed)
bytes, and the pass's running state there (each device's chain head, each station's encrypted sum,
the revote tags and links, the counts). Given that file, a later verification of a record whose earlier
part is unchanged hashes that part instead of parsing and proving it again, restores the state and
checks only the ballots after the checkpoint; a changed byte in the earlier part changes its hash and
fails. The file holds nothing secret; its own integrity is the observer's (keep it where they keep
their checkpoints): a forged state file can only make a verifier skip work it was told it had done.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saylau.errors import RecordError
from saylau.record import format as fmt
from saylau.record.reader import RecordReader

__all__ = ["STATE_FORMAT", "ResumePoint", "prefix_sha256"]

STATE_FORMAT = "saylau-verify-state/1"


def prefix_sha256(reader: RecordReader, name: str, lines: int) -> str:
    """SHA-256 (hex) of the first ``lines`` lines of a record file, decompressed; ``RecordError`` if short."""
    h = hashlib.sha256()
    n = 0
    if lines:
        for n, line in reader.raw_lines(name):
            h.update(line)
            if n == lines:
                break
    if n != lines:
        raise RecordError(f"{name}: has {n} lines, the part verified earlier had {lines}")
    return h.hexdigest()


@dataclass
class ResumePoint:
    """Where a ballot pass stood at a board checkpoint: the line counts before it, their hashes, its state."""

    election_id: str
    base_hash: str
    position: int  # the checkpoint's board position
    entry_hash: str  # the entry hash it signs
    lines: dict[str, int]  # record file -> lines before the checkpoint (board: up to and including it)
    sha256: dict[str, str] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def seal(self, reader: RecordReader) -> None:
        """Hash the earlier part of each file (after the whole record verified)."""
        self.sha256 = {name: prefix_sha256(reader, name, n) for name, n in self.lines.items()}

    def check_unchanged(self, reader: RecordReader) -> None:
        """The earlier part of each file is byte for byte the one verified before (``RecordError``)."""
        for name, n in self.lines.items():
            if prefix_sha256(reader, name, n) != self.sha256.get(name):
                raise RecordError(
                    f"{name}: its first {n} lines, verified earlier up to the board checkpoint at position "
                    f"{self.position}, have changed (SHA-256 differs from the state file's)"
                )

    def save(self, path: Path) -> None:
        """Write the state file (JSON)."""
        doc = {
            "format": STATE_FORMAT,
            "record_format": fmt.RECORD_FORMAT,
            "election_id": self.election_id,
            "base_hash": self.base_hash,
            "checkpoint": {"position": self.position, "entry_hash": self.entry_hash},
            "lines": self.lines,
            "sha256": self.sha256,
            "state": self.state,
        }
        path.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ResumePoint:
        """Read a state file; ``RecordError`` naming what is wrong with it."""
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RecordError(f"verification state {path}: cannot be read ({exc})") from exc
        if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
            raise RecordError(f"verification state {path}: not a {STATE_FORMAT} file")
        if doc.get("record_format") != fmt.RECORD_FORMAT:
            raise RecordError(f"verification state {path}: written for {doc.get('record_format')!r} records")
        try:
            cp = doc["checkpoint"]
            return cls(
                str(doc["election_id"]),
                str(doc["base_hash"]),
                int(cp["position"]),
                str(cp["entry_hash"]),
                {str(k): int(v) for k, v in doc["lines"].items()},
                {str(k): str(v) for k, v in doc["sha256"].items()},
                dict(doc["state"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RecordError(f"verification state {path}: malformed ({exc})") from exc
