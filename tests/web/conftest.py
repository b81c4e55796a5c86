"""Fixtures for the browser tests: a live saylau server with seeded elections, Chromium, axe-core.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``, installed by ``scripts/ensure-chromium.sh``,
which ``make test`` runs), driven by Playwright for Python; no browser is ever downloaded.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from saylau.api import API_PREFIX, Settings, create_app
from saylau.election.scenario import load_scenario
from saylau.store.accounts import create_user

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SAYLAU_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "build" / "screenshots"
ALPEN = ROOT / "tests" / "fixtures" / "scenarios" / "alpen"
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class LiveServer:
    """A saylau server on a loopback port with two elections: kz-2022 (kk, ru, en) and alpen (de, fr)."""

    url: str
    kz_id: str
    alpen_id: str
    kz_zones: tuple[str, ...]


class ThreadedServer:
    """A saylau app served by uvicorn in a thread on a free loopback port, until ``stop``."""

    def __init__(self, app: Any) -> None:
        """Start serving ``app``; raise if the server has not started within 30 s."""
        import uvicorn

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", ws="none", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise AssertionError("the saylau server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Ask the server to exit and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kz_manifest() -> tuple[dict[str, Any], tuple[str, ...]]:
    """kz-2022 on one station per time zone (the pages must show each zone's closing)."""
    sc = load_scenario("kz-2022")
    terr = sc.territory_index
    first: dict[str, str] = {}
    for st in terr.stations:
        first.setdefault(terr.time_zone(st.id), st.id)
    return sc.to_manifest(station_ids=first.values()).to_json_obj(), tuple(first)


def staff_app(database: Any, tmp_path: Path) -> Any:
    """The browser tests' application on ``database``: cheap hashing, no job workers, a CEC login ``cec``."""
    settings = Settings(
        database_url=database.url, db_schema=database.schema,
        board_key_file=tmp_path / "board.pem", revote_key_file=tmp_path / "revote.key",
        job_workers=0, pool_size=4, verify_processes=0,
        argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1,
    )
    app = create_app(settings)
    state = app.state.saylau
    with state.transaction() as s:
        create_user(s, "cec", PASSWORD, "cec", hasher=state.hasher)
    return app


@pytest.fixture
def live_server(database: Any, tmp_path: Path) -> Iterator[LiveServer]:
    """A uvicorn server in a thread of this process, on the test's database, with the elections defined."""
    app = staff_app(database, tmp_path)
    state = app.state.saylau
    live = ThreadedServer(app)
    port = live.port
    url = f"http://127.0.0.1:{port}"
    kz, zones = _kz_manifest()
    alpen = load_scenario(ALPEN).to_manifest().to_json_obj()
    with httpx.Client(base_url=url + API_PREFIX, timeout=30) as c:
        r = c.post("/auth/login", json={"username": "cec", "password": PASSWORD})
        cec = {"Authorization": f"Bearer {r.json()['token']}"}
        for m in (kz, alpen):
            r = c.post("/elections", json={"manifest": m, "guardians": 3, "quorum": 2}, headers=cec)
            assert r.status_code == 201, r.text
    try:
        yield LiveServer(url, kz["election_id"], alpen["election_id"], zones)
    finally:
        live.stop()
        state.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium, launched once per test process."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (apt-get install -y chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page, 1280 × 800."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()


def axe_check(page: Any) -> list[dict[str, Any]]:
    """Run axe-core on the page; fail on any serious or critical violation, return all violations."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make js` (npm ci installs axe-core)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations: list[dict[str, Any]] = result["violations"]
    bad = [v for v in violations if v.get("impact") in ("serious", "critical")]
    assert not bad, "axe: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad
    )
    return violations


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG of the page in build/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
