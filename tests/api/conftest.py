"""Fixtures for the API tests: an application on each backend and a small election driven through it."""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # starlette 1.x asks for `httpx2` in its test client; the httpx client it wraps still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from saylau.api import API_PREFIX, Settings, create_app
from saylau.crypto import ElectionParameters, EncryptedTally, Guardian, GuardianRecord, partial_decrypt
from saylau.election.voter_roll import make_iin
from saylau.store.accounts import create_user

P = API_PREFIX
PASSWORD = "correct horse battery"
STATIONS = ("st-1", "st-2")
SELECTIONS = ("cand-a", "cand-b", "against-all")


# the elections of these tests know voters by kz-2022's identifier: the IIN, column "iin"
KZ_IIN = {
    "name": "IIN",
    "names": {"kk": "ЖСН", "ru": "ИИН", "en": "IIN"},
    "validator": "kz-iin",
    "column": "iin",
}

# ten adult voters on the roll, VOTERS[i] listed at STATIONS[i % 2] (IINs valid by construction)
VOTERS = tuple(make_iin(date(1960 + i, 3, 1 + i), i % 2 == 1, 100 + i) for i in range(10))
CSV = {"Content-Type": "text/csv"}


def roll_csv(rows: list[tuple[str, str, str, str, str]] | None = None) -> str:
    """A voter-roll CSV: (iin, last name, date of birth, region, station) per row; default VOTERS."""
    if rows is None:
        rows = [
            (iin, f"Voter{i}", date(1960 + i, 3, 1 + i).isoformat(), "r1", STATIONS[i % 2])
            for i, iin in enumerate(VOTERS)
        ]
    lines = ["iin,last_name,first_name,date_of_birth,region,station"]
    lines += [f"{iin},{last},Test,{dob},{region},{station}" for iin, last, dob, region, station in rows]
    return "\n".join(lines) + "\n"


def manifest(election_id: str = "e2022") -> dict[str, Any]:
    def name(t: str) -> dict[str, str]:
        return {"kk": t, "ru": t, "en": t}

    return {
        "election_id": election_id,
        "name": name("Test presidential election"),
        "election_date": "2022-11-20",
        "voting_opens": "2022-11-20T07:00:00+06:00",
        "voting_closes": "2022-11-20T20:00:00+06:00",
        "contests": [
            {
                "contest_id": "president",
                "name": name("President"),
                "votes_allowed": 1,
                "selections": [
                    {"selection_id": "cand-a", "kind": "candidate", "name": name("A")},
                    {"selection_id": "cand-b", "kind": "candidate", "name": name("B")},
                    {"selection_id": "against-all", "kind": "against_all", "name": name("Against all")},
                ],
            }
        ],
        "ballot_styles": [{"style_id": "main", "contest_ids": ["president"]}],
        "regions": [
            {
                "region_id": "r1",
                "name": name("Region"),
                "districts": [
                    {
                        "district_id": "d1",
                        "name": name("District"),
                        "stations": [
                            {"station_id": s, "name": name(s), "time_zone": "Asia/Almaty"} for s in STATIONS
                        ],
                    }
                ],
            }
        ],
    }


