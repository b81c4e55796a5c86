"""The server admits exactly what the verifier accepts (issue 8, items 1, 2, 5, 6, 7), on both backends.

Each test casts a ballot whose proofs are valid but that the final record's verification would reject
(before: 201, published, and then ``saylau verify`` failed on the whole record), and checks that it is
refused with a 4xx naming the field or device, that nothing was stored, and that honest ballots still go
through afterwards.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from saylau.crypto import DeviceChain, encrypt_ballot
from saylau.voting.device import VotingDevice

from .conftest import VOTERS, Election, P, TestClient, manifest, register_devices, setup_election

E = "e2022"


def _checkin(client: TestClient, el: Election, voter: int) -> dict[str, str]:
    station = "st-1" if voter % 2 == 0 else "st-2"
    r = client.post(
        f"{P}/elections/{E}/stations/{station}/checkin",
        json={"iin": VOTERS[voter]},
        headers=el.h["station1" if station == "st-1" else "station2"],
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['credential']}"}


def _remote(client: TestClient, el: Election, voter: int) -> tuple[dict[str, str], bytes]:
    r = client.post(f"{P}/elections/{E}/remote-credentials", json={"iin": VOTERS[voter]}, headers=el.h["cec"])
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['credential']}"}, bytes.fromhex(r.json()["revote_tag"])


def _cast(client: TestClient, ballot: dict[str, Any], device_id: str, voter: dict[str, str]) -> Any:
    return client.post(
        f"{P}/elections/{E}/ballots", json={"ballot": ballot, "device_id": device_id}, headers=voter
    )


def _ballots_on_board(client: TestClient) -> int:
    return client.get(f"{P}/elections/{E}/board").text.count('"kind":"ballot"')


def _refused(r: Any, status: int, *words: str) -> str:
    assert r.status_code == status, r.text
    detail = str(r.json()["detail"])
    for w in words:
        assert w in detail, detail
    return detail


def _regional_manifest() -> dict[str, Any]:
    """Region r1 (st-1, st-2) and r2 (st-3); a second contest; styles bound to regions."""
    doc = copy.deepcopy(manifest())
    name = {"kk": "x", "ru": "x", "en": "x"}
    doc["regions"].append(
        {
            "region_id": "r2",
            "name": name,
            "districts": [
                {
                    "district_id": "d2",
                    "name": name,
                    "stations": [{"station_id": "st-3", "name": name, "time_zone": "Asia/Almaty"}],
                }
            ],
        }
    )
    doc["contests"].append(
        {
            "contest_id": "referendum",
            "name": name,
            "votes_allowed": 1,
            "selections": [
                {"selection_id": "yes", "kind": "candidate", "name": name},
                {"selection_id": "no", "kind": "candidate", "name": name},
            ],
        }
    )
    doc["ballot_styles"] = [
        {"style_id": "main", "contest_ids": ["president"], "region_ids": ["r1"]},
        {"style_id": "r2-only", "contest_ids": ["president"], "region_ids": ["r2"]},
        {"style_id": "both", "contest_ids": ["president", "referendum"], "region_ids": []},
    ]
    return doc


def test_a_ballot_of_an_unknown_style_is_refused_naming_style_id_and_nothing_is_stored(
    client: TestClient,
) -> None:
    el = setup_election(client)
    assert el.params is not None
    register_devices(client, el, "st-1-d1")
    voter = _checkin(client, el, 0)
    device = VotingDevice(el.params, "st-1-d1", "st-1")
    bad = device.encrypt({"president": ["cand-a"]}, "no-such-style").ballot  # valid proofs
    _refused(_cast(client, bad.to_dict(), "st-1-d1", voter), 422, "style_id", "no-such-style")
    assert _ballots_on_board(client) == 0
    # the credential is unused and the device's chain did not move: an honest ballot at sequence 0 goes in
    honest = VotingDevice(el.params, "st-1-d1", "st-1").encrypt({"president": ["cand-a"]}, "main").ballot
    r = _cast(client, honest.to_dict(), "st-1-d1", voter)
    assert r.status_code == 201 and r.json()["sequence"] == 0, r.text


def test_styles_are_checked_against_the_station_region_and_the_contests(client: TestClient) -> None:
    el = setup_election(client, manifest_doc=_regional_manifest())
    assert el.params is not None
    register_devices(client, el, "st-1-d1")
    voter = _checkin(client, el, 0)
    # another region's style (same contest, valid proofs): the station st-1 lies in r1
    other = VotingDevice(el.params, "st-1-d1", "st-1").encrypt({"president": ["cand-a"]}, "r2-only").ballot
    _refused(_cast(client, other.to_dict(), "st-1-d1", voter), 422, "style_id", "region r1")
    # a style whose contests the ballot does not carry exactly
    short = VotingDevice(el.params, "st-1-d1", "st-1").encrypt({"president": ["cand-a"]}, "both").ballot
    _refused(_cast(client, short.to_dict(), "st-1-d1", voter), 422, "contests", "both")
    assert _ballots_on_board(client) == 0
    good = VotingDevice(el.params, "st-1-d1", "st-1").encrypt(
        {"president": ["cand-a"], "referendum": ["yes"]}, "both"
    )
    assert _cast(client, good.ballot.to_dict(), "st-1-d1", voter).status_code == 201


def test_a_ballot_with_an_identity_ciphertext_is_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A nonce of 0 gives alpha = identity and beta = K^vote: valid proofs, and the vote in clear."""
    el = setup_election(client)
    assert el.params is not None
    register_devices(client, el, "st-1-d1")
    voter = _checkin(client, el, 0)
    with monkeypatch.context() as m:
        m.setattr("saylau.crypto.ballot.selection_nonce", lambda *args: 0)
        public = VotingDevice(el.params, "st-1-d1", "st-1").encrypt({"president": ["cand-b"]}, "main").ballot
    assert public.contests[0].selections[0].ciphertext.alpha.is_identity
    _refused(_cast(client, public.to_dict(), "st-1-d1", voter), 422, "alpha is the identity")
    assert _ballots_on_board(client) == 0


