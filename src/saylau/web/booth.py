"""The voter's booth: the remote-voting page and the polling-station kiosk (docs/web.md, "Voter's booth").

Both pages are one HTML document whose steps (sign in, choose, review, encrypted, cast or challenged)
are driven by ``static/booth/page.js``: the browser encrypts the ballot and builds every proof itself
(``static/booth/index.js``), so the server sends here only what is public — the manifest's contests
with their names in the page's language, the ballot styles, the election parameters — and the
interface strings the script shows, translated. The credential never appears in a URL: the page keeps
it in ``sessionStorage`` and sends it only as the bearer token of its API calls.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from saylau.api.auth import StateDep
from saylau.api.common import get_election, voter_id_spec
from saylau.api.errors import NotFound
from saylau.election.manifest import LocalizedText
from saylau.web.booth_messages import script_messages
from saylau.web.rendering import Page
from saylau.web.voter_id_field import voter_id_field

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _text(value: dict[str, str], lang: str) -> str:
    text = LocalizedText(value)
    return text.get(lang) if lang in text.root else text.get(text.languages[0])


def _contests(manifest: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The contests as the page shows them: names in ``lang``, "against all" marked."""
    out = []
    for c in manifest["contests"]:
        out.append(
            {
                "contest_id": c["contest_id"],
                "name": _text(c["name"], lang),
                "votes_allowed": c["votes_allowed"],
                "selections": [
                    {
                        "selection_id": s["selection_id"],
                        "name": _text(s["name"], lang),
                        "kind": s["kind"],
                        "nominated_by": _text(s["nominated_by"], lang) if s.get("nominated_by") else "",
                    }
                    for s in c["selections"]
                ],
            }
        )
    return out


def _json_script(value: Any) -> Markup:
    """JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _booth(election_id: str, request: Request, state: StateDep, mode: str) -> Response:
    from saylau.api.app import API_PREFIX  # saylau.api.app installs these pages: import at call time

    with state.reading() as session:
        try:
            e = get_election(session, election_id)
        except NotFound:
            page = Page(request, ("en",))
            response = page.render("not_found.html", election_id=election_id)
            response.status_code = 404
            return response
        manifest, phase, params, spec = e.manifest, e.phase, e.joint_key, voter_id_spec(e)
    page = Page(request, tuple(manifest["name"]))
    styles = manifest["ballot_styles"]
    regional = any(s.get("region_ids") for s in styles)
    data = {
        "mode": mode,
        "election_id": election_id,
        "api": f"{request.scope.get('root_path', '')}{API_PREFIX}",
        "lang": page.lang,
        "open": phase == "open" and params is not None,
        "election": params,
        "styles": [
            {
                "style_id": s["style_id"],
                "contest_ids": s["contest_ids"],
                "region_ids": s.get("region_ids", []),
            }
            for s in styles
        ],
        # a style per region needs the station's region; with one national style nothing is sent
        "station_regions": {
            st["station_id"]: r["region_id"]
            for r in manifest["regions"]
            for d in r["districts"]
            for st in d["stations"]
        }
        if regional
        else {},
        "contests": _contests(manifest, page.lang),
        "messages": script_messages(page),
    }
    return page.render(
        "booth.html",
        max_age=60,
        mode=mode,
        election_id=election_id,
        name=_text(manifest["name"], page.lang),
        phase=phase,
        voting_open=data["open"],
        contests=data["contests"],
        booth_data=_json_script(data),
        voter_id=voter_id_field(page, spec),
    )


@router.get("/elections/{election_id}/vote")
def remote_booth(election_id: str, request: Request, state: StateDep) -> Response:
    """The remote voter's booth: sign in with the remote credential and its revote tag."""
    return _booth(election_id, request, state, "remote")


@router.get("/elections/{election_id}/kiosk")
def kiosk_booth(election_id: str, request: Request, state: StateDep) -> Response:
    """The polling station's kiosk: the commission signs in, picks its booth device, starts each voter."""
    return _booth(election_id, request, state, "kiosk")
