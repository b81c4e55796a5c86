"""The payloads an election publishes on the bulletin board (server and demo alike).

The server (``saylau.api``) and the demo publish the same shapes, so that the record verifier can check
an election record against its board entry by entry (``docs/record-format.md`` §11). The verifier does
not use this module: it builds the payloads it expects on its own, from ``docs/board-format.md``
(``saylau.record.board_payloads``), so that a bug here is caught there. Each function builds one entry's
payload; the entry kinds are those of ``docs/board-format.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from saylau.crypto import ChallengedBallot, GuardianRecord, PartialDecryption
from saylau.voting.device import DeviceRecord
from saylau.voting.submitted import SubmittedBallot

__all__ = [
    "ballot_payload",
    "challenge_payload",
    "closed_payload",
    "guardian_partials_payload",
    "guardian_payload",
    "guardian_record_payload",
    "manifest_payload",
    "open_payload",
    "partial_decryption_payload",
    "published_ballot",
    "published_challenge",
    "result_payload",
    "station_key_payload",
    "superseded_payload",
    "tally_payload",
    "turnout_payload",
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


def manifest_payload(
    manifest: Mapping[str, Any], manifest_hash: str, base_hash: str, guardians: int, quorum: int
) -> dict[str, Any]:
    """Kind ``manifest``: the manifest, its hash, the base hash and the guardians ``n`` and quorum ``k``."""
    return {
        "manifest": dict(manifest),
        "manifest_hash": manifest_hash,
        "base_hash": base_hash,
        "guardians": guardians,
        "quorum": quorum,
    }


def guardian_payload(index: int, record: Mapping[str, Any]) -> dict[str, Any]:
    """Kind ``guardian``: a guardian's public record (commitments and Schnorr proofs), as published."""
    return {"index": index, "record": dict(record)}


def guardian_record_payload(record: GuardianRecord) -> dict[str, Any]:
    """The ``guardian`` payload of a ``GuardianRecord``."""
    return guardian_payload(record.index, record.to_dict())


def station_key_payload(station_id: str, public_key: str) -> dict[str, Any]:
    """Kind ``note``: the key (raw Ed25519, hex) that signs a station's result protocols."""
    return {"station_key": {"station_id": station_id, "public_key": public_key}}


def open_payload(at: datetime) -> dict[str, Any]:
    """Kind ``phase`` at the opening of voting."""
    return {"phase": "open", "at": at.isoformat()}


def turnout_payload(station_id: str, at: str, voted: int) -> dict[str, Any]:
    """Kind ``turnout``: voters who received a ballot at ``station_id`` by ``at`` (ISO 8601 with offset)."""
    return {"station_id": station_id, "at": at, "voted": voted}


def partial_decryption_payload(
    index: int, partials: Sequence[tuple[str, str, Mapping[str, Any]]]
) -> dict[str, Any]:
    """Kind ``partial_decryption``: a guardian's partial decryption of every scope, in tally order.

    ``partials``: ``(scope, scope_id, partial)`` per scope, ``partial`` the ``PartialDecryption`` form.
    """
    return {
        "index": index,
        "partials": [{"scope": sc, "scope_id": sid, "partial": dict(p)} for sc, sid, p in partials],
    }


def guardian_partials_payload(
    index: int, scopes: Sequence[tuple[str, str]], partials: Sequence[PartialDecryption]
) -> dict[str, Any]:
    """The ``partial_decryption`` payload of one guardian's ``PartialDecryption`` per scope."""
    return partial_decryption_payload(
        index, [(sc, sid, p.to_dict()) for (sc, sid), p in zip(scopes, partials, strict=True)]
    )


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
