"""The polling-station commission's console in Chromium: sign in, check voters in (a second check-in
refused), enter turnout, and enter the protocol signed in the browser (a broken relation flagged by the
form and, when forced, refused by the server naming it), then a correction with a reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api.conftest import PASSWORD, VOTERS
from saylau.api import API_PREFIX
from saylau.crypto.keyfile import default_log_n, read_secret
from saylau.election.protocols import SignedProtocol

from .booth_server import BoothServer, booth_server
from .conftest import axe_check, screenshot

__all__ = ["booth_server"]

WORD = "the commission's passphrase ✓"
SCRYPT_WAIT = 180_000
"""ms to wait for a scrypt of the command line's cost (2^17) in the browser, on a loaded test machine."""
KZ_OPTIONS = ("abden", "auesbayev", "dairabayev", "kazhyken", "tokayev", "tursynbekova", "against_all")


def console_url(server: BoothServer, station: str = "st-1", lang: str = "en") -> str:
    return f"{server.url}/elections/{server.eid}/stations/{station}/console?lang={lang}"


def sign_in(page: Any, target: str, username: str) -> None:
    """Open a console page, get sent to the sign-in page, sign in, come back."""
    page.goto(target)
    page.wait_for_selector("#s-user")
    page.fill("#s-user", username)
    page.fill("#s-pass", PASSWORD)
    page.click("form.staff-form button[type=submit]")
    page.wait_for_load_state()


def fill_protocol(page: Any, figures: dict[str, int], votes: dict[str, int]) -> None:
    for name, value in figures.items():
        page.fill(f"#p-{name}", str(value))
    for option in KZ_OPTIONS:
        page.fill(f"#p-vote-{option}", str(votes.get(option, 0)))


def open_key(page: Any, key_path: Path, passphrase: str = WORD) -> None:
    """Choose the commission's key file, type its passphrase, open it (scrypt at the CLI's cost)."""
    page.set_input_files("#key-file", str(key_path))
    page.fill("#key-pass", passphrase)
    page.click("#key-open")
    page.wait_for_function("document.getElementById('key-status').textContent.startsWith('Key opened')",
                           timeout=SCRYPT_WAIT)


def relation_state(page: Any, relation: str) -> str:
    return str(page.get_attribute(f'[data-relation="{relation}"]', "data-state"))


def api(server: BoothServer, method: str, path: str, who: str = "cec", **kw: Any) -> httpx.Response:
    return server.http.request(method, f"{API_PREFIX}/elections/{server.eid}{path}",
                               headers=server.election.h[who], **kw)


# st-1's roll: VOTERS 0, 2, 4, 6, 8; the protocol below has one ballot issued (one check-in)
FIGURES = {"registered": 5, "ballots_received": 10, "ballots_issued": 1, "ballots_unused": 9,
           "ballots_spoiled": 0, "ballots_in_boxes": 1, "valid": 1, "invalid": 0}


