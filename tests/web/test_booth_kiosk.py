"""The polling-station kiosk in Chromium: the commission starts it on a registered booth device, checks a
voter in, the voter challenges, sees the opening, then casts; the kiosk survives refusals and reloads.
"""

from __future__ import annotations

from typing import Any

from api.conftest import PASSWORD, VOTERS
from saylau.api import API_PREFIX

from .booth_server import BoothServer, booth_server
from .conftest import axe_check, screenshot
from .test_booth_remote import (
    assert_choice_never_sent,
    board_states,
    cast,
    choose_and_encrypt,
    record_requests,
)

__all__ = ["booth_server"]

DEVICE = "st-1-kiosk-a"


def start_kiosk(page: Any, server: BoothServer, device: str = DEVICE, lang: str = "en") -> None:
    page.goto(f"{server.url}/elections/{server.eid}/kiosk?lang={lang}")
    page.wait_for_selector("#step-commission:not([hidden])")
    page.fill("#c-user", "station1")
    page.fill("#c-pass", PASSWORD)
    page.fill("#c-device", device)
    page.click("#commission-form button[type=submit]")
    page.wait_for_selector("#step-next:not([hidden])")


def check_in(page: Any, voter: int) -> None:
    page.fill("#v-voter", VOTERS[voter])
    page.click("#checkin-form button[type=submit]")
    page.wait_for_selector("#step-choose:not([hidden])")


def test_voter_challenges_sees_the_opening_then_casts(booth_server: BoothServer, page: Any) -> None:
    start_kiosk(page, booth_server)
    assert [d["device_id"] for d in booth_server.devices("st-1")] == [DEVICE]  # registered by the kiosk
    axe_check(page)
    # the field is the election's voter identifier (its scenario's IIN), named in the page's language
    assert page.inner_text("label[for=v-voter]") == "Voter's IIN, checked against the pollbook"
    assert page.inner_text("#v-voter-help") == "Format: 12 digits."
    assert page.get_attribute("#v-voter", "pattern") == "[0-9]{12}"
    assert page.get_attribute("#v-voter", "inputmode") == "numeric"
    page.goto(f"{booth_server.url}/elections/{booth_server.eid}/kiosk?lang=kk")
    page.wait_for_selector("#step-next:not([hidden])")  # the commission's session survives a reload
    assert page.inner_text("label[for=v-voter]").startswith("Сайлаушының сәйкестендіргіші (ЖСН)")
    assert page.inner_text("#v-voter-help") == "Пішімі: 12 цифр."
    axe_check(page)
    page.goto(f"{booth_server.url}/elections/{booth_server.eid}/kiosk?lang=en")
    page.wait_for_selector("#step-next:not([hidden])")
    check_in(page, 0)  # VOTERS[0] is listed at st-1
    requests = record_requests(page)
    challenged_code = choose_and_encrypt(page, "dairabayev")
    page.click("#challenge")
    page.wait_for_selector("#step-challenged:not([hidden])")
    shown = page.inner_text("#step-challenged")
    assert "Zhiguli Dairabayev" in shown and "will never be counted" in shown
    assert "saylau check-opening" in str(page.text_content("#step-challenged details"))
    axe_check(page)
    screenshot(page, "booth-kiosk-challenged-en")
    assert board_states(booth_server, challenged_code) == ["challenge"]
    page.click("#again")
    page.wait_for_selector("#step-choose:not([hidden])")
    code = choose_and_encrypt(page, "kazhyken")
    assert code != challenged_code
    assert cast(page) == code
    assert board_states(booth_server, code) == ["ballot"]
    # the opening of the challenged ballot was sent (the voter chose to reveal it); the cast one never
    cast_requests = [r for r in requests if not r["url"].endswith("/challenges")]
    assert_choice_never_sent(cast_requests, "kazhyken")
    page.click("#done")
    page.wait_for_selector("#step-next:not([hidden])")
    assert "2 ballots so far" in page.inner_text("#kiosk-device")


def test_kiosk_resumes_after_a_refusal_and_a_reload(booth_server: BoothServer, page: Any) -> None:
    start_kiosk(page, booth_server)
    check_in(page, 2)
    choose_and_encrypt(page, "abden")
    # another client appends to this device's chain behind the kiosk's back: the cast is refused (409
    # "does not chain"); the kiosk re-reads the head and re-encrypts, and nothing advanced on refusal
    other = booth_server.http.post(
        f"{API_PREFIX}/elections/{booth_server.eid}/stations/st-1/checkin",
        json={"iin": VOTERS[4]},
        headers=booth_server.election.h["station1"],
    ).json()["credential"]
    _cast_from_python(booth_server, other, DEVICE)
    page.click("#cast")
    page.wait_for_selector("#step-encrypted:not([hidden])")
    page.wait_for_function("document.getElementById('booth-status').textContent.includes('encrypted again')")
    assert "NOT cast" in page.inner_text("#booth-status")
    assert len(str(page.text_content("#encrypted-code")).strip()) == 64
    # a crash or reload here loses the choice, never the chain
    page.reload()
    page.wait_for_selector("#step-choose:not([hidden])")
    code = choose_and_encrypt(page, "abden")
    assert cast(page) == code
    assert [d["ballot_count"] for d in booth_server.devices("st-1")] == [2]


def _cast_from_python(server: BoothServer, credential: str, device: str) -> None:
    from saylau.crypto import DeviceChain, encrypt_ballot

    head = next(d for d in server.devices("st-1") if d["device_id"] == device)
    params = server.election.params
    assert params is not None
    chain = DeviceChain.resume(
        device, params.base_hash, bytes.fromhex(head["last_code"]), head["ballot_count"]
    )
    ballot, _ = encrypt_ballot(
        params, f"{device}-{head['ballot_count']:06d}", "main", {"president": ["tokayev"]}, chain
    )
    r = server.http.post(
        f"{API_PREFIX}/elections/{server.eid}/ballots",
        json={"ballot": ballot.to_dict(), "device_id": device},
        headers={"Authorization": f"Bearer {credential}"},
    )
    assert r.status_code == 201, r.text
