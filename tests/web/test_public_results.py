"""The public results page after a decrypted election: the API's numbers, the decision, caching, a11y."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from saylau.web.i18n import babel_locale
from saylau.web.rendering import Page

from .conftest import axe_check, screenshot
from .public_seed import Decrypted, databases, serve_decrypted

LANGS = ("kk", "ru", "en")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def decrypted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Decrypted]:
    """One decrypted election per module and backend, served live."""
    tmp: Path = tmp_path_factory.mktemp("public")
    for db in databases(request.param, tmp):
        yield from serve_decrypted(db, tmp)


def _fmt(lang: str) -> Page:
    page = Page.__new__(Page)
    page.locale = babel_locale(lang)
    return page


def test_results_api_publishes_turnout_and_the_decision(decrypted: Decrypted) -> None:
    res = decrypted.api(f"/elections/{decrypted.election_id}/results")
    nation = res["nation"]
    assert nation["counts"]["president"] == {"cand-a": 3, "cand-b": 1, "against-all": 1}
    turnout = res["turnout"]
    assert turnout["nation"] == {"registered": 10, "took_part": 5, "share": 0.5}
    assert turnout["stations"]["st-1"] == {"registered": 5, "took_part": 3, "share": 0.6}
    assert turnout["regions"]["r1"]["took_part"] == 5
    decision = res["decision"]["president"]
    # turnout 5/10 does not exceed the 50 % threshold: the election is invalid, and the reason says so
    assert decision["outcome"] == "invalid_turnout" and decision["error"] is None
    assert [r["key"] for r in decision["reasons"]] == ["turnout_low"]
    assert res["rules"]["min_turnout"] == 0.5 and res["rules"]["majority_base"] == "valid"


@pytest.mark.parametrize("lang", LANGS)
def test_results_page_shows_the_api_numbers(decrypted: Decrypted, page: Any, lang: str) -> None:
    eid = decrypted.election_id
    res = decrypted.api(f"/elections/{eid}/results")
    turnout = decrypted.api(f"/elections/{eid}/turnout")
    f = _fmt(lang)
    page.goto(f"{decrypted.url}/elections/{eid}/results?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    nation = res["nation"]
    assert page.locator("#registered").inner_text() == f.number(res["turnout"]["nation"]["registered"])
    assert page.locator("#ballots").inner_text() == f.number(nation["ballots"])
    assert page.locator("#turnout").inner_text() == f.percent(res["turnout"]["nation"]["share"], 2)
    counts = nation["counts"]["president"]
    valid = sum(counts.values())
    for option, n in counts.items():
        row = page.locator(f"#nation-table tr[data-option='{option}']")
        assert row.locator(".votes").inner_text() == f.number(n)
        assert row.locator(".share").inner_text() == f.percent(n / valid, 2)
    for sid, s in res["stations"].items():
        cells = page.locator(f"#stations-table tr[data-station='{sid}'] td").all_inner_texts()
        assert cells[0] == f.number(s["ballots"])
        assert cells[1] == f.percent(res["turnout"]["stations"][sid]["share"], 1)
        options = ("cand-a", "cand-b", "against-all")
        assert cells[2:] == [f.number(s["counts"]["president"][o]) for o in options]
    # turnout through the day: the last report (18:00 local) is the sum of the stations' snapshots
    last = sum(r["voted"] for r in turnout if r["at"].startswith("2022-11-20T18:00"))
    rows = page.locator("#turnout-table tbody tr").all_inner_texts()
    assert rows[-1].split("\t")[:3] == ["18:00", f.number(last), f.percent(last / 10, 1)]
    # the protocols received: one of two stations
    assert f.percent(0.5, 1) in page.locator("#reported").inner_text()
    # the decision and its reason, numbers in the locale's format
    reasons = page.locator(".reasons li").all_inner_texts()
    assert len(reasons) == 1 and f.percent(0.5, 2) in reasons[0] and f.percent(0.5, 0) in reasons[0]
    assert page.locator("svg.chart title").count() >= 3  # country bars, turnout line, tile map
    axe_check(page)
    screenshot(page, f"results-{lang}")


def test_results_page_reads_without_javascript_and_caches(decrypted: Decrypted, browser: Any) -> None:
    url = f"{decrypted.url}/elections/{decrypted.election_id}/results"
    first = httpx.get(url, headers={"Accept-Language": "ru"})
    assert first.status_code == 200 and "<script" not in first.text
    assert first.headers["Cache-Control"].startswith("public") and first.headers["ETag"]
    again = httpx.get(url, headers={"Accept-Language": "ru", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    p = ctx.new_page()
    sizes: list[int] = []
    p.on("requestfinished",
         lambda r: sizes.append(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]))
    p.goto(url + "?lang=kk")
    p.wait_for_load_state("networkidle")
    assert sum(sizes) <= 300_000, f"first load transferred {sum(sizes)} bytes"
    ctx.close()
    phone = browser.new_context(viewport={"width": 360, "height": 740})
    q = phone.new_page()
    q.goto(url + "?lang=kk")
    assert q.evaluate("document.documentElement.scrollWidth") <= 360
    axe_check(q)
    screenshot(q, "results-kk-phone")
    phone.close()
