"""Overload: past its bounds the server refuses casts with 503 and ``Retry-After``, never a 500, stores every
ballot it acknowledged exactly once, and takes ballots normally again once the load drops.

Tiny bounds (2 cast requests in the server, 3 ballots waiting for verification) and a burst of
concurrent clients, in-process (``httpx.AsyncClient`` on the application, verification threads), on
both backends. The figures at real rates are ``benchmarks/bench_load.py``'s; nothing here asserts on
time.
"""

from __future__ import annotations

import asyncio
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.conftest import STATIONS, TestClient, api_app, register_devices, setup_election
from reliability.live_election import _extra_voters
from saylau.api.overload import CastAdmission
from saylau.board import read_jsonl
from saylau.voting.device import VotingDevice

P = "/api/v1"
CLIENTS = 8
PER_CLIENT = 3


@pytest.fixture
def tight_client(database: Any, tmp_path: Path) -> Iterator[TestClient]:
    """The API tests' application with tiny admission bounds."""
    app = api_app(
        database, tmp_path, job_workers=0, max_cast_requests=2, max_verify_queue=3, overload_retry_after=2
    )
    state = app.state.saylau
    with warnings.catch_warnings(), TestClient(app) as c:
        warnings.simplefilter("ignore")
        yield c
    state.engine.dispose()


def _prepare(client: TestClient) -> tuple[Any, list[list[tuple[str, dict[str, Any]]]]]:
    """An open election; per client, a device and its ballots in chain order, each with its credential."""
    el = setup_election(client, open_it=False)
    extra = _extra_voters(CLIENTS * PER_CLIENT + 2)
    from api.conftest import CSV, roll_csv

    r = client.post(f"{P}/elections/{el.id}/roll", content=roll_csv(extra), headers={**el.h["cec"], **CSV})
    assert r.status_code == 201, r.text
    assert client.post(f"{P}/elections/{el.id}/open", headers=el.h["cec"]).status_code == 200
    by_station: dict[str, list[str]] = {s: [] for s in STATIONS}
    for iin, *_rest, station in extra:
        r = client.post(
            f"{P}/elections/{el.id}/stations/{station}/checkin",
            json={"iin": iin},
            headers=el.h[f"station{station.removeprefix('st-')}"],
        )
        assert r.status_code == 201, r.text
        by_station[station].append(r.json()["credential"])
    devices = [f"{STATIONS[i % 2]}-load{i}" for i in range(CLIENTS)]
    register_devices(client, el, *devices)
    plans = []
    for i, device_id in enumerate(devices):
        station = STATIONS[i % 2]
        device = VotingDevice(el.params, device_id, station)
        plan = []
        for _ in range(PER_CLIENT):
            pending = device.encrypt({"president": ["cand-a"]}, "main")
            device.cast(pending)
            plan.append(
                (by_station[station].pop(), {"ballot": pending.ballot.to_dict(), "device_id": device_id})
            )
        plans.append(plan)
    return el, plans


async def _burst(
    app: Any, el: Any, plans: list[list[tuple[str, dict[str, Any]]]]
) -> tuple[Counter[int], list[str]]:
    """Every client casts its ballots at once; a refused ballot is sent again (after a short pause)."""
    statuses: Counter[int] = Counter()
    problems: list[str] = []
    acked: list[str] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:

        async def one_client(plan: list[tuple[str, dict[str, Any]]]) -> None:
            for credential, body in plan:
                while True:
                    r = await c.post(
                        f"{P}/elections/{el.id}/ballots",
                        json=body,
                        headers={"Authorization": f"Bearer {credential}"},
                    )
                    statuses[r.status_code] += 1
                    if r.status_code == 503:
                        if r.headers.get("Retry-After") != "2" or r.json().get("error") != "Overloaded":
                            problems.append(f"503 without Retry-After or error: {r.headers} {r.text}")
                        await asyncio.sleep(0.01)  # the test does not wait the 2 s it is told
                        continue
                    if r.status_code != 201:
                        problems.append(f"{r.status_code}: {r.text[:300]}")
                    else:
                        acked.append(r.json()["code"])
                    break

        await asyncio.gather(*(one_client(plan) for plan in plans))
    return statuses, problems + [f"acked:{code}" for code in acked]


