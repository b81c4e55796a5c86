"""The national bulletin board, built as it is written: a store that keeps only its head.

The demo's board lives in memory (``MemoryBoardStore``); the national one would hold 8 million ballots.
:class:`StreamingBoardStore` is a ``BoardStore`` that keeps the last entry and hands every new entry and
checkpoint over as its export row (canonical JSON Lines bytes), which the record writer streams into
``board.jsonl``. :func:`merged_events` merges the stations' time-ordered board events into the one
time order of the day (ties: station order, then the station's own order), so every station's events
stay in its chain order and board times never go backwards.
"""

from __future__ import annotations

import heapq
import json
import resource
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from saylau.board import BulletinBoard
from saylau.board.chain import BoardEntry
from saylau.board.checkpoint import Checkpoint
from saylau.board.hashing import canonical_json, canonical_object
from saylau.errors import BoardError
from saylau.record import format as fmt

__all__ = ["BoardEvent", "StreamingBoardStore", "allow_open_files", "merged_events", "publish"]

_SPARE_FILES = 256
"""File descriptors kept free beside the merge's (the record's files, libraries, the verifier)."""


def allow_open_files(count: int) -> None:
    """Raise this process's soft limit of open files to hold ``count`` more (one per station's chunk).

    ``BoardError`` naming the limit when even the hard limit is too low.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + _SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            raise BoardError(
                f"merging {count:,} stations' board events needs {wanted:,} open files; the limit is "
                f"{hard:,} (raise it with `ulimit -n {wanted}`)"
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class StreamingBoardStore:
    """A ``BoardStore`` that remembers only its head and queues each new row for the writer."""

    def __init__(self) -> None:
        """Start empty."""
        self._head: BoardEntry | None = None
        self._closed = False
        self.rows: list[bytes] = []
        self.raw_payload: bytes | None = None
        """Canonical bytes of the next entry's payload, when the caller has them (a station's ballot)."""

    def head(self) -> BoardEntry | None:
        """The last entry."""
        return self._head

    def append(self, entry: BoardEntry) -> None:
        """Check the position, keep the entry as head and queue its row."""
        expected = 0 if self._head is None else self._head.position + 1
        if entry.position != expected:
            raise BoardError(f"board entry at position {entry.position}: expected position {expected}")
        self._head = entry
        if self.raw_payload is None:
            self.rows.append(fmt.canonical_line({"type": "entry", **entry.to_dict()}))
            return
        members = {k: canonical_json(v) for k, v in entry.header().items()}
        members |= {"type": b'"entry"', "entry_hash": canonical_json(entry.entry_hash)}
        members["payload"] = self.raw_payload
        self.rows.append(canonical_object(members) + b"\n")
        self.raw_payload = None

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Queue the checkpoint's row (it follows the entry it covers)."""
        self.rows.append(fmt.canonical_line({"type": "checkpoint", **checkpoint.to_dict()}))
        self._closed = self._closed or checkpoint.final

    def entries(self, start: int = 0) -> Iterator[BoardEntry]:
        """Not kept: the rows went to the record."""
        raise BoardError("streaming board store: entries are written out, not kept")

    def checkpoints(self) -> list[Checkpoint]:
        """Not kept: the rows went to the record."""
        raise BoardError("streaming board store: checkpoints are written out, not kept")

    def closed(self) -> bool:
        """Whether the final checkpoint was signed."""
        return self._closed

    def by_code(self, code: str) -> list[BoardEntry]:
        """Not kept (nobody looks codes up during the simulation)."""
        raise BoardError("streaming board store: no lookup by tracking code")

    def drain(self) -> list[bytes]:
        """The rows queued since the last drain."""
        rows, self.rows = self.rows, []
        return rows


def publish(
    board: BulletinBoard,
    store: StreamingBoardStore,
    kind: str,
    payload: dict[str, Any],
    code: str | None = None,
    *,
    time: str | None = None,
    payload_hash: str | None = None,
    raw: bytes | None = None,
) -> list[bytes]:
    """Append one entry and return the export rows it produced (the entry, a checkpoint if due)."""
    store.raw_payload = raw
    board.append(kind, payload, code=code, known_payload_hash=payload_hash, time=time)
    return store.drain()


@dataclass(frozen=True, slots=True)
class BoardEvent:
    """One station event ready for the board."""

    time: str
    station: int
    seq: int
    kind: str
    code: str | None
    payload_hash: str
    raw: bytes


def _station_events(index: int, lines: Iterable[bytes]) -> Iterator[BoardEvent]:
    it = iter(lines)
    for seq, head_line in enumerate(it):
        raw = next(it)[:-1]
        head = json.loads(head_line)
        yield BoardEvent(head["t"], index, seq, head["k"], head["c"], head["h"], raw)


def merged_events(stations: Iterable[tuple[int, Iterable[bytes]]]) -> Iterator[BoardEvent]:
    """Every station's events (``(index, lines of its board chunk)``) in one time order."""
    streams = [_station_events(i, lines) for i, lines in stations]
    allow_open_files(len(streams))
    yield from heapq.merge(*streams, key=lambda e: (e.time, e.station, e.seq))
