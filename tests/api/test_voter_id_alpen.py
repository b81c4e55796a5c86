"""An election of a made-up country, on SQLite and PostgreSQL: its own voter identifier, not the IIN.

Alpenland (tests/fixtures/scenarios/alpen) knows voters by a 9-digit citizen number with a Luhn check
digit (``[voter_id]`` in its scenario); the server takes it with the election, imports the roll by its
column and validator, and checks voters in by it (``saylau.election.voter_ids``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from saylau.crypto import run_key_ceremony
from saylau.election.scenario import load_scenario
from saylau.election.voter_ids import VoterIdSpec

from .conftest import PASSWORD, P, TestClient
from .conftest import login as api_login

ALPEN = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "alpen"


def _alpen_roll(spec: VoterIdSpec, bad: str | None = None) -> str:
    """Six voters at two stations, each with a made-up valid number; ``bad`` is a seventh row."""
    rows = [f"{spec.column},last_name,first_name,date_of_birth,region,station"]
    for i in range(6):
        station, region = (("nord-0001", "nord"), ("ost-0001", "ost"))[i % 2]
        rows.append(
            f"{spec.example(i, date(1970, 1, 1))},Bürger{i},Test,1970-01-{1 + i:02d},{region},{station}"
        )
    if bad is not None:
        rows.append(f"{bad},Falsch,Test,1970-02-01,nord,nord-0001")
    return "\n".join(rows) + "\n"


def open_alpen_election(c: TestClient, check_roll: bool = False) -> str:
    """Alpenland's election defined from its scenario, its roll imported, a one-guardian ceremony run,
    voting open and a commission login ``nord1`` (station nord-0001); the election's id.

    ``check_roll``: first send a roll with one bad Luhn number and check it is refused by name.
    """
    password, p = PASSWORD, P
    sc = load_scenario(ALPEN)

    def login(user: str) -> dict[str, str]:
        return api_login(c, user)

    cec = login("cec")
    body = {
        "manifest": sc.to_manifest().to_json_obj(),
        "guardians": 1,
        "quorum": 1,
        "voter_id": sc.voter_id.model_dump(mode="json"),
    }
    r = c.post(f"{p}/elections", json=body, headers=cec)
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    assert r.json()["voter_id"]["column"] == "citizen_number"
    if check_roll:  # the roll: one bad Luhn number is refused by name, then the good rows go in
        r = c.post(
            f"{p}/elections/{eid}/roll",
            content=_alpen_roll(sc.voter_id, bad="100000018"),
            headers={**cec, "Content-Type": "text/csv"},
        )
        assert r.status_code == 422, r.text
        assert r.json()["rows"] == [
            {"row": 8, "field": "citizen_number", "reason": "check digit 8 fails the Luhn check"}
        ]
    r = c.post(
        f"{p}/elections/{eid}/roll",
        content=_alpen_roll(sc.voter_id),
        headers={**cec, "Content-Type": "text/csv"},
    )
    assert r.status_code == 201 and r.json()["imported"] == 6, r.text
    # a one-guardian ceremony so the election can open (the guardian lives here)
    e = c.get(f"{p}/elections/{eid}").json()
    assert (
        c.post(
            f"{p}/users",
            headers=cec,
            json={
                "username": "g1",
                "password": password,
                "role": "guardian",
                "election_id": eid,
                "guardian_index": 1,
            },
        ).status_code
        == 201
    )
    guardians, _ = run_key_ceremony(1, 1, bytes.fromhex(e["base_hash"]))
    g1 = login("g1")
    record = {"record": guardians[0].public_record().to_dict()}
    assert c.post(f"{p}/elections/{eid}/guardians/1/record", json=record, headers=g1).status_code == 201
    assert c.post(f"{p}/elections/{eid}/guardians/1/finish", headers=g1).status_code == 200
    assert c.post(f"{p}/elections/{eid}/key", headers=cec).status_code == 200
    assert c.post(f"{p}/elections/{eid}/open", headers=cec).status_code == 200
    assert (
        c.post(
            f"{p}/users",
            headers=cec,
            json={
                "username": "nord1",
                "password": password,
                "role": "station",
                "election_id": eid,
                "station_id": "nord-0001",
            },
        ).status_code
        == 201
    )
    return str(eid)


def test_alpenland_imports_its_roll_and_checks_voters_in(client: TestClient) -> None:
    c, p = client, P
    eid = open_alpen_election(c, check_roll=True)
    st = api_login(c, "nord1")
    url = f"{p}/elections/{eid}/stations/nord-0001/checkin"
    r = c.post(url, json={"voter_id": "100000009"}, headers=st)
    assert r.status_code == 201 and r.json()["credential"], r.text
    r = c.post(url, json={"voter_id": "100000009"}, headers=st)
    assert r.status_code == 409 and "voter *****0009" in r.json()["detail"], r.text
    r = c.post(url, json={"voter_id": "100000018"}, headers=st)
    assert r.status_code == 422 and "not a valid citizen number" in r.json()["detail"], r.text
    r = c.post(url, json={"voter_id": "100000017"}, headers=st)  # listed at ost-0001
    assert r.status_code == 409 and "listed at station 'ost-0001'" in r.json()["detail"], r.text
