"""The public results page: turnout, results with charts and a map, protocols, the decision, exit polls.

Turnout through the day; results by country, region and station; the protocols received so far; the
rule decision explained; the exit polls (after the embargo) beside the official result.

The page is cached per (path, query, language, the election's public state): see ``page_cache``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.api.auth import StateDep
from saylau.api.common import get_election
from saylau.api.errors import NotFound
from saylau.api.routes_polls import exit_poll_estimate
from saylau.election.manifest import LocalizedText
from saylau.errors import SaylauError
from saylau.store.models import ExitPollDesign
from saylau.web.i18n import LANG_COOKIE
from saylau.web.page_cache import fast_path, page_cache, serve
from saylau.web.public_charts import PALETTE, Bar, Tile, bar_chart, line_chart, tile_map
from saylau.web.public_data import ResultsData, results_data
from saylau.web.public_decision import OUTCOMES, explain, rule_facts
from saylau.web.rendering import _ENV, Page, cached

__all__ = ["not_found", "router", "text"]

router = APIRouter(include_in_schema=False)
STATIONS_PER_PAGE = 200
"""Stations in one page's table (~40 KB of HTML); an election with more is shown region by region."""


def text(names: dict[str, str], lang: str) -> str:
    """A manifest name in ``lang``, else in its first language."""
    t = LocalizedText(names)
    return t.get(lang) if lang in t.root else t.get(t.languages[0])


def not_found(request: Request, election_id: str) -> Response:
    """The 404 page for an unknown election."""
    response = Page(request, ("en",)).render("not_found.html", election_id=election_id)
    response.status_code = 404
    return response


def send(page: Page, html: str, max_age: int = 10) -> Response:
    """``html`` with its ETag (304 when unchanged); remembers a language chosen by ``?lang=``."""
    response = cached(page.request, html, max_age)
    if page.request.query_params.get("lang") == page.lang:
        response.set_cookie(LANG_COOKIE, page.lang, max_age=365 * 86400, samesite="lax")
        response.headers["Cache-Control"] = f"private, max-age={max_age}"
    return response


def _bars(
    page: Page, options: list[dict[str, Any]], counts: dict[str, int], total: int
) -> list[dict[str, Any]]:
    rows = []
    for i, s in enumerate(options):
        n = int(counts.get(s["selection_id"], 0))
        share = n / total if total else 0.0
        rows.append({"id": s["selection_id"], "name": text(s["name"], page.lang), "votes": n, "share": share,
                     "votes_text": page.number(n), "share_text": page.percent(share, 2),
                     "colour": PALETTE[i % len(PALETTE)]})
    return rows


def _chart(rows: list[dict[str, Any]], title: str, desc: str, ident: str) -> Any:
    return bar_chart([Bar(r["name"], r["share"], f'{r["share_text"]} ({r["votes_text"]})', r["colour"])
                      for r in rows], title, desc, ident)


def _exit_polls(state: Any, session: Any, e: Any, page: Page, options: list[dict[str, Any]]) -> list[Any]:
    pollsters = session.scalars(select(ExitPollDesign.pollster).where(ExitPollDesign.election_id == e.id))
    out = []
    for pollster in sorted(pollsters):
        try:
            est = exit_poll_estimate(e.id, state, None, pollster)  # type: ignore[arg-type]
        except (SaylauError, NotFound):
            continue  # no interviews yet (the embargo is checked before this is called)
        rows = []
        for s in options:
            x = est["estimates"].get(s["selection_id"])
            if x is not None:
                rows.append({"name": text(s["name"], page.lang), "share": page.percent(x["share"], 1),
                             "low": page.percent(x["low"], 1), "high": page.percent(x["high"], 1)})
        out.append({"pollster": pollster, "rows": rows, "respondents": page.number(est["respondents"]),
                    "confidence": page.percent(est["confidence"], 0)})
    return out