def test_commission_checks_in_enters_turnout_and_a_signed_protocol(
    booth_server: BoothServer, page: Any, tmp_path: Path
) -> None:
    server = booth_server
    sign_in(page, console_url(server), "station1")
    assert page.url.startswith(console_url(server).split("?")[0])
    cookie = next(c for c in page.context.cookies() if c["name"] == "saylau_staff")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["secure"]  # served over http here; Secure on https
    assert "saylau_staff" not in page.evaluate("document.cookie")

    # check a voter in: the credential is shown once and is a voter's bearer token
    page.fill("#c-voter", VOTERS[0])
    page.click("form[action$='/console/checkin'] button")
    page.wait_for_selector("#voter-credential")
    credential = page.inner_text("#voter-credential").strip()
    me = server.http.get(f"{API_PREFIX}/me", headers={"Authorization": f"Bearer {credential}"})
    assert me.status_code == 200 and me.json()["role"] == "voter" and me.json()["station_id"] == "st-1"
    assert page.get_attribute("#checkin-result a", "href").endswith(f"/elections/{server.eid}/kiosk?lang=en")

    # the same voter again: refused, with the pollbook's message naming where they voted
    page.fill("#c-voter", VOTERS[0])
    page.click("form[action$='/console/checkin'] button")
    page.wait_for_selector("#checkin-result[role=alert]")
    text = page.inner_text("#checkin-result")
    assert "NOT checked in" in text and "already voted at station 'st-1'" in text
    assert VOTERS[0] not in text and VOTERS[0][-4:] in text  # only the last four digits are shown
    # a voter of another station is refused too
    page.fill("#c-voter", VOTERS[1])
    page.click("form[action$='/console/checkin'] button")
    page.wait_for_selector("#checkin-result[role=alert]")

    # turnout at a reporting hour
    page.select_option("#t-at", label="10:00")
    page.fill("#t-voted", "1")
    page.click("form[action$='/console/turnout'] button")
    page.wait_for_selector("#turnout-result[role=status]")
    rows = server.http.get(f"{API_PREFIX}/elections/{server.eid}/turnout").json()
    assert rows == [{"station_id": "st-1", "at": "2022-11-20T10:00:00+06:00", "voted": 1}]
    page.fill("#t-voted", "-3")
    page.click("form[action$='/console/turnout'] button")
    page.wait_for_selector("#turnout-result[role=alert]")

    # polls close; the commission makes its key in the browser: a passphrase-protected file in the
    # command line's format (saylau-secret/1, at its scrypt cost), its passphrase asked twice
    assert api(server, "POST", "/close").status_code == 200
    page.goto(console_url(server))
    page.fill("#key-new-pass", "too short")
    page.fill("#key-new-pass2", "too short")
    page.click("#key-generate")
    assert "at least 12 characters" in page.inner_text("#key-status")
    page.fill("#key-new-pass", WORD)
    page.fill("#key-new-pass2", WORD + "!")
    page.click("#key-generate")
    assert "differ" in page.inner_text("#key-status")
    page.fill("#key-new-pass2", WORD)
    with page.expect_download(timeout=SCRYPT_WAIT) as download:
        page.click("#key-generate")
    key_path = tmp_path / "key.json"
    download.value.save_as(key_path)
    assert download.value.suggested_filename == f"protocol-key-{server.eid}-st-1.json"
    page.wait_for_function("document.getElementById('key-public').textContent.length === 64")
    opened = read_secret(key_path, "protocol-key", WORD)  # the command line's reader opens it
    assert json.loads(key_path.read_text())["kdf"]["log_n"] == default_log_n()
    assert opened.public == {"election_id": server.eid, "station_id": "st-1",
                             "public_key": page.inner_text("#key-public").strip()}
    public = opened.public["public_key"]
    secret = opened.secret["ed25519_private_key"]
    assert secret not in key_path.read_text() and page.input_value("#key-new-pass") == ""
    r = api(server, "POST", "/stations/st-1/key", json={"public_key": public})
    assert r.status_code == 200, r.text

    # a reload forgets the key: it is opened again from the commission's file with its passphrase
    page.goto(console_url(server))
    page.set_input_files("#key-file", str(key_path))
    page.wait_for_function(f"document.getElementById('key-status').textContent.includes('{public}')")
    page.fill("#key-pass", "not the passphrase")
    page.click("#key-open")
    page.wait_for_function("document.getElementById('key-status').textContent.startsWith('Wrong passphrase')",
                           timeout=SCRYPT_WAIT)
    tampered = tmp_path / "tampered.json"
    doc = json.loads(key_path.read_text())
    tampered.write_text(json.dumps(dict(doc, nonce="00" * 12)))
    page.set_input_files("#key-file", str(tampered))
    page.fill("#key-pass", WORD)
    page.click("#key-open")
    page.wait_for_function("document.getElementById('key-status').textContent.includes('altered')",
                           timeout=SCRYPT_WAIT)
    assert page.inner_text("#key-public").strip() == "–"
    axe_check(page)  # the key's fields and their messages
    open_key(page, key_path)

    # a broken relation: the form flags it and does not send
    broken = dict(FIGURES, ballots_unused=8)
    fill_protocol(page, broken, {"tokayev": 1})
    relation = "ballots received = issued + unused + spoiled"
    assert relation_state(page, relation) == "fails"
    assert "10 != 1 + 8 + 0 (= 9)" in page.inner_text(f'[data-relation="{relation}"]')
    assert relation_state(page, "sum of options = valid") == "holds"
    page.click("#protocol-submit")
    assert "cannot be signed" in page.inner_text("#protocol-status")
    assert api(server, "GET", "/protocols").json() == []

    # forced past the form (signed by the same module and sent): the server refuses, naming it
    page.evaluate(
        """async ([secret, figures]) => {
            const m = await import('/static/console/protocol.js');
            const data = JSON.parse(document.getElementById('console-data').textContent);
            const signed = m.signProtocol(secret, {electionId: data.election_id, version: 1, supersedes: null,
              reason: '', signedAt: m.signingTime(), figures});
            document.getElementById('p-signed').value = JSON.stringify(signed);
            document.getElementById('protocol-form').submit();
        }""",
        [secret, {"station": "st-1", **broken,
                                  "votes": {o: int(o == "tokayev") for o in KZ_OPTIONS}}],
    )
    page.wait_for_selector("#protocol-result[role=alert]")
    refusal = page.inner_text("#protocol-result")
    assert f"relation '{relation}' fails: 10 != 1 + 8 + 0 (= 9)" in refusal
    assert api(server, "GET", "/protocols").json() == []

    # the correct protocol, signed in the browser, is accepted (the key opened as it is signed)
    page.set_input_files("#key-file", str(key_path))
    page.fill("#key-pass", WORD)
    fill_protocol(page, FIGURES, {"tokayev": 1})
    assert page.locator('[data-state="fails"]').count() == 0
    page.click("#protocol-submit")
    page.wait_for_selector("#protocol-result[role=status]", timeout=SCRYPT_WAIT)
    assert "version 1 accepted" in page.inner_text("#protocol-result")
    listed = api(server, "GET", "/protocols").json()
    assert [p["version"] for p in listed] == [1]
    v1 = SignedProtocol.model_validate(listed[0]["protocol"])
    v1.verify(Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)))
    assert v1.figures.votes["tokayev"] == 1 and v1.figures.ballots_unused == 9
    assert listed[0]["reconciliation"]["status"] == "matches"

    # a correction: a new signed version with a reason, superseding version 1
    open_key(page, key_path)
    fill_protocol(page, FIGURES, {"against_all": 1})
    page.click("#protocol-submit")
    assert "needs a reason" in page.inner_text("#protocol-status")
    page.fill("#p-reason", "The vote was counted for the wrong option")
    page.click("#protocol-submit")
    page.wait_for_selector("#protocol-result[role=status]", timeout=SCRYPT_WAIT)
    assert "version 2 accepted" in page.inner_text("#protocol-result")
    listed = api(server, "GET", "/protocols").json()
    assert [p["version"] for p in listed] == [1, 2]
    v2 = SignedProtocol.model_validate(listed[1]["protocol"])
    assert v2.supersedes == v1.protocol_hash() and v2.reason == "The vote was counted for the wrong option"
    assert v2.figures.votes["against_all"] == 1 and v2.figures.votes["tokayev"] == 0
    assert page.locator("#protocol-versions tbody tr").count() == 2
    screenshot(page, "console-station")

    # signing out ends the token on the server
    page.click(".signed-in button")
    page.wait_for_selector("#s-user")
    assert not [c for c in page.context.cookies() if c["name"] == "saylau_staff"]
    page.goto(console_url(server))
    page.wait_for_selector("#s-user")


