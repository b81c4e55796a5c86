"""A scenario's ``POST /elections`` request: its manifest, the ceremony's size and the rest it holds.

Shared by ``saylau manifest SCENARIO --guardians N --quorum K`` and the CEC console's "new election"
form, so both define exactly the same election from a scenario. ``scenario_names`` lists the scenarios
found by name (``$SAYLAU_SCENARIOS``, ``./scenarios``, the shipped ones) in search-path order.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from saylau.election.scenario import SCENARIO_FILE, Scenario, scenario_search_path

__all__ = ["election_request", "scenario_names"]


def election_request(
    sc: Scenario,
    guardians: int,
    quorum: int,
    station_ids: Collection[str] | None = None,
    contest_id: str = "president",
) -> dict[str, Any]:
    """The request body of ``sc`` with ``guardians`` of whom ``quorum`` decrypt.

    The manifest (all stations or ``station_ids``), the scenario's voter identifier and electoral rules,
    its candidacy rules and the roll size they count from. An unknown station id raises
    ``ScenarioError`` naming it (``Scenario.to_manifest``); the quorum is the server's to check
    (``POST /elections`` refuses one above the guardians, naming both).
    """
    request: dict[str, Any] = {
        "manifest": sc.to_manifest(contest_id, station_ids=station_ids or None).to_json_obj(),
        "guardians": guardians,
        "quorum": quorum,
        "voter_id": sc.voter_id.model_dump(mode="json"),
        "electoral_rules": sc.rules.model_dump(mode="json"),
    }
    if sc.candidacy is not None:
        request["candidacy_rules"] = sc.candidacy.model_dump(mode="json")
    if sc.published is not None and sc.published.registered_at_nomination is not None:
        request["registered_at_nomination"] = sc.published.registered_at_nomination
    return request


def scenario_names() -> list[str]:
    """The scenarios ``load_scenario`` finds by name, each once (the first directory holding it wins)."""
    out: list[str] = []
    for base in scenario_search_path():
        if not base.is_dir():
            continue
        for d in sorted(base.iterdir()):
            if (d / SCENARIO_FILE).is_file() and d.name not in out:
                out.append(d.name)
    return out
