"""Board times come from the board's clock, never go backwards, and the verifier checks both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from saylau.board import (
    BoardSigner,
    BulletinBoard,
    MemoryBoardStore,
    format_time,
    make_entry,
    parse_time,
    verify_board,
)
from saylau.errors import BoardError

T0 = datetime(2022, 11, 20, 1, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_entries_and_checkpoints_carry_the_clocks_time_and_never_go_back() -> None:
    clock = Clock()
    board = BulletinBoard("e", MemoryBoardStore(), BoardSigner.generate(), 2, clock)
    board.append("note", {"n": 0})
    clock.now = T0 + timedelta(hours=1)
    second = board.append("note", {"n": 1})  # position 1: a periodic checkpoint is due
    clock.now = T0 - timedelta(hours=5)  # the clock steps back
    third = board.append("note", {"n": 2})
    final = board.close()
    rows = list(board.export_rows())
    assert [r["time"] for r in rows[1:]] == [
        "2022-11-20T01:00:00.000000Z",
        "2022-11-20T02:00:00.000000Z",
        "2022-11-20T02:00:00.000000Z",  # the checkpoint on position 1: its entry's time
        "2022-11-20T02:00:00.000000Z",  # kept, not the clock's earlier time
        "2022-11-20T02:00:00.000000Z",
    ]
    assert second.time == third.time == final.time
    assert verify_board(rows, require_final=True).final


def test_a_given_time_is_used_but_never_before_the_head() -> None:
    board = BulletinBoard("e", MemoryBoardStore(), BoardSigner.generate(), 10, lambda: T0)
    assert board.append("note", {}, time="2022-11-20T03:00:00.000000Z").time == "2022-11-20T03:00:00.000000Z"
    assert board.append("note", {}, time="2022-11-20T02:00:00.000000Z").time == "2022-11-20T03:00:00.000000Z"
    with pytest.raises(ValueError, match="not of the form"):
        board.append("note", {}, time="2022-11-20 04:00")


def test_format_and_parse_time() -> None:
    local = datetime(2022, 11, 20, 7, 0, tzinfo=UTC).astimezone()
    assert format_time(local) == "2022-11-20T07:00:00.000000Z"
    assert parse_time("2022-11-20T07:00:00.000000Z") == datetime(2022, 11, 20, 7, 0, tzinfo=UTC)
    for bad in ("2022-11-20T07:00:00Z", "2022-11-20T07:00:00.000000+00:00", "noon"):
        with pytest.raises(ValueError, match="not of the form"):
            parse_time(bad)
    with pytest.raises(ValueError, match="UTC offset"):
        format_time(datetime(2022, 11, 20, 7, 0))


def _rows(times: list[str]) -> list[dict[str, Any]]:
    """A signed board whose entries carry exactly ``times`` (no clamping: a forger's board)."""
    signer = BoardSigner.generate()
    rows: list[dict[str, Any]] = [
        BulletinBoard("e", MemoryBoardStore(), signer, 100).header()
    ]
    prev = None
    for i, t in enumerate(times):
        prev = make_entry(prev, "e", "note", {"n": i}, time=t)
        rows.append({"type": "entry", **prev.to_dict()})
    assert prev is not None
    cp = signer.sign("e", prev.position, prev.entry_hash, prev.time, final=True)
    return [*rows, {"type": "checkpoint", **cp.to_dict()}]


def test_verify_board_refuses_times_that_go_backwards() -> None:
    rows = _rows(["2022-11-20T02:00:00.000000Z", "2022-11-20T01:59:59.999999Z"])
    back = r"board entry at position 1: time 2022-11-20T01:59:59\.999999Z is before"
    with pytest.raises(BoardError, match=back):
        verify_board(rows)


def test_verify_board_refuses_a_malformed_time() -> None:
    rows = _rows(["2022-11-20T02:00:00Z"])
    with pytest.raises(BoardError, match=r"board entry at position 0: time '2022-11-20T02:00:00Z' is not of"):
        verify_board(rows)


def test_verify_board_refuses_a_checkpoint_earlier_than_its_entry() -> None:
    signer = BoardSigner.generate()
    e = make_entry(None, "e", "note", {}, time="2022-11-20T02:00:00.000000Z")
    cp = signer.sign("e", 0, e.entry_hash, "2022-11-20T01:00:00.000000Z", final=True)
    header = {**BulletinBoard("e", MemoryBoardStore(), signer, 100).header()}
    rows = [header, {"type": "entry", **e.to_dict()}, {"type": "checkpoint", **cp.to_dict()}]
    with pytest.raises(BoardError, match=r"board checkpoint at position 0: time \S+ is before"):
        verify_board(rows)