def _context(page: Page, d: ResultsData, polls: list[Any], embargo: Any) -> dict[str, Any]:
    m, lang = d.manifest, page.lang
    contest = m["contests"][0]
    options = list(contest["selections"])
    names = {s["selection_id"]: text(s["name"], lang) for s in options}
    region_names = {r["region_id"]: text(r["name"], lang) for r in m["regions"]}
    station_names = {s["station_id"]: text(s["name"], lang) for r in m["regions"] for dd in r["districts"]
                     for s in dd["stations"]}
    ctx: dict[str, Any] = {"name": text(m["name"], lang), "contest": text(contest["name"], lang),
                           "stations_total": len(station_names), "exit_polls": polls,
                           "embargo_lifted": embargo.lifted(),
                           "embargo_at": page.datetime(embargo.last_close, embargo.last_zone)}
    # turnout through the day
    ctx["turnout"] = [{"clock": p.clock, "voted": page.number(p.voted), "share": page.percent(p.share, 1)}
                      for p in d.turnout]
    ctx["turnout_chart"] = line_chart(
        [(p.clock, p.share) for p in d.turnout], [page.percent(p.share, 0) for p in d.turnout],
        page.gettext("Turnout through the day, whole country"),
        page.gettext("Share of registered voters who had voted at each local report time; "
                     "the table below gives the same figures."), "turnout") if d.turnout else None
    ctx["turnout_regions"] = [
        {"name": region_names[rid], "points": {p.clock: page.percent(p.share, 1) for p in pts}}
        for rid, pts in d.turnout_by_region.items()]
    # protocols received so far (the paper count, as it arrives)
    reported = len(d.protocols)
    ctx["protocols"] = {"reported": page.number(reported), "total": page.number(len(station_names)),
                        "share": page.percent(reported / len(station_names) if station_names else 0, 1)}
    if reported:
        votes: dict[str, int] = {}
        for f in d.protocols.values():
            for k, v in f["votes"].items():
                votes[k] = votes.get(k, 0) + int(v)
        prows = _bars(page, options, votes, sum(votes.values()))
        ctx["protocol_rows"] = prows
        ctx["protocol_chart"] = _chart(prows, page.gettext("Protocols received so far"),
                                       page.gettext("Share of valid votes in the protocols received."),
                                       "protocols")
    res = d.results
    if res is None:
        return ctx
    cid = contest["contest_id"]
    nat = res["nation"]
    nrows = _bars(page, options, nat["counts"].get(cid, {}), sum(nat["counts"].get(cid, {}).values()))
    ctx["nation"] = {"rows": nrows, "ballots": page.number(nat["ballots"]),
                     "registered": page.number(res["turnout"]["nation"]["registered"]),
                     "turnout": page.percent(res["turnout"]["nation"]["share"] or 0, 2)}
    ctx["nation_chart"] = _chart(nrows, page.gettext("Results, whole country"),
                                 page.gettext("Share of valid votes for each option; the table gives the "
                                              "same figures."), "nation")
    regions, tiles = [], []
    for r in m["regions"]:
        rid = r["region_id"]
        rr = res["regions"].get(rid)
        if rr is None:
            continue
        counts = rr["counts"].get(cid, {})
        rows = _bars(page, options, counts, sum(counts.values()))
        top = max(rows, key=lambda x: x["votes"])
        regions.append({"id": rid, "name": region_names[rid], "rows": rows,
                        "ballots": page.number(rr["ballots"]),
                        "turnout": page.percent(res["turnout"]["regions"][rid]["share"] or 0, 2),
                        "leader": top["name"],
                        "leader_share": top["share_text"]})
        tiles.append(Tile(region_names[rid][:10], f'{region_names[rid]}: {top["name"]} {top["share_text"]}',
                          top["colour"], 0.35 + 0.65 * top["share"]))
    ctx["regions"] = regions
    ctx["legend"] = [{"name": o["name"], "colour": o["colour"]} for o in nrows]
    ctx["map"] = tile_map(tiles, page.gettext("Map of regions by leading option"),
                          page.gettext("One tile per region, coloured by the leading option; darker means a "
                                       "larger share. The table of regions gives the same figures."), "map")
    shown, ctx["station_pages"] = _paged(page, [(sid, d.station_region.get(sid, ""))
                                                for sid in sorted(res["stations"])], region_names)
    ctx["stations"] = [
        {"id": sid, "name": station_names.get(sid, sid),
         "region": region_names.get(d.station_region.get(sid, ""), ""),
         "ballots": page.number(s["ballots"]),
         "turnout": page.percent(res["turnout"]["stations"][sid]["share"] or 0, 1),
         "votes": [page.number(int(s["counts"].get(cid, {}).get(o["selection_id"], 0))) for o in options]}
        for sid in shown for s in (res["stations"][sid],)]
    ctx["options"] = [names[o["selection_id"]] for o in options]
    dec = res["decision"].get(cid, {})
    if dec.get("outcome"):
        ctx["decision"] = {
            "outcome": page.gettext(OUTCOMES[dec["outcome"]]),
            "winner": names.get(dec["winner"] or "", ""),
            "runoff": [names.get(o, o) for o in dec["runoff"]],
            "reasons": explain(page, dec["reasons"], names),
        }
        ctx["rules"] = rule_facts(page, res["rules"])
    return ctx


