"""The candidates and applicants page: every decision of the API, every rule's outcome, the appeals trail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from saylau.election.scenario import load_scenario
from saylau.web.i18n import babel_locale, translations
from saylau.web.public_registration_text import RULE_LABELS
from saylau.web.rendering import Page

from .conftest import axe_check, screenshot
from .public_seed import databases
from .public_site_seed import FLIPPED, UPHELD, Registration, serve_registration
from .weight import first_load_bytes

LANGS = ("kk", "ru", "en")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registration(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registration]:
    """kz-2022's registration decided through the API, served live (once per module and backend)."""
    tmp: Path = tmp_path_factory.mktemp("candidates")
    for db in databases(request.param, tmp):
        yield from serve_registration(db, tmp)


def _fmt(lang: str) -> Page:
    page = Page.__new__(Page)
    page.locale = babel_locale(lang)
    page._t = translations(lang)
    return page


@pytest.mark.parametrize("lang", LANGS)
def test_candidates_page_shows_every_decision_of_the_api(
    registration: Registration, page: Any, lang: str
) -> None:
    eid = registration.election_id
    apps = registration.api(f"/elections/{eid}/applications")
    f = _fmt(lang)
    page.goto(f"{registration.url}/elections/{eid}/candidates?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    statuses = [a["status"] for a in apps]
    assert page.locator("#n-applications").inner_text() == f.number(len(apps))
    assert page.locator("#n-registered").inner_text() == f.number(statuses.count("registered"))
    assert page.locator("#n-refused").inner_text() == f.number(statuses.count("refused"))
    names = {a.id: a.full_name.get(lang) for a in load_scenario("kz-2022").applicants}
    for a in apps:
        aid = a["applicant"]["id"]
        section = page.locator(f"section[data-applicant='{aid}']")
        assert section.get_attribute("data-status") == a["status"]
        assert section.locator("h3").inner_text() == names[aid]  # the scenario's name in this language
        versions = section.locator("article.decision-version")
        assert versions.count() == len(a["decisions"])
        for d in a["decisions"]:
            article = section.locator(f"article[data-version='{d['version']}']")
            rows = article.locator("tbody tr")
            assert rows.count() == len(d["outcomes"]) == len(RULE_LABELS)
            for o in d["outcomes"]:
                row = article.locator(f"tr[data-rule='{o['rule_id']}']")
                assert row.get_attribute("data-passed") == ("true" if o["passed"] else "false")
                assert row.locator("th").inner_text() == f.gettext(RULE_LABELS[o["rule_id"]])
            assert d["digest"] in article.inner_text()
    axe_check(page)
    screenshot(page, f"candidates-{lang}")


def test_the_appeals_trail_keeps_each_version(registration: Registration, page: Any) -> None:
    eid = registration.election_id
    apps = {a["applicant"]["id"]: a for a in registration.api(f"/elections/{eid}/applications")}
    flipped, upheld = apps[FLIPPED], apps[UPHELD]
    assert [d["status"] for d in flipped["decisions"]] == ["refused", "registered"]
    assert [d["status"] for d in upheld["decisions"]] == ["refused", "refused"]
    page.goto(f"{registration.url}/elections/{eid}/candidates?lang=en")
    section = page.locator(f"section[data-applicant='{FLIPPED}']")
    latest, first = section.locator("article.decision-version").all()
    assert latest.get_attribute("data-version") == "2" and first.get_attribute("data-version") == "1"
    assert "Decision on appeal" in latest.locator("h4").inner_text()
    assert flipped["decisions"][1]["appeal"]["grounds"] in latest.inner_text()
    assert "replaced by a later version" in first.locator("h4").inner_text()
    # the appeal revised the signatures: both signature rules failed at first and pass on appeal
    for rule in ("signature_threshold", "regional_spread"):
        assert first.locator(f"tr[data-rule='{rule}']").get_attribute("data-passed") == "false"
        assert latest.locator(f"tr[data-rule='{rule}']").get_attribute("data-passed") == "true"
    # the version chain: the appeal names the digest of the decision it revises
    assert flipped["decisions"][1]["previous_hash"] == flipped["decisions"][0]["digest"]
    assert flipped["decisions"][0]["digest"] in latest.inner_text()
    kept = page.locator(f"section[data-applicant='{UPHELD}'] article[data-version='2']")
    assert kept.locator("tr[data-rule='residence']").get_attribute("data-passed") == "false"
    assert kept.locator("tr[data-rule='election_fee']").get_attribute("data-passed") == "true"
    assert "10 years of permanent residence, fewer than 15." in kept.inner_text()


def test_rule_reasons_are_translated(registration: Registration, page: Any) -> None:
    eid = registration.election_id
    page.goto(f"{registration.url}/elections/{eid}/candidates?lang=ru")
    young = page.locator("section[data-applicant='fictional-serikbayev'] tr[data-rule='min_age'] td").last
    assert "моложе 40" in young.inner_text() and "38" in young.inner_text()
    page.goto(f"{registration.url}/elections/{eid}/candidates?lang=kk")
    tokayev = page.locator("section[data-applicant='tokayev']")
    assert tokayev.locator("h3").inner_text() == "Қасым-Жомарт Тоқаев"
    nominator = load_scenario("kz-2022").option("tokayev").nominator
    assert nominator is not None  # the nominating body named in the page's language, in the rule's reason too
    assert nominator.get("kk") in tokayev.locator("tr[data-rule='nominator_type'] td").last.inner_text()
    assert "барлық 12 ереже орындалды" in tokayev.locator(".verdict").inner_text()


def test_candidates_page_without_javascript_on_a_phone(registration: Registration, browser: Any) -> None:
    url = f"{registration.url}/elections/{registration.election_id}/candidates"
    r = httpx.get(url, headers={"Accept-Language": "kk"})
    assert r.status_code == 200 and "<script" not in r.text and r.headers["ETag"]
    assert first_load_bytes(browser, url + "?lang=ru") <= 300_000
    phone = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    p = phone.new_page()
    p.goto(url + "?lang=kk")
    assert p.evaluate("document.documentElement.scrollWidth") <= 360
    p.locator("details.rules-box summary").click()  # the rules open without JavaScript
    assert p.locator("#candidacy-rules").is_visible()
    screenshot(p, "candidates-kk-phone")
    phone.close()
    q = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    q.goto(url + "?lang=en")
    axe_check(q)
    q.context.close()


PAGES = {"status": "", "results": "/results", "candidates": "/candidates", "board": "/board"}


def test_every_public_page_has_the_nav_and_the_language_switch(registration: Registration, page: Any) -> None:
    base = f"/elections/{registration.election_id}"
    for current, path in PAGES.items():
        page.goto(f"{registration.url}{base}{path}?lang=ru")
        nav = page.locator("nav.site-nav a")
        hrefs = [h.split("?")[0] for h in nav.evaluate_all("as => as.map(a => a.getAttribute('href'))")]
        assert hrefs == ["/"] + [base + p for p in PAGES.values()], current
        marked = page.locator("nav.site-nav a[aria-current=page]")
        assert marked.count() == 1 and marked.get_attribute("href").split("?")[0] == base + path
        for lang in ("kk", "en", "ru"):
            page.locator(f"nav.langs a[hreflang={lang}]").click()
            page.wait_for_load_state()
            assert page.locator("html").get_attribute("lang") == lang
            assert page.url.split("?")[0].endswith(base + path)
    for path in PAGES.values():  # an unknown election: the 404 page, never a 500
        r = httpx.get(f"{registration.url}/elections/nowhere{path}")
        assert r.status_code == 404 and "nowhere" in r.text, path


def test_status_and_results_pages_weigh_under_300_kb(registration: Registration, browser: Any) -> None:
    base = f"{registration.url}/elections/{registration.election_id}"
    for path in ("", "/results"):
        assert first_load_bytes(browser, f"{base}{path}?lang=kk", javascript=False) <= 300_000, path
