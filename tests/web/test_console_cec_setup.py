"""The CEC sets up an election in Chromium with real clicks: kz-2022 on a few stations from the "new
election" form (bad choices refused with the API's message), a commission login and a guardian login,
a station's protocol key, and the applications decided — every page's figures equal to the API's. Then
the station-reporting dashboard's forensic flags, equal to the forensics suite's on the stored protocols.
axe-core on every new page (en, kk, a 360-px phone), screenshots in build/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.conftest import CSV, VOTERS, roll_csv
from saylau.api import API_PREFIX
from saylau.election.election_request import election_request
from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.election.scenario import load_scenario
from saylau.election.voter_roll import make_iin

from .booth_server import BoothServer, running_booth_server
from .conftest import PASSWORD, ThreadedServer, axe_check, screenshot, staff_app
from .public_site_seed import UPHELD
from .test_console_cec import KZ_OPTIONS, api, dashboard_rows, sign_in


@pytest.fixture
def bare_server(database: Any, tmp_path: Path) -> Iterator[tuple[str, httpx.Client]]:
    """A live server with only the CEC's login: no election yet; and an API client signed in as the CEC."""
    app = staff_app(database, tmp_path)
    live = ThreadedServer(app)
    try:
        with httpx.Client(base_url=live.url + API_PREFIX, timeout=30) as c:
            token = c.post("/auth/login", json={"username": "cec", "password": PASSWORD}).json()["token"]
            c.headers["Authorization"] = f"Bearer {token}"
            yield live.url, c
    finally:
        live.stop()
        app.state.saylau.engine.dispose()


def rows(page: Any, table: str, key: str) -> dict[str, dict[str, str]]:
    """A table's rows by their ``data-<key>`` attribute: each ``td[data-col]`` cell's text."""
    out = {}
    for tr in page.query_selector_all(f"#{table} tbody tr"):
        cells = tr.query_selector_all("td[data-col]")
        out[str(tr.get_attribute(f"data-{key}"))] = {
            str(td.get_attribute("data-col")): td.inner_text().strip() for td in cells}
    return out


def new_election(page: Any, scenario: str, stations: str, guardians: int, quorum: int) -> None:
    page.select_option("#n-scenario", scenario)
    page.fill("#n-stations", stations)
    page.fill("#n-guardians", str(guardians))
    page.fill("#n-quorum", str(quorum))
    page.click("#new-preview")
    page.wait_for_load_state()


