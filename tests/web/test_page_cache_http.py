"""What the cache answers: gzip, ETags and 304s, Vary, the language, the captured API and static files."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.conftest import PASSWORD, ElectionDayClock, TestClient, setup_election
from saylau.api import API_PREFIX, create_app
from saylau.web.page_cache import page_cache

from .test_page_cache import _settings

PAGE = "/elections/e2022/results"


@pytest.fixture
def served(database: Any, tmp_path: Path) -> Iterator[TestClient]:
    """An application with the API tests' election, defined and keyed (not opened)."""
    from saylau.store.accounts import create_user

    app = create_app(_settings(database, tmp_path, 1))
    app.state.saylau.clock = ElectionDayClock()
    with app.state.saylau.transaction() as s:
        create_user(s, "cec", PASSWORD, "cec", hasher=app.state.saylau.hasher)
    with TestClient(app) as c:
        setup_election(c, open_it=False)
        yield c
    page_cache(app).reader.close()
    app.state.saylau.engine.dispose()


def test_page_encodings_etags_and_language(served: TestClient) -> None:
    c, cache = served, page_cache(served.app)
    plain = c.get(PAGE, headers={"Accept-Language": "en", "Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.headers["content-type"] == "text/html; charset=utf-8"
    assert plain.headers["cache-control"] == "public, max-age=10"
    assert plain.headers["vary"] == "Accept-Language, Cookie, Accept-Encoding"
    assert '<html lang="en"' in plain.text and "<script" not in plain.text
    css = c.get("/static/css/site.css", headers={"Accept-Encoding": "identity"})
    assert len(plain.content) + len(css.content) <= 300_000  # first load: the page and its stylesheet
    hits = cache.hits
    packed = c.get(PAGE, headers={"Accept-Language": "en", "Accept-Encoding": "gzip, br"})
    assert packed.headers["content-encoding"] == "gzip" and packed.content == plain.content
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert packed.headers["etag"] != plain.headers["etag"] and cache.hits == hits + 1
    for etag, enc in ((plain.headers["etag"], "identity"), (packed.headers["etag"], "gzip")):
        for inm in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            r = c.get(PAGE, headers={"Accept-Language": "en", "Accept-Encoding": enc, "If-None-Match": inm})
            assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag, inm
        other = "gzip" if enc == "identity" else "identity"
        r = c.get(PAGE, headers={"Accept-Language": "en", "Accept-Encoding": other, "If-None-Match": etag})
        assert r.status_code == 200  # another encoding is another representation
    # the language: Accept-Language, the cookie, ?lang= (which sets the cookie, privately)
    ru = c.get(PAGE, headers={"Accept-Language": "ru"})
    assert '<html lang="ru"' in ru.text and ru.headers["etag"] != packed.headers["etag"]
    c.cookies.set("saylau_lang", "kk")
    assert '<html lang="kk"' in c.get(PAGE, headers={"Accept-Language": "ru"}).text
    c.cookies.clear()
    for _ in range(2):  # rendered, then from the fast path: the same headers
        chosen = c.get(f"{PAGE}?lang=en", headers={"Accept-Language": "ru"})
        assert '<html lang="en"' in chosen.text
        assert chosen.headers["cache-control"] == "private, max-age=10"
        assert "saylau_lang=en" in chosen.headers["set-cookie"]
        c.cookies.clear()
    unknown = c.get("/elections/nope/results")
    assert unknown.status_code == 404 and c.get("/elections/nope/results").status_code == 404


def test_captured_results_json_and_static_files(served: TestClient) -> None:
    c = served
    path = f"{API_PREFIX}/elections/e2022/results"
    assert c.get(path).status_code == 404  # no results yet: passed on, never kept
    board = f"{API_PREFIX}/elections/e2022/guardians"  # a public JSON route that is not captured
    assert "etag" not in c.get(board).headers
    # hostile ids and queries reach the input guard (422 naming them), cached or not
    for hostile in (f"{API_PREFIX}/elections/e%00x/results", "/elections/e%00x/results", f"{PAGE}?lang=%00"):
        r = c.get(hostile)
        assert r.status_code == 422 and "control characters are refused" in r.text, (hostile, r.text)
    # a request with credentials always reaches the route (a bad token is refused)
    assert c.get(path, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    # static files: from memory, gzip for text, ETag and Last-Modified revalidation
    css = c.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200 and css.headers["content-encoding"] == "gzip"
    assert css.headers["cache-control"] == "public, max-age=3600"
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    on_disk = (Path(__file__).parents[2] / "src/saylau/web/static/css/site.css").read_bytes()
    assert css.content == on_disk and gzip.decompress(gzip.compress(on_disk)) == on_disk
    again = c.get("/static/css/site.css",
                  headers={"Accept-Encoding": "gzip", "If-None-Match": css.headers["etag"]})
    assert again.status_code == 304
    since = c.get("/static/css/site.css", headers={"If-Modified-Since": css.headers["last-modified"]})
    assert since.status_code == 304
    for outside in ("/static/../page_cache.py", "/static/%2e%2e/page_cache.py", "/static/css/nope.css",
                    "/static/css"):
        assert c.get(outside).status_code == 404, outside
