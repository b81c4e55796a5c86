"""The check-in fields follow the election's voter identifier: Alpenland's citizen number, kz-2022's IIN.

The station console's and the kiosk's field take their label (the identifier's name in the page's
language), help line, ``pattern``, ``inputmode`` and lengths from the election's ``voter_id``
(``saylau.web.voter_id_field``); nothing in the pages names the IIN unless the election does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.requests import Request

from api.conftest import PASSWORD, TestClient
from api.conftest import client as client  # noqa: PLC0414 (the API tests' fixture, both backends)
from api.test_voter_id_alpen import ALPEN, open_alpen_election
from saylau.election.scenario import load_scenario
from saylau.election.voter_ids import VoterIdSpec
from saylau.web.rendering import Page
from saylau.web.voter_id_field import voter_id_field

KZ = Path(__file__).resolve().parents[2] / "src" / "saylau" / "scenarios" / "kz-2022"


def _page(lang: str, languages: tuple[str, ...]) -> Page:
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": f"lang={lang}".encode(),
             "headers": []}
    return Page(Request(scope), languages)


@pytest.mark.parametrize(
    ("scenario", "lang", "name", "shape"),
    [
        (KZ, "kk", "ЖСН", "12 цифр"),
        (KZ, "ru", "ИИН", "12 цифр"),
        (KZ, "en", "IIN", "12 digits"),
        (ALPEN, "de", "Bürgernummer", "9 digits"),
        (ALPEN, "fr", "numéro de citoyen", "9 digits"),
    ],
)
def test_the_field_is_the_scenarios(scenario: Path, lang: str, name: str, shape: str) -> None:
    sc = load_scenario(scenario)
    field = voter_id_field(_page(lang, tuple(sc.languages)), sc.voter_id)
    assert (field.name, field.shape) == (name, shape)
    digits = 12 if scenario == KZ else 9
    assert (field.pattern, field.inputmode, field.minlength, field.maxlength) == (
        f"[0-9]{{{digits}}}", "numeric", digits, digits)


@pytest.mark.parametrize(
    ("spec", "pattern", "inputmode", "lengths", "shape"),
    [
        (VoterIdSpec(), None, "text", (1, 64), "1 to 64 characters"),
        (VoterIdSpec(pattern=r"[A-Z]{2}[0-9]{7}", length=9), None, "text", (9, 9), "9 characters"),
        (VoterIdSpec(pattern=r"\d{6,10}"), "[0-9]{6,10}", "numeric", (6, 10), "6 to 10 digits"),
        (VoterIdSpec(check="luhn"), "[0-9]{1,64}", "numeric", (1, 64), "1 to 64 digits"),
        (VoterIdSpec(pattern="[0-9]+", length=1), "[0-9]{1}", "numeric", (1, 1), "1 digit"),
    ],
)
def test_shapes_of_other_identifiers(
    spec: VoterIdSpec, pattern: str | None, inputmode: str, lengths: tuple[int, int], shape: str
) -> None:
    field = voter_id_field(_page("en", ("en",)), spec)
    assert (field.pattern, field.inputmode, (field.minlength, field.maxlength), field.shape) == (
        pattern, inputmode, lengths, shape)
    assert field.name == "voter number"


def test_names_must_be_language_codes() -> None:
    with pytest.raises(ValueError, match="names"):
        VoterIdSpec(names={"German": "Bürgernummer"})
    assert VoterIdSpec(names={"de": "Bürgernummer"}).label("fr") == "voter number"


def _input(html: str, input_id: str) -> str:
    m = re.search(rf'<input id="{input_id}"[^>]*>', html)
    assert m, f"no input #{input_id}"
    return m.group(0)


def test_alpenland_consoles_ask_for_a_citizen_number(client: TestClient) -> None:
    c = client
    eid = open_alpen_election(c)
    form = c.get("/console/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf
    r = c.post("/console/login", data={"csrf": csrf.group(1), "username": "nord1", "password": PASSWORD},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    path = f"/elections/{eid}/stations/nord-0001/console"
    page = c.get(f"{path}?lang=de")
    assert page.status_code == 200, page.text
    field = _input(page.text, "c-voter")
    for attribute in ('name="voter"', 'inputmode="numeric"', 'pattern="[0-9]{9}"', 'minlength="9"',
                      'maxlength="9"', 'aria-describedby="c-voter-help"'):
        assert attribute in field, field
    assert "Voter&#39;s Bürgernummer" in page.text and "Format: 9 digits." in page.text
    assert "IIN" not in page.text and "12" not in field
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    r = c.post(f"{path}/checkin", data={"voter": "100000009", "csrf": token.group(1)})
    assert r.status_code == 201 and 'id="voter-credential"' in r.text, r.text
    r = c.post(f"{path}/checkin", data={"voter": "100000018", "csrf": token.group(1)})
    assert r.status_code == 422 and "not a valid citizen number" in r.text
    kiosk = c.get(f"/elections/{eid}/kiosk?lang=fr").text
    field = _input(kiosk, "v-voter")
    assert 'pattern="[0-9]{9}"' in field and 'inputmode="numeric"' in field and 'name="voter_id"' in field
    assert "numéro de citoyen" in kiosk and "IIN" not in kiosk
