"""The CEC console's users: every login, and new staff logins with their role and bindings.

``GET /console/cec/users`` lists what the API's ``list_users`` returns (never a password). The form
calls ``create_user_endpoint`` (``POST /users``): the server checks the bindings (a commission's
station, a guardian's index, the election) and the password policy (``saylau.store.passwords``) and
refuses with their message. The CEC types the password, or leaves it empty and the console draws one
(``secrets``) and shows it once, on the answer to the POST, to hand to the new user: it is stored only
as its argon2 hash.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from saylau.api.auth import StateDep
from saylau.api.errors import status_for
from saylau.api.routes_admin import UserIn, create_user_endpoint, list_elections, list_users
from saylau.api.state import AppState
from saylau.store.passwords import check_password
from saylau.web.console import REFUSALS, console_page, error_message, staff_languages
from saylau.web.console_cec import form_post, signed_in
from saylau.web.console_session import StaffSession
from saylau.web.rendering import Page

__all__ = ["ROLES", "drawn_password", "router"]

router = APIRouter(include_in_schema=False)

ROLES = ("station", "guardian", "pollster", "observer", "cec")
"""The roles a login can have, in the form's order (``UserIn.role``)."""

FIELDS = ("username", "role", "election_id", "station_id", "guardian_index", "password")


def drawn_password(username: str) -> str:
    """A random password (120 bits, URL-safe) that passes the policy."""
    while True:
        candidate = secrets.token_urlsafe(15)
        try:
            check_password(candidate, username)
        except ValueError:
            continue  # e.g. fewer than five different characters: vanishingly rare, draw again
        return candidate


def _body(form: FormData) -> tuple[UserIn, bool]:
    """The ``POST /users`` body from the form, and whether the console drew the password."""
    typed = {k: str(form.get(k, "")).strip() for k in FIELDS}
    typed["password"] = str(form.get("password", ""))  # as typed: spaces are allowed in passphrases
    index = typed["guardian_index"]
    if index and not re.fullmatch(r"\d{1,4}", index):
        raise ValueError(f"field 'guardian_index': {index!r} is not a whole number")
    drawn = not typed["password"]
    return UserIn(
        username=typed["username"], role=typed["role"],  # checked by the model (one of ROLES)
        password=drawn_password(typed["username"]) if drawn else typed["password"],
        election_id=typed["election_id"] or None, station_id=typed["station_id"] or None,
        guardian_index=int(index) if index else None,
    ), drawn


def _page(request: Request, state: AppState, session: StaffSession, status: int = 200,
          form: FormData | None = None, **outcome: Any) -> Response:
    page = Page(request, staff_languages(request, state))
    users = list_users(state, session.caller)
    elections = [{"id": e["id"], "name": e["name"]} for e in list_elections(state, session.caller)]
    chosen = {k: str(form.get(k, "")) for k in FIELDS if k != "password"} if form is not None else {}
    return console_page(page, "console_cec_users.html", status, session=session, users=users,
                        elections=elections, roles=ROLES, chosen=chosen, **outcome)


@router.get("/console/cec/users")
async def cec_users(request: Request, state: StateDep) -> Response:
    """Every login with its role and bindings, and the form for a new one."""
    page = Page(request, staff_languages(request, state))
    got = await signed_in(request, state, "list_users", page)
    if isinstance(got, Response):
        return got
    return await run_in_threadpool(_page, request, state, got)


@router.post("/console/cec/users")
async def cec_create_user(request: Request, state: StateDep) -> Response:
    """Create a login through the API's ``POST /users``; a drawn password is shown once."""
    page = Page(request, staff_languages(request, state))
    got = await form_post(request, state, "create_user", page, "/console/cec/users")
    if isinstance(got, Response):
        return got
    session, form = got
    try:
        body, drawn = _body(form)
        await run_in_threadpool(create_user_endpoint, body, state, session.caller, None)
    except (*REFUSALS, ValidationError) as exc:
        return await run_in_threadpool(_page, request, state, session, status_for(exc), form,
                                       error=error_message(exc))
    created = {"username": body.username, "role": body.role, "password": body.password if drawn else None}
    return await run_in_threadpool(_page, request, state, session, 200, None, created=created)
