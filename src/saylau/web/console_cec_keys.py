"""The CEC console's station keys: which stations' commissions have a registered Ed25519 protocol key.

``GET /console/cec/{id}/keys`` lists the API's ``list_stations`` (each station and its key, if any);
the form calls ``register_station_key`` (``POST .../stations/{station}/key``) with the public key the
commission's ``saylau protocol keygen`` printed (or its browser made). The key is published on the
board; a station keeps its first key: the server refuses a different one (409), as the verifier does,
so a lost private key cannot be replaced silently (``docs/web.md``, "Consoles").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from saylau.api.auth import StateDep
from saylau.api.errors import status_for
from saylau.api.routes_admin import get_election_endpoint
from saylau.api.routes_stations import StationKeyIn, list_stations, register_station_key
from saylau.api.state import AppState
from saylau.web.console import REFUSALS, console_page, error_message
from saylau.web.console_cec import cec_languages, form_post, render_election_page, view_election_page
from saylau.web.console_cec_data import text_in
from saylau.web.console_session import StaffSession
from saylau.web.rendering import Page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _page(request: Request, state: AppState, election_id: str, session: StaffSession, status: int = 200,
          **outcome: Any) -> Response:
    page = Page(request, cec_languages(state, election_id))
    e = get_election_endpoint(election_id, state, session.caller)
    names = {s["station_id"]: text_in(s["name"], page.lang) for r in e["manifest"]["regions"]
             for d in r["districts"] for s in d["stations"]}
    regions = {r["region_id"]: text_in(r["name"], page.lang) for r in e["manifest"]["regions"]}
    stations = [{**s, "name": names.get(s["station_id"], s["name"]),
                 "region_name": regions.get(s["region"], s["region"])}
                for s in list_stations(election_id, state, session.caller)]
    missing = request.query_params.get("missing") == "1"
    return console_page(
        page, "console_cec_keys.html", status, session=session, eid=election_id,
        election_name=text_in(e["manifest"]["name"], page.lang), missing=missing,
        stations=[s for s in stations if not (missing and s["public_key"])],
        registered=sum(s["public_key"] is not None for s in stations), total=len(stations),
        without_key=[s["station_id"] for s in stations if s["public_key"] is None], **outcome)


async def _render(request: Request, state: AppState, election_id: str, session: StaffSession,
                  status: int = 200, **outcome: Any) -> Response:
    return await render_election_page(_page, request, state, election_id, session, status, **outcome)


@router.get("/console/cec/{election_id}/keys")
async def cec_keys(election_id: str, request: Request, state: StateDep) -> Response:
    """Every station with its protocol key (or none yet), and the form that registers one."""
    return await view_election_page(_page, request, state, election_id)


@router.post("/console/cec/{election_id}/keys")
async def cec_register_key(election_id: str, request: Request, state: StateDep) -> Response:
    """Register a station commission's public key through the API's ``register_station_key``."""
    page = Page(request, cec_languages(state, election_id))
    back = f"/console/cec/{quote(election_id)}/keys"
    got = await form_post(request, state, "register_station_key", page, back)
    if isinstance(got, Response):
        return got
    session, form = got
    station = str(form.get("station_id", "")).strip()
    key = "".join(str(form.get("public_key", "")).split()).lower()  # as printed, maybe wrapped or in capitals
    try:
        if not station:
            raise ValueError("field 'station_id': name the station whose key this is")
        await run_in_threadpool(register_station_key, election_id, station, StationKeyIn(public_key=key),
                                state, session.caller)
    except (*REFUSALS, ValidationError) as exc:
        return await _render(request, state, election_id, session, status_for(exc), error=error_message(exc),
                             typed={"station_id": station, "public_key": key})
    return RedirectResponse(f"{back}?registered={quote(station)}&lang={page.lang}#k-{quote(station)}",
                            status_code=303)