class ElectionDayClock:
    """The server's board clock in these tests: election day of ``manifest()``, a millisecond per reading.

    The verifier refuses a cast ballot whose board time is outside its station's voting hours (07:00–20:00
    in Almaty on 2022-11-20), and the server refuses to cast one, so the tests run on that day.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.start = start or datetime.fromisoformat("2022-11-20T08:00:00+06:00")
        self._ticks = itertools.count(1)

    def __call__(self) -> datetime:
        return self.start + timedelta(milliseconds=next(self._ticks))


def api_app(database: Any, tmp_path: Path, **overrides: Any) -> Any:
    """The API tests' application on ``database``: cheap hashing, verification in threads, a CEC login.

    ``overrides``: other ``Settings`` fields (e.g. tiny admission bounds for the overload tests).
    """
    fields: dict[str, Any] = {
        "database_url": database.url,
        "db_schema": database.schema,
        "board_key_file": tmp_path / "board.pem",
        "revote_key_file": tmp_path / "revote.key",
        "checkpoint_every": 4,
        "job_poll_seconds": 0.05,
        "job_workers": 1,
        "pool_size": 4,
        "verify_processes": 0,  # verification threads: no process start-up per test
        "argon2_time_cost": 1,  # cheap password hashing, in tests only
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
    }
    app = create_app(Settings(**{**fields, **overrides}))
    state = app.state.saylau
    state.clock = ElectionDayClock()
    with state.transaction() as s:
        create_user(s, "cec", PASSWORD, "cec", hasher=state.hasher)
    return app


@pytest.fixture
def client(database: Any, tmp_path: Path) -> Iterator[TestClient]:
    app = api_app(database, tmp_path)
    with TestClient(app) as c:
        yield c
    app.state.saylau.engine.dispose()


def login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post(f"{P}/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def wait_job(client: TestClient, headers: dict[str, str], job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"{P}/jobs/{job_id}", headers=headers).json()
        if job["state"] in ("succeeded", "failed", "stalled"):
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s")


@dataclass
class Election:
    id: str
    h: dict[str, dict[str, str]] = field(default_factory=dict)
    guardians: list[Guardian] = field(default_factory=list)
    params: ElectionParameters | None = None


def setup_election(
    client: TestClient,
    n: int = 3,
    k: int = 2,
    open_it: bool = True,
    manifest_doc: dict[str, Any] | None = None,
    definition: dict[str, Any] | None = None,
    ceremony: bool = True,
) -> Election:
    """Define, run the ceremony through the API (guardian secrets stay here), import the roll.

    ``manifest_doc``: another manifest than ``manifest()`` (same election id and stations st-1, st-2).
    ``definition``: more fields of the definition (``electoral_rules``, ``candidacy_rules``…).
    ``ceremony=False``: the logins and the roll only; the guardians' steps are left to the caller (and
    the election stays in setup: it cannot open without the joint key).
    """
    cec = login(client, "cec")
    el = Election("e2022", {"cec": cec})
    doc = manifest() if manifest_doc is None else manifest_doc
    body = {"manifest": doc, "guardians": n, "quorum": k, "voter_id": KZ_IIN, **(definition or {})}
    r = client.post(f"{P}/elections", json=body, headers=cec)
    assert r.status_code == 201, r.text
    base_hash = bytes.fromhex(r.json()["base_hash"])
    users = [
        ("station1", "station", {"station_id": "st-1"}),
        ("station2", "station", {"station_id": "st-2"}),
        ("pollster", "pollster", {}),
        ("observer", "observer", {}),
    ]
    users += [(f"guardian{i}", "guardian", {"guardian_index": i}) for i in range(1, n + 1)]
    for name, role, extra in users:
        body = {"username": name, "password": PASSWORD, "role": role, "election_id": el.id, **extra}
        assert client.post(f"{P}/users", json=body, headers=cec).status_code == 201
        el.h[name] = login(client, name)
    if not ceremony:
        r = client.post(f"{P}/elections/{el.id}/roll", content=roll_csv(), headers={**cec, **CSV})
        assert r.status_code == 201, r.text
        return el
    el.guardians = [Guardian.generate(i, n, k, base_hash) for i in range(1, n + 1)]
    for g in el.guardians:
        r = client.post(
            f"{P}/elections/{el.id}/guardians/{g.index}/record",
            json={"record": g.public_record().to_dict()},
            headers=el.h[f"guardian{g.index}"],
        )
        assert r.status_code == 201, r.text
    records = {
        d["index"]: GuardianRecord.from_dict(d["record"])
        for d in client.get(f"{P}/elections/{el.id}/guardians").json()
    }
    for g in el.guardians:
        shares = [
            {"recipient": o, "share": g.share_for(o, records[o]).to_dict()} for o in records if o != g.index
        ]
        r = client.post(
            f"{P}/elections/{el.id}/guardians/{g.index}/shares",
            json={"shares": shares},
            headers=el.h[f"guardian{g.index}"],
        )
        assert r.status_code == 201, r.text
    from saylau.crypto import EncryptedShare

    for g in el.guardians:
        hdr = el.h[f"guardian{g.index}"]
        for item in client.get(f"{P}/elections/{el.id}/guardians/{g.index}/shares", headers=hdr).json():
            g.receive_share(EncryptedShare.from_dict(item["share"]), records[item["sender"]])
        g.finish()
        assert (
            client.post(f"{P}/elections/{el.id}/guardians/{g.index}/finish", headers=hdr).status_code == 200
        )
    r = client.post(f"{P}/elections/{el.id}/key", headers=cec)
    assert r.status_code == 200, r.text
    el.params = ElectionParameters.from_dict(r.json()["parameters"])
    r = client.post(f"{P}/elections/{el.id}/roll", content=roll_csv(), headers={**cec, **CSV})
    assert r.status_code == 201, r.text
    if open_it:
        assert client.post(f"{P}/elections/{el.id}/open", headers=cec).status_code == 200
    return el


def register_devices(client: TestClient, el: Election, *device_ids: str) -> None:
    """Register booth devices, each at the station its id starts with (``st-1-…`` at ``st-1``)."""
    for device_id in device_ids:
        station = next(s for s in STATIONS if device_id.startswith(f"{s}-"))
        r = client.post(
            f"{P}/elections/{el.id}/stations/{station}/devices",
            json={"device_id": device_id},
            headers=el.h[f"station{station.removeprefix('st-')}"],
        )
        assert r.status_code == 201, r.text


def tally_and_share(client: TestClient, el: Election, guardians: list[Guardian]) -> None:
    """Run the tally job, then each of ``guardians`` posts its partial decryption of every scope."""
    cec = el.h["cec"]
    job = client.post(f"{P}/elections/{el.id}/tally", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    scopes = client.get(f"{P}/elections/{el.id}/tally").json()["scopes"]
    for g in guardians:
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
            f"{P}/elections/{el.id}/guardians/{g.index}/partial-decryption",
            json={"partials": partials},
            headers=el.h[f"guardian{g.index}"],
        )
        assert r.status_code == 201, r.text
