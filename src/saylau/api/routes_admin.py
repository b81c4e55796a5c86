"""Login, users, elections (define / open / close), applications and decisions, roll and check-in."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saylau.api.auth import StateDep, require
from saylau.api.common import bound_station, get_election, idempotent, need_phase
from saylau.api.errors import NotFound
from saylau.api.state import AppState
from saylau.crypto import DeviceChain
from saylau.election.manifest import Manifest
from saylau.errors import ElectionStateError, PollbookError
from saylau.record.format import election_base_hash
from saylau.store.accounts import TokenInfo, authenticate, create_user, issue_token
from saylau.store.jobs import create_job
from saylau.store.models import (
    ApplicationRow,
    BoardHead,
    CheckIn,
    DecisionRow,
    Device,
    Election,
    Station,
    Voter,
    utcnow,
)

__all__ = ["router"]

router = APIRouter()


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    """Credentials."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class UserIn(_In):
    """A new login."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Literal["cec", "station", "guardian", "pollster", "observer"]
    election_id: str | None = None
    station_id: str | None = None
    guardian_index: int | None = Field(default=None, ge=1)


class ElectionIn(_In):
    """An election defined from its manifest and the size of its key ceremony."""

    manifest: dict[str, Any]
    guardians: int = Field(ge=1, le=100)
    quorum: int = Field(ge=1, le=100)
    remote_revoting: bool = True


class ApplicationIn(_In):
    """A candidate's application (the nomination model's fields)."""

    applicant: dict[str, Any]


class DecisionIn(_In):
    """The decision on an application: outcome and each rule with its reason."""

    outcome: Literal["registered", "refused"]
    rules: list[dict[str, Any]] = Field(min_length=1)
    reason: str = Field(min_length=1)


class VoterIn(_In):
    """One voter-roll row."""

    voter_id: str = Field(min_length=1, max_length=64)
    station_id: str = Field(min_length=1, max_length=64)
    remote: bool = False


class RollIn(_In):
    """A voter-roll import (runs as a job)."""

    voters: list[VoterIn] = Field(min_length=1)


class CheckInIn(_In):
    """A voter presenting at a station."""

    voter_id: str = Field(min_length=1, max_length=64)


@router.post("/auth/login", tags=["auth"])
def login(
    body: LoginIn,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("login"))],
) -> dict[str, Any]:
    """Exchange a username and password for a bearer token."""
    with state.reading() as session:  # argon2 runs outside any write lock
        user = authenticate(session, body.username, body.password, state.hasher)
    with state.transaction() as session:
        token = issue_token(session, user.role, state.settings.token_ttl, user=user)
        return {
            "token": token,
            "role": user.role,
            "election_id": user.election_id,
            "station_id": user.station_id,
        }


@router.get("/me", tags=["auth"])
def me(
    caller: Annotated[TokenInfo, Depends(require("me"))],
) -> dict[str, Any]:
    """Who the token belongs to."""
    return {
        "role": caller.role,
        "username": caller.username,
        "election_id": caller.election_id,
        "station_id": caller.station_id,
        "guardian_index": caller.guardian_index,
        "voter_id": caller.voter_id,
    }


@router.post("/users", status_code=201, tags=["auth"])
def create_user_endpoint(
    body: UserIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("create_user"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Create a login for a commission member, guardian, pollster or observer."""

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        user = create_user(
            session,
            body.username,
            body.password,
            body.role,
            body.election_id,
            body.station_id,
            body.guardian_index,
            hasher=state.hasher,
        )
        return 201, {"id": user.id, "username": user.username, "role": user.role}

    return idempotent(state, caller, idempotency_key, "/users", body.model_dump(), write)


def election_summary(e: Election) -> dict[str, Any]:
    """Public view of an election."""
    return {
        "id": e.id,
        "name": e.name,
        "phase": e.phase,
        "guardians": e.guardians,
        "quorum": e.quorum,
        "base_hash": e.base_hash,
        "remote_revoting": e.remote_revoting,
        "key_ready": e.joint_key is not None,
        "opened_at": None if e.opened_at is None else e.opened_at.isoformat(),
        "closed_at": None if e.closed_at is None else e.closed_at.isoformat(),
    }


