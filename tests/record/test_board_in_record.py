"""The record's bulletin board: its chain is verified and every ballot, revote and number is on it."""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_tamper import read_board, read_lines, write_board, write_lines

from saylau.board import BoardSigner, BulletinBoard, MemoryBoardStore
from saylau.board.chain import parse_time
from saylau.errors import VerificationFailed
from saylau.record import format as fmt
from saylau.record.demo import DemoResult
from saylau.record.verifier import RecordVerifier, verify_record

Entry = dict[str, Any]


def fails(record: Path, match: str, **kw: Any) -> str:
    with pytest.raises(VerificationFailed, match=match) as info:
        verify_record(record, **kw)
    return str(info.value)


def entries(record: Path) -> list[Entry]:
    return [r for r in read_board(record) if r["type"] == "entry"]


def rebuild_board(record: Path, change: Callable[[list[Entry]], list[Entry]]) -> None:
    """Rewrite the board the way its operator could: new entries, a fresh chain, re-signed checkpoints."""
    rows = read_board(record)
    header = rows[0]
    items = [r for r in rows if r["type"] == "entry"]
    now = [parse_time(items[0]["time"])]  # the entries keep their times (the board keeps them in order)
    board = BulletinBoard(header["board_id"], MemoryBoardStore(), BoardSigner.generate(), 8, lambda: now[0])
    for e in change(items):
        now[0] = parse_time(e["time"]) if "time" in e else now[0]
        board.append(e["kind"], e["payload"], code=e["code"])
    board.close()
    write_board(record, list(board.export_rows()))


def first(items: list[Entry], kind: str) -> int:
    return next(i for i, e in enumerate(items) if e["kind"] == kind)


def closing(items: list[Entry]) -> int:
    """The close of voting: the ``phase`` entry ``closed`` (an ``open`` one comes before it)."""
    return next(i for i, e in enumerate(items) if e["kind"] == "phase" and e["payload"]["phase"] == "closed")


def last_of_a_device(items: list[Entry]) -> int:
    """A ``ballot`` entry with no later ballot or challenge of its device (moving it keeps chain order)."""
    last: dict[str, int] = {}
    for i, e in enumerate(items):
        if e["kind"] in ("ballot", "challenge"):
            last[e["payload"]["device_id"]] = i
    return next(i for i in sorted(last.values()) if items[i]["kind"] == "ballot")


ORDER = "not this ballot's '(ballot|challenge)' \\(on the board an entry is missing, added, out of"


def test_honest_board_is_checked_and_pinned(small_record: DemoResult) -> None:
    v = RecordVerifier(small_record.out_dir, board_public_key=small_record.board_public_key)
    assert v.run() == small_record.record_hash
    counts = {c.name: c for c in v.checks}
    states = small_record.states
    matched = counts["record matches the board (ballots, closing codes, tallies, results)"]
    assert matched.count == sum(states.values()) + states["superseded"]
    assert counts["revote links (revote tags in board order)"].count == states["superseded"] > 0
    assert "closed (final checkpoint)" in counts["bulletin board: hash chain and signed checkpoints"].detail


def test_another_board_key_is_refused(record_copy: Path) -> None:
    fails(record_copy, "public key differs", board_public_key=BoardSigner.generate().public_key_hex)


def test_changed_board_entry_is_caught(record_copy: Path) -> None:
    rows = read_lines(record_copy / fmt.BOARD)
    i = next(i for i, r in enumerate(rows) if r.get("kind") == "ballot")
    h = rows[i]["payload_hash"]  # the ballot's payload, as the board has it: its last digit changed
    rows[i]["payload_hash"] = h[:-1] + ("1" if h.endswith("0") else "0")
    write_lines(record_copy / fmt.BOARD, rows)
    fails(record_copy, r"board.jsonl.gz: board entry at position \d+: entry_hash does not match")
    rows[i]["payload"] = {}  # a ballot entry of the record's board carries no payload
    write_lines(record_copy / fmt.BOARD, rows)
    fails(record_copy, r"board.jsonl.gz: board entry at position \d+: a ballot entry must omit its payload")


def test_ballot_changed_on_a_rebuilt_board_is_caught(record_copy: Path) -> None:
    def change(items: list[Entry]) -> list[Entry]:
        items[first(items, "ballot")]["payload"]["station_id"] = "elsewhere"
        return items

    rebuild_board(record_copy, change)
    fails(record_copy, r"board entry at position \d+: payload differs from the one this line implies")


