"""The polling-station commission's console: check voters in, enter turnout, enter the signed protocol.

``GET /elections/{id}/stations/{station}/console`` and its three forms. Every form POST carries the
session's CSRF token and goes to the API's own endpoint function (``routes_stations.check_in``,
``submit_turnout``, ``submit_protocol``) with the caller ``authorize`` resolved for that endpoint, so the
console refuses exactly what the API refuses, with the API's message (a voter who already checked in
anywhere, a control relation that fails, naming the numbers). The protocol is signed in the browser
(``static/console/protocol.js``, @noble/curves' Ed25519) with the commission's key, which never reaches
the server; the form sends only the signed protocol. The key is kept in the passphrase-protected file
``saylau protocol keygen`` writes (``saylau-secret/1``, ``static/console/secret_file.js``), at the command
line's scrypt cost. The check-in field is the election's voter identifier (``web/voter_id_field.py``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import FormData

from saylau.api.auth import StateDep
from saylau.api.common import bound_station, get_election, voter_id_spec
from saylau.api.errors import status_for
from saylau.api.routes_stations import CheckInIn, TurnoutIn, check_in, submit_protocol, submit_turnout
from saylau.api.state import AppState
from saylau.crypto.keyfile import MIN_NEW_PASSPHRASE, default_log_n
from saylau.election.manifest import LocalizedText
from saylau.election.protocols import (
    RECONCILIATION,
    RELATIONS,
    ProtocolFigures,
    SignedProtocol,
    check_protocol,
    reconcile,
)
from saylau.election.rules import ElectoralRules
from saylau.errors import AccessDenied
from saylau.store.models import ProtocolRow, Station, TurnoutRow
from saylau.store.pollbook_store import station_facts
from saylau.web.booth import _json_script
from saylau.web.console import (
    REFUSALS,
    console_page,
    election_languages,
    error_message,
    forbidden,
    to_login,
)
from saylau.web.console_messages import relation_labels, script_messages
from saylau.web.console_session import NotSignedIn, StaffSession, check_csrf, staff
from saylau.web.pages import PHASES
from saylau.web.rendering import Page
from saylau.web.voter_id_field import voter_id_field

__all__ = ["FIGURES", "router"]

router = APIRouter(include_in_schema=False)

FIGURES = (
    "registered", "ballots_received", "ballots_issued", "ballots_unused", "ballots_spoiled",
    "ballots_in_boxes", "valid", "invalid",
)
"""The protocol's scalar figures, in the order of the paper form."""


def _text(value: dict[str, str], lang: str) -> str:
    text = LocalizedText(value)
    return text.get(lang) if lang in text.root else text.get(text.languages[0])


def _station(manifest: dict[str, Any], station_id: str) -> dict[str, Any] | None:
    for r in manifest["regions"]:
        for d in r["districts"]:
            for s in d["stations"]:
                if s["station_id"] == station_id:
                    return dict(s)
    return None


def report_times(manifest: dict[str, Any], zone: str) -> list[tuple[str, str]]:
    """The reporting hours (the rules' local report times and the close) as (label, ISO time with offset)."""
    day = date.fromisoformat(manifest["election_date"])
    close = datetime.fromisoformat(manifest["voting_closes"]).strftime("%H:%M")
    default = ElectoralRules.model_fields["turnout_reports_local"].get_default(call_default_factory=True)
    clocks = sorted({*default, close})
    out = []
    for clock in clocks:
        h, m = (int(x) for x in clock.split(":"))
        at = datetime(day.year, day.month, day.day, h, m, tzinfo=ZoneInfo(zone))
        out.append((clock, at.isoformat()))
    return out


def _view(state: AppState, election_id: str, station_id: str, lang: str) -> dict[str, Any]:
    """What the console shows of the station (raises ``NotFound`` for an unknown election)."""
    with state.reading() as session:
        e = get_election(session, election_id)
        manifest, phase = e.manifest, e.phase
        facts = station_facts(session, election_id, [station_id]).get(station_id)
        row = session.get(Station, (election_id, station_id))
        registered_key = None if row is None else row.public_key
        spec = voter_id_spec(e)
        turnout = [
            (r.at, r.voted)
            for r in session.scalars(
                select(TurnoutRow)
                .where(TurnoutRow.election_id == election_id, TurnoutRow.station_id == station_id)
                .order_by(TurnoutRow.at)
            )
        ]
        versions = [
            SignedProtocol.model_validate(r.body)
            for r in session.scalars(
                select(ProtocolRow)
                .where(ProtocolRow.election_id == election_id, ProtocolRow.station_id == station_id)
                .order_by(ProtocolRow.version)
            )
        ]
    station = _station(manifest, station_id) or {"station_id": station_id, "name": {"en": station_id},
                                                   "time_zone": "UTC"}
    options = [
        {"id": s["selection_id"], "name": _text(s["name"], lang)}
        for c in manifest["contests"]
        for s in c["selections"]
    ]
    return {
        "manifest": manifest,
        "phase": phase,
        "election_name": _text(manifest["name"], lang),
        "station_name": _text(station["name"], lang),
        "zone": station["time_zone"],
        "registered": None if facts is None else facts.registered,
        "checked_in": None if facts is None else facts.checked_in,
        "turnout": turnout,
        "versions": versions,
        "options": options,
        "report_times": report_times(manifest, station["time_zone"]),
        "registered_key": registered_key,
        "voter_id_spec": spec,
    }


