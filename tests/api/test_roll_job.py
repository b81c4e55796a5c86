"""The voter roll imported as a background job: the same checks and summary as the request, in batches."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from saylau.api import roll_import
from saylau.api.roles import ALL_ROLES, ENDPOINT_ROLES, PUBLIC
from saylau.api.worker import JobContext
from saylau.election.voter_roll import Voter, make_iin
from saylau.store.accounts import create_user, hash_token
from saylau.store.jobs import claim_next
from saylau.store.models import Job, RollUpload, Token, utcnow
from saylau.store.models import Voter as VoterRow
from saylau.store.pollbook_store import insert_voters

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
    wait_job,
)

Row = tuple[str, str, str, str, str]


def _people(n: int, first: int = 0) -> list[Row]:
    """``n`` valid roll rows (stations st-1/st-2 or left to the least-loaded one), distinct from VOTERS."""
    out = []
    for i in range(first, first + n):
        born = date(1950 + i % 40, 1 + i % 12, 1 + i % 28)
        station = ("st-1", "st-2", "")[i % 3]
        out.append((make_iin(born, i % 2 == 0, 500 + i), f"Person{i}", born.isoformat(), "r1", station))
    return out


def _election(client: TestClient, cec: dict[str, str], election_id: str) -> None:
    body = {"manifest": manifest(election_id), "guardians": 3, "quorum": 2, "voter_id": KZ_IIN}
    assert client.post(f"{P}/elections", json=body, headers=cec).status_code == 201


def _state(client: TestClient, batch: int) -> Any:
    """The application's state, with ``batch`` voters per commit of a roll import job."""
    state = client.app.state.saylau  # type: ignore[attr-defined]
    state.settings = dataclasses.replace(state.settings, roll_batch=batch)
    return state


def _queue(
    client: TestClient, cec: dict[str, str], eid: str, csv: str, partial: bool = False
) -> dict[str, Any]:
    query = "?background=true" + ("&accept_partial=true" if partial else "")
    r = client.post(f"{P}/elections/{eid}/roll{query}", content=csv, headers={**cec, **CSV})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "import_roll" and job["state"] == "pending" and job["progress"] == 0.0, job
    return dict(job)


def _stored(state: Any, eid: str) -> int:
    with state.reading() as s:
        return int(
            s.scalar(select(func.count()).select_from(VoterRow).where(VoterRow.election_id == eid)) or 0
        )


def _uploads(state: Any) -> int:
    with state.reading() as s:
        return int(s.scalar(select(func.count()).select_from(RollUpload)) or 0)


def _board(client: TestClient, eid: str) -> str:
    return client.get(f"{P}/elections/{eid}/board").text


def _no_summary_position(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k != "board_position"}


def test_a_roll_imported_as_a_job_gives_the_summary_of_a_direct_import(client: TestClient) -> None:
    cec = login(client, "cec")
    state = _state(client, batch=4)
    for eid in ("e-job", "e-direct"):
        _election(client, cec, eid)
        # the same voter already stored in both: a bad row of the file below
        r = client.post(f"{P}/elections/{eid}/roll", content=roll_csv(_people(1)), headers={**cec, **CSV})
        assert r.status_code == 201, r.text
    people = _people(14, first=1)
    broken = people[3][0][:11] + str((int(people[3][0][11]) + 1) % 10)
    rows = [
        *_people(1),
        *people,
        people[5],
        (broken, "Broken", people[3][2], "r1", "st-1"),
        (people[7][0], "Other", people[7][2], "r1", "st-1"),
        (people[8][0], "Far", people[8][2], "r9", ""),
    ]
    csv = roll_csv(rows)
    # with bad rows and accept_partial: the job and the request keep and report the same rows
    job = _queue(client, cec, "e-job", csv, partial=True)
    with state.reading() as s:  # the file is stored before the 202, apart from the job's public view
        assert s.get(RollUpload, job["id"]).body == csv
    assert not any(r[0] in str(job) for r in rows)
    done = wait_job(client, cec, job["id"])
    assert done["state"] == "succeeded" and done["progress"] == 1.0 and done["error"] is None, done
    direct = client.post(
        f"{P}/elections/e-direct/roll?accept_partial=true", content=csv, headers={**cec, **CSV}
    )
    assert direct.status_code == 201, direct.text
    result = done["result"]
    assert _no_summary_position(result) == _no_summary_position(direct.json())
    assert result["imported"] == 14 and result["rows_read"] == 19 and result["duplicates_removed"] == 1
    assert result["total"] == 15 and isinstance(result["board_position"], int)
    assert {(p["row"], p["field"]) for p in result["rejected"]} == {
        (2, "iin"),
        (18, "iin"),
        (19, "iin"),
        (20, "region"),
    }, result["rejected"]
    assert "already on the stored roll" in result["rejected"][0]["reason"]
    # every voter stored once, the counts published, the file deleted and no person on the board
    assert _stored(state, "e-job") == 15 == client.get(f"{P}/elections/e-job/roll").json()["total"]
    assert client.get(f"{P}/elections/e-job/roll").json() == client.get(f"{P}/elections/e-direct/roll").json()
    assert _uploads(state) == 0
    board = _board(client, "e-job")
    assert board.count('"voter_roll"') == 2 and not any(r[0] in board for r in rows)
    assert not any(r[0] in str(done) for r in rows)
    # a good file without accept_partial: stored whole in batches of four
    job = _queue(client, cec, "e-job", roll_csv(_people(9, first=20)))
    done = wait_job(client, cec, job["id"])
    assert done["state"] == "succeeded", done
    assert done["result"]["imported"] == 9 and done["result"]["rejected"] == []
    assert done["result"]["total"] == 24 == _stored(state, "e-job")
    with state.reading() as s:
        assert s.get(Job, job["id"]).checkpoint["step"] == "done"


