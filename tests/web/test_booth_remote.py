"""The remote voter's booth in Chromium: sign in, choose, review, encrypt in the browser, cast; revote.

Every request the page makes is recorded: none may carry the choice (only the encrypted ballot, whose
selection entries list every option alike), and nothing on the screen after the cast shows it.
"""

from __future__ import annotations

import json
from typing import Any

from saylau.api import API_PREFIX

from .booth_server import BoothServer, booth_server
from .conftest import axe_check, screenshot

__all__ = ["booth_server"]

CHOSEN = "tokayev"
CHOSEN_NAME = "Kassym-Jomart Tokayev"


def record_requests(page: Any) -> list[dict[str, Any]]:
    """Every request the page makes: method, URL, body."""
    seen: list[dict[str, Any]] = []
    page.on("request", lambda r: seen.append({"method": r.method, "url": r.url, "body": r.post_data}))
    return seen


def occurrences_outside_selection_lists(body: str, needle: str) -> int:
    """How often ``needle`` occurs in a JSON body other than as an encrypted ballot's selection id."""

    def walk(v: Any) -> int:
        if isinstance(v, dict):
            return sum(walk(x) for k, x in v.items() if k != "selection_id") + sum(needle in k for k in v)
        if isinstance(v, list):
            return sum(walk(x) for x in v)
        return int(isinstance(v, str) and needle in v)

    try:
        return walk(json.loads(body))
    except ValueError:
        return body.count(needle)


def assert_choice_never_sent(requests: list[dict[str, Any]], chosen: str) -> None:
    for r in requests:
        assert chosen not in r["url"], r["url"]
        body = r["body"] or ""
        assert "ballot_nonce" not in body and '"choices"' not in body, r
        assert occurrences_outside_selection_lists(body, chosen) == 0, r


def sign_in(page: Any, server: BoothServer, credential: str, tag: str, lang: str = "en") -> None:
    page.goto(f"{server.url}/elections/{server.eid}/vote?lang={lang}")
    page.wait_for_selector("#step-signin:not([hidden])")
    page.fill("#credential", credential)
    page.fill("#revote-tag", tag)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#step-choose:not([hidden])")


def choose_and_encrypt(page: Any, selection: str) -> str:
    page.check(f"#opt-president-{selection}")
    page.click("#choose-form button[type=submit]")
    page.wait_for_selector("#step-review:not([hidden])")
    page.click("#encrypt")
    page.wait_for_selector("#step-encrypted:not([hidden])")
    return str(page.text_content("#encrypted-code")).strip()


def cast(page: Any) -> str:
    page.click("#cast")
    page.wait_for_selector("#step-cast:not([hidden])")
    return str(page.text_content("#cast-code")).strip()


def board_states(server: BoothServer, code: str) -> list[str]:
    r = server.http.get(f"{API_PREFIX}/elections/{server.eid}/board/codes/{code}")
    assert r.status_code == 200, r.text
    return [e["kind"] for e in r.json()["entries"]]


def test_remote_voter_casts_and_the_choice_never_leaves_the_browser(
    booth_server: BoothServer, page: Any
) -> None:
    credential, tag, _station = booth_server.remote_credential(0)
    requests = record_requests(page)
    sign_in(page, booth_server, credential, tag)
    axe_check(page)
    code = choose_and_encrypt(page, CHOSEN)
    assert len(code) == 64
    screenshot(page, "booth-remote-encrypted-en")
    cast_code = cast(page)
    assert cast_code == code
    axe_check(page)
    screenshot(page, "booth-remote-cast-en")
    assert board_states(booth_server, code) == ["ballot"]
    assert_choice_never_sent(requests, CHOSEN)
    cast_posts = [r for r in requests if r["method"] == "POST" and r["url"].endswith("/ballots")]
    assert len(cast_posts) == 1 and set(json.loads(cast_posts[0]["body"])) == {"ballot", "device_id"}
    # nothing on the page, nor in the tab's storage, shows the choice once it is cast
    assert CHOSEN_NAME not in page.inner_text("#step-cast")
    assert page.inner_text("#review-list") == ""
    assert not page.is_checked(f"#opt-president-{CHOSEN}")
    assert CHOSEN not in page.evaluate("JSON.stringify(sessionStorage)")
    assert credential not in page.url and credential not in "".join(r["url"] for r in requests)


def test_remote_voter_revotes_and_the_last_ballot_counts(booth_server: BoothServer, page: Any) -> None:
    credential, tag, _station = booth_server.remote_credential(1)
    sign_in(page, booth_server, credential, tag)
    first = choose_and_encrypt(page, "abden")
    assert cast(page) == first
    text = page.inner_text("#step-cast")
    assert "superseded" in text and "only your last ballot counts" in text
    page.click("#revote")
    page.wait_for_selector("#step-choose:not([hidden])")
    second = choose_and_encrypt(page, "against_all")
    assert cast(page) == second != first
    assert board_states(booth_server, first) == ["ballot", "superseded"]
    assert board_states(booth_server, second) == ["ballot"]


def test_a_reload_keeps_the_credential_not_the_choice(booth_server: BoothServer, page: Any) -> None:
    credential, tag, _station = booth_server.remote_credential(2)
    sign_in(page, booth_server, credential, tag)
    choose_and_encrypt(page, CHOSEN)
    page.reload()
    page.wait_for_selector("#step-choose:not([hidden])")
    assert "Nothing has been cast" in page.inner_text("#booth-status")
    assert not page.is_checked(f"#opt-president-{CHOSEN}")
    code = choose_and_encrypt(page, CHOSEN)
    assert cast(page) == code


def test_remote_channel_moved_by_another_voter_re_encrypts_and_asks_again(
    booth_server: BoothServer, page: Any
) -> None:
    """Remote voters of a station share its ``<station>-remote`` chain: a ballot that lost its position
    (409) is encrypted again on the new head, and the voter decides again on the new code."""
    from saylau.crypto import DeviceChain, encrypt_ballot

    credential, tag, station = booth_server.remote_credential(0)  # VOTERS[0]: st-1
    other, other_tag, other_station = booth_server.remote_credential(2)  # st-1 as well
    assert station == other_station == "st-1"
    sign_in(page, booth_server, credential, tag)
    first = choose_and_encrypt(page, CHOSEN)
    params = booth_server.election.params
    assert params is not None
    device = "st-1-remote"
    chain = DeviceChain(device, params.base_hash)
    ballot, _ = encrypt_ballot(
        params,
        f"{device}-000000",
        "main",
        {"president": ["abden"]},
        chain,
        revote_tag=bytes.fromhex(other_tag),
    )
    r = booth_server.http.post(
        f"{API_PREFIX}/elections/{booth_server.eid}/ballots",
        json={"ballot": ballot.to_dict(), "device_id": device},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert r.status_code == 201, r.text
    page.click("#cast")
    page.wait_for_function("document.getElementById('booth-status').textContent.includes('encrypted again')")
    assert page.evaluate("document.body.dataset.step") == "encrypted"
    second = str(page.text_content("#encrypted-code")).strip()
    assert second != first and "NOT cast" in page.inner_text("#step-encrypted")
    assert cast(page) == second
    assert board_states(booth_server, second) == ["ballot"]
    assert [d["ballot_count"] for d in booth_server.devices("st-1")] == [2]
