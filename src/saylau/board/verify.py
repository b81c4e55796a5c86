"""Independent verification of a downloaded bulletin board (chain, checkpoints, signatures).

Needs nothing but the exported rows: it is what an observer runs on ``board.jsonl`` and what the
election-record verifier calls. The rows are streamed: memory stays constant in the number of entries
(the verifier keeps the last entry hash and the last checkpoint, nothing per entry), so a national board
of millions of entries verifies in the memory of one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from saylau.board.chain import TIME_PATTERN, BoardEntry, genesis_hash
from saylau.board.checkpoint import Checkpoint, public_key_from_hex
from saylau.errors import BoardError

__all__ = ["BoardSummary", "iter_jsonl", "read_jsonl", "verify_board", "verify_board_file", "write_jsonl"]


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


def iter_jsonl(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Parse JSON Lines one line at a time; ``BoardError`` names the line that is not a JSON object."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue

        def constant(text: str, number: int = number) -> Any:  # NaN / Infinity are not JSON numbers
            raise BoardError(f"board file line {number}: {text} is not a JSON number")

        try:
            row = json.loads(line, parse_constant=constant)
        except json.JSONDecodeError as exc:
            raise BoardError(f"board file line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise BoardError(f"board file line {number}: not a JSON object")
        yield row


def read_jsonl(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Parse all of a JSON Lines text (``iter_jsonl`` streams it instead)."""
    return list(iter_jsonl(lines))


def verify_board(
    rows: Iterable[dict[str, Any]],
    expected_public_key: str | None = None,
    require_final: bool = False,
    elided_kinds: frozenset[str] = frozenset(),
) -> BoardSummary:
    """Check every link and checkpoint of an exported board; raise ``BoardError`` naming the position.

    ``rows`` is consumed once, in order, and no row is kept after the next one is asked for.
    ``elided_kinds``: entries of these kinds come without their ``payload`` (an election record's copy
    of the board, ``docs/record-format.md`` §11); their ``payload_hash`` is the caller's to check.
    """
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

    count = 0  # entries checked so far; the next one must carry this position
    head: str | None = None  # entry hash of the last entry checked
    checkpoints = 0
    last_cp: Checkpoint | None = None
    missing: int | None = None  # the first position due a checkpoint that did not get one
    prev = genesis_hash(board_id)
    last_time = ""  # the time of the last row: board times never go backwards
    for row in it:
        kind = row.get("type")
        body = {k: v for k, v in row.items() if k != "type"}
        if kind == "entry":
            if last_cp is not None and last_cp.final:
                msg = f"board entry at position {count}: appears after the final checkpoint"
                raise BoardError(msg)
            elided = body.get("kind") in elided_kinds
            if elided and "payload" in body:
                raise BoardError(
                    f"board entry at position {count}: a {body.get('kind')} entry must omit its payload"
                )
            entry = BoardEntry.from_dict({**body, "payload": {}} if elided else body)
            entry.check(count, prev, payload_elided=elided)
            last_time = _check_time(f"board entry at position {count}", entry.time, last_time)
            if missing is None and _uncovered(count - 1, every, last_cp):
                missing = count - 1  # a checkpoint after position count - 1 can no longer come
            count += 1
            head = prev = entry.entry_hash
        elif kind == "checkpoint":
            cp = Checkpoint.from_dict(body)
            _check_checkpoint(cp, board_id, count, head, public_key)
            last_time = _check_time(f"board checkpoint at position {cp.position}", cp.time, last_time)
            if last_cp is not None and cp.position < last_cp.position:
                raise BoardError(f"board checkpoint at position {cp.position}: out of order")
            last_cp = cp
            checkpoints += 1
        else:
            raise BoardError(f"board row after position {count - 1}: unknown row type {kind!r}")

    if missing is None and _uncovered(count - 1, every, last_cp):
        missing = count - 1
    if missing is not None:
        msg = f"board checkpoint at position {missing}: missing (one is due every {every} entries)"
        raise BoardError(msg)
    final = last_cp is not None and last_cp.final
    if last_cp is not None and final and last_cp.position != count - 1:
        raise BoardError(
            f"board checkpoint at position {last_cp.position}: final, but the board has "
            f"{count} entries (the tail was changed)"
        )
    if require_final and not final:
        msg = f"board {board_id}: no final checkpoint (the board was not closed, or its tail removed)"
        raise BoardError(msg)
    return BoardSummary(
        board_id=board_id,
        public_key=key_hex,
        count=count,
        head_hash=head,
        checkpoints=checkpoints,
        final=final,
    )


def _check_time(where: str, time: str, last: str) -> str:
    """A row's time is a board time (UTC, microseconds, ``Z``) no earlier than the row before it."""
    if not TIME_PATTERN.match(time):
        raise BoardError(f"{where}: time {time[:40]!r} is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ")
    if time < last:
        raise BoardError(f"{where}: time {time} is before the previous row's {last} (times go backwards)")
    return time


def _uncovered(position: int, every: int, last_cp: Checkpoint | None) -> bool:
    """Whether ``position`` (the last entry so far) is due a checkpoint and the last checkpoint is not it.

    A checkpoint must sit right after the entry it covers, so the one for ``position`` can only be the
    last checkpoint seen before the next entry.
    """
    due = position >= 0 and (position + 1) % every == 0
    return due and (last_cp is None or last_cp.position != position)


def _check_checkpoint(cp: Checkpoint, board_id: str, count: int, head: str | None, public_key: Any) -> None:
    """``count`` entries checked so far, the last with entry hash ``head``."""
    if cp.board_id != board_id:
        msg = f"board checkpoint at position {cp.position}: for board {cp.board_id!r}, not {board_id!r}"
        raise BoardError(msg)
    cp.verify(public_key)
    if cp.position != count - 1:
        raise BoardError(
            f"board checkpoint at position {cp.position}: placed after entry {count - 1} "
            "(entries were removed, inserted or reordered)"
        )
    if cp.count != cp.position + 1:
        raise BoardError(f"board checkpoint at position {cp.position}: count {cp.count} is not position + 1")
    if head != cp.entry_hash:
        msg = f"board checkpoint at position {cp.position}: signed head differs from the entry hash"
        raise BoardError(msg)


def verify_board_file(
    path: Path, expected_public_key: str | None = None, require_final: bool = False
) -> BoardSummary:
    """Verify a ``board.jsonl`` file, streaming it line by line."""
    with path.open(encoding="utf-8") as fh:
        return verify_board(iter_jsonl(fh), expected_public_key, require_final)