def test_bad_rows_fail_the_job_naming_them_and_nothing_is_stored(client: TestClient) -> None:
    cec = login(client, "cec")
    state = _state(client, batch=2)
    _election(client, cec, "e1")
    people = _people(6)
    broken = people[1][0][:11] + str((int(people[1][0][11]) + 1) % 10)
    rows = [
        people[0],
        (broken, "Broken", people[1][2], "r1", "st-1"),
        people[2],
        (people[3][0], "Wrong", "1999-09-09", "r1", "st-2"),
        people[4],
        (people[5][0], "X", people[5][2], "r1", "st-9"),
    ]
    before = _board(client, "e1")
    job = _queue(client, cec, "e1", roll_csv(rows))
    failed = wait_job(client, cec, job["id"])
    assert failed["state"] == "failed", failed
    error = failed["error"]
    assert error.startswith("RollImportError: voter-roll file: 3 problem(s) in 3 row(s); nothing imported"), (
        error
    )
    assert "row 3, field 'iin'" in error and "check digit" in error
    assert "row 5, field 'date_of_birth'" in error and "row 7, field 'station'" in error and "'st-9'" in error
    # the rows are the ones a direct import refuses with, and nothing was stored or published
    direct = client.post(f"{P}/elections/e1/roll", content=roll_csv(rows), headers={**cec, **CSV})
    assert direct.status_code == 422, direct.text
    assert failed["result"] == {"rows": direct.json()["rows"]}
    assert direct.json()["detail"] in error
    assert _stored(state, "e1") == 0 and _board(client, "e1") == before
    assert _uploads(state) == 0  # a refused file is not kept
    # a file without the required columns is refused whole, like the request's
    job = _queue(client, cec, "e1", "iin,last_name\n1,x\n")
    failed = wait_job(client, cec, job["id"])
    assert failed["state"] == "failed" and "missing column(s) first_name" in failed["error"], failed
    # resuming a refused job cannot import anything: its file is gone
    assert client.post(f"{P}/jobs/{job['id']}/resume", headers=cec).status_code == 200
    again = wait_job(client, cec, job["id"])
    assert again["state"] == "failed" and "no longer stored" in again["error"] and again["attempts"] == 2, (
        again
    )
    # a refused job does not hold the roll: the corrected file goes in
    job = _queue(client, cec, "e1", roll_csv([people[0], people[2], people[4]]))
    assert wait_job(client, cec, job["id"])["result"]["imported"] == 3
    assert _stored(state, "e1") == 3 and _uploads(state) == 0


class _Crash(BaseException):
    """The process dies here: nothing after it runs, not even the worker's failure handler."""


def _claim(state: Any, job_id: str) -> JobContext:
    """Claim a queued job as a worker does (the test's worker is stopped) and give its context."""
    with state.transaction() as s:
        job = claim_next(s)
        assert job is not None and job.id == job_id
        return JobContext(state, job.id, job.kind, job.election_id, dict(job.params), job.checkpoint)


