"""Each election decides by its own result rules, stored when it is defined: other rule, other decision."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from saylau.election.rules import ElectoralRules
from saylau.web.i18n import babel_locale
from saylau.web.rendering import Page

from .public_seed import Decrypted, databases, serve_decrypted

RULES = ElectoralRules(min_turnout=0.4).model_dump(mode="json")
"""The seeded election's rules with a lower turnout threshold: its 50 % turnout now exceeds it."""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def decrypted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Decrypted]:
    """The seeded election defined with ``RULES``, decrypted and served."""
    tmp: Path = tmp_path_factory.mktemp("rules")
    for db in databases(request.param, tmp):
        yield from serve_decrypted(db, tmp, definition={"electoral_rules": RULES})


def test_the_election_keeps_its_rules_and_publishes_them(decrypted: Decrypted) -> None:
    eid = decrypted.election_id
    assert decrypted.api(f"/elections/{eid}")["electoral_rules"] == RULES
    board = httpx.get(f"{decrypted.url}/api/v1/elections/{eid}/board", timeout=30).text.splitlines()
    manifest_entry = next(line for line in board if '"kind":"manifest"' in line)
    assert '"min_turnout":0.4' in manifest_entry  # announced on the board with the manifest


def test_a_different_rule_gives_its_own_decision(decrypted: Decrypted, page: Any) -> None:
    eid = decrypted.election_id
    res = decrypted.api(f"/elections/{eid}/results")
    assert res["rules"] == RULES
    # the same ballots as tests/web/test_public_results.py, where the default 50 % threshold voids the
    # election: turnout 5/10 exceeds 40 %, and cand-a's 3 of 5 valid votes are more than half
    decision = res["decision"]["president"]
    assert decision["outcome"] == "winner" and decision["winner"] == "cand-a"
    assert [r["key"] for r in decision["reasons"]] == ["turnout_ok", "base", "winner"]
    page.goto(f"{decrypted.url}/elections/{eid}/results?lang=en")
    outcome = page.locator(".outcome").inner_text()
    assert "A candidate is elected" in outcome
    f = Page.__new__(Page)
    f.locale = babel_locale("en")
    assert f"more than {f.percent(0.4, 0)} of registered voters" in page.locator(".rules").inner_text()
    assert len(page.locator(".reasons li").all()) == 3
