"""The guardian's console: the step asked of the guardian now, the others' progress, checks of their work.

``GET /elections/{id}/guardian`` (role ``guardian``, bound to this election; a guardian lands there after
signing in). A guardian's secret never reaches the server and this page never asks for one: each step
runs on the guardian's own machine as ``saylau guardian keygen|shares|finish|decrypt`` with the secret in
a passphrase-protected key file (``saylau.cli.guardian``), and the page shows the exact command with this
server's URL, the election and the guardian's login filled in. What the others published is checked here
by the safe tier's own functions (``saylau.web.console_guardian_data``).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from saylau.api.auth import StateDep
from saylau.api.common import bound_election
from saylau.api.state import AppState
from saylau.errors import AccessDenied
from saylau.web.console import REFUSALS, console_page, election_languages, election_staff, forbidden
from saylau.web.console_guardian_data import CHECKED_SCOPES, Overview, overview
from saylau.web.console_session import StaffSession
from saylau.web.pages import PHASES
from saylau.web.public_results import text
from saylau.web.rendering import Page

__all__ = ["Step", "commands", "next_step", "router"]

router = APIRouter(include_in_schema=False)

ENDPOINT = "post_guardian_record"
"""The console is for whoever may publish a guardian's record: guardians only."""


@dataclass(frozen=True)
class Step:
    """What is asked of the guardian now: a command to run, or whom it waits for."""

    code: str
    command: str | None = None
    waiting_for: list[int] = field(default_factory=list)


def commands(server: str, election_id: str, index: int, username: str) -> dict[str, str]:
    """Each step's ``saylau guardian`` command for this guardian, as it would be typed (shell-quoted)."""
    key = f"guardian-{election_id}-{index}.key"
    login = ["--server", server, "--user", username]
    argv = {
        "keygen": ["keygen", key, "--server", server, "--election", election_id, "--index", str(index),
                   "--user", username],
        "shares": ["shares", key, *login],
        "finish": ["finish", key, *login],
        "decrypt": ["decrypt", key, *login],
    }
    return {step: shlex.join(["saylau", "guardian", *a]) for step, a in argv.items()}


def next_step(ov: Overview, me: int, cmd: dict[str, str]) -> Step:
    """The guardian's next step from the election's phase and everyone's progress."""
    phase, g = ov.election["phase"], ov.guardians[me - 1]
    others = [x.index for x in ov.guardians if x.index != me]
    if phase == "setup":
        if not g.record:
            return Step("keygen", cmd["keygen"])
        if len(g.shares_sent) < len(others):
            missing = ov.missing("record")
            return Step("wait-records", cmd["shares"], missing) if missing else Step("shares", cmd["shares"])
        if not g.finished:
            missing = [j for j in others if j not in g.shares_received]
            return Step("wait-shares", cmd["finish"], missing) if missing else Step("finish", cmd["finish"])
        if not ov.progress["joint_key"]:
            missing = ov.missing("finished")
            return Step("wait-finish", None, missing) if missing else Step("wait-key")
        return Step("ceremony-done")
    if phase in ("open", "closed"):
        return Step(f"wait-{phase}")
    if phase == "tallied":
        if not g.partial_decryption:
            return Step("decrypt", cmd["decrypt"])
        return Step("wait-decryption", None, ov.missing("partial_decryption"))
    return Step("done", None, ov.missing("partial_decryption"))


def _server_url(request: Request) -> str:
    """The server's URL as the guardian's command reaches it (the API is under it at ``/api/v1``)."""
    host = request.headers.get("host", request.url.netloc)
    return f"{request.url.scheme}://{host}{request.scope.get('root_path', '')}"


def _counts(ov: Overview, lang: str) -> list[dict[str, Any]]:
    """The nation's decrypted counts with the manifest's names, contest by contest."""
    out = []
    for contest in ov.election["manifest"]["contests"]:
        got = ov.nation_counts.get(contest["contest_id"], {})
        out.append({
            "id": contest["contest_id"], "name": text(contest["name"], lang),
            "rows": [
                {"id": s["selection_id"], "name": text(s["name"], lang), "count": got.get(s["selection_id"])}
                for s in contest["selections"]
            ],
        })
    return out


def _render(request: Request, state: AppState, election_id: str, session: StaffSession) -> Response:
    page = Page(request, election_languages(state, election_id))
    caller = session.caller
    me = caller.guardian_index
    assert me is not None  # a guardian's login always has its index
    ov = overview(state, caller, election_id)
    cmd = commands(_server_url(request), election_id, me, caller.username or f"guardian{me}")
    phase = ov.election["phase"]
    decrypting = phase in ("tallied", "decrypted")
    published = len(ov.guardians) - len(ov.missing("partial_decryption"))
    return console_page(
        page, "console_guardian.html", session=session, election_id=election_id, me=me, ov=ov,
        election_name=text(ov.election["manifest"]["name"], page.lang), phase_code=phase,
        phase=page.gettext(PHASES.get(phase, phase)), step=next_step(ov, me, cmd), decrypting=decrypting,
        published=published, short=max(ov.quorum - published, 0), checked_scopes=CHECKED_SCOPES,
        counts=_counts(ov, page.lang) if ov.nation_counts else [],
        compensated=[g.index for g in ov.guardians if g.index not in ov.combined] if ov.combined else [],
    )


@router.get("/elections/{election_id}/guardian")
async def guardian_console(election_id: str, request: Request, state: StateDep) -> Response:
    """The guardian's console of one election."""
    got = await election_staff(request, state, election_id, ENDPOINT, f"/elections/{election_id}/guardian")
    if isinstance(got, Response):
        return got
    try:
        bound_election(got.caller, election_id)  # a guardian of another election is refused
        return await run_in_threadpool(_render, request, state, election_id, got)
    except (AccessDenied, *REFUSALS) as exc:
        return await forbidden(request, state, Page(request, election_languages(state, election_id)), exc)
