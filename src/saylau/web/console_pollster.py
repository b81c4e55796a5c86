"""The pollster's console: sample design, interviews, the pollster's own estimate, its publication.

Interviews come as a CSV file or one at a time; the pollster's own estimate with its intervals shows
while the embargo holds, and the page says when it is published (once the embargo lifts).

``GET /elections/{id}/pollster`` (role ``pollster``). Everything goes through the API's functions with
the caller ``authorize`` resolved: ``own_exit_poll`` (the pollster's own design, count and estimate,
embargo or not, never another pollster's), ``upload_design``, ``upload_interviews`` and, for what the
public sees, ``exit_poll_estimate`` (which refuses, with the embargo's message, until it lifts). A CSV
file is read by ``pollster_csv`` and sent only when every row is good; each form carries a one-time
idempotency key, so a form sent twice (a reload) stores its interviews once.
"""

from __future__ import annotations

import csv
import io
import json
import math
import secrets
from datetime import datetime
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from saylau.api.auth import StateDep
from saylau.api.common import get_election
from saylau.api.routes_polls import (
    REFUSED,
    DesignIn,
    InterviewsIn,
    exit_poll_estimate,
    own_exit_poll,
    upload_design,
    upload_interviews,
)
from saylau.api.state import AppState
from saylau.errors import AccessDenied
from saylau.polls.design import SamplingFrame, stratified_pps
from saylau.store.models import Station
from saylau.web.console import (
    REFUSALS,
    console_page,
    election_languages,
    election_staff,
    error_message,
    forbidden,
)
from saylau.web.console_session import StaffSession, check_csrf
from saylau.web.pages import PHASES
from saylau.web.pollster_csv import MAX_BYTES, CsvRefused, parse_design, parse_interviews
from saylau.web.public_board import _zone
from saylau.web.public_results import text
from saylau.web.rendering import Page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

ENDPOINT = "own_exit_poll"


def _estimate_rows(page: Page, est: dict[str, Any], names: dict[str, str]) -> list[dict[str, str]]:
    """Rows of the estimate table; a figure the sample leaves undefined (``None``, e.g. 0/0) shows "–"."""

    def pct(x: float | None, digits: int = 1) -> str:
        return "–" if x is None or math.isnan(x) else page.percent(x, digits)

    def deff(x: float | None) -> str:
        return "–" if x is None or math.isnan(x) else page.number(round(x, 2))

    return [
        {"id": o, "name": names.get(o, o), "share": pct(v["share"]), "low": pct(v["low"]),
         "high": pct(v["high"]), "se": pct(v["se"], 2), "deff": deff(v["deff"])}
        for o, v in est["estimates"].items()
    ]


def _render(request: Request, state: AppState, election_id: str, session: StaffSession,
            status: int = 200, **outcome: Any) -> Response:
    page = Page(request, election_languages(state, election_id))
    own = own_exit_poll(election_id, state, session.caller)
    with state.reading() as s:
        e = get_election(s, election_id)
        manifest, phase = e.manifest, e.phase
        stations = sorted(s.scalars(select(Station.id).where(Station.election_id == election_id)))
    names = {sel["selection_id"]: text(sel["name"], page.lang)
             for c in manifest["contests"] for sel in c["selections"]}
    try:
        published = exit_poll_estimate(election_id, state, None, own["pollster"])  # type: ignore[arg-type]
        public_refusal = None
    except REFUSALS as exc:
        published, public_refusal = None, error_message(exc)
    est = own["estimate"]
    zone = _zone(manifest)
    return console_page(
        page, "console_pollster.html", status, session=session, election_id=election_id,
        election_name=text(manifest["name"], page.lang), phase=page.gettext(PHASES.get(phase, phase)),
        own=own, design=(own["design"] or {}).get("stations", []), stations=stations,
        options=[(o, n) for o, n in names.items()], refused=REFUSED,
        estimate=None if est is None else {
            "respondents": page.number(est["respondents"]), "refusals": page.number(est["refusals"]),
            "confidence": page.percent(est["confidence"], 0), "rows": _estimate_rows(page, est, names)},
        embargo_until=page.datetime(datetime.fromisoformat(own["embargo_until"]), zone),
        published=published is not None, public_refusal=public_refusal,
        results_url=f"/elections/{election_id}/results?lang={page.lang}#exit-polls",
        idempotency=secrets.token_urlsafe(18), **outcome,
    )


async def _session(request: Request, state: AppState, election_id: str) -> StaffSession | Response:
    return await election_staff(request, state, election_id, ENDPOINT, f"/elections/{election_id}/pollster")


@router.get("/elections/{election_id}/pollster")
async def pollster_console(election_id: str, request: Request, state: StateDep) -> Response:
    """The pollster's console of one election."""
    got = await _session(request, state, election_id)
    if isinstance(got, Response):
        return got
    try:
        return await run_in_threadpool(_render, request, state, election_id, got)
    except REFUSALS as exc:
        return await forbidden(request, state, Page(request, ("en",)), exc)


async def _form_post(
    request: Request, state: AppState, election_id: str
) -> tuple[StaffSession, FormData] | Response:
    form = await request.form()
    got = await _session(request, state, election_id)
    if isinstance(got, Response):
        await form.close()
        return got
    try:
        check_csrf(request, got, form)
    except AccessDenied as exc:
        await form.close()
        return await forbidden(request, state, Page(request, election_languages(state, election_id)), exc)
    return got, form


async def _file(form: FormData, field: str) -> bytes:
    upload = form.get(field)
    try:
        if not isinstance(upload, UploadFile):
            raise CsvRefused([f"field '{field}': no file was chosen"], 0)
        return await upload.read(MAX_BYTES + 1)
    finally:
        await form.close()


