"""A polling station's batch upload of cast ballots: each ballot verified and answered on its own."""

from __future__ import annotations

import copy
from typing import Any

from saylau.board import read_jsonl, verify_board
from saylau.voting.device import VotingDevice

from .conftest import VOTERS, P, TestClient, register_devices, setup_election


def _checkin(client: TestClient, el: Any, voter: int, station_user: str, station: str) -> str:
    r = client.post(
        f"{P}/elections/{el.id}/stations/{station}/checkin",
        json={"iin": VOTERS[voter]},
        headers=el.h[station_user],
    )
    assert r.status_code == 201, r.text
    return str(r.json()["credential"])


def _item(device: VotingDevice, credential: str, choice: str) -> dict[str, Any]:
    pending = device.encrypt({"president": [choice]}, "main")
    device.cast(pending)
    return {"credential": credential, "ballot": pending.ballot.to_dict(), "device_id": device.device_id}


def _tamper(ballot: dict[str, Any]) -> dict[str, Any]:
    """Change one digit of the first selection's first proof response."""
    bad = copy.deepcopy(ballot)
    responses = bad["contests"][0]["selections"][0]["proof"]["responses"]
    responses[0] = ("1" if responses[0][0] != "1" else "2") + responses[0][1:]
    return bad


def test_batch_accepts_and_refuses_each_ballot_on_its_own_and_a_resend_changes_nothing(
    client: TestClient,
) -> None:
    el = setup_election(client)
    assert el.params is not None
    st1 = el.h["station1"]
    register_devices(client, el, "st-1-kiosk", "st-1-kiosk2")
    kiosk = VotingDevice(el.params, "st-1-kiosk", "st-1")
    other = VotingDevice(el.params, "st-1-kiosk2", "st-1")
    c0, c2, c4, c6 = (_checkin(client, el, v, "station1", "st-1") for v in (0, 2, 4, 6))
    c1 = _checkin(client, el, 1, "station2", "st-2")  # a voter of the other station
    items = [
        _item(kiosk, c0, "cand-a"),
        _item(kiosk, c2, "cand-b"),
        {**_item(other, c4, "cand-a")},
        _item(kiosk, c6, "against-all"),
        _item(VotingDevice(el.params, "st-1-kiosk3", "st-1"), c0, "cand-b"),  # c0 votes twice
        _item(VotingDevice(el.params, "st-1-kiosk4", "st-1"), c1, "cand-b"),  # not this station's voter
        _item(VotingDevice(el.params, "st-1-kiosk5", "st-1"), "no-such-credential", "cand-a"),
    ]
    items[2]["ballot"] = _tamper(items[2]["ballot"])  # a broken proof, on a device of its own
    r = client.post(f"{P}/elections/{el.id}/ballots/batch", json={"ballots": items}, headers=st1)
    assert r.status_code == 200, r.text
    out = r.json()
    statuses = [res["status"] for res in out["results"]]
    assert statuses == [201, 201, 422, 201, 403, 403, 403], out
    assert [res["index"] for res in out["results"]] == list(range(7))
    assert (out["accepted"], out["duplicates"], out["refused"]) == (3, 0, 4)
    assert "already cast" in out["results"][4]["detail"]
    assert "st-2" in out["results"][5]["detail"]
    assert "unknown" in out["results"][6]["detail"]
    receipts = [out["results"][i]["receipt"] for i in (0, 1, 3)]
    assert [rc["sequence"] for rc in receipts] == [0, 1, 2]
    # every accepted ballot is on the board, and the chain verifies
    board = client.get(f"{P}/elections/{el.id}/board").text
    rows = list(read_jsonl(board.splitlines()))
    verify_board(rows)
    cast_codes = {row["code"] for row in rows if row.get("kind") == "ballot"}
    assert {rc["code"] for rc in receipts} <= cast_codes
    for rc in receipts:
        look = client.get(f"{P}/elections/{el.id}/board/codes/{rc['code']}")
        assert look.status_code == 200 and look.json()["entries"][0]["kind"] == "ballot"
    # resending the batch stores nothing twice: accepted ballots come back as duplicates
    again = client.post(f"{P}/elections/{el.id}/ballots/batch", json={"ballots": items}, headers=st1).json()
    assert [res["status"] for res in again["results"]] == [200, 200, 422, 200, 403, 403, 403], again
    assert all(again["results"][i]["receipt"]["duplicate"] for i in (0, 1, 3))
    assert client.get(f"{P}/elections/{el.id}/board").text.count('"kind":"ballot"') == board.count(
        '"kind":"ballot"'
    )


def test_batch_is_for_station_commissions_and_checks_the_device_chain(client: TestClient) -> None:
    el = setup_election(client)
    assert el.params is not None
    c0 = _checkin(client, el, 0, "station1", "st-1")
    register_devices(client, el, "st-1-kiosk")
    kiosk = VotingDevice(el.params, "st-1-kiosk", "st-1")
    item = _item(kiosk, c0, "cand-a")
    voter = {"Authorization": f"Bearer {c0}"}
    r = client.post(f"{P}/elections/{el.id}/ballots/batch", json={"ballots": [item]}, headers=voter)
    assert r.status_code == 403, r.text
    # station 2's commission cannot upload station 1's voters
    r = client.post(
        f"{P}/elections/{el.id}/ballots/batch", json={"ballots": [item]}, headers=el.h["station2"]
    )
    assert r.status_code == 200 and r.json()["results"][0]["status"] == 403, r.text
    # a ballot that skips one of its device's ballots is refused; the one before it, sent later, is not
    c2 = _checkin(client, el, 2, "station1", "st-1")
    later = _item(kiosk, c2, "cand-b")
    r = client.post(
        f"{P}/elections/{el.id}/ballots/batch", json={"ballots": [later, item]}, headers=el.h["station1"]
    )
    assert [res["status"] for res in r.json()["results"]] == [409, 201], r.text
    assert "previous_code" in r.json()["results"][0]["detail"]
    r = client.post(
        f"{P}/elections/{el.id}/ballots/batch", json={"ballots": [later]}, headers=el.h["station1"]
    )
    assert r.json()["results"][0]["status"] == 201, r.text
    # an empty batch or an unknown field is a 422 naming the field
    r = client.post(f"{P}/elections/{el.id}/ballots/batch", json={"ballots": []}, headers=el.h["station1"])
    assert r.status_code == 422 and "ballots" in r.json()["detail"]
    bad = {**item, "extra": 1}
    r = client.post(f"{P}/elections/{el.id}/ballots/batch", json={"ballots": [bad]}, headers=el.h["station1"])
    assert r.status_code == 422 and "extra" in r.json()["detail"]
