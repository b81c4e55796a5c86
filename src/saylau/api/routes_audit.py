"""The risk-limiting audit of the paper count through the API: manifest, seed, rounds, hand tallies.

Every step is an entry on the election's bulletin board under the code ``"audit"`` (kinds
``audit_manifest``, ``audit_start``, ``audit_round``, ``audit_tallies``, ``audit_full_count``); the
audit's state is those entries replayed, so the board is the only storage (no table) and observers
see each step as it happens. The manifest is published first; the dice ceremony must name its hash.
The audit runs while the board is open (phases ``closed`` and ``tallied``): an audit precedes the
certification of the results, whose publication closes the board.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.api.auth import StateDep, require
from saylau.api.common import electoral_rules, get_election, idempotent, need_phase
from saylau.api.errors import NotFound
from saylau.api.schemas import refusals
from saylau.api.schemas_results import (
    AuditManifestOut,
    AuditOut,
)
from saylau.api.state import AppState
from saylau.audit.board_replay import AUDIT_CODE, audit_from_board
from saylau.audit.ceremony import DiceCeremony
from saylau.audit.engine import AuditKind, AuditRecord, enter_full_count, enter_round, plan_audit
from saylau.audit.manifest import BallotManifest, manifest_from_protocols
from saylau.election.manifest import Manifest
from saylau.election.protocols import ProtocolFigures
from saylau.election.rules import Totals
from saylau.errors import AuditError, ElectionStateError
from saylau.store.accounts import TokenInfo
from saylau.store.models import ProtocolRow, Station

__all__ = ["AUDIT_CODE", "router"]

router = APIRouter()
_PHASES = ("closed", "tallied")


class StartAudit(BaseModel):
    """The audit's parameters and the dice ceremony that chose its seed."""

    model_config = ConfigDict(extra="forbid")

    kind: AuditKind = "batch_comparison"
    risk_limit: float = Field(default=0.05, gt=0, lt=1)
    rolls: str
    observers: list[str] = Field(min_length=1)
    held_at: str
    full_count_at: float = Field(default=0.5, gt=0, le=1)


class Tallies(BaseModel):
    """Hand tallies of one round: ballot id → category (polling) or station → counts (batches)."""

    model_config = ConfigDict(extra="forbid")

    ballots: dict[str, str] | None = None
    stations: dict[str, dict[str, int]] | None = None


class FullCount(BaseModel):
    """The full hand count: every station's counts by category (options and ``invalid``)."""

    model_config = ConfigDict(extra="forbid")

    stations: dict[str, dict[str, int]]


def _protocols(session: Session, election_id: str) -> tuple[list[ProtocolFigures], dict[str, str]]:
    """The latest protocol version of every station; every station must have one."""
    latest: dict[str, ProtocolRow] = {}
    for row in session.scalars(
        select(ProtocolRow).where(ProtocolRow.election_id == election_id).order_by(ProtocolRow.version)
    ):
        latest[row.station_id] = row
    stations = session.scalars(select(Station).where(Station.election_id == election_id)).all()
    missing = sorted(s.id for s in stations if s.id not in latest)
    if missing:
        raise ElectionStateError(
            f"audit: station {missing[0]!r} has no protocol yet ({len(missing)} missing)"
        )
    regions = {s.id: s.region for s in stations}
    figures = [ProtocolFigures.model_validate(latest[s.id].body["figures"]) for s in stations]
    return figures, regions


def _build_manifest(session: Session, election_id: str, manifest_doc: dict[str, Any]) -> BallotManifest:
    contest = Manifest.from_json_obj(manifest_doc).contests[0]
    options = [s.selection_id for s in contest.selections]
    figures, regions = _protocols(session, election_id)
    return manifest_from_protocols(election_id, options, figures, regions)


