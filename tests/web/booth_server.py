"""A live saylau server with an open election for the booth's browser tests.

The election is the API tests' (stations st-1, st-2, ten voters; ``tests/api/conftest.py``), with
kz-2022's race (seven options, "against all" included, names in kk, ru, en), run through the API's
own helpers; the server's board clock is on election day so that casts are inside voting hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.conftest import (
    PASSWORD,
    VOTERS,
    ElectionDayClock,
    manifest,
    setup_election,
)
from api.conftest import Election as ApiElection
from saylau.api import API_PREFIX, Settings, create_app
from saylau.election.scenario import load_scenario
from saylau.store.accounts import create_user

from .conftest import ThreadedServer

__all__ = ["BoothServer", "booth_manifest", "booth_server", "running_booth_server"]


def booth_manifest() -> dict[str, Any]:
    """The API tests' manifest with kz-2022's presidential race (7 options) and its languages."""
    doc = manifest()
    sc = load_scenario("kz-2022")
    first = sc.territory_index.stations[0].id
    kz_doc = sc.to_manifest(station_ids=[first]).to_json_obj()
    doc["name"] = kz_doc["name"]
    doc["contests"] = kz_doc["contests"]
    doc["ballot_styles"] = [
        {"style_id": "main", "contest_ids": [c["contest_id"] for c in kz_doc["contests"]]}
    ]
    return doc


@dataclass
class BoothServer:
    """The server's URL, an httpx client on its API, and the election the API helpers set up."""

    url: str
    http: httpx.Client
    election: ApiElection
    state: Any

    @property
    def eid(self) -> str:
        return self.election.id

    def remote_credential(self, voter: int) -> tuple[str, str, str]:
        """Register ``VOTERS[voter]`` for remote voting: (credential, revote tag, station)."""
        r = self.http.post(
            f"{API_PREFIX}/elections/{self.eid}/remote-credentials",
            json={"iin": VOTERS[voter]},
            headers=self.election.h["cec"],
        )
        assert r.status_code == 201, r.text
        body = r.json()
        return body["credential"], body["revote_tag"], body["station_id"]

    def devices(self, station: str) -> list[dict[str, Any]]:
        r = self.http.get(f"{API_PREFIX}/elections/{self.eid}/stations/{station}/devices")
        assert r.status_code == 200, r.text
        return list(r.json())


@contextmanager
def running_booth_server(
    database: Any, tmp_path: Path, open_it: bool = True, ceremony: bool = True
) -> Iterator[BoothServer]:
    """uvicorn in a thread on ``database``, election day's clock, the election set up (and opened).

    ``ceremony=False``: no key ceremony (the guardians run it), so the election stays in setup.
    """

    settings = Settings(
        database_url=database.url,
        db_schema=database.schema,
        board_key_file=tmp_path / "board.pem",
        revote_key_file=tmp_path / "revote.key",
        checkpoint_every=4,
        job_poll_seconds=0.05,
        job_workers=1,
        pool_size=4,
        verify_processes=0,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
    )
    app = create_app(settings)
    state = app.state.saylau
    state.clock = ElectionDayClock()
    with state.transaction() as s:
        create_user(s, "cec", PASSWORD, "cec", hasher=state.hasher)
    live = ThreadedServer(app)
    port = live.port
    url = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=url, timeout=60)
    try:
        election = setup_election(
            http, manifest_doc=booth_manifest(), open_it=open_it, ceremony=ceremony  # type: ignore[arg-type]
        )
        yield BoothServer(url, http, election, state)
    finally:
        http.close()
        live.stop()
        state.engine.dispose()


@pytest.fixture
def booth_server(database: Any, tmp_path: Path) -> Iterator[BoothServer]:
    """uvicorn in a thread on the test's database, election day's clock, the election open."""
    with running_booth_server(database, tmp_path) as server:
        yield server