def _render(
    request: Request, state: AppState, election_id: str, station_id: str, session: StaffSession,
    status: int = 200, **outcome: Any,
) -> Response:
    page = Page(request, election_languages(state, election_id))
    view = _view(state, election_id, station_id, page.lang)
    versions: list[SignedProtocol] = view["versions"]
    latest = versions[-1] if versions else None
    data = {
        "election_id": election_id,
        "station_id": station_id,
        "options": [o["id"] for o in view["options"]],
        "registered": view["registered"],
        "checked_in": view["checked_in"],
        "version": len(versions) + 1,
        "supersedes": None if latest is None else latest.protocol_hash(),
        "registered_key": view["registered_key"],
        "relations": relation_labels(page),
        "messages": script_messages(page),
        # new key files cost what the command line's cost (saylau protocol keygen), passphrases likewise
        "scrypt_log_n": default_log_n(),
        "min_passphrase": MIN_NEW_PASSPHRASE,
    }
    figures = outcome.pop("figures", None) or (
        latest.figures.model_dump() if latest is not None else {}
    )
    return console_page(
        page, "console_station.html", status, session=session, election_id=election_id,
        station_id=station_id, figures_order=FIGURES, figures=figures,
        console_data=_json_script(data), latest=latest,
        relations=RELATIONS + RECONCILIATION[:2], relation_labels=data["relations"],
        voter_id=voter_id_field(page, view["voter_id_spec"]), min_passphrase=MIN_NEW_PASSPHRASE,
        **{k: v for k, v in view.items() if k not in ("manifest", "phase", "voter_id_spec")},
        phase=page.gettext(PHASES.get(view["phase"], view["phase"])), **outcome,
    )


async def _session(request: Request, state: AppState, election_id: str, station_id: str,
                   endpoint: str) -> StaffSession:
    """The commission's session for ``endpoint`` at its own station (``AccessDenied`` otherwise)."""
    session = await staff(request, state, endpoint)
    bound_station(session.caller, election_id, station_id)
    return session


@router.get("/elections/{election_id}/stations/{station_id}/console")
async def station_console(election_id: str, station_id: str, request: Request, state: StateDep) -> Response:
    """The commission's console for its station."""
    try:
        session = await _session(request, state, election_id, station_id, "check_in")
    except NotSignedIn:
        return to_login(request)
    except AccessDenied as exc:
        return await forbidden(request, state, Page(request, election_languages(state, election_id)), exc)
    try:
        return await run_in_threadpool(_render, request, state, election_id, station_id, session)
    except REFUSALS as exc:
        return await forbidden(request, state, Page(request, ("en",)), exc)


async def _form_post(
    request: Request, state: AppState, election_id: str, station_id: str, endpoint: str,
) -> tuple[StaffSession, FormData] | Response:
    """The signed-in commission and its form, or the page that refuses the POST."""
    form = await request.form()
    try:
        session = await _session(request, state, election_id, station_id, endpoint)
        check_csrf(request, session, form)
    except NotSignedIn:  # signed out (or expired) meanwhile: back to the console page, not to this POST
        return to_login(request, f"/elections/{quote(election_id)}/stations/{quote(station_id)}/console")
    except AccessDenied as exc:
        return await forbidden(request, state, Page(request, election_languages(state, election_id)), exc)
    return session, form