def _entries(state: AppState, session: Session, election_id: str) -> list[tuple[str, dict[str, Any]]]:
    """``(step, payload)`` of the audit's board entries, in board order."""
    return [
        (str(e.payload["audit"]), {k: v for k, v in e.payload.items() if k != "audit"})
        for e in state.board(session, election_id).store.by_code(AUDIT_CODE)
        if e.kind == "note" and isinstance(e.payload.get("audit"), str)
    ]


def _publish(state: AppState, session: Session, election_id: str, step: str, payload: dict[str, Any]) -> Any:
    """A ``note`` entry under the code ``audit``: the board's closed vocabulary has no audit kinds."""
    return state.publish(session, election_id, "note", {"audit": step, **payload}, code=AUDIT_CODE)


def _publish_progress(
    state: AppState, session: Session, election_id: str, rec: AuditRecord, done: int
) -> None:
    """Tallies and risk of round ``done`` (if any), and the next round's draws if one was drawn."""
    if done:
        rnd = rec.rounds[done - 1]
        _publish(
            state,
            session,
            election_id,
            "audit_tallies",
            {
                "round": done,
                "ballots": rnd.ballot_tallies,
                "stations": rnd.station_tallies,
                "risks": rnd.risks,
                "decision": rnd.decision,
                "status": rec.status,
            },
        )
    if len(rec.rounds) > done:
        _publish(state, session, election_id, "audit_round", rec.rounds[-1].model_dump(mode="json"))


def _view(rec: AuditRecord) -> dict[str, Any]:
    body = rec.model_dump(mode="json", exclude={"manifest"})
    body["manifest_stations"] = len(rec.manifest.batches)
    body["manifest_ballots"] = rec.manifest.total
    body["max_risk"] = rec.max_risk()
    return body


