"""Protocols are reconciled with the roll, the pollbook and the decrypted tally (issue 8, item 9).

Station st-1 has five voters imported and one transferred away (4 on its roll); three vote in person and
one remotely. A protocol claiming 1,000 registered voters, or more ballots issued than voters checked
in, is refused naming the relation and both numbers; one that is possible but differs is accepted and
listed with its differences, and compared with the station's decrypted tally once there is one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.voting.device import VotingDevice

from .conftest import VOTERS, P, TestClient, register_devices, setup_election, tally_and_share, wait_job


def _figures(station: str, registered: int, issued: int, votes: dict[str, int], **kw: int) -> dict[str, Any]:
    received = kw.get("received", registered)
    valid = sum(votes.values())
    return {
        "station": station,
        "registered": registered,
        "ballots_received": received,
        "ballots_issued": issued,
        "ballots_unused": received - issued,
        "ballots_spoiled": 0,
        "ballots_in_boxes": issued,
        "valid": valid,
        "invalid": issued - valid,
        "votes": {"cand-a": 0, "cand-b": 0, "against-all": 0, **votes},
    }


def test_protocols_are_refused_when_impossible_and_flagged_when_they_differ(client: TestClient) -> None:
    el = setup_election(client)
    assert el.params is not None
    cec, eid = el.h["cec"], el.id
    r = client.post(
        f"{P}/elections/{eid}/transfers", json={"iin": VOTERS[8], "to_station": "st-2"}, headers=cec
    )
    assert r.status_code == 201, r.text
    register_devices(client, el, "st-1-d1", "st-2-d1")
    booth = {s: VotingDevice(el.params, f"{s}-d1", s) for s in ("st-1", "st-2")}

    def vote(voter: int, station: str, choice: str | None) -> None:
        who = el.h["station1" if station == "st-1" else "station2"]
        r = client.post(
            f"{P}/elections/{eid}/stations/{station}/checkin", json={"iin": VOTERS[voter]}, headers=who
        )
        assert r.status_code == 201, r.text
        if choice is not None:
            _cast(r.json()["credential"], booth[station], choice, None)

    def _cast(credential: str, device: VotingDevice, choice: str, tag: bytes | None) -> None:
        pending = device.encrypt({"president": [choice]}, "main", revote_tag=tag)
        device.cast(pending)
        body = {"ballot": pending.ballot.to_dict(), "device_id": device.device_id}
        r = client.post(
            f"{P}/elections/{eid}/ballots", json=body, headers={"Authorization": f"Bearer {credential}"}
        )
        assert r.status_code == 201, r.text

    for voter, choice in ((0, "cand-a"), (2, "cand-b"), (4, "cand-a")):
        vote(voter, "st-1", choice)
    r = client.post(f"{P}/elections/{eid}/remote-credentials", json={"iin": VOTERS[6]}, headers=cec)
    assert r.status_code == 201, r.text
    remote = r.json()
    _cast(
        remote["credential"],
        VotingDevice(el.params, "st-1-remote", "st-1"),
        "against-all",
        bytes.fromhex(remote["revote_tag"]),
    )
    vote(1, "st-2", "cand-b")
    vote(3, "st-2", None)  # checked in, never voted
    assert client.post(f"{P}/elections/{eid}/close", headers=cec).status_code == 200

    keys = {s: Ed25519PrivateKey.generate() for s in ("st-1", "st-2")}
    for s, k in keys.items():
        r = client.post(
            f"{P}/elections/{eid}/stations/{s}/key",
            json={"public_key": public_key_hex(k.public_key())},
            headers=cec,
        )
        assert r.status_code == 200, r.text

    def submit(fig: dict[str, Any]) -> Any:
        station = fig["station"]
        signed = sign_protocol(
            ProtocolFigures.model_validate(fig),
            keys[station],
            election_id=eid,
            signed_at=datetime(2022, 11, 20, 15, 0, tzinfo=UTC),
        )
        return client.post(
            f"{P}/elections/{eid}/stations/{station}/protocols",
            json=signed.model_dump(mode="json"),
            headers=el.h["station1" if station == "st-1" else "station2"],
        )

    # impossible: 1,000 registered where the roll has 4 (the case), or 4 ballots for 3 check-ins
    r = submit(_figures("st-1", 1000, 3, {"cand-a": 2, "cand-b": 1}))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "registered = voters on the station's roll" in detail and "1000" in detail and "roll 4" in detail
    assert "transferred out 1" in detail, detail
    r = submit(_figures("st-1", 4, 4, {"cand-a": 2, "cand-b": 2}))
    assert r.status_code == 422 and "ballots issued <= voters checked in" in r.json()["detail"], r.text
    assert "4 ballots issued > 3 voters checked in" in r.json()["detail"]
    # possible: st-1 agrees with roll and pollbook; st-2 (6 on the roll: one transferred in) issued one
    # ballot for two check-ins, which is flagged
    r = submit(_figures("st-1", 4, 3, {"cand-a": 2, "cand-b": 1}))
    assert r.status_code == 201, r.text
    assert r.json()["reconciliation"]["status"] == "matches"
    r = submit(_figures("st-2", 6, 1, {"cand-b": 1}))
    assert r.status_code == 201, r.text
    (diff,) = r.json()["reconciliation"]["differences"]
    assert diff["relation"] == "ballots issued = voters checked in at the station"
    assert (diff["protocol"], diff["server"]) == ({"ballots_issued": 1}, {"checked_in": 2})

    listed = {
        p["station_id"]: p["reconciliation"] for p in client.get(f"{P}/elections/{eid}/protocols").json()
    }
    assert listed["st-1"] == {"status": "matches", "against": ["roll", "pollbook"], "differences": []}
    assert listed["st-2"]["status"] == "differs"

    # after decryption the listing compares with the station's decrypted tally: st-1's tally holds the
    # remote voter's ballot (against-all), which is not on paper
    tally_and_share(client, el, el.guardians[:2])  # the third guardian is missing
    job = client.post(f"{P}/elections/{eid}/decrypt", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    listed = {
        p["station_id"]: p["reconciliation"] for p in client.get(f"{P}/elections/{eid}/protocols").json()
    }
    st1 = listed["st-1"]
    assert st1["status"] == "differs" and st1["against"] == ["roll", "pollbook", "decrypted tally"], st1
    (tally_diff,) = st1["differences"]
    assert tally_diff["relation"] == "votes = the station's decrypted tally"
    assert tally_diff["protocol"] == {"against-all": 0}
    assert tally_diff["server"] == {"against-all": 1, "remote_voters": 1}
    assert [d["relation"] for d in listed["st-2"]["differences"]] == [
        "ballots issued = voters checked in at the station"  # st-2's votes equal its tally
    ]