def test_cec_sets_up_an_election_from_the_scenario(
    bare_server: tuple[str, httpx.Client], page: Any, browser: Any
) -> None:
    url, c = bare_server
    sc = load_scenario("kz-2022")
    terr = sc.territory_index
    other_region = next(s.id for s in terr.stations if terr.region_of(s.id).id != terr.region_of(
        terr.stations[0].id).id)
    chosen = [terr.stations[0].id, terr.stations[1].id, other_region]

    # sign in, the elections list (none yet), the form
    sign_in(page, f"{url}/console/cec?lang=en", "cec")
    page.click("a[href^='/console/cec/new']")
    page.wait_for_selector("#new-form")
    assert "kz-2022" in [o.get_attribute("value") for o in page.query_selector_all("#n-scenario option")]
    axe_check(page)

    # an unknown station: refused at the preview, naming it
    new_election(page, "kz-2022", "nowhere-1", 3, 2)
    assert "nowhere-1" in page.inner_text("#new-error") and page.query_selector("#preview") is None

    # the preview of kz-2022 on three stations: the request `saylau manifest` writes
    new_election(page, "kz-2022", ", ".join(chosen), 3, 4)
    expected = election_request(sc, 3, 2, chosen)
    m = expected["manifest"]
    assert page.inner_text("#p-id") == m["election_id"]
    assert page.get_attribute("#p-stations", "data-count") == "3"
    assert page.get_attribute("#p-regions", "data-count") == str(len(m["regions"])) == "2"
    listed = page.query_selector_all("#p-station-list tbody tr")
    assert [tr.get_attribute("data-station") for tr in listed] == chosen
    assert len(page.query_selector_all("#p-options li")) == len(sc.options)
    assert "IIN" in page.inner_text("#p-voter-id") and "kz-iin" in page.inner_text("#p-voter-id")
    axe_check(page)
    # a quorum above the guardians: the API refuses it, the form says so, nothing is defined
    page.click("#new-create")
    page.wait_for_selector("#new-error")
    assert "field 'quorum': 4 exceeds guardians 3" in page.inner_text("#new-error")
    assert c.get("/elections").json() == []
    page.fill("#n-quorum", "2")
    page.click("#new-preview")
    page.wait_for_selector("#preview")
    for lang in ("kk",):
        page.goto(f"{url}/console/cec/new?lang={lang}")
        axe_check(page)
    page.goto(f"{url}/console/cec/new?lang=en")
    new_election(page, "kz-2022", " ".join(chosen), 3, 2)
    screenshot(page, "console-cec-new-preview")
    page.click("#new-create")
    page.wait_for_selector("#phase[data-phase=setup]")
    assert page.query_selector("#action-done") is not None
    eid = m["election_id"]
    e = c.get(f"/elections/{eid}").json()
    assert (e["guardians"], e["quorum"], e["phase"]) == (3, 2, "setup")
    assert e["manifest"] == m and e["voter_id"] == expected["voter_id"]
    assert e["electoral_rules"] == expected["electoral_rules"] and e["candidacy_rules"] is not None
    assert e["registered_at_nomination"] == expected["registered_at_nomination"]
    # the same scenario again: the election exists, refused (409) with the API's message
    page.goto(f"{url}/console/cec/new?lang=en")
    new_election(page, "kz-2022", chosen[0], 3, 2)
    page.click("#new-create")
    page.wait_for_selector("#new-error")
    assert "already defined" in page.inner_text("#new-error")

    # users: a commission login with a drawn password, a guardian login with a typed one
    page.click("a[href^='/console/cec/users']")
    page.wait_for_selector("#user-form")
    page.fill("#u-name", "abai-commission")
    page.select_option("#u-role", "station")
    page.select_option("#u-election", eid)
    page.fill("#u-station", chosen[0])
    page.click("#user-create")
    page.wait_for_selector("#user-created")
    drawn = page.inner_text("#user-password")
    r = c.post("/auth/login", json={"username": "abai-commission", "password": drawn})
    assert r.status_code == 200 and r.json()["station_id"] == chosen[0], r.text
    page.fill("#u-name", "guardian-one")
    page.select_option("#u-role", "guardian")
    page.select_option("#u-election", eid)
    page.fill("#u-guardian", "1")
    page.fill("#u-password", "short one")
    page.click("#user-create")
    page.wait_for_selector("#user-error")
    assert "at least 12 characters" in page.inner_text("#user-error")  # the policy, as the API words it
    assert page.input_value("#u-name") == "guardian-one"  # the form keeps what was typed
    page.fill("#u-guardian", "4")
    page.fill("#u-password", PASSWORD)
    page.click("#user-create")
    page.wait_for_selector("#user-error")
    assert "guardian_index" in page.inner_text("#user-error")  # only 3 guardians
    page.fill("#u-guardian", "1")
    page.fill("#u-password", PASSWORD)
    page.click("#user-create")
    page.wait_for_selector("#user-created")
    assert page.query_selector("#user-password") is None  # a typed password is never shown
    listed = c.get("/users").json()
    shown = rows(page, "users", "user")
    assert list(shown) == [u["username"] for u in listed] == ["cec", "abai-commission", "guardian-one"]
    for u in listed:
        assert shown[u["username"]] == {"election_id": u["election_id"] or "–",
                                        "station_id": u["station_id"] or "–",
                                        "guardian_index": str(u["guardian_index"] or "–")}
    assert drawn not in page.content()  # shown once only
    axe_check(page)
    page.goto(f"{url}/console/cec/users?lang=kk")
    axe_check(page)
    screenshot(page, "console-cec-users-kk")

    # the station key: as `saylau protocol keygen` prints it, registered and published
    key = public_key_hex(Ed25519PrivateKey.generate().public_key())
    page.goto(f"{url}/console/cec/{eid}/keys?lang=en")
    assert page.get_attribute("#keys-registered", "data-count") == "0"
    page.fill("#k-station", chosen[0])
    page.fill("#k-key", key.upper() + "\n")
    page.click("#key-register")
    page.wait_for_selector("#key-done")
    stations = c.get(f"/elections/{eid}/stations").json()
    assert {s["station_id"]: s["public_key"] for s in stations} == {chosen[0]: key, chosen[1]: None,
                                                                     chosen[2]: None}
    assert page.get_attribute(f"#keys tr[data-station='{chosen[0]}']", "data-key") == key
    assert page.get_attribute("#keys-registered", "data-count") == "1"
    assert page.get_attribute("#keys-total", "data-count") == str(len(stations))
    board = httpx.get(f"{url}{API_PREFIX}/elections/{eid}/board").text
    assert key in board
    # another key for the same station, and a key that is not one: refused, named
    page.fill("#k-station", chosen[0])
    page.fill("#k-key", public_key_hex(Ed25519PrivateKey.generate().public_key()))
    page.click("#key-register")
    page.wait_for_selector("#key-error")
    assert "already registered" in page.inner_text("#key-error")
    page.fill("#k-station", chosen[1])
    page.fill("#k-key", "not a key")
    page.click("#key-register")
    page.wait_for_selector("#key-error")
    assert "public_key" in page.inner_text("#key-error")
    assert c.get(f"/elections/{eid}/stations").json() == stations
    page.click("#keys-missing")
    missing = page.query_selector_all("#keys tbody tr")
    assert [tr.get_attribute("data-station") for tr in missing] == chosen[1:]
    axe_check(page)

    # the applicants file (as the API takes them), the commission decides by clicks
    applicants = [*sc.applicants[:2], next(a for a in sc.applicants if a.id == UPHELD)]
    for a in applicants:
        r = c.post(f"/elections/{eid}/applications", json={"applicant": a.model_dump(mode="json")})
        assert r.status_code == 201, r.text
    page.click("nav.console-nav a[href*='/applications']")
    page.wait_for_selector("section.applicant")
    for a in applicants:
        page.fill(f"#d-{a.id}", (a.application_date + timedelta(days=1)).isoformat())
        page.click(f"button[data-decide='{a.id}']")
        page.wait_for_selector(f"section[data-applicant='{a.id}']:not([data-status=pending])")
    decided = {a["applicant"]["id"]: a["status"] for a in c.get(f"/elections/{eid}/applications").json()}
    assert {str(s.get_attribute("data-applicant")): s.get_attribute("data-status")
            for s in page.query_selector_all("section.applicant")} == decided
    assert set(decided.values()) <= {"registered", "refused"} and len(decided) == 3

    # a 360-px phone: the keys page fits, passes axe
    small = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        p = small.new_page()
        sign_in(p, f"{url}/console/cec/{eid}/keys?lang=kk", "cec")
        p.wait_for_selector("#keys")
        assert p.evaluate("document.documentElement.scrollWidth") <= 360
        axe_check(p)
        screenshot(p, "console-cec-keys-360")
        p.goto(f"{url}/console/cec/new?lang=en")
        assert p.evaluate("document.documentElement.scrollWidth") <= 360
        axe_check(p)
    finally:
        small.close()

    # another role: refused the new pages; a POST without the CSRF token creates nothing
    other = browser.new_context()
    try:
        p = other.new_page()
        sign_in(p, f"{url}/console?lang=en", "guardian-one")
        for path in ("/console/cec/new", "/console/cec/users", f"/console/cec/{eid}/keys"):
            response = p.goto(f"{url}{path}?lang=en")
            assert response.status == 403, path
    finally:
        other.close()
    cookies = {k["name"]: k["value"] for k in page.context.cookies()}
    r = httpx.post(f"{url}/console/cec/users", cookies=cookies,
                   data={"username": "intruder", "role": "cec", "password": PASSWORD})
    assert r.status_code == 403
    assert "intruder" not in [u["username"] for u in c.get("/users").json()]


