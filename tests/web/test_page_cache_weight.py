"""First-load weight at national scale: kz-2022's 10,101 stations, every page within 300 KB.

The results page of a decrypted kz-2022 (synthetic counts) is rendered from its context: the main page
and each page of each region's stations stay within the budget with the stylesheet, need no script,
and together list every station exactly once.
"""

from __future__ import annotations

import random
import re
from typing import Any

from starlette.requests import Request

from saylau.api.routes_polls import embargo_for
from saylau.election.scenario import load_scenario
from saylau.web.public_data import ResultsData, TurnoutPoint
from saylau.web.public_results import STATIONS_PER_PAGE, _context, _paged
from saylau.web.rendering import _ENV, STATIC_DIR, Page

BUDGET = 300_000


class _Election:
    def __init__(self, manifest: dict[str, Any]) -> None:
        self.manifest = manifest


def _results(m: dict[str, Any]) -> ResultsData:
    cid = m["contests"][0]["contest_id"]
    options = [s["selection_id"] for s in m["contests"][0]["selections"]]
    where = {s["station_id"]: r["region_id"]
             for r in m["regions"] for d in r["districts"] for s in d["stations"]}
    rnd = random.Random(2022)

    def counts() -> dict[str, dict[str, int]]:
        return {cid: {o: rnd.randint(0, 900) for o in options}}

    results = {
        "nation": {"counts": counts(), "ballots": 8_000_000},
        "regions": {r["region_id"]: {"counts": counts(), "ballots": 400_000} for r in m["regions"]},
        "stations": {sid: {"counts": counts(), "ballots": rnd.randint(100, 2500)} for sid in where},
        "turnout": {"nation": {"share": 0.69, "registered": 11_950_000},
                    "regions": {r["region_id"]: {"share": 0.6} for r in m["regions"]},
                    "stations": {sid: {"share": rnd.random()} for sid in where}},
        "decision": {}, "rules": {},
    }
    return ResultsData(manifest=m, phase="decrypted", results=results, turnout=[TurnoutPoint("10:00", 1, 2)],
                       turnout_by_region={}, registered={}, station_region=where, protocols={})


def _render(m: dict[str, Any], d: ResultsData, query: str) -> str:
    scope = {"type": "http", "method": "GET", "path": "/elections/kz/results", "query_string": query.encode(),
             "headers": [(b"accept-language", b"ru")], "root_path": ""}
    page = Page(Request(scope), tuple(m["name"]))
    ctx = _context(page, d, [], embargo_for(_Election(m)))  # type: ignore[arg-type]
    return _ENV.get_template("public_results.html").render(
        page=page, lang=page.lang, _=page.gettext, gettext=page.gettext, ngettext=page.ngettext,
        election_id="kz", **ctx)


def test_national_results_pages_stay_within_the_first_load_budget() -> None:
    m = load_scenario("kz-2022").to_manifest().model_dump(mode="json")
    d = _results(m)
    css = len((STATIC_DIR / "css" / "site.css").read_bytes())
    main = _render(m, d, "")
    assert len(main.encode()) + css <= BUDGET and "<script" not in main
    assert 'data-station="' not in main and "?region=" in main  # regions to choose, no station rows
    # the largest region's pages are the heaviest: each within the budget, none over-full
    sizes: dict[str, int] = {}
    for rid in d.station_region.values():
        sizes[rid] = sizes.get(rid, 0) + 1
    largest = max(sizes, key=lambda r: sizes[r])
    rows: list[str] = []
    for n in range(1, -(-sizes[largest] // STATIONS_PER_PAGE) + 1):
        html = _render(m, d, f"region={largest}&stations={n}")
        assert len(html.encode()) + css <= BUDGET, n
        rows += re.findall(r'data-station="([^"]+)"', html)
        assert ('rel="next"' in html) == (n * STATIONS_PER_PAGE < sizes[largest])
    assert sorted(rows) == sorted(s for s, r in d.station_region.items() if r == largest)
    # every region's pages together list every station exactly once
    regions = {r["region_id"]: r["region_id"] for r in m["regions"]}
    stations = sorted(d.station_region.items())
    seen: list[str] = []
    for rid in regions:
        for n in range(1, -(-sizes.get(rid, 0) // STATIONS_PER_PAGE) + 1):
            scope = {"type": "http", "method": "GET", "path": "/x",
                     "query_string": f"region={rid}&stations={n}".encode(), "headers": [], "root_path": ""}
            shown, pager = _paged(Page(Request(scope), ("ru",)), stations, regions)
            assert pager is not None and len(shown) <= STATIONS_PER_PAGE
            seen += shown
    assert sorted(seen) == sorted(d.station_region)
