"""No personal data or secret in any log line, through a whole election with hostile input.

Every logger (saylau, SQLAlchemy, uvicorn, httpx) is captured at DEBUG; the IINs, names and dates of
birth on the roll, the password, every bearer token and voter credential, the revote tags and the
server's key files must appear in none of the lines. Before, SQLAlchemy logged every SQL parameter
(an INSERT of the roll: IIN, names, date of birth) and every fetched row, and its exception messages,
which a failed insert's 500 logged, carried the parameters too.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from saylau.crypto import EncryptedTally, partial_decrypt
from saylau.election.voter_roll import make_iin
from saylau.voting.device import VotingDevice

from .conftest import (
    CSV,
    PASSWORD,
    VOTERS,
    P,
    TestClient,
    register_devices,
    roll_csv,
    setup_election,
    wait_job,
)

PEOPLE = [  # (IIN, last name, first name, date of birth): on the roll, and looked for in the logs
    (make_iin(date(1971, 5, 17), True, 300 + i), last, first, date(1971, 5, 17))
    for i, (last, first) in enumerate(
        [("Zhaksylykova", "Aigerimka"), ("Baimukhamedov", "Nurtileu"), ("Seitkaliyeva", "Dariga")]
    )
]


@pytest.fixture(autouse=True)
def everything_logged(caplog: pytest.LogCaptureFixture) -> None:
    """DEBUG on the root and on the loggers an operator would turn up (before any engine exists)."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "uvicorn", "uvicorn.error",
                 "uvicorn.access", "saylau", "httpx"):
        caplog.set_level(logging.DEBUG, logger=name)


def test_a_hostile_election_logs_no_personal_data_or_secret(
    client: TestClient, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    secrets_used: set[str] = {PASSWORD}
    el = setup_election(client, open_it=False)
    assert el.params is not None
    cec, eid = el.h["cec"], el.id
    secrets_used |= {h["Authorization"].removeprefix("Bearer ") for h in el.h.values()}
    # hostile roll: a NUL in a name, an escape sequence, a bad date, a duplicate IIN; the rest stored
    rows = [(iin, last, dob.isoformat(), "r1", "st-1") for iin, last, _first, dob in PEOPLE]
    text = roll_csv(rows).replace(",Test,", ",Aigerimka,", 1)
    text += f"{make_iin(date(1980, 1, 2), False, 700)},Kasym\x00ov,Erlan,1980-01-02,r1,st-1\n"
    text += f"{make_iin(date(1981, 1, 2), False, 701)},\x1b[2JOspanov,Marat,1981-01-02,r1,st-1\n"
    text += f"{make_iin(date(1982, 1, 2), False, 702)},Tokenov,Asan,1982-13-02,r1,st-1\n"
    r = client.post(f"{P}/elections/{eid}/roll", content=text, headers={**cec, **CSV})
    assert r.status_code == 422, r.text
    r = client.post(f"{P}/elections/{eid}/roll?accept_partial=true", content=text, headers={**cec, **CSV})
    assert r.status_code == 201 and r.json()["imported"] == 3, r.text
    # hostile logins and users: NUL, wrong password, a duplicate username (a failed insert), weak password
    at_login = f"{P}/auth/login"
    assert client.post(at_login, json={"username": "c\x00ec", "password": PASSWORD}).status_code == 422
    assert client.post(at_login, json={"username": "cec", "password": PASSWORD + "x"}).status_code == 403
    body = {"username": "observer", "password": PASSWORD, "role": "observer"}
    assert client.post(f"{P}/users", json=body, headers=cec).status_code == 422
    assert client.post(f"{P}/users", json={**body, "username": "o2", "password": "12345678"},
                       headers=cec).status_code == 422
    assert client.post(f"{P}/elections/{eid}/open", headers=cec).status_code == 200

    register_devices(client, el, "st-1-d1")
    booth = VotingDevice(el.params, "st-1-d1", "st-1")
    remote = VotingDevice(el.params, "st-1-remote", "st-1")
    # in person: three voters of the roll, one of them also tries a second check-in elsewhere
    for iin, *_ in PEOPLE:
        url = f"{P}/elections/{eid}/stations/st-1/checkin"
        r = client.post(url, json={"iin": iin}, headers=el.h["station1"])
        assert r.status_code == 201, r.text
        credential = r.json()["credential"]
        secrets_used.add(credential)
        pending = booth.encrypt({"president": ["cand-a"]}, "main")
        booth.cast(pending)
        r = client.post(f"{P}/elections/{eid}/ballots", json={"ballot": pending.ballot.to_dict(),
                        "device_id": "st-1-d1"}, headers={"Authorization": f"Bearer {credential}"})
        assert r.status_code == 201, r.text
    r = client.post(f"{P}/elections/{eid}/stations/st-2/checkin", json={"iin": PEOPLE[0][0]},
                    headers=el.h["station2"])
    assert r.status_code in (403, 409), r.text
    # remote, with a revote; a hostile tracking-code lookup and a forged credential
    r = client.post(f"{P}/elections/{eid}/remote-credentials", json={"iin": VOTERS[6]}, headers=cec)
    assert r.status_code == 201, r.text
    credential, tag = r.json()["credential"], r.json()["revote_tag"]
    secrets_used |= {credential, tag}
    for choice in ("cand-b", "against-all"):
        pending = remote.encrypt({"president": [choice]}, "main", revote_tag=bytes.fromhex(tag))
        remote.cast(pending)
        r = client.post(f"{P}/elections/{eid}/ballots", json={"ballot": pending.ballot.to_dict(),
                        "device_id": "st-1-remote"}, headers={"Authorization": f"Bearer {credential}"})
        assert r.status_code == 201, r.text
    assert client.get(f"{P}/elections/{eid}/board/codes/ab%00").status_code == 422
    r = client.post(f"{P}/elections/{eid}/ballots", json={"ballot": {}, "device_id": "x"},
                    headers={"Authorization": f"Bearer {credential}x"})
    assert r.status_code == 401
    # close, tally, decrypt with a quorum
    assert client.post(f"{P}/elections/{eid}/close", headers=cec).status_code == 200
    job = client.post(f"{P}/elections/{eid}/tally", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    stored = client.get(f"{P}/elections/{eid}/tally").json()
    for g in el.guardians[:2]:
        partials = [{"scope": s["scope"], "scope_id": s["scope_id"],
                     "partial": partial_decrypt(
                         g, EncryptedTally.from_dict(s["encrypted"]), published=el.params
                     ).to_dict()}
                    for s in stored["scopes"]]
        r = client.post(f"{P}/elections/{eid}/guardians/{g.index}/partial-decryption",
                        json={"partials": partials}, headers=el.h[f"guardian{g.index}"])
        assert r.status_code == 201, r.text
    job = client.post(f"{P}/elections/{eid}/decrypt", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"

    for key_file in tmp_path.glob("*.key"):
        secrets_used.add(key_file.read_text().strip())
    personal = {iin for iin in VOTERS} | {p[0] for p in PEOPLE}
    personal |= {p[1] for p in PEOPLE} | {p[2] for p in PEOPLE} | {p[3].isoformat() for p in PEOPLE}
    personal |= {"Kasym", "Ospanov", "Tokenov", "1980-01-02", "1981-01-02"}
    lines = [rec.getMessage() for rec in caplog.records] + caplog.text.splitlines()
    assert len(caplog.records) > 50  # SQLAlchemy, the job worker and httpx did log
    leaks = {s for s in personal | secrets_used for line in lines if s in line}
    assert not leaks, (sorted(leaks)[:5], [line for line in lines if any(s in line for s in leaks)][:5])
