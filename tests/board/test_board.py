import io
import json
from pathlib import Path
from typing import Any

import pytest

from saylau.board import (
    BoardEntry,
    BoardSigner,
    BulletinBoard,
    MemoryBoardStore,
    make_entry,
    read_jsonl,
    verify_board,
    verify_board_file,
    write_jsonl,
)
from saylau.board.hashing import tagged_hash
from saylau.errors import BoardClosed, BoardError


def _board(n: int = 10, every: int = 4, close: bool = True) -> tuple[BulletinBoard, list[dict[str, Any]]]:
    board = BulletinBoard("e-test", MemoryBoardStore(), BoardSigner.generate(), checkpoint_every=every)
    for i in range(n):
        board.append("ballot", {"ballot_id": f"b{i}", "n": i}, code=f"code{i}")
    if close:
        board.close()
    return board, list(board.export_rows())


def test_a_fresh_board_verifies() -> None:
    board, rows = _board()
    summary = verify_board(rows, expected_public_key=board.signer.public_key_hex, require_final=True)
    assert summary.count == 10
    assert summary.checkpoints == 3  # after positions 3 and 7, and the final one at 9
    assert summary.final
    assert summary.head_hash == rows[-2]["entry_hash"]


def test_hashes_are_domain_separated() -> None:
    assert tagged_hash(b"a", {"x": 1}) != tagged_hash(b"b", {"x": 1})
    assert tagged_hash(b"a", {"x": 1, "y": 2}) == tagged_hash(b"a", {"y": 2, "x": 1})


def _entry_rows(rows: list[dict[str, Any]]) -> list[int]:
    return [i for i, r in enumerate(rows) if r["type"] == "entry"]


def test_changed_payload_is_detected_at_its_position() -> None:
    _, rows = _board()
    idx = _entry_rows(rows)[5]
    rows[idx]["payload"]["n"] = 99
    with pytest.raises(BoardError, match="position 5: payload does not match"):
        verify_board(rows)


def test_changed_entry_with_recomputed_hashes_is_detected_by_the_next_link() -> None:
    _, rows = _board(every=100, close=False)
    idxs = _entry_rows(rows)
    forged = make_entry(
        BoardEntry.from_dict({k: v for k, v in rows[idxs[1]].items() if k != "type"}),
        "e-test",
        "ballot",
        {"ballot_id": "forged"},
        code="x",
    )
    rows[idxs[2]] = {"type": "entry", **forged.to_dict()}
    with pytest.raises(BoardError, match="position 3: prev_hash"):
        verify_board(rows)


def test_removed_entry_is_detected() -> None:
    _, rows = _board()
    del rows[_entry_rows(rows)[2]]
    with pytest.raises(BoardError, match="position 2: carries position 3"):
        verify_board(rows)


def test_reordered_entries_are_detected() -> None:
    _, rows = _board()
    a, b = _entry_rows(rows)[1:3]
    rows[a], rows[b] = rows[b], rows[a]
    with pytest.raises(BoardError, match="position 1"):
        verify_board(rows)


def test_inserted_entry_is_detected() -> None:
    _, rows = _board()
    idx = _entry_rows(rows)[4]
    rows.insert(idx, dict(rows[idx]))
    with pytest.raises(BoardError, match="position 5: carries position 4"):
        verify_board(rows)


def test_removed_tail_is_detected_by_the_final_checkpoint() -> None:
    _, rows = _board()
    rows = [r for r in rows if not (r["type"] == "entry" and r["position"] == 9)]
    with pytest.raises(BoardError, match="position 9"):
        verify_board(rows)


def test_dropped_tail_and_final_checkpoint_fail_when_the_board_must_be_closed() -> None:
    _, rows = _board()
    rows = rows[:-2]
    assert verify_board(rows).count == 9
    with pytest.raises(BoardError, match="no final checkpoint"):
        verify_board(rows, require_final=True)


def test_forged_checkpoint_signature_is_detected() -> None:
    _, rows = _board()
    cp_idx = next(i for i, r in enumerate(rows) if r["type"] == "checkpoint")
    rows[cp_idx]["time"] = "2000-01-01T00:00:00.000000Z"
    with pytest.raises(BoardError, match="checkpoint at position 3: signature"):
        verify_board(rows)


def test_removed_periodic_checkpoint_is_detected() -> None:
    _, rows = _board()
    cp_idx = next(i for i, r in enumerate(rows) if r["type"] == "checkpoint")
    del rows[cp_idx]
    with pytest.raises(BoardError, match="checkpoint at position 3: missing"):
        verify_board(rows)


def test_a_different_operator_key_is_refused() -> None:
    _, rows = _board()
    with pytest.raises(BoardError, match="public key"):
        verify_board(rows, expected_public_key=BoardSigner.generate().public_key_hex)


def test_closed_board_refuses_appends_and_lookup_finds_codes() -> None:
    board, rows = _board()
    with pytest.raises(BoardClosed, match=r"board e-test: closed by its final checkpoint, .* position 10"):
        board.append("note", {})
    with pytest.raises(BoardClosed, match="board e-test: already closed at position 9"):
        board.close()
    assert list(board.export_rows()) == rows  # neither refusal changed anything
    assert [e.position for e in board.lookup("code3")] == [3]
    with pytest.raises(BoardError, match="no entry with tracking code"):
        board.lookup("nope")


def test_jsonl_round_trip_and_key_file(tmp_path: Path) -> None:
    signer = BoardSigner.from_file(tmp_path / "k.pem")
    assert BoardSigner.from_file(tmp_path / "k.pem").public_key_hex == signer.public_key_hex
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    board = BulletinBoard("e1", MemoryBoardStore(), signer, checkpoint_every=2)
    for i in range(5):
        board.append("turnout", {"i": i, "text": "Сайлау"})
    board.close()
    buf = io.StringIO()
    write_jsonl(board.export_rows(), buf)
    path = tmp_path / "board.jsonl"
    path.write_text(buf.getvalue(), encoding="utf-8")
    assert verify_board_file(path, signer.public_key_hex, require_final=True).count == 5
    lines = buf.getvalue().splitlines()
    assert '"i":1' in lines[2]
    lines[2] = lines[2].replace('"i":1', '"i":7')
    with pytest.raises(BoardError, match="position 1"):
        verify_board(read_jsonl(lines))
    with pytest.raises(BoardError, match="line 2: not JSON"):
        read_jsonl([lines[0], "{oops"])


def test_malformed_entry_names_the_field() -> None:
    _, rows = _board()
    idx = _entry_rows(rows)[0]
    del rows[idx]["prev_hash"]
    with pytest.raises(BoardError, match="missing field 'prev_hash'"):
        verify_board(rows)
    assert json.dumps(rows)  # still JSON-able
