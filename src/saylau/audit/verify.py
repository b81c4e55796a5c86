"""Recompute an audit record from scratch: ``saylau audit verify``.

Nothing in the record is trusted but the inputs a third party can check elsewhere (the manifest
against the published protocols, the dice rolls against the ceremony's witnesses) and the hand
tallies (against the paper, by anyone present). From those it recomputes: the manifest hash and
the ceremony's reference to it; the reported totals and the assertions from the rules; the
estimates; every round's draws from the seed; every risk from the tallies; every decision (confirm,
escalate, full count) and round size; and the full count's decision.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from saylau.audit.assertions import derive_assertions
from saylau.audit.engine import (
    AuditRecord,
    Round,
    _estimates,
    draw_round,
    forget_streams,
    full_count_decision,
    measure,
    next_step,
)
from saylau.audit.manifest import BallotManifest
from saylau.errors import AuditError, VerificationFailed

__all__ = ["AuditCheck", "load_record", "verify_audit"]


@dataclass
class AuditCheck:
    """What verification recomputed, for the report."""

    checks: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, detail: str) -> None:
        """Note a passed check."""
        self.checks.append((name, detail))


def load_record(path: Path) -> AuditRecord:
    """Read ``audit.json`` (a file, or a directory holding it)."""
    file = path / "audit.json" if path.is_dir() else path
    try:
        return AuditRecord.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise VerificationFailed(f"{file}: not a readable audit record: {exc}") from exc


def _fail(what: str) -> VerificationFailed:
    return VerificationFailed(f"audit record: {what}")


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def verify_audit(rec: AuditRecord, published: BallotManifest | None = None) -> AuditCheck:
    """Recompute ``rec``; raise ``VerificationFailed`` naming the first thing that differs."""
    forget_streams()  # nothing the audit's own run computed is reused
    out = AuditCheck()
    h = rec.manifest.hash()
    if h != rec.manifest_hash or rec.ceremony.manifest_hash != h:
        raise _fail(f"manifest hash {h} differs from the recorded {rec.manifest_hash} or the ceremony's")
    if published is not None and published.hash() != h:
        raise _fail("the manifest differs from the one built from the published protocols")
    out.add(
        "manifest", f"{len(rec.manifest.batches)} stations, {rec.manifest.total:,} ballots, hash {h[:16]}…"
    )
    out.add("seed", f"{len(rec.ceremony.rolls)} dice rolls, observers {', '.join(rec.ceremony.observers)}")
    counted = rec.manifest.reported_totals()
    if any(counted[o] != rec.reported.votes.get(o) for o in rec.manifest.options):
        raise _fail("the reported totals are not the manifest's")
    try:
        decision, assertions = derive_assertions(rec.rules, rec.reported, rec.manifest.options)
    except AuditError as exc:
        raise _fail(str(exc)) from exc
    if decision != rec.reported_decision or assertions != rec.assertions:
        raise _fail("the assertions are not those the rules derive from the reported totals")
    out.add("assertions", "; ".join(a.text for a in assertions))
    est = _estimates(rec.kind, assertions, rec.manifest, rec.risk_limit, rec.quantile, rec.ceremony.seed)
    if est != rec.estimates:
        raise _fail(f"estimates {rec.estimates} differ from the recomputed {est}")
    out.add("estimates", json.dumps(est))
    replay = rec.model_copy(update={"rounds": [], "status": "in_progress"})
    drawn = 0
    for k, rnd in enumerate(rec.rounds, start=1):
        fresh: Round = draw_round(replay, rnd.size)
        if fresh.draws != rnd.draws or rnd.number != k:
            raise _fail(f"round {k}: the draws are not those the seed gives")
        replay.rounds.append(rnd)
        drawn += rnd.size
        if rnd.risks is None:
            if k != len(rec.rounds) or rec.status != "in_progress":
                raise _fail(f"round {k} has no measured risk but is not the open round")
            out.add(f"round {k}", f"{rnd.size} draws reproduced; awaiting hand tallies")
            continue
        try:
            risks = measure(replay, k)
        except (AuditError, KeyError) as exc:
            raise _fail(f"round {k}: tallies cannot be measured: {exc}") from exc
        if set(risks) != set(rnd.risks) or not all(_same(risks[a], rnd.risks[a]) for a in risks):
            raise _fail(f"round {k}: recorded risks {rnd.risks} differ from the recomputed {risks}")
        decision_k, size = next_step(replay, risks, k, drawn)
        if decision_k != rnd.decision:
            raise _fail(f"round {k}: decision {rnd.decision!r} but the risks give {decision_k!r}")
        if decision_k == "escalate" and (k == len(rec.rounds) or rec.rounds[k].size != size):
            raise _fail(f"round {k}: escalation to {size} more draws not followed")
        out.add(f"round {k}", f"{rnd.size} draws; max risk {max(risks.values()):.4g}; {decision_k}")
    _check_status(rec, out)
    return out


def _check_status(rec: AuditRecord, out: AuditCheck) -> None:
    last = rec.rounds[-1].decision if rec.rounds else None
    expected: dict[Any, set[str]] = {
        "confirmed": {"confirmed"},
        "full_hand_count": {"full_hand_count", "full_count_done"},
        "escalate": {"in_progress"},
        None: {"in_progress"} if rec.rounds else {"full_hand_count", "full_count_done"},
    }
    if rec.status not in expected[last]:
        raise _fail(f"status {rec.status!r} does not follow from the last round ({last})")
    if rec.status == "full_count_done":
        if rec.full_count is None or full_count_decision(rec, rec.full_count) != rec.full_count_decision:
            raise _fail("the full hand count's decision is not what the rules give")
        d = rec.full_count_decision
        out.add("full hand count", f"outcome {d.outcome if d else '?'} by the rules")
    out.add("status", rec.status)
