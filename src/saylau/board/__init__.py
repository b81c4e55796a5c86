"""The public bulletin board: append-only, hash-chained, with signed checkpoints.

Safe to import without the server: it depends only on ``rfc8785``, ``hashlib`` and ``cryptography``.
The format is documented in ``docs/board-format.md``.
"""

from __future__ import annotations

from saylau.board.chain import (
    KINDS,
    TIME_PATTERN,
    BoardEntry,
    Clock,
    format_time,
    genesis_hash,
    make_entry,
    parse_time,
    payload_hash,
    system_clock,
)
from saylau.board.checkpoint import BoardSigner, Checkpoint
from saylau.board.log import DEFAULT_CHECKPOINT_EVERY, BoardStore, BulletinBoard, MemoryBoardStore
from saylau.board.verify import (
    BoardSummary,
    iter_jsonl,
    read_jsonl,
    verify_board,
    verify_board_file,
    write_jsonl,
)

__all__ = [
    "DEFAULT_CHECKPOINT_EVERY",
    "KINDS",
    "TIME_PATTERN",
    "BoardEntry",
    "BoardSigner",
    "BoardStore",
    "BoardSummary",
    "BulletinBoard",
    "Checkpoint",
    "Clock",
    "MemoryBoardStore",
    "format_time",
    "genesis_hash",
    "iter_jsonl",
    "make_entry",
    "parse_time",
    "payload_hash",
    "read_jsonl",
    "system_clock",
    "verify_board",
    "verify_board_file",
    "write_jsonl",
]
