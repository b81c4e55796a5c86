"""Login, users, elections (define / open / close), candidate applications, signature checks, decisions.

Registration decisions are computed by ``saylau.election.registration.RegistrationBook`` from the
stored application and the election's facts; appeals add hash-chained versions (the old ones stay).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saylau.api.auth import StateDep, require
from saylau.api.common import electoral_rules, get_election, idempotent, need_phase, voter_id_spec
from saylau.api.errors import NotFound
from saylau.api.roll_import import refuse_while_importing
from saylau.api.routes_stations import csv_text
from saylau.api.schemas import refusals
from saylau.api.schemas_admin import (
    ApplicationOut,
    ApplicationView,
    DecisionOut,
    ElectionDetailOut,
    ElectionOut,
    LoginOut,
    MeOut,
    PhaseChangeOut,
    SignatureCheckOut,
    UserOut,
    UserView,
)
from saylau.api.state import AppState
from saylau.crypto import DeviceChain
from saylau.election.eligibility import EligibilityContext
from saylau.election.manifest import Manifest, plain_language
from saylau.election.nomination_models import Applicant, CandidacyRules
from saylau.election.registration import Appeal, Decision, RegistrationBook
from saylau.election.rules import ElectoralRules
from saylau.election.signatures import check_signatures
from saylau.election.voter_ids import VoterIdSpec
from saylau.errors import AccessDenied, ElectionStateError
from saylau.record.format import election_base_hash
from saylau.store.accounts import TokenInfo, authenticate, create_user, issue_token
from saylau.store.models import (
    ApplicationRow,
    BoardHead,
    DecisionRow,
    Device,
    Election,
    SignatureCheckRow,
    Station,
    User,
    Voter,
    utcnow,
)
from saylau.store.pollbook_store import SqlVoterRoll

__all__ = ["router"]

router = APIRouter()
MAX_GUARDIANS = 100
MAX_COUNT = 2**31 - 1  # the largest count an INTEGER column holds (PostgreSQL)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    """Credentials."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class UserIn(_In):
    """A new login."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=1, max_length=200)  # the policy: saylau.store.passwords
    role: Literal["cec", "station", "guardian", "pollster", "observer"]
    election_id: str | None = None
    station_id: str | None = None
    guardian_index: int | None = Field(default=None, ge=1, le=MAX_GUARDIANS)


class ElectionIn(_In):
    """An election defined from its manifest, the size of its key ceremony and its administrative rules.

    ``candidacy_rules`` (``saylau.election.nomination_models.CandidacyRules``) are needed before any
    registration decision; ``registered_at_nomination`` is the roll size the signature threshold counts
    from (else the stored roll's size at the moment of the decision). ``electoral_rules``
    (``saylau.election.rules.ElectoralRules``, the scenario's ``[rules]``) decide the result; left out,
    the defaults (kz-2022's rules) apply. They are published with the manifest on the board.
    ``voter_id`` is the voter
    identifier (``saylau.election.voter_ids.VoterIdSpec``: the scenario's ``[voter_id]``, e.g. the IIN
    with ``kz-iin`` for kz-2022; default the generic one, column ``voter_id``).
    """

    manifest: dict[str, Any]
    guardians: int = Field(ge=1, le=MAX_GUARDIANS)
    quorum: int = Field(ge=1, le=MAX_GUARDIANS)
    remote_revoting: bool = True
    voting_age: int = Field(default=18, ge=0, le=150)
    candidacy_rules: CandidacyRules | None = None
    electoral_rules: ElectoralRules = Field(default_factory=ElectoralRules)
    registered_at_nomination: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    voter_id: VoterIdSpec = Field(default_factory=VoterIdSpec)


class ApplicationIn(_In):
    """A candidate's application: the applicant's facts as the nomination model defines them."""

    applicant: Applicant


class DecideIn(_In):
    """The commission asks the server to decide; only the date of the sitting is the commission's."""

    decided_on: date | None = None


class AppealIn(_In):
    """An appeal against a refusal: who filed it, when, why, and optionally corrected facts."""

    filed_by: str = Field(min_length=1, max_length=200)
    filed_on: date
    grounds: str = Field(min_length=1, max_length=5000)
    evidence: dict[str, Any] = Field(default_factory=dict)
    revised_applicant: Applicant | None = None
    decided_on: date | None = None


@router.post("/auth/login", tags=["auth"], response_model=LoginOut, responses=refusals("login", 403, 429))
def login(
    body: LoginIn,
    request: Request,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("login"))],
) -> dict[str, Any]:
    """Exchange a username and password for a bearer token (failed logins are throttled: 429)."""
    address = request.client.host if request.client is not None else "unknown"
    state.logins.check(body.username, address)
    try:
        with state.reading() as session:  # argon2 runs outside any write lock
            user = authenticate(session, body.username, body.password, state.hasher)
    except AccessDenied:
        state.logins.failed(body.username, address)
        raise
    state.logins.succeeded(body.username)
    with state.transaction() as session:
        token = issue_token(session, user.role, state.settings.token_ttl, user=user)
        return {
            "token": token,
            "role": user.role,
            "election_id": user.election_id,
            "station_id": user.station_id,
        }


@router.get("/me", tags=["auth"], response_model=MeOut, responses=refusals("me"))
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


@router.post(
    "/users", status_code=201, tags=["auth"],
    response_model=UserOut,
    responses=refusals("create_user", 404, 409),
)
def create_user_endpoint(
    body: UserIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("create_user"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Create a login for a commission member, guardian, pollster or observer.

    Its bindings must exist: an unknown election is 404; a station not in the election, a guardian index
    outside ``1..n``, or a station or index given to a role that takes none is 422 naming the field.
    """

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        if body.election_id is not None:
            get_election(session, body.election_id)  # 404 naming it
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


@router.get("/users", tags=["auth"], response_model=list[UserView], responses=refusals("list_users"))
def list_users(
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("list_users"))],
) -> list[dict[str, Any]]:
    """Every login, oldest first, with its role and bindings (never a password or its hash)."""
    with state.reading() as session:
        return [
            {"id": u.id, "username": u.username, "role": u.role, "election_id": u.election_id,
             "station_id": u.station_id, "guardian_index": u.guardian_index,
             "created_at": u.created_at.isoformat()}
            for u in session.scalars(select(User).order_by(User.id))
        ]


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
        "voting_age": e.voting_age,
        "candidacy_rules": e.candidacy_rules,
        "electoral_rules": electoral_rules(e).model_dump(mode="json"),
        "registered_at_nomination": e.registered_at_nomination,
        "voter_id": voter_id_spec(e).model_dump(mode="json"),
        "key_ready": e.joint_key is not None,
        "opened_at": None if e.opened_at is None else e.opened_at.isoformat(),
        "closed_at": None if e.closed_at is None else e.closed_at.isoformat(),
    }


@router.post(
    "/elections", status_code=201, tags=["elections"],
    response_model=ElectionOut,
    responses=refusals("create_election", 409),
)
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
            name=manifest.name.get(plain_language(manifest.languages)),
            phase="setup",
            manifest=manifest.to_json_obj(),
            guardians=body.guardians,
            quorum=body.quorum,
            base_hash=base_hash.hex(),
            remote_revoting=body.remote_revoting,
            voting_age=body.voting_age,
            candidacy_rules=None
            if body.candidacy_rules is None
            else body.candidacy_rules.model_dump(mode="json"),
            electoral_rules=body.electoral_rules.model_dump(mode="json"),
            registered_at_nomination=body.registered_at_nomination,
            voter_id=body.voter_id.model_dump(mode="json"),
        )
        session.add(e)
        session.flush()  # no ORM relationships: insert the election before the rows that refer to it
        for loc in manifest.locations():
            session.add(
                Station(
                    election_id=e.id,
                    id=loc.station.station_id,
                    region=loc.region_id,
                    name=loc.station.name.get(plain_language(manifest.languages)),
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
                "electoral_rules": e.electoral_rules,
            },
        )
        return 201, election_summary(e)

    return idempotent(state, caller, idempotency_key, "/elections", body.model_dump(mode="json"), write)


@router.get(
    "/elections", tags=["elections"],
    response_model=list[ElectionOut],
    responses=refusals("list_elections"),
)
def list_elections(
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("list_elections"))],
) -> list[dict[str, Any]]:
    """Every election."""
    with state.reading() as session:
        return [election_summary(e) for e in session.scalars(select(Election).order_by(Election.created_at))]


@router.get(
    "/elections/{election_id}", tags=["elections"],
    response_model=ElectionDetailOut,
    responses=refusals("get_election", 404),
)
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
        if to == "open":
            refuse_while_importing(session, election_id, "opening")  # the roll must be complete
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


@router.post(
    "/elections/{election_id}/open", tags=["elections"],
    response_model=PhaseChangeOut,
    responses=refusals("open_election", 404, 409),
)
def open_election(
    election_id: str,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("open_election"))],
) -> dict[str, Any]:
    """Open voting (needs the joint key)."""
    return _phase_change(state, election_id, ("setup",), "open")


@router.post(
    "/elections/{election_id}/close", tags=["elections"],
    response_model=PhaseChangeOut,
    responses=refusals("close_election", 404, 409),
)
def close_election(
    election_id: str,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("close_election"))],
) -> dict[str, Any]:
    """Close voting: no more ballots or check-ins; exit-poll estimates become public."""
    return _phase_change(state, election_id, ("open",), "closed")




# --- candidate registration: decided by saylau.election.registration, never typed in -----------------


def _rules(e: Election) -> CandidacyRules:
    if e.candidacy_rules is None:
        raise ElectionStateError(f"election {e.id}: no candidacy rules were defined with the election")
    return CandidacyRules.model_validate(e.candidacy_rules)


def _application(session: Session, election_id: str, applicant_id: str, lock: bool = False) -> ApplicationRow:
    row = session.get(ApplicationRow, f"{election_id}:{applicant_id}", with_for_update=lock)
    if row is None:
        raise NotFound(f"application {applicant_id!r} of election {election_id!r} does not exist")
    return row


def _context(session: Session, e: Election, app_row: ApplicationRow) -> EligibilityContext:
    """Election facts for the rules: election day, registered voters, regions, checked signatures."""
    manifest = Manifest.from_json_obj(e.manifest)
    registered = e.registered_at_nomination
    if registered is None:
        registered = int(session.scalar(
            select(func.count()).select_from(Voter).where(Voter.election_id == e.id)) or 0)
    check = session.get(SignatureCheckRow, app_row.id)
    return EligibilityContext(
        election_day=manifest.election_date,
        registered_voters=registered,
        region_ids=tuple(r.region_id for r in manifest.regions),
        valid_signatures=None if check is None else {k: int(v) for k, v in check.valid_per_region.items()},
    )


def _book(session: Session, rules: CandidacyRules, app_row: ApplicationRow) -> RegistrationBook:
    """The applicant's stored versions, re-verified (numbering, hash chain, every rule) as they load."""
    rows = session.scalars(
        select(DecisionRow).where(DecisionRow.application_id == app_row.id).order_by(DecisionRow.version)
    ).all()
    if not rows:
        return RegistrationBook(rules)
    applicant_id = str(app_row.applicant["id"])
    return RegistrationBook.from_dict({"applicants": {applicant_id: [r.detail for r in rows]}}, rules)


def _store_decision(
    session: Session, state: AppState, e: Election, app_row: ApplicationRow, decision: Decision
) -> dict[str, Any]:
    detail = decision.to_dict() | {"digest": decision.digest()}
    session.add(DecisionRow(application_id=app_row.id, version=decision.version, outcome=decision.status,
                            detail=detail, decided_by=decision.decided_by))
    app_row.status = decision.status
    entry = state.publish(session, e.id, "decision", detail)
    return {**detail, "board_position": entry.position}


@router.post(
    "/elections/{election_id}/applications", status_code=201, tags=["registration"],
    response_model=ApplicationOut,
    responses=refusals("submit_application", 404, 409),
)
def submit_application(
    election_id: str,
    body: ApplicationIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("submit_application"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Record a candidate's application (validated as ``Applicant``) and publish it."""
    applicant = body.applicant.model_dump(mode="json")

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        get_election(session, election_id)
        row_id = f"{election_id}:{body.applicant.id}"
        if session.get(ApplicationRow, row_id) is not None:
            raise ElectionStateError(f"application {body.applicant.id}: already submitted")
        session.add(ApplicationRow(id=row_id, election_id=election_id, applicant=applicant, status="pending"))
        entry = state.publish(session, election_id, "application", {"applicant": applicant})
        return 201, {"application_id": body.applicant.id, "status": "pending",
                     "board_position": entry.position}

    path = f"/elections/{election_id}/applications"
    return idempotent(state, caller, idempotency_key, path, {"applicant": applicant}, write)


@router.post(
    "/elections/{election_id}/applications/{applicant_id}/signatures", status_code=201, tags=["registration"],
    response_model=SignatureCheckOut,
    responses=refusals("upload_signatures", 404, 409),
)
def upload_signatures(
    election_id: str,
    applicant_id: str,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("upload_signatures"))],
    body: Annotated[bytes, Body(media_type="text/csv")],
) -> dict[str, Any]:
    """Check an applicant's signature sheet (CSV) against the stored roll and publish the report.

    ``saylau.election.signatures.check_signatures`` judges each line (malformed, not on the roll,
    duplicate, name mismatch, under age, outside the nomination window, wrong region); the valid
    counts per region replace the applicant's declared counts in later decisions and appeals.
    """
    text = csv_text(body, "the signature sheet")
    with state.transaction() as session:
        e = get_election(session, election_id)
        rules = _rules(e)
        app_row = _application(session, election_id, applicant_id, lock=True)
        roll = SqlVoterRoll(session, election_id)
        spec = voter_id_spec(e)
        reader = csv.DictReader(io.StringIO(text))
        try:
            roll.preload((line.get(spec.column) or "").strip() for line in reader)
        except csv.Error as exc:  # check_signatures would name the line; the preload reads it first
            raise ValueError(f"field 'body': the signature sheet is not readable as CSV ({exc})") from None
        report = check_signatures(text, applicant_id, roll, e.voting_age,
                                  (rules.nomination_start, rules.nomination_end), voter_id=spec)
        published = report.to_dict()
        row = session.get(SignatureCheckRow, app_row.id)
        if row is None:
            row = SignatureCheckRow(application_id=app_row.id, valid_per_region={}, report={}, checked_by="")
            session.add(row)
        row.valid_per_region = dict(report.valid_per_region)
        row.report = published
        row.checked_by = caller.username or "cec"
        row.checked_at = utcnow()
        entry = state.publish(session, election_id, "note", {"signature_check": published})
        return {**published, "board_position": entry.position}


@router.post(
    "/elections/{election_id}/applications/{applicant_id}/decision", tags=["registration"],
    response_model=DecisionOut,
    responses=refusals("decide_application", 404, 409),
)
def decide_application(
    election_id: str,
    applicant_id: str,
    body: DecideIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("decide_application"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Decide an application by ``RegistrationBook.decide``: every rule's outcome and reason, published.

    The verdict is computed from the stored application, the election's candidacy rules, the roll size
    (or the count at nomination) and the checked signatures; the commission supplies only the date.
    """

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id)
        rules = _rules(e)
        app_row = _application(session, election_id, applicant_id, lock=True)
        book = _book(session, rules, app_row)
        applicant = Applicant.model_validate(app_row.applicant)
        decision = book.decide(applicant, _context(session, e, app_row), body.decided_on or utcnow().date(),
                               caller.username or "cec")
        return 200, _store_decision(session, state, e, app_row, decision)

    path = f"/elections/{election_id}/applications/{applicant_id}/decision"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(mode="json"), write)


@router.post(
    "/elections/{election_id}/applications/{applicant_id}/appeal", tags=["registration"],
    response_model=DecisionOut,
    responses=refusals("appeal_application", 404, 409),
)
def appeal_application(
    election_id: str,
    applicant_id: str,
    body: AppealIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("appeal_application"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Decide an appeal by ``RegistrationBook.appeal``: every rule rerun, a new hash-chained version.

    The earlier versions stay; the new one records who appealed, when and why, who decided and when.
    Rules are rerun on the corrected facts if given, and on the latest signature check.
    """

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id)
        rules = _rules(e)
        app_row = _application(session, election_id, applicant_id, lock=True)
        book = _book(session, rules, app_row)
        appeal = Appeal(filed_by=body.filed_by, filed_on=body.filed_on, grounds=body.grounds,
                        evidence=body.evidence)
        decision = book.appeal(applicant_id, appeal, body.decided_on or utcnow().date(),
                               caller.username or "cec", revised=body.revised_applicant,
                               ctx=_context(session, e, app_row))
        if body.revised_applicant is not None:
            app_row.applicant = body.revised_applicant.model_dump(mode="json")
        return 200, _store_decision(session, state, e, app_row, decision)

    path = f"/elections/{election_id}/applications/{applicant_id}/appeal"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(mode="json"), write)


@router.get(
    "/elections/{election_id}/applications", tags=["registration"],
    response_model=list[ApplicationView],
    responses=refusals("list_applications", 404),
)
def list_applications(
    election_id: str,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("list_applications"))],
) -> list[dict[str, Any]]:
    """Applications with every decision version (oldest first) and the signature check, if any.

    Three queries whatever the number of applicants (the public candidates page reads this).
    """
    with state.reading() as session:
        get_election(session, election_id)
        apps = session.scalars(select(ApplicationRow).where(ApplicationRow.election_id == election_id)
                               .order_by(ApplicationRow.id)).all()
        ids = [a.id for a in apps]
        decisions: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        checks: dict[str, Any] = {}
        if ids:
            for d in session.scalars(select(DecisionRow).where(DecisionRow.application_id.in_(ids))
                                     .order_by(DecisionRow.application_id, DecisionRow.version)):
                decisions[d.application_id].append(d.detail)
            checks = {c.application_id: c.report for c in session.scalars(
                select(SignatureCheckRow).where(SignatureCheckRow.application_id.in_(ids)))}
        return [{"applicant": a.applicant, "status": a.status, "decisions": decisions[a.id],
                 "signature_check": checks.get(a.id)} for a in apps]
