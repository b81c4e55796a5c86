"""``saylau check``: a row of the ballots, board or devices tables changed, deleted or reordered by hand
(SQL, behind the server's back) is found, and the message names the table, the election and the row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from api.conftest import VOTERS, P, TestClient, register_devices, setup_election
from saylau.board import read_jsonl, verify_board
from saylau.cli import app as cli_app
from saylau.errors import BoardError
from saylau.voting.device import VotingDevice


def _cast_some(client: TestClient) -> Any:
    el = setup_election(client)
    assert el.params is not None
    register_devices(client, el, "st-1-kiosk")
    kiosk = VotingDevice(el.params, "st-1-kiosk", "st-1")
    items = []
    for v, choice in zip((0, 2, 4, 6), ("cand-a", "cand-b", "cand-a", "against-all"), strict=True):
        r = client.post(
            f"{P}/elections/{el.id}/stations/st-1/checkin", json={"iin": VOTERS[v]}, headers=el.h["station1"]
        )
        assert r.status_code == 201, r.text
        pending = kiosk.encrypt({"president": [choice]}, "main")
        kiosk.cast(pending)
        items.append({"credential": r.json()["credential"], "ballot": pending.ballot.to_dict(),
                      "device_id": "st-1-kiosk"})
    r = client.post(f"{P}/elections/{el.id}/ballots/batch", json={"ballots": items}, headers=el.h["station1"])
    assert r.status_code == 200 and all(x["status"] == 201 for x in r.json()["results"]), r.text
    return el


def _check(database: Any, tmp_path: Path) -> Any:
    url = database.url
    if database.schema is not None:
        url += f"?options=-csearch_path%3D{database.schema}"
    return CliRunner().invoke(
        cli_app,
        ["check", "--database-url", url, "--board-key", str(tmp_path / "board.pem"),
         "--checkpoint-every", "4"],
    )


def _first_ballot_position(conn: Any) -> int:
    return int(conn.execute(text("SELECT min(board_position) FROM ballots")).scalar_one())


def _first_ballot_body(conn: Any) -> tuple[int, bytes]:
    p = _first_ballot_position(conn)
    body = conn.execute(text(f"SELECT body FROM board_entries WHERE position = {p}")).scalar_one()
    return p, bytes(body)


def _set_body(conn: Any, position: int, body: bytes) -> None:
    import sqlalchemy as sa

    update = text(f"UPDATE board_entries SET body = :b WHERE position = {position}")
    conn.execute(update.bindparams(sa.bindparam("b", type_=sa.LargeBinary())), {"b": body})


def _first_alpha(conn: Any) -> bytes:
    """The x coordinate of the first ballot's first ciphertext's alpha (as its compact body holds it)."""
    from sqlalchemy.orm import Session

    from saylau.store.ballot_contexts import Contexts
    from saylau.store.board_rows import stored_payload

    _, body = _first_ballot_body(conn)
    payload = stored_payload(None, body, Contexts(Session(bind=conn), cached=False))
    return bytes.fromhex(payload["ballot"]["contests"][0]["selections"][0]["alpha"])[1:]


def _flip_a_ciphertext_on_the_board(conn: Any) -> None:
    """The only copy of a ballot (its board entry's compact body) changed: one byte of a ciphertext."""
    alpha = _first_alpha(conn)
    p, body = _first_ballot_body(conn)
    at = body.index(alpha) + len(alpha) - 1
    _set_body(conn, p, body[:at] + bytes([body[at] ^ 1]) + body[at + 1 :])


def _flip_a_byte(conn: Any, table: str, column: str, where: str) -> None:
    """Change the last byte of a binary value by hand."""
    import sqlalchemy as sa

    value = bytes(conn.execute(text(f"SELECT {column} FROM {table} WHERE {where}")).scalars().first())
    update = text(f"UPDATE {table} SET {column} = :v WHERE {where}")
    changed = value[:-1] + bytes([value[-1] ^ 1])
    conn.execute(update.bindparams(sa.bindparam("v", type_=sa.LargeBinary())), {"v": changed})


def _cut_a_ballot_body(conn: Any) -> None:
    """A ballot's compact body cut short: it no longer decodes."""
    p, body = _first_ballot_body(conn)
    _set_body(conn, p, body[:100])


TAMPERS: dict[str, tuple[Callable[[Any], None], str]] = {
    "ballot id changed": (
        lambda c: c.execute(text("UPDATE ballots SET id = id || 'x' "
                                 "WHERE board_position = (SELECT min(board_position) FROM ballots)")),
        "table ballots",
    ),
    "ballot remote flag changed": (
        lambda c: c.execute(text("UPDATE ballots SET remote = NOT remote "
                                 "WHERE board_position = (SELECT min(board_position) FROM ballots)")),
        "table ballots",
    ),
    "ballot code's bytes changed": (
        lambda c: _flip_a_byte(c, "ballots", "code", f"board_position = {_first_ballot_position(c)}"),
        "table ballots",
    ),
    "ballot context changed": (
        lambda c: _flip_a_byte(c, "ballot_contexts", "context", "1 = 1"),
        "table ballot_contexts",
    ),
    "board entry hash changed": (
        lambda c: _flip_a_byte(c, "board_entries", "entry_hash", f"position = {_first_ballot_position(c)}"),
        "table board_entries",
    ),
    "board payload hash changed": (
        lambda c: _flip_a_byte(c, "board_entries", "payload_hash", f"position = {_first_ballot_position(c)}"),
        "table board_entries",
    ),
    "ballot changed on the board": (_flip_a_ciphertext_on_the_board, "table board_entries"),
    "ballot's stored bytes cut short": (_cut_a_ballot_body, "table board_entries"),
    "ballot row changed": (
        lambda c: c.execute(text("UPDATE ballots SET code = 'ab' || substr(code, 3) "
                                 "WHERE board_position = (SELECT min(board_position) FROM ballots)")),
        "table ballots",
    ),
    "ballot row deleted": (
        lambda c: c.execute(text("DELETE FROM ballots WHERE board_position = "
                                 "(SELECT max(board_position) FROM ballots)")),
        "table ballots",
    ),
    "ballot rows reordered": (
        lambda c: [
            c.execute(text(f"UPDATE ballots SET board_position = {x} WHERE board_position = {y}"))
            for p in [_first_ballot_position(c)]
            for x, y in ((-5, p), (p, p + 1), (p + 1, -5))
        ],
        "table ballots",
    ),
    "device chain count changed": (
        lambda c: c.execute(text("UPDATE devices SET count = count + 1")),
        "table devices",
    ),
    "board entry changed": (
        lambda c: c.execute(text("UPDATE board_entries SET time = '2022-11-20T02:00:00.999999Z' "
                                 f"WHERE position = {_first_ballot_position(c)}")),
        "table board_entries",
    ),
    "board entry deleted": (
        lambda c: c.execute(text(f"DELETE FROM board_entries WHERE position = {_first_ballot_position(c)}")),
        "table board_entries",
    ),
    "board entries reordered": (
        lambda c: [
            c.execute(text(f"UPDATE board_entries SET position = {x} WHERE position = {y}"))
            for p in [_first_ballot_position(c)]
            for x, y in ((-5, p), (p, p + 1), (p + 1, -5))
        ],
        "table board_entries",
    ),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_check_finds_a_row_changed_deleted_or_reordered_by_hand(
    client: TestClient, database: Any, tmp_path: Path, tamper: str
) -> None:
    el = _cast_some(client)
    ok = _check(database, tmp_path)
    assert ok.exit_code == 0, ok.output
    assert "4 ballots, 1 devices: intact" in ok.output
    change, table = TAMPERS[tamper]
    with client.app.state.saylau.engine.begin() as conn:  # type: ignore[attr-defined]
        change(conn)
    broken = _check(database, tmp_path)
    assert broken.exit_code == 1, broken.output
    assert f"BROKEN: {table}" in broken.output and f"election {el.id}" in broken.output, broken.output
    assert "Traceback" not in broken.output
    refused = ("ballot's stored bytes cut short", "board entry changed")
    if tamper == "ballot context changed":  # found by check; the server's contexts are cached by digest
        assert "do not match its digest" in broken.output, broken.output
    elif tamper in refused:  # a row that no longer decodes: named with its position, and the board is refused
        position = f"position {_first_ballot_position_of(client)}"
        assert position in broken.output and "does not decode" in broken.output, broken.output
        r = client.get(f"{P}/elections/{el.id}/board")
        assert r.status_code == 422 and position in r.text, r.text
    elif table == "table board_entries":  # the exported board no longer verifies either
        rows = read_jsonl(client.get(f"{P}/elections/{el.id}/board").text.splitlines())
        with pytest.raises(BoardError, match="position"):
            verify_board(rows)


def _first_ballot_position_of(client: TestClient) -> int:
    with client.app.state.saylau.engine.connect() as conn:  # type: ignore[attr-defined]
        return _first_ballot_position(conn)
