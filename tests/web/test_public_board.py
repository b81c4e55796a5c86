"""The board browser after a decrypted election: the API's board, checkpoints, codes, record, verification."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.api import API_PREFIX
from saylau.store.engine import make_engine
from saylau.store.models import BoardCheckpointRow
from saylau.web.i18n import babel_locale
from saylau.web.rendering import Page

from .conftest import axe_check, screenshot
from .public_seed import Db, Decrypted, databases, serve_decrypted
from .weight import first_load_bytes

LANGS = ("kk", "ru", "en")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Decrypted, Db]]:
    """One decrypted election per module and backend, served live, and its database."""
    tmp: Path = tmp_path_factory.mktemp("board")
    for db in databases(request.param, tmp):
        for live in serve_decrypted(db, tmp):
            yield live, db


@pytest.fixture
def decrypted(served: tuple[Decrypted, Db]) -> Decrypted:
    return served[0]


def _fmt(lang: str) -> Page:
    page = Page.__new__(Page)
    page.locale = babel_locale(lang)
    return page


def _board(d: Decrypted) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The API's board: header, entries, checkpoints."""
    r = httpx.get(f"{d.url}{API_PREFIX}/elections/{d.election_id}/board", timeout=30)
    assert r.status_code == 200, r.text
    rows = [json.loads(line) for line in r.text.splitlines() if line]
    return rows[0], [x for x in rows if x["type"] == "entry"], [x for x in rows if x["type"] == "checkpoint"]


@pytest.mark.parametrize("lang", LANGS)
def test_board_page_shows_the_api_board_and_checkpoints(decrypted: Decrypted, page: Any, lang: str) -> None:
    header, entries, checkpoints = _board(decrypted)
    f = _fmt(lang)
    page.goto(f"{decrypted.url}/elections/{decrypted.election_id}/board?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("#entry-count").inner_text() == f.number(len(entries))
    assert page.locator("#public-key").inner_text() == header["public_key"]
    assert page.locator("#board-id").inner_text() == header["board_id"]
    rows = page.locator("#checkpoints-table tbody tr")
    assert [int(p) for p in rows.evaluate_all("rs => rs.map(r => r.dataset.position)")] == [
        c["position"] for c in checkpoints]
    assert rows.locator(".count").all_inner_texts() == [f.number(c["count"]) for c in checkpoints]
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.ok)")) == {"true"}
    assert checkpoints[-1]["final"] and rows.last.locator("strong").count() == 1  # marked final
    listed = page.locator("#entries-table tbody tr[data-position]")
    assert listed.evaluate_all("rs => rs.map(r => [Number(r.dataset.position), r.dataset.kind])") == [
        [e["position"], e["kind"]] for e in entries[:50]]
    axe_check(page)
    screenshot(page, f"board-{lang}")


def test_board_pages_walk_every_entry(decrypted: Decrypted, page: Any) -> None:
    _, entries, checkpoints = _board(decrypted)
    assert len(entries) > 20  # the seeded election fills several pages of ten
    page.goto(f"{decrypted.url}/elections/{decrypted.election_id}/board?lang=en&per=10")
    seen: list[int] = []
    inline = 0
    while True:
        seen += [int(p) for p in page.locator("#entries-table tbody tr[data-position]").evaluate_all(
            "rs => rs.map(r => r.dataset.position)")]
        inline += page.locator("#entries-table .checkpoint-row").count()
        nxt = page.locator(".pager a[rel=next]").first
        if nxt.count() == 0:
            break
        nxt.click()
    assert seen == [e["position"] for e in entries]
    assert inline == len(checkpoints)  # each checkpoint shown after the entry it covers
    page.goto(f"{decrypted.url}/elections/{decrypted.election_id}/board?page=9999&per=10&lang=en")
    assert page.locator("#entries-table tbody tr[data-position]").last.get_attribute("data-position") == str(
        entries[-1]["position"])


def test_entry_detail_is_the_api_entry(decrypted: Decrypted, page: Any) -> None:
    _, entries, _ = _board(decrypted)
    ballot = next(e for e in entries if e["kind"] == "ballot")
    page.goto(f"{decrypted.url}/elections/{decrypted.election_id}/board/entries/{ballot['position']}?lang=ru")
    assert page.locator("#entry-hash").inner_text() == ballot["entry_hash"]
    assert page.locator("#prev-hash").inner_text() == ballot["prev_hash"]
    assert page.locator("#payload-hash").inner_text() == ballot["payload_hash"]
    assert page.locator("#entry-code").inner_text() == ballot["code"]
    assert page.locator("#entry-kind").get_attribute("data-kind") == "ballot"
    assert json.loads(page.locator("pre.payload").inner_text()) == ballot["payload"]
    axe_check(page)
    r = httpx.get(f"{decrypted.url}/elections/{decrypted.election_id}/board/entries/{len(entries)}")
    assert r.status_code == 404 and "<h1>" in r.text
    assert httpx.get(f"{decrypted.url}/elections/{decrypted.election_id}/board/entries/-1").status_code == 404


