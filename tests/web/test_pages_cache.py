"""Cache headers: static files and pages carry an ETag and Cache-Control, and revalidate with 304."""

from __future__ import annotations

import httpx

from .conftest import LiveServer


def test_static_files_and_pages_are_cacheable(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as c:
        paths = ("/static/css/site.css", "/static/booth/index.js", f"/elections/{live_server.kz_id}?lang=kk")
        for path in paths:
            r = c.get(path)
            assert r.status_code == 200, path
            assert r.headers["etag"] and "max-age=" in r.headers["cache-control"], path
            again = c.get(path, headers={"If-None-Match": r.headers["etag"]})
            assert again.status_code == 304, path
        vendor = c.get("/static/vendor/importmap.json")
        assert vendor.status_code == 200 and "@noble/curves/" in vendor.json()["imports"]
        # a page that sets the language cookie is private to its browser
        r = c.get(f"/elections/{live_server.kz_id}?lang=ru")
        assert r.headers["cache-control"].startswith("private")
        assert "saylau_lang=ru" in r.headers["set-cookie"]
        r = c.get(f"/elections/{live_server.kz_id}", headers={"Accept-Language": "ru"})
        assert r.headers["cache-control"].startswith("public") and "Accept-Language" in r.headers["vary"]


def test_pages_without_javascript_and_within_budget(live_server: LiveServer) -> None:
    """The pages are complete HTML (no script needed to read) and small."""
    with httpx.Client(base_url=live_server.url) as c:
        for path in ("/", f"/elections/{live_server.kz_id}"):
            html = c.get(path).text
            assert "<script" not in html and "<main" in html and 'class="skip"' in html
            css = c.get("/static/css/site.css").content
            assert len(html.encode()) + len(css) < 300_000
