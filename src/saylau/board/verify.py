"""Independent verification of a downloaded bulletin board (chain, checkpoints, signatures).

Needs nothing but the exported rows: it is what an observer runs on ``board.jsonl`` and what the
election-record verifier calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from saylau.board.chain import BoardEntry, genesis_hash
from saylau.board.checkpoint import Checkpoint, public_key_from_hex
from saylau.errors import BoardError

__all__ = ["BoardSummary", "read_jsonl", "verify_board", "verify_board_file", "write_jsonl"]


@dataclass(frozen=True)
class BoardSummary:
    """What a successful verification established."""

    board_id: str
    public_key: str
    count: int
    head_hash: str | None
    checkpoints: int
    final: bool


def write_jsonl(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """Write rows as JSON Lines (compact, UTF-8, one object per line); returns the number of rows."""
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        n += 1
    return n


def read_jsonl(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Parse JSON Lines; ``BoardError`` names the line that is not a JSON object."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BoardError(f"board file line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise BoardError(f"board file line {number}: not a JSON object")
        rows.append(row)
    return rows


def verify_board(
    rows: Iterable[dict[str, Any]],
    expected_public_key: str | None = None,
    require_final: bool = False,
) -> BoardSummary:
    """Check every link and checkpoint of an exported board; raise ``BoardError`` naming the position."""
    it = iter(rows)
    header = next(it, None)
    if header is None or header.get("type") != "header":
        raise BoardError("board file: the first row must be the header")
    board_id = header.get("board_id")
    key_hex = header.get("public_key")
    every = header.get("checkpoint_every")
    if not (isinstance(board_id, str) and isinstance(key_hex, str) and isinstance(every, int) and every >= 1):
        raise BoardError("board header: fields 'board_id', 'public_key', 'checkpoint_every' are required")
    if header.get("format") != "saylau-board/1":
        raise BoardError(f"board header: unknown format {header.get('format')!r}")
    if expected_public_key is not None and key_hex != expected_public_key:
        raise BoardError("board header: public key differs from the expected operator key")
    if header.get("genesis_hash") != genesis_hash(board_id):
        raise BoardError("board header: genesis_hash does not match the board id")
    public_key = public_key_from_hex(key_hex)

    entries: list[BoardEntry] = []
    checkpoints: list[Checkpoint] = []
    prev = genesis_hash(board_id)
    for row in it:
        kind = row.get("type")
        body = {k: v for k, v in row.items() if k != "type"}
        if kind == "entry":
            if checkpoints and checkpoints[-1].final:
                msg = f"board entry at position {len(entries)}: appears after the final checkpoint"
                raise BoardError(msg)
            entry = BoardEntry.from_dict(body)
            entry.check(len(entries), prev)
            entries.append(entry)
            prev = entry.entry_hash
        elif kind == "checkpoint":
            cp = Checkpoint.from_dict(body)
            _check_checkpoint(cp, board_id, entries, public_key)
            if checkpoints and cp.position < checkpoints[-1].position:
                raise BoardError(f"board checkpoint at position {cp.position}: out of order")
            checkpoints.append(cp)
        else:
            raise BoardError(f"board row after position {len(entries) - 1}: unknown row type {kind!r}")

    covered = {cp.position for cp in checkpoints}
    for pos in range(every - 1, len(entries), every):
        if pos not in covered:
            msg = f"board checkpoint at position {pos}: missing (one is due every {every} entries)"
            raise BoardError(msg)
    final = bool(checkpoints) and checkpoints[-1].final
    if final and checkpoints[-1].position != len(entries) - 1:
        raise BoardError(
            f"board checkpoint at position {checkpoints[-1].position}: final, but the board has "
            f"{len(entries)} entries (the tail was changed)"
        )
    if require_final and not final:
        msg = f"board {board_id}: no final checkpoint (the board was not closed, or its tail removed)"
        raise BoardError(msg)
    return BoardSummary(
        board_id=board_id,
        public_key=key_hex,
        count=len(entries),
        head_hash=entries[-1].entry_hash if entries else None,
        checkpoints=len(checkpoints),
        final=final,
    )


def _check_checkpoint(cp: Checkpoint, board_id: str, entries: list[BoardEntry], public_key: Any) -> None:
    if cp.board_id != board_id:
        msg = f"board checkpoint at position {cp.position}: for board {cp.board_id!r}, not {board_id!r}"
        raise BoardError(msg)
    cp.verify(public_key)
    if cp.position != len(entries) - 1:
        raise BoardError(
            f"board checkpoint at position {cp.position}: placed after entry {len(entries) - 1} "
            "(entries were removed, inserted or reordered)"
        )
    if cp.count != cp.position + 1:
        raise BoardError(f"board checkpoint at position {cp.position}: count {cp.count} is not position + 1")
    if entries[cp.position].entry_hash != cp.entry_hash:
        msg = f"board checkpoint at position {cp.position}: signed head differs from the entry hash"
        raise BoardError(msg)


def verify_board_file(
    path: Path, expected_public_key: str | None = None, require_final: bool = False
) -> BoardSummary:
    """Verify a ``board.jsonl`` file."""
    with path.open(encoding="utf-8") as fh:
        return verify_board(read_jsonl(fh), expected_public_key, require_final)
