"""Hostile input (issue 8): control characters, out-of-range numbers, oversized bodies, echoed values.

Every case runs on SQLite and PostgreSQL (fixture ``database`` through ``client``): before the input
guard, a NUL gave 500 on PostgreSQL (``text fields cannot contain NUL``) and was stored on SQLite, an
integer beyond a column's range gave 500 on PostgreSQL, and any body was read whole before the route
could refuse it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from saylau.api import Settings, create_app
from saylau.store.accounts import create_user

from .conftest import (
    CSV,
    KZ_IIN,
    PASSWORD,
    VOTERS,
    P,
    TestClient,
    login,
    manifest,
    roll_csv,
    setup_election,
)

E = "e2022"


ELECTION = {"manifest": manifest(), "guardians": 3, "quorum": 2, "voter_id": KZ_IIN}


def settings_for(database: Any, tmp_path: Path, **overrides: Any) -> Settings:
    """The API tests' settings (conftest ``client``) with some changed."""
    base: dict[str, Any] = {
        "database_url": database.url,
        "db_schema": database.schema,
        "board_key_file": tmp_path / "board.pem",
        "checkpoint_every": 4,
        "job_poll_seconds": 0.05,
        "job_workers": 1,
        "pool_size": 4,
        "verify_processes": 0,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
    }
    return Settings(**{**base, **overrides})


def open_client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    state = app.state.saylau
    with state.transaction() as s:
        create_user(s, "cec", PASSWORD, "cec", hasher=state.hasher)
    with TestClient(app) as c:
        yield c
    state.engine.dispose()


@pytest.fixture
def small_client(database: Any, tmp_path: Path) -> Iterator[TestClient]:
    """A client whose roll limit is 64 KiB and whose login throttle trips after 3 (account) / 5 (address)."""
    yield from open_client(
        settings_for(database, tmp_path, max_roll_bytes=64 * 1024, login_account_failures=3,
                     login_address_failures=5)
    )


def refused(r: Any, status: int, *words: str) -> str:
    assert r.status_code == status, (r.status_code, r.text[:500])
    detail = str(r.json()["detail"])
    for w in words:
        assert w in detail, (w, detail)
    return detail


# --- control characters -----------------------------------------------------------------------------


def test_nul_and_control_characters_are_refused_naming_the_field(client: TestClient) -> None:
    cec = login(client, "cec")
    # unauthenticated: a NUL in the username at login (500 on PostgreSQL before)
    r = client.post(f"{P}/auth/login", json={"username": "ce\x00c", "password": PASSWORD})
    refused(r, 422, "field 'username'", "U+0000")
    # a body field, nested fields, a member name, other control characters, a lone surrogate
    r = client.post(f"{P}/users", json={"username": "u1", "password": PASSWORD, "role": "observer",
                                        "election_id": "e\x002022"}, headers=cec)
    refused(r, 422, "field 'election_id'")
    bad = manifest()
    bad["regions"][0]["districts"][0]["stations"][1]["name"]["ru"] = "st\x1b[31m-2"
    r = client.post(f"{P}/elections", json={"manifest": bad, "guardians": 3, "quorum": 2}, headers=cec)
    refused(r, 422, "field 'manifest.regions.0.districts.0.stations.1.name.ru'", "U+001B")
    body = {"manifest": {"a\x00": 1}, "guardians": 3, "quorum": 2}
    r = client.post(f"{P}/elections", json=body, headers=cec)
    refused(r, 422, "field 'manifest': member name")
    raw = b'{"username": "a\\ud800", "password": "x"}'
    r = client.post(f"{P}/auth/login", content=raw, headers={"Content-Type": "application/json"})
    refused(r, 422, "field 'username'", "surrogate")
    r = client.post(f"{P}/auth/login", json={"username": "a\x7fb\u0085", "password": "x"})
    refused(r, 422, "field 'username'", "U+007F")
    # path parameters (a station id, a tracking code) and query parameters
    r = client.get(f"{P}/elections/e%002022")
    refused(r, 422, "path parameter 'election_id'", "U+0000")
    r = client.get(f"{P}/elections/{E}/board/codes/ab%00cd")
    refused(r, 422, "path parameter 'code'", "U+0000")
    r = client.post(f"{P}/elections/{E}/stations/st%001/turnout", json={"at": "2022-11-20T10:00:00+06:00",
                                                                        "voted": 1}, headers=cec)
    refused(r, 422, "path parameter 'station_id'")
    r = client.get(f"{P}/elections/{E}/exit-polls/estimate", params={"pollster": "p\x00"})
    refused(r, 422, "query parameter 'pollster'")
    r = client.get(f"{P}/elections", headers={**cec, "Idempotency-Key": "k\x01"})
    refused(r, 422, "Idempotency-Key")
    r = client.get(f"{P}/nowhere%00")  # no route: the segment is named
    refused(r, 422, "path segment 'nowhere")
    # JSON nested beyond the parser's limit: 422, not the parser's RecursionError (500 before)
    deep = b"[" * 100_000
    r = client.post(f"{P}/elections", content=deep, headers={**cec, "Content-Type": "application/json"})
    refused(r, 422, "nested too deeply")
    # nothing was stored
    assert client.get(f"{P}/elections").json() == []
    assert client.post(f"{P}/elections", json=ELECTION,
                       headers=cec).status_code == 201


