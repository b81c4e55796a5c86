"""``saylau demo --serve``'s server: an open election whose printed remote credential votes in Chromium."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from saylau.web.booth_demo import DemoElection, serve_demo

from .conftest import _free_port
from .test_booth_remote import cast, choose_and_encrypt


def test_demo_server_prints_what_a_newcomer_needs_and_its_booth_works(tmp_path: Path, page: Any) -> None:
    port = _free_port()
    lines: list[str] = []
    ready, stop = threading.Event(), threading.Event()
    result: list[DemoElection] = []
    thread = threading.Thread(
        target=lambda: result.append(
            serve_demo(tmp_path, "kz-2022", port, lines.append, ready=ready, stop=stop)
        ),
        daemon=True,
    )
    thread.start()
    try:
        assert ready.wait(120), lines
        text = "\n".join(lines)
        url = f"http://127.0.0.1:{port}"
        assert f"{url}/elections/kz-2022-presidential/vote" in text
        assert f"{url}/elections/kz-2022-presidential/kiosk" in text
        credential, tag = next(
            (w[1], w[4]) for w in (line.split() for line in lines) if w and w[0] == "credential"
        )
        page.goto(f"{url}/elections/kz-2022-presidential/vote?lang=ru")
        page.wait_for_selector("#step-signin:not([hidden])")
        page.fill("#credential", credential)
        page.fill("#revote-tag", tag)
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#step-choose:not([hidden])")
        code = choose_and_encrypt(page, "against_all")
        assert cast(page) == code
    finally:
        stop.set()
        thread.join(60)
    assert result and (tmp_path / "serve" / "saylau.db").is_file()
