"""The CEC console's "new election": a scenario, optionally some of its stations, the key ceremony's size.

``GET /console/cec/new`` is the form; its POST shows a preview (options, stations, rules, voter
identifier) built by ``saylau.election.election_request`` — the request ``saylau manifest SCENARIO
--guardians N --quorum K`` writes — and the confirmed POST calls the API's own ``create_election`` with
it, so the console refuses what the API refuses (a quorum above the guardians, an election already
defined) with its message. Only the scenarios found by name are offered (``scenario_names``); a path is
never taken from a form.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from saylau.api.auth import StateDep
from saylau.api.errors import status_for
from saylau.api.routes_admin import ElectionIn, create_election
from saylau.election.election_request import election_request, scenario_names
from saylau.election.scenario import load_scenario
from saylau.web.console import REFUSALS, console_page, error_message, staff_languages
from saylau.web.console_cec import form_post, signed_in
from saylau.web.console_cec_data import text_in
from saylau.web.console_session import StaffSession
from saylau.web.public_decision import rule_facts
from saylau.web.rendering import Page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

ENDPOINT = "create_election"
MAX_LISTED = 200
"""Stations named one by one in the preview (beyond that, their count and regions only)."""


def _choices(form: FormData | None) -> dict[str, str]:
    """What the CEC chose, as typed (the form is shown again with it)."""
    get = (lambda k, d: str(form.get(k, d)).strip()) if form is not None else (lambda k, d: d)
    names = scenario_names()
    return {"scenario": get("scenario", names[0] if names else ""), "stations": get("stations", ""),
            "guardians": get("guardians", "3"), "quorum": get("quorum", "2")}


def _number(value: str, field: str) -> int:
    if not re.fullmatch(r"\d{1,4}", value):
        raise ValueError(f"field '{field}': {value!r} is not a whole number")
    return int(value)


def _request(chosen: dict[str, str]) -> tuple[Any, dict[str, Any], list[str]]:
    """(the scenario, the ``POST /elections`` body, the stations named) for the form's choices."""
    if chosen["scenario"] not in scenario_names():
        known = ", ".join(scenario_names())
        raise ValueError(f"field 'scenario': {chosen['scenario']!r} is not one of {known}")
    wanted = [s for s in re.split(r"[\s,;]+", chosen["stations"]) if s]
    sc = load_scenario(chosen["scenario"])
    guardians, quorum = _number(chosen["guardians"], "guardians"), _number(chosen["quorum"], "quorum")
    body = election_request(sc, guardians, quorum, wanted or None)
    ElectionIn.model_validate(body)  # the API's own model: ranges and every nested field, named
    return sc, body, wanted


def _preview(page: Page, sc: Any, body: dict[str, Any]) -> dict[str, Any]:
    m = body["manifest"]
    stations = [(s["station_id"], text_in(s["name"], page.lang), text_in(r["name"], page.lang))
                for r in m["regions"] for d in r["districts"] for s in d["stations"]]
    contest = m["contests"][0]
    return {
        "election_id": m["election_id"],
        "name": text_in(m["name"], page.lang),
        "date": m["election_date"],
        "opens": m["voting_opens"],
        "closes": m["voting_closes"],
        "languages": list(m["name"]),
        "options": [(text_in(s["name"], page.lang),
                     text_in(s["nominated_by"], page.lang) if s.get("nominated_by") else "", s["kind"])
                    for s in contest["selections"]],
        "stations": len(stations),
        "listed": stations[:MAX_LISTED],
        "regions": len(m["regions"]),
        "districts": sum(len(r["districts"]) for r in m["regions"]),
        "rules": rule_facts(page, body["electoral_rules"]),
        "voter_id": body["voter_id"],
        "candidacy": body.get("candidacy_rules") is not None,
        "registered_at_nomination": body.get("registered_at_nomination"),
        "guardians": body["guardians"],
        "quorum": body["quorum"],
    }


def _form(page: Page, session: StaffSession, chosen: dict[str, str], status: int = 200,
          **outcome: Any) -> Response:
    return console_page(page, "console_cec_new.html", status, session=session, chosen=chosen,
                        scenarios=scenario_names(), **outcome)


@router.get("/console/cec/new")
async def cec_new(request: Request, state: StateDep) -> Response:
    """The form: scenario, stations (empty: all), guardians and quorum."""
    page = Page(request, staff_languages(request, state))
    got = await signed_in(request, state, ENDPOINT, page)
    if isinstance(got, Response):
        return got
    return _form(page, got, _choices(None))


@router.post("/console/cec/new")
async def cec_create(request: Request, state: StateDep) -> Response:
    """Preview the election (first POST), then define it through the API's ``create_election``."""
    page = Page(request, staff_languages(request, state))
    got = await form_post(request, state, ENDPOINT, page, "/console/cec/new")
    if isinstance(got, Response):
        return got
    session, form = got
    chosen = _choices(form)
    try:
        sc, body, _ = await run_in_threadpool(_request, chosen)
    except (*REFUSALS, ValidationError) as exc:
        return _form(page, session, chosen, status_for(exc), error=error_message(exc))
    if form.get("confirm") != "yes":
        return _form(page, session, chosen, preview=_preview(page, sc, body))
    try:
        created = await run_in_threadpool(create_election, ElectionIn.model_validate(body), state,
                                          session.caller, None)
    except (*REFUSALS, ValidationError) as exc:
        return _form(page, session, chosen, status_for(exc), error=error_message(exc))
    eid = str(body["manifest"]["election_id"])
    assert created.status_code == 201
    return RedirectResponse(f"/console/cec/{quote(eid)}?created=1&lang={page.lang}", status_code=303)