def _counting(monkeypatch: pytest.MonkeyPatch, crash_on: int | None = None) -> list[int]:
    """Count the voters each batch stores; crash (``_Crash``) at the start of batch ``crash_on``."""
    sizes: list[int] = []

    def insert(session: Any, election_id: str, voters: list[Voter]) -> int:
        if crash_on is not None and len(sizes) + 1 == crash_on:
            raise _Crash
        sizes.append(len(voters))
        return insert_voters(session, election_id, voters)

    monkeypatch.setattr(roll_import, "insert_voters", insert)
    return sizes


def _stall(client: TestClient, state: Any, cec: dict[str, str], job_id: str) -> dict[str, Any]:
    """The crashed job's heartbeat ages; the sweep marks it stalled; the CEC resumes it."""
    with state.transaction() as s:
        job = s.get(Job, job_id)
        job.heartbeat_at = utcnow() - timedelta(minutes=5)
    assert job_id in state.worker.sweep()
    assert client.get(f"{P}/jobs/{job_id}", headers=cec).json()["state"] == "stalled"
    r = client.post(f"{P}/jobs/{job_id}/resume", headers=cec)
    assert r.status_code == 200 and r.json()["state"] == "pending", r.text
    return dict(r.json())


def test_a_crashed_import_resumes_where_it_stopped_without_duplicating_voters(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    cec = login(client, "cec")
    state = _state(client, batch=4)
    state.worker.stop()  # this test plays the worker
    _election(client, cec, "e1")
    people = _people(11)
    job = _queue(client, cec, "e1", roll_csv(people))
    ctx = _claim(state, job["id"])
    sizes = _counting(monkeypatch, crash_on=3)
    with pytest.raises(_Crash):
        roll_import.import_roll_job(ctx)
    # two batches committed, each with its checkpoint; the job still says running
    assert sizes == [4, 4] and _stored(state, "e1") == 8
    view = client.get(f"{P}/jobs/{job['id']}", headers=cec).json()
    assert view["state"] == "running" and view["message"] == "8 of 11 voters stored", view
    assert 0.3 < view["progress"] < 1.0
    # the half-imported roll is held: no other import, and the stored file is kept for the resume
    r = client.post(f"{P}/elections/e1/roll", content=roll_csv(_people(1, first=40)), headers={**cec, **CSV})
    assert r.status_code == 409 and job["id"] in r.json()["detail"], r.text
    r = client.post(
        f"{P}/elections/e1/roll?background=true", content=roll_csv(people), headers={**cec, **CSV}
    )
    assert r.status_code == 409 and job["id"] in r.json()["detail"], r.text
    assert _uploads(state) == 1
    _stall(client, state, cec, job["id"])
    sizes = _counting(monkeypatch)
    assert state.worker.run_one()
    done = client.get(f"{P}/jobs/{job['id']}", headers=cec).json()
    assert done["state"] == "succeeded" and done["attempts"] == 2, done
    assert sizes == [3]  # only the voters the crash left out
    assert (
        done["result"]["imported"] == 11
        and done["result"]["total"] == 11
        and done["result"]["rejected"] == []
    )
    assert _stored(state, "e1") == 11 and _uploads(state) == 0
    assert _board(client, "e1").count('"voter_roll"') == 1
    registered = client.get(f"{P}/elections/e1/roll").json()["stations"]
    assert sum(s["registered"] for s in registered.values()) == 11


def test_a_failed_batch_and_a_crash_after_the_last_commit_resume_to_one_import(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    cec = login(client, "cec")
    state = _state(client, batch=3)
    state.worker.stop()
    _election(client, cec, "e1")
    # a batch that raises fails the job (reported), keeping the batches before it
    job = _queue(client, cec, "e1", roll_csv(_people(7)))
    calls: list[int] = []

    def flaky(session: Any, election_id: str, voters: list[Voter]) -> int:
        calls.append(len(voters))
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return insert_voters(session, election_id, voters)

    monkeypatch.setattr(roll_import, "insert_voters", flaky)
    assert state.worker.run_one()
    failed = client.get(f"{P}/jobs/{job['id']}", headers=cec).json()
    assert failed["state"] == "failed" and failed["error"] == "RuntimeError: connection lost", failed
    assert _stored(state, "e1") == 3
    # a job that failed after storing voters still holds the roll until it is resumed
    r = client.post(f"{P}/elections/e1/roll", content=roll_csv(_people(1, first=40)), headers={**cec, **CSV})
    assert r.status_code == 409 and "resume it" in r.json()["detail"], r.text
    assert client.post(f"{P}/jobs/{job['id']}/resume", headers=cec).status_code == 200
    assert state.worker.run_one()
    done = client.get(f"{P}/jobs/{job['id']}", headers=cec).json()
    assert done["state"] == "succeeded" and done["result"]["imported"] == 7, done
    assert calls == [3, 3, 3, 1] and _stored(state, "e1") == 7
    # a crash after the last commit (published, file deleted) but before the job is marked done:
    # the resumed job answers the same summary and publishes nothing again
    monkeypatch.setattr(roll_import, "insert_voters", insert_voters)
    _election(client, cec, "e2")
    job = _queue(client, cec, "e2", roll_csv(_people(5)))
    result = roll_import.import_roll_job(_claim(state, job["id"]))  # returns, but the job is not finished
    assert client.get(f"{P}/jobs/{job['id']}", headers=cec).json()["state"] == "running"
    assert _uploads(state) == 0
    board = _board(client, "e2")
    _stall(client, state, cec, job["id"])
    assert state.worker.run_one()
    done = client.get(f"{P}/jobs/{job['id']}", headers=cec).json()
    assert done["state"] == "succeeded" and done["result"] == result and result["imported"] == 5, done
    assert _board(client, "e2") == board and _stored(state, "e2") == 5


def test_only_the_cec_imports_a_roll_in_the_background(client: TestClient) -> None:
    cec = login(client, "cec")
    state = _state(client, batch=5)
    _election(client, cec, "e1")
    users = [
        ("station1", "station", {"station_id": "st-1"}),
        ("guardian1", "guardian", {"guardian_index": 1}),
        ("pollster", "pollster", {}),
        ("observer", "observer", {}),
    ]
    tokens: dict[str, dict[str, str]] = {}
    for name, role, extra in users:
        body = {"username": name, "password": PASSWORD, "role": role, "election_id": "e1", **extra}
        assert client.post(f"{P}/users", json=body, headers=cec).status_code == 201
        tokens[role] = login(client, name)
    credential = secrets.token_urlsafe(16)
    with state.transaction() as s:
        s.add(
            Token(
                token_hash=hash_token(credential),
                user_id=None,
                role="voter",
                election_id="e1",
                voter_id="voter-x",
                station_id="st-1",
                channel="remote",
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    tokens["voter"] = {"Authorization": f"Bearer {credential}"}
    tokens[PUBLIC] = {}
    assert set(tokens) == ALL_ROLES - ENDPOINT_ROLES["import_roll"]
    for role, headers in tokens.items():
        r = client.post(
            f"{P}/elections/e1/roll?background=true", content=roll_csv(_people(3)), headers={**headers, **CSV}
        )
        assert r.status_code == (401 if role == PUBLIC else 403), (role, r.text)
    with state.reading() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0
    assert _uploads(state) == 0 and _stored(state, "e1") == 0
    # a second CEC administrator may; the job names who queued it
    with state.transaction() as s:
        create_user(s, "cec2", PASSWORD, "cec", hasher=state.hasher)
    job = _queue(client, login(client, "cec2"), "e1", roll_csv(_people(3)))
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    with state.reading() as s:
        assert s.get(Job, job["id"]).created_by == "cec2"


def test_a_roll_job_is_for_the_setup_phase_and_holds_the_opening(client: TestClient) -> None:
    el = setup_election(client, open_it=False)  # the key ceremony done, ten voters imported directly
    cec = el.h["cec"]
    state = _state(client, batch=2)
    state.worker.stop()
    job = _queue(client, cec, el.id, roll_csv(_people(5)))
    # a queued import holds the roll: the election does not open on half a roll, no other import starts
    r = client.post(f"{P}/elections/{el.id}/open", headers=cec)
    assert r.status_code == 409 and job["id"] in r.json()["detail"] and "opening" in r.json()["detail"], (
        r.text
    )
    r = client.post(
        f"{P}/elections/{el.id}/roll?background=true",
        content=roll_csv(_people(1, first=30)),
        headers={**cec, **CSV},
    )
    assert r.status_code == 409 and "wait for it" in r.json()["detail"], r.text
    assert state.worker.run_one()
    assert client.get(f"{P}/jobs/{job['id']}", headers=cec).json()["result"]["total"] == 15
    assert client.post(f"{P}/elections/{el.id}/open", headers=cec).status_code == 200
    # once voting is open, no roll import is queued
    r = client.post(
        f"{P}/elections/{el.id}/roll?background=true",
        content=roll_csv(_people(1, first=30)),
        headers={**cec, **CSV},
    )
    assert r.status_code == 409 and "setup" in r.json()["detail"], r.text
    with state.reading() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.kind == "import_roll")) == 1
    assert _uploads(state) == 0 and _stored(state, el.id) == 15
    assert VOTERS[0] not in _board(client, el.id)
