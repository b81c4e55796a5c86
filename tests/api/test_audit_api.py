"""The risk-limiting audit through the API, on SQLite and PostgreSQL: every step on the board.

Manifest first, then the dice; hand tallies by round; bad input named with a 4xx and nothing stored;
the audit's ``audit_*`` board entries pass the board check and the record verifier after decryption.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saylau.board import verify_board
from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol

from .conftest import P, TestClient, wait_job
from .test_board_close import _board, _decrypt, _entries, _tallied

# the paper must reconcile with the roll (5 voters at each station) and the pollbook's check-ins
# (st-1: 3, st-2: 1, made by ``_tallied``): the server refuses an impossible protocol
PAPER = {
    "st-1": {"registered": 5, "issued": 3, "unused": 2, "spoiled": 0,
             "votes": {"cand-a": 3, "cand-b": 0, "against-all": 0}, "invalid": 0},
    "st-2": {"registered": 5, "issued": 1, "unused": 4, "spoiled": 0,
             "votes": {"cand-a": 1, "cand-b": 0, "against-all": 0}, "invalid": 0},
}  # fmt: skip
ORDER = ("cand-a", "cand-b", "against-all", "invalid")
ROLLS = "73016482957310462851"


def _protocol(station: str, key: Ed25519PrivateKey, eid: str) -> dict[str, Any]:
    p = PAPER[station]
    votes: dict[str, int] = p["votes"]  # type: ignore[assignment]
    valid = sum(votes.values())
    fig = ProtocolFigures(
        station=station, registered=p["registered"], ballots_received=p["registered"],
        ballots_issued=p["issued"], ballots_unused=p["unused"], ballots_spoiled=p["spoiled"],
        ballots_in_boxes=valid + p["invalid"], valid=valid, invalid=p["invalid"], votes=votes,
    )  # type: ignore[arg-type]  # fmt: skip
    when = datetime(2022, 11, 20, 21, 0, tzinfo=UTC)
    return sign_protocol(fig, key, election_id=eid, signed_at=when).model_dump(mode="json")


def _reading(station: str, position: int) -> str:
    """The paper of the test: each box holds its protocol's ballots, in category order."""
    p = PAPER[station]
    counts = {**p["votes"], "invalid": p["invalid"]}  # type: ignore[dict-item]
    for cat in ORDER:
        if position <= counts[cat]:
            return cat
        position -= counts[cat]
    raise AssertionError("position beyond the box")


def test_audit_through_the_api(client: TestClient) -> None:
    t = _tallied(client, {"electoral_rules": {"min_turnout": 0.3}})  # 4 of 10 voted: this election takes 30 %
    eid, cec = t.el.id, t.el.h["cec"]
    keys = {"st-1": t.protocol_key, "st-2": Ed25519PrivateKey.generate()}
    pub = public_key_hex(keys["st-2"].public_key())
    r = client.post(f"{P}/elections/{eid}/stations/st-2/key", json={"public_key": pub}, headers=cec)
    assert r.status_code == 200, r.text
    start = {"kind": "bravo", "risk_limit": 0.1, "rolls": ROLLS, "observers": ["Golos", "OSCE"],
             "held_at": "2022-11-21T10:00:00+06:00"}  # fmt: skip

    # no protocol of st-2 yet: the manifest cannot be built
    r = client.post(f"{P}/elections/{eid}/stations/st-1/protocols", json=_protocol("st-1", keys["st-1"], eid),
                    headers=t.el.h["station1"])  # fmt: skip
    assert r.status_code == 201, r.text
    r = client.post(f"{P}/elections/{eid}/audit/manifest", headers=cec)
    assert r.status_code == 409 and "st-2" in r.json()["detail"], r.text
    r = client.post(f"{P}/elections/{eid}/stations/st-2/protocols", json=_protocol("st-2", keys["st-2"], eid),
                    headers=t.el.h["station2"])  # fmt: skip
    assert r.status_code == 201, r.text

    # the dice come after the manifest; bad rolls are named
    r = client.post(f"{P}/elections/{eid}/audit", json=start, headers=cec)
    assert r.status_code == 409 and "manifest before the dice" in r.json()["detail"], r.text
    r = client.post(f"{P}/elections/{eid}/audit/manifest", headers=cec)
    assert r.status_code == 201 and r.json()["ballots"] == 4, r.text
    r = client.post(f"{P}/elections/{eid}/audit", json={**start, "rolls": "1234"}, headers=cec)
    assert r.status_code == 422 and "rolls" in r.json()["detail"], r.text
    assert client.get(f"{P}/elections/{eid}/audit").status_code == 404  # nothing was stored
    r = client.post(f"{P}/elections/{eid}/audit", json=start, headers=t.el.h["observer"])
    assert r.status_code == 403
    r = client.post(f"{P}/elections/{eid}/audit", json=start, headers=cec)
    assert r.status_code == 201, r.text
    audit = r.json()
    assert [a["id"] for a in audit["assertions"]] == ["supermajority:cand-a"]
    assert audit["rules"]["min_turnout"] == 0.3  # the election's own rules, not the caller's
    # 4 ballots: the first round BRAVO needs reaches half the population, so the audit calls a full count
    assert audit["status"] == "full_hand_count" and audit["rounds"] == [], audit
    assert min(audit["estimates"]["supermajority:cand-a"].values()) >= 2
    assert client.get(f"{P}/elections/{eid}/audit").json() == audit  # public, rebuilt from the board
    r = client.post(f"{P}/elections/{eid}/audit/rounds/1/tallies", json={"ballots": {}}, headers=cec)
    assert r.status_code == 409, r.text  # no round awaits hand tallies

    # the full hand count: every station, named when missing; its outcome stands
    url = f"{P}/elections/{eid}/audit/full-count"
    counts = {st: {**p["votes"], "invalid": p["invalid"]} for st, p in PAPER.items()}  # type: ignore[dict-item]
    r = client.post(url, json={"stations": {"st-1": counts["st-1"]}}, headers=cec)
    assert r.status_code == 422 and "st-2" in r.json()["detail"], r.text
    r = client.post(url, json={"stations": counts}, headers=cec)
    assert r.status_code == 201, r.text
    audit = client.get(f"{P}/elections/{eid}/audit").json()
    assert audit["status"] == "full_count_done", audit

    rows = _board(client, eid)
    kinds = [e["payload"]["audit"] for e in _entries(rows) if e["code"] == "audit"]
    assert {e["kind"] for e in _entries(rows) if e["code"] == "audit"} == {"note"}
    # round 0's "tallies" entry records the call for a full count
    assert kinds == ["audit_manifest", "audit_start", "audit_tallies", "audit_full_count"], kinds
    verify_board(rows, rows[0]["public_key"], require_final=False)

    # the record verifier takes the board with its audit entries; after publication, no more audit steps
    _decrypt(client, t)
    job = client.post(f"{P}/elections/{eid}/verify", headers=t.el.h["observer"]).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    r = client.post(f"{P}/elections/{eid}/audit/manifest", headers=cec)
    assert r.status_code == 409, r.text
