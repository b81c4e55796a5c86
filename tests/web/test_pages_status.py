"""The first pages, in a real browser: the elections list and an election's status, in every language."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from saylau.election.scenario import load_scenario
from saylau.web.i18n import babel_locale
from saylau.web.rendering import Page

from .conftest import ALPEN, LiveServer, axe_check, screenshot

KZ_LANGS = ("kk", "ru", "en")
TITLES = {
    "kk": "Қазақстан Республикасы Президентінің кезектен тыс сайлауы, 2022",
    "ru": "Внеочередные выборы Президента Республики Казахстан, 2022",
    "en": "Snap presidential election of the Republic of Kazakhstan, 2022",
}
HEADINGS = {"kk": "Учаскелер қашан жабылады", "ru": "Когда закрываются участки", "en": "When the polls close"}
PHASE_SETUP = {"kk": "Дайындалуда", "ru": "Идёт подготовка", "en": "Being prepared"}


def _local(at: datetime, zone: str, lang: str) -> str:
    """Babel's long date and short time of ``at`` in ``zone`` for ``lang`` (what the page must show)."""
    page = Page.__new__(Page)
    page.locale = babel_locale(lang)
    return page.datetime(at, zone)


def _close(zone: str) -> datetime:
    return datetime(2022, 11, 20, 20, 0, tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize("lang", KZ_LANGS)
def test_status_page_in_each_language(live_server: LiveServer, page: Any, lang: str) -> None:
    page.goto(f"{live_server.url}/elections/{live_server.kz_id}?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("h1").inner_text() == TITLES[lang]
    assert page.locator("#closing").inner_text() == HEADINGS[lang]
    assert page.locator("dd.phase").inner_text() == PHASE_SETUP[lang]
    body = page.locator("main").inner_text()
    almaty = {"kk": "2022\u202fж. 20 қараша, 20:00", "ru": "20 ноября 2022\u202fг., 20:00",
              "en": "November 20, 2022, 8:00\u202fPM"}
    assert almaty[lang] in body  # Babel's long date and short time, Almaty's local time
    for zone in live_server.kz_zones:  # 20:00 local in every zone, in Babel's format for the language
        assert _local(_close(zone), zone, lang) in body
    # the switch lists the election's languages and links to this same page
    links = page.locator("nav.langs a")
    assert [links.nth(i).get_attribute("hreflang") for i in range(links.count())] == list(KZ_LANGS)
    axe_check(page)
    screenshot(page, f"election-status-{lang}")


def test_language_switch_keeps_the_page_and_remembers(live_server: LiveServer, page: Any) -> None:
    page.goto(f"{live_server.url}/elections/{live_server.kz_id}?lang=en")
    page.locator("nav.langs a[hreflang=ru]").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{live_server.url}/elections/{live_server.kz_id}?")
    assert page.locator("h1").inner_text() == TITLES["ru"]
    page.goto(f"{live_server.url}/elections/{live_server.kz_id}")  # no ?lang=: the cookie decides
    assert page.locator("h1").inner_text() == TITLES["ru"]


def test_accept_language_then_the_first_language(live_server: LiveServer, browser: Any) -> None:
    for header, expected in (("ru-RU,ru;q=0.9,en;q=0.5", "ru"), ("ja", "kk"), ("fr-CH, en;q=0.3", "en")):
        ctx = browser.new_context(extra_http_headers={"Accept-Language": header})
        p = ctx.new_page()
        p.goto(f"{live_server.url}/elections/{live_server.kz_id}")
        assert p.locator("html").get_attribute("lang") == expected, header
        ctx.close()


@pytest.mark.parametrize("lang", KZ_LANGS)
def test_elections_list_in_each_language(live_server: LiveServer, page: Any, lang: str) -> None:
    page.goto(f"{live_server.url}/?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    cards = page.locator(".card")
    assert cards.count() == 2
    assert TITLES[lang] in page.locator("main").inner_text()
    page.locator(f"a[href^='/elections/{live_server.kz_id}']").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == TITLES[lang]
    page.goto(f"{live_server.url}/?lang={lang}")
    axe_check(page)
    screenshot(page, f"elections-{lang}")


def test_other_languages_follow_the_data(live_server: LiveServer, page: Any, browser: Any) -> None:
    """The alpen scenario is in German and French: the switch offers those two, names follow."""
    sc = load_scenario(ALPEN)
    page.goto(f"{live_server.url}/elections/{live_server.alpen_id}?lang=fr")
    assert page.locator("h1").inner_text() == sc.title.get("fr")
    links = page.locator("nav.langs a")
    assert [links.nth(i).get_attribute("hreflang") for i in range(links.count())] == ["de", "fr"]
    body = page.locator("main").inner_text()
    for zone in ("Europe/Zurich", "Europe/Vienna"):
        at = datetime(2030, 6, 2, 18, 0, tzinfo=ZoneInfo(zone))
        assert _local(at, zone, "fr") in body
    assert "2 juin 2030, 18:00" in body
    axe_check(page)
    fresh = browser.new_context()  # no cookie, no Accept-Language match: the scenario's first language
    p = fresh.new_page()
    p.goto(f"{live_server.url}/elections/{live_server.alpen_id}")
    assert p.locator("html").get_attribute("lang") == "de"
    assert p.locator("h1").inner_text() == sc.title.get("de")
    fresh.close()


def test_phone_viewport_and_keyboard(live_server: LiveServer, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    p = ctx.new_page()
    for path in ("/?lang=kk", f"/elections/{live_server.kz_id}?lang=kk"):
        p.goto(live_server.url + path)
        width = p.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path}: the page is {width} px wide at a 360 px viewport"
        axe_check(p)
    screenshot(p, "election-status-kk-phone")
    # keyboard: the skip link comes first, then the language switch, each visibly focused
    p.keyboard.press("Tab")
    assert p.evaluate("document.activeElement.className") == "skip"
    seen = []
    for _ in range(6):
        p.keyboard.press("Tab")
        seen.append(p.evaluate("document.activeElement.getAttribute('hreflang')"))
        outline = p.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none"
    assert {"kk", "ru", "en"} <= set(seen)
    ctx.close()


def test_unknown_election_is_a_page_not_a_500(live_server: LiveServer, page: Any) -> None:
    response = page.goto(f"{live_server.url}/elections/no-such?lang=ru")
    assert response.status == 404
    assert "no-such" in page.locator("main").inner_text()
