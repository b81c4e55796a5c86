"""Revote tags on the server: given with remote credentials, required on remote ballots, refused elsewhere."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from saylau.api import Settings
from saylau.api.routes_stations import voter_pseudonym
from saylau.api.state import load_revote_key
from saylau.errors import SaylauError
from saylau.voting.device import VotingDevice
from saylau.voting.revote import RevoteSlots

from .conftest import VOTERS, P, TestClient, register_devices, setup_election


def _remote(client: TestClient, el: Any, voter: int) -> tuple[dict[str, str], bytes]:
    r = client.post(
        f"{P}/elections/{el.id}/remote-credentials", json={"iin": VOTERS[voter]}, headers=el.h["cec"]
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['credential']}"}, bytes.fromhex(r.json()["revote_tag"])


def _checkin(client: TestClient, el: Any, voter: int) -> str:
    r = client.post(
        f"{P}/elections/{el.id}/stations/st-1/checkin", json={"iin": VOTERS[voter]}, headers=el.h["station1"]
    )
    assert r.status_code == 201, r.text
    return str(r.json()["credential"])


def _ballot(device: VotingDevice, choice: str, tag: bytes | None) -> dict[str, Any]:
    pending = device.encrypt({"president": [choice]}, "main", revote_tag=tag)
    device.cast(pending)
    return {"ballot": pending.ballot.to_dict(), "device_id": device.device_id}


def test_remote_ballots_need_their_voters_tag_and_in_person_ballots_none(
    client: TestClient, tmp_path: Path
) -> None:
    el = setup_election(client)
    assert el.params is not None
    eid = el.id
    v6, tag6 = _remote(client, el, 6)
    _v8, tag8 = _remote(client, el, 8)
    # the tag is HMAC(k_R, H_B, pseudonym): recomputed here from the key file, distinct per voter
    key = (tmp_path / "revote.key").read_text().strip()
    slots = RevoteSlots(bytes.fromhex(key), context=el.params.base_hash)
    pseudonym_key = bytes.fromhex((tmp_path / "saylau-pseudonym.key").read_text().strip())
    assert tag6 == slots.slot(voter_pseudonym(pseudonym_key, eid, VOTERS[6]).encode())
    assert tag8 == slots.slot(voter_pseudonym(pseudonym_key, eid, VOTERS[8]).encode()) != tag6
    url = f"{P}/elections/{eid}/ballots"
    register_devices(client, el, "st-1-d1")

    def refused(body: dict[str, Any], headers: dict[str, str]) -> str:
        r = client.post(url, json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert "revote_tag" in r.json()["detail"], r.text
        return str(r.json()["detail"])

    # another voter's tag, and no tag at all, on v6's remote ballot
    assert "not the casting voter's" in refused(
        _ballot(VotingDevice(el.params, "bad-1", "st-1"), "cand-a", tag8), v6
    )
    assert "missing" in refused(_ballot(VotingDevice(el.params, "bad-2", "st-1"), "cand-a", None), v6)
    # a tag on an in-person ballot (even a real voter's tag)
    booth = {"Authorization": f"Bearer {_checkin(client, el, 0)}"}
    assert "in-person" in refused(_ballot(VotingDevice(el.params, "bad-3", "st-1"), "cand-a", tag6), booth)
    # the right tags are accepted; v6's revote supersedes the first ballot
    phone = VotingDevice(el.params, "st-1-remote", "st-1")
    first = client.post(url, json=_ballot(phone, "cand-b", tag6), headers=v6)
    assert first.status_code == 201, first.text
    second = client.post(url, json=_ballot(phone, "cand-a", tag6), headers=v6)
    assert second.status_code == 201 and second.json()["superseded"] == [first.json()["code"]], second.text
    r = client.post(
        url, json=_ballot(VotingDevice(el.params, "st-1-d1", "st-1"), "cand-a", None), headers=booth
    )
    assert r.status_code == 201, r.text
    # the key itself appears nowhere on the board
    assert key not in client.get(f"{P}/elections/{eid}/board").text


def test_a_station_batch_refuses_a_misplaced_tag_per_ballot(client: TestClient) -> None:
    el = setup_election(client)
    assert el.params is not None
    remote, tag6 = _remote(client, el, 6)
    register_devices(client, el, "st-1-kiosk", "st-1-k2")
    kiosk = VotingDevice(el.params, "st-1-kiosk", "st-1")
    c0, c2 = _checkin(client, el, 0), _checkin(client, el, 2)
    items = [
        {**_ballot(kiosk, "cand-a", None), "credential": c0},
        {**_ballot(VotingDevice(el.params, "st-1-k2", "st-1"), "cand-b", tag6), "credential": c2},
        {**_ballot(kiosk, "cand-b", None), "credential": remote["Authorization"].removeprefix("Bearer ")},
    ]
    r = client.post(f"{P}/elections/{el.id}/ballots/batch", json={"ballots": items}, headers=el.h["station1"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert [res["status"] for res in out["results"]] == [201, 422, 422], out
    assert "in-person" in out["results"][1]["detail"] and "revote_tag" in out["results"][1]["detail"]
    assert "missing" in out["results"][2]["detail"] and "revote_tag" in out["results"][2]["detail"]
    assert (out["accepted"], out["refused"]) == (1, 2)


def test_the_revote_key_file_is_made_once_private_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "revote.key"
    with pytest.raises(SaylauError, match="does not exist"):
        load_revote_key(path, create=False)
    key = load_revote_key(path)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_revote_key(path) == key  # the same key after a restart
    path.write_text("zz\n")
    with pytest.raises(SaylauError, match="not hexadecimal"):
        load_revote_key(path)
    path.write_text("00" * 16 + "\n")
    with pytest.raises(SaylauError, match="16 bytes, not 32"):
        load_revote_key(path)


def test_the_revote_key_defaults_to_the_environment_then_beside_the_board_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = tmp_path / "keys" / "board.pem"
    monkeypatch.delenv("SAYLAU_REVOTE_KEY", raising=False)
    assert Settings(board_key_file=board).revote_key_path == tmp_path / "keys" / "saylau-revote.key"
    monkeypatch.setenv("SAYLAU_REVOTE_KEY", str(tmp_path / "env.key"))
    assert Settings(board_key_file=board).revote_key_path == tmp_path / "env.key"
    given = Settings(board_key_file=board, revote_key_file=tmp_path / "given.key")
    assert given.revote_key_path == tmp_path / "given.key"


def test_a_replayed_remote_credential_withholds_the_credential_and_the_tag(client: TestClient) -> None:
    el = setup_election(client)
    hdr = {**el.h["cec"], "Idempotency-Key": "remote-v1"}
    url = f"{P}/elections/{el.id}/remote-credentials"
    first = client.post(url, json={"iin": VOTERS[1]}, headers=hdr)
    again = client.post(url, json={"iin": VOTERS[1]}, headers=hdr)
    assert first.status_code == again.status_code == 201, first.text
    assert again.headers.get("Idempotent-Replay") == "true"
    assert again.json()["withheld"] == ["credential", "revote_tag"]
    assert "credential" not in again.json() and "revote_tag" not in again.json()
