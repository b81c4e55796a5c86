"""Turnout snapshots, result protocols (versioned) and exit-poll interviews (embargoed estimates)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saylau.api.auth import StateDep, require
from saylau.api.common import bound_station, get_election, idempotent, need_phase
from saylau.api.errors import NotFound
from saylau.errors import EmbargoError, ProtocolRejected
from saylau.store.accounts import TokenInfo
from saylau.store.models import ExitPollInterview, ProtocolRow, Station, TurnoutRow

__all__ = ["check_protocol", "router"]

router = APIRouter()


class TurnoutIn(BaseModel):
    """Voters who received a ballot at this station by ``at`` (ISO time)."""

    model_config = ConfigDict(extra="forbid")
    at: str = Field(min_length=10, max_length=40)
    voted: int = Field(ge=0)


class ProtocolIn(BaseModel):
    """The paper result protocol's figures."""

    model_config = ConfigDict(extra="forbid")
    registered: int = Field(ge=0)
    ballots_issued: int = Field(ge=0)
    ballots_cast: int = Field(ge=0)
    invalid: int = Field(ge=0)
    votes: dict[str, int]


class InterviewIn(BaseModel):
    """One exit-poll interview: the sampled station and the stated choice."""

    model_config = ConfigDict(extra="forbid")
    station_id: str = Field(min_length=1, max_length=64)
    answer: str = Field(min_length=1, max_length=64)


class InterviewsIn(BaseModel):
    """A batch of interviews."""

    model_config = ConfigDict(extra="forbid")
    interviews: list[InterviewIn] = Field(min_length=1)


def check_protocol(p: ProtocolIn, selection_ids: list[str]) -> None:
    """The control relations of a station protocol; ``ProtocolRejected`` names the failed one."""
    unknown = sorted(set(p.votes) - set(selection_ids))
    if unknown:
        raise ProtocolRejected(f"protocol field 'votes': unknown selections {unknown}")
    for sid, n in p.votes.items():
        if n < 0:
            raise ProtocolRejected(f"protocol field 'votes.{sid}': negative")
    valid = sum(p.votes.values())
    if p.ballots_issued > p.registered:
        raise ProtocolRejected("protocol relation ballots_issued ≤ registered fails")
    if p.ballots_cast > p.ballots_issued:
        raise ProtocolRejected("protocol relation ballots_cast ≤ ballots_issued fails")
    if valid + p.invalid != p.ballots_cast:
        raise ProtocolRejected(
            f"protocol relation Σ votes ({valid}) + invalid ({p.invalid}) = ballots_cast fails"
        )


@router.post("/elections/{election_id}/stations/{station_id}/turnout", status_code=201, tags=["stations"])
def submit_turnout(
    election_id: str,
    station_id: str,
    body: TurnoutIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("submit_turnout"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Record and publish a turnout snapshot of the commission's own station."""
    bound_station(caller, election_id, station_id)

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        need_phase(get_election(session, election_id), "open", "closed")
        session.add(TurnoutRow(election_id=election_id, station_id=station_id, at=body.at, voted=body.voted))
        entry = state.publish(
            session, election_id, "turnout", {"station_id": station_id, **body.model_dump()}
        )
        return 201, {"station_id": station_id, "board_position": entry.position}

    path = f"/elections/{election_id}/stations/{station_id}/turnout"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write)


@router.get("/elections/{election_id}/turnout", tags=["stations"])
def list_turnout(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("list_turnout"))]
) -> list[dict[str, Any]]:
    """Every turnout snapshot, in time order."""
    with state.reading() as session:
        get_election(session, election_id)
        rows = session.scalars(
            select(TurnoutRow).where(TurnoutRow.election_id == election_id).order_by(TurnoutRow.at)
        )
        return [{"station_id": r.station_id, "at": r.at, "voted": r.voted} for r in rows]