def test_removed_board_entry_is_caught(record_copy: Path) -> None:
    rows = read_board(record_copy)
    i = next(i for i, r in enumerate(rows) if r.get("kind") == "challenge")
    write_board(record_copy, rows[:i] + rows[i + 1 :])
    fails(record_copy, r"board.jsonl.gz: board entry at position \d+")


def test_reordered_board_entries_are_caught(record_copy: Path) -> None:
    rows = read_board(record_copy)
    i = next(i for i, r in enumerate(rows) if r.get("kind") == "ballot")
    rows[i], rows[i + 1] = rows[i + 1], rows[i]
    write_board(record_copy, rows)
    fails(record_copy, r"board.jsonl.gz: board (entry|checkpoint) at position \d+")


def test_ballot_missing_from_a_rebuilt_board_is_caught(record_copy: Path) -> None:
    def drop(items: list[Entry]) -> list[Entry]:
        i = last_of_a_device(items)
        return items[:i] + items[i + 1 :]

    rebuild_board(record_copy, drop)
    fails(record_copy, rf"ballot \S+ \(ballots.jsonl.gz line \d+\): board entry at position \d+ is .*{ORDER}")


def test_entry_dropped_from_the_middle_of_a_device_is_caught(record_copy: Path) -> None:
    """Its device's next entry no longer follows on the board: each device's chain order is checked."""
    rebuild_board(record_copy, lambda items: [e for e in items if e["kind"] != "challenge"])
    fails(record_copy, rf"ballot \S+ \(ballots.jsonl.gz line \d+\): board entry at position \d+ is .*{ORDER}")


def test_challenge_opened_differently_on_the_board_is_caught(record_copy: Path) -> None:
    def other(items: list[Entry]) -> list[Entry]:
        items[first(items, "challenge")]["payload"]["challenged"]["ballot_nonce"] = "00" * 32
        return items

    rebuild_board(record_copy, other)
    fails(
        record_copy,
        r"ballot \S+ \(ballots.jsonl.gz line \d+\): board entry at position \d+: payload differs "
        r"from the one this line implies",
    )


def test_board_entry_missing_from_the_record_is_caught(record_copy: Path) -> None:
    lines = read_lines(record_copy / fmt.BALLOTS)
    cast = next(d["ballot"] for d in lines if d["state"] == "cast")

    def add(items: list[Entry]) -> list[Entry]:
        i = closing(items)
        fake = {"ballot_id": cast["ballot_id"], "code": cast["code"], "by": "nobody"}
        return [*items[:i], {"kind": "superseded", "payload": fake, "code": cast["code"]}, *items[i:]]

    rebuild_board(record_copy, add)
    fails(record_copy, r"board.jsonl.gz: entry at position \d+ \(superseded, .*no counterpart in the record")


def test_ballot_published_twice_is_caught(record_copy: Path) -> None:
    def twice(items: list[Entry]) -> list[Entry]:
        i = first(items, "ballot")
        return [*items[: i + 1], copy.deepcopy(items[i]), *items[i + 1 :]]

    rebuild_board(record_copy, twice)
    fails(record_copy, ORDER)


def test_revote_published_twice_is_caught(record_copy: Path) -> None:
    def twice(items: list[Entry]) -> list[Entry]:
        i = first(items, "superseded")
        return [*items[: i + 1], copy.deepcopy(items[i]), *items[i + 1 :]]

    rebuild_board(record_copy, twice)
    fails(record_copy, r"entry at position \d+ \(superseded, .*\(published twice on the board\)")


def test_ballot_with_another_state_on_the_board_is_caught(record_copy: Path) -> None:
    """A ballot the record calls challenged, published as cast, is not the same entry."""
    lines = read_lines(record_copy / fmt.BALLOTS)
    challenged = next(d for d in lines if d["state"] == "challenged")
    code = challenged["ballot"]["code"]

    def recast(items: list[Entry]) -> list[Entry]:
        i = next(i for i, e in enumerate(items) if e["code"] == code)
        payload = {k: challenged[k] for k in ("ballot", "device_id", "station_id")} | {"state": "cast"}
        items[i] = {"kind": "ballot", "payload": payload, "code": code}
        return items

    rebuild_board(record_copy, recast)
    fails(record_copy, ORDER)


def test_wrong_closing_code_on_the_board_is_caught(record_copy: Path) -> None:
    def wrong(items: list[Entry]) -> list[Entry]:
        i = closing(items)
        items[i]["payload"]["devices"][0]["closing_code"] = "00" * 32
        return items

    rebuild_board(record_copy, wrong)
    fails(record_copy, r"device \S+: closing code, count or station differ from the board")