def test_tracking_code_lookup_works_without_javascript(decrypted: Decrypted, browser: Any) -> None:
    _, entries, _ = _board(decrypted)
    codes = {k: next(e["code"] for e in entries if e["kind"] == k) for k in ("challenge", "superseded")}
    cast = next(e["code"] for e in entries if e["kind"] == "ballot" and e["code"] not in codes.values())
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    p = ctx.new_page()
    cases = ((cast, "cast"), (codes["superseded"], "superseded"), (codes["challenge"], "challenged"))
    for code, status in cases:
        p.goto(f"{decrypted.url}/elections/{decrypted.election_id}/board?lang=kk")
        p.locator("#code").fill(code)
        p.locator("form.lookup button").click()
        p.wait_for_load_state()
        assert "/board/lookup?" in p.url and "lang=kk" in p.url
        assert p.locator("#lookup-result").get_attribute("data-status") == status
        api = decrypted.api(f"/elections/{decrypted.election_id}/board/codes/{code}")
        positions = p.locator("#lookup-table tbody tr").evaluate_all(
            "rs => rs.map(r => Number(r.dataset.position))")
        assert positions == [e["position"] for e in api["entries"]]
    assert p.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(p, "board-lookup-kk-phone")
    ctx.close()
    missing = httpx.get(f"{decrypted.url}/elections/{decrypted.election_id}/board/lookup",
                        params={"code": "00" * 32, "lang": "en"})
    assert missing.status_code == 200 and 'id="lookup-none"' in missing.text
    long = httpx.get(f"{decrypted.url}/elections/{decrypted.election_id}/board/lookup",
                     params={"code": "a" * 500})
    assert long.status_code == 422 and 'role="alert"' in long.text


def test_verification_and_record_hash_are_the_api_s(decrypted: Decrypted, page: Any) -> None:
    eid = decrypted.election_id
    job = decrypted.api(f"/elections/{eid}/verification")
    assert job["state"] == "succeeded"
    result = job["result"]
    f = _fmt("en")
    page.goto(f"{decrypted.url}/elections/{eid}/board?lang=en")
    assert page.locator("#verification-state").get_attribute("data-state") == "succeeded"
    assert page.locator("#v-entries").inner_text() == f.number(result["board_entries"])
    assert page.locator("#v-checkpoints").inner_text() == f.number(result["checkpoints"])
    assert page.locator("#v-ballots").inner_text() == f.number(result["ballots_verified"])
    assert page.locator("#v-head").inner_text() == result["head_hash"]
    assert page.locator("#record-hash").inner_text() == result["record_hash"]
    href = page.locator("#record-link").get_attribute("href")
    record = httpx.get(f"{decrypted.url}{href}", timeout=60)
    assert record.status_code == 200 and record.headers["Saylau-Record-Hash"] == result["record_hash"]


def test_a_forged_checkpoint_signature_shows(served: tuple[Decrypted, Db], page: Any) -> None:
    live, db = served
    engine = make_engine(db.url, db.schema, pool_size=1)
    with Session(engine) as s, s.begin():
        row = s.scalars(select(BoardCheckpointRow).where(BoardCheckpointRow.election_id == live.election_id)
                        .order_by(BoardCheckpointRow.position)).first()
        assert row is not None
        position, original = row.position, dict(row.body)
        sig = original["signature"]
        row.body = {**original, "signature": ("00" if sig[:2] != "00" else "11") + sig[2:]}
    try:
        page.goto(f"{live.url}/elections/{live.election_id}/board?lang=en")
        shown = page.locator(f"#checkpoints-table tr[data-position='{position}']")
        assert shown.get_attribute("data-ok") == "false" and "does not verify" in shown.inner_text()
        assert "does NOT verify" in page.locator("#checkpoints-state").inner_text()
    finally:
        with Session(engine) as s, s.begin():
            s.get_one(BoardCheckpointRow, (live.election_id, position, False)).body = original
        engine.dispose()


def test_board_pages_read_without_javascript_on_a_phone(decrypted: Decrypted, browser: Any) -> None:
    base = f"{decrypted.url}/elections/{decrypted.election_id}"
    for path in ("/board", "/board/entries/0", "/board/lookup?code=x"):
        r = httpx.get(base + path, headers={"Accept-Language": "ru"})
        assert "<script" not in r.text and r.headers["ETag"], path
        sep = "&" if "?" in path else "?"
        assert first_load_bytes(browser, f"{base}{path}{sep}lang=kk", javascript=False) <= 300_000, path
        for lang in LANGS:
            phone = browser.new_context(viewport={"width": 360, "height": 740})
            q = phone.new_page()
            q.goto(f"{base}{path}{sep}lang={lang}")
            assert q.evaluate("document.documentElement.scrollWidth") <= 360, (path, lang)
            axe_check(q)
            if path == "/board":
                screenshot(q, f"board-{lang}-phone")
            phone.close()
