"""A ballot id that is already taken is refused alone (409 naming it); nobody else's ballot is affected.

Ballot ids are chosen by the client (``<device id>-<sequence>``); the ``ballots`` table's primary key is
(election, id). Before the writer checked ids, a reused id passed every check, broke the primary key at
flush and failed every ballot of the same commit group with HTTP 500, however often it was sent.
"""

from __future__ import annotations

from typing import Any

from saylau.crypto import DeviceChain, encrypt_ballot
from saylau.voting.device import VotingDevice

from .conftest import VOTERS, P, TestClient, setup_election


def _checkin(client: TestClient, el: Any, voter: int) -> str:
    r = client.post(
        f"{P}/elections/{el.id}/stations/st-1/checkin", json={"iin": VOTERS[voter]}, headers=el.h["station1"]
    )
    assert r.status_code == 201, r.text
    return str(r.json()["credential"])


def _item(device: VotingDevice, credential: str, choice: str) -> dict[str, Any]:
    pending = device.encrypt({"president": [choice]}, "main")
    device.cast(pending)
    return {"credential": credential, "ballot": pending.ballot.to_dict(), "device_id": device.device_id}


def _reusing(el: Any, device_id: str, ballot_id: str, credential: str) -> dict[str, Any]:
    """A valid ballot on a fresh device's chain whose id is ``ballot_id`` (someone else's)."""
    assert el.params is not None
    chain = DeviceChain(device_id, el.params.base_hash)
    ballot, _ = encrypt_ballot(el.params, ballot_id, "main", {"president": ["cand-b"]}, chain)
    return {"credential": credential, "ballot": ballot.to_dict(), "device_id": device_id}


def _batch(client: TestClient, el: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    r = client.post(f"{P}/elections/{el.id}/ballots/batch", json={"ballots": items}, headers=el.h["station1"])
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_stored_ballot_id_is_refused_alone_and_the_rest_of_the_group_is_stored(client: TestClient) -> None:
    el = setup_election(client)
    assert el.params is not None
    kiosk = VotingDevice(el.params, "st-1-d1", "st-1")
    first = _batch(client, el, [_item(kiosk, _checkin(client, el, 0), "cand-a")])
    assert [r["status"] for r in first["results"]] == [201], first
    taken = first["results"][0]["receipt"]["ballot_id"]
    other = VotingDevice(el.params, "st-1-d2", "st-1")
    items = [
        _item(kiosk, _checkin(client, el, 2), "cand-b"),
        _reusing(el, "st-1-d3", taken, _checkin(client, el, 4)),
        _item(other, _checkin(client, el, 6), "against-all"),
    ]
    for attempt in range(2):  # the refusal is the same when sent again, and never a 500
        out = _batch(client, el, items if attempt == 0 else [items[1]])
        statuses = [r["status"] for r in out["results"]]
        if attempt == 0:
            assert statuses == [201, 409, 201], out
            bad = out["results"][1]
        else:
            assert statuses == [409], out
            bad = out["results"][0]
        assert taken in bad["detail"] and "ballot id" in bad["detail"], bad
    board = client.get(f"{P}/elections/{el.id}/board").text
    assert board.count('"kind":"ballot"') == 3  # the first ballot and the two honest ones of the group


def test_an_id_repeated_inside_one_group_is_refused_for_the_second_ballot_only(client: TestClient) -> None:
    el = setup_election(client)
    assert el.params is not None
    kiosk = VotingDevice(el.params, "st-1-d1", "st-1")
    honest = _item(kiosk, _checkin(client, el, 0), "cand-a")
    items = [honest, _reusing(el, "st-1-d9", honest["ballot"]["ballot_id"], _checkin(client, el, 2))]
    out = _batch(client, el, items)
    assert [r["status"] for r in out["results"]] == [201, 409], out
    assert honest["ballot"]["ballot_id"] in out["results"][1]["detail"]


def test_a_single_cast_reusing_an_id_is_409_naming_it(client: TestClient) -> None:
    el = setup_election(client)
    assert el.params is not None
    kiosk = VotingDevice(el.params, "st-1-d1", "st-1")
    stored = _batch(client, el, [_item(kiosk, _checkin(client, el, 0), "cand-a")])["results"][0]["receipt"]
    item = _reusing(el, "st-1-d5", stored["ballot_id"], _checkin(client, el, 2))
    voter = {"Authorization": f"Bearer {item['credential']}"}
    body = {"ballot": item["ballot"], "device_id": item["device_id"]}
    r = client.post(f"{P}/elections/{el.id}/ballots", json=body, headers=voter)
    assert r.status_code == 409 and stored["ballot_id"] in r.json()["detail"], r.text
    # the voter's credential was not spent: a ballot with a fresh id is accepted
    good = VotingDevice(el.params, "st-1-d5", "st-1").encrypt({"president": ["cand-a"]}, "main").ballot
    body = {"ballot": good.to_dict(), "device_id": "st-1-d5"}
    r = client.post(f"{P}/elections/{el.id}/ballots", json=body, headers=voter)
    assert r.status_code == 201, r.text
