"""An election brought to each phase through the API, for the fuzzer: tokens of every role, known ids.

Built with the helpers of ``tests/api/conftest.py`` (``setup_election``, ``register_devices``,
``tally_and_share``, ``wait_job``), so the fuzzer meets the election as the other API tests do and the
404 of a missing election does not hide what the routes do with a real one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.voting.device import VotingDevice

from ..conftest import (
    CSV,
    KZ_IIN,
    PASSWORD,
    VOTERS,
    Election,
    P,
    TestClient,
    login,
    manifest,
    register_devices,
    roll_csv,
    setup_election,
    tally_and_share,
    wait_job,
)
from ..test_registration_api import RULES, applicant

PHASES = ("registration", "ceremony", "voting", "closed", "tallied", "published")
"""``registration``: defined, candidacy rules, roll and an application, no ceremony yet; ``ceremony``:
records and shares posted, two of three guardians finished, no joint key; ``voting``: open, a ballot
cast; ``closed``: a station's protocol in; ``tallied``: one guardian's partial decryption of two
needed; ``published``: decrypted, board closed."""

ROLES = ("public", "observer", "pollster", "voter", "guardian", "station", "cec")
"""Each fuzzed in turn; the CEC last, since its phase changes (open, close, tally …) end the phase."""

EID = "e2022"


@dataclass
class World:
    """An election in one phase: a bearer token per role and the ids the path parameters should name."""

    phase: str
    tokens: dict[str, dict[str, str]]
    known: dict[str, list[Any]] = field(default_factory=dict)


def _users(client: TestClient, cec: dict[str, str], n: int) -> dict[str, dict[str, str]]:
    h: dict[str, dict[str, str]] = {"cec": cec}
    users = [
        ("station1", "station", {"station_id": "st-1"}),
        ("station2", "station", {"station_id": "st-2"}),
        ("pollster", "pollster", {}),
        ("observer", "observer", {}),
    ]
    users += [(f"guardian{i}", "guardian", {"guardian_index": i}) for i in range(1, n + 1)]
    for name, role, extra in users:
        body = {"username": name, "password": PASSWORD, "role": role, "election_id": EID, **extra}
        r = client.post(f"{P}/users", json=body, headers=cec)
        assert r.status_code == 201, r.text
        h[name] = login(client, name)
    return h


def _remote_voter(client: TestClient, cec: dict[str, str], iin: str) -> dict[str, str]:
    r = client.post(f"{P}/elections/{EID}/remote-credentials", json={"iin": iin}, headers=cec)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['credential']}"}


def _registration(client: TestClient) -> World:
    cec = login(client, "cec")
    body = {
        "manifest": manifest(),
        "guardians": 3,
        "quorum": 2,
        "candidacy_rules": RULES,
        "registered_at_nomination": 1000,
        "voter_id": KZ_IIN,
    }
    r = client.post(f"{P}/elections", json=body, headers=cec)
    assert r.status_code == 201, r.text
    h = _users(client, cec, 3)
    r = client.post(f"{P}/elections/{EID}/roll", content=roll_csv(), headers={**cec, **CSV})
    assert r.status_code == 201, r.text
    r = client.post(f"{P}/elections/{EID}/applications", json={"applicant": applicant("good")}, headers=cec)
    assert r.status_code == 201, r.text
    h["voter"] = _remote_voter(client, cec, VOTERS[9])
    return World("registration", _roles(h))


def _ceremony(client: TestClient) -> World:
    """``setup_election``'s ceremony up to the shares, then guardians 1 and 2 finish; no key."""
    from saylau.crypto import EncryptedShare, Guardian, GuardianRecord

    cec = login(client, "cec")
    body = {"manifest": manifest(), "guardians": 3, "quorum": 2, "voter_id": KZ_IIN}
    r = client.post(f"{P}/elections", json=body, headers=cec)
    assert r.status_code == 201, r.text
    base_hash = bytes.fromhex(r.json()["base_hash"])
    h = _users(client, cec, 3)
    guardians = [Guardian.generate(i, 3, 2, base_hash) for i in (1, 2, 3)]
    for g in guardians:
        r = client.post(
            f"{P}/elections/{EID}/guardians/{g.index}/record",
            json={"record": g.public_record().to_dict()},
            headers=h[f"guardian{g.index}"],
        )
        assert r.status_code == 201, r.text
    records = {g.index: GuardianRecord.from_dict(g.public_record().to_dict()) for g in guardians}
    for g in guardians:
        shares = [
            {"recipient": o, "share": g.share_for(o, records[o]).to_dict()} for o in records if o != g.index
        ]
        r = client.post(
            f"{P}/elections/{EID}/guardians/{g.index}/shares",
            json={"shares": shares},
            headers=h[f"guardian{g.index}"],
        )
        assert r.status_code == 201, r.text
    for g in guardians[:2]:
        hdr = h[f"guardian{g.index}"]
        for item in client.get(f"{P}/elections/{EID}/guardians/{g.index}/shares", headers=hdr).json():
            g.receive_share(EncryptedShare.from_dict(item["share"]), records[item["sender"]])
        g.finish()
        r = client.post(f"{P}/elections/{EID}/guardians/{g.index}/finish", headers=hdr)
        assert r.status_code == 200, r.text
    r = client.post(f"{P}/elections/{EID}/roll", content=roll_csv(), headers={**cec, **CSV})
    assert r.status_code == 201, r.text
    h["voter"] = _remote_voter(client, cec, VOTERS[9])
    return World("ceremony", _roles(h))


