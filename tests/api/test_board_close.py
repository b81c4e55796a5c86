"""Publishing the results closes the board: a final signed checkpoint, then no more entries.

On SQLite and PostgreSQL: the decryption job commits the results, their board entry and the final
checkpoint together; a crash between them leaves none of them; a resumed job neither publishes nor
closes twice; every endpoint that would append afterwards answers 409 naming the closed board.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from saylau.api.routes_results import DERIVED
from saylau.board import BulletinBoard, read_jsonl, verify_board
from saylau.election.manifest import canonical_json
from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.errors import VerificationFailed
from saylau.record import format as fmt
from saylau.record.verifier import RecordVerifier
from saylau.record.writer import write_files_manifest
from saylau.store.models import Job, utcnow
from saylau.voting.device import VotingDevice

from .conftest import (
    VOTERS,
    Election,
    P,
    TestClient,
    register_devices,
    setup_election,
    tally_and_share,
    wait_job,
)
from .test_registration_api import applicant

BOARD_CHECK = "bulletin board: hash chain and signed checkpoints"
FIGURES = {
    "station": "st-1",
    "registered": 5,
    "ballots_received": 5,
    "ballots_issued": 2,
    "ballots_unused": 3,
    "ballots_spoiled": 0,
    "ballots_in_boxes": 2,
    "valid": 2,
    "invalid": 0,
    "votes": {"cand-a": 1, "cand-b": 1, "against-all": 0},
}


@dataclass
class Tallied:
    """An election through voting, the tally and two guardians' partial decryptions (one missing)."""

    el: Election
    devices: dict[str, VotingDevice]
    unused: dict[str, str]  # an in-person credential checked in before the close, never used
    protocol_key: Ed25519PrivateKey


def _tallied(client: TestClient, definition: dict[str, Any] | None = None) -> Tallied:
    el = setup_election(client, definition=definition)
    assert el.params is not None
    cec, eid = el.h["cec"], el.id
    register_devices(client, el, "st-1-d1", "st-2-d1")
    devices = {name: VotingDevice(el.params, name, name[:4]) for name in ("st-1-d1", "st-2-d1")}

    def checkin(i: int, station: str) -> dict[str, str]:
        who = el.h["station1" if station == "st-1" else "station2"]
        r = client.post(
            f"{P}/elections/{eid}/stations/{station}/checkin", json={"iin": VOTERS[i]}, headers=who
        )
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['credential']}"}

    for i, device, choice in [(0, "st-1-d1", "cand-a"), (1, "st-2-d1", "cand-b"), (2, "st-1-d1", "cand-b")]:
        dev = devices[device]
        pending = dev.encrypt({"president": [choice]}, "main")
        dev.cast(pending)
        body = {"ballot": pending.ballot.to_dict(), "device_id": device}
        r = client.post(f"{P}/elections/{eid}/ballots", json=body, headers=checkin(i, device[:4]))
        assert r.status_code == 201, r.text
    unused = checkin(4, "st-1")
    key = Ed25519PrivateKey.generate()
    r = client.post(
        f"{P}/elections/{eid}/stations/st-1/key",
        json={"public_key": public_key_hex(key.public_key())},
        headers=cec,
    )
    assert r.status_code == 200, r.text
    assert client.post(f"{P}/elections/{eid}/close", headers=cec).status_code == 200
    tally_and_share(client, el, el.guardians[:2])  # the third guardian is missing
    return Tallied(el, devices, unused, key)


def _decrypt(client: TestClient, t: Tallied) -> dict[str, Any]:
    job = client.post(f"{P}/elections/{t.el.id}/decrypt", headers=t.el.h["cec"]).json()
    done = wait_job(client, t.el.h["cec"], job["id"])
    assert done["state"] == "succeeded", done
    return done


def _board(client: TestClient, eid: str) -> list[dict[str, Any]]:
    r = client.get(f"{P}/elections/{eid}/board")
    assert r.status_code == 200, r.text
    return read_jsonl(r.text.splitlines())


def _entries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["type"] == "entry"]


def _finals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["type"] == "checkpoint" and r["final"]]


def _assert_closed_by_the_result(rows: list[dict[str, Any]], result: dict[str, Any]) -> None:
    """One result entry, last on the board, and one final checkpoint on it, which verifies."""
    entries = _entries(rows)
    assert [e["kind"] for e in entries].count("result") == 1
    assert entries[-1]["kind"] == "result" and entries[-1]["position"] == result["board_position"]
    assert len(_finals(rows)) == 1 and rows[-1] == _finals(rows)[0]
    assert (rows[-1]["position"], rows[-1]["entry_hash"]) == (
        entries[-1]["position"],
        entries[-1]["entry_hash"],
    )
    assert result["final_checkpoint"] == entries[-1]["position"]
    summary = verify_board(rows, rows[0]["public_key"], require_final=True)
    assert summary.final and summary.count == len(entries)


