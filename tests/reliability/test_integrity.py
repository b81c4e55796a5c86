"""``saylau check``: a row of the ballots, board or devices tables changed, deleted or reordered by hand
(SQL, behind the server's back) is found, and the message names the table, the election and the row."""

from __future__ import annotations

import json
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


def _flip_a_ciphertext_on_the_board(conn: Any) -> None:
    """The only copy of a ballot (its board entry's payload) changed: one hex digit of a ciphertext."""
    import sqlalchemy as sa

    p = _first_ballot_position(conn)
    payload = conn.execute(text(f"SELECT payload FROM board_entries WHERE position = {p}")).scalar_one()
    payload = json.loads(payload) if isinstance(payload, str) else payload
    sel = payload["ballot"]["contests"][0]["selections"][0]
    sel["alpha"] = sel["alpha"][:-1] + ("0" if sel["alpha"][-1] != "0" else "1")
    update = text(f"UPDATE board_entries SET payload = :p WHERE position = {p}")
    conn.execute(update.bindparams(sa.bindparam("p", type_=sa.JSON())), {"p": payload})


TAMPERS: dict[str, tuple[Callable[[Any], None], str]] = {
    "ballot content hash changed": (
        lambda c: c.execute(text("UPDATE ballots SET content_hash = '00' || substr(content_hash, 3) "
                                 "WHERE board_position = (SELECT min(board_position) FROM ballots)")),
        "table ballots",
    ),
    "ballot changed on the board": (_flip_a_ciphertext_on_the_board, "table board_entries"),
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
        lambda c: c.execute(text(
            "UPDATE ballots SET sequence = CASE sequence WHEN 0 THEN 1 WHEN 1 THEN 0 END WHERE sequence < 2"
        )),
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
    if table == "table board_entries":  # the exported board no longer verifies either
        rows = read_jsonl(client.get(f"{P}/elections/{el.id}/board").text.splitlines())
        with pytest.raises(BoardError, match="position"):
            verify_board(rows)