def _link(page: Page, **params: str) -> str:
    """The current page with ``params`` set in its query (others kept), at the stations' table."""
    query = [(k, v) for k, v in page.request.query_params.multi_items() if k not in params]
    query += [(k, v) for k, v in params.items() if v]
    return f"{page.request.url.path}?{urlencode(query)}#stations"


def _paged(page: Page, stations: list[tuple[str, str]], regions: dict[str, str]
           ) -> tuple[list[str], dict[str, Any] | None]:
    """The stations to show (ids, of ``(id, region)``): all when few, else one region's, a page at a time.

    A national election's 10,000 stations would make a page of megabytes: past ``STATIONS_PER_PAGE``,
    the page links to each region (``?region=``), and a region's stations come ``STATIONS_PER_PAGE``
    per page (``?stations=<n>``), so every page stays within the first-load budget.
    """
    if len(stations) <= STATIONS_PER_PAGE:
        return [sid for sid, _ in stations], None
    q = page.request.query_params
    region = q.get("region", "")
    if region not in regions:
        return [], {"regions": [{"name": name, "url": _link(page, region=rid, stations="")}
                                for rid, name in regions.items()]}
    mine = [sid for sid, rid in stations if rid == region]
    pages = max(1, -(-len(mine) // STATIONS_PER_PAGE))
    asked = q.get("stations", "1")
    n = min(max(int(asked), 1), pages) if asked.isdigit() and len(asked) < 6 else 1
    return mine[(n - 1) * STATIONS_PER_PAGE:n * STATIONS_PER_PAGE], {
        "region": regions[region], "page": page.number(n), "pages": page.number(pages),
        "previous": _link(page, stations=str(n - 1)) if n > 1 else None,
        "next": _link(page, stations=str(n + 1)) if n < pages else None,
        "all": _link(page, region="", stations=""),
    }


@router.get(fast_path("/elections/{election_id}/results"))
def results_page(election_id: str, request: Request, state: StateDep) -> Response:
    """Turnout, results with charts and a map, protocols received, the decision, exit polls.

    Cached until the election's public state moves (``page_cache``): a cached page costs one small
    query; the election row, with its large JSON columns, is read only to render the page again.
    """

    def render(session: Session) -> str | Response:
        try:
            e = get_election(session, election_id)
        except NotFound:
            return not_found(request, election_id)
        embargo = page_cache(request.app).election_facts(session, election_id).embargo
        page = Page(request, tuple(e.manifest["name"]))
        lifted = embargo.lifted()
        d = results_data(session, e)
        options = list(e.manifest["contests"][0]["selections"])
        polls = _exit_polls(state, session, e, page, options) if lifted and e.phase not in (
            "setup", "open") else []
        ctx = _context(page, d, polls, embargo)
        return _ENV.get_template("public_results.html").render(
            page=page, lang=page.lang, _=page.gettext, gettext=page.gettext, ngettext=page.ngettext,
            election_id=election_id, **ctx)

    return serve(request, state, election_id, render)