def test_the_ballot_id_must_name_its_device_and_chain_position(client: TestClient) -> None:
    el = setup_election(client)
    assert el.params is not None
    register_devices(client, el, "st-1-d1")
    voter = _checkin(client, el, 0)
    for bid in ("st-1-d1-000005", "st-2-d1-000000", "st-1-d1-0", "whatever"):
        chain = DeviceChain("st-1-d1", el.params.base_hash)  # chains correctly at position 0
        ballot, _ = encrypt_ballot(el.params, bid, "main", {"president": ["cand-a"]}, chain)
        _refused(_cast(client, ballot.to_dict(), "st-1-d1", voter), 422, "ballot_id")
    assert _ballots_on_board(client) == 0


def test_devices_are_registered_by_their_station_and_cast_only_their_channel(client: TestClient) -> None:
    el = setup_election(client)
    assert el.params is not None
    url = f"{P}/elections/{E}/stations/st-1/devices"
    # registration: only the station's own commission, ids under its station, the remote suffix reserved
    r = client.post(url, json={"device_id": "st-1-d1"}, headers=el.h["station2"])
    _refused(r, 403, "st-1")
    _refused(client.post(url, json={"device_id": "st-2-d7"}, headers=el.h["station1"]), 422, "device_id")
    _refused(client.post(url, json={"device_id": "st-1-remote"}, headers=el.h["station1"]), 422, "device_id")
    _refused(client.post(url, json={"device_id": "st-1-d1"}, headers=el.h["cec"]), 403)
    r = client.post(url, json={"device_id": "st-1-d1"}, headers=el.h["station1"])
    assert r.status_code == 201 and r.json()["channel"] == "booth" and r.json()["ballot_count"] == 0, r.text
    _refused(client.post(url, json={"device_id": "st-1-d1"}, headers=el.h["station1"]), 409, "st-1-d1")
    register_devices(client, el, "st-2-d1")

    booth = VotingDevice(el.params, "st-1-d1", "st-1")
    remote, tag = _remote(client, el, 6)
    in_person = _checkin(client, el, 0)
    # a remote voter cannot append to a booth's public chain (so the booth's next ballot still chains)
    hijack = VotingDevice(el.params, "st-1-d1", "st-1").encrypt(
        {"president": ["cand-b"]}, "main", revote_tag=tag
    )
    _refused(_cast(client, hijack.ballot.to_dict(), "st-1-d1", remote), 403, "st-1-d1")
    # nor cast on an unregistered device, nor on another station's remote channel
    loose = VotingDevice(el.params, "st-1-d9", "st-1").encrypt(
        {"president": ["cand-b"]}, "main", revote_tag=tag
    )
    _refused(_cast(client, loose.ballot.to_dict(), "st-1-d9", remote), 403, "st-1-d9")
    far = VotingDevice(el.params, "st-2-remote", "st-2").encrypt(
        {"president": ["cand-b"]}, "main", revote_tag=tag
    )
    _refused(_cast(client, far.ballot.to_dict(), "st-2-remote", remote), 403, "st-2-remote")
    # an in-person credential: not on the remote channel, not on an unregistered or another station's booth
    for dev_id in ("st-1-remote", "st-1-d9", "st-2-d1"):
        wrong = VotingDevice(el.params, dev_id, dev_id[:4]).encrypt({"president": ["cand-a"]}, "main")
        _refused(_cast(client, wrong.ballot.to_dict(), dev_id, in_person), 403, dev_id)
    assert _ballots_on_board(client) == 0
    # the honest ballots go through: the booth at sequence 0, the remote voter on the remote channel
    first = booth.encrypt({"president": ["cand-a"]}, "main")
    r = _cast(client, first.ballot.to_dict(), "st-1-d1", in_person)
    assert r.status_code == 201 and r.json()["sequence"] == 0, r.text
    phone = VotingDevice(el.params, "st-1-remote", "st-1", "remote")
    r = _cast(
        client,
        phone.encrypt({"president": ["cand-b"]}, "main", revote_tag=tag).ballot.to_dict(),
        "st-1-remote",
        remote,
    )
    assert r.status_code == 201, r.text
    listed = {d["device_id"]: d for d in client.get(url).json()}
    assert listed["st-1-remote"]["channel"] == "remote" and listed["st-1-d1"]["channel"] == "booth"
    assert listed["st-1-d1"]["last_code"] == first.ballot.code.hex()


