"""The CEC console in Chromium: sign in, follow the key ceremony, import a roll with bad rows and read
the report, open and close voting with a confirmation, read the station-reporting dashboard (equal to
the API's lists), start the tally and watch it finish; another role gets 403, a POST without the CSRF
token is refused; axe-core in kk, ru and en, and a 360-px screen.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.conftest import PASSWORD, VOTERS
from saylau.api import API_PREFIX
from saylau.crypto import EncryptedTally, partial_decrypt
from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.election.voter_roll import make_iin

from .booth_server import BoothServer, running_booth_server
from .conftest import axe_check, screenshot

KZ_OPTIONS = ("abden", "auesbayev", "dairabayev", "kazhyken", "tokayev", "tursynbekova", "against_all")
NEW_VOTER = make_iin(date(1990, 5, 6), False, 321)


def sign_in(page: Any, target: str, username: str) -> None:
    """Open a console page, get sent to the sign-in page, sign in, come back."""
    page.goto(target)
    page.wait_for_selector("#s-user")
    page.fill("#s-user", username)
    page.fill("#s-pass", PASSWORD)
    page.click("form.staff-form button[type=submit]")
    page.wait_for_load_state()


def api(server: BoothServer, method: str, path: str, who: str = "cec", **kw: Any) -> httpx.Response:
    return server.http.request(method, f"{API_PREFIX}{path}", headers=server.election.h[who], **kw)


def roll_file(tmp_path: Path) -> Path:
    """One new voter and three bad rows: already on the roll, a wrong check digit, an unknown station."""
    bad_digit = VOTERS[3][:-1] + str((int(VOTERS[3][-1]) + 1) % 10)
    lines = [
        "iin,last_name,first_name,date_of_birth,region,station",
        f"{NEW_VOTER},Newvoter,Test,1990-05-06,r1,st-1",
        f"{VOTERS[0]},Voter0,Test,1960-03-01,r1,st-1",
        f"{bad_digit},Voter3,Test,1963-03-04,r1,st-2",
        f"{make_iin(date(1991, 1, 2), True, 322)},Elsewhere,Test,1991-01-02,r1,st-9",
    ]
    path = tmp_path / "roll.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_done(page: Any) -> str:
    """Wait while the job page reloads itself; the job's final state."""
    page.wait_for_selector("#job-state[data-state=succeeded], #job-state[data-state=failed]", timeout=60_000)
    return str(page.get_attribute("#job-state", "data-state"))


def dashboard_rows(page: Any) -> dict[str, dict[str, str]]:
    out = {}
    for tr in page.query_selector_all("#stations tbody tr"):
        cells = {td.get_attribute("data-col"): td.inner_text().strip()
                 for td in tr.query_selector_all("td[data-col]")}
        out[str(tr.get_attribute("data-station"))] = {**cells, "status": str(tr.get_attribute("data-status"))}
    return out


def signed_protocol(server: BoothServer, key: Ed25519PrivateKey, registered: int) -> dict[str, Any]:
    figures = ProtocolFigures.model_validate({
        "station": "st-1", "registered": registered, "ballots_received": 10, "ballots_issued": 0,
        "ballots_unused": 10, "ballots_spoiled": 0, "ballots_in_boxes": 0, "valid": 0, "invalid": 0,
        "votes": dict.fromkeys(KZ_OPTIONS, 0)})
    at = datetime(2022, 11, 20, 21, 0, tzinfo=UTC)
    p = sign_protocol(figures, key, election_id=server.eid, signed_at=at)
    return p.model_dump(mode="json")


