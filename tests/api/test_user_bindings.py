"""A login is bound only to an election, station or guardian index that exists (item 10 of issue 8)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PASSWORD, P, TestClient, login, setup_election


def _user(username: str, role: str, **extra: Any) -> dict[str, Any]:
    return {"username": username, "password": PASSWORD, "role": role, **extra}


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        (_user("s-ghost", "station", election_id="e2022", station_id="st-99"), 422, "st-99"),
        (_user("s-noelec", "station", election_id="e1999", station_id="st-1"), 404, "e1999"),
        (_user("g-ghost", "guardian", election_id="e2022", guardian_index=4), 422, "guardian_index"),
        (_user("g-huge", "guardian", election_id="e2022", guardian_index=8962336995), 422, "guardian_index"),
        (_user("g-noelec", "guardian", election_id="e1999", guardian_index=1), 404, "e1999"),
        (_user("o-noelec", "observer", election_id="e1999"), 404, "e1999"),
        (_user("p-station", "pollster", election_id="e2022", station_id="st-1"), 422, "station_id"),
        (_user("o-guardian", "observer", election_id="e2022", guardian_index=1), 422, "guardian_index"),
        (_user("s-nostation", "station", election_id="e2022"), 422, "station_id"),
    ],
)
def test_logins_for_bindings_that_do_not_exist_are_refused(
    client: TestClient, body: dict[str, Any], status: int, named: str
) -> None:
    el = setup_election(client, open_it=False)  # 3 guardians, stations st-1 and st-2
    r = client.post(f"{P}/users", json=body, headers=el.h["cec"])
    assert r.status_code == status and named in r.json()["detail"], r.text
    r = client.post(f"{P}/auth/login", json={"username": body["username"], "password": PASSWORD})
    assert r.status_code == 403, r.text  # nothing was stored: unknown user


def test_logins_for_existing_bindings_are_created(client: TestClient) -> None:
    el = setup_election(client, open_it=False)
    for body in (
        _user("s2-second", "station", election_id="e2022", station_id="st-2"),
        _user("g3-deputy", "guardian", election_id="e2022", guardian_index=3),
        _user("observer-e", "observer", election_id="e2022"),
        _user("observer-any", "observer"),
    ):
        r = client.post(f"{P}/users", json=body, headers=el.h["cec"])
        assert r.status_code == 201, r.text
        assert login(client, body["username"])
