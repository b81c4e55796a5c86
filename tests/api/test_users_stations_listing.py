"""``GET /users`` (the CEC's list of logins) and ``GET /elections/{id}/stations`` (stations and keys)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saylau.election.protocols import public_key_hex

from .conftest import PASSWORD, P, TestClient, login, setup_election


def test_the_cec_lists_every_login_with_its_bindings_and_no_secret(client: TestClient) -> None:
    el = setup_election(client, open_it=False)  # cec, station1/2, pollster, observer, guardian1..3
    body = {"username": "s2-deputy", "password": PASSWORD, "role": "station", "election_id": el.id,
            "station_id": "st-2"}
    created = client.post(f"{P}/users", json=body, headers=el.h["cec"])
    assert created.status_code == 201, created.text
    r = client.get(f"{P}/users", headers=el.h["cec"])
    assert r.status_code == 200, r.text
    users = r.json()
    names = [u["username"] for u in users]
    assert names == ["cec", "station1", "station2", "pollster", "observer", "guardian1", "guardian2",
                     "guardian3", "s2-deputy"]
    by_name = {u["username"]: u for u in users}
    assert by_name["s2-deputy"] == {**by_name["s2-deputy"], "id": created.json()["id"], "role": "station",
                                    "election_id": el.id, "station_id": "st-2", "guardian_index": None}
    assert by_name["guardian3"]["guardian_index"] == 3 and by_name["cec"]["election_id"] is None
    assert all(set(u) == {"id", "username", "role", "election_id", "station_id", "guardian_index",
                          "created_at"} for u in users)
    assert PASSWORD not in r.text and "argon2" not in r.text
    for who in ("station1", "observer", "guardian1"):
        assert client.get(f"{P}/users", headers=el.h[who]).status_code == 403
    assert client.get(f"{P}/users").status_code == 401


def test_stations_are_listed_with_their_registered_key(client: TestClient) -> None:
    el = setup_election(client, open_it=False)
    r = client.get(f"{P}/elections/{el.id}/stations")  # public: the keys are on the board too
    assert r.status_code == 200, r.text
    assert [(s["station_id"], s["region"], s["public_key"]) for s in r.json()] == [
        ("st-1", "r1", None), ("st-2", "r1", None)]
    key = public_key_hex(Ed25519PrivateKey.generate().public_key())
    assert client.post(f"{P}/elections/{el.id}/stations/st-2/key", json={"public_key": key},
                       headers=el.h["cec"]).status_code == 200
    listed = {s["station_id"]: s["public_key"] for s in client.get(f"{P}/elections/{el.id}/stations").json()}
    assert listed == {"st-1": None, "st-2": key}
    # a second, different key for the same station is refused (the verifier accepts one per station)
    other = public_key_hex(Ed25519PrivateKey.generate().public_key())
    r = client.post(f"{P}/elections/{el.id}/stations/st-2/key", json={"public_key": other},
                    headers=el.h["cec"])
    assert r.status_code == 409 and "already registered" in r.json()["detail"]
    assert client.get(f"{P}/elections/{el.id}/stations").json()[1]["public_key"] == key
    r = client.get(f"{P}/elections/nowhere/stations")
    assert r.status_code == 404 and "nowhere" in r.json()["detail"]
    assert login(client, "station1")  # the listing changed no login
