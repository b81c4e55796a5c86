"""The public bulletin board: append-only, hash-chained, with signed checkpoints.

Safe to import without the server: it depends only on ``rfc8785``, ``hashlib`` and ``cryptography``.
The format is documented in ``docs/board-format.md``.
"""

from __future__ import annotations

from saylau.board.chain import KINDS, BoardEntry, genesis_hash, make_entry, payload_hash
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
    "BoardEntry",
    "BoardSigner",
    "BoardStore",
    "BoardSummary",
    "BulletinBoard",
    "Checkpoint",
    "MemoryBoardStore",
    "genesis_hash",
    "iter_jsonl",
    "make_entry",
    "payload_hash",
    "read_jsonl",
    "verify_board",
    "verify_board_file",
    "write_jsonl",
]