def test_closing_codes_missing_from_the_board_are_caught(record_copy: Path) -> None:
    def drop(items: list[Entry]) -> list[Entry]:  # (the protocols, published after the close, too)
        return [e for i, e in enumerate(items) if i != closing(items) and e["kind"] != "protocol"]

    rebuild_board(record_copy, drop)
    fails(record_copy, "0 close-of-voting entries")


def test_ballot_after_the_close_is_caught(record_copy: Path) -> None:
    def late(items: list[Entry]) -> list[Entry]:
        i, j = last_of_a_device(items), closing(items)
        return [*items[:i], *items[i + 1 : j + 1], items[i], *items[j + 1 :]]

    rebuild_board(record_copy, late)
    fails(record_copy, "published after the close of voting")


def test_results_differing_from_the_board_are_caught(record_copy: Path) -> None:
    def other(items: list[Entry]) -> list[Entry]:
        i = first(items, "result")
        items[i]["payload"]["results"]["nation"]["ballots"] += 1
        return items

    rebuild_board(record_copy, other)
    fails(record_copy, r"results.json: differs from the board's 'result' entry")


def test_tally_missing_from_the_board_is_caught(record_copy: Path) -> None:
    rebuild_board(record_copy, lambda items: [e for e in items if e["kind"] != "tally"])
    fails(record_copy, "no 'tally' entry")


def test_redirected_revote_link_is_caught(record_copy: Path) -> None:
    """The forger rewrites ballots.jsonl and the board consistently, with the same tallies: tags catch it."""
    lines = read_lines(record_copy / fmt.BALLOTS)
    old = next(d for d in lines if d["state"] == "superseded")
    successors = {d["superseded_by"] for d in lines}
    other = next(
        d
        for d in lines
        if d["state"] == "cast"
        and d["station_id"] == old["station_id"]
        and d["ballot"]["ballot_id"] not in successors
    )
    new_by = other["ballot"]["ballot_id"]
    old["superseded_by"] = new_by
    write_lines(record_copy / fmt.BALLOTS, lines)

    def redirect(items: list[Entry]) -> list[Entry]:
        for e in items:
            if e["kind"] == "superseded" and e["payload"]["ballot_id"] == old["ballot"]["ballot_id"]:
                e["payload"]["by"] = new_by
        return items

    rebuild_board(record_copy, redirect)
    fails(
        record_copy,
        rf"ballot {old['ballot']['ballot_id']}: a later ballot of the same voter .* superseded by {new_by}",
    )


def test_counted_ballot_swapped_within_a_voter_is_caught(record_copy: Path) -> None:
    """Counting a voter's coerced (earlier) ballot instead of the last one: the recount catches it here
    (the demo's coerced and final votes differ); the board-order test below covers equal votes."""
    rows = entries(record_copy)
    sup = next(e for e in rows if e["kind"] == "superseded")
    a, b = sup["payload"]["ballot_id"], sup["payload"]["by"]
    lines = read_lines(record_copy / fmt.BALLOTS)
    for d in lines:
        if d["ballot"]["ballot_id"] == a:
            d["state"], d["superseded_by"] = "cast", None
        elif d["ballot"]["ballot_id"] == b:
            d["state"], d["superseded_by"] = "superseded", a
    write_lines(record_copy / fmt.BALLOTS, lines)

    def swap(items: list[Entry]) -> list[Entry]:
        for e in items:
            if e["kind"] == "superseded" and e["payload"]["ballot_id"] == a:
                code = next(d["ballot"]["code"] for d in lines if d["ballot"]["ballot_id"] == b)
                e["payload"] = {"ballot_id": b, "code": code, "by": a}
                e["code"] = code
        return items

    rebuild_board(record_copy, swap)
    fails(record_copy, "encrypted tally differs from the sum of its cast ballots")


def test_revote_order_rewritten_on_the_board_is_caught(record_copy: Path) -> None:
    """The operator re-publishes a voter's last ballot before the earlier one: the earlier one would count.

    On one device the chain order catches it; across devices the revote tags do (test_revotes.py).
    """
    sup = next(e for e in entries(record_copy) if e["kind"] == "superseded")
    a, b = sup["payload"]["ballot_id"], sup["payload"]["by"]

    def reorder(items: list[Entry]) -> list[Entry]:
        ia = next(
            i
            for i, e in enumerate(items)
            if e["kind"] == "ballot" and e["payload"]["ballot"]["ballot_id"] == a
        )
        ib = next(
            i
            for i, e in enumerate(items)
            if e["kind"] == "ballot" and e["payload"]["ballot"]["ballot_id"] == b
        )
        items[ia], items[ib] = items[ib], items[ia]
        return items

    rebuild_board(record_copy, reorder)
    fails(
        record_copy,
        rf"ballot \S+ \(ballots.jsonl.gz line \d+\): board entry at position \d+ is .*{ORDER}",
    )


