"""A cached public page is never stale: after every change, each server answers what a fresh one renders.

Two applications on one database (SQLite and PostgreSQL) stand for two uvicorn workers: the *writer*
takes every write, the *reader* only serves pages, so each change reaches the reader from "another
process" and no in-process signal can help it. After each change of the election — a turnout
snapshot, exit-poll interviews (which the board does not show), the close, a protocol, the
published results — the results page and the results JSON, from both servers and through the cache's
fast path, must equal the answer of a third application started afterwards with an empty cache, and
the old ETag must no longer get a 304.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.conftest import (
    PASSWORD,
    VOTERS,
    ElectionDayClock,
    TestClient,
    register_devices,
    setup_election,
    tally_and_share,
    wait_job,
)
from saylau.api import API_PREFIX, Settings, create_app
from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.store.accounts import create_user
from saylau.voting.device import VotingDevice
from saylau.web.page_cache import page_cache

P = API_PREFIX
PAGE = "/elections/e2022/results"
RESULTS = f"{P}/elections/e2022/results"
BROWSER = {"Accept-Language": "ru", "Accept-Encoding": "gzip"}


def _settings(database: Any, tmp: Path, workers: int) -> Settings:
    return Settings(
        database_url=database.url, db_schema=database.schema, board_key_file=tmp / "board.pem",
        revote_key_file=tmp / "revote.key", checkpoint_every=4, job_poll_seconds=0.05, job_workers=workers,
        pool_size=4, verify_processes=0, argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1,
    )


@pytest.fixture
def servers(database: Any, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient, Any]]:
    """The writer (with the job worker), the reader, and a function answering as a fresh server."""
    writer_app = create_app(_settings(database, tmp_path, 1))
    writer_app.state.saylau.clock = ElectionDayClock()
    with writer_app.state.saylau.transaction() as s:
        create_user(s, "cec", PASSWORD, "cec", hasher=writer_app.state.saylau.hasher)
    reader_app = create_app(_settings(database, tmp_path, 0))
    third_app = create_app(_settings(database, tmp_path, 0))

    with TestClient(writer_app) as writer, TestClient(reader_app) as reader, TestClient(third_app) as third:

        def fresh(path: str) -> tuple[int, bytes]:
            """The answer of a server with an empty cache (every page rendered from the database now)."""
            page_cache(third_app).pages.clear()
            r = third.get(path, headers=BROWSER)
            return r.status_code, r.content

        yield writer, reader, fresh
    for app in (writer_app, reader_app, third_app):
        page_cache(app).reader.close()
        app.state.saylau.engine.dispose()


def test_a_cached_page_is_never_stale(servers: tuple[TestClient, TestClient, Any]) -> None:
    writer, reader, fresh = servers
    el = setup_election(writer)
    h = el.h
    seen: dict[str, bytes] = {}
    etags: dict[tuple[int, str], str] = {}

    def check(step: str, changes_page: bool = True) -> None:
        """Both servers answer as a fresh one, twice (the second from the cache), and old ETags fail."""
        for path in (PAGE, RESULTS):
            status, expected = fresh(path)
            for i, c in enumerate((writer, reader)):
                hits = page_cache(c.app).hits
                for _ in range(2):
                    r = c.get(path, headers=BROWSER)
                    assert (r.status_code, r.content) == (status, expected), f"{step}: {path} is stale"
                if status != 200:
                    continue
                assert page_cache(c.app).hits > hits, f"{step}: {path} was not served from the cache"
                old = etags.get((i, path))
                if old is not None and old != r.headers["etag"]:
                    again = c.get(path, headers={**BROWSER, "If-None-Match": old})
                    assert again.status_code == 200 and again.content == expected, step
                etags[(i, path)] = r.headers["etag"]
                assert c.get(path, headers={**BROWSER, "If-None-Match": r.headers["etag"]}).status_code == 304
        if changes_page:
            assert expected != seen.get(PAGE), f"{step}: the page should show the change"
        seen[PAGE] = fresh(PAGE)[1]

    check("open")
    # a ballot (the board moves; the page shows nothing of it yet, but its state key moved)
    register_devices(writer, el, "st-1-d1")
    assert el.params is not None
    r = writer.post(f"{P}/elections/{el.id}/stations/st-1/checkin", json={"iin": VOTERS[0]},
                    headers=h["station1"])
    assert r.status_code == 201, r.text
    dev = VotingDevice(el.params, "st-1-d1", "st-1")
    pending = dev.encrypt({"president": ["cand-a"]}, "main")
    dev.cast(pending)
    cred = {"Authorization": f"Bearer {r.json()['credential']}"}
    body = {"ballot": pending.ballot.to_dict(), "device_id": "st-1-d1"}
    assert writer.post(f"{P}/elections/{el.id}/ballots", json=body, headers=cred).status_code == 201
    check("a ballot", changes_page=False)
    r = writer.post(f"{P}/elections/{el.id}/stations/st-1/turnout",
                    json={"at": "2022-11-20T10:00:00+06:00", "voted": 1}, headers=h["station1"])
    assert r.status_code == 201, r.text
    check("a turnout snapshot")
    design = {"stations": [{"station_id": s, "stratum": "r1", "pi": 1.0} for s in ("st-1", "st-2")]}
    assert writer.put(f"{P}/elections/{el.id}/exit-polls/design", json=design,
                      headers=h["pollster"]).status_code == 200
    interviews = {"interviews": [{"station_id": "st-1", "answer": "cand-a"},
                                 {"station_id": "st-2", "answer": "cand-b"}]}
    assert writer.post(f"{P}/elections/{el.id}/exit-polls", json=interviews,
                       headers=h["pollster"]).status_code == 201
    check("interviews under the embargo", changes_page=False)
    assert writer.post(f"{P}/elections/{el.id}/close", headers=h["cec"]).status_code == 200
    check("the close (exit polls published: the embargo has lifted)")
    board = writer.get(f"{P}/elections/{el.id}/board").text
    more = {"interviews": [{"station_id": "st-2", "answer": "cand-a"}] * 3}
    r = writer.post(f"{P}/elections/{el.id}/exit-polls", json=more, headers=h["pollster"])
    assert r.status_code == 201, r.text
    assert writer.get(f"{P}/elections/{el.id}/board").text == board  # not on the board
    check("interviews after the close")
    key = Ed25519PrivateKey.generate()
    r = writer.post(f"{P}/elections/{el.id}/stations/st-1/key",
                    json={"public_key": public_key_hex(key.public_key())}, headers=h["cec"])
    assert r.status_code == 200, r.text
    figures = {"station": "st-1", "registered": 5, "ballots_received": 5, "ballots_issued": 1,
               "ballots_unused": 4, "ballots_spoiled": 0, "ballots_in_boxes": 1, "valid": 1, "invalid": 0,
               "votes": {"cand-a": 1, "cand-b": 0, "against-all": 0}}
    protocol = sign_protocol(ProtocolFigures.model_validate(figures), key, election_id=el.id,
                             signed_at=datetime(2022, 11, 20, 21, 0, tzinfo=UTC))
    r = writer.post(f"{P}/elections/{el.id}/stations/st-1/protocols", json=protocol.model_dump(mode="json"),
                    headers=h["station1"])
    assert r.status_code == 201, r.text
    check("a protocol")
    tally_and_share(writer, el, [el.guardians[0], el.guardians[2]])
    check("the tally and the partial decryptions", changes_page=False)
    job = writer.post(f"{P}/elections/{el.id}/decrypt", headers=h["cec"]).json()
    assert wait_job(writer, h["cec"], job["id"])["state"] == "succeeded"
    check("the published results")
    assert reader.get(RESULTS).json()["decision"]
    # a kept answer is for anonymous callers: credentials always reach the route (a bad one is refused)
    assert reader.get(RESULTS, headers={"Authorization": "Bearer nonsense"}).status_code == 401
