"""Roles × endpoints, bad payloads, idempotency, and jobs that fail or stall."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from saylau.api.roles import ENDPOINT_ROLES, PUBLIC
from saylau.store.jobs import claim_next, create_job
from saylau.store.models import IdempotencyKey, utcnow

from .conftest import CSV, VOTERS, P, TestClient, login, manifest, register_devices, setup_election, wait_job

E = "e2022"
# endpoint name → (method, path template, concrete path)
CALLS: dict[str, tuple[str, str, str]] = {
    "login": ("POST", "/auth/login", "/auth/login"),
    "me": ("GET", "/me", "/me"),
    "create_user": ("POST", "/users", "/users"),
    "list_users": ("GET", "/users", "/users"),
    "create_election": ("POST", "/elections", "/elections"),
    "list_elections": ("GET", "/elections", "/elections"),
    "get_election": ("GET", "/elections/{election_id}", f"/elections/{E}"),
    "open_election": ("POST", "/elections/{election_id}/open", f"/elections/{E}/open"),
    "close_election": ("POST", "/elections/{election_id}/close", f"/elections/{E}/close"),
    "submit_application": ("POST", "/elections/{election_id}/applications", f"/elections/{E}/applications"),
    "decide_application": (
        "POST",
        "/elections/{election_id}/applications/{applicant_id}/decision",
        f"/elections/{E}/applications/x/decision",
    ),
    "appeal_application": (
        "POST",
        "/elections/{election_id}/applications/{applicant_id}/appeal",
        f"/elections/{E}/applications/x/appeal",
    ),
    "upload_signatures": (
        "POST",
        "/elections/{election_id}/applications/{applicant_id}/signatures",
        f"/elections/{E}/applications/x/signatures",
    ),
    "list_applications": ("GET", "/elections/{election_id}/applications", f"/elections/{E}/applications"),
    "import_roll": ("POST", "/elections/{election_id}/roll", f"/elections/{E}/roll"),
    "roll_counts": ("GET", "/elections/{election_id}/roll", f"/elections/{E}/roll"),
    "issue_transfer": ("POST", "/elections/{election_id}/transfers", f"/elections/{E}/transfers"),
    "check_in": (
        "POST",
        "/elections/{election_id}/stations/{station_id}/checkin",
        f"/elections/{E}/stations/st-1/checkin",
    ),
    "remote_credential": (
        "POST",
        "/elections/{election_id}/remote-credentials",
        f"/elections/{E}/remote-credentials",
    ),
    "post_guardian_record": (
        "POST",
        "/elections/{election_id}/guardians/{index}/record",
        f"/elections/{E}/guardians/1/record",
    ),
    "list_guardians": ("GET", "/elections/{election_id}/guardians", f"/elections/{E}/guardians"),
    "ceremony_progress": ("GET", "/elections/{election_id}/ceremony", f"/elections/{E}/ceremony"),
    "post_shares": (
        "POST",
        "/elections/{election_id}/guardians/{index}/shares",
        f"/elections/{E}/guardians/1/shares",
    ),
    "get_shares": (
        "GET",
        "/elections/{election_id}/guardians/{index}/shares",
        f"/elections/{E}/guardians/1/shares",
    ),
    "finish_guardian": (
        "POST",
        "/elections/{election_id}/guardians/{index}/finish",
        f"/elections/{E}/guardians/1/finish",
    ),
    "make_joint_key": ("POST", "/elections/{election_id}/key", f"/elections/{E}/key"),
    "cast_ballot": ("POST", "/elections/{election_id}/ballots", f"/elections/{E}/ballots"),
    "cast_ballot_batch": ("POST", "/elections/{election_id}/ballots/batch", f"/elections/{E}/ballots/batch"),
    "challenge_ballot": ("POST", "/elections/{election_id}/challenges", f"/elections/{E}/challenges"),
    "register_device": (
        "POST",
        "/elections/{election_id}/stations/{station_id}/devices",
        f"/elections/{E}/stations/st-1/devices",
    ),
    "list_devices": (
        "GET",
        "/elections/{election_id}/stations/{station_id}/devices",
        f"/elections/{E}/stations/st-1/devices",
    ),
    "submit_turnout": (
        "POST",
        "/elections/{election_id}/stations/{station_id}/turnout",
        f"/elections/{E}/stations/st-1/turnout",
    ),
    "list_turnout": ("GET", "/elections/{election_id}/turnout", f"/elections/{E}/turnout"),
    "register_station_key": (
        "POST",
        "/elections/{election_id}/stations/{station_id}/key",
        f"/elections/{E}/stations/st-1/key",
    ),
    "list_stations": ("GET", "/elections/{election_id}/stations", f"/elections/{E}/stations"),
    "submit_protocol": (
        "POST",
        "/elections/{election_id}/stations/{station_id}/protocols",
        f"/elections/{E}/stations/st-1/protocols",
    ),
    "list_protocols": ("GET", "/elections/{election_id}/protocols", f"/elections/{E}/protocols"),
    "start_tally": ("POST", "/elections/{election_id}/tally", f"/elections/{E}/tally"),
    "get_tally": ("GET", "/elections/{election_id}/tally", f"/elections/{E}/tally"),
    "post_partial_decryption": (
        "POST",
        "/elections/{election_id}/guardians/{index}/partial-decryption",
        f"/elections/{E}/guardians/1/partial-decryption",
    ),
    "get_partial_decryption": (
        "GET",
        "/elections/{election_id}/guardians/{index}/partial-decryption",
        f"/elections/{E}/guardians/1/partial-decryption",
    ),
    "start_decryption": ("POST", "/elections/{election_id}/decrypt", f"/elections/{E}/decrypt"),
    "get_results": ("GET", "/elections/{election_id}/results", f"/elections/{E}/results"),
    "download_record": ("GET", "/elections/{election_id}/record", f"/elections/{E}/record"),
    "start_verification": ("POST", "/elections/{election_id}/verify", f"/elections/{E}/verify"),
    "verification_status": ("GET", "/elections/{election_id}/verification", f"/elections/{E}/verification"),
    "download_board": ("GET", "/elections/{election_id}/board", f"/elections/{E}/board"),
    "lookup_code": ("GET", "/elections/{election_id}/board/codes/{code}", f"/elections/{E}/board/codes/x"),
    "upload_design": (
        "PUT",
        "/elections/{election_id}/exit-polls/design",
        f"/elections/{E}/exit-polls/design",
    ),
    "upload_interviews": ("POST", "/elections/{election_id}/exit-polls", f"/elections/{E}/exit-polls"),
    "exit_poll_estimate": (
        "GET",
        "/elections/{election_id}/exit-polls/estimate",
        f"/elections/{E}/exit-polls/estimate",
    ),
    "own_exit_poll": ("GET", "/elections/{election_id}/exit-polls/own", f"/elections/{E}/exit-polls/own"),
    "get_job": ("GET", "/jobs/{job_id}", "/jobs/x"),
    "resume_job": ("POST", "/jobs/{job_id}/resume", "/jobs/x/resume"),
    "publish_audit_manifest": (
        "POST", "/elections/{election_id}/audit/manifest", f"/elections/{E}/audit/manifest"
    ),
    "start_audit": ("POST", "/elections/{election_id}/audit", f"/elections/{E}/audit"),
    "enter_audit_tallies": (
        "POST",
        "/elections/{election_id}/audit/rounds/{number}/tallies",
        f"/elections/{E}/audit/rounds/1/tallies",
    ),
    "enter_audit_full_count": (
        "POST", "/elections/{election_id}/audit/full-count", f"/elections/{E}/audit/full-count"
    ),
    "get_audit": ("GET", "/elections/{election_id}/audit", f"/elections/{E}/audit"),
}


def test_the_role_table_covers_every_route(client: TestClient) -> None:
    assert set(CALLS) == set(ENDPOINT_ROLES)
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = {(m.upper(), p.removeprefix(P)) for p, ops in paths.items() if p.startswith(P) for m in ops}
    assert routes == {(m, t) for m, t, _ in CALLS.values()}


def test_each_role_is_refused_what_it_may_not_do(client: TestClient) -> None:
    el = setup_election(client)
    r = client.post(
        f"{P}/elections/{E}/stations/st-1/checkin", json={"iin": VOTERS[0]}, headers=el.h["station1"]
    )
    tokens: dict[str, dict[str, str] | None] = {
        "cec": el.h["cec"],
        "station": el.h["station1"],
        "guardian": el.h["guardian1"],
        "pollster": el.h["pollster"],
        "observer": el.h["observer"],
        "voter": {"Authorization": f"Bearer {r.json()['credential']}"},
        PUBLIC: None,
    }
    refused = 0
    for name, (method, _, path) in CALLS.items():
        for role, headers in tokens.items():
            if role in ENDPOINT_ROLES[name]:
                continue
            resp = client.request(method, P + path, json={}, headers=headers or {})
            expected = 401 if role == PUBLIC else 403
            assert resp.status_code == expected, (name, role, resp.status_code, resp.text)
            refused += 1
    assert refused >= 140
    # bindings: a station commission acts only for its station, a guardian only as itself
    r = client.post(
        f"{P}/elections/{E}/stations/st-2/checkin", json={"iin": VOTERS[1]}, headers=el.h["station1"]
    )
    assert r.status_code == 403 and "st-2" in r.json()["detail"]
    r = client.get(f"{P}/elections/{E}/guardians/2/shares", headers=el.h["guardian1"])
    assert r.status_code == 403 and "guardian 2" in r.json()["detail"]
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get(f"{P}/me", headers=bad).status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/elections",
            {"manifest": {**manifest(), "voting_opens": "noon"}, "guardians": 3, "quorum": 2},
            "voting_opens",
        ),
        ("/elections", {"manifest": manifest(), "guardians": 0, "quorum": 2}, "guardians"),
        ("/elections", {"manifest": manifest(), "guardians": 2, "quorum": 3}, "quorum"),
        ("/elections", {"manifest": manifest(), "guardians": 3, "quorum": 2, "colour": "red"}, "colour"),
        ("/elections", {"manifest": manifest(), "guardians": 3, "quorum": 2, "voting_age": -1}, "voting_age"),
        (
            "/elections",
            {"manifest": manifest(), "guardians": 3, "quorum": 2, "candidacy_rules": {"min_age": 40}},
            "candidacy_rules.residence_years",
        ),
        ("/users", {"username": "x y", "password": "long enough", "role": "cec"}, "username"),
        ("/users", {"username": "s", "password": "long enough", "role": "station"}, "station_id"),
        ("/users", {"username": "z", "password": "short", "role": "cec"}, "password"),
        ("/users", {"username": "z", "password": "long enough", "role": "king"}, "role"),
    ],
)
def test_bad_payloads_get_4xx_naming_the_field(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    r = client.post(P + path, json=body, headers=login(client, "cec"))
    assert 400 <= r.status_code < 500, r.text
    assert field in r.json()["detail"], r.text


def test_bad_ballots_and_protocols_name_the_problem(client: TestClient) -> None:
    el = setup_election(client)
    r = client.post(
        f"{P}/elections/{E}/stations/st-1/checkin", json={"iin": VOTERS[0]}, headers=el.h["station1"]
    )
    voter = {"Authorization": f"Bearer {r.json()['credential']}"}
    from saylau.voting.device import VotingDevice

    assert el.params is not None
    register_devices(client, el, "st-1-d1")
    device = VotingDevice(el.params, "st-1-d1", "st-1")
    ballot = device.encrypt({"president": ["cand-a"]}, "main").ballot.to_dict()
    broken = {**ballot, "contests": [{**ballot["contests"][0], "contest_id": "mayor"}]}
    r = client.post(
        f"{P}/elections/{E}/ballots", json={"ballot": broken, "device_id": "st-1-d1"}, headers=voter
    )
    assert r.status_code == 422 and "mayor" in r.json()["detail"], r.text
    sel = ballot["contests"][0]["selections"][0]
    swapped = dict(ballot)
    swapped["contests"] = [
        {
            **ballot["contests"][0],
            "selections": [
                {**sel, "proof": ballot["contests"][0]["selections"][1]["proof"]},
                *ballot["contests"][0]["selections"][1:],
            ],
        }
    ]
    r = client.post(
        f"{P}/elections/{E}/ballots", json={"ballot": swapped, "device_id": "st-1-d1"}, headers=voter
    )
    assert r.status_code == 422, r.text
    r = client.post(f"{P}/elections/{E}/ballots", json={"bullet": ballot, "device_id": "d"}, headers=voter)
    assert r.status_code == 422 and "bullet" in r.json()["detail"]
    r = client.post(
        f"{P}/elections/{E}/ballots", json={"ballot": ballot, "device_id": "no spaces"}, headers=voter
    )
    assert r.status_code == 422 and "device_id" in r.json()["detail"]
    # the good ballot is still accepted afterwards, once
    good = {"ballot": ballot, "device_id": "st-1-d1"}
    assert client.post(f"{P}/elections/{E}/ballots", json=good, headers=voter).status_code == 201
    again = client.post(f"{P}/elections/{E}/ballots", json=good, headers=voter)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    r = client.post(
        f"{P}/elections/{E}/stations/st-1/turnout", json={"at": "x", "voted": -1}, headers=el.h["station1"]
    )
    assert r.status_code == 422 and "'at'" in r.json()["detail"] and "'voted'" in r.json()["detail"]


def test_repeated_requests_are_not_applied_twice(client: TestClient) -> None:
    el = setup_election(client)
    st = {**el.h["station1"], "Idempotency-Key": "turnout-12h"}
    body = {"at": "2022-11-20T12:00:00+06:00", "voted": 3}
    first = client.post(f"{P}/elections/{E}/stations/st-1/turnout", json=body, headers=st)
    second = client.post(f"{P}/elections/{E}/stations/st-1/turnout", json=body, headers=st)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers.get("Idempotent-Replay") == "true"
    assert len(client.get(f"{P}/elections/{E}/turnout").json()) == 1
    other = client.post(f"{P}/elections/{E}/stations/st-1/turnout", json={**body, "voted": 4}, headers=st)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    # a check-in retried with its key is not applied twice, but the credential is never stored:
    # the replay says it was withheld (shown once) instead of repeating it
    hdr = {**el.h["station1"], "Idempotency-Key": "v0"}
    a = client.post(f"{P}/elections/{E}/stations/st-1/checkin", json={"iin": VOTERS[0]}, headers=hdr)
    b = client.post(f"{P}/elections/{E}/stations/st-1/checkin", json={"iin": VOTERS[0]}, headers=hdr)
    assert a.status_code == b.status_code == 201 and b.headers.get("Idempotent-Replay") == "true"
    credential = a.json()["credential"]
    assert "credential" not in b.json() and b.json()["withheld"] == ["credential"]
    assert {k: v for k, v in a.json().items() if k != "credential"} == {
        k: v for k, v in b.json().items() if k != "withheld"
    }
    state = client.app.state.saylau  # type: ignore[attr-defined]
    with state.transaction() as s:
        stored = [json.dumps(r.response) for r in s.query(IdempotencyKey).all()]
    assert stored and not any(credential in body for body in stored)


def test_a_failing_job_is_reported_and_a_stalled_job_resumes(client: TestClient) -> None:
    cec = login(client, "cec")
    r = client.post(f"{P}/elections", json={"manifest": manifest(), "guardians": 3, "quorum": 2}, headers=cec)
    assert r.status_code == 201
    # a job whose handler fails (a background roll import naming an unknown station) is reported as failed
    state = client.app.state.saylau  # type: ignore[attr-defined]
    header = "voter_id,last_name,first_name,date_of_birth,region,station"  # the generic identifier
    csv = f"{header}\n{VOTERS[0]},L,F,1960-03-01,r1,nowhere\n"
    r = client.post(f"{P}/elections/{E}/roll?background=true", content=csv, headers={**cec, **CSV})
    assert r.status_code == 202, r.text
    failed = wait_job(client, cec, r.json()["id"])
    assert failed["state"] == "failed" and "row 2" in failed["error"] and "'nowhere'" in failed["error"]
    # simulate a worker that crashed mid-job: running, with a heartbeat five minutes old
    state.worker.stop()
    with state.transaction() as s:
        job = create_job(s, "verify", {}, "cec", E)
        jid = job.id
    with state.transaction() as s:
        claimed = claim_next(s)
        assert claimed is not None and claimed.id == jid
        claimed.heartbeat_at = utcnow() - timedelta(minutes=5)
    assert state.worker.sweep() == [jid]
    view = client.get(f"{P}/jobs/{jid}", headers=cec).json()
    assert view["state"] == "stalled" and "heartbeat" in view["message"]
    assert client.post(f"{P}/jobs/{jid}/resume", headers=cec).json()["state"] == "pending"
    assert state.worker.run_one()
    done = client.get(f"{P}/jobs/{jid}", headers=cec).json()
    assert done["state"] == "succeeded" and done["attempts"] == 2, done
    assert client.post(f"{P}/jobs/{jid}/resume", headers=cec).status_code == 409
