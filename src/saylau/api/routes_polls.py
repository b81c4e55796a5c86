"""Exit polls through the server: a pollster's sample design, interviews, and embargoed estimates.

The estimate is ``saylau.polls.estimate`` (design-weighted ratio estimator with a linearised
stratified-cluster variance) and the release rule is ``saylau.polls.embargo`` (nothing before the last
station in the country closes, in every time zone), with one more condition only the server knows:
the CEC has closed voting. Interviews are stored as given and never published before then.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import numpy as np
from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saylau.api.auth import StateDep, require
from saylau.api.common import get_election, idempotent, need_phase
from saylau.api.errors import NotFound
from saylau.api.schemas import refusals
from saylau.api.schemas_results import (
    DesignOut,
    EstimateOut,
    InterviewsStoredOut,
    OwnExitPollOut,
)
from saylau.errors import EmbargoError, PollError
from saylau.polls.design import SampleDesign, SamplingFrame
from saylau.polls.embargo import Embargo
from saylau.polls.estimate import REFUSAL, InterviewData, estimate
from saylau.store.accounts import TokenInfo
from saylau.store.models import CheckIn, Election, ExitPollDesign, ExitPollInterview, Station

__all__ = ["REFUSED", "embargo_for", "router"]

router = APIRouter()
REFUSED = "refused"


class SampledStation(BaseModel):
    """One sampled station: its stratum and its inclusion probability π."""

    model_config = ConfigDict(extra="forbid")
    station_id: str = Field(min_length=1, max_length=64)
    stratum: str = Field(min_length=1, max_length=64)
    pi: float = Field(gt=0, le=1)


class DesignIn(BaseModel):
    """A pollster's sample, fixed before any interview is uploaded."""

    model_config = ConfigDict(extra="forbid")
    stations: list[SampledStation] = Field(min_length=1)


class InterviewIn(BaseModel):
    """One exit-poll interview: the sampled station and the stated choice (or ``refused``)."""

    model_config = ConfigDict(extra="forbid")
    station_id: str = Field(min_length=1, max_length=64)
    answer: str = Field(min_length=1, max_length=64)


class InterviewsIn(BaseModel):
    """A batch of interviews."""

    model_config = ConfigDict(extra="forbid")
    interviews: list[InterviewIn] = Field(min_length=1)


def embargo_for(election: Election) -> Embargo:
    """The embargo of an election: polls close at the manifest's local closing time in every zone."""
    closes = datetime.fromisoformat(election.manifest["voting_closes"])
    zones = sorted(
        {s["time_zone"] for r in election.manifest["regions"] for d in r["districts"] for s in d["stations"]}
    )
    day = date.fromisoformat(election.manifest["election_date"])
    local = time(closes.hour, closes.minute)
    return Embargo.local_close(day, local, {z: ZoneInfo(z) for z in zones})


def _design(body: dict[str, Any]) -> SampleDesign:
    rows = body["stations"]
    frame = SamplingFrame.build(
        [r["station_id"] for r in rows], [r["stratum"] for r in rows], [1.0] * len(rows)
    )
    return SampleDesign(
        frame,
        np.arange(len(rows), dtype=np.int64),
        np.asarray([r["stratum"] for r in rows], dtype=np.str_),
        np.asarray([r["pi"] for r in rows], dtype=np.float64),
    )


def _finite(x: float) -> float | None:
    """``x``, or ``None`` for a figure the sample leaves undefined (NaN; JSON has none).

    A design effect where every respondent agrees, an interval with no degree of freedom left.
    """
    return x if math.isfinite(x) else None


@router.put(
    "/elections/{election_id}/exit-polls/design", tags=["exit polls"],
    response_model=DesignOut,
    responses=refusals("upload_design", 404, 409),
)
def upload_design(
    election_id: str,
    body: DesignIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("upload_design"))],
) -> dict[str, Any]:
    """Store the pollster's sample design (replaceable until its first interview arrives)."""
    pollster = caller.username or "pollster"
    with state.transaction() as session:
        need_phase(get_election(session, election_id), "setup", "open")
        for i, s in enumerate(body.stations):
            if session.get(Station, (election_id, s.station_id)) is None:
                raise ValueError(f"field 'stations.{i}.station_id': no station {s.station_id!r}")
        _design(body.model_dump())  # the polls module's own checks (repeated stations ...)
        started = session.scalar(
            select(func.count()).where(
                ExitPollInterview.election_id == election_id, ExitPollInterview.pollster == pollster
            )
        )
        if started:
            raise EmbargoError(f"exit poll of {pollster}: the design is fixed once interviews exist")
        row = session.get(ExitPollDesign, (election_id, pollster))
        if row is None:
            session.add(ExitPollDesign(election_id=election_id, pollster=pollster, body=body.model_dump()))
        else:
            row.body = body.model_dump()
        return {"pollster": pollster, "stations": len(body.stations)}