@router.get("/elections/{election_id}/pollster/design.csv")
async def pollster_draw(election_id: str, request: Request, state: StateDep) -> Response:
    """A stratified PPS sample of ``n`` stations (``saylau.polls.design.stratified_pps``) as a design CSV.

    Strata are the regions, sizes the stations' registered voters (stations with none cannot be drawn);
    ``seed`` makes the draw repeatable (a random one when absent, written into the file's name). Nothing
    is stored: the pollster reviews the file and uploads it.
    """
    got = await _session(request, state, election_id)
    if isinstance(got, Response):
        return got
    try:
        n = int(request.query_params.get("n", ""))
        raw_seed = request.query_params.get("seed", "").strip()
        seed = int(raw_seed) if raw_seed else secrets.randbelow(10**9)
    except ValueError:
        return await run_in_threadpool(_render, request, state, election_id, got, 400,
                                       design_error="field 'n' and 'seed': whole numbers")
    try:
        body = await run_in_threadpool(_draw, state, election_id, n, seed)
    except REFUSALS as exc:
        return await run_in_threadpool(_render, request, state, election_id, got, _status(exc),
                                       design_error=error_message(exc))
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="design-{n}-seed-{seed}.csv"'})


def _draw(state: AppState, election_id: str, n: int, seed: int) -> str:
    with state.reading() as s:
        get_election(s, election_id)
        rows = s.execute(select(Station.id, Station.region, Station.registered)
                         .where(Station.election_id == election_id, Station.registered > 0)
                         .order_by(Station.id)).all()
    if not rows:
        raise ValueError("sample: no station has registered voters yet (the roll is not imported)")
    if not 1 <= n <= len(rows):
        raise ValueError(f"field 'n': {n} stations asked, between 1 and {len(rows)} can be drawn")
    frame = SamplingFrame.build([r[0] for r in rows], [r[1] for r in rows], [float(r[2]) for r in rows])
    design = stratified_pps(frame, n, np.random.default_rng(seed))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["station_id", "stratum", "pi"])
    for station, stratum, pi in zip(design.stations.tolist(), design.strata.tolist(), design.pi.tolist(),
                                    strict=True):
        w.writerow([station, stratum, repr(min(float(pi), 1.0))])
    return out.getvalue()


@router.post("/elections/{election_id}/pollster/design")
async def pollster_design(election_id: str, request: Request, state: StateDep) -> Response:
    """The sample design from a CSV ``station_id,stratum,pi`` (``routes_polls.upload_design``)."""
    got = await _form_post(request, state, election_id)
    if isinstance(got, Response):
        return got
    session, form = got
    try:
        data = await _file(form, "file")
        with state.reading() as s:
            known = set(s.scalars(select(Station.id).where(Station.election_id == election_id)))
        body = DesignIn.model_validate({"stations": parse_design(data, known)})
        stored = await run_in_threadpool(upload_design, election_id, body, state, session.caller)
    except REFUSALS as exc:
        return await run_in_threadpool(_render, request, state, election_id, session, _status(exc),
                                       design_error=error_message(exc))
    return await run_in_threadpool(_render, request, state, election_id, session, 200,
                                   design_saved=stored["stations"])


async def _send(request: Request, state: AppState, election_id: str, session: StaffSession,
                interviews: list[dict[str, str]], key: str, where: str) -> Response:
    body = InterviewsIn.model_validate({"interviews": interviews})
    reply = await run_in_threadpool(upload_interviews, election_id, body, state, session.caller, key or None)
    stored = json.loads(bytes(reply.body))["stored"]
    return await run_in_threadpool(_render, request, state, election_id, session, 201,
                                   **{f"{where}_saved": stored})


@router.post("/elections/{election_id}/pollster/interviews")
async def pollster_upload(election_id: str, request: Request, state: StateDep) -> Response:
    """Interviews from a CSV ``station_id,answer`` (``routes_polls.upload_interviews``), all or none."""
    got = await _form_post(request, state, election_id)
    if isinstance(got, Response):
        return got
    session, form = got
    try:
        data = await _file(form, "file")
        own = await run_in_threadpool(own_exit_poll, election_id, state, session.caller)
        if own["design"] is None:
            raise CsvRefused(["upload the sample design first"], 0)
        sampled = {s["station_id"] for s in own["design"]["stations"]}
        options = await run_in_threadpool(_options, state, election_id)
        rows = parse_interviews(data, sampled, options)
        key = str(form.get("idempotency", ""))
        return await _send(request, state, election_id, session, rows, key, "upload")
    except REFUSALS as exc:
        return await run_in_threadpool(_render, request, state, election_id, session, _status(exc),
                                       upload_error=error_message(exc))


@router.post("/elections/{election_id}/pollster/interview")
async def pollster_interview(election_id: str, request: Request, state: StateDep) -> Response:
    """One interview typed in the form."""
    got = await _form_post(request, state, election_id)
    if isinstance(got, Response):
        return got
    session, form = got
    row = {"station_id": str(form.get("station_id", "")).strip(),
           "answer": str(form.get("answer", "")).strip()}
    key = str(form.get("idempotency", ""))
    try:
        return await _send(request, state, election_id, session, [row], key, "entry")
    except REFUSALS as exc:
        return await run_in_threadpool(_render, request, state, election_id, session, _status(exc),
                                       entry_error=error_message(exc))


def _options(state: AppState, election_id: str) -> set[str]:
    with state.reading() as s:
        e = get_election(s, election_id)
        return {sel["selection_id"] for c in e.manifest["contests"] for sel in c["selections"]}


def _status(exc: BaseException) -> int:
    from saylau.api.errors import status_for

    return 400 if isinstance(exc, CsvRefused) else status_for(exc)
