"""First-load weight of a page: the bytes a fresh browser transfers for it and every asset it loads."""

from __future__ import annotations

from typing import Any


def first_load_bytes(browser: Any, url: str, javascript: bool = True) -> int:
    """Bodies and headers of every response a fresh context (no cache) receives while loading ``url``."""
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=javascript)
    try:
        p = ctx.new_page()
        sizes: list[int] = []
        p.on("requestfinished",
             lambda r: sizes.append(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]))
        p.goto(url)
        p.wait_for_load_state("networkidle")
        assert len(sizes) >= 2, f"{url}: expected the page and its stylesheet, got {len(sizes)} responses"
        return sum(sizes)
    finally:
        ctx.close()
