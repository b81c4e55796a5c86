"""The staff consoles' sign-in, sign-out and home page, and how a console answers a refusal.

``GET/POST /console/login`` signs a staff member in through the API's own login (argon2, throttle) and
keeps the token in the session cookie (``console_session``); ``POST /console/logout`` ends the token;
``GET /console`` says who is signed in and links to their console. A console page for another role
answers 403 with a page that says so (``forbidden``). See docs/web.md, "Consoles".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from saylau.api.auth import StateDep, _public
from saylau.api.common import get_election
from saylau.api.errors import NotFound, clip, status_for
from saylau.api.routes_admin import LoginIn, login
from saylau.errors import AccessDenied, SaylauError
from saylau.store.accounts import expire_token
from saylau.store.idempotency import IdempotencyConflict
from saylau.store.models import Election
from saylau.web.console_session import (
    LOGIN_CSRF_COOKIE,
    NotSignedIn,
    StaffSession,
    check_csrf,
    check_login_csrf,
    clear_session,
    new_login_csrf,
    session_token,
    set_login_csrf,
    set_session,
    staff,
)
from saylau.web.rendering import Page

__all__ = [
    "console_page",
    "election_languages",
    "election_staff",
    "error_message",
    "forbidden",
    "home_for",
    "router",
    "staff_languages",
    "to_login",
]

router = APIRouter(include_in_schema=False)

CONSOLE_PATHS = {"observer": "observer", "pollster": "pollster", "guardian": "guardian"}
"""Role → the path of its console under ``/elections/{id}/`` (a station's is under its station)."""

REFUSALS = (SaylauError, NotFound, ValueError, IdempotencyConflict)
"""What an API function raises for a request it refuses (the API's error handlers map the same)."""


def error_message(exc: BaseException) -> str:
    """The refusal as the API words it (a validation error: each field and its problem)."""
    if isinstance(exc, ValidationError):
        parts = [f"field '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()]
        return clip("; ".join(parts))
    return clip(str(exc.args[0]) if exc.args else type(exc).__name__)


def staff_languages(request: Request, state: Any) -> tuple[str, ...]:
    """The languages of every election on the server (the sign-in page belongs to none)."""
    with state.reading() as session:
        names = [m["name"] for m in session.scalars(select(Election.manifest).order_by(Election.id))]
    out: list[str] = []
    for name in names:
        out += [lang for lang in name if lang not in out]
    return tuple(out) or ("en",)


def election_languages(state: Any, election_id: str) -> tuple[str, ...]:
    """An election's languages (those of its name); English for an election that does not exist."""
    with state.reading() as session:
        try:
            return tuple(get_election(session, election_id).manifest["name"])
        except REFUSALS:
            return ("en",)


async def election_staff(
    request: Request, state: Any, election_id: str, endpoint: str, back_to: str
) -> StaffSession | Response:
    """The signed-in caller if its role may call ``endpoint``; else the answer: sign-in, or the 403 page."""
    try:
        return await staff(request, state, endpoint)
    except NotSignedIn:
        return to_login(request, back_to)
    except AccessDenied as exc:
        return await forbidden(request, state, Page(request, election_languages(state, election_id)), exc)


def console_page(page: Page, template: str, status: int = 200, **context: Any) -> Response:
    """A console page: never cached or stored (it shows one staff member's work)."""
    response = page.render(template, **context)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if "etag" in response.headers:
        del response.headers["etag"]
    return response


def to_login(request: Request, back_to: str | None = None) -> Response:
    """Send the browser to the sign-in page, back to ``back_to`` (default: this page) afterwards."""
    target = back_to or request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?next={quote(target, safe='')}", status_code=303)


async def forbidden(request: Request, state: Any, page: Page, exc: BaseException) -> Response:
    """The 403 page: what was refused, who is signed in (with the sign-out button)."""
    session: StaffSession | None
    try:
        session = await staff(request, state, "me")
    except (NotSignedIn, AccessDenied):
        session = None
    return console_page(page, "console_forbidden.html", 403, detail=error_message(exc), session=session)


def home_for(role: str, election_id: str | None, station_id: str | None) -> str:
    """The console a signed-in staff member starts on."""
    if role == "station" and election_id and station_id:
        return f"/elections/{quote(election_id)}/stations/{quote(station_id)}/console"
    if role == "cec":
        return "/console/cec"
    if role in CONSOLE_PATHS and election_id:
        return f"/elections/{quote(election_id)}/{CONSOLE_PATHS[role]}"
    return "/console"


def _safe_next(target: str | None) -> str | None:
    """A same-site path to go back to (never another site: ``//host`` or a scheme is refused)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _login_form(request: Request, page: Page, status: int = 200, **context: Any) -> Response:
    token = new_login_csrf()
    response = console_page(page, "console_login.html", status, csrf=token,
                            next=_safe_next(request.query_params.get("next")), **context)
    set_login_csrf(request, response, token)
    return response


@router.get("/console/login")
def login_page(request: Request, state: StateDep) -> Response:
    """The sign-in form (username and password)."""
    return _login_form(request, Page(request, staff_languages(request, state)))


@router.post("/console/login")
async def login_submit(request: Request, state: StateDep) -> Response:
    """Sign in through the API's login; the token goes into the session cookie."""
    page = Page(request, staff_languages(request, state))
    form = await request.form()
    try:
        check_login_csrf(request, form)
    except AccessDenied as exc:
        return _login_form(request, page, 403, error=error_message(exc))
    username = str(form.get("username", ""))
    try:
        body = LoginIn(username=username, password=str(form.get("password", "")))
        granted = await run_in_threadpool(login, body, request, state, _public())
    except REFUSALS as exc:
        return _login_form(request, page, status_for(exc), error=error_message(exc), username=username)
    token = granted["token"]
    target = _safe_next(str(form.get("next", ""))) or home_for(
        granted["role"], granted["election_id"], granted["station_id"])
    response = RedirectResponse(target, status_code=303)
    set_session(request, response, token, int(state.settings.token_ttl.total_seconds()))
    return response


@router.post("/console/logout")
async def logout(request: Request, state: StateDep) -> Response:
    """Sign out: the token ends on the server and the cookie is dropped."""
    page = Page(request, staff_languages(request, state))
    form = await request.form()
    try:
        session = await staff(request, state, "me")
        check_csrf(request, session, form)
    except NotSignedIn:
        return RedirectResponse("/console/login", status_code=303)
    except AccessDenied as exc:
        return await forbidden(request, state, page, exc)
    token = session_token(request)
    assert token is not None

    def end() -> None:
        with state.transaction() as s:
            state.tokens.forget(expire_token(s, token))

    await run_in_threadpool(end)
    response = RedirectResponse("/console/login?signed_out=1", status_code=303)
    clear_session(request, response)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.get("/console")
async def console_home(request: Request, state: StateDep) -> Response:
    """Who is signed in, and the way to their console."""
    page = Page(request, staff_languages(request, state))
    try:
        session = await staff(request, state, "me")
    except NotSignedIn:
        return to_login(request)
    except AccessDenied as exc:  # a voter's credential is no staff session
        return await forbidden(request, state, page, exc)
    c = session.caller
    target = home_for(c.role, c.election_id, c.station_id)
    return console_page(page, "console_home.html", session=session,
                        console_url=None if target == "/console" else target)