def test_free_text_may_have_lines_and_nothing_else_may() -> None:
    from saylau.api.textguard import HostileInput, check_csv_bytes, check_json_body

    check_json_body(b'{"grounds": "first line\\nsecond line\\ttabbed", "evidence": {"note": "a\\r\\nb"}}')
    names = {"kk": "Қазақстан", "ru": "Казахстан", "en": "Kazakhstan é"}
    check_json_body(json.dumps({"name": names}).encode())  # escaped as \u04.. and \u00e9: allowed
    check_json_body(b'{"emoji": "\\ud83d\\ude00", "escaped": "a\\\\nb"}')  # a pair; a backslash, then n
    with pytest.raises(HostileInput, match=r"field 'filed_by'.*U\+000A"):
        check_json_body(b'{"filed_by": "a\\nb", "grounds": "ok"}')
    with pytest.raises(HostileInput, match=r"field 'grounds'.*U\+0000"):
        check_json_body(b'{"grounds": "a\\u0000b"}')
    with pytest.raises(HostileInput, match="line 3, column 5"):
        check_csv_bytes(b"a,b\nc,d\nefg,\x00h\n", "field 'body'")


def test_the_roll_refuses_control_characters_naming_row_and_field(client: TestClient) -> None:
    cec = login(client, "cec")
    assert client.post(f"{P}/elections", json=ELECTION,
                       headers=cec).status_code == 201
    text = roll_csv().splitlines()
    text[2] = text[2].replace("Voter1", "Vo\x00ter1")  # row 3 (the header is row 1)
    text[4] = text[4].replace("Test", "Te\x1bst")  # row 5, first name
    body = "\n".join(text) + "\n"
    r = client.post(f"{P}/elections/{E}/roll", content=body, headers={**cec, **CSV})
    refused(r, 422, "control character")
    rows = {(p["row"], p["field"]) for p in r.json()["rows"]}
    assert rows == {(3, "last_name"), (5, "first_name")}, r.json()["rows"]
    assert client.get(f"{P}/elections/{E}/roll").json()["total"] == 0  # nothing stored
    r = client.post(f"{P}/elections/{E}/roll", params={"accept_partial": "true"}, content=body,
                    headers={**cec, **CSV})
    assert r.status_code == 201 and r.json()["imported"] == len(VOTERS) - 2, r.text


# --- numbers ---------------------------------------------------------------------------------------