def _check_in(client: TestClient, el: Election, voter: int, station: str) -> dict[str, str]:
    who = "station1" if station == "st-1" else "station2"
    r = client.post(
        f"{P}/elections/{EID}/stations/{station}/checkin", json={"iin": VOTERS[voter]}, headers=el.h[who]
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['credential']}"}


def _voting(client: TestClient) -> tuple[World, Election]:
    """Open; a booth device at st-1, one ballot cast on it, a voter checked in who has not cast yet."""
    el = setup_election(client)
    assert el.params is not None
    register_devices(client, el, "st-1-d1")
    booth = VotingDevice(el.params, "st-1-d1", "st-1")
    pending = booth.encrypt({"president": ["cand-a"]}, "main")
    booth.cast(pending)
    r = client.post(
        f"{P}/elections/{EID}/ballots",
        json={"ballot": pending.ballot.to_dict(), "device_id": "st-1-d1"},
        headers=_check_in(client, el, 0, "st-1"),
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    h = dict(el.h)
    h["voter"] = _check_in(client, el, 2, "st-1")
    r = client.post(
        f"{P}/elections/{EID}/stations/st-1/turnout",
        json={"at": "2022-11-20T10:00:00+06:00", "voted": 1},
        headers=h["station1"],
    )
    assert r.status_code == 201, r.text
    design = {"stations": [{"station_id": s, "stratum": "r1", "pi": 1.0} for s in ("st-1", "st-2")]}
    r = client.put(f"{P}/elections/{EID}/exit-polls/design", json=design, headers=h["pollster"])
    assert r.status_code == 200, r.text
    interviews = [{"station_id": s, "answer": a} for s, a in (("st-1", "cand-a"), ("st-2", "cand-b"))]
    r = client.post(f"{P}/elections/{EID}/exit-polls", json={"interviews": interviews}, headers=h["pollster"])
    assert r.status_code == 201, r.text
    el.h = h
    return World("voting", _roles(h), {"code": [code]}), el


def _closed(client: TestClient) -> tuple[World, Election]:
    """Closed; st-1's protocol key registered and its protocol (1 ballot issued of 2 check-ins) in."""
    world, el = _voting(client)
    cec = el.h["cec"]
    assert client.post(f"{P}/elections/{EID}/close", headers=cec).status_code == 200
    key = Ed25519PrivateKey.generate()
    r = client.post(
        f"{P}/elections/{EID}/stations/st-1/key",
        json={"public_key": public_key_hex(key.public_key())},
        headers=cec,
    )
    assert r.status_code == 200, r.text
    figures = {
        "station": "st-1",
        "registered": 5,
        "ballots_received": 5,
        "ballots_issued": 1,
        "ballots_unused": 4,
        "ballots_spoiled": 0,
        "ballots_in_boxes": 1,
        "valid": 1,
        "invalid": 0,
        "votes": {"cand-a": 1, "cand-b": 0, "against-all": 0},
    }
    signed = sign_protocol(
        ProtocolFigures.model_validate(figures),
        key,
        election_id=EID,
        signed_at=datetime(2022, 11, 20, 21, 0, tzinfo=UTC),
    )
    r = client.post(
        f"{P}/elections/{EID}/stations/st-1/protocols",
        json=signed.model_dump(mode="json"),
        headers=el.h["station1"],
    )
    assert r.status_code == 201, r.text
    job = client.post(f"{P}/elections/{EID}/verify", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    world.phase = "closed"
    world.known["job_id"] = [job["id"]]
    return world, el


def _tallied(client: TestClient) -> tuple[World, Election]:
    world, el = _closed(client)
    tally_and_share(client, el, el.guardians[:1])
    world.phase = "tallied"
    return world, el


def _published(client: TestClient) -> World:
    world, el = _tallied(client)
    tally_and_share_rest(client, el)
    cec = el.h["cec"]
    job = client.post(f"{P}/elections/{EID}/decrypt", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    world.phase = "published"
    world.known["job_id"].append(job["id"])
    return world


def tally_and_share_rest(client: TestClient, el: Election) -> None:
    """Guardian 2's partial decryption of the tally already made (``tally_and_share`` tallies first)."""
    from saylau.crypto import EncryptedTally, partial_decrypt

    scopes = client.get(f"{P}/elections/{EID}/tally").json()["scopes"]
    g = el.guardians[1]
    partials = [
        {
            "scope": s["scope"],
            "scope_id": s["scope_id"],
            "partial": partial_decrypt(
                g, EncryptedTally.from_dict(s["encrypted"]), published=el.params
            ).to_dict(),
        }
        for s in scopes
    ]
    r = client.post(
        f"{P}/elections/{EID}/guardians/{g.index}/partial-decryption",
        json={"partials": partials},
        headers=el.h[f"guardian{g.index}"],
    )
    assert r.status_code == 201, r.text


def _roles(h: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """One token per role: st-1's commission and guardian 1 stand for their roles."""
    return {
        "public": {},
        "observer": h["observer"],
        "pollster": h["pollster"],
        "voter": h["voter"],
        "guardian": h["guardian1"],
        "station": h["station1"],
        "cec": h["cec"],
    }


def build(client: TestClient, phase: str) -> World:
    """The election ``e2022`` brought to ``phase`` (one of ``PHASES``)."""
    if phase == "registration":
        world = _registration(client)
    elif phase == "ceremony":
        world = _ceremony(client)
    elif phase == "voting":
        world = _voting(client)[0]
    elif phase == "closed":
        world = _closed(client)[0]
    elif phase == "tallied":
        world = _tallied(client)[0]
    else:
        world = _published(client)
    jobs = [j["id"] for j in _jobs(client, world)]
    known = {
        "election_id": [EID, EID, EID, "e-missing"],
        "station_id": ["st-1", "st-2", "st-9"],
        "index": [1, 2, 3],
        "applicant_id": ["good", "nobody"],
        "code": [*world.known.get("code", []), "0" * 64],
        "job_id": [*world.known.get("job_id", []), *jobs, "job-missing"],
        "number": [1, 2],
        "pollster": ["pollster", "nobody"],
    }
    world.known = known
    return world


def _jobs(client: TestClient, world: World) -> list[dict[str, Any]]:
    """The election's latest verification job, if any (its id names a real job for ``/jobs/{id}``)."""
    r = client.get(f"{P}/elections/{EID}/verification")
    return [r.json()] if r.status_code == 200 else []