@router.post("/elections", status_code=201, tags=["elections"])
def create_election(
    body: ElectionIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("create_election"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Define an election from a manifest; its board opens with the manifest as first entry."""
    manifest = Manifest.from_json_obj(body.manifest)
    if body.quorum > body.guardians:
        raise ValueError(f"field 'quorum': {body.quorum} exceeds guardians {body.guardians}")
    base_hash = election_base_hash(manifest.manifest_hash(), body.guardians, body.quorum)

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        if session.get(Election, manifest.election_id) is not None:
            raise ElectionStateError(f"election {manifest.election_id}: already defined")
        e = Election(
            id=manifest.election_id,
            name=manifest.name.en,
            phase="setup",
            manifest=manifest.to_json_obj(),
            guardians=body.guardians,
            quorum=body.quorum,
            base_hash=base_hash.hex(),
            remote_revoting=body.remote_revoting,
        )
        session.add(e)
        session.flush()  # no ORM relationships: insert the election before the rows that refer to it
        for loc in manifest.locations():
            session.add(
                Station(
                    election_id=e.id,
                    id=loc.station.station_id,
                    region=loc.region_id,
                    name=loc.station.name.en,
                )
            )
        session.add(BoardHead(election_id=e.id, position=-1, entry_hash=None, closed=False))
        session.flush()
        state.publish(
            session,
            e.id,
            "manifest",
            {
                "manifest": e.manifest,
                "manifest_hash": manifest.manifest_hash().hex(),
                "base_hash": e.base_hash,
                "guardians": e.guardians,
                "quorum": e.quorum,
            },
        )
        return 201, election_summary(e)

    return idempotent(state, caller, idempotency_key, "/elections", body.model_dump(), write)


@router.get("/elections", tags=["elections"])
def list_elections(
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("list_elections"))],
) -> list[dict[str, Any]]:
    """Every election."""
    with state.reading() as session:
        return [election_summary(e) for e in session.scalars(select(Election).order_by(Election.created_at))]


@router.get("/elections/{election_id}", tags=["elections"])
def get_election_endpoint(
    election_id: str,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("get_election"))],
) -> dict[str, Any]:
    """One election with its manifest and parameters."""
    with state.reading() as session:
        e = get_election(session, election_id)
        return {**election_summary(e), "manifest": e.manifest, "parameters": e.joint_key}


def _close_devices(session: Session, e: Election) -> list[dict[str, Any]]:
    """Close every device's chain (EG 2.0 §3.4.4): closing codes are published on the board at close."""
    out = []
    base_hash = bytes.fromhex(e.base_hash)
    for d in session.scalars(select(Device).where(Device.election_id == e.id).order_by(Device.id)):
        chain = DeviceChain.resume(d.id, base_hash, bytes.fromhex(d.last_code), d.count)
        d.closing_code = chain.close().hex()
        out.append(
            {
                "device_id": d.id,
                "station_id": d.station_id,
                "ballot_count": d.count,
                "closing_code": d.closing_code,
            }
        )
    return out


def _phase_change(state: AppState, election_id: str, frm: tuple[str, ...], to: str) -> dict[str, Any]:
    with state.transaction() as session:
        e = get_election(session, election_id, lock=True)
        need_phase(e, *frm)
        if to == "open" and e.joint_key is None:
            raise ElectionStateError(f"election {election_id}: cannot open before the joint key exists")
        state.board(session, election_id).store.head()  # lock: no ballot lands between close and codes
        e.phase = to
        now = utcnow()
        payload: dict[str, Any] = {"phase": to, "at": now.isoformat()}
        if to == "open":
            e.opened_at = now
        else:
            e.closed_at = now
            payload["devices"] = _close_devices(session, e)
        entry = state.publish(session, election_id, "phase", payload)
        return {**election_summary(e), "board_position": entry.position}


@router.post("/elections/{election_id}/open", tags=["elections"])
def open_election(
    election_id: str,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("open_election"))],
) -> dict[str, Any]:
    """Open voting (needs the joint key)."""
    return _phase_change(state, election_id, ("setup",), "open")


@router.post("/elections/{election_id}/close", tags=["elections"])
def close_election(
    election_id: str,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("close_election"))],
) -> dict[str, Any]:
    """Close voting: no more ballots or check-ins; exit-poll estimates become public."""
    return _phase_change(state, election_id, ("open",), "closed")


