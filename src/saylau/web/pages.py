"""The public pages: the list of elections and an election's status (phase, closing times, embargo)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from saylau.api.auth import StateDep
from saylau.api.common import get_election
from saylau.api.errors import NotFound
from saylau.api.routes_polls import embargo_for
from saylau.election.manifest import LocalizedText
from saylau.store.models import Election
from saylau.web.rendering import Page

__all__ = ["PHASES", "router"]

router = APIRouter(include_in_schema=False)

def N_(message: str) -> str:  # noqa: N802 (gettext's name for a no-op marker)
    """Mark a message for extraction (``make messages``); it is translated where it is shown."""
    return message


PHASES: dict[str, str] = {
    "setup": N_("Being prepared"),
    "open": N_("Voting is open"),
    "closed": N_("Voting has closed"),
    "tallied": N_("Ballots tallied, awaiting decryption"),
    "decrypted": N_("Results decrypted and published"),
}
"""Each phase's label (a gettext message id); a phase not listed shows its code."""


@dataclass(frozen=True)
class ZoneClose:
    """When polls close in one time zone, and how many of the election's stations are in it."""

    zone: str
    at: datetime
    stations: int


def _languages(manifests: list[dict[str, Any]]) -> tuple[str, ...]:
    """The languages offered: those of the elections' names, in order, the first election's first."""
    out: list[str] = []
    for m in manifests:
        out += [lang for lang in m["name"] if lang not in out]
    return tuple(out) or ("en",)


def _name(manifest: dict[str, Any], lang: str) -> str:
    text = LocalizedText(manifest["name"])
    return text.get(lang) if lang in text.root else text.get(text.languages[0])


@router.get("/")
def elections_page(request: Request, state: StateDep) -> Response:
    """The elections on this server with their phase."""
    with state.reading() as session:
        rows = session.execute(select(Election.id, Election.phase, Election.manifest).order_by(Election.id))
        elections = [(eid, phase, manifest) for eid, phase, manifest in rows]
    page = Page(request, _languages([m for _, _, m in elections]))
    items = [
        {"id": eid, "name": _name(m, page.lang), "phase": page.gettext(PHASES.get(phase, phase)),
         "date": m["election_date"]}
        for eid, phase, m in elections
    ]
    return page.render("elections.html", elections=items)


@router.get("/elections/{election_id}")
def election_page(election_id: str, request: Request, state: StateDep) -> Response:
    """An election's status: phase, when polls close in each time zone, when the exit-poll embargo lifts."""
    with state.reading() as session:
        try:
            e = get_election(session, election_id)
        except NotFound:
            page = Page(request, ("en",))
            response = page.render("not_found.html", max_age=10, election_id=election_id)
            response.status_code = 404
            return response
        manifest, phase = e.manifest, e.phase
        embargo = embargo_for(e)
    page = Page(request, tuple(manifest["name"]))
    per_zone = Counter(
        s["time_zone"] for r in manifest["regions"] for d in r["districts"] for s in d["stations"]
    )
    closes = sorted(
        (ZoneClose(z, at, per_zone[z]) for z, at in embargo.closings.items()),
        key=lambda c: (c.at.astimezone(UTC), c.zone),
    )
    return page.render(
        "election.html",
        election_id=election_id,
        name=_name(manifest, page.lang),
        phase=page.gettext(PHASES.get(phase, phase)),
        election_date=datetime.fromisoformat(manifest["election_date"]),
        closes=closes,
        embargo_at=embargo.last_close,
        embargo_zone=embargo.last_zone,
        embargo_lifted=embargo.lifted(),
        stations=sum(per_zone.values()),
    )
