"""The whole election through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from typer.testing import CliRunner

from saylau.board import read_jsonl, verify_board
from saylau.cli import app as cli_app
from saylau.crypto import EncryptedTally, partial_decrypt
from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.record.verifier import RecordVerifier
from saylau.voting.device import VotingDevice

from .conftest import VOTERS, P, TestClient, register_devices, setup_election, wait_job


def test_full_flow_with_revote_challenge_missing_guardian_and_verification(
    client: TestClient, tmp_path: Path
) -> None:
    el = setup_election(client)
    assert el.params is not None
    cec, eid = el.h["cec"], el.id
    register_devices(client, el, "st-1-d1", "st-2-d1", "st-1-d2")
    devices = {
        name: VotingDevice(el.params, name, station)
        for name, station in [("st-1-d1", "st-1"), ("st-2-d1", "st-2"), ("st-1-remote", "st-1")]
    }

    tags: dict[str, bytes] = {}  # remote voter's bearer token -> revote tag given with it

    def credential(voter: str, station: str | None) -> dict[str, str]:
        if station is None:
            iin = VOTERS[int(voter[1:])]
            r = client.post(f"{P}/elections/{eid}/remote-credentials", json={"iin": iin}, headers=cec)
            assert r.status_code == 201, r.text
            tags[r.json()["credential"]] = bytes.fromhex(r.json()["revote_tag"])
        else:
            r = client.post(
                f"{P}/elections/{eid}/stations/{station}/checkin",
                json={"iin": VOTERS[int(voter[1:])]},
                headers=el.h["station1" if station == "st-1" else "station2"],
            )
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['credential']}"}

    def cast(h: dict[str, str], device: str, choice: str) -> dict[str, object]:
        dev = devices[device]
        tag = tags.get(h["Authorization"].removeprefix("Bearer "))
        pending = dev.encrypt({"president": [choice]}, "main", revote_tag=tag)
        dev.cast(pending)
        body = {"ballot": pending.ballot.to_dict(), "device_id": device}
        r = client.post(f"{P}/elections/{eid}/ballots", json=body, headers=h)
        assert r.status_code == 201, r.text
        return dict(r.json())

    # in person: v0 (st-1), v1 (st-2), v2 (st-1)
    receipts = [
        cast(credential("v0", "st-1"), "st-1-d1", "cand-a"),
        cast(credential("v1", "st-2"), "st-2-d1", "cand-b"),
    ]
    v2 = credential("v2", "st-1")
    # a challenge (Benaloh) before casting: opened, published, never counted
    booth = devices["st-1-d1"]
    _, opened = booth.challenge(booth.encrypt({"president": ["cand-b"]}, "main"))
    r = client.post(
        f"{P}/elections/{eid}/challenges",
        json={"challenged": opened.to_dict(), "device_id": "st-1-d1"},
        headers=v2,
    )
    assert r.status_code == 201 and r.json()["state"] == "challenged", r.text
    receipts.append(cast(v2, "st-1-d1", "cand-a"))
    # the same in-person credential cannot cast again
    spare = VotingDevice(el.params, "st-1-d2", "st-1")
    again = spare.encrypt({"president": ["cand-b"]}, "main").ballot
    r = client.post(
        f"{P}/elections/{eid}/ballots", json={"ballot": again.to_dict(), "device_id": "st-1-d2"}, headers=v2
    )
    assert r.status_code == 403 and "already cast" in r.json()["detail"]
    # a ballot that does not chain to its device's last accepted ballot is refused
    v3 = credential("v3", "st-2")
    skipped = VotingDevice(el.params, "st-2-d1", "st-2")
    skipped.cast(skipped.encrypt({"president": ["cand-a"]}, "main"))
    out_of_order = skipped.encrypt({"president": ["cand-a"]}, "main").ballot
    r = client.post(
        f"{P}/elections/{eid}/ballots",
        json={"ballot": out_of_order.to_dict(), "device_id": "st-2-d1"},
        headers=v3,
    )
    assert r.status_code == 409 and "previous_code" in r.json()["detail"], r.text
    # nobody votes twice: v0 cannot check in again, nor at another station
    r = client.post(
        f"{P}/elections/{eid}/stations/st-1/checkin", json={"iin": VOTERS[0]}, headers=el.h["station1"]
    )
    assert r.status_code == 409 and "already voted at station 'st-1'" in r.json()["detail"]
    # remote voter v6 votes under pressure for cand-b, then revotes for against-all: the last one counts
    v6 = credential("v6", None)
    first = cast(v6, "st-1-remote", "cand-b")
    second = cast(v6, "st-1-remote", "against-all")
    assert second["superseded"] == [first["code"]]
    look = client.get(f"{P}/elections/{eid}/board/codes/{first['code']}").json()
    assert [e["kind"] for e in look["entries"]] == ["ballot", "superseded"]

    # turnout, exit polls (embargoed while open)
    r = client.post(
        f"{P}/elections/{eid}/stations/st-1/turnout",
        json={"at": "2022-11-20T12:00:00+06:00", "voted": 2},
        headers=el.h["station1"],
    )
    assert r.status_code == 201, r.text
    design = {"stations": [{"station_id": s, "stratum": "r1", "pi": 1.0} for s in ("st-1", "st-2")]}
    r = client.put(f"{P}/elections/{eid}/exit-polls/design", json=design, headers=el.h["pollster"])
    assert r.status_code == 200, r.text
    interviews = [("st-1", "cand-a"), ("st-2", "cand-b"), ("st-2", "cand-a"), ("st-2", "refused")]
    r = client.post(
        f"{P}/elections/{eid}/exit-polls",
        headers=el.h["pollster"],
        json={"interviews": [{"station_id": s, "answer": a} for s, a in interviews]},
    )
    assert r.status_code == 201, r.text
    r = client.put(f"{P}/elections/{eid}/exit-polls/design", json=design, headers=el.h["pollster"])
    assert r.status_code == 403 and "fixed" in r.json()["detail"]
    r = client.get(f"{P}/elections/{eid}/exit-polls/estimate?pollster=pollster")
    assert r.status_code == 403 and "embargoed" in r.json()["detail"]

    assert client.post(f"{P}/elections/{eid}/close", headers=cec).status_code == 200
    est = client.get(f"{P}/elections/{eid}/exit-polls/estimate?pollster=pollster").json()
    # weights by hand (saylau.polls.estimate): st-1 has 3 check-ins (v0, v2, remote v6) and one respondent
    # (weight 3); st-2 has 2 check-ins and 3 approached, the refusal's weight spread over the other two
    # (2/3 * 3/2 = 1 each): cand-a = (3 + 1) / (3 + 1 + 1)
    assert abs(est["estimates"]["cand-a"]["share"] - 4 / 5) < 1e-9, est
    assert est["respondents"] == 3 and est["refusals"] == 1

    # signed protocols checked by saylau.election.protocols; a correction is a new version
    key = Ed25519PrivateKey.generate()
    r = client.post(
        f"{P}/elections/{eid}/stations/st-1/key",
        json={"public_key": public_key_hex(key.public_key())},
        headers=cec,
    )
    assert r.status_code == 200, r.text
    figures = {
        "station": "st-1",
        "registered": 5,
        "ballots_received": 5,
        "ballots_issued": 2,
        "ballots_unused": 3,
        "ballots_spoiled": 0,
        "ballots_in_boxes": 2,
        "valid": 2,
        "invalid": 0,
        "votes": {"cand-a": 2, "cand-b": 0, "against-all": 0},
    }
    when = datetime(2022, 11, 20, 21, 0, tzinfo=UTC)

    def signed(fig: dict[str, object], **kw: object) -> dict[str, object]:
        p = sign_protocol(ProtocolFigures.model_validate(fig), key, election_id=eid, signed_at=when, **kw)  # type: ignore[arg-type]
        return p.model_dump(mode="json")

    url = f"{P}/elections/{eid}/stations/st-1/protocols"
    bad = signed({**figures, "invalid": 1})
    r = client.post(url, json=bad, headers=el.h["station1"])
    assert r.status_code == 422 and "valid + invalid = ballots in boxes" in r.json()["detail"], r.text
    forged = {**signed(figures), "signature": signed({**figures, "registered": 6})["signature"]}
    r = client.post(url, json=forged, headers=el.h["station1"])
    assert r.status_code == 422 and "signature" in r.json()["detail"], r.text
    first = client.post(url, json=signed(figures), headers=el.h["station1"])
    assert first.status_code == 201, first.text
    recount = {**figures, "ballots_unused": 2, "ballots_spoiled": 1}
    r = client.post(url, json=signed(recount, version=2), headers=el.h["station1"])
    assert r.status_code == 422 and "supersedes" in r.json()["detail"], r.text
    fixed = signed(recount, version=2, supersedes=first.json()["protocol_hash"], reason="recount")
    assert client.post(url, json=fixed, headers=el.h["station1"]).status_code == 201
    assert [p["version"] for p in client.get(f"{P}/elections/{eid}/protocols").json()] == [1, 2]

    # tally (a job), partial decryptions from guardians 1 and 3 (guardian 2 is missing), decryption (a job)
    job = client.post(f"{P}/elections/{eid}/tally", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    stored = client.get(f"{P}/elections/{eid}/tally").json()
    assert stored["ballots"] == 4
    assert [(s["scope"], s["scope_id"]) for s in stored["scopes"]] == [
        ("station", "st-1"),
        ("station", "st-2"),
        ("region", "r1"),
        ("nation", "nation"),
    ]
    for g in (el.guardians[0], el.guardians[2]):
        partials = [
            {
                "scope": s["scope"],
                "scope_id": s["scope_id"],
                "partial": partial_decrypt(
                    g, EncryptedTally.from_dict(s["encrypted"]), published=el.params
                ).to_dict(),
            }
            for s in stored["scopes"]
        ]
        r = client.post(
            f"{P}/elections/{eid}/guardians/{g.index}/partial-decryption",
            json={"partials": partials},
            headers=el.h[f"guardian{g.index}"],
        )
        assert r.status_code == 201, r.text
    job = client.post(f"{P}/elections/{eid}/decrypt", headers=cec).json()
    done = wait_job(client, cec, job["id"])
    assert done["state"] == "succeeded", done
    results = client.get(f"{P}/elections/{eid}/results").json()
    assert results["nation"]["counts"]["president"] == {"cand-a": 2, "cand-b": 1, "against-all": 1}
    assert results["stations"]["st-1"]["counts"]["president"] == {"cand-a": 2, "cand-b": 0, "against-all": 1}

    # the board verifies independently; the verification job agrees and re-checks every proof
    # publishing the results closed it: the result entry is last, under the board's final checkpoint
    board = read_jsonl(client.get(f"{P}/elections/{eid}/board").text.splitlines())
    summary = verify_board(board, require_final=True)
    kinds = [row["kind"] for row in board if row["type"] == "entry"]
    assert kinds.count("ballot") == 5 and kinds.count("challenge") == 1 and kinds.count("superseded") == 1
    assert summary.final and kinds[-1] == "result" and done["result"]["board_position"] == summary.count - 1
    assert board[-1]["type"] == "checkpoint" and board[-1]["final"]
    assert board[-1]["position"] == summary.count - 1
    job = client.post(f"{P}/elections/{eid}/verify", headers=el.h["observer"]).json()
    result = wait_job(client, cec, job["id"])
    assert result["state"] == "succeeded", result
    assert result["result"]["board_entries"] == summary.count and result["result"]["closed"] is True
    assert result["result"]["ballots_verified"] == 6
    assert client.get(f"{P}/elections/{eid}/verification").json()["state"] == "succeeded"

    # the record downloaded from the server passes `saylau verify`, with the same record hash
    r = client.get(f"{P}/elections/{eid}/record")
    assert r.status_code == 200, r.text
    with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    record_hash = r.headers["Saylau-Record-Hash"]
    assert result["result"]["record_hash"] == record_hash
    verified = CliRunner().invoke(
        cli_app, ["verify", str(tmp_path / "record"), "--quiet", "--expect-hash", record_hash]
    )
    assert verified.exit_code == 0, verified.output
    # the revote link is bound by the revote tags inside the tracking codes, not by the board alone
    verifier = RecordVerifier(tmp_path / "record")
    assert verifier.run().hex() == record_hash
    (board_check,) = [c for c in verifier.checks if c.name.startswith("bulletin board")]
    assert "closed (final checkpoint)" in board_check.detail, board_check
    (links,) = [c for c in verifier.checks if c.name.startswith("revote links")]
    assert links.passed and links.count == 1, links
    assert links.detail == "1 remote voters, 1 tagged links", links.detail
    assert (
        verify_board(read_jsonl((tmp_path / "board.jsonl").read_text().splitlines())).count == summary.count
    )
    assert all(r["code"] for r in receipts)

    # the database taken down to migration 0009's layout and back up to 0010's: the same record, byte
    # for byte, and the same board export (every ballot survives both ways exactly)
    board_text = client.get(f"{P}/elections/{eid}/board").text
    _down_to_0009_and_up(client)
    again = client.get(f"{P}/elections/{eid}/record")
    assert again.status_code == 200 and again.headers["Saylau-Record-Hash"] == record_hash
    assert _members(again.content) == _members(r.content)
    assert client.get(f"{P}/elections/{eid}/board").text == board_text


def _members(archive: bytes) -> dict[str, bytes]:
    """Every file of a record archive and its bytes (the tar's own times aside)."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _down_to_0009_and_up(client: TestClient) -> None:
    from alembic import command

    from saylau.store.migrate import alembic_config, upgrade

    engine = client.app.state.saylau.engine  # type: ignore[attr-defined]
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    with engine.connect() as conn:  # the 0009 layout: hex hashes, version-1 bodies, previous hashes
        query = text("SELECT body, prev_hash FROM board_entries WHERE kind = 'ballot'")
        body, prev = conn.execute(query).first()  # type: ignore[misc]
        assert bytes(body)[0] == 1 and len(prev) == 64
    upgrade(engine)