@router.post("/elections/{election_id}/applications", status_code=201, tags=["registration"])
def submit_application(
    election_id: str,
    body: ApplicationIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("submit_application"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Record a candidate's application and publish it."""
    applicant_id = body.applicant.get("applicant_id")
    if not isinstance(applicant_id, str) or not applicant_id:
        raise ValueError("field 'applicant.applicant_id': required string")

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        get_election(session, election_id)
        row_id = f"{election_id}:{applicant_id}"
        if session.get(ApplicationRow, row_id) is not None:
            raise ElectionStateError(f"application {applicant_id}: already submitted")
        session.add(
            ApplicationRow(id=row_id, election_id=election_id, applicant=body.applicant, status="pending")
        )
        entry = state.publish(session, election_id, "application", {"applicant": body.applicant})
        return 201, {"application_id": applicant_id, "status": "pending", "board_position": entry.position}

    return idempotent(
        state, caller, idempotency_key, f"/elections/{election_id}/applications", body.model_dump(), write
    )


@router.post("/elections/{election_id}/applications/{applicant_id}/decision", tags=["registration"])
def decide_application(
    election_id: str,
    applicant_id: str,
    body: DecisionIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("decide_application"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Record a registration decision with every rule and the reason, and publish it."""
    for i, rule in enumerate(body.rules):
        if not isinstance(rule.get("rule"), str) or not isinstance(rule.get("passed"), bool):
            raise ValueError(f"field 'rules.{i}': needs 'rule' (string) and 'passed' (boolean)")
    if body.outcome == "registered" and not all(r["passed"] for r in body.rules):
        raise ValueError("field 'outcome': 'registered' although a rule failed")
    if body.outcome == "refused" and all(r["passed"] for r in body.rules):
        raise ValueError("field 'outcome': 'refused' although every rule passed")

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        app_row = session.get(ApplicationRow, f"{election_id}:{applicant_id}", with_for_update=True)
        if app_row is None:
            raise NotFound(f"application {applicant_id!r} of election {election_id!r} does not exist")
        detail = {
            "applicant_id": applicant_id,
            "outcome": body.outcome,
            "rules": body.rules,
            "reason": body.reason,
            "decided_on": date.today().isoformat(),
        }
        session.add(
            DecisionRow(
                application_id=app_row.id,
                outcome=body.outcome,
                detail=detail,
                decided_by=caller.username or "cec",
            )
        )
        app_row.status = body.outcome
        entry = state.publish(session, election_id, "decision", detail)
        return 200, {**detail, "board_position": entry.position}

    path = f"/elections/{election_id}/applications/{applicant_id}/decision"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write)


@router.get("/elections/{election_id}/applications", tags=["registration"])
def list_applications(
    election_id: str,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("list_applications"))],
) -> list[dict[str, Any]]:
    """Applications with their decisions (latest last)."""
    with state.reading() as session:
        get_election(session, election_id)
        out = []
        for a in session.scalars(select(ApplicationRow).where(ApplicationRow.election_id == election_id)):
            decisions = session.scalars(
                select(DecisionRow).where(DecisionRow.application_id == a.id).order_by(DecisionRow.id)
            ).all()
            out.append(
                {"applicant": a.applicant, "status": a.status, "decisions": [d.detail for d in decisions]}
            )
        return out


@router.post("/elections/{election_id}/roll", status_code=202, tags=["pollbook"])
def import_roll(
    election_id: str,
    body: RollIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("import_roll"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Queue a voter-roll import job; its progress is at ``/jobs/{id}``."""

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        get_election(session, election_id)
        job = create_job(
            session,
            "import_roll",
            {"voters": [v.model_dump() for v in body.voters]},
            caller.username or "cec",
            election_id,
        )
        return 202, {"job_id": job.id, "state": job.state}

    return idempotent(
        state, caller, idempotency_key, f"/elections/{election_id}/roll", body.model_dump(), write
    )


def _check_in(
    session: Session, state: AppState, election_id: str, voter_id: str, station_id: str, channel: str
) -> str:
    e = get_election(session, election_id)
    need_phase(e, "open")
    voter = session.get(Voter, (election_id, voter_id))
    if voter is None:
        raise PollbookError(f"check-in of voter {voter_id}: not on the roll of election {election_id}")
    if channel == "in_person" and voter.station_id != station_id:
        raise PollbookError(
            f"check-in of voter {voter_id}: registered at station {voter.station_id}, not {station_id}"
        )
    if channel == "remote" and not voter.remote:
        raise PollbookError(f"check-in of voter {voter_id}: not registered for remote voting")
    if channel == "remote":
        station_id = voter.station_id  # counted (and revoting) at the voter's own station
    try:
        with session.begin_nested():
            session.add(
                CheckIn(election_id=election_id, voter_id=voter_id, station_id=station_id, channel=channel)
            )
    except IntegrityError as exc:
        raise PollbookError(f"check-in of voter {voter_id}: already checked in (nobody votes twice)") from exc
    ttl = state.settings.voter_token_ttl
    return issue_token(
        session,
        "voter",
        ttl,
        election_id=election_id,
        voter_id=voter_id,
        station_id=station_id,
        channel=channel,
    )


@router.post("/elections/{election_id}/stations/{station_id}/checkin", status_code=201, tags=["pollbook"])
def check_in(
    election_id: str,
    station_id: str,
    body: CheckInIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("check_in"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Check a voter in at this station; returns the voter's one-time ballot credential."""
    bound_station(caller, election_id, station_id)

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        cred = _check_in(session, state, election_id, body.voter_id, station_id, "in_person")
        return 201, {"voter_id": body.voter_id, "credential": cred, "channel": "in_person"}

    path = f"/elections/{election_id}/stations/{station_id}/checkin"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write)


@router.post("/elections/{election_id}/remote-credentials", status_code=201, tags=["pollbook"])
def remote_credential(
    election_id: str,
    body: CheckInIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("remote_credential"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Issue a remote-voting credential (the pollbook marks the voter so they cannot also vote in person)."""

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        cred = _check_in(session, state, election_id, body.voter_id, "remote", "remote")
        return 201, {"voter_id": body.voter_id, "credential": cred, "channel": "remote"}

    return idempotent(
        state,
        caller,
        idempotency_key,
        f"/elections/{election_id}/remote-credentials",
        body.model_dump(),
        write,
    )


def roll_counts(session: Session, election_id: str) -> dict[str, int]:
    """Registered voters per station."""
    rows = session.execute(
        select(Voter.station_id, func.count())
        .where(Voter.election_id == election_id)
        .group_by(Voter.station_id)
    ).all()
    return {str(s): int(n) for s, n in rows}
