"""The audit as the bulletin board tells it: its ``audit_*`` entries replayed into an ``AuditRecord``.

The server keeps no audit table: every step is a ``note`` entry under the code ``"audit"`` whose
payload names the step (``audit_manifest``, ``audit_start``, ``audit_round``, ``audit_tallies``,
``audit_full_count``). The server rebuilds its state from them, and an observer rebuilds the same
record from an exported board to recompute it with ``saylau audit verify`` — so the two read the
board with this one function, and the verification itself (``audit.verify``) trusts none of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from saylau.audit.engine import AuditRecord, Round
from saylau.audit.manifest import BallotManifest, manifest_from_protocols
from saylau.election.protocols import ProtocolFigures
from saylau.election.rules import Decision
from saylau.errors import VerificationFailed

__all__ = ["AUDIT_CODE", "AuditSteps", "audit_from_board", "audit_steps", "protocols_manifest"]

AUDIT_CODE = "audit"
AuditSteps = list[tuple[str, dict[str, Any]]]


def audit_steps(rows: Iterable[Mapping[str, Any]]) -> AuditSteps:
    """The audit steps among exported board rows (``GET /board`` or a record's ``board.jsonl``)."""
    out: AuditSteps = []
    for row in rows:
        if row.get("type") != "entry" or row.get("kind") != "note" or row.get("code") != AUDIT_CODE:
            continue
        payload = row.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("audit"), str):
            out.append((payload["audit"], {k: v for k, v in payload.items() if k != "audit"}))
    return out


def audit_from_board(
    steps: Iterable[tuple[str, Mapping[str, Any]]],
) -> tuple[BallotManifest | None, AuditRecord | None]:
    """The last published manifest and the audit as the steps say (``None`` where there is none yet)."""
    manifest: BallotManifest | None = None
    rec: AuditRecord | None = None
    try:
        for kind, payload in steps:
            if kind == "audit_manifest":
                manifest = BallotManifest.model_validate(payload["manifest"])
            elif kind == "audit_start" and manifest is not None:
                rec = AuditRecord.model_validate({**payload, "manifest": manifest, "rounds": []})
            elif kind == "audit_round" and rec is not None:
                rec.rounds.append(Round.model_validate(payload))
            elif kind == "audit_tallies" and rec is not None and payload["round"] == 0:
                rec.status = payload["status"]  # the estimate alone called for a full hand count
            elif kind == "audit_tallies" and rec is not None:
                rnd = rec.rounds[payload["round"] - 1]
                rnd.ballot_tallies, rnd.station_tallies = payload.get("ballots"), payload.get("stations")
                rnd.risks, rnd.decision = payload["risks"], payload["decision"]
                rec.status = payload["status"]
            elif kind == "audit_full_count" and rec is not None:
                rec.full_count = payload["stations"]
                rec.full_count_decision = Decision.model_validate(payload["decision"])
                rec.status = "full_count_done"
    except (KeyError, IndexError, TypeError, ValidationError) as exc:
        raise VerificationFailed(f"board: audit step {kind!r} cannot be read: {exc}") from exc
    return manifest, rec


def protocols_manifest(rows: Iterable[Mapping[str, Any]], recorded: BallotManifest) -> BallotManifest:
    """The manifest the board's own protocols give (each station's last version on the board).

    Where the paper is kept and each station's region are descriptions the board's protocols do
    not carry, so they are taken from ``recorded``; every count and the set of stations come from
    the protocols, so a manifest that misstates any of them gets another hash.
    """
    latest: dict[str, ProtocolFigures] = {}
    for row in rows:
        if row.get("type") == "entry" and row.get("kind") == "protocol":
            try:
                figures = ProtocolFigures.model_validate(row["payload"]["figures"])
            except (KeyError, TypeError, ValidationError) as exc:
                raise VerificationFailed(
                    f"board position {row.get('position')}: unreadable protocol: {exc}"
                ) from exc
            latest[figures.station] = figures
    regions = {b.station: b.region for b in recorded.batches}
    storage = {b.station: b.storage for b in recorded.batches}
    order = [b.station for b in recorded.batches if b.station in latest]
    order += sorted(set(latest) - set(order))
    return manifest_from_protocols(
        recorded.election_id, recorded.options, [latest[s] for s in order], regions, storage
    )