def test_numbers_beyond_their_bounds_are_refused_naming_the_field(client: TestClient) -> None:
    cec = login(client, "cec")
    assert client.post(f"{P}/elections", json=ELECTION,
                       headers=cec).status_code == 201
    user = {"username": "g9", "password": PASSWORD, "role": "guardian", "election_id": E}
    r = client.post(f"{P}/users", json={**user, "guardian_index": 8962336995}, headers=cec)
    refused(r, 422, "guardian_index")  # 500 on PostgreSQL before (INTEGER column)
    r = client.post(f"{P}/elections", json={"manifest": {"x": [1, 2, 10**25]}, "guardians": 3, "quorum": 2},
                    headers=cec)
    refused(r, 422, "field 'manifest.x.2'", "64-bit")
    for literal, word in ((b"NaN", "NaN"), (b"-Infinity", "-Infinity"), (b"1e400", "1e400")):
        raw = b'{"manifest": {}, "guardians": ' + literal + b', "quorum": 1}'
        r = client.post(f"{P}/elections", content=raw, headers={**cec, "Content-Type": "application/json"})
        refused(r, 422, "field 'guardians'", word)


def test_station_fields_and_paths_refuse_hostile_values(client: TestClient) -> None:
    el = setup_election(client)
    st = el.h["station1"]
    at = "2022-11-20T10:00:00+06:00"
    r = client.post(f"{P}/elections/{E}/stations/st-1/turnout", json={"at": at, "voted": 2**40}, headers=st)
    refused(r, 422, "voted")
    url = f"{P}/elections/{E}/stations/st-1/turnout"
    r = client.post(url, json={"at": at + "\x00", "voted": 1}, headers=st)
    refused(r, 422, "field 'at'")
    r = client.get(f"{P}/elections/{E}/board/codes/{'0' * 63}%00")
    refused(r, 422, "path parameter 'code'")
    r = client.post(f"{P}/elections/{E}/stations/st-1/checkin", json={"iin": VOTERS[0][:11] + "\x00"},
                    headers=st)
    refused(r, 422, "field 'iin'")
    assert client.get(f"{P}/elections/{E}/turnout").json() == []
    r = client.post(f"{P}/elections/{E}/guardians/99999999999/record", json={"record": {}},
                    headers=el.h["guardian1"])
    refused(r, 422, "index")  # a path integer beyond the column (500 on PostgreSQL before)


# --- sizes -----------------------------------------------------------------------------------------


def test_bodies_are_limited_per_route_before_authentication(small_client: TestClient) -> None:
    c = small_client
    cec = login(c, "cec")
    assert c.post(f"{P}/elections", json=ELECTION,
                  headers=cec).status_code == 201
    # login: 4 KiB, before any parsing or password hashing
    r = c.post(f"{P}/auth/login", json={"username": "cec", "password": "x" * 5000})
    refused(r, 413, "4 KiB")
    # a large route checks the bearer token before reading anything: anonymous 401, wrong role 403
    big = "iin,last_name,first_name,date_of_birth,region,station\n" + "x" * 100_000
    r = c.post(f"{P}/elections/{E}/roll", content=big, headers=CSV)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", r.text
    assert c.post(f"{P}/users", json={"username": "obs", "password": PASSWORD, "role": "observer"},
                  headers=cec).status_code == 201
    r = c.post(f"{P}/elections/{E}/roll", content=big, headers={**login(c, "obs"), **CSV})
    assert r.status_code == 403, r.text
    # the CEC: the roll limit (64 KiB here) is 413 naming it; a roll under it is imported
    refused(c.post(f"{P}/elections/{E}/roll", content=big, headers={**cec, **CSV}), 413, "64 KiB")
    assert c.post(f"{P}/elections/{E}/roll", content=roll_csv(), headers={**cec, **CSV}).status_code == 201
    # every other route: 1 MiB
    huge = {"manifest": manifest(), "guardians": 3, "quorum": 2, "pad": "y" * (16 * 1024 * 1024)}
    refused(c.post(f"{P}/elections", json=huge, headers=cec), 413, "16 MiB")
    r = c.post(f"{P}/elections/{E}/stations/st-1/turnout", content=b"[" + b"1," * (1 << 20) + b"1]",
               headers={**cec, "Content-Type": "application/json"})
    refused(r, 413, "1 MiB")


