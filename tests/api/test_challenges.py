"""Benaloh challenges through the API: they join the device chain, never use the credential, and a
resent challenge is recognised instead of stored twice."""

from __future__ import annotations

from saylau.voting.device import VotingDevice

from .conftest import VOTERS, P, TestClient, register_devices, setup_election

E = "e2022"


def test_a_challenge_chains_is_idempotent_and_leaves_the_credential_unused(client: TestClient) -> None:
    el = setup_election(client)
    assert el.params is not None
    checkin = f"{P}/elections/{E}/stations/st-1/checkin"
    r = client.post(checkin, json={"iin": VOTERS[0]}, headers=el.h["station1"])
    voter = {"Authorization": f"Bearer {r.json()['credential']}"}
    register_devices(client, el, "st-1-d1", "st-1-d2")
    booth = VotingDevice(el.params, "st-1-d1", "st-1")
    _, opened = booth.challenge(booth.encrypt({"president": ["cand-b"]}, "main"))
    body = {"challenged": opened.to_dict(), "device_id": "st-1-d1"}

    first = client.post(f"{P}/elections/{E}/challenges", json=body, headers=voter)
    assert first.status_code == 201 and first.json()["state"] == "challenged", first.text
    assert first.json()["sequence"] == 0 and "superseded" not in first.json()
    again = client.post(f"{P}/elections/{E}/challenges", json=body, headers=voter)
    assert again.status_code == 200 and again.json()["duplicate"] is True, again.text
    assert again.json()["entry_hash"] == first.json()["entry_hash"]

    # a challenge from a device whose chain skips a ballot is refused, naming the chain
    other = VotingDevice(el.params, "st-1-d2", "st-1")
    other.cast(other.encrypt({"president": ["cand-a"]}, "main"))  # never sent
    _, skipped = other.challenge(other.encrypt({"president": ["cand-a"]}, "main"))
    refused = client.post(
        f"{P}/elections/{E}/challenges",
        json={"challenged": skipped.to_dict(), "device_id": "st-1-d2"},
        headers=voter,
    )
    assert refused.status_code == 409 and "previous_code" in refused.json()["detail"], refused.text

    # the credential is still unused: the voter casts on the same device, after the challenge
    pending = booth.encrypt({"president": ["cand-a"]}, "main")
    booth.cast(pending)
    cast = client.post(
        f"{P}/elections/{E}/ballots",
        json={"ballot": pending.ballot.to_dict(), "device_id": "st-1-d1"},
        headers=voter,
    )
    assert cast.status_code == 201 and cast.json()["sequence"] == 1, cast.text
    board = client.get(f"{P}/elections/{E}/board").text
    assert board.count('"kind":"challenge"') == 1 and board.count('"kind":"ballot"') == 1
