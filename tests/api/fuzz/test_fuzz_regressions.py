"""The bugs the API fuzzer found, one plain test each, on SQLite and PostgreSQL (``client``)."""

from __future__ import annotations

import pytest

from ..conftest import VOTERS, P, TestClient, login, manifest, setup_election


def test_a_json_body_that_is_not_utf8_is_a_422_naming_the_byte(client: TestClient) -> None:
    """Was 400 ``There was an error parsing the body`` (FastAPI's answer, undeclared, naming nothing)."""
    cec = login(client, "cec")
    r = client.post(
        f"{P}/elections/e-missing/guardians/3/record",
        content=b'\xff"',
        headers={**cec, "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.json() == {
        "detail": "field 'body': not UTF-8 text (invalid start byte at byte 0)",
        "error": "ValidationError",
    }
    r = client.post(
        f"{P}/elections", content=b'{"manifest": "\xc3"}', headers={**cec, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and "at byte 14" in r.json()["detail"], r.text


def test_the_openapi_declares_every_error_a_route_answers(client: TestClient) -> None:
    """Each route's refusals are declared with their body (the fuzzer checks the answers against them)."""
    paths = client.app.openapi()["paths"]
    cast = paths["/api/v1/elections/{election_id}/ballots"]["post"]["responses"]
    assert {"200", "201", "401", "403", "404", "409", "413", "422", "503"} <= set(cast)
    assert cast["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrorOut")
    board = paths["/api/v1/elections/{election_id}/board"]["get"]["responses"]
    assert list(board["200"]["content"]) == ["application/x-ndjson"]
    assert list(board["404"]["content"]) == ["application/json"]  # was filed under x-ndjson
    for path, ops in paths.items():
        for method, op in ops.items():
            assert any(code.startswith("2") for code in op["responses"]), (method, path)
            assert "422" in op["responses"], (method, path)
    cec = login(client, "cec")
    r = client.post(f"{P}/elections", json={"manifest": manifest(), "guardians": 1, "quorum": 1}, headers=cec)
    assert r.status_code == 201, r.text
    assert client.get(f"{P}/elections/e2022/board").headers["content-type"].startswith("application/x-ndjson")


@pytest.mark.parametrize("stations", [("st-1", "st-2"), ("st-1",)])
def test_an_exit_poll_estimate_without_variance_answers_null_not_nan(
    client: TestClient, stations: tuple[str, ...]
) -> None:
    """Every respondent agreeing leaves the design effect undefined (0/0, NaN): the answer carried
    ``null`` there (the serializer's silent NaN → null) where the declared schema said a number. Now the
    route says ``None`` itself and the schema allows it. One sampled station or two, in one stratum."""
    el = setup_election(client)
    pollster = el.h["pollster"]
    design = {"stations": [{"station_id": s, "stratum": "r1", "pi": 1.0} for s in stations]}
    assert (
        client.put(f"{P}/elections/{el.id}/exit-polls/design", json=design, headers=pollster).status_code
        == 200
    )
    for i, s in enumerate(("st-1", "st-2")):  # VOTERS[i] is listed at STATIONS[i % 2]
        who = el.h[f"station{s[-1]}"]
        r = client.post(f"{P}/elections/{el.id}/stations/{s}/checkin", json={"iin": VOTERS[i]}, headers=who)
        assert r.status_code == 201, r.text
    interviews = [{"station_id": s, "answer": "cand-a"} for s in stations]
    r = client.post(f"{P}/elections/{el.id}/exit-polls", json={"interviews": interviews}, headers=pollster)
    assert r.status_code == 201, r.text
    assert client.post(f"{P}/elections/{el.id}/close", headers=el.h["cec"]).status_code == 200
    r = client.get(f"{P}/elections/{el.id}/exit-polls/estimate", params={"pollster": "pollster"})
    assert r.status_code == 200, r.text
    assert "NaN" not in r.text
    shares = r.json()["estimates"]
    assert shares["cand-a"]["share"] == 1.0 and shares["cand-b"]["share"] == 0.0
    assert shares["cand-a"]["deff"] is None and shares["against-all"]["deff"] is None
    assert all(v is None or 0.0 <= v <= 1.0 for e in shares.values() for v in (e["low"], e["high"]))
