"""The guardian's console in Chromium: three guardians (quorum two) run the key ceremony with the very
``saylau guardian`` commands their pages show, against the live server, watching each other's progress
and the page's checks of what they published; after voting, two decrypt and the third is missing: the
page names it, shows the compensated decryption and that the result verifies, with the API's figures.
A tampered record makes the checks fail; an observer gets the 403 page; axe-core in kk, ru, en, 360 px.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.conftest import PASSWORD, VOTERS, register_devices, wait_job
from saylau.api import API_PREFIX as P
from saylau.crypto import ElectionParameters
from saylau.store.models import GuardianRow
from saylau.voting.device import VotingDevice

from .booth_server import BoothServer, running_booth_server
from .conftest import axe_check, screenshot
from .test_console_station import sign_in

SAYLAU = Path(sys.executable).parent / "saylau"
PASSPHRASE = "a guardian's long passphrase"
BALLOTS = [(0, "st-1", "tokayev"), (2, "st-1", "abden"), (1, "st-2", "tokayev")]


@pytest.fixture
def ceremony_server(database: Any, tmp_path: Path) -> Iterator[BoothServer]:
    """The booth's server with the election defined, its logins and roll, and no key ceremony yet."""
    with running_booth_server(database, tmp_path, ceremony=False) as server:
        yield server


def console_url(server: BoothServer, lang: str = "en") -> str:
    return f"{server.url}/elections/{server.eid}/guardian?lang={lang}"


def step(page: Any) -> tuple[str, str]:
    """The step the page asks for and whom it waits for."""
    el = page.locator("#step")
    return str(el.get_attribute("data-step")), str(el.get_attribute("data-waiting"))


def run_shown_command(page: Any, workdir: Path) -> str:
    """Run the command the page shows (as the guardian would type it) on this machine; its output."""
    argv = shlex.split(page.inner_text("#step-command").strip())
    assert argv[:2] == ["saylau", "guardian"], argv
    env = {**os.environ, "SAYLAU_PASSPHRASE": PASSPHRASE, "SAYLAU_PASSWORD": PASSWORD,
           "SAYLAU_SCRYPT_LOG_N": "14", "COLUMNS": "200"}
    workdir.mkdir(exist_ok=True)
    done = subprocess.run([str(SAYLAU), *argv[1:]], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def progress_on_page(page: Any) -> list[dict[str, Any]]:
    rows = page.locator("#progress tbody tr")
    out = []
    for i in range(rows.count()):
        r = rows.nth(i)
        out.append({
            "index": int(r.get_attribute("data-guardian")),
            "record": r.get_attribute("data-record") == "true",
            "shares_sent": int(r.get_attribute("data-sent")),
            "shares_received": int(r.get_attribute("data-received")),
            "finished": r.get_attribute("data-finished") == "true",
            "partial_decryption": r.get_attribute("data-partial") == "true",
        })
    return out


def progress_of_api(server: BoothServer) -> list[dict[str, Any]]:
    body = server.http.get(f"{P}/elections/{server.eid}/ceremony").json()
    return [{**p, "shares_sent": len(p["shares_sent"]), "shares_received": len(p["shares_received"])}
            for p in body["progress"]]


def checks(page: Any, column: int) -> list[str]:
    """Each guardian's state in the checks table: column 1 the records, 2 the partial decryptions."""
    cells = page.locator(f"#checks tbody tr td:nth-of-type({column})")
    return [str(cells.nth(i).get_attribute("data-state")) for i in range(cells.count())]


def cast_and_tally(server: BoothServer) -> dict[str, int]:
    """Open voting, three voters cast at both stations, close, tally; the votes cast per option."""
    el, c = server.election, server.http
    r = c.get(f"{P}/elections/{el.id}")
    el.params = ElectionParameters.from_dict(r.json()["parameters"])
    assert c.post(f"{P}/elections/{el.id}/open", headers=el.h["cec"]).status_code == 200
    register_devices(c, el, "st-1-d1", "st-2-d1")  # type: ignore[arg-type]
    cast: dict[str, int] = {}
    devices = {s: VotingDevice(el.params, f"{s}-d1", s) for s in ("st-1", "st-2")}
    for voter, station, choice in BALLOTS:
        device = devices[station]
        r = c.post(f"{P}/elections/{el.id}/stations/{station}/checkin", json={"iin": VOTERS[voter]},
                   headers=el.h[f"station{station[-1]}"])
        assert r.status_code == 201, r.text
        pending = device.encrypt({"president": [choice]}, "main")
        device.cast(pending)
        r = c.post(f"{P}/elections/{el.id}/ballots",
                   json={"ballot": pending.ballot.to_dict(), "device_id": device.device_id},
                   headers={"Authorization": f"Bearer {r.json()['credential']}"})
        assert r.status_code == 201, r.text
        cast[choice] = cast.get(choice, 0) + 1
    assert c.post(f"{P}/elections/{el.id}/close", headers=el.h["cec"]).status_code == 200
    job = c.post(f"{P}/elections/{el.id}/tally", headers=el.h["cec"]).json()
    assert wait_job(c, el.h["cec"], job["id"])["state"] == "succeeded"  # type: ignore[arg-type]
    return cast


def test_guardians_hold_the_ceremony_and_decrypt_with_one_missing(
    ceremony_server: BoothServer, browser: Any, tmp_path: Path
) -> None:
    server = ceremony_server
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(3)]
    pages = [ctx.new_page() for ctx in contexts]
    try:
        _walk(server, pages, tmp_path)
    finally:
        for ctx in contexts:
            ctx.close()