@router.post("/elections/{election_id}/stations/{station_id}/protocols", status_code=201, tags=["stations"])
def submit_protocol(
    election_id: str,
    station_id: str,
    body: ProtocolIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("submit_protocol"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Accept a result protocol whose control relations hold; a correction is a new version."""
    bound_station(caller, election_id, station_id)

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id)
        need_phase(e, "closed", "tallied", "decrypted")
        if session.get(Station, (election_id, station_id)) is None:
            raise NotFound(f"station {station_id!r} of election {election_id!r} does not exist")
        ids = [s["selection_id"] for c in e.manifest["contests"] for s in c["selections"]]
        check_protocol(body, ids)
        state.board(session, election_id).store.head()  # lock: versions are numbered under the board lock
        last = session.scalar(
            select(func.max(ProtocolRow.version)).where(
                ProtocolRow.election_id == election_id, ProtocolRow.station_id == station_id
            )
        )
        version = (last or 0) + 1
        session.add(
            ProtocolRow(
                election_id=election_id,
                station_id=station_id,
                version=version,
                body=body.model_dump(),
                submitted_by=caller.username or "station",
            )
        )
        entry = state.publish(
            session,
            election_id,
            "protocol",
            {"station_id": station_id, "version": version, **body.model_dump()},
        )
        return 201, {"station_id": station_id, "version": version, "board_position": entry.position}

    path = f"/elections/{election_id}/stations/{station_id}/protocols"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write)


@router.get("/elections/{election_id}/protocols", tags=["stations"])
def list_protocols(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("list_protocols"))]
) -> list[dict[str, Any]]:
    """Every protocol version."""
    with state.reading() as session:
        get_election(session, election_id)
        rows = session.scalars(
            select(ProtocolRow)
            .where(ProtocolRow.election_id == election_id)
            .order_by(ProtocolRow.station_id, ProtocolRow.version)
        )
        return [{"station_id": r.station_id, "version": r.version, **r.body} for r in rows]


@router.post("/elections/{election_id}/exit-polls", status_code=201, tags=["exit polls"])
def upload_interviews(
    election_id: str,
    body: InterviewsIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("upload_interviews"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Store a pollster's interviews (never published before the polls close)."""

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id)
        need_phase(e, "open", "closed")
        for i, iv in enumerate(body.interviews):
            if session.get(Station, (election_id, iv.station_id)) is None:
                raise ValueError(f"field 'interviews.{i}.station_id': no station {iv.station_id!r}")
            session.add(
                ExitPollInterview(
                    election_id=election_id,
                    pollster=caller.username or "pollster",
                    station_id=iv.station_id,
                    answer=iv.answer,
                    extra={},
                )
            )
        return 201, {"stored": len(body.interviews)}

    return idempotent(
        state, caller, idempotency_key, f"/elections/{election_id}/exit-polls", body.model_dump(), write
    )


@router.get("/elections/{election_id}/exit-polls/estimate", tags=["exit polls"])
def exit_poll_estimate(
    election_id: str,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("exit_poll_estimate"))],
    pollster: str | None = None,
) -> dict[str, Any]:
    """Shares with 95 % intervals clustered by station (embargoed until the polls close)."""
    with state.reading() as session:
        e = get_election(session, election_id)
        if e.phase in ("setup", "open"):
            raise EmbargoError(f"exit polls of election {election_id}: embargoed until the polls close")
        q = select(ExitPollInterview.station_id, ExitPollInterview.answer).where(
            ExitPollInterview.election_id == election_id
        )
        if pollster is not None:
            q = q.where(ExitPollInterview.pollster == pollster)
        rows = session.execute(q).all()
    if not rows:
        raise NotFound(f"exit polls of election {election_id}: no interviews")
    return {"n": len(rows), "estimates": _cluster_estimates([(str(s), str(a)) for s, a in rows])}


def _cluster_estimates(rows: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """Ratio estimator per answer with a between-station (cluster) variance: honest for clustered samples."""
    by_station: dict[str, Counter[str]] = {}
    for station, answer in rows:
        by_station.setdefault(station, Counter())[answer] += 1
    m = len(by_station)
    n = len(rows)
    out: dict[str, dict[str, float]] = {}
    for answer in sorted({a for _, a in rows}):
        p = sum(c[answer] for c in by_station.values()) / n
        if m > 1:
            mean_size = n / m
            resid = [(c[answer] - p * sum(c.values())) / mean_size for c in by_station.values()]
            se = math.sqrt(sum(r * r for r in resid) / (m * (m - 1)))
        else:
            se = math.sqrt(p * (1 - p) / n)
        out[answer] = {"share": p, "low": max(0.0, p - 1.96 * se), "high": min(1.0, p + 1.96 * se)}
    return out
