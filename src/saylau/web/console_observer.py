"""The observer's console: the record, its verification, the forensic report, the audit, the board.

The record and its hash, the server's verification, how to verify it oneself, the forensic report of
the station protocols with its plots, the audit's status, and the board's download.

``GET /elections/{id}/observer`` (roles that may call ``start_verification``: observer and CEC). It reads
through the API's own functions: ``verification_status``, ``get_audit``, ``write_server_record`` (the
record hash is the one ``GET /record`` sends in ``Saylau-Record-Hash``), and its one form,
``POST …/observer/verify``, calls ``start_verification`` with the caller ``authorize`` resolved. The
forensic report is ``saylau.web.observer_forensics`` (the ``saylau forensics`` code on the protocols).
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response

from saylau.api.auth import StateDep
from saylau.api.common import get_election
from saylau.api.errors import NotFound
from saylau.api.record_export import write_server_record
from saylau.api.routes_audit import get_audit
from saylau.api.routes_results import start_verification
from saylau.api.state import AppState
from saylau.errors import AccessDenied
from saylau.web import observer_forensics as forensics
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
from saylau.web.public_board import _api, _verification, _verification_view, _zone
from saylau.web.public_results import text
from saylau.web.rendering import Page

__all__ = ["record_hash", "router"]

router = APIRouter(include_in_schema=False)

ENDPOINT = "start_verification"
"""The console is for whoever may start a verification (observer, CEC)."""

_HASH_LOCK = threading.Lock()


def record_hash(state: AppState, election_id: str) -> str | None:
    """The record hash of a decrypted election, else ``None``.

    Written once per election, board head and process: a decrypted election's board ends with its final
    checkpoint and nothing more can be appended, so its record no longer changes.
    """
    with state.reading() as session:
        if get_election(session, election_id).phase != "decrypted":
            return None
        head = state.board(session, election_id).store.head()
    key = (election_id, None if head is None else head.entry_hash)  # and were it to change, recomputed
    with _HASH_LOCK:
        hashes: dict[tuple[str, str | None], str] = vars(state).setdefault("_observer_record_hashes", {})
        if key not in hashes:
            with tempfile.TemporaryDirectory(prefix="saylau-observer-") as tmp:
                hashes[key] = write_server_record(state, election_id, Path(tmp) / "record").hex()
        return hashes[key]


def _audit(state: AppState, election_id: str) -> dict[str, Any] | None:
    try:
        return get_audit(election_id, state, None)  # type: ignore[arg-type]
    except (NotFound, *REFUSALS):
        return None


def _forensics_view(page: Page, state: AppState, election_id: str) -> dict[str, Any]:
    current, latest, stations = forensics.report_for(state, election_id)
    shown = current if current is not None and current.state != "running" else latest
    running = current is not None and current.state == "running"
    out: dict[str, Any] = {"stations": stations, "running": running, "report": None}
    if shown is None:
        return out
    out["stale"] = shown is not current
    out["state"], out["error"] = shown.state, shown.error
    if shown.summary is not None:
        s = shown.summary
        tests = []
        for name, t in s["tests"].items():
            p = t["p_value"]
            if t["skipped"]:
                verdict = "skipped"
            elif not t["calibrated"]:
                verdict = "uncalibrated"
            else:
                verdict = "anomaly" if p is not None and p < s["alpha"] else "none"
            tests.append({"name": name, "statistic": t["statistic"], "p_text": t["p_text"],
                          "skipped": t["skipped"], "verdict": verdict,
                          "description": forensics.DESCRIPTIONS.get(name, "")})
        out["report"] = {
            "stations": page.number(s["stations"]), "winner": s["winner"],
            "winner_share": page.percent(s["winner_share"]), "alpha": s["alpha"], "seed": s["seed"],
            "cleaning": s["cleaning"], "tests": tests, "anomalies": s["anomalies"],
            "images": [f"/elections/{election_id}/observer/forensics/{shown.digest}/{n}"
                       for n in shown.images],
        }
    return out


def _render(request: Request, state: AppState, election_id: str, session: StaffSession,
            status: int = 200, **outcome: Any) -> Response:
    page = Page(request, election_languages(state, election_id))
    with state.reading() as s:
        e = get_election(s, election_id)
        manifest, phase = e.manifest, e.phase
        header = state.board(s, election_id).header()
    zone = _zone(manifest)
    job = _verification(state, election_id)
    verification = _verification_view(page, job, zone)
    rhash = record_hash(state, election_id)
    api = _api(request)
    base = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    commands = [
        f"curl -fo {election_id}-record.tar.gz {base}{api}/elections/{election_id}/record",
        f"tar xzf {election_id}-record.tar.gz",
        f"saylau verify record --expect-hash {rhash or 'HASH'} --board-key {header['public_key']}",
    ]
    return console_page(
        page, "console_observer.html", status, session=session, election_id=election_id,
        election_name=text(manifest["name"], page.lang), phase=page.gettext(PHASES.get(phase, phase)),
        record_ready=phase == "decrypted", record_hash=rhash, verification=verification,
        verification_matches=None if rhash is None or verification is None or not verification["record_hash"]
        else verification["record_hash"] == rhash,
        record_url=f"{api}/elections/{election_id}/record", board_url=f"{api}/elections/{election_id}/board",
        board_key=header["public_key"], commands=commands, audit=_audit(state, election_id),
        forensics=_forensics_view(page, state, election_id), **outcome,
    )


async def _session(request: Request, state: AppState, election_id: str) -> StaffSession | Response:
    return await election_staff(request, state, election_id, ENDPOINT, f"/elections/{election_id}/observer")


@router.get("/elections/{election_id}/observer")
async def observer_console(election_id: str, request: Request, state: StateDep) -> Response:
    """The observer's console of one election."""
    got = await _session(request, state, election_id)
    if isinstance(got, Response):
        return got
    try:
        return await run_in_threadpool(_render, request, state, election_id, got)
    except REFUSALS as exc:
        return await forbidden(request, state, Page(request, ("en",)), exc)


@router.post("/elections/{election_id}/observer/verify")
async def observer_verify(election_id: str, request: Request, state: StateDep) -> Response:
    """Queue a verification job (``routes_results.start_verification``), then show the console."""
    form = await request.form()
    got = await _session(request, state, election_id)
    if isinstance(got, Response):
        return got
    try:
        check_csrf(request, got, form)
    except AccessDenied as exc:
        return await forbidden(request, state, Page(request, election_languages(state, election_id)), exc)
    try:
        job = await run_in_threadpool(start_verification, election_id, state, got.caller)
    except REFUSALS as exc:
        return await run_in_threadpool(_render, request, state, election_id, got, 409,
                                       verify_error=error_message(exc))
    return RedirectResponse(f"/elections/{election_id}/observer?job={job['id']}", status_code=303)


@router.get("/elections/{election_id}/observer/forensics/{digest}/{name}")
async def forensic_plot(
    election_id: str, digest: str, name: str, request: Request, state: StateDep
) -> Response:
    """A PNG of a finished forensic report (its name is the report's own, nothing else is served)."""
    got = await _session(request, state, election_id)
    if isinstance(got, Response):
        return got
    path = forensics.image(state, election_id, digest, name)
    if path is None:
        return Response("no such plot", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
