"""The bulletin-board browser: paged entries with their signed checkpoints, an entry, tracking codes.

The board page also links the election record's download with its hash, and shows the server's
verification result.

Every figure is the API's: the entries and checkpoints are the rows ``GET /board`` exports, a code's
entries those of ``GET /board/codes/{code}``, the verification the ``GET /verification`` job (called
here as a function), the record hash the one that job computed and ``saylau verify`` prints.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from saylau.api.auth import StateDep
from saylau.api.common import get_election
from saylau.api.errors import NotFound
from saylau.api.routes_results import verification_status
from saylau.board import BoardEntry
from saylau.board.chain import parse_time
from saylau.web import public_board_data as data
from saylau.web.public_results import not_found, text
from saylau.web.rendering import Page

__all__ = ["KINDS", "router"]

router = APIRouter(include_in_schema=False)
_MAX_CODE = 128
_LATEST = 20
"""Checkpoints in the board page's table (the latest); each one also shows beside the entry it covers."""


def N_(message: str) -> str:  # noqa: N802 (gettext's name for a no-op marker)
    """Mark a message for extraction; it is translated where it is shown."""
    return message


KINDS: dict[str, str] = {
    "election": N_("election"),
    "manifest": N_("election manifest"),
    "application": N_("candidate's application"),
    "decision": N_("registration decision"),
    "guardian": N_("guardian's public record"),
    "joint_key": N_("joint election key"),
    "phase": N_("change of phase"),
    "ballot": N_("cast ballot"),
    "challenge": N_("challenged ballot"),
    "superseded": N_("ballot replaced by a revote"),
    "spoiled": N_("spoiled ballot"),
    "turnout": N_("turnout report"),
    "protocol": N_("station protocol"),
    "tally": N_("encrypted tally"),
    "partial_decryption": N_("guardian's partial decryption"),
    "result": N_("results"),
    "note": N_("note"),
}
"""Each board entry kind's name in the listing (a kind not listed shows its code)."""


def _kind(page: Page, kind: str) -> str:
    label = KINDS.get(kind)
    return page.gettext(label) if label else kind


def _zone(manifest: dict[str, Any]) -> str:
    """The zone board times are shown in: the election's first station's (board times are UTC)."""
    for r in manifest["regions"]:
        for d in r["districts"]:
            for s in d["stations"]:
                return str(s["time_zone"])
    return "UTC"


def _api(request: Request) -> str:
    """The API's URL prefix (``saylau.api.app`` installs these pages: imported at call time)."""
    from saylau.api.app import API_PREFIX

    return f"{request.scope.get('root_path', '')}{API_PREFIX}"


def _when(page: Page, iso: str, zone: str) -> str:
    try:
        return page.datetime(parse_time(iso), zone)
    except (TypeError, ValueError):
        return iso


def _row(page: Page, r: BoardEntry, zone: str) -> dict[str, Any]:
    return {"position": r.position, "position_text": page.number(r.position),
            "time": _when(page, r.time, zone),
            "time_raw": r.time, "kind": r.kind, "kind_text": _kind(page, r.kind), "code": r.code,
            "entry_hash": r.entry_hash, "summary": data.summary(r.payload, r.kind)}


def _election(request: Request, state: Any, election_id: str) -> tuple[Any, Page] | Response:
    """The election row's manifest and the page, or the 404 page."""
    with state.reading() as session:
        try:
            e = get_election(session, election_id)
        except NotFound:
            return not_found(request, election_id)
        manifest = e.manifest
    return manifest, Page(request, tuple(manifest["name"]))


def _verification(state: Any, election_id: str) -> dict[str, Any] | None:
    """The API's latest verification job of the election, or ``None`` when it was never verified."""
    try:
        return verification_status(election_id, state, None)  # type: ignore[arg-type]
    except NotFound:
        return None


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    """A query number clamped to ``low`` … ``high`` (a bad one is the default: a page never fails on it)."""
    try:
        n = int(raw) if raw and len(raw) < 12 else default
    except ValueError:
        n = default
    return min(max(n, low), high)