@router.post(
    "/elections/{election_id}/exit-polls", status_code=201, tags=["exit polls"],
    response_model=InterviewsStoredOut,
    responses=refusals("upload_interviews", 404, 409),
)
def upload_interviews(
    election_id: str,
    body: InterviewsIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("upload_interviews"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Store interviews at the pollster's sampled stations (never published before the polls close)."""
    pollster = caller.username or "pollster"

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id)
        need_phase(e, "open", "closed")
        design = session.get(ExitPollDesign, (election_id, pollster))
        if design is None:
            raise NotFound(f"exit poll of {pollster}: upload the sample design first")
        sampled = {s["station_id"] for s in design.body["stations"]}
        options = {s["selection_id"] for c in e.manifest["contests"] for s in c["selections"]} | {REFUSED}
        for i, iv in enumerate(body.interviews):
            if iv.station_id not in sampled:
                raise ValueError(f"field 'interviews.{i}.station_id': {iv.station_id!r} is not in the sample")
            if iv.answer not in options:
                raise ValueError(
                    f"field 'interviews.{i}.answer': {iv.answer!r} is not an option or 'refused'"
                )
            session.add(
                ExitPollInterview(
                    election_id=election_id,
                    pollster=pollster,
                    station_id=iv.station_id,
                    answer=iv.answer,
                    extra={},
                )
            )
        return 201, {"stored": len(body.interviews)}

    path = f"/elections/{election_id}/exit-polls"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write)


def _estimate(session: Session, e: Election, pollster: str, what: str) -> dict[str, Any]:
    """A pollster's shares with design-based 95 % intervals (no embargo check: the callers decide)."""
    election_id = e.id
    design = session.get(ExitPollDesign, (election_id, pollster))
    if design is None:
        raise NotFound(f"{what}: no sample design")
    rows = session.execute(
        select(ExitPollInterview.station_id, ExitPollInterview.answer).where(
            ExitPollInterview.election_id == election_id, ExitPollInterview.pollster == pollster
        )
    ).all()
    voters = dict(
        session.execute(
            select(CheckIn.station_id, func.count())
            .where(CheckIn.election_id == election_id)
            .group_by(CheckIn.station_id)
        ).all()
    )
    options = [s["selection_id"] for c in e.manifest["contests"] for s in c["selections"]]
    if not rows:
        raise NotFound(f"{what}: no interviews")
    index = {o: i for i, o in enumerate(options)}
    data = InterviewData(
        np.asarray([str(s) for s, _ in rows], dtype=np.str_),
        np.asarray([REFUSAL if a == REFUSED else index[a] for _, a in rows], dtype=np.int64),
    )
    est = estimate(_design(design.body), data, {str(k): int(v) for k, v in voters.items()}, options)
    return {
        "pollster": pollster,
        "respondents": est.respondents,
        "refusals": est.refusals,
        "confidence": est.confidence,
        "estimates": {
            s.option: {"share": s.share, "se": _finite(s.se), "low": _finite(s.low), "high": _finite(s.high),
                       "deff": _finite(s.deff)}
            for s in est.shares
        },
    }


def embargo_lifted(e: Election) -> bool:
    """Whether estimates of this election may be published: voting closed and every zone's polls shut."""
    if e.phase in ("setup", "open"):
        return False
    try:
        embargo_for(e).check("exit poll")
    except EmbargoError:
        return False
    return True


@router.get(
    "/elections/{election_id}/exit-polls/estimate", tags=["exit polls"],
    response_model=EstimateOut,
    responses=refusals("exit_poll_estimate", 403, 404),
)
def exit_poll_estimate(
    election_id: str,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("exit_poll_estimate"))],
    pollster: str,
) -> dict[str, Any]:
    """A pollster's shares with design-based 95 % intervals, once the embargo is lifted."""
    with state.reading() as session:
        e = get_election(session, election_id)
        what = f"exit poll of {pollster} in election {election_id}"
        if e.phase in ("setup", "open"):
            raise EmbargoError(f"{what}: embargoed until the CEC closes voting")
        embargo_for(e).check(what)
        return _estimate(session, e, pollster, what)


@router.get(
    "/elections/{election_id}/exit-polls/own", tags=["exit polls"],
    response_model=OwnExitPollOut,
    responses=refusals("own_exit_poll", 403, 404),
)
def own_exit_poll(
    election_id: str,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("own_exit_poll"))],
) -> dict[str, Any]:
    """The calling pollster's own sample design, interview count and estimate, embargo or not.

    A pollster holds its interviews anyway; the embargo is on publishing them. ``embargoed`` says whether
    ``GET /exit-polls/estimate`` still refuses this estimate to everyone else. ``estimate`` is ``null``
    (with ``estimate_error``) while there is no design or no interview, or the data allow no estimate.
    """
    pollster = caller.username or "pollster"
    with state.reading() as session:
        e = get_election(session, election_id)
        what = f"exit poll of {pollster} in election {election_id}"
        design = session.get(ExitPollDesign, (election_id, pollster))
        interviews = session.scalar(
            select(func.count()).where(
                ExitPollInterview.election_id == election_id, ExitPollInterview.pollster == pollster
            )
        ) or 0
        out: dict[str, Any] = {
            "pollster": pollster,
            "design": None if design is None else design.body,
            "interviews": int(interviews),
            "embargoed": not embargo_lifted(e),
            "embargo_until": embargo_for(e).last_close.isoformat(),
            "estimate": None,
            "estimate_error": None,
        }
        try:
            out["estimate"] = _estimate(session, e, pollster, what)
        except (NotFound, PollError, ValueError, ArithmeticError) as exc:
            out["estimate_error"] = str(exc)
        return out
