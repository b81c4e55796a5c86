"""The observer's console in Chromium: the record's hash equals the API's, the server's verification is
started from the page and shown, the record downloaded with the page's commands passes ``saylau
verify``, the forensic report of the signed protocols shows the suite's own results and its plots load;
a pollster gets the 403 page, a POST without the CSRF token is refused; axe-core at 360 px in kk, ru, en.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.conftest import VOTERS, register_devices, tally_and_share, wait_job
from saylau.api import API_PREFIX as P
from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.forensics.load import load_input
from saylau.forensics.report import write_report
from saylau.voting.device import VotingDevice
from saylau.web.observer_forensics import inputs

from .booth_server import BoothServer, booth_server
from .conftest import axe_check, screenshot
from .test_console_station import sign_in

__all__ = ["booth_server"]

SAYLAU = Path(sys.executable).parent / "saylau"
# voters of st-1 (even) and st-2 (odd) and how they vote
BALLOTS = {
    "st-1": [(0, "tokayev"), (2, "tokayev"), (4, "abden")],
    "st-2": [(1, "tokayev"), (3, "against_all")],
}


def observer_url(server: BoothServer, lang: str = "en") -> str:
    return f"{server.url}/elections/{server.eid}/observer?lang={lang}"


def run_election(server: BoothServer) -> None:
    """Voters check in and cast at both stations; polls close; both commissions sign their protocols;
    the tally is decrypted by two of the three guardians."""
    el, c = server.election, server.http
    cec = el.h["cec"]
    assert el.params is not None
    register_devices(c, el, "st-1-d1", "st-2-d1")  # type: ignore[arg-type]
    for station, ballots in BALLOTS.items():
        device = VotingDevice(el.params, f"{station}-d1", station)
        for voter, choice in ballots:
            r = c.post(
                f"{P}/elections/{el.id}/stations/{station}/checkin",
                json={"iin": VOTERS[voter]},
                headers=el.h[f"station{station[-1]}"],
            )
            assert r.status_code == 201, r.text
            pending = device.encrypt({"president": [choice]}, "main")
            device.cast(pending)
            r = c.post(
                f"{P}/elections/{el.id}/ballots",
                json={"ballot": pending.ballot.to_dict(), "device_id": device.device_id},
                headers={"Authorization": f"Bearer {r.json()['credential']}"},
            )
            assert r.status_code == 201, r.text
    assert c.post(f"{P}/elections/{el.id}/close", headers=cec).status_code == 200
    for station, ballots in BALLOTS.items():
        key = Ed25519PrivateKey.generate()
        r = c.post(
            f"{P}/elections/{el.id}/stations/{station}/key",
            json={"public_key": public_key_hex(key.public_key())},
            headers=cec,
        )
        assert r.status_code == 200, r.text
        votes = {
            o: 0
            for o in (
                "abden",
                "auesbayev",
                "dairabayev",
                "kazhyken",
                "tokayev",
                "tursynbekova",
                "against_all",
            )
        }
        for _, choice in ballots:
            votes[choice] += 1
        n = len(ballots)
        figures = ProtocolFigures(
            station=station,
            registered=5,
            ballots_received=10,
            ballots_issued=n,
            ballots_unused=10 - n,
            ballots_spoiled=0,
            ballots_in_boxes=n,
            valid=n,
            invalid=0,
            votes=votes,
        )
        signed = sign_protocol(
            figures, key, election_id=el.id, signed_at=datetime(2022, 11, 20, 15, tzinfo=UTC)
        )
        r = c.post(
            f"{P}/elections/{el.id}/stations/{station}/protocols",
            json=signed.model_dump(mode="json"),
            headers=el.h[f"station{station[-1]}"],
        )
        assert r.status_code == 201, r.text
    tally_and_share(c, el, el.guardians[:2])  # type: ignore[arg-type]
    job = c.post(f"{P}/elections/{el.id}/decrypt", headers=cec).json()
    assert wait_job(c, cec, job["id"])["state"] == "succeeded"  # type: ignore[arg-type]


def wait_for(page: Any, url: str, selector: str, timeout: float = 90) -> None:
    """Reload ``url`` until ``selector`` is on the page (a server job or the forensics finishing)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if page.locator(selector).count():
            return
        assert time.monotonic() < deadline, f"{selector} never appeared on {url}"
        time.sleep(0.5)