def test_a_batch_refuses_an_unregistered_device_per_ballot(client: TestClient) -> None:
    el = setup_election(client)
    assert el.params is not None
    register_devices(client, el, "st-1-kiosk")
    c0, c2 = (_checkin(client, el, v)["Authorization"].removeprefix("Bearer ") for v in (0, 2))
    kiosk, stray = (
        VotingDevice(el.params, "st-1-kiosk", "st-1"),
        VotingDevice(el.params, "st-1-stray", "st-1"),
    )
    items = [
        {
            "credential": c0,
            "ballot": kiosk.encrypt({"president": ["cand-a"]}, "main").ballot.to_dict(),
            "device_id": "st-1-kiosk",
        },
        {
            "credential": c2,
            "ballot": stray.encrypt({"president": ["cand-a"]}, "main").ballot.to_dict(),
            "device_id": "st-1-stray",
        },
    ]
    r = client.post(f"{P}/elections/{E}/ballots/batch", json={"ballots": items}, headers=el.h["station1"])
    assert [x["status"] for x in r.json()["results"]] == [201, 403], r.text
    assert "st-1-stray" in r.json()["results"][1]["detail"]


def test_a_challenged_ballot_carrying_a_revote_tag_is_refused(client: TestClient) -> None:
    """The tag would link the opened plaintext to the voter's counted ballot."""
    el = setup_election(client)
    assert el.params is not None
    remote, tag = _remote(client, el, 6)
    phone = VotingDevice(el.params, "st-1-remote", "st-1", "remote")
    _, opened = phone.challenge(phone.encrypt({"president": ["cand-b"]}, "main", revote_tag=tag))
    url = f"{P}/elections/{E}/challenges"
    r = client.post(url, json={"challenged": opened.to_dict(), "device_id": "st-1-remote"}, headers=remote)
    _refused(r, 422, "revote_tag", "challenged")
    assert '"kind":"challenge"' not in client.get(f"{P}/elections/{E}/board").text
    # untagged, the same voter's challenge is published; then the tagged vote is cast after it
    phone = VotingDevice(el.params, "st-1-remote", "st-1", "remote")
    _, opened = phone.challenge(phone.encrypt({"president": ["cand-b"]}, "main"))
    r = client.post(url, json={"challenged": opened.to_dict(), "device_id": "st-1-remote"}, headers=remote)
    assert r.status_code == 201 and r.json()["sequence"] == 0, r.text
    vote = phone.encrypt({"president": ["cand-a"]}, "main", revote_tag=tag)
    r = _cast(client, vote.ballot.to_dict(), "st-1-remote", remote)
    assert r.status_code == 201 and r.json()["sequence"] == 1, r.text


def test_remote_channel_device_ids_fit_a_device_id() -> None:
    from saylau.api.admission import remote_device_id

    assert remote_device_id("st-1") == "st-1-remote"
    long_a, long_b = "s" * 60 + "-a", "s" * 60 + "-b"
    ids = {remote_device_id(long_a), remote_device_id(long_b)}
    assert len(ids) == 2 and all(len(i) == 64 and i.endswith("-remote") for i in ids)
