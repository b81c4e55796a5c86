"""The pollster's console in Chromium: the sample design from a CSV, an interviews CSV with a bad row
refused naming it (nothing stored), then a good one; the pollster's own estimate with intervals while the
embargo holds, hidden from another pollster and from the public API; one interview typed in; the
estimate published once the CEC closes voting. Wrong role → 403 page, no CSRF token → refused, axe-core
at 360 px in kk, ru and en.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.conftest import PASSWORD, VOTERS
from saylau.api import API_PREFIX as P

from .booth_server import BoothServer, booth_server
from .conftest import axe_check, screenshot
from .test_console_station import sign_in

__all__ = ["booth_server"]

DESIGN = "station_id,stratum,pi\nst-1,all,0.5\nst-2,all,0.5\n"
BAD = "station_id,answer\nst-1,tokayev\nst-2,nobody\nst-9,abden\nst-1,refused\n"
GOOD = (
    "station_id,answer\n"
    + "st-1,tokayev\n" * 3
    + "st-1,abden\nst-2,tokayev\nst-2,against_all\nst-2,refused\n"
)


def pollster_url(server: BoothServer, lang: str = "en") -> str:
    return f"{server.url}/elections/{server.eid}/pollster?lang={lang}"


def upload(page: Any, tmp: Path, selector: str, button: str, text: str, name: str) -> None:
    path = tmp / name
    path.write_text(text)
    page.set_input_files(selector, str(path))
    page.click(button)
    page.wait_for_load_state()


def check_in_voters(server: BoothServer) -> None:
    """Voters at both stations (the estimate weighs each station by its voters so far)."""
    el = server.election
    for voter, station in ((0, "st-1"), (2, "st-1"), (1, "st-2")):
        r = server.http.post(
            f"{P}/elections/{el.id}/stations/{station}/checkin",
            json={"iin": VOTERS[voter]},
            headers=el.h[f"station{station[-1]}"],
        )
        assert r.status_code == 201, r.text


def test_pollster_uploads_interviews_and_sees_only_its_own_estimate(
    booth_server: BoothServer, page: Any, browser: Any, tmp_path: Path
) -> None:
    server = booth_server
    el = server.election
    check_in_voters(server)
    sign_in(page, f"{server.url}/console/login?lang=en", "pollster")
    assert page.url.startswith(f"{server.url}/elections/{server.eid}/pollster")
    assert page.locator("#design-none").count() == 1

    # a drawn sample: downloaded, repeatable by its seed, never stored by itself
    page.fill("#s-n", "2")
    page.fill("#s-seed", "7")
    with page.expect_download() as download:
        page.click("#draw-submit")
    drawn = Path(download.value.path()).read_text()
    assert download.value.suggested_filename == "design-2-seed-7.csv"
    lines = drawn.splitlines()
    assert lines[0] == "station_id,stratum,pi" and sorted(x.split(",")[0] for x in lines[1:]) == [
        "st-1",
        "st-2",
    ]
    assert all(0 < float(x.split(",")[2]) <= 1 for x in lines[1:])
    again = page.request.get(f"{server.url}/elections/{el.id}/pollster/design.csv?n=2&seed=7")
    assert again.text() == drawn
    too_many = page.request.get(f"{server.url}/elections/{el.id}/pollster/design.csv?n=3")
    assert too_many.status == 422 and "between 1 and 2 can be drawn" in too_many.text()
    assert (
        server.http.get(f"{P}/elections/{el.id}/exit-polls/own", headers=el.h["pollster"]).json()["design"]
        is None
    )

    # interviews before the design: refused, nothing stored
    upload(page, tmp_path, "#i-file", "#upload-submit", GOOD, "early.csv")
    assert "upload the sample design first" in page.inner_text("#upload-result")
    # the design, with a bad row first
    upload(page, tmp_path, "#d-file", "#design-submit", DESIGN + "st-7,all,2\n", "bad-design.csv")
    text = page.inner_text("#design-result")
    assert "line 4, field 'station_id': no station 'st-7'" in text and "line 4, field 'pi'" in text
    upload(page, tmp_path, "#d-file", "#design-submit", DESIGN, "design.csv")
    assert "2 stations" in page.inner_text("#design-result")
    assert page.locator("#design-table tbody tr").count() == 2

    # a file with bad rows: each named by line and field, nothing stored
    upload(page, tmp_path, "#i-file", "#upload-submit", BAD, "bad.csv")
    text = page.inner_text("#upload-result")
    assert "NOT stored" in text and "2 problem(s) in 4 row(s)" in text
    assert "line 3, field 'answer': 'nobody' is not an option or 'refused'" in text
    assert "line 4, field 'station_id': 'st-9' is not in your sample" in text
    assert page.inner_text("#interview-count") == "0"
    # the good file
    upload(page, tmp_path, "#i-file", "#upload-submit", GOOD, "good.csv")
    assert "7 interviews stored" in page.inner_text("#upload-result")
    assert page.inner_text("#interview-count") == "7"
    assert page.locator("#d-file").count() == 0  # the design is fixed now

    # the own estimate, under embargo, equal to the API's own view; the public API refuses it
    assert page.get_attribute("#embargo-state", "data-state") == "embargoed"
    own = server.http.get(f"{P}/elections/{el.id}/exit-polls/own", headers=el.h["pollster"]).json()
    assert own["embargoed"] and own["interviews"] == 7
    tokayev = own["estimate"]["estimates"]["tokayev"]
    row = page.locator('#estimate-table tr[data-option="tokayev"]')
    assert row.locator(".share").inner_text() == f"{100 * tokayev['share']:.1f}%"
    assert (
        f"{100 * tokayev['low']:.1f}%" in row.inner_text()
        and f"{100 * tokayev['high']:.1f}%" in row.inner_text()
    )
    public = server.http.get(f"{P}/elections/{el.id}/exit-polls/estimate", params={"pollster": "pollster"})
    assert public.status_code == 403 and "embargoed" in public.json()["detail"]
    assert "embargoed" in page.inner_text("#public-state")
    screenshot(page, "console-pollster")
    # nor does the public results page, to anyone
    public_page = browser.new_context().new_page()
    try:
        public_page.goto(f"{server.url}/elections/{el.id}/results?lang=en")
        section = public_page.inner_text("section[aria-labelledby=exit-polls]")
        assert "under embargo" in section or "No exit poll has been published" in section  # voting is open
        assert public_page.locator("table.exit-poll").count() == 0
        assert row.locator(".share").inner_text() not in public_page.inner_text("main")
    finally:
        public_page.context.close()

    # another pollster sees nothing of it
    r = server.http.post(
        f"{P}/users",
        json={"username": "pollster2", "password": PASSWORD, "role": "pollster", "election_id": el.id},
        headers=el.h["cec"],
    )
    assert r.status_code == 201, r.text
    other = browser.new_context()
    try:
        p2 = other.new_page()
        sign_in(p2, pollster_url(server), "pollster2")
        assert p2.inner_text("#interview-count") == "0" and p2.locator("#estimate-table").count() == 0
        assert "no sample design" in p2.inner_text("#estimate-none")
        assert row.locator(".share").inner_text() not in p2.inner_text("main")
    finally:
        other.close()

    # one interview typed in
    page.select_option("#e-station", "st-2")
    page.select_option("#e-answer", "abden")
    page.click("#entry-submit")
    page.wait_for_selector("#entry-result[role=status]")
    assert page.inner_text("#interview-count") == "8"
    # the same form sent twice (a reload re-posting it) stores its interview once
    form = {
        "csrf": page.get_attribute("form[action$='/interview'] input[name=csrf]", "value"),
        "idempotency": page.get_attribute("form[action$='/interview'] input[name=idempotency]", "value"),
        "station_id": "st-1",
        "answer": "refused",
    }
    for _ in range(2):
        assert (
            page.request.post(f"{server.url}/elections/{el.id}/pollster/interview", form=form).status == 201
        )
    assert (
        server.http.get(f"{P}/elections/{el.id}/exit-polls/own", headers=el.h["pollster"]).json()[
            "interviews"
        ]
        == 9
    )

    # no CSRF token: refused, nothing stored; an observer gets the 403 page
    r2 = page.request.post(
        f"{server.url}/elections/{el.id}/pollster/interview", form={"station_id": "st-1", "answer": "abden"}
    )
    assert r2.status == 403 and "security token (csrf)" in r2.text()

    # the CEC closes voting; the embargo (the last zone's close, long past on the real clock) lifts
    assert server.http.post(f"{P}/elections/{el.id}/close", headers=el.h["cec"]).status_code == 200
    page.goto(pollster_url(server))
    assert page.get_attribute("#embargo-state", "data-state") == "lifted"
    public = server.http.get(f"{P}/elections/{el.id}/exit-polls/estimate", params={"pollster": "pollster"})
    assert public.status_code == 200
    own = server.http.get(f"{P}/elections/{el.id}/exit-polls/own", headers=el.h["pollster"]).json()
    assert public.json() == own["estimate"]
    assert "public API gives this estimate" in page.inner_text("#public-state")
    # and the public results page shows it, with its intervals
    public_page = browser.new_context().new_page()
    try:
        public_page.goto(f"{server.url}/elections/{el.id}/results?lang=en")
        assert public_page.locator("#embargo").count() == 0
        table = public_page.locator("table.exit-poll")
        assert table.count() == 1 and "pollster:" in table.locator("caption").inner_text()
        shown = public.json()["estimates"]["tokayev"]
        cells = table.locator("tbody tr", has_text="Tokayev").inner_text()
        assert f"{100 * shown['share']:.1f}%" in cells and f"{100 * shown['low']:.1f}%" in cells
    finally:
        public_page.context.close()
    assert (
        server.http.get(f"{P}/elections/{el.id}/exit-polls/own", headers=el.h["observer"]).status_code == 403
    )

    page.click(".signed-in button")
    sign_in(page, pollster_url(server), "observer")
    assert page.inner_text("h1") == "Not allowed" and "role 'observer' may not do this" in page.inner_text(
        "main"
    )
    assert page.goto(pollster_url(server)).status == 403


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_pollster_console_is_accessible_on_a_phone(
    booth_server: BoothServer, browser: Any, tmp_path: Path
) -> None:
    server = booth_server
    check_in_voters(server)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        sign_in(page, pollster_url(server), "pollster")
        upload(page, tmp_path, "#d-file", "#design-submit", DESIGN, "design.csv")
        upload(page, tmp_path, "#i-file", "#upload-submit", BAD, "bad.csv")
        axe_check(page)  # with the refusal shown
        upload(page, tmp_path, "#i-file", "#upload-submit", GOOD, "good.csv")
        for lang in ("kk", "ru", "en"):
            page.goto(pollster_url(server, lang))
            assert page.locator("#estimate-table").count() == 1
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            axe_check(page)
            screenshot(page, f"console-pollster-360-{lang}")
    finally:
        context.close()
