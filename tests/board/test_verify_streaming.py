"""Board verification streams its rows: memory stays flat however many entries the board has."""

import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from saylau.board import (
    BoardSigner,
    BulletinBoard,
    MemoryBoardStore,
    iter_jsonl,
    read_jsonl,
    verify_board,
    verify_board_file,
    write_jsonl,
)
from saylau.errors import BoardError


def _write_board(path: Path, entries: int) -> str:
    """A closed board of ``entries`` ballot-like entries, written as JSON Lines; returns its head hash."""
    board = BulletinBoard("e-big", MemoryBoardStore(), BoardSigner.generate(), checkpoint_every=1000)
    for i in range(entries):
        code = f"{i:064x}"
        board.append("ballot", {"ballot_id": f"b{i}", "device_id": f"d{i % 97}", "code": code}, code=code)
    board.close()
    head = board.store.head()
    assert head is not None
    with path.open("w", encoding="utf-8") as fh:
        write_jsonl(board.export_rows(), fh)
    return head.entry_hash


@pytest.mark.parametrize("entries", [5_000, pytest.param(50_000, marks=pytest.mark.slow)])
def test_a_large_board_verifies_in_flat_memory(tmp_path: Path, entries: int) -> None:
    path = tmp_path / "board.jsonl"
    head = _write_board(path, entries)  # the board itself is gone before anything is measured

    tracemalloc.start()
    try:
        with path.open(encoding="utf-8") as fh:
            rows = read_jsonl(fh)
        held = tracemalloc.get_traced_memory()[0]  # what merely holding the parsed rows takes
        del rows
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        summary = verify_board_file(path, require_final=True)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()

    assert summary.count == entries
    assert summary.checkpoints == entries // 1000 + 1
    assert summary.final and summary.head_hash == head
    assert held > entries * 1000  # the rows are ~2 KB each in memory: holding them is what is avoided
    assert peak < held / 50, f"peak {peak} bytes while verifying; holding the rows takes {held}"
    assert peak < 1_000_000  # and it does not grow with the board: one row and one checkpoint at a time


def test_verification_consumes_rows_one_at_a_time(tmp_path: Path) -> None:
    """A broken link is reported without reading the rest of the rows."""
    path = tmp_path / "board.jsonl"
    _write_board(path, 50)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[11] = lines[11].replace('"b10"', '"b99"')  # entry at position 10 (header first)
    pulled = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal pulled
        for row in iter_jsonl(lines):
            pulled += 1
            yield row

    with pytest.raises(BoardError, match="position 10: payload does not match"):
        verify_board(rows())
    assert pulled == 12


def test_a_signed_checkpoint_before_any_entry_is_refused() -> None:
    signer = BoardSigner.generate()
    board = BulletinBoard("e", MemoryBoardStore(), signer, checkpoint_every=4)
    cp = signer.sign("e", -1, "00" * 32, "2024-01-01T00:00:00.000000Z", final=False)
    rows = [board.header(), {"type": "checkpoint", **cp.to_dict()}]
    with pytest.raises(BoardError, match="position -1: signed head differs from the entry hash"):
        verify_board(rows)