def test_cec_console_from_ceremony_to_tally(database: Any, tmp_path: Path, page: Any, browser: Any) -> None:
    with running_booth_server(database, tmp_path, open_it=False) as server:
        eid = server.eid
        home = f"{server.url}/console/cec/{eid}?lang=en"

        # sign in: the elections list, then the election's overview with the ceremony's progress
        sign_in(page, f"{server.url}/console?lang=en", "cec")
        page.click("text=Open the CEC console")
        page.wait_for_selector("#elections")
        page.click(f"#elections a[href^='/console/cec/{eid}']")
        page.wait_for_selector("#phase[data-phase=setup]")
        assert page.inner_text("#key-state").startswith("The joint election key exists")
        rows = [tr.inner_text().split("\t") for tr in page.query_selector_all("#ceremony tbody tr")]
        assert [r[1:] for r in rows] == [["yes", "2 / 2", "yes"]] * 3
        assert page.get_attribute("#record-link", "href") == f"{API_PREFIX}/elections/{eid}/record"
        axe_check(page)

        # the roll: one new voter, three bad rows, imported by a background job; the report lists them
        page.set_input_files("#roll-file", str(roll_file(tmp_path)))
        page.check("#roll-partial")
        page.click("#roll-submit")
        assert wait_done(page) == "succeeded"
        job_id = page.url.split("/jobs/")[1].split("?")[0]
        job = api(server, "GET", f"/jobs/{job_id}").json()
        assert job["kind"] == "import_roll" and job["result"]["imported"] == 1
        shown = [tuple(td.inner_text() for td in tr.query_selector_all("td"))
                 for tr in page.query_selector_all("#rejected-rows tbody tr")]
        assert shown == [(str(r["row"]), r["field"], r["reason"]) for r in job["result"]["rejected"]]
        assert {int(r[0]) for r in shown} == {3, 4, 5} and len(shown) >= 3
        assert float(page.get_attribute("#job-progress", "value")) == 1.0
        roll = api(server, "GET", f"/elections/{eid}/roll").json()
        assert roll["total"] == 11
        axe_check(page)

        # a file refused as a whole (no partial import): the job fails and names the bad rows
        page.goto(home)
        page.set_input_files("#roll-file", str(roll_file(tmp_path)))
        page.click("#roll-submit")
        assert wait_done(page) == "failed"
        assert page.query_selector("#job-failure") is not None
        assert page.query_selector("#job-refused") is not None  # a refused file is gone: no resume offered
        assert page.query_selector("#job-resume") is None
        # every row is bad now (the new voter is on the roll since the first import)
        cells = page.query_selector_all("#rejected-rows tbody tr td:first-child")
        assert {td.inner_text() for td in cells} == {"2", "3", "4", "5"}
        assert api(server, "GET", f"/elections/{eid}/roll").json()["total"] == 11

        # open voting: a confirmation first, then the API's own open_election
        page.goto(home)
        page.click("#phase-open")
        page.wait_for_selector("#confirm-text")
        assert api(server, "GET", f"/elections/{eid}").json()["phase"] == "setup"  # not yet
        page.click("#confirm-button")
        page.wait_for_selector("#phase[data-phase=open]")
        assert api(server, "GET", f"/elections/{eid}").json()["phase"] == "open"

        # a POST without the CSRF token is refused, and changes nothing
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        r = httpx.post(f"{server.url}/console/cec/{eid}/phase", cookies=cookies,
                       data={"action": "close", "confirm": "yes"}, follow_redirects=False)
        assert r.status_code == 403 and "security token" in r.text
        assert api(server, "GET", f"/elections/{eid}").json()["phase"] == "open"

        # turnout from the stations, then close by the console
        for who, station, at, voted in (("station1", "st-1", "10:00", 1), ("station2", "st-2", "10:00", 0),
                                        ("station2", "st-2", "12:00", 2)):
            r = api(server, "POST", f"/elections/{eid}/stations/{station}/turnout", who,
                    json={"at": f"2022-11-20T{at}:00+06:00", "voted": voted})
            assert r.status_code == 201, r.text
        page.click("#phase-close")
        page.click("#confirm-button")
        page.wait_for_selector("#phase[data-phase=closed]")

        # st-1 sends its protocol (signed with its registered key)
        key = Ed25519PrivateKey.generate()
        r = api(server, "POST", f"/elections/{eid}/stations/st-1/key",
                json={"public_key": public_key_hex(key.public_key())})
        assert r.status_code == 200, r.text
        registered = roll["stations"]["st-1"]["registered"]
        r = api(server, "POST", f"/elections/{eid}/stations/st-1/protocols", "station1",
                json=signed_protocol(server, key, registered))
        assert r.status_code == 201, r.text

        # the dashboard equals the API's lists
        page.goto(f"{server.url}/console/cec/{eid}/stations?lang=en")
        turnout = api(server, "GET", f"/elections/{eid}/turnout").json()
        protocols = api(server, "GET", f"/elections/{eid}/protocols").json()
        shown_rows = dashboard_rows(page)
        assert set(shown_rows) == set(roll["stations"])
        for sid, row in shown_rows.items():
            assert int(row["turnout_reports"]) == sum(t["station_id"] == sid for t in turnout)
            assert int(row["protocol_versions"]) == sum(p["station_id"] == sid for p in protocols)
            mine = [p for p in protocols if p["station_id"] == sid]
            assert row["status"] == (mine[-1]["reconciliation"]["status"] if mine else "none")
        reported = {t["station_id"] for t in turnout}
        sent = {p["station_id"] for p in protocols}
        assert page.get_attribute("#total-turnout", "data-count") == str(len(reported)) == "2"
        assert page.get_attribute("#total-protocols", "data-count") == str(len(sent)) == "1"
        region = page.query_selector("#regions tbody tr[data-region=r1]").inner_text().split("\t")
        assert region[1:4] == ["2", "2", "1 (50.0%)"]
        tile = page.inner_html("#reporting-map-t")
        assert tile and "1 of 2 stations sent a protocol" in page.inner_html("svg.chart")
        # sorting by a column (a plain link: no script needed), then reversed
        page.click("a[data-sort=turnout_reports]")
        assert "sort=turnout_reports&order=asc" in page.url
        assert list(dashboard_rows(page)) == ["st-1", "st-2"]
        page.click("a[data-sort=turnout_reports]")
        assert "order=desc" in page.url
        assert list(dashboard_rows(page)) == ["st-2", "st-1"]
        assert page.get_attribute("#stations th[aria-sort]", "aria-sort") == "descending"
        for lang in ("kk", "ru", "en"):
            page.goto(f"{server.url}/console/cec/{eid}/stations?lang={lang}")
            axe_check(page)
        screenshot(page, "console-cec-stations")

        # the tally job, started from the console, watched to the end
        page.goto(home)
        page.click("#start-tally")
        assert wait_done(page) == "succeeded"
        assert api(server, "GET", f"/elections/{eid}/tally").status_code == 200
        page.goto(home)
        assert page.query_selector("#jobs tr[data-kind=tally][data-state=succeeded]") is not None
        # the decryption started before any guardian shared: the job fails, naming why; once two of the
        # three guardians have posted their partial decryptions, Resume finishes it
        page.click("#start-decrypt")
        assert wait_done(page) == "failed"
        assert "0 partial decryptions, quorum is 2" in page.inner_text("#job-failure")
        scopes = api(server, "GET", f"/elections/{eid}/tally").json()["scopes"]
        for g in (server.election.guardians[0], server.election.guardians[2]):
            partials = [{"scope": sc["scope"], "scope_id": sc["scope_id"], "partial": partial_decrypt(
                g, EncryptedTally.from_dict(sc["encrypted"]), published=server.election.params).to_dict()}
                for sc in scopes]
            r = api(server, "POST", f"/elections/{eid}/guardians/{g.index}/partial-decryption",
                    f"guardian{g.index}", json={"partials": partials})
            assert r.status_code == 201, r.text
        with page.expect_navigation():  # the same URL: wait for it, not for the failed page's state
            page.click("#job-resume")
        assert wait_done(page) == "succeeded"
        assert page.inner_text("#job-state") == "finished"
        assert api(server, "GET", f"/elections/{eid}").json()["phase"] == "decrypted"
        page.goto(home)
        assert page.query_selector("#jobs tr[data-kind=decrypt][data-state=succeeded]") is not None
        for lang in ("kk", "ru"):
            page.goto(f"{server.url}/console/cec/{eid}?lang={lang}")
            axe_check(page)
        screenshot(page, "console-cec-overview")

        # a 360-px screen: nothing wider than the screen but the scrolling tables
        small = browser.new_context(viewport={"width": 360, "height": 740})
        try:
            p = small.new_page()
            sign_in(p, f"{server.url}/console/cec/{eid}/stations?lang=ru", "cec")
            p.wait_for_selector("#stations")
            assert p.evaluate("document.documentElement.scrollWidth") <= 360
            axe_check(p)
            screenshot(p, "console-cec-stations-360")
        finally:
            small.close()

        # another role: the 403 page
        other = browser.new_context()
        try:
            p = other.new_page()
            sign_in(p, f"{server.url}/console/cec?lang=en", "station1")
            response = p.goto(f"{server.url}/console/cec/{eid}?lang=en")
            assert response.status == 403 and "Not allowed" in p.inner_text("h1")
            axe_check(p)
        finally:
            other.close()