@router.post("/elections/{election_id}/stations/{station_id}/console/checkin")
async def console_check_in(election_id: str, station_id: str, request: Request, state: StateDep) -> Response:
    """Check a voter in by the pollbook (``routes_stations.check_in``); show the one-time credential."""
    got = await _form_post(request, state, election_id, station_id, "check_in")
    if isinstance(got, Response):
        return got
    session, form = got
    voter = str(form.get("voter", "")).strip()
    try:
        body = CheckInIn(voter_id=voter)
        reply = await run_in_threadpool(check_in, election_id, station_id, body, state, session.caller, None)
    except REFUSALS as exc:
        return await run_in_threadpool(
            _render, request, state, election_id, station_id, session, _status(exc),
            checkin_error=error_message(exc), voter=voter)
    credential = json.loads(bytes(reply.body))["credential"]
    return await run_in_threadpool(
        _render, request, state, election_id, station_id, session, 201,
        checked_in_voter=voter[-4:], credential=credential)


@router.post("/elections/{election_id}/stations/{station_id}/console/turnout")
async def console_turnout(election_id: str, station_id: str, request: Request, state: StateDep) -> Response:
    """Enter a turnout figure at one of the reporting hours (``routes_stations.submit_turnout``)."""
    got = await _form_post(request, state, election_id, station_id, "submit_turnout")
    if isinstance(got, Response):
        return got
    session, form = got
    at, voted = str(form.get("at", "")), str(form.get("voted", "")).strip()
    try:
        view = await run_in_threadpool(_view, state, election_id, station_id, "en")
        if at not in {iso for _, iso in view["report_times"]}:
            raise ValueError(f"field 'at': {at!r} is not one of the station's reporting hours")
        if not voted.isdigit():
            raise ValueError(f"field 'voted': {voted!r} is not a whole number of voters")
        body = TurnoutIn(at=at, voted=int(voted))
        await run_in_threadpool(submit_turnout, election_id, station_id, body, state, session.caller, None)
    except REFUSALS as exc:
        return await run_in_threadpool(
            _render, request, state, election_id, station_id, session, _status(exc),
            turnout_error=error_message(exc))
    return await run_in_threadpool(
        _render, request, state, election_id, station_id, session, 201,
        turnout_saved=(next(label for label, iso in view["report_times"] if iso == at), int(voted)))


@router.post("/elections/{election_id}/stations/{station_id}/console/protocol")
async def console_protocol(election_id: str, station_id: str, request: Request, state: StateDep) -> Response:
    """Submit the protocol the browser signed (``routes_stations.submit_protocol`` checks everything)."""
    got = await _form_post(request, state, election_id, station_id, "submit_protocol")
    if isinstance(got, Response):
        return got
    session, form = got
    signed = str(form.get("signed", ""))
    figures: dict[str, Any] | None = None
    try:
        if not signed.strip():  # no script ran: the server checks the typed figures, nothing is stored
            typed = _typed_figures(form, station_id)
            figures = typed
            await run_in_threadpool(_check_unsigned, state, election_id, station_id, typed)
            return await run_in_threadpool(
                _render, request, state, election_id, station_id, session, 200,
                protocol_checked=True, figures=figures)
        body = SignedProtocol.model_validate_json(signed)
        figures = body.figures.model_dump()
        reply = await run_in_threadpool(
            submit_protocol, election_id, station_id, body, state, session.caller, None)
    except REFUSALS as exc:
        return await run_in_threadpool(
            _render, request, state, election_id, station_id, session, _status(exc),
            protocol_error=error_message(exc), figures=figures)
    accepted = json.loads(bytes(reply.body))
    return await run_in_threadpool(
        _render, request, state, election_id, station_id, session, 201, protocol_accepted=accepted)


def _typed_figures(form: FormData, station_id: str) -> dict[str, Any]:
    """The figures of the form's fields ``f_<figure>`` and ``v_<option>`` (a non-number is named)."""

    def number(field: str) -> int:
        raw = str(form.get(field, "")).strip()
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"field '{field}': {raw!r} is not a whole number") from None

    votes = {str(k)[2:]: number(str(k)) for k in form if str(k).startswith("v_")}
    return {"station": station_id, **{f: number(f"f_{f}") for f in FIGURES}, "votes": votes}


def _check_unsigned(state: AppState, election_id: str, station_id: str, figures: dict[str, Any]) -> None:
    """Every control relation ``submit_protocol`` checks, on figures not yet signed (raises naming one)."""
    with state.reading() as session:
        e = get_election(session, election_id)
        options = [s["selection_id"] for c in e.manifest["contests"] for s in c["selections"]]
        facts = station_facts(session, election_id, [station_id]).get(station_id)
    p = ProtocolFigures.model_validate(figures)
    check_protocol(p, options)
    if facts is not None:
        reconcile(p, facts)


def _status(exc: BaseException) -> int:
    return status_for(exc)
