"""Tally, decryption, results, the election record, verification status and jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.api.auth import StateDep, require
from saylau.api.common import electoral_rules, get_election, need_phase
from saylau.api.errors import NotFound
from saylau.api.record_export import record_archive
from saylau.api.schemas import JobOut, refusals
from saylau.api.schemas_results import (
    ResultsOut,
    TallyOut,
)
from saylau.election.rules import Totals, decide
from saylau.errors import ElectionError
from saylau.store.accounts import TokenInfo
from saylau.store.jobs import create_job, resume_job
from saylau.store.models import Election, Job, Station

__all__ = ["DERIVED", "job_view", "published_results", "router"]

router = APIRouter()


def job_view(job: Job) -> dict[str, Any]:
    """Public view of a job (state, progress, failure)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "election_id": job.election_id,
        "state": job.state,
        "progress": job.progress,
        "message": job.message,
        "error": job.error,
        "result": job.result,
        "attempts": job.attempts,
        "created_at": job.created_at.isoformat(),
        "heartbeat_at": None if job.heartbeat_at is None else job.heartbeat_at.isoformat(),
    }


def _queue(state: Any, caller: TokenInfo, election_id: str, kind: str, *phases: str) -> dict[str, Any]:
    session: Session
    with state.transaction() as session:
        e = get_election(session, election_id, lock=True)
        if phases:
            need_phase(e, *phases)
        running = session.scalars(
            select(Job).where(
                Job.election_id == election_id, Job.kind == kind, Job.state.in_(("pending", "running"))
            )
        ).first()
        if running is not None:
            return job_view(running)  # the same job, not a second one
        return job_view(create_job(session, kind, {}, caller.username or caller.role, election_id))


@router.post(
    "/elections/{election_id}/tally", status_code=202, tags=["results"],
    response_model=JobOut,
    responses=refusals("start_tally", 404, 409),
)
def start_tally(
    election_id: str, state: StateDep, caller: Annotated[TokenInfo, Depends(require("start_tally"))]
) -> dict[str, Any]:
    """Queue the homomorphic tally (after close)."""
    return _queue(state, caller, election_id, "tally", "closed")


@router.get(
    "/elections/{election_id}/tally", tags=["results"],
    response_model=TallyOut,
    response_model_exclude_unset=True,  # `entries` once decrypted
    responses=refusals("get_tally", 404),
)
def get_tally(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("get_tally"))]
) -> dict[str, Any]:
    """The encrypted tally."""
    with state.reading() as session:
        e = get_election(session, election_id)
        if e.tally is None:
            raise NotFound(f"election {election_id}: no tally yet")
        return e.tally


@router.post(
    "/elections/{election_id}/decrypt", status_code=202, tags=["results"],
    response_model=JobOut,
    responses=refusals("start_decryption", 404, 409),
)
def start_decryption(
    election_id: str, state: StateDep, caller: Annotated[TokenInfo, Depends(require("start_decryption"))]
) -> dict[str, Any]:
    """Queue the combination of the guardians' partial decryptions."""
    return _queue(state, caller, election_id, "decrypt", "tallied")


@router.get(
    "/elections/{election_id}/results", tags=["results"],
    response_model=ResultsOut,
    response_model_exclude_unset=True,  # an undecided contest has only `outcome` and `error`
    responses=refusals("get_results", 404),
)
def get_results(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("get_results"))]
) -> dict[str, Any]:
    """The decrypted, proven results."""
    with state.reading() as session:
        e = get_election(session, election_id)
        if e.results is None:
            raise NotFound(f"election {election_id}: no results yet")
        return published_results(session, e)


def _turnout(took_part: int, registered: int) -> dict[str, Any]:
    share = took_part / registered if registered else None
    return {"registered": registered, "took_part": took_part, "share": share}


def _decisions(e: Election, nation: dict[str, Any], registered: int) -> dict[str, Any]:
    """Each contest's rule decision from the national counts (``error`` when the totals do not allow one).

    The rules are the election's own (``ElectionIn.electoral_rules``, stored when it was defined).
    """
    rules = electoral_rules(e)
    out: dict[str, Any] = {}
    for contest in e.manifest["contests"]:
        cid = contest["contest_id"]
        votes = {k: int(v) for k, v in nation["counts"].get(cid, {}).items()}
        against = next((s["selection_id"] for s in contest["selections"] if s["kind"] == "against_all"), None)
        try:
            totals = Totals(registered=registered, took_part=nation["ballots"], valid=sum(votes.values()),
                            votes=votes, against_all=against)
            out[cid] = {**decide(rules, totals).model_dump(mode="json"), "error": None}
        except ElectionError as exc:
            out[cid] = {"outcome": None, "error": str(exc)}
    return out


