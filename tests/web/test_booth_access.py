"""The booth for everyone: every step says whether the vote is cast yet, in each language; keyboard only;
a screen reader hears each step (focus on its heading, a live status region); a 360-px phone; axe.
"""

from __future__ import annotations

from typing import Any

import pytest

from .booth_server import BoothServer, booth_server
from .conftest import axe_check, screenshot
from .test_booth_kiosk import check_in, start_kiosk
from .test_booth_remote import cast, choose_and_encrypt, sign_in

__all__ = ["booth_server"]

# what each step says about the vote, in English: the words the Helios study found missing
NOT_YET = {
    "signin": "You have not voted yet.",
    "choose": "Not cast yet",
    "review": "Not cast yet",
    "encrypted": "encrypted but NOT cast yet",
    "challenged": "NOT cast and will never be counted. You have not voted yet.",
}
CAST = "Cast: the server has recorded your encrypted ballot."


def cast_state(page: Any) -> tuple[str, str]:
    """The visible step and what its cast-state line says."""
    step = page.evaluate("document.body.dataset.step")
    return step, page.inner_text(f"section[data-step='{step}'] .cast-state")


def focused_heading(page: Any) -> str:
    return str(page.evaluate("document.activeElement.tagName + '#' + document.activeElement.id"))


def test_every_step_says_whether_the_vote_is_cast(booth_server: BoothServer, page: Any) -> None:
    credential, tag, _ = booth_server.remote_credential(3)
    seen: dict[str, str] = {}
    page.goto(f"{booth_server.url}/elections/{booth_server.eid}/vote?lang=en")
    page.wait_for_selector("#step-signin:not([hidden])")
    seen.update([cast_state(page)])
    sign_in(page, booth_server, credential, tag)
    seen.update([cast_state(page)])
    page.check("#opt-president-abden")
    page.click("#choose-form button[type=submit]")
    page.wait_for_selector("#step-review:not([hidden])")
    seen.update([cast_state(page)])
    page.click("#encrypt")
    page.wait_for_selector("#step-encrypted:not([hidden])")
    seen.update([cast_state(page)])
    page.click("#challenge")
    page.wait_for_selector("#step-challenged:not([hidden])")
    seen.update([cast_state(page)])
    for step, words in NOT_YET.items():
        assert words in seen[step], (step, seen[step])
        assert "Cast:" not in seen[step]
    page.click("#again")
    choose_and_encrypt(page, "abden")
    cast(page)
    assert cast_state(page) == ("cast", CAST)


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_booth_in_each_language_on_a_phone_by_keyboard(
    booth_server: BoothServer, browser: Any, lang: str
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        credential, tag, _ = booth_server.remote_credential({"kk": 5, "ru": 7, "en": 9}[lang])
        page.goto(f"{booth_server.url}/elections/{booth_server.eid}/vote?lang={lang}")
        page.wait_for_selector("#step-signin:not([hidden])")
        assert page.evaluate("document.documentElement.lang") == lang
        axe_check(page)
        screenshot(page, f"booth-signin-{lang}-phone")
        # keyboard only: the sign-in form, then each step's controls; focus lands on each step's heading
        page.focus("#credential")
        page.keyboard.type(credential)
        page.keyboard.press("Tab")
        page.keyboard.type(tag)
        page.keyboard.press("Enter")
        page.wait_for_selector("#step-choose:not([hidden])")
        assert focused_heading(page) == "H2#choose-h"
        assert page.inner_text("#booth-status") != ""  # the live region announced the sign-in
        assert page.get_attribute("#booth-status", "role") == "status"
        page.keyboard.press("Tab")  # the first option of the radio group
        page.keyboard.press("ArrowDown")  # moves to, and marks, the second
        page.keyboard.press("Tab")  # the submit button
        axe_check(page)
        screenshot(page, f"booth-choose-{lang}-phone")
        page.keyboard.press("Enter")
        page.wait_for_selector("#step-review:not([hidden])")
        assert focused_heading(page) == "H2#review-h"
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # encrypt
        page.wait_for_selector("#step-encrypted:not([hidden])")
        assert focused_heading(page) == "H2#encrypted-h"
        axe_check(page)
        screenshot(page, f"booth-encrypted-{lang}-phone")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # cast
        page.wait_for_selector("#step-cast:not([hidden])")
        assert focused_heading(page) == "H2#cast-h"
        axe_check(page)
        screenshot(page, f"booth-cast-{lang}-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        if lang != "en":  # the step texts are translated
            assert cast_state(page)[1] != CAST
    finally:
        context.close()


def test_kiosk_pages_pass_axe_in_kazakh(booth_server: BoothServer, page: Any) -> None:
    start_kiosk(page, booth_server, lang="kk")
    axe_check(page)
    screenshot(page, "booth-kiosk-next-kk")
    check_in(page, 6)
    axe_check(page)
    choose_and_encrypt(page, "against_all")
    page.click("#challenge")
    page.wait_for_selector("#step-challenged:not([hidden])")
    axe_check(page)
    screenshot(page, "booth-kiosk-challenged-kk")
