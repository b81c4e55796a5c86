"""The CEC console's applications: each rule's outcome, decide, hear an appeal.

``GET /console/cec/{id}/applications`` lists what the API's ``list_applications`` returns, shaped as the
public candidates page shapes it (``public_candidates``: each version, every rule's outcome and reason).
The two forms call ``decide_application`` and ``appeal_application``: the server's rules decide from the
stored facts, the commission gives only the date of its sitting (and, for an appeal, who filed it,
when and why). Each decision is published on the board as it is made; the public candidates page shows it.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from saylau.api.auth import StateDep
from saylau.api.errors import status_for
from saylau.api.routes_admin import (
    AppealIn,
    DecideIn,
    appeal_application,
    decide_application,
    get_election_endpoint,
    list_applications,
)
from saylau.api.state import AppState
from saylau.web.console import REFUSALS, console_page, error_message
from saylau.web.console_cec import cec_languages, form_post, render_election_page, view_election_page
from saylau.web.console_cec_data import text_in
from saylau.web.console_session import StaffSession
from saylau.web.public_candidates import _applicant
from saylau.web.rendering import Page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _page(request: Request, state: AppState, election_id: str, session: StaffSession, status: int = 200,
          **outcome: Any) -> Response:
    page = Page(request, cec_languages(state, election_id))
    e = get_election_endpoint(election_id, state, session.caller)
    options = {s["selection_id"]: s for c in e["manifest"]["contests"] for s in c["selections"]}
    applicants = [_applicant(page, a, options) for a in list_applications(election_id, state, session.caller)]
    return console_page(page, "console_cec_applications.html", status, session=session, eid=election_id,
                        election_name=text_in(e["manifest"]["name"], page.lang), applicants=applicants,
                        has_rules=e["candidacy_rules"] is not None, **outcome)


async def _render(request: Request, state: AppState, election_id: str, session: StaffSession,
                  status: int = 200, **outcome: Any) -> Response:
    return await render_election_page(_page, request, state, election_id, session, status, **outcome)


@router.get("/console/cec/{election_id}/applications")
async def cec_applications(election_id: str, request: Request, state: StateDep) -> Response:
    """Every application with each decision version and every rule's outcome."""
    return await view_election_page(_page, request, state, election_id)


def _day(value: Any, field: str) -> date | None:
    raw = str(value or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"field '{field}': {raw!r} is not a date (YYYY-MM-DD)") from None


def _done(election_id: str, applicant_id: str, lang: str) -> Response:
    url = f"/console/cec/{quote(election_id)}/applications?decided={quote(applicant_id)}&lang={lang}"
    return RedirectResponse(f"{url}#a-{quote(applicant_id)}", status_code=303)


@router.post("/console/cec/{election_id}/applications/{applicant_id}/decision")
async def cec_decide(election_id: str, applicant_id: str, request: Request, state: StateDep) -> Response:
    """Decide an application by the rules (``decide_application``)."""
    page = Page(request, cec_languages(state, election_id))
    back = f"/console/cec/{quote(election_id)}/applications"
    got = await form_post(request, state, "decide_application", page, back)
    if isinstance(got, Response):
        return got
    session, form = got
    try:
        body = DecideIn(decided_on=_day(form.get("decided_on"), "decided_on"))
        await run_in_threadpool(decide_application, election_id, applicant_id, body, state, session.caller,
                                None)
    except (*REFUSALS, ValidationError) as exc:
        return await _render(request, state, election_id, session, status_for(exc),
                             error=error_message(exc), error_for=applicant_id)
    return _done(election_id, applicant_id, page.lang)


@router.post("/console/cec/{election_id}/applications/{applicant_id}/appeal")
async def cec_appeal(election_id: str, applicant_id: str, request: Request, state: StateDep) -> Response:
    """Hear an appeal: every rule rerun, a new version (``appeal_application``)."""
    page = Page(request, cec_languages(state, election_id))
    back = f"/console/cec/{quote(election_id)}/applications"
    got = await form_post(request, state, "appeal_application", page, back)
    if isinstance(got, Response):
        return got
    session, form = got
    try:
        filed_on = _day(form.get("filed_on"), "filed_on")
        if filed_on is None:
            raise ValueError("field 'filed_on': the date the appeal was filed is required")
        body = AppealIn(filed_by=str(form.get("filed_by", "")).strip(), filed_on=filed_on,
                        grounds=str(form.get("grounds", "")).strip(),
                        decided_on=_day(form.get("decided_on"), "decided_on"))
        await run_in_threadpool(appeal_application, election_id, applicant_id, body, state, session.caller,
                                None)
    except (*REFUSALS, ValidationError) as exc:
        return await _render(request, state, election_id, session, status_for(exc),
                             error=error_message(exc), error_for=applicant_id)
    return _done(election_id, applicant_id, page.lang)
