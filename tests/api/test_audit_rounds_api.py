"""A ballot-polling audit that runs in rounds through the API, then recomputed from the exported board.

Forty voters on the roll, thirty-two of them checked in, two paper protocols: enough ballots that the
first round stays under half of them, so the audit boards enter hand tallies by round instead of going
straight to a full count. ``saylau audit verify`` then rebuilds the audit from the board alone and
recomputes it, and a tally changed in the board's copy is caught.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from saylau.cli import app
from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.election.voter_roll import make_iin

from .conftest import CSV, STATIONS, VOTERS, P, TestClient, roll_csv, setup_election

BIRTHS = [date(1970 + i, 1 + i % 12, 1 + i % 28) for i in range(30)]
EXTRA = [make_iin(born, i % 2 == 0, 300 + i) for i, born in enumerate(BIRTHS)]
CHECKED_IN = 16  # per station, of 20 on its roll
PAPER = {  # category counts in each box, in this order: the paper the audit boards will find
    "st-1": {"cand-a": 15, "cand-b": 1, "against-all": 0, "invalid": 0},
    "st-2": {"cand-a": 15, "cand-b": 0, "against-all": 1, "invalid": 0},
}
ROLLS = "58203917465820391746"


def _reading(draw: dict[str, Any]) -> str:
    """What the paper says for a drawn ballot (its station, 1-based position in the box)."""
    position = draw["position"]
    for category, n in PAPER[draw["station"]].items():
        if position <= n:
            return category
        position -= n
    raise AssertionError(f"{draw['id']}: beyond its box")


def _protocol(station: str, key: Ed25519PrivateKey, eid: str) -> dict[str, Any]:
    counts = PAPER[station]
    votes = {o: counts[o] for o in ("cand-a", "cand-b", "against-all")}
    valid = sum(votes.values())
    fig = ProtocolFigures(
        station=station, registered=20, ballots_received=20, ballots_issued=CHECKED_IN,
        ballots_unused=20 - CHECKED_IN, ballots_spoiled=0, ballots_in_boxes=valid + counts["invalid"],
        valid=valid, invalid=counts["invalid"], votes=votes,
    )  # type: ignore[arg-type]  # fmt: skip
    return sign_protocol(
        fig, key, election_id=eid, signed_at=datetime(2022, 11, 20, 21, tzinfo=UTC)
    ).model_dump(mode="json")


def _closed_with_protocols(client: TestClient) -> tuple[str, dict[str, str]]:
    el = setup_election(client, open_it=False)
    cec = el.h["cec"]
    rows = [(iin, f"Extra{i}", BIRTHS[i].isoformat(), "r1", STATIONS[i % 2]) for i, iin in enumerate(EXTRA)]
    r = client.post(f"{P}/elections/{el.id}/roll", content=roll_csv(rows), headers={**cec, **CSV})
    assert r.status_code == 201, r.text
    assert client.post(f"{P}/elections/{el.id}/open", headers=cec).status_code == 200
    on_roll = {s: [v for i, v in enumerate((*VOTERS, *EXTRA)) if i % 2 == k] for k, s in enumerate(STATIONS)}
    keys = {s: Ed25519PrivateKey.generate() for s in STATIONS}
    for k, station in enumerate(STATIONS, start=1):
        who = el.h[f"station{k}"]
        for iin in on_roll[station][:CHECKED_IN]:
            r = client.post(
                f"{P}/elections/{el.id}/stations/{station}/checkin", json={"iin": iin}, headers=who
            )
            assert r.status_code == 201, r.text
        pub = public_key_hex(keys[station].public_key())
        r = client.post(
            f"{P}/elections/{el.id}/stations/{station}/key", json={"public_key": pub}, headers=cec
        )
        assert r.status_code == 200, r.text
    assert client.post(f"{P}/elections/{el.id}/close", headers=cec).status_code == 200
    for k, station in enumerate(STATIONS, start=1):
        r = client.post(
            f"{P}/elections/{el.id}/stations/{station}/protocols",
            json=_protocol(station, keys[station], el.id),
            headers=el.h[f"station{k}"],
        )
        assert r.status_code == 201, r.text
    return el.id, el.h


def test_bravo_rounds_through_the_api_verify_from_the_board(client: TestClient, tmp_path: Path) -> None:
    eid, h = _closed_with_protocols(client)
    cec = h["cec"]
    assert client.post(f"{P}/elections/{eid}/audit/manifest", headers=cec).json()["ballots"] == 32
    start = {"kind": "bravo", "risk_limit": 0.1, "rolls": ROLLS, "observers": ["Golos"],
             "held_at": "2022-11-21T10:00:00+06:00"}  # fmt: skip
    r = client.post(f"{P}/elections/{eid}/audit", json=start, headers=cec)
    assert r.status_code == 201, r.text
    audit = r.json()
    assert audit["status"] == "in_progress" and len(audit["rounds"]) == 1, audit

    rnd = audit["rounds"][0]
    read = {d["id"]: _reading(d) for d in rnd["draws"]}
    first = sorted(read)[0]
    url = f"{P}/elections/{eid}/audit/rounds/1/tallies"
    # a tally short of a drawn ballot, or of a ballot nobody drew, is refused naming it; nothing stored
    r = client.post(url, json={"ballots": {b: c for b, c in read.items() if b != first}}, headers=cec)
    assert r.status_code == 422 and first in r.json()["detail"], r.text
    stray = {**read, "('st-1', 999)": "cand-a"}
    r = client.post(url, json={"ballots": stray}, headers=cec)
    assert r.status_code == 422 and "999" in r.json()["detail"], r.text
    assert client.get(f"{P}/elections/{eid}/audit").json() == audit
    assert client.post(url, json={"ballots": read}, headers=h["observer"]).status_code == 403

    number = 1
    while audit["status"] == "in_progress":
        rnd = audit["rounds"][-1]
        tallies = {d["id"]: _reading(d) for d in rnd["draws"]}
        r = client.post(
            f"{P}/elections/{eid}/audit/rounds/{number}/tallies", json={"ballots": tallies}, headers=cec
        )
        assert r.status_code == 201, r.text
        audit = r.json()
        number += 1
    # a 94 % winner against a 50 % threshold: the paper as reported confirms it in the sample
    assert audit["status"] == "confirmed", audit
    assert audit["max_risk"] <= 0.1 and all(x["risks"] is not None for x in audit["rounds"])
    assert audit["rounds"][-1]["size"] < 16

    board = tmp_path / "board.jsonl"
    board.write_text(client.get(f"{P}/elections/{eid}/board").text, encoding="utf-8")
    runner = CliRunner()
    done = runner.invoke(app, ["audit", "verify", str(board)])
    assert done.exit_code == 0, done.output
    assert "audit verified" in done.output and "confirmed" in done.output

    # one hand tally changed in the board's copy: the recomputed risk differs, and the check says where
    rows = [json.loads(line) for line in board.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        payload = row.get("payload") or {}
        if payload.get("audit") == "audit_tallies" and payload.get("ballots"):
            first = next(iter(payload["ballots"]))
            payload["ballots"][first] = "cand-b" if payload["ballots"][first] == "cand-a" else "cand-a"
            break
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    done = runner.invoke(app, ["audit", "verify", str(forged)])
    assert done.exit_code == 1 and "round 1" in done.output, done.output


def test_verify_names_a_board_without_an_audit(tmp_path: Path) -> None:
    board = tmp_path / "board.jsonl"
    board.write_text(json.dumps({"type": "header", "election_id": "x"}) + "\n", encoding="utf-8")
    done = CliRunner().invoke(app, ["audit", "verify", str(board)])
    assert done.exit_code == 1 and "holds no audit" in done.output, done.output