def _leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaves(v, (*path, k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaves(v, (*path, i))]
    return [path] if isinstance(obj, str | int) and not isinstance(obj, bool) else []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_value_changed_on_the_board_is_caught(
    small_record: DemoResult, tmp_path: Path, data: Any
) -> None:
    """A changed string or number anywhere on the record's board (files.json rehashed) fails verification."""
    record = Path(tempfile.mkdtemp(dir=tmp_path)) / "record"
    shutil.copytree(small_record.out_dir, record)
    rows = read_lines(record / fmt.BOARD)
    row = data.draw(st.integers(0, len(rows) - 1))
    # the header's checkpoint period is signed by nothing (docs/record-format.md §13): raising it only
    # waives checkpoints, which the record hash still covers
    leaves = [p for p in _leaves(rows[row]) if not (row == 0 and p == ("checkpoint_every",))]
    path = data.draw(st.sampled_from(leaves))
    target = rows[row]
    for key in path[:-1]:
        target = target[key]
    value = target[path[-1]]
    target[path[-1]] = (
        value + 1 if isinstance(value, int) else (value[:-1] + ("0" if value[-1:] != "0" else "1"))
    )
    write_lines(record / fmt.BOARD, rows)
    with pytest.raises(VerificationFailed):
        verify_record(record)


BOARD_CHECK = "bulletin board: hash chain and signed checkpoints"


def fails_board_check(record: Path, match: str) -> None:
    """Verification stops at the board check, which is the failed one, with a message matching ``match``."""
    v = RecordVerifier(record)
    with pytest.raises(VerificationFailed, match=match):
        v.run()
    assert v.checks[-1].name == BOARD_CHECK and not v.checks[-1].passed, v.checks[-1]


def test_the_record_board_ends_with_its_final_checkpoint(small_record: DemoResult) -> None:
    rows = read_board(small_record.out_dir)
    last = [r for r in rows if r["type"] == "entry"][-1]
    assert rows[-1]["type"] == "checkpoint" and rows[-1]["final"] is True
    assert (rows[-1]["position"], rows[-1]["entry_hash"]) == (last["position"], last["entry_hash"])


def test_removed_final_checkpoint_is_caught(record_copy: Path) -> None:
    rows = read_board(record_copy)
    assert rows[-1]["type"] == "checkpoint" and rows[-1]["final"] is True
    write_board(record_copy, rows[:-1])
    fails_board_check(record_copy, r"board.jsonl.gz: board \S+: no final checkpoint")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("final", False, "signature does not verify"),
        ("time", "2000-01-01T00:00:00.000000Z", "signature does not verify"),
        ("signature", "00" * 64, "signature does not verify"),
        ("entry_hash", "00" * 32, "signature does not verify"),
    ],
)
def test_tampered_final_checkpoint_is_caught(record_copy: Path, field: str, value: Any, match: str) -> None:
    rows = read_board(record_copy)
    rows[-1][field] = value
    write_board(record_copy, rows)
    fails_board_check(record_copy, rf"board.jsonl.gz: board checkpoint at position \d+: {match}")


def test_final_checkpoint_moved_back_over_the_tail_is_caught(record_copy: Path) -> None:
    """The operator drops the last entry (the result) and keeps its final checkpoint: it names the tail."""
    rows = read_board(record_copy)
    tail = max(i for i, r in enumerate(rows) if r["type"] == "entry")
    write_board(record_copy, rows[:tail] + rows[tail + 1 :])
    fails_board_check(record_copy, r"board.jsonl.gz: board checkpoint at position \d+: placed after entry")


def test_entry_after_the_final_checkpoint_is_caught(record_copy: Path) -> None:
    rows = read_board(record_copy)
    extra = {**[r for r in rows if r["type"] == "entry"][-1]}
    extra["position"] += 1
    write_board(record_copy, [*rows, extra])
    fails_board_check(record_copy, r"board.jsonl.gz: board entry at position \d+: appears after the final")