def _walk(server: BoothServer, pages: list[Any], tmp_path: Path) -> None:
    url = console_url(server)
    g1, g2, g3 = pages
    # a guardian signing in lands on its console
    g1.goto(f"{server.url}/console/login?lang=en")
    g1.fill("#s-user", "guardian1")
    g1.fill("#s-pass", PASSWORD)
    g1.click("form.staff-form button[type=submit]")
    g1.wait_for_load_state()
    assert g1.url.startswith(f"{server.url}/elections/{server.eid}/guardian")
    sign_in(g2, url, "guardian2")
    sign_in(g3, url, "guardian3")
    for i, p in enumerate(pages, start=1):
        assert step(p) == ("keygen", "")
        command = p.inner_text("#step-command")
        for part in (f"--server {server.url}", f"--election {server.eid}", f"--index {i}",
                     f"--user guardian{i}"):
            assert part in command
        assert p.locator("input[type=password]").count() == 0  # the page never asks for a secret
    assert progress_on_page(g1) == progress_of_api(server)
    assert checks(g1, 1) == ["none", "none", "none"]
    work = [tmp_path / f"guardian{i}" for i in (1, 2, 3)]

    # step 1: guardian 1 makes its key file; its page waits for the other records, and checks its own
    assert "record published" in run_shown_command(g1, work[0])
    g1.goto(url)
    assert step(g1) == ("wait-records", "2,3")
    assert checks(g1, 1) == ["pass", "none", "none"]
    assert progress_on_page(g1) == progress_of_api(server)
    screenshot(g1, "console-guardian-ceremony")
    for p, w in ((g2, work[1]), (g3, work[2])):
        p.goto(url)
        run_shown_command(p, w)

    # step 2: the shares; guardian 1 sees guardian 2's arrive
    for p, w in zip(pages, work, strict=True):
        p.goto(url)
        assert step(p)[0] == "shares"
        assert checks(p, 1) == ["pass", "pass", "pass"]
        run_shown_command(p, w)
        if p is g1:
            g1.goto(url)
            assert step(g1) == ("wait-shares", "2,3")
    # step 3: each checks its shares and finishes
    for n, (p, w) in enumerate(zip(pages, work, strict=True), start=1):
        p.goto(url)
        assert step(p)[0] == "finish"
        run_shown_command(p, w)
        p.goto(url)
        waiting = ",".join(str(j) for j in range(n + 1, 4))
        assert step(p) == (("wait-finish", waiting) if n < 3 else ("wait-key", ""))
    g1.goto(url)
    assert step(g1) == ("wait-key", "")
    assert progress_on_page(g1) == progress_of_api(server)
    assert g1.get_attribute("#joint-key-check", "data-state") == "none"
    r = server.http.post(f"{P}/elections/{server.eid}/key", headers=server.election.h["cec"])
    assert r.status_code == 200, r.text
    g1.goto(url)
    assert step(g1)[0] == "ceremony-done"
    assert g1.get_attribute("#joint-key-check", "data-state") == "pass"
    assert g1.get_attribute("#base-hash-check", "data-state") == "pass"

    # the checks can fail: a record whose proof the server's copy no longer carries
    state = server.state
    with state.transaction() as s:
        row = s.get(GuardianRow, (server.eid, 3))
        honest = dict(row.record)
        proofs = [dict(p) for p in honest["proofs"]]
        last = proofs[0]["response"][-1]
        proofs[0]["response"] = proofs[0]["response"][:-1] + ("0" if last != "0" else "1")
        row.record = {**honest, "proofs": proofs}
    g1.goto(url)
    assert checks(g1, 1)[:2] == ["pass", "pass"] and checks(g1, 1)[2] == "fail"
    assert g1.get_attribute("#joint-key-check", "data-state") == "fail"
    with state.transaction() as s:
        s.get(GuardianRow, (server.eid, 3)).record = honest
    g1.goto(url)
    assert checks(g1, 1) == ["pass", "pass", "pass"]

    # voting, the close and the tally; then two guardians decrypt, the third is missing
    cast = cast_and_tally(server)
    for p in pages:
        p.goto(url)
        assert step(p)[0] == "decrypt"
        assert "saylau guardian decrypt" in p.inner_text("#step-command")
    assert "published key checked" in run_shown_command(g1, work[0])
    g1.goto(url)
    assert step(g1) == ("wait-decryption", "2,3")
    assert g1.get_attribute("#decryption-count", "data-published") == "1"
    assert g1.locator("#decryption-short").count() == 1 and g1.locator("#compensation").count() == 0
    assert checks(g1, 2) == ["pass", "none", "none"]
    g2.goto(url)
    run_shown_command(g2, work[1])
    g1.goto(url)
    assert g1.locator("#decryption-short").count() == 0
    assert g1.get_attribute("#compensation", "data-missing") == "3"
    assert checks(g1, 2) == ["pass", "pass", "none"]
    assert progress_on_page(g1) == progress_of_api(server)
    tally = server.http.get(f"{P}/elections/{server.eid}/tally").json()
    scopes = [s for s in tally["scopes"] if s["scope"] != "station"]
    assert f"({len(scopes)} of {len(tally['scopes'])} tallies)" in g1.inner_text("#scopes-checked")
    screenshot(g1, "console-guardian-decryption")

    # the CEC combines the two; the page shows the result decrypted, compensated for 3, verified
    cec = server.election.h["cec"]
    job = server.http.post(f"{P}/elections/{server.eid}/decrypt", headers=cec).json()
    assert wait_job(server.http, cec, job["id"])["state"] == "succeeded"  # type: ignore[arg-type]
    results = server.http.get(f"{P}/elections/{server.eid}/results").json()
    for p in (g1, g3):
        p.goto(url)
        assert step(p) == ("done", "3")
        assert p.get_attribute("#result-check", "data-state") == "pass"
        assert p.get_attribute("#result-check", "data-combined") == "1,2"
        assert p.get_attribute("#result-check", "data-compensated") == "3"
    rows = g1.locator("#counts-president-table tbody tr")
    shown = {rows.nth(i).get_attribute("data-selection"): int(rows.nth(i).get_attribute("data-count"))
             for i in range(rows.count())}
    assert shown == results["nation"]["counts"]["president"]
    assert {k: v for k, v in shown.items() if v} == cast
    assert g1.inner_text("#phase") == "Results decrypted and published"
    screenshot(g1, "console-guardian")

    # every language, and a phone: no serious axe violation, no sideways scroll
    for lang in ("kk", "ru", "en"):
        g1.goto(console_url(server, lang))
        assert g1.evaluate("document.documentElement.lang") == lang
        axe_check(g1)
        if lang == "kk":
            screenshot(g1, "console-guardian-kk")
    g1.set_viewport_size({"width": 360, "height": 740})
    for lang in ("kk", "ru", "en"):
        g1.goto(console_url(server, lang))
        assert g1.evaluate("document.documentElement.scrollWidth") <= 360
        axe_check(g1)
    screenshot(g1, "console-guardian-360")

    # another role gets the 403 page
    g3.click(".signed-in button")
    sign_in(g3, url, "observer")
    assert g3.inner_text("h1") == "Not allowed"
    assert "role 'observer' may not do this" in g3.inner_text("main")
    assert g3.goto(url).status == 403
