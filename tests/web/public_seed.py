"""A small election run to its decrypted results through the API, then served live for the public pages.

The election of ``tests/api/conftest.py`` (two stations, three guardians, quorum two): six ballots, a
challenge, a remote revote, turnout snapshots, an exit poll, one station's protocol, the tally and the
decryption with a guardian missing, then a verification. It runs once per module and backend
(``TestClient`` on the app with a job worker), then a second app on the same database is served by
uvicorn for the browser.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.conftest import (
    PASSWORD,
    VOTERS,
    ElectionDayClock,
    TestClient,
    register_devices,
    setup_election,
    wait_job,
)
from saylau.api import API_PREFIX, Settings, create_app
from saylau.crypto import EncryptedTally, partial_decrypt
from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.store.accounts import create_user
from saylau.voting.device import VotingDevice

from .conftest import ThreadedServer

P = API_PREFIX
CHOICES = [("v0", "st-1", "cand-a"), ("v1", "st-2", "cand-b"), ("v2", "st-1", "cand-a"),
           ("v3", "st-2", "cand-a"), ("v4", "st-1", "against-all")]


@dataclass(frozen=True)
class Db:
    """A database for the seeded server (the fields of the suite's ``Database``)."""

    url: str
    schema: str | None


def databases(backend: str, tmp: Path) -> Iterator[Db]:
    """A SQLite file in ``tmp``, or a fresh schema on the local PostgreSQL (dropped afterwards)."""
    if backend == "sqlite":
        yield Db(f"sqlite:///{tmp / 'saylau.db'}", None)
        return
    import psycopg

    url = os.environ.get("SAYLAU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            yield Db(url, schema)
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@dataclass(frozen=True)
class Decrypted:
    """The live server's URL and the decrypted election's id."""

    url: str
    election_id: str

    def api(self, path: str) -> Any:
        """The API's JSON at ``path`` (under ``/api``)."""
        r = httpx.get(f"{self.url}{P}{path}", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()


def _settings(db: Db, tmp: Path, workers: int) -> Settings:
    return Settings(
        database_url=db.url, db_schema=db.schema, board_key_file=tmp / "board.pem",
        revote_key_file=tmp / "revote.key", checkpoint_every=4, job_poll_seconds=0.05, job_workers=workers,
        pool_size=4, verify_processes=0, argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1,
    )


def run_election(client: TestClient, definition: dict[str, Any] | None = None) -> str:
    """Everything from the definition to the decrypted, verified results; the election's id.

    ``definition``: more fields of the election's definition (e.g. its ``electoral_rules``).
    """
    el = setup_election(client, definition=definition)
    assert el.params is not None
    cec, eid = el.h["cec"], el.id
    register_devices(client, el, "st-1-d1", "st-2-d1")
    devices = {s: VotingDevice(el.params, f"{s}-d1", s) for s in ("st-1", "st-2")}
    for voter, station, choice in CHOICES[:-1]:
        r = client.post(f"{P}/elections/{eid}/stations/{station}/checkin",
                        json={"iin": VOTERS[int(voter[1:])]}, headers=el.h[f"station{station[-1]}"])
        assert r.status_code == 201, r.text
        dev = devices[station]
        cred = {"Authorization": f"Bearer {r.json()['credential']}"}
        if voter == "v0":  # a challenge (Benaloh) before casting: opened, published, never counted
            _, opened = dev.challenge(dev.encrypt({"president": ["cand-b"]}, "main"))
            r = client.post(f"{P}/elections/{eid}/challenges", headers=cred,
                            json={"challenged": opened.to_dict(), "device_id": f"{station}-d1"})
            assert r.status_code == 201, r.text
        pending = dev.encrypt({"president": [choice]}, "main")
        dev.cast(pending)
        body = {"ballot": pending.ballot.to_dict(), "device_id": f"{station}-d1"}
        assert client.post(f"{P}/elections/{eid}/ballots", json=body, headers=cred).status_code == 201
    # the last voter votes remotely, first for cand-b, then revotes: only the last ballot counts
    voter, station, choice = CHOICES[-1]
    r = client.post(f"{P}/elections/{eid}/remote-credentials", json={"iin": VOTERS[int(voter[1:])]},
                    headers=cec)
    assert r.status_code == 201, r.text
    cred = {"Authorization": f"Bearer {r.json()['credential']}"}
    tag = bytes.fromhex(r.json()["revote_tag"])
    remote = VotingDevice(el.params, f"{station}-remote", station)
    for option in ("cand-b", choice):
        pending = remote.encrypt({"president": [option]}, "main", revote_tag=tag)
        remote.cast(pending)
        body = {"ballot": pending.ballot.to_dict(), "device_id": f"{station}-remote"}
        r = client.post(f"{P}/elections/{eid}/ballots", json=body, headers=cred)
        assert r.status_code == 201, r.text
    for station, at, voted in (("st-1", "10:00", 1), ("st-2", "10:00", 0), ("st-1", "14:00", 2),
                               ("st-2", "14:00", 2), ("st-1", "18:00", 3), ("st-2", "18:00", 2)):
        r = client.post(f"{P}/elections/{eid}/stations/{station}/turnout",
                        json={"at": f"2022-11-20T{at}:00+06:00", "voted": voted},
                        headers=el.h[f"station{station[-1]}"])
        assert r.status_code == 201, r.text
    design = {"stations": [{"station_id": s, "stratum": "r1", "pi": 1.0} for s in ("st-1", "st-2")]}
    assert client.put(f"{P}/elections/{eid}/exit-polls/design", json=design,
                      headers=el.h["pollster"]).status_code == 200
    interviews = [("st-1", "cand-a"), ("st-1", "cand-a"), ("st-2", "cand-b"), ("st-2", "cand-a")]
    r = client.post(f"{P}/elections/{eid}/exit-polls", headers=el.h["pollster"],
                    json={"interviews": [{"station_id": s, "answer": a} for s, a in interviews]})
    assert r.status_code == 201, r.text
    assert client.post(f"{P}/elections/{eid}/close", headers=cec).status_code == 200
    key = Ed25519PrivateKey.generate()
    r = client.post(f"{P}/elections/{eid}/stations/st-1/key",
                    json={"public_key": public_key_hex(key.public_key())}, headers=cec)
    assert r.status_code == 200, r.text
    # the paper count of st-1's booth: its two in-person voters (the remote ballot is not on paper)
    figures = {"station": "st-1", "registered": 5, "ballots_received": 5, "ballots_issued": 2,
               "ballots_unused": 3, "ballots_spoiled": 0, "ballots_in_boxes": 2, "valid": 2, "invalid": 0,
               "votes": {"cand-a": 2, "cand-b": 0, "against-all": 0}}
    protocol = sign_protocol(ProtocolFigures.model_validate(figures), key, election_id=eid,
                             signed_at=datetime(2022, 11, 20, 21, 0, tzinfo=UTC))
    r = client.post(f"{P}/elections/{eid}/stations/st-1/protocols", json=protocol.model_dump(mode="json"),
                    headers=el.h["station1"])
    assert r.status_code == 201, r.text
    job = client.post(f"{P}/elections/{eid}/tally", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    stored = client.get(f"{P}/elections/{eid}/tally").json()
    for g in (el.guardians[0], el.guardians[2]):
        partials = [{"scope": s["scope"], "scope_id": s["scope_id"],
                     "partial": partial_decrypt(g, EncryptedTally.from_dict(s["encrypted"]),
                                                published=el.params).to_dict()}
                    for s in stored["scopes"]]
        r = client.post(f"{P}/elections/{eid}/guardians/{g.index}/partial-decryption",
                        json={"partials": partials}, headers=el.h[f"guardian{g.index}"])
        assert r.status_code == 201, r.text
    job = client.post(f"{P}/elections/{eid}/decrypt", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    job = client.post(f"{P}/elections/{eid}/verify", headers=el.h["observer"]).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    return eid


def serve_decrypted(db: Db, tmp: Path, definition: dict[str, Any] | None = None) -> Iterator[Decrypted]:
    """Run the election on ``db`` (``definition``: see ``run_election``), then serve it with uvicorn."""

    app = create_app(_settings(db, tmp, workers=1))
    state = app.state.saylau
    state.clock = ElectionDayClock()
    with state.transaction() as s:
        create_user(s, "cec", PASSWORD, "cec", hasher=state.hasher)
    with TestClient(app) as client:
        eid = run_election(client, definition)
    state.engine.dispose()
    app = create_app(_settings(db, tmp, workers=0))
    live = ThreadedServer(app)
    port = live.port
    try:
        yield Decrypted(f"http://127.0.0.1:{port}", eid)
    finally:
        live.stop()
        app.state.saylau.engine.dispose()
