"""The CEC's console: elections, phases, the key ceremony, jobs, the roll import, station reporting.

Pages under ``/console/cec``. Every view resolves the session cookie with ``authorize`` for the API
endpoint it stands for, and every form POST carries the session's CSRF token and calls the API's own
endpoint function (``open_election``, ``close_election``, ``start_tally``, ``start_decryption``,
``resume_job_endpoint``, ``import_voter_roll`` with ``background=true``), so the console refuses exactly
what the API refuses, with its message. Opening and closing voting ask for a confirmation first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from saylau.api.auth import StateDep
from saylau.api.common import get_election
from saylau.api.errors import NotFound, status_for
from saylau.api.routes_admin import close_election, get_election_endpoint, list_elections, open_election
from saylau.api.routes_results import get_job, resume_job_endpoint, start_decryption, start_tally
from saylau.api.routes_stations import import_voter_roll
from saylau.api.state import AppState
from saylau.errors import AccessDenied
from saylau.forensics.flags import FLAGS
from saylau.web.console import REFUSALS, console_page, error_message, forbidden, staff_languages, to_login
from saylau.web.console_cec_data import (
    SORT_KEYS,
    ceremony,
    election_jobs,
    forensic_flags,
    region_summary,
    rejected_rows,
    sort_reports,
    station_reports,
    text_in,
)
from saylau.web.console_session import NotSignedIn, StaffSession, check_csrf, staff
from saylau.web.pages import PHASES
from saylau.web.public_charts import PALETTE, Tile, tile_map
from saylau.web.rendering import Page

__all__ = ["VIEW_ENDPOINT", "cec_languages", "form_post", "router", "signed_in"]

router = APIRouter(include_in_schema=False)

VIEW_ENDPOINT = "open_election"
"""The endpoint whose roles may see the CEC console (the CEC's alone)."""

PHASE_ACTIONS = {"setup": ("open",), "open": ("close",)}
"""Phase → the phase changes the console offers (the API checks them again)."""

JOB_STARTS = {"closed": ("tally",), "tallied": ("decrypt",)}
"""Phase → the jobs the console offers to start."""


def _api_prefix() -> str:
    from saylau.api.app import API_PREFIX  # saylau.api.app installs these pages: import at call time

    return API_PREFIX


def cec_languages(state: AppState, election_id: str) -> tuple[str, ...]:
    with state.reading() as session:
        try:
            return tuple(get_election(session, election_id).manifest["name"])
        except REFUSALS:
            return ("en",)


def _election_url(election_id: str, tail: str = "") -> str:
    return f"/console/cec/{quote(election_id)}{tail}"


async def signed_in(request: Request, state: AppState, endpoint: str, page: Page) -> StaffSession | Response:
    """The CEC's session for ``endpoint``, or the sign-in redirect / the 403 page."""
    try:
        return await staff(request, state, endpoint)
    except NotSignedIn:
        return to_login(request)
    except AccessDenied as exc:
        return await forbidden(request, state, page, exc)


async def form_post(request: Request, state: AppState, endpoint: str, page: Page,
                     back_to: str) -> tuple[StaffSession, FormData] | Response:
    """The CEC's session and its form (CSRF checked), or the page that refuses the POST."""
    form = await request.form()
    try:
        session = await staff(request, state, endpoint)
        check_csrf(request, session, form)
    except NotSignedIn:
        return to_login(request, back_to)
    except AccessDenied as exc:
        return await forbidden(request, state, page, exc)
    return session, form


@router.get("/console/cec")
async def cec_elections(request: Request, state: StateDep) -> Response:
    """Every election on the server, with its phase."""
    page = Page(request, staff_languages(request, state))
    got = await signed_in(request, state, VIEW_ENDPOINT, page)
    if isinstance(got, Response):
        return got
    elections = await run_in_threadpool(list_elections, state, got.caller)
    rows = [{"id": e["id"], "name": e["name"], "phase": page.gettext(PHASES.get(e["phase"], e["phase"]))}
            for e in elections]
    return console_page(page, "console_cec_elections.html", session=got, elections=rows)


def _overview(request: Request, state: AppState, election_id: str, session: StaffSession,
              status: int = 200, **outcome: Any) -> Response:
    page = Page(request, cec_languages(state, election_id))
    e = get_election_endpoint(election_id, state, session.caller)
    jobs = election_jobs(state, election_id)
    return console_page(
        page, "console_cec_election.html", status, session=session, eid=election_id,
        election_name=text_in(e["manifest"]["name"], page.lang), phase_id=e["phase"],
        phase=page.gettext(PHASES.get(e["phase"], e["phase"])), election=e,
        actions=PHASE_ACTIONS.get(e["phase"], ()), job_starts=JOB_STARTS.get(e["phase"], ()),
        guardians=ceremony(state, session.caller, election_id, e["guardians"]), jobs=jobs,
        record_url=f"{_api_prefix()}/elections/{quote(election_id)}/record", **outcome,
    )


ElectionPage = Callable[..., Response]
"""Builds one election's console page: ``(request, state, election_id, session, status, **outcome)``."""


async def render_election_page(build: ElectionPage, request: Request, state: AppState, election_id: str,
                               session: StaffSession, status: int = 200, **outcome: Any) -> Response:
    """``build`` off the event loop (it reads the database); an election the caller cannot see is 403."""
    try:
        return await run_in_threadpool(build, request, state, election_id, session, status, **outcome)
    except NotFound as exc:
        return await forbidden(request, state, Page(request, ("en",)), exc)


async def view_election_page(
    build: ElectionPage, request: Request, state: AppState, election_id: str
) -> Response:
    """A signed-in CEC member's GET of one election's page (else the sign-in page)."""
    page = Page(request, cec_languages(state, election_id))
    got = await signed_in(request, state, VIEW_ENDPOINT, page)
    if isinstance(got, Response):
        return got
    return await render_election_page(build, request, state, election_id, got)


async def _overview_or_missing(request: Request, state: AppState, election_id: str, session: StaffSession,
                               status: int = 200, **outcome: Any) -> Response:
    return await render_election_page(_overview, request, state, election_id, session, status, **outcome)


@router.get("/console/cec/{election_id}")
async def cec_election(election_id: str, request: Request, state: StateDep) -> Response:
    """An election's overview: phase and next actions, ceremony, jobs, roll import, record."""
    return await view_election_page(_overview, request, state, election_id)


@router.post("/console/cec/{election_id}/phase")
async def cec_phase(election_id: str, request: Request, state: StateDep) -> Response:
    """Open or close voting; the first POST shows a confirmation, the confirmed one calls the API."""
    page = Page(request, cec_languages(state, election_id))
    form = await request.form()
    action = str(form.get("action", ""))
    endpoint, call = {"open": ("open_election", open_election),
                      "close": ("close_election", close_election)}.get(action, ("open_election", None))
    got = await form_post(request, state, endpoint, page, _election_url(election_id))
    if isinstance(got, Response):
        return got
    session, _ = got
    if call is None:
        return await _overview_or_missing(request, state, election_id, session, 422,
                                          error=f"field 'action': {action!r} is not open or close")
    if form.get("confirm") != "yes":
        e = await run_in_threadpool(get_election_endpoint, election_id, state, session.caller)
        return console_page(page, "console_cec_confirm.html", session=session, eid=election_id,
                            action=action, election_name=text_in(e["manifest"]["name"], page.lang))
    try:
        await run_in_threadpool(call, election_id, state, session.caller)
    except REFUSALS as exc:
        return await _overview_or_missing(request, state, election_id, session, status_for(exc),
                                          error=error_message(exc))
    return RedirectResponse(_election_url(election_id, f"?done={action}&lang={page.lang}"), status_code=303)


@router.post("/console/cec/{election_id}/jobs")
async def cec_start_job(election_id: str, request: Request, state: StateDep) -> Response:
    """Start the tally or the decryption job (the API's ``start_tally`` / ``start_decryption``)."""
    page = Page(request, cec_languages(state, election_id))
    form = await request.form()
    kind = str(form.get("kind", ""))
    endpoint, call = {"tally": ("start_tally", start_tally),
                      "decrypt": ("start_decryption", start_decryption)}.get(kind, ("start_tally", None))
    got = await form_post(request, state, endpoint, page, _election_url(election_id))
    if isinstance(got, Response):
        return got
    session, _ = got
    try:
        if call is None:
            raise ValueError(f"field 'kind': {kind!r} is not tally or decrypt")
        job = await run_in_threadpool(call, election_id, state, session.caller)
    except REFUSALS as exc:
        return await _overview_or_missing(request, state, election_id, session, status_for(exc),
                                          error=error_message(exc))
    return RedirectResponse(_election_url(election_id, f"/jobs/{quote(job['id'])}?lang={page.lang}"),
                            status_code=303)


@router.post("/console/cec/{election_id}/jobs/{job_id}/resume")
async def cec_resume_job(election_id: str, job_id: str, request: Request, state: StateDep) -> Response:
    """Queue a failed or stalled job again (``POST /jobs/{id}/resume``): it continues from its checkpoint."""
    page = Page(request, cec_languages(state, election_id))
    back = _election_url(election_id, f"/jobs/{quote(job_id)}")
    got = await form_post(request, state, "resume_job", page, back)
    if isinstance(got, Response):
        return got
    session, _ = got
    try:
        await run_in_threadpool(resume_job_endpoint, job_id, state, session.caller)
    except REFUSALS as exc:
        return await _job_page(request, state, election_id, job_id, session, status_for(exc),
                               error=error_message(exc))
    return RedirectResponse(f"{back}?lang={page.lang}", status_code=303)


async def _job_page(request: Request, state: AppState, election_id: str, job_id: str, session: StaffSession,
                    status: int = 200, **outcome: Any) -> Response:
    page = Page(request, cec_languages(state, election_id))
    try:
        job = await run_in_threadpool(get_job, job_id, state, session.caller)
        if job["election_id"] != election_id:
            raise NotFound(f"job {job_id!r} is not a job of election {election_id!r}")
    except NotFound as exc:
        return await forbidden(request, state, page, exc)
    running = job["state"] in ("pending", "running")
    return console_page(page, "console_cec_job.html", status, session=session, eid=election_id, job=job,
                        running=running, rejected=rejected_rows(job) if job["kind"] == "import_roll" else [],
                        **outcome)


@router.get("/console/cec/{election_id}/jobs/{job_id}")
async def cec_job(election_id: str, job_id: str, request: Request, state: StateDep) -> Response:
    """A job's progress (the page reloads itself while it runs), failure and result."""
    page = Page(request, cec_languages(state, election_id))
    got = await signed_in(request, state, VIEW_ENDPOINT, page)
    if isinstance(got, Response):
        return got
    return await _job_page(request, state, election_id, job_id, got)


@router.post("/console/cec/{election_id}/roll")
async def cec_roll(election_id: str, request: Request, state: StateDep) -> Response:
    """Upload a voter-roll CSV (multipart form): imported by a background job, its page shows progress."""
    page = Page(request, cec_languages(state, election_id))
    got = await form_post(request, state, "import_roll", page, _election_url(election_id))
    if isinstance(got, Response):
        return got
    session, form = got
    upload = form.get("roll")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValueError("field 'roll': choose the voter-roll CSV file to upload")
        try:
            body = await upload.read()
        finally:
            await upload.close()
        if not body.strip():
            raise ValueError(f"field 'roll': the file {upload.filename!r} is empty")
        reply = await run_in_threadpool(import_voter_roll, election_id, state, session.caller, body,
                                        form.get("accept_partial") == "yes", True)
    except REFUSALS as exc:
        return await _overview_or_missing(request, state, election_id, session, status_for(exc),
                                          roll_error=error_message(exc))
    job = json.loads(bytes(reply.body))
    return RedirectResponse(_election_url(election_id, f"/jobs/{quote(job['id'])}?lang={page.lang}"),
                            status_code=303)


@router.get("/console/cec/{election_id}/stations")
async def cec_stations(election_id: str, request: Request, state: StateDep) -> Response:
    """The station-reporting dashboard: turnout and protocols per station, sortable, by region too.

    Each station's forensic flags too; ``?flag=`` (one of them, or ``any``) shows the stations flagged.
    """
    page = Page(request, cec_languages(state, election_id))
    got = await signed_in(request, state, VIEW_ENDPOINT, page)
    if isinstance(got, Response):
        return got
    sort = request.query_params.get("sort", "station")
    sort = sort if sort in SORT_KEYS else "station"
    order = "desc" if request.query_params.get("order") == "desc" else "asc"
    flag = request.query_params.get("flag", "")
    flag = flag if flag in (*FLAGS, "any") else ""
    try:
        reports = await run_in_threadpool(station_reports, state, got.caller, election_id, page.lang)
        e = await run_in_threadpool(get_election_endpoint, election_id, state, got.caller)
        flags = await run_in_threadpool(forensic_flags, state, election_id)
    except NotFound as exc:
        return await forbidden(request, state, page, exc)
    for r in reports:
        r.flags = flags.by_station.get(r.station, [])
    n = len(reports)
    totals = {
        "stations": n,
        "turnout": sum(r.turnout_reports > 0 for r in reports),
        "protocols": sum(r.protocol_versions > 0 for r in reports),
        "differs": sum(r.status in ("differs", "impossible") for r in reports),
    }
    regions = region_summary(reports)
    shown = [r for r in reports if not flag or (r.flags and (flag == "any" or flag in r.flags))]
    return console_page(
        page, "console_cec_stations.html", session=got, eid=election_id,
        election_name=text_in(e["manifest"]["name"], page.lang), reports=sort_reports(shown, sort, order),
        regions=regions, totals=totals, sort=sort, order=order, sort_keys=SORT_KEYS,
        map=_reporting_map(page, regions), forensics=flags, flag=flag, flag_names=FLAGS,
    )


WARNING_COLOUR = "#b3261e"
"""A region where a protocol differs from the station's records."""


def _reporting_map(page: Page, regions: list[dict[str, Any]]) -> Any:
    """The public results page's tile map: one tile per region, darker as more stations sent a protocol."""
    tiles = [
        Tile(g["name"][:10], page.gettext(
            "%(region)s: %(sent)s of %(stations)s stations sent a protocol, %(differs)s differ",
            region=g["name"], sent=page.number(g["protocols"]), stations=page.number(g["stations"]),
            differs=page.number(g["differs"])),
            WARNING_COLOUR if g["differs"] else PALETTE[0], 0.15 + 0.85 * g["share"])
        for g in regions
    ]
    return tile_map(tiles, page.gettext("Map of regions by protocols received"), page.gettext(
        "One tile per region, darker as more of its stations have sent a protocol; red where a protocol "
        "differs from the station's records. The table by region gives the same figures."), "reporting-map")
