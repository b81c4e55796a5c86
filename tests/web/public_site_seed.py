"""kz-2022's candidate registration run through the API, then served live for the candidates page.

The election is defined from the scenario itself (manifest on one station per time zone, its result
rules, its candidacy rules, the registered voters at nomination); every applicant of the scenario applies
and is decided by the server's rules the day after applying; one refused applicant appeals with
corrected signature counts and is registered on appeal, another appeals and stays refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from saylau.api import API_PREFIX, Settings, create_app
from saylau.election.scenario import Scenario, load_scenario
from saylau.store.accounts import create_user

from .conftest import PASSWORD, ThreadedServer
from .public_seed import Db

P = API_PREFIX
FLIPPED = "fictional-ospanova"
"""Refused for too few signatures and too narrow a spread; registered on appeal with the recount."""
UPHELD = "fictional-kemelbekov"
"""Refused (residence, fee); the appeal pays the fee but the residence rule still fails."""


@dataclass(frozen=True)
class Registration:
    """The live server's URL and the election's id."""

    url: str
    election_id: str

    def api(self, path: str) -> Any:
        """The API's JSON at ``path`` (under ``/api``)."""
        r = httpx.get(f"{self.url}{P}{path}", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()


def definition(sc: Scenario) -> dict[str, Any]:
    """The ``POST /elections`` body of a scenario: kz-2022 on one station per time zone, its own rules."""
    terr = sc.territory_index
    first: dict[str, str] = {}
    for st in terr.stations:
        first.setdefault(terr.time_zone(st.id), st.id)
    assert sc.candidacy is not None and sc.published is not None
    return {
        "manifest": sc.to_manifest(station_ids=first.values()).to_json_obj(),
        "guardians": 3,
        "quorum": 2,
        "electoral_rules": sc.rules.model_dump(mode="json"),
        "candidacy_rules": sc.candidacy.model_dump(mode="json"),
        "registered_at_nomination": sc.published.registered,
    }


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def register_all(c: httpx.Client, cec: dict[str, str], sc: Scenario) -> str:
    """Define the election, file every application, decide each, and hear two appeals."""
    body = definition(sc)
    eid = str(body["manifest"]["election_id"])
    _ok(c.post("/elections", json=body, headers=cec), 201)
    applicants = {a.id: a for a in sc.applicants}
    for a in sc.applicants:
        body = {"applicant": a.model_dump(mode="json")}
        _ok(c.post(f"/elections/{eid}/applications", json=body, headers=cec), 201)
    for a in sc.applicants:
        on = (a.application_date + timedelta(days=1)).isoformat()
        _ok(c.post(f"/elections/{eid}/applications/{a.id}/decision", json={"decided_on": on}, headers=cec))
    recount = applicants["fictional-mukhanova"].signatures  # signatures from every region
    flipped = applicants[FLIPPED]
    revised = flipped.model_copy(update={"signatures": recount}).model_dump(mode="json")
    day = flipped.application_date
    _ok(c.post(f"/elections/{eid}/applications/{FLIPPED}/appeal", headers=cec, json={
        "filed_by": "Dana Ospanova", "filed_on": (day + timedelta(days=2)).isoformat(),
        "grounds": "sheets from sixteen regions were handed in but not counted",
        "evidence": {"receipt": "CEC-2022-10-08-114"}, "revised_applicant": revised,
        "decided_on": (day + timedelta(days=3)).isoformat()}))
    upheld = applicants[UPHELD]
    day = upheld.application_date
    assert sc.candidacy is not None
    revised = upheld.model_copy(update={"fee_paid": sc.candidacy.fee_amount}).model_dump(mode="json")
    _ok(c.post(f"/elections/{eid}/applications/{UPHELD}/appeal", headers=cec, json={
        "filed_by": "Bolat Kemelbekov", "filed_on": (day + timedelta(days=1)).isoformat(),
        "grounds": "the fee was paid on the day of the decision", "revised_applicant": revised,
        "decided_on": (day + timedelta(days=2)).isoformat()}))
    return eid


def serve_registration(db: Db, tmp: Path) -> Iterator[Registration]:
    """A live server on ``db`` with kz-2022's registration decided."""
    settings = Settings(
        database_url=db.url, db_schema=db.schema, board_key_file=tmp / "board.pem",
        revote_key_file=tmp / "revote.key", job_workers=0, pool_size=4, verify_processes=0,
        argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1,
    )
    app = create_app(settings)
    state = app.state.saylau
    with state.transaction() as s:
        create_user(s, "cec", PASSWORD, "cec", hasher=state.hasher)
    live = ThreadedServer(app)
    try:
        with httpx.Client(base_url=live.url + P, timeout=30) as c:
            token = _ok(c.post("/auth/login", json={"username": "cec", "password": PASSWORD}))["token"]
            eid = register_all(c, {"Authorization": f"Bearer {token}"}, load_scenario("kz-2022"))
        yield Registration(live.url, eid)
    finally:
        live.stop()
        state.engine.dispose()