def test_overload_is_refused_with_503_and_retry_after_then_recovers(tight_client: TestClient) -> None:
    el, plans = _prepare(tight_client)
    app = tight_client.app
    first, rest = [p[: PER_CLIENT - 1] for p in plans], [p[PER_CLIENT - 1 :] for p in plans]
    statuses, out = asyncio.run(_burst(app, el, first))
    problems = [x for x in out if not x.startswith("acked:")]
    acked = [x.removeprefix("acked:") for x in out if x.startswith("acked:")]
    assert problems == [], problems
    assert statuses[503] > 0, statuses  # the bound was reached and answered as overload
    assert not any(s >= 500 and s != 503 for s in statuses), statuses
    assert len(acked) == CLIENTS * (PER_CLIENT - 1)
    # the load dropped: one client at a time, every ballot is taken at once
    for plan in rest:
        for credential, body in plan:
            r = tight_client.post(
                f"{P}/elections/{el.id}/ballots", json=body, headers={"Authorization": f"Bearer {credential}"}
            )
            assert r.status_code == 201, r.text
            acked.append(r.json()["code"])
    board = read_jsonl(tight_client.get(f"{P}/elections/{el.id}/board").text.splitlines())
    codes = Counter(
        row["code"] for row in board if row.get("type") == "entry" and row.get("kind") == "ballot"
    )
    assert sorted(codes) == sorted(acked) and set(codes.values()) == {1}  # each stored once, none lost


def test_a_full_verification_queue_refuses_a_whole_batch_and_stores_none_of_it(
    tight_client: TestClient,
) -> None:
    el, plans = _prepare(tight_client)
    pool = tight_client.app.state.saylau.verifier  # type: ignore[attr-defined]
    items = [{"credential": cred, **body} for cred, body in plans[0]]  # one device's 3 ballots

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=tight_client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            pool.max_in_flight = 0  # the workers take nothing for now: a ballot waits in the queue
            credential, body = plans[2][0]
            waiting = asyncio.create_task(
                c.post(
                    f"{P}/elections/{el.id}/ballots",
                    json=body,
                    headers={"Authorization": f"Bearer {credential}"},
                )
            )
            await asyncio.sleep(0.3)
            try:  # 1 waiting + 3 > 3: the batch is refused whole
                return await c.post(
                    f"{P}/elections/{el.id}/ballots/batch", json={"ballots": items}, headers=el.h["station1"]
                )
            finally:
                pool.max_in_flight = 2
                loop = asyncio.get_running_loop()
                pool._pump(loop, pool._queues[loop])
                assert (await waiting).status_code == 201

    refused = asyncio.run(scenario())
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "2" and refused.json()["error"] == "Overloaded"
    assert "none of the 3 ballots" in refused.json()["detail"]
    board = tight_client.get(f"{P}/elections/{el.id}/board").text
    assert all(body["ballot"]["ballot_id"] not in board for _, body in plans[0])
    # sent again once the queue is free: all three are stored
    again = tight_client.post(
        f"{P}/elections/{el.id}/ballots/batch", json={"ballots": items}, headers=el.h["station1"]
    )
    assert again.status_code == 200 and again.json()["accepted"] == 3, again.text


def test_cast_admission_counts_only_cast_requests() -> None:
    gate = CastAdmission(lambda s, r, w: asyncio.sleep(0), "/api/v1", limit=1)  # type: ignore[arg-type,return-value]
    assert gate._cast.match("/api/v1/elections/e1/ballots")
    assert gate._cast.match("/api/v1/elections/e1/ballots/batch")
    assert gate._cast.match("/api/v1/elections/e1/challenges")
    assert not gate._cast.match("/api/v1/elections/e1/board")
    assert not gate._cast.match("/api/v1/elections/e1/ballots/x")
