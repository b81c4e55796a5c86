"""The CEC console's applications in Chromium: kz-2022's applicants, decided by clicks (every rule's
outcome equal to the API's decision), an appeal heard; a form without the CSRF token is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from saylau.api import API_PREFIX
from saylau.election.scenario import load_scenario

from .conftest import PASSWORD, ThreadedServer, axe_check, staff_app
from .public_site_seed import UPHELD, definition

APPLICANTS = 3
"""Two of kz-2022's registered candidates and one it refused (``UPHELD``)."""


@pytest.fixture
def registration_server(
    database: Any, tmp_path: Path
) -> Iterator[tuple[str, str, dict[str, str], dict[str, date]]]:
    """A live server with kz-2022 defined (its candidacy rules) and its first applicants' applications."""
    app = staff_app(database, tmp_path)
    state = app.state.saylau
    live = ThreadedServer(app)
    sc = load_scenario("kz-2022")
    try:
        with httpx.Client(base_url=live.url + API_PREFIX, timeout=30) as c:
            token = c.post("/auth/login", json={"username": "cec", "password": PASSWORD}).json()["token"]
            cec = {"Authorization": f"Bearer {token}"}
            body = definition(sc)
            eid = str(body["manifest"]["election_id"])
            assert c.post("/elections", json=body, headers=cec).status_code == 201
            chosen = [*sc.applicants[:APPLICANTS - 1], next(a for a in sc.applicants if a.id == UPHELD)]
            for a in chosen:
                r = c.post(f"/elections/{eid}/applications", json={"applicant": a.model_dump(mode="json")},
                           headers=cec)
                assert r.status_code == 201, r.text
        yield live.url, eid, cec, {a.id: a.application_date for a in chosen}
    finally:
        live.stop()
        state.engine.dispose()


def test_cec_decides_applications_and_hears_an_appeal(
    registration_server: tuple[str, str, dict[str, str], dict[str, date]], page: Any
) -> None:
    url, eid, cec, applied = registration_server
    apps_url = f"{url}/console/cec/{eid}/applications?lang=en"
    page.goto(apps_url)
    page.fill("#s-user", "cec")
    page.fill("#s-pass", PASSWORD)
    page.click("form.staff-form button[type=submit]")
    page.wait_for_selector("section.applicant")
    assert len(page.query_selector_all("section.applicant[data-status=pending]")) == APPLICANTS
    axe_check(page)

    ids = [str(s.get_attribute("data-applicant")) for s in page.query_selector_all("section.applicant")]
    for applicant in ids:
        page.fill(f"#d-{applicant}", (applied[applicant] + timedelta(days=1)).isoformat())
        page.click(f"button[data-decide='{applicant}']")
        page.wait_for_load_state()
        assert page.query_selector("#application-error") is None, page.inner_text("#application-error")
        page.wait_for_selector(f"section[data-applicant='{applicant}']:not([data-status=pending])")
    listed = {a["applicant"]["id"]: a for a in httpx.get(f"{url}{API_PREFIX}/elections/{eid}/applications",
                                                         headers=cec).json()}
    for applicant in ids:
        api = listed[applicant]
        section = f"section[data-applicant='{applicant}']"
        assert page.get_attribute(section, "data-status") == api["status"] != "pending"
        decision = api["decisions"][-1]
        assert decision["decided_on"] == (applied[applicant] + timedelta(days=1)).isoformat()
        assert decision["decided_by"] == "cec"
        shown = {str(tr.get_attribute("data-rule")): tr.get_attribute("data-passed") == "true"
                 for tr in page.query_selector_all(f"{section} table.outcomes tbody tr")}
        assert shown == {o["rule_id"]: bool(o["passed"]) for o in decision["outcomes"]}
    axe_check(page)

    refused = [a for a in ids if listed[a]["status"] == "refused"]
    assert refused == [UPHELD]
    applicant = UPHELD
    section = f"section[data-applicant='{applicant}']"
    page.click(f"{section} details summary")
    page.fill(f"#af-{applicant}", "The applicant")
    page.fill(f"#ao-{applicant}", (applied[applicant] + timedelta(days=2)).isoformat())
    page.fill(f"#ag-{applicant}", "the documents were complete")
    page.fill(f"#ad-{applicant}", (applied[applicant] + timedelta(days=3)).isoformat())
    page.click(f"button[data-appeal='{applicant}']")
    page.wait_for_load_state()
    assert page.query_selector("#application-error") is None, page.inner_text("#application-error")
    page.wait_for_selector(f"{section} .appeal")
    after = next(a for a in httpx.get(f"{url}{API_PREFIX}/elections/{eid}/applications", headers=cec).json()
                 if a["applicant"]["id"] == applicant)
    assert len(after["decisions"]) == 2 and after["decisions"][-1]["appeal"]["grounds"] == (
        "the documents were complete")
    assert page.inner_text(f"{section} .versions") == "2"

    # an appeal without the date it was filed: refused, named, nothing added
    page.click(f"{section} details summary")
    page.fill(f"#af-{applicant}", "x")
    page.fill(f"#ag-{applicant}", "y")
    page.evaluate(f"document.getElementById('ao-{applicant}').removeAttribute('required')")
    page.click(f"button[data-appeal='{applicant}']")
    page.wait_for_selector("#application-error")
    assert "filed_on" in page.inner_text("#application-error")

    # no CSRF token: refused
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    r = httpx.post(f"{url}/console/cec/{eid}/applications/{applicant}/decision", cookies=cookies, data={})
    assert r.status_code == 403
    for lang in ("kk", "ru"):
        page.goto(f"{url}/console/cec/{eid}/applications?lang={lang}")
        axe_check(page)