EXTRA = 120
"""Voters added at st-1 so that its bases reach the forensics' 50 and 100."""


def _protocol(server: BoothServer, key: Ed25519PrivateKey, station: str, registered: int, issued: int,
              votes: dict[str, int]) -> dict[str, Any]:
    valid = sum(votes.values())
    figures = ProtocolFigures.model_validate({
        "station": station, "registered": registered, "ballots_received": issued + 10,
        "ballots_issued": issued,
        "ballots_unused": 10, "ballots_spoiled": 0, "ballots_in_boxes": issued, "valid": valid,
        "invalid": issued - valid, "votes": {**dict.fromkeys(KZ_OPTIONS, 0), **votes}})
    at = datetime(2022, 11, 20, 21, tzinfo=UTC)
    signed = sign_protocol(figures, key, election_id=server.eid, signed_at=at)
    return signed.model_dump(mode="json")


def test_the_dashboard_shows_the_forensic_flags(database: Any, tmp_path: Path, page: Any) -> None:
    with running_booth_server(database, tmp_path, open_it=False) as server:
        eid = server.eid
        extra = [(make_iin(date(1970, 1, 1) + timedelta(days=i), i % 2 == 0, 500 + i), f"Extra{i}",
                  (date(1970, 1, 1) + timedelta(days=i)).isoformat(), "r1", "st-1") for i in range(EXTRA)]
        r = server.http.post(f"{API_PREFIX}/elections/{eid}/roll", content=roll_csv(extra),
                             headers={**server.election.h["cec"], **CSV})
        assert r.status_code == 201, r.text
        assert api(server, "POST", f"/elections/{eid}/open").status_code == 200
        st1 = [v for i, v in enumerate(VOTERS) if i % 2 == 0] + [x[0] for x in extra]
        st2 = [v for i, v in enumerate(VOTERS) if i % 2 == 1][:3]
        for who, station, voters in (("station1", "st-1", st1), ("station2", "st-2", st2)):
            for iin in voters:
                path = f"/elections/{eid}/stations/{station}/checkin"
                r = api(server, "POST", path, who, json={"iin": iin})
                assert r.status_code == 201, r.text
        assert api(server, "POST", f"/elections/{eid}/close").status_code == 200
        roll = api(server, "GET", f"/elections/{eid}/roll").json()["stations"]
        for who, station, issued, votes in (("station1", "st-1", len(st1), {"tokayev": len(st1)}),
                                            ("station2", "st-2", 3, {"tokayev": 2, "abden": 1})):
            key = Ed25519PrivateKey.generate()
            r = api(server, "POST", f"/elections/{eid}/stations/{station}/key",
                    json={"public_key": public_key_hex(key.public_key())})
            assert r.status_code == 200, r.text
            doc = _protocol(server, key, station, roll[station]["registered"], issued, votes)
            r = api(server, "POST", f"/elections/{eid}/stations/{station}/protocols", who, json=doc)
            assert r.status_code == 201, r.text

        sign_in(page, f"{server.url}/console/cec/{eid}/stations?lang=en", "cec")
        for _ in range(120):  # the report is computed in the background: reload until it is there
            if page.query_selector("#flags-state[data-state=done]") is not None:
                break
            page.wait_for_timeout(500)
            page.reload()
        assert page.get_attribute("#flags-state", "data-state") == "done"
        shown = {sid: row["flags"] for sid, row in dashboard_rows(page).items()}
        # st-1: 125 of 125 voted, all for the winner — 100 % turnout and share, both whole percentages
        assert shown["st-1"] == ("turnout of 99% or more; winner's share of 99% or more; turnout a whole "
                                 "percentage; winner's share a whole percentage")
        assert page.get_attribute("#stations tr[data-station=st-1] td[data-col=flags]", "data-flags") == (
            "near_100_turnout near_100_share integer_turnout integer_share")
        assert shown["st-2"] == "–"  # 3 of 5: too small a base for any flag
        assert page.get_attribute("#total-flagged", "data-count") == "1"
        assert page.get_attribute("#flag-counts dd[data-flag=late_jump]", "data-count") == "0"
        assert page.get_attribute("#flag-counts dd[data-flag=near_100_turnout]", "data-count") == "1"
        # the protocols the API lists are the ones flagged
        protocols = api(server, "GET", f"/elections/{eid}/protocols").json()
        f1 = next(p for p in protocols if p["station_id"] == "st-1")["protocol"]["figures"]
        assert f1["ballots_issued"] == f1["registered"] == len(st1) >= 100
        # the filter: only the flagged station, sorted and filtered by plain links and a GET form
        page.select_option("#f-flag", "any")
        page.click("#flag-apply")
        page.wait_for_load_state()
        assert "flag=any" in page.url and list(dashboard_rows(page)) == ["st-1"]
        page.select_option("#f-flag", "late_jump")
        page.click("#flag-apply")
        page.wait_for_load_state()
        assert list(dashboard_rows(page)) == []
        query = "flag=integer_share&sort=flags&order=desc&lang=en"
        page.goto(f"{server.url}/console/cec/{eid}/stations?{query}")
        assert list(dashboard_rows(page)) == ["st-1"]
        assert "flag=integer_share" in str(page.get_attribute("a[data-sort=station]", "href"))
        for lang in ("en", "kk", "ru"):
            page.goto(f"{server.url}/console/cec/{eid}/stations?lang={lang}")
            axe_check(page)
        screenshot(page, "console-cec-stations-flags")