def _http_sign_in(server: BoothServer, username: str) -> httpx.Client:
    """An httpx client signed in to the consoles (cookies kept), through the sign-in form."""
    c = httpx.Client(base_url=server.url, timeout=30)
    form = c.get("/console/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf
    r = c.post("/console/login", data={"csrf": csrf.group(1), "username": username, "password": PASSWORD})
    assert r.status_code == 303, r.text
    return c


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m
    return m.group(1)


def test_forms_without_the_csrf_token_are_refused(booth_server: BoothServer) -> None:
    server = booth_server
    c = _http_sign_in(server, "station1")
    try:
        path = f"/elections/{server.eid}/stations/st-1/console"
        page = c.get(path)
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        token = _csrf(page.text)
        for data in ({"voter": VOTERS[2]}, {"voter": VOTERS[2], "csrf": "0" * 64}):
            r = c.post(f"{path}/checkin", data=data)
            assert r.status_code == 403 and "security token (csrf) is missing or wrong" in r.text
        r = c.post(f"{path}/checkin", data={"voter": VOTERS[2], "csrf": token},
                   headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and "another site" in r.text
        # nothing was checked in: the voter still can be, with the token
        r = c.post(f"{path}/checkin", data={"voter": VOTERS[2], "csrf": token})
        assert r.status_code == 201 and "voter-credential" in r.text
        # a sign-in form without its token is refused too
        r = httpx.post(f"{server.url}/console/login", data={"username": "station1", "password": PASSWORD})
        assert r.status_code == 403 and "saylau_staff" not in r.headers.get("set-cookie", "")
        # sign-out needs the token, then ends the session token on the server
        assert c.post("/console/logout", data={}).status_code == 403
        bearer = {"Authorization": f"Bearer {c.cookies['saylau_staff']}"}
        assert server.http.get(f"{API_PREFIX}/me", headers=bearer).status_code == 200
        r = c.post("/console/logout", data={"csrf": token})
        assert r.status_code == 303
        assert server.http.get(f"{API_PREFIX}/me", headers=bearer).status_code == 401
        assert c.get(path).status_code == 303  # back to the sign-in page
        r = c.post(f"{path}/checkin", data={"voter": VOTERS[4], "csrf": token})
        assert r.status_code == 303 and r.headers["location"].endswith("next=" + quote(path, safe=""))
    finally:
        c.close()


def test_wrong_role_and_wrong_station_get_the_403_page(booth_server: BoothServer, page: Any) -> None:
    server = booth_server
    sign_in(page, console_url(server), "observer")
    assert page.inner_text("h1") == "Not allowed"
    assert "role 'observer' may not do this" in page.inner_text("main")
    axe_check(page)
    screenshot(page, "console-forbidden")
    response = page.goto(console_url(server))
    assert response.status == 403
    page.goto(f"{server.url}/console")  # the observer's home links to the observer's console
    assert page.get_attribute("#console-link", "href").startswith(f"/elections/{server.eid}/observer")
    axe_check(page)  # the signed-in home page
    screenshot(page, "console-signed-in")
    page.click(".signed-in button")
    sign_in(page, console_url(server, "st-1"), "station2")
    response = page.goto(console_url(server, "st-1"))
    assert response.status == 403
    assert "may not act for station 'st-1'" in page.inner_text("main")
    # a POST of another station's commission is refused the same way, CSRF token or not
    token = page.get_attribute("input[name=csrf]", "value")
    r = page.request.post(f"{server.url}/elections/{server.eid}/stations/st-1/console/checkin",
                          form={"voter": VOTERS[0], "csrf": token})
    assert r.status == 403


def test_failed_sign_in_says_why_and_is_throttled_by_the_api(booth_server: BoothServer, page: Any) -> None:
    server = booth_server
    page.goto(f"{server.url}/console/login?lang=ru")
    page.fill("#s-user", "station1")
    page.fill("#s-pass", "wrong password")
    page.click("form.staff-form button[type=submit]")
    page.wait_for_selector("#login-error")
    assert "saylau_staff" not in [c["name"] for c in page.context.cookies()]
    for _ in range(12):
        page.fill("#s-user", "station1")
        page.fill("#s-pass", "wrong password")
        page.click("form.staff-form button[type=submit]")
        page.wait_for_selector("#login-error")
    assert "too many failed logins" in page.inner_text("#login-error")


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_console_is_accessible_on_a_phone(booth_server: BoothServer, browser: Any, lang: str) -> None:
    server = booth_server
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(f"{server.url}/console/login?lang={lang}")
        axe_check(page)
        screenshot(page, f"console-login-360-{lang}")
        sign_in(page, console_url(server, lang=lang), "station1")
        page.fill("#c-voter", "123")  # the browser asks for the election's identifier: 12 digits
        page.click("form[action$='/console/checkin'] button")
        assert page.evaluate("document.getElementById('c-voter').validity.patternMismatch")
        assert page.locator("#checkin-result").count() == 0
        page.fill("#c-voter", VOTERS[0][:-1] + str((int(VOTERS[0][-1]) + 1) % 10))  # a wrong check digit
        page.click("form[action$='/console/checkin'] button")
        page.wait_for_selector("#checkin-result[role=alert]")
        assert {"kk": "ЖСН", "ru": "ИИН", "en": "IIN"}[lang] in page.inner_text("label[for=c-voter]")
        fill_protocol(page, dict(FIGURES, valid=2), {"tokayev": 1})
        assert page.locator('[data-state="fails"]').count() == 3  # no check-in yet: issued > checked in
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        axe_check(page)
        screenshot(page, f"console-station-360-{lang}")
    finally:
        context.close()


def test_without_javascript_the_server_checks_the_figures(booth_server: BoothServer, browser: Any) -> None:
    server = booth_server
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, console_url(server), "station1")
        page.fill("#c-voter", VOTERS[4])
        page.click("form[action$='/console/checkin'] button")
        page.wait_for_selector("#voter-credential")
        assert api(server, "POST", "/close").status_code == 200
        page.goto(console_url(server))
        fill_protocol(page, dict(FIGURES, invalid=1), {"tokayev": 1})
        page.click("#protocol-submit")
        page.wait_for_selector("#protocol-result[role=alert]")
        assert "relation 'valid + invalid = ballots in boxes' fails: 1 + 1 (= 2) != 1" in page.inner_text(
            "#protocol-result")
        assert page.input_value("#p-invalid") == "1"  # what was typed comes back
        fill_protocol(page, dict(FIGURES, ballots_issued=2, ballots_unused=8), {"tokayev": 1})
        page.click("#protocol-submit")
        page.wait_for_selector("#protocol-result[role=alert]")
        assert "2 ballots issued > 1 voters checked in (pollbook)" in page.inner_text("#protocol-result")
        fill_protocol(page, FIGURES, {"tokayev": 1})
        page.click("#protocol-submit")
        page.wait_for_selector("#protocol-result[role=status]")
        assert "every control relation holds" in page.inner_text("#protocol-result")
        assert api(server, "GET", "/protocols").json() == []  # nothing unsigned is ever stored
    finally:
        context.close()


def test_the_kiosk_takes_a_voter_the_console_checked_in(booth_server: BoothServer, page: Any) -> None:
    from .test_booth_kiosk import start_kiosk
    from .test_booth_remote import board_states, cast, choose_and_encrypt

    server = booth_server
    c = _http_sign_in(server, "station1")
    try:
        path = f"/elections/{server.eid}/stations/st-1/console"
        r = c.post(f"{path}/checkin", data={"voter": VOTERS[6], "csrf": _csrf(c.get(path).text)})
        assert r.status_code == 201
        m = re.search(r'id="voter-credential">([^<]+)<', r.text)
        assert m
        credential = m.group(1).strip()
    finally:
        c.close()
    start_kiosk(page, server)
    page.fill("#v-credential", "not-a-credential")
    page.click("#handoff-form button")
    page.wait_for_function("document.getElementById('booth-status').textContent.includes('could not')")
    page.fill("#v-credential", credential)
    page.click("#handoff-form button")
    page.wait_for_selector("#step-choose:not([hidden])")
    code = choose_and_encrypt(page, "tokayev")
    assert cast(page) == code
    assert board_states(server, code) == ["ballot"]


def test_a_key_made_by_the_command_line_signs_in_the_browser(
    booth_server: BoothServer, page: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from test_cli_staff_ceremony import ok

    server = booth_server
    monkeypatch.delenv("SAYLAU_SCRYPT_LOG_N", raising=False)  # the command line's own cost
    pf, key_path = tmp_path / "pass.txt", tmp_path / "st-2.key"
    pf.write_text(WORD + "\n", encoding="utf-8")
    public = ok(capsys, "protocol", "keygen", str(key_path), "--election", server.eid, "--station", "st-2",
                "--passphrase-file", str(pf)).strip()
    assert api(server, "POST", "/stations/st-2/key", json={"public_key": public}).status_code == 200
    assert api(server, "POST", "/close").status_code == 200
    sign_in(page, console_url(server, "st-2"), "station2")
    # a file of another station is refused by name before any passphrase is asked
    other = tmp_path / "st-1.key"
    ok(capsys, "protocol", "keygen", str(other), "--election", server.eid, "--station", "st-1",
       "--passphrase-file", str(pf))
    page.set_input_files("#key-file", str(other))
    page.wait_for_function("document.getElementById('key-status').textContent.includes('station st-1')")
    assert "not for this station" in page.inner_text("#key-status")
    # the commission's own file, opened with its passphrase: the protocol is signed and accepted
    open_key(page, key_path)
    assert page.inner_text("#key-public").strip() == public
    assert "not the one registered" not in page.inner_text("#key-status")
    zero = {"registered": 5, "ballots_received": 10, "ballots_issued": 0, "ballots_unused": 10,
            "ballots_spoiled": 0, "ballots_in_boxes": 0, "valid": 0, "invalid": 0}
    fill_protocol(page, zero, {})
    page.click("#protocol-submit")
    page.wait_for_selector("#protocol-result[role=status]", timeout=SCRYPT_WAIT)
    listed = [p for p in api(server, "GET", "/protocols").json() if p["station_id"] == "st-2"]
    signed = SignedProtocol.model_validate(listed[0]["protocol"])
    assert signed.signer == public
    signed.verify(Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)))
    axe_check(page)