@router.post(
    "/elections/{election_id}/audit/manifest", status_code=201, tags=["audit"],
    response_model=AuditManifestOut,
    responses=refusals("publish_audit_manifest", 404, 409),
)
def publish_audit_manifest(
    election_id: str,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("publish_audit_manifest"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Build the ballot manifest from the latest protocols and publish it (before the dice are rolled)."""

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id, lock=True)
        need_phase(e, *_PHASES)
        if any(k == "audit_start" for k, _ in _entries(state, session, election_id)):
            raise ElectionStateError(f"election {election_id}: the audit has started; its manifest is fixed")
        manifest = _build_manifest(session, election_id, e.manifest)
        entry = _publish(
            state,
            session,
            election_id,
            "audit_manifest",
            {"manifest": manifest.model_dump(mode="json"), "manifest_hash": manifest.hash()},
        )
        return 201, {
            "manifest_hash": manifest.hash(),
            "stations": len(manifest.batches),
            "ballots": manifest.total,
            "board_position": entry.position,
        }

    path = f"/elections/{election_id}/audit/manifest"
    return idempotent(state, caller, idempotency_key, path, {}, write)


@router.post(
    "/elections/{election_id}/audit", status_code=201, tags=["audit"],
    response_model=AuditOut,
    responses=refusals("start_audit", 404, 409),
)
def start_audit(
    election_id: str,
    body: StartAudit,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("start_audit"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """The dice ceremony's seed; assertions from the election's own rules; estimates; round 1.

    The rules are those stored when the election was defined (``electoral_rules``), never the caller's:
    an audit whose assertions the commission could choose at the audit would check nothing.
    """

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id, lock=True)
        need_phase(e, *_PHASES)
        entries = _entries(state, session, election_id)
        manifest, rec = audit_from_board(entries)
        if manifest is None:
            raise ElectionStateError(f"election {election_id}: publish the audit manifest before the dice")
        if rec is not None:
            raise ElectionStateError(f"election {election_id}: the audit has already started")
        if _build_manifest(session, election_id, e.manifest).hash() != manifest.hash():
            raise ElectionStateError(
                f"election {election_id}: protocols changed since the manifest was published; "
                "publish it again"
            )
        ceremony = DiceCeremony(
            rolls=body.rolls,
            observers=tuple(body.observers),
            held_at=body.held_at,
            manifest_hash=manifest.hash(),
        )
        figures, _ = _protocols(session, election_id)
        counted = manifest.reported_totals()
        reported = Totals(
            registered=sum(p.registered for p in figures),
            took_part=sum(p.ballots_issued for p in figures),
            valid=sum(p.valid for p in figures),
            votes={o: counted[o] for o in manifest.options},
            against_all=next(
                (
                    s.selection_id
                    for s in Manifest.from_json_obj(e.manifest).contests[0].selections
                    if s.kind == "against_all"
                ),
                None,
            ),
        )
        new = plan_audit(
            manifest,
            electoral_rules(e),
            reported,
            ceremony,
            body.kind,
            body.risk_limit,
            full_count_at=body.full_count_at,
        )
        start = new.model_dump(
            mode="json", exclude={"manifest", "rounds", "status", "full_count", "full_count_decision"}
        )
        _publish(state, session, election_id, "audit_start", start)
        if new.status == "full_hand_count":
            _publish(
                state,
                session,
                election_id,
                "audit_tallies",
                {"round": 0, "risks": {}, "decision": "full_hand_count", "status": new.status},
            )
        _publish_progress(state, session, election_id, new, 0)
        return 201, _view(new)

    path = f"/elections/{election_id}/audit"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(mode="json"), write)


def _current(state: AppState, session: Session, election_id: str) -> AuditRecord:
    _, rec = audit_from_board(_entries(state, session, election_id))
    if rec is None:
        raise NotFound(f"election {election_id!r} has no audit")
    return rec


@router.post(
    "/elections/{election_id}/audit/rounds/{number}/tallies", status_code=201, tags=["audit"],
    response_model=AuditOut,
    responses=refusals("enter_audit_tallies", 404, 409),
)
def enter_audit_tallies(
    election_id: str,
    number: int,
    body: Tallies,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("enter_audit_tallies"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """An audit board's hand tallies of round ``number``: measure; confirm, escalate or full count."""

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id, lock=True)
        need_phase(e, *_PHASES)
        rec = _current(state, session, election_id)
        if not rec.rounds or number != rec.rounds[-1].number or rec.rounds[-1].risks is not None:
            raise ElectionStateError(f"audit of {election_id}: round {number} does not await hand tallies")
        tallies = body.stations if rec.kind == "batch_comparison" else body.ballots
        if tallies is None:
            field = "stations" if rec.kind == "batch_comparison" else "ballots"
            raise AuditError(f"field '{field}': a {rec.kind} audit takes its tallies there")
        rec = enter_round(rec, tallies)
        _publish_progress(state, session, election_id, rec, number)
        return 201, _view(rec)

    path = f"/elections/{election_id}/audit/rounds/{number}/tallies"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(mode="json"), write)


@router.post(
    "/elections/{election_id}/audit/full-count", status_code=201, tags=["audit"],
    response_model=AuditOut,
    responses=refusals("enter_audit_full_count", 404, 409),
)
def enter_audit_full_count(
    election_id: str,
    body: FullCount,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("enter_audit_full_count"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """The full hand count the audit called for; its rule decision replaces the reported one."""

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id, lock=True)
        need_phase(e, *_PHASES)
        rec = enter_full_count(_current(state, session, election_id), body.stations)
        assert rec.full_count_decision is not None
        _publish(
            state,
            session,
            election_id,
            "audit_full_count",
            {"stations": rec.full_count, "decision": rec.full_count_decision.model_dump(mode="json")},
        )
        return 201, _view(rec)

    path = f"/elections/{election_id}/audit/full-count"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(mode="json"), write)


@router.get(
    "/elections/{election_id}/audit", tags=["audit"],
    response_model=AuditOut,
    responses=refusals("get_audit", 404),
)
def get_audit(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("get_audit"))]
) -> dict[str, Any]:
    """The audit as its board entries say: assertions, estimates, rounds, draws, tallies, risks, status."""
    with state.reading() as session:
        get_election(session, election_id)
        return _view(_current(state, session, election_id))