def _rewrite(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rewrite a record file the way a forger would: the file and files.json's hash of it."""
    path.write_bytes(gzip.compress(b"".join(canonical_json(r) + b"\n" for r in rows), mtime=0))
    write_files_manifest(path.parent)


def test_results_close_the_board_and_the_record_ends_with_the_final_checkpoint(
    client: TestClient, tmp_path: Path
) -> None:
    t = _tallied(client)
    eid, cec = t.el.id, t.el.h["cec"]
    before = _board(client, eid)
    assert not _finals(before)
    done = _decrypt(client, t)
    assert done["result"]["scopes"] == 4
    rows = _board(client, eid)
    assert rows[: len(before)] == before  # the result and the final checkpoint come after what was there
    _assert_closed_by_the_result(rows, done["result"])
    results = client.get(f"{P}/elections/{eid}/results").json()
    assert results["nation"]["counts"]["president"] == {"cand-a": 1, "cand-b": 2, "against-all": 0}
    # the board carries the decrypted results; GET /results adds turnout, the rules and the decision
    published = {k: v for k, v in results.items() if k not in DERIVED}
    assert _entries(rows)[-1]["payload"] == {"results": published}

    job = client.post(f"{P}/elections/{eid}/verify", headers=t.el.h["observer"]).json()
    verified = wait_job(client, cec, job["id"])
    assert verified["state"] == "succeeded", verified
    assert verified["result"]["closed"] is True and verified["result"]["board_entries"] == len(_entries(rows))

    r = client.get(f"{P}/elections/{eid}/record")
    assert r.status_code == 200, r.text
    with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    record = tmp_path / "record"
    in_record = read_jsonl(gzip.decompress((record / fmt.BOARD).read_bytes()).decode().splitlines())
    # the record's board leaves the ballot and challenge payloads out (each ballot is held once, in
    # ballots.jsonl); the archive's top-level board.jsonl is the full board
    elided = [
        {k: v for k, v in row.items() if k != "payload"} if row.get("kind") in fmt.ELIDED_KINDS else row
        for row in rows
    ]
    assert in_record == elided and read_jsonl((tmp_path / "board.jsonl").read_text().splitlines()) == rows
    verifier = RecordVerifier(record, board_public_key=rows[0]["public_key"])
    assert verifier.run().hex() == r.headers["Saylau-Record-Hash"]
    (board_check,) = [c for c in verifier.checks if c.name == BOARD_CHECK]
    assert board_check.passed and "closed (final checkpoint)" in board_check.detail

    # the same record without its final checkpoint, or with it altered, fails the board check
    for changed, match in [
        (in_record[:-1], rf"board {eid}: no final checkpoint"),
        ([*in_record[:-1], {**in_record[-1], "final": False}], "signature does not verify"),
        ([*in_record[:-1], {**in_record[-1], "time": "2022-11-21T00:00:00.000000Z"}], "signature does not"),
    ]:
        _rewrite(record / fmt.BOARD, changed)
        tampered = RecordVerifier(record)
        with pytest.raises(VerificationFailed, match=match):
            tampered.run()
        assert tampered.checks[-1].name == BOARD_CHECK and not tampered.checks[-1].passed


def test_every_append_after_the_close_is_refused_with_409_and_changes_nothing(client: TestClient) -> None:
    t = _tallied(client)
    el, eid = t.el, t.el.id
    cec, station1 = el.h["cec"], el.h["station1"]
    _decrypt(client, t)
    board = client.get(f"{P}/elections/{eid}/board").text
    protocols = client.get(f"{P}/elections/{eid}/protocols").json()
    turnout = client.get(f"{P}/elections/{eid}/turnout").json()
    applications = client.get(f"{P}/elections/{eid}/applications", headers=cec).json()

    dev = t.devices["st-1-d1"]
    _, opened = dev.challenge(dev.encrypt({"president": ["cand-b"]}, "main"))
    late = dev.encrypt({"president": ["cand-a"]}, "main")
    protocol = sign_protocol(
        ProtocolFigures.model_validate(FIGURES),
        t.protocol_key,
        election_id=eid,
        signed_at=datetime(2022, 11, 20, 21, 0, tzinfo=UTC),
    ).model_dump(mode="json")
    partials = [{"scope": "nation", "scope_id": "nation", "partial": {}}]
    design = {"stations": [{"station_id": "st-1", "stratum": "r1", "pi": 1.0}]}
    attempts: list[tuple[str, str, Any, dict[str, str]]] = [
        ("post", "ballots", {"ballot": late.ballot.to_dict(), "device_id": "st-1-d1"}, t.unused),
        ("post", "challenges", {"challenged": opened.to_dict(), "device_id": "st-1-d1"}, t.unused),
        ("post", "stations/st-1/turnout", {"at": "2022-11-20T21:00:00+06:00", "voted": 2}, station1),
        ("post", "stations/st-1/protocols", protocol, station1),
        ("post", "stations/st-1/key", {"public_key": public_key_hex(t.protocol_key.public_key())}, cec),
        ("post", "stations/st-1/checkin", {"iin": VOTERS[6]}, station1),
        ("post", "remote-credentials", {"iin": VOTERS[8]}, cec),
        ("post", "transfers", {"iin": VOTERS[8], "to_station": "st-2"}, cec),
        ("post", "applications", {"applicant": applicant("late")}, cec),
        (
            "post",
            "guardians/1/record",
            {"record": el.guardians[0].public_record().to_dict()},
            el.h["guardian1"],
        ),
        ("post", "key", None, cec),
        ("post", "open", None, cec),
        ("post", "close", None, cec),
        ("post", "tally", None, cec),
        ("post", "decrypt", None, cec),
        ("post", "guardians/3/partial-decryption", {"partials": partials}, el.h["guardian3"]),
        ("put", "exit-polls/design", design, el.h["pollster"]),
        (
            "post",
            "exit-polls",
            {"interviews": [{"station_id": "st-1", "answer": "cand-a"}]},
            el.h["pollster"],
        ),
    ]
    for method, path, body, headers in attempts:
        r = client.request(method.upper(), f"{P}/elections/{eid}/{path}", json=body, headers=headers)
        assert r.status_code == 409, (path, r.status_code, r.text)
        detail = r.json()["detail"]
        assert f"board {eid}" in detail and "closed" in detail, (path, detail)
    # a station's batch upload is refused ballot by ballot, with the same status and reason
    batch = {
        "ballots": [
            {
                "credential": t.unused["Authorization"].removeprefix("Bearer "),
                "ballot": late.ballot.to_dict(),
                "device_id": "st-1-d1",
            }
        ]
    }
    r = client.post(f"{P}/elections/{eid}/ballots/batch", json=batch, headers=station1)
    assert r.status_code == 200 and r.json()["refused"] == 1, r.text
    (refusal,) = r.json()["results"]
    assert refusal["status"] == 409 and f"board {eid}" in refusal["detail"], refusal
    # a refusal the board itself gives names the board and its closing checkpoint
    r = client.post(f"{P}/elections/{eid}/stations/st-1/protocols", json=protocol, headers=station1)
    assert r.json()["error"] == "BoardClosed" and "closed by its final checkpoint" in r.json()["detail"]

    assert client.get(f"{P}/elections/{eid}/board").text == board
    assert client.get(f"{P}/elections/{eid}/protocols").json() == protocols
    assert client.get(f"{P}/elections/{eid}/turnout").json() == turnout
    assert client.get(f"{P}/elections/{eid}/applications", headers=cec).json() == applications
    assert client.get(f"{P}/elections/{eid}", headers=cec).json()["phase"] == "decrypted"


def test_a_crash_before_the_close_leaves_no_results_and_resumes_closing_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = _tallied(client)
    eid, cec = t.el.id, t.el.h["cec"]
    before = _board(client, eid)

    # the worker dies between publishing the result entry and signing the final checkpoint
    def crash(self: BulletinBoard) -> None:
        raise RuntimeError("worker killed before the final checkpoint")

    monkeypatch.setattr(BulletinBoard, "close", crash)
    job = client.post(f"{P}/elections/{eid}/decrypt", headers=cec).json()
    failed = wait_job(client, cec, job["id"])
    assert failed["state"] == "failed" and "before the final checkpoint" in failed["error"], failed
    monkeypatch.undo()
    assert _board(client, eid) == before  # no result entry without the close
    assert client.get(f"{P}/elections/{eid}/results").status_code == 404
    assert client.get(f"{P}/elections/{eid}", headers=cec).json()["phase"] == "tallied"

    r = client.post(f"{P}/jobs/{job['id']}/resume", headers=cec)
    assert r.status_code == 200, r.text
    done = wait_job(client, cec, job["id"])
    assert done["state"] == "succeeded" and done["attempts"] == 2, done
    closed = _board(client, eid)
    assert closed[: len(before)] == before
    _assert_closed_by_the_result(closed, done["result"])

    # the worker dies after the commit, before recording success: the job stalls and is resumed
    state = client.app.state.saylau  # type: ignore[attr-defined]
    state.worker.stop()
    with state.transaction() as s:
        s.execute(
            update(Job)
            .where(Job.id == job["id"])
            .values(
                state="running", result=None, finished_at=None, heartbeat_at=utcnow() - timedelta(minutes=5)
            )
        )
    assert state.worker.sweep() == [job["id"]]
    assert client.post(f"{P}/jobs/{job['id']}/resume", headers=cec).json()["state"] == "pending"
    assert state.worker.run_one()
    again = client.get(f"{P}/jobs/{job['id']}", headers=cec).json()
    assert again["state"] == "succeeded" and again["attempts"] == 3, again
    assert again["result"] == done["result"]  # what was published, found again: nothing new
    assert _board(client, eid) == closed
    got = client.get(f"{P}/elections/{eid}/results").json()
    assert {k: v for k, v in got.items() if k not in DERIVED} == _entries(closed)[-1]["payload"]["results"]