def _run_guard(chunks: list[bytes], headers: list[tuple[bytes, bytes]], limit: int) -> tuple[int, int, bool]:
    """Drive ``InputGuard`` directly: (status answered, chunks it read, whether the app was reached)."""
    from saylau.api.limits import InputGuard, RouteLimit

    reached = False
    read = 0

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal reached
        reached = True
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        more = read < len(chunks)
        return {"type": "http.request", "body": chunks[read - 1], "more_body": more}

    answered: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answered.append(message["status"])

    import re

    rule = RouteLimit("POST", re.compile("^/x$"), limit, "raw")
    guard = InputGuard(app, state=None, prefix="/api", limits=[rule])
    scope = {"type": "http", "method": "POST", "path": "/api/x", "query_string": b"", "headers": headers}
    asyncio.run(guard(scope, receive, send))
    return answered[0], read, reached


def test_the_body_is_counted_as_it_arrives_whatever_content_length_says() -> None:
    chunks = [b"z" * 65536] * 1000  # 64 MiB offered, in 64 KiB pieces
    # no Content-Length: the guard stops reading after the limit (1 MiB = 16 chunks, the 17th trips it)
    assert _run_guard(chunks, [], 1024 * 1024) == (413, 17, False)
    # a Content-Length that lies low changes nothing
    assert _run_guard(chunks, [(b"content-length", b"10")], 1024 * 1024) == (413, 17, False)
    # a Content-Length above the limit is refused before reading anything
    assert _run_guard(chunks, [(b"content-length", b"67108864")], 1024 * 1024) == (413, 0, False)
    # within the limit the app gets the body
    assert _run_guard(chunks[:4], [], 1024 * 1024) == (200, 4, True)


def test_errors_never_echo_a_huge_value(client: TestClient) -> None:
    cec = login(client, "cec")
    long_id = "x" * 60_000
    r = client.get(f"{P}/elections/{long_id}")
    assert r.status_code == 404 and len(r.content) < 3000 and "x" * 200 not in r.text, len(r.content)
    assert "characters]" in r.text
    body = {"manifest": {**manifest(), "election_id": "é" * 500_000}, "guardians": 3, "quorum": 2}
    r = client.post(f"{P}/elections", json=body, headers=cec)
    assert r.status_code == 422 and len(r.content) < 5000, len(r.content)
    assert client.post(f"{P}/elections", json=ELECTION,
                       headers=cec).status_code == 201
    rows = roll_csv().replace(",r1,", ",r" + "9" * 100_000 + ",", 1)
    r = client.post(f"{P}/elections/{E}/roll", content=rows, headers={**cec, **CSV})
    assert r.status_code == 422 and len(r.content) < 5000, len(r.content)
    assert "unknown region" in r.json()["rows"][0]["reason"]
    # a field beyond the CSV reader's limit: 422 naming the line (a 500 before)
    rows = roll_csv().replace(",r1,", ",r" + "9" * 300_000 + ",", 1)
    r = client.post(f"{P}/elections/{E}/roll", content=rows, headers={**cec, **CSV})
    refused(r, 422, "line 2", "not readable as CSV")
    assert len(r.content) < 5000


def test_a_batch_refusal_never_echoes_a_huge_value(client: TestClient) -> None:
    from saylau.voting.device import VotingDevice

    el = setup_election(client)
    assert el.params is not None
    st = el.h["station1"]
    r = client.post(f"{P}/elections/{E}/stations/st-1/checkin", json={"iin": VOTERS[0]}, headers=st)
    assert r.status_code == 201, r.text
    device = VotingDevice(el.params, "st-1-d1", "st-1")
    ballot = device.encrypt({"president": ["cand-a"]}, "main").ballot.to_dict()
    ballot["contests"][0]["contest_id"] = "c" * 500_000
    item = {"credential": r.json()["credential"], "ballot": ballot, "device_id": "st-1-d1"}
    r = client.post(f"{P}/elections/{E}/ballots/batch", json={"ballots": [item]}, headers=st)
    assert r.status_code == 200 and r.json()["refused"] == 1, r.text[:300]
    assert len(r.content) < 5000, len(r.content)
