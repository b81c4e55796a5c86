"""The board payloads the election record implies, built by the verifier from ``docs/board-format.md``.

The writing side (server, demo) builds its payloads in ``saylau.voting.publish``; the verifier builds its
own here, from the documentation alone, so that a bug on one side is caught by the other instead of
repeated by both (a test checks that the two constructions agree on the demo record). Each function
returns the payload of one entry kind, as a plain JSON value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "ballot_entry",
    "challenge_entry",
    "guardian_entry",
    "partial_decryption_entry",
    "superseded_entry",
]


def ballot_entry(ballot: Mapping[str, Any], device_id: str, station_id: str) -> dict[str, Any]:
    """Kind ``ballot``: ``{ballot, device_id, station_id, state: "cast"}`` (a ballot is published as cast)."""
    return {"ballot": dict(ballot), "device_id": device_id, "station_id": station_id, "state": "cast"}


def challenge_entry(opened: Mapping[str, Any], device_id: str, station_id: str) -> dict[str, Any]:
    """Kind ``challenge``: ``{challenged: <the challenged.jsonl line>, device_id, station_id}``."""
    return {"challenged": dict(opened), "device_id": device_id, "station_id": station_id}


def superseded_entry(ballot_id: str, code: str, by: str) -> dict[str, Any]:
    """Kind ``superseded``: ``{ballot_id, code, by}`` (``by``: the id of the ballot that replaced it)."""
    return {"ballot_id": ballot_id, "code": code, "by": by}


def guardian_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """Kind ``guardian``: ``{index, record}``, the record as in ``parameters.json``'s joint key."""
    return {"index": record["index"], "record": dict(record)}


def partial_decryption_entry(
    index: int, scopes: Iterable[tuple[str, str, Mapping[str, Any]]]
) -> dict[str, Any]:
    """Kind ``partial_decryption``: ``{index, partials: [{scope, scope_id, partial}]}``.

    ``scopes`` gives, for every tally line in ``tallies.jsonl`` order, its scope, scope id and this
    guardian's partial decryption (``{guardian_index, shares}``) from the line's ``plaintext.partials``.
    """
    return {
        "index": index,
        "partials": [{"scope": sc, "scope_id": sid, "partial": dict(p)} for sc, sid, p in scopes],
    }
