"""``GET /ceremony`` (each guardian's steps) and ``GET /guardians/{i}/partial-decryption``, both backends."""

from __future__ import annotations

from saylau.crypto import (
    EncryptedTally,
    Guardian,
    GuardianRecord,
    PartialDecryption,
    verify_partial_decryption,
)

from .conftest import KZ_IIN, PASSWORD, P, TestClient, login, manifest, setup_election, tally_and_share


def _steps(client: TestClient, eid: str) -> list[dict[str, object]]:
    r = client.get(f"{P}/elections/{eid}/ceremony")  # public: no token
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["guardians"], body["quorum"]) == (3, 2)
    return list(body["progress"])


def test_the_ceremony_progress_follows_each_guardians_steps(client: TestClient) -> None:
    cec = login(client, "cec")
    r = client.post(
        f"{P}/elections",
        json={"manifest": manifest(), "guardians": 3, "quorum": 2, "voter_id": KZ_IIN},
        headers=cec,
    )
    assert r.status_code == 201, r.text
    eid, base_hash = r.json()["id"], bytes.fromhex(r.json()["base_hash"])
    h = {}
    for i in (1, 2, 3):
        body = {"username": f"g{i}", "password": PASSWORD, "role": "guardian", "election_id": eid,
                "guardian_index": i}
        assert client.post(f"{P}/users", json=body, headers=cec).status_code == 201
        h[i] = login(client, f"g{i}")
    none = {"record": False, "shares_sent": [], "shares_received": [], "finished": False,
            "partial_decryption": False}
    assert _steps(client, eid) == [{"index": i, **none} for i in (1, 2, 3)]

    guardians = {i: Guardian.generate(i, 3, 2, base_hash) for i in (1, 2, 3)}
    for i in (1, 2, 3):
        r = client.post(f"{P}/elections/{eid}/guardians/{i}/record",
                        json={"record": guardians[i].public_record().to_dict()}, headers=h[i])
        assert r.status_code == 201, r.text
    records = {i: GuardianRecord.from_dict(g.public_record().to_dict()) for i, g in guardians.items()}
    shares = [{"recipient": j, "share": guardians[1].share_for(j, records[j]).to_dict()} for j in (2, 3)]
    r = client.post(f"{P}/elections/{eid}/guardians/1/shares", json={"shares": shares}, headers=h[1])
    assert r.status_code == 201, r.text
    assert client.post(f"{P}/elections/{eid}/guardians/1/finish", headers=h[1]).status_code == 200
    steps = _steps(client, eid)
    assert steps[0] == {**none, "index": 1, "record": True, "shares_sent": [2, 3], "finished": True}
    assert steps[1] == {**none, "index": 2, "record": True, "shares_received": [1]}
    assert steps[2] == {**none, "index": 3, "record": True, "shares_received": [1]}
    # the endpoint says who sent to whom, never a share itself
    text = client.get(f"{P}/elections/{eid}/ceremony").text
    secret_parts = [v for v in shares[0]["share"].values() if isinstance(v, str) and len(v) > 16]
    assert secret_parts and not any(v in text for v in secret_parts)
    assert client.get(f"{P}/elections/nope/ceremony").status_code == 404


def test_a_published_partial_decryption_can_be_read_and_checked(client: TestClient) -> None:
    el = setup_election(client)
    steps = _steps(client, el.id)
    assert all(s["record"] and s["finished"] and len(s["shares_sent"]) == 2 for s in steps)
    assert client.post(f"{P}/elections/{el.id}/close", headers=el.h["cec"]).status_code == 200
    r = client.get(f"{P}/elections/{el.id}/guardians/1/partial-decryption")
    assert r.status_code == 404 and "guardian 1: no partial decryption" in r.json()["detail"]
    tally_and_share(client, el, el.guardians[:1])
    assert [s["partial_decryption"] for s in _steps(client, el.id)] == [True, False, False]
    r = client.get(f"{P}/elections/{el.id}/guardians/1/partial-decryption")
    assert r.status_code == 200, r.text
    body = r.json()
    scopes = client.get(f"{P}/elections/{el.id}/tally").json()["scopes"]
    assert body["index"] == 1
    given_scopes = [(p["scope"], p["scope_id"]) for p in body["partials"]]
    assert given_scopes == [(s["scope"], s["scope_id"]) for s in scopes]
    assert el.params is not None
    for given, scope in zip(body["partials"], scopes, strict=True):  # what anyone can check
        verify_partial_decryption(el.params, EncryptedTally.from_dict(scope["encrypted"]),
                                  PartialDecryption.from_dict(given["partial"]))
    assert client.get(f"{P}/elections/{el.id}/guardians/2/partial-decryption").status_code == 404
    assert client.get(f"{P}/elections/{el.id}/guardians/0/partial-decryption").status_code == 422
    assert client.get(f"{P}/elections/nope/guardians/1/partial-decryption").status_code == 404