@router.get("/elections/{election_id}/board")
def board_page(election_id: str, request: Request, state: StateDep) -> Response:
    """A page of board entries (oldest first), the checkpoints, the record and its verification."""
    found = _election(request, state, election_id)
    if isinstance(found, Response):
        return found
    manifest, page = found
    zone = _zone(manifest)
    with state.reading() as session:
        board = state.board(session, election_id)
        header = board.header()
        count = data.entry_count(session, election_id)
        per = _int(request.query_params.get("per"), data.PAGE_SIZE, 10, data.MAX_PAGE_SIZE)
        pages = max(1, -(-count // per))
        number = _int(request.query_params.get("page"), 1, 1, pages)
        start = (number - 1) * per
        rows = [_row(page, r, zone) for r in data.entries_page(session, election_id, start, per)]
        cps = data.checkpoints(session, election_id, header["public_key"])
        phase = get_election(session, election_id).phase
    verification = _verification(state, election_id)
    checkpoints: list[dict[str, Any]] = [
        {"position": c.checkpoint.position, "position_text": page.number(c.checkpoint.position),
         "count": page.number(c.checkpoint.count), "entry_hash": c.checkpoint.entry_hash,
         "time": _when(page, c.checkpoint.time, zone), "final": c.checkpoint.final,
         "signature_ok": c.signature_ok, "head_matches": c.head_matches, "ok": c.ok,
         "page": c.checkpoint.position // per + 1} for c in cps]
    return page.render(
        "public_board.html",
        election_id=election_id,
        name=text(manifest["name"], page.lang),
        header=header,
        count=count,
        rows=rows,
        number=number,
        pages=pages,
        first=start,
        last=start + len(rows) - 1,
        # the latest ones, and every one that does not verify
        checkpoints=[c for i, c in enumerate(checkpoints) if i >= len(checkpoints) - _LATEST or not c["ok"]],
        checkpoints_total=len(checkpoints),
        on_page=[c for c in checkpoints if start <= int(c["position"]) < start + per],
        per=per,
        checkpoints_ok=all(c["ok"] for c in checkpoints),
        zone=zone,
        verification=_verification_view(page, verification, zone),
        record_url=f"{_api(request)}/elections/{election_id}/record",
        board_url=f"{_api(request)}/elections/{election_id}/board",
        record_ready=phase == "decrypted",
    )


def _verification_view(page: Page, job: dict[str, Any] | None, zone: str) -> dict[str, Any] | None:
    if job is None:
        return None
    result = job.get("result") or {}
    stamp = job.get("heartbeat_at") or job.get("created_at")
    at = None
    if stamp:
        at = datetime.fromisoformat(str(stamp))
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return {
        "state": job["state"],
        "id": job["id"],
        "error": job.get("error"),
        "at": page.datetime(at, zone) if at else "",
        "board_entries": page.number(result["board_entries"]) if "board_entries" in result else None,
        "checkpoints": page.number(result["checkpoints"]) if "checkpoints" in result else None,
        "head_hash": result.get("head_hash"),
        "closed": result.get("closed"),
        "record_hash": result.get("record_hash"),
        "ballots_verified": page.number(result["ballots_verified"]) if "ballots_verified" in result else None,
    }


@router.get("/elections/{election_id}/board/entries/{position}")
def entry_page(election_id: str, position: str, request: Request, state: StateDep) -> Response:
    """One board entry: its header fields, hashes, payload, and the checkpoint that covers it."""
    found = _election(request, state, election_id)
    if isinstance(found, Response):
        return found
    manifest, page = found
    zone = _zone(manifest)
    row = None
    with state.reading() as session:
        if position.isdigit() and len(position) < 19:
            row = data.entry(session, election_id, int(position))
        count = data.entry_count(session, election_id)
        covering = None
        if row is not None:
            board = state.board(session, election_id)
            cps = data.checkpoints(session, election_id, board.header()["public_key"])
            covering = next((c for c in cps if c.checkpoint.position >= row.position), None)
    if row is None:
        response = page.render("public_board_missing.html", election_id=election_id,
                               name=text(manifest["name"], page.lang), position=position, count=count)
        response.status_code = 404
        return response
    view = _row(page, row, zone)
    return page.render(
        "public_board_entry.html",
        election_id=election_id,
        name=text(manifest["name"], page.lang),
        e=view,
        payload_hash=row.payload_hash,
        prev_hash=row.prev_hash,
        payload=json.dumps(row.payload, indent=1, ensure_ascii=False, sort_keys=True),
        count=count,
        covering=None if covering is None else {
            "position": covering.checkpoint.position,
            "position_text": page.number(covering.checkpoint.position),
            "ok": covering.ok, "final": covering.checkpoint.final},
        page_number=row.position // data.PAGE_SIZE + 1,
    )


def _code_status(kinds: list[str]) -> str:
    """What the entries under one code say of that ballot."""
    if "challenge" in kinds:
        return "challenged"
    if "superseded" in kinds:
        return "superseded"
    return "cast" if "ballot" in kinds else "other"


@router.get("/elections/{election_id}/board/lookup")
def lookup_page(election_id: str, request: Request, state: StateDep) -> Response:
    """The tracking-code form (a GET form: it works without JavaScript) and what the board holds for it."""
    found = _election(request, state, election_id)
    if isinstance(found, Response):
        return found
    manifest, page = found
    zone = _zone(manifest)
    code = (request.query_params.get("code") or "").strip()
    rows: list[dict[str, Any]] = []
    error = None
    if len(code) > _MAX_CODE:
        error = page.gettext("A tracking code has at most %(n)s characters.", n=page.number(_MAX_CODE))
    elif code:
        with state.reading() as session:
            rows = [_row(page, r, zone) for r in data.by_code(session, election_id, code)]
    status = _code_status([r["kind"] for r in rows]) if rows else None
    response = page.render(
        "public_board_lookup.html",
        election_id=election_id,
        name=text(manifest["name"], page.lang),
        code=code,
        rows=rows,
        status=status,
        error=error,
        api_url=f"{_api(request)}/elections/{election_id}/board/codes/",
    )
    if error:
        response.status_code = 422
    return response
