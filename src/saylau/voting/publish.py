"""The payloads the casting flow publishes on the bulletin board (server, demo and verifier alike).

The server (``saylau.api``) and the demo's ballot box publish the same shapes, so that the record verifier
can check an election record against its board entry by entry (``docs/record-format.md`` §11). Each
function builds one entry's payload; the entry kinds are those of ``docs/board-format.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from saylau.crypto import ChallengedBallot
from saylau.voting.device import DeviceRecord
from saylau.voting.submitted import SubmittedBallot

__all__ = [
    "ballot_payload",
    "challenge_payload",
    "closed_payload",
    "published_ballot",
    "published_challenge",
    "result_payload",
    "superseded_payload",
    "tally_payload",
]


def ballot_payload(ballot: Mapping[str, Any], device_id: str, station_id: str) -> dict[str, Any]:
    """Kind ``ballot`` (code: the tracking code): a cast ballot as submitted; its state is ``cast``.

    A later revote does not change this entry: a separate ``superseded`` entry follows.
    """
    return {"ballot": dict(ballot), "device_id": device_id, "station_id": station_id, "state": "cast"}


def challenge_payload(challenged: Mapping[str, Any], device_id: str, station_id: str) -> dict[str, Any]:
    """Kind ``challenge`` (code: the tracking code): the opened ballot, as in ``challenged.jsonl``."""
    return {"challenged": dict(challenged), "device_id": device_id, "station_id": station_id}


def superseded_payload(ballot_id: str, code: str, by: str) -> dict[str, Any]:
    """Kind ``superseded`` (code: the old ballot's tracking code): ``ballot_id`` replaced by ballot ``by``."""
    return {"ballot_id": ballot_id, "code": code, "by": by}


def closed_payload(devices: Iterable[DeviceRecord], at: str) -> dict[str, Any]:
    """Kind ``phase`` at the close of voting: every device's closing code and ballot count."""
    return {
        "phase": "closed",
        "at": at,
        "devices": [
            {
                "device_id": d.device_id,
                "station_id": d.station_id,
                "ballot_count": d.ballot_count,
                "closing_code": d.closing_code,
            }
            for d in devices
        ],
    }


def tally_payload(scopes: Iterable[Mapping[str, Any]], ballots: int) -> dict[str, Any]:
    """Kind ``tally``: every scope's ``{scope, scope_id, ballot_count, encrypted}``; the cast count."""
    return {"scopes": [dict(s) for s in scopes], "ballots": ballots}


def result_payload(results: Mapping[str, Any]) -> dict[str, Any]:
    """Kind ``result``: the results document (the record's ``results.json``)."""
    return {"results": dict(results)}


def published_ballot(sb: SubmittedBallot) -> dict[str, Any]:
    """The ``ballot`` payload of a submitted ballot object."""
    return ballot_payload(sb.ballot.to_dict(), sb.device_id, sb.station_id)


def published_challenge(opened: ChallengedBallot, sb: SubmittedBallot) -> dict[str, Any]:
    """The ``challenge`` payload of a challenged ballot and its opening."""
    return challenge_payload(opened.to_dict(), sb.device_id, sb.station_id)