def test_observer_checks_the_record_the_verification_and_the_forensics(
    booth_server: BoothServer, page: Any, tmp_path: Path
) -> None:
    server = booth_server
    run_election(server)
    sign_in(page, f"{server.url}/console/login?lang=en", "observer")
    assert page.url.startswith(f"{server.url}/elections/{server.eid}/observer")  # the observer's home

    # the record hash on the page is the one the API sends with the record
    r = server.http.get(f"{P}/elections/{server.eid}/record")
    assert r.status_code == 200
    api_hash = r.headers["Saylau-Record-Hash"]
    assert page.inner_text("#record-hash").strip() == api_hash
    assert page.get_attribute("#verification-state", "data-state") == "none"

    # the observer has the server verify the election; the result is shown with the same hash
    page.click("#start-verification")
    wait_for(page, observer_url(server), "#verification-state[data-state=succeeded]")
    assert page.inner_text("#v-record-hash").strip() == api_hash
    assert page.locator("#hash-match.ok").count() == 1
    status = server.http.get(f"{P}/elections/{server.eid}/verification").json()
    assert status["state"] == "succeeded" and status["result"]["record_hash"] == api_hash

    # the record downloaded from the page's link (a real download), checked with the page's own command:
    # the record the browser saved verifies, and has the hash the API and the page name
    commands = page.inner_text("#verify-commands").strip().splitlines()
    assert len(commands) == 3 and commands[0].startswith("curl ") and commands[1].startswith("tar ")
    with page.expect_download() as download:  # a real download: the browser saves what the link gives
        page.click("#record-link")
    assert download.value.suggested_filename == f"{server.eid}-record.tar.gz"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    with tarfile.open(saved, mode="r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    verify = shlex.split(commands[2])
    assert verify[:3] == ["saylau", "verify", "record"] and api_hash in verify
    board_key = server.http.get(f"{P}/elections/{server.eid}/board").text.splitlines()[0]
    assert page.inner_text("#board-key").strip() in board_key
    done = subprocess.run(
        [str(SAYLAU), *verify[1:], "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # a wrong expected hash makes the same command fail: the check can fail
    wrong = [("0" * 64 if a == api_hash else a) for a in verify[1:]]
    assert (
        subprocess.run(
            [str(SAYLAU), *wrong, "--quiet"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        ).returncode
        != 0
    )

    # the forensic report: the suite's own results on the protocols (same seed), plots that load
    wait_for(page, observer_url(server), "#forensics-state[data-state=done]")
    seed = int(re.search(r"seed (\d+)", page.inner_text("#forensics-state")).group(1))  # type: ignore[union-attr]
    given = inputs(server.state, server.eid)
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "stations.csv").write_text(given.stations_csv)
    results, cleaning = load_input(tmp_path / "f" / "stations.csv")
    expected = write_report(results, cleaning, tmp_path / "f" / "out", seed=seed)
    assert results.n == 2 and "2 stations analysed" in page.inner_text("#forensics-state")
    rows = page.locator("#forensic-tests tbody tr")
    assert rows.count() == len(expected["tests"])
    for name, t in expected["tests"].items():
        row = page.locator(f'#forensic-tests tr[data-test="{name}"]')
        assert row.locator(".p-value").inner_text().strip() == (t["p_text"] or "–"), name
        if t["skipped"]:
            assert row.get_attribute("data-verdict") == "skipped" and t["skipped"] in row.inner_text()
    images = page.locator("figure.plot img")
    assert images.count() >= 1
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=images.nth(i).element_handle()
        )
        src = images.nth(i).get_attribute("src")
        assert page.request.get(server.url + src).headers["content-type"] == "image/png"
    assert page.request.get(f"{server.url}/elections/{server.eid}/observer/forensics/x/y.png").status == 404

    # no audit yet; the board downloads
    assert "No audit" in page.inner_text("#audit-status")
    board = page.request.get(server.url + page.get_attribute("#board-link", "href"))
    assert board.status == 200 and board.text().splitlines()[0] == board_key
    screenshot(page, "console-observer")

    # the full page on a phone, in every language: no serious axe violation, no sideways scroll
    page.set_viewport_size({"width": 360, "height": 740})
    for lang in ("kk", "ru", "en"):
        page.goto(observer_url(server, lang))
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        axe_check(page)
    screenshot(page, "console-observer-360")

    # a POST without the CSRF token is refused and starts nothing
    jobs_before = status["id"]
    r2 = page.request.post(f"{server.url}/elections/{server.eid}/observer/verify", form={"csrf": "x"})
    assert r2.status == 403 and "security token (csrf)" in r2.text()
    assert server.http.get(f"{P}/elections/{server.eid}/verification").json()["id"] == jobs_before

    # a pollster gets the 403 page
    page.click(".signed-in button")
    sign_in(page, observer_url(server), "pollster")
    assert page.inner_text("h1") == "Not allowed"
    assert "role 'pollster' may not do this" in page.inner_text("main")
    assert page.goto(observer_url(server)).status == 403


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_observer_console_is_accessible_on_a_phone(booth_server: BoothServer, browser: Any) -> None:
    server = booth_server
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        sign_in(page, observer_url(server), "observer")
        for lang in ("kk", "ru", "en"):
            page.goto(observer_url(server, lang))
            assert page.evaluate("document.documentElement.lang") == lang
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            axe_check(page)
            screenshot(page, f"console-observer-360-{lang}")
    finally:
        context.close()