DERIVED = ("turnout", "rules", "decision")
"""The keys ``GET /results`` adds to the board's ``result`` payload (figures derived when read)."""


def published_results(session: Session, e: Election) -> dict[str, Any]:
    """The decrypted results (as on the board) plus ``turnout`` per scope, the ``rules`` and the ``decision``.

    ``turnout``: ``nation``, ``regions`` and ``stations``, each ``registered`` (the stations' count on the
    voter roll), ``took_part`` (ballots counted) and ``share``.
    """
    assert e.results is not None
    regs = {sid: (region, n) for sid, region, n in session.execute(
        select(Station.id, Station.region, Station.registered).where(Station.election_id == e.id))}
    raw = e.results
    per_region: dict[str, int] = {}
    for region, n in regs.values():
        per_region[region] = per_region.get(region, 0) + n
    registered = sum(per_region.values())
    turnout = {
        "nation": _turnout(raw["nation"]["ballots"], registered),
        "regions": {rid: _turnout(r["ballots"], per_region.get(rid, 0)) for rid, r in raw["regions"].items()},
        "stations": {sid: _turnout(r["ballots"], regs.get(sid, ("", 0))[1])
                     for sid, r in raw["stations"].items()},
    }
    return {
        **raw,
        "turnout": turnout,
        "rules": electoral_rules(e).model_dump(mode="json"),
        "decision": _decisions(e, raw["nation"], registered),
    }


@router.get(
    "/elections/{election_id}/record",
    tags=["record"],
    response_class=Response,
    responses={
        **refusals("download_record", 404, 409),
        200: {
            "description": "the record and the board as a .tar.gz; header Saylau-Record-Hash",
            "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
def download_record(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("download_record"))]
) -> Response:
    """The election record (``saylau-record/1``, in ``record/``) and the board, as a ``.tar.gz``.

    ``saylau verify record/`` checks it; the header ``Saylau-Record-Hash`` carries the record hash.
    """
    data, record_hash = record_archive(state, election_id)
    return Response(
        data,
        media_type="application/gzip",
        headers={
            "Saylau-Record-Hash": record_hash,
            "Content-Disposition": f'attachment; filename="{election_id}-record.tar.gz"',
        },
    )


@router.post(
    "/elections/{election_id}/verify", status_code=202, tags=["record"],
    response_model=JobOut,
    responses=refusals("start_verification", 404),
)
def start_verification(
    election_id: str, state: StateDep, caller: Annotated[TokenInfo, Depends(require("start_verification"))]
) -> dict[str, Any]:
    """Queue a verification of the board and every ballot proof."""
    return _queue(state, caller, election_id, "verify")


@router.get(
    "/elections/{election_id}/verification", tags=["record"],
    response_model=JobOut,
    responses=refusals("verification_status", 404),
)
def verification_status(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("verification_status"))]
) -> dict[str, Any]:
    """The latest verification job of this election."""
    with state.reading() as session:
        get_election(session, election_id)
        job = session.scalars(
            select(Job)
            .where(Job.election_id == election_id, Job.kind == "verify")
            .order_by(Job.created_at.desc())
        ).first()
        if job is None:
            raise NotFound(f"election {election_id}: never verified")
        return job_view(job)


@router.get("/jobs/{job_id}", tags=["jobs"], response_model=JobOut, responses=refusals("get_job", 404))
def get_job(
    job_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("get_job"))]
) -> dict[str, Any]:
    """A job's state, progress, result or error."""
    with state.reading() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} does not exist")
        return job_view(job)


@router.post(
    "/jobs/{job_id}/resume", tags=["jobs"],
    response_model=JobOut,
    responses=refusals("resume_job", 404, 409),
)
def resume_job_endpoint(
    job_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("resume_job"))]
) -> dict[str, Any]:
    """Queue a failed or stalled job again; it continues from its checkpoint."""
    with state.transaction() as session:
        if session.get(Job, job_id) is None:
            raise NotFound(f"job {job_id!r} does not exist")
        return job_view(resume_job(session, job_id))
