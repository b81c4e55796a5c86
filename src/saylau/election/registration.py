"""Registration decisions: every rule's outcome, the verdict, and an append-only appeal trail.

A decision is published as a JSON-able object that carries everything needed to re-check it: the
applicant's facts as judged, the election facts (election day, registered voters, regions, checked
signatures) and each rule's outcome. :func:`verify_decision` recomputes the outcomes from that alone.
Decisions about one applicant form a hash chain: each version names the canonical-JSON (RFC 8785)
SHA-256 digest of the one it revises, so an appeal adds a version and never hides the old one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import rfc8785

from saylau.election.eligibility import EligibilityContext, RuleOutcome, evaluate
from saylau.election.nomination_models import Applicant, CandidacyRules
from saylau.errors import RegistrationError

__all__ = [
    "Appeal",
    "Decision",
    "DecisionStatus",
    "RegistrationBook",
    "verify_decision",
    "verify_history",
]

DecisionStatus = Literal["registered", "refused"]


def _context_to_dict(ctx: EligibilityContext) -> dict[str, Any]:
    return {
        "election_day": ctx.election_day.isoformat(),
        "registered_voters": ctx.registered_voters,
        "region_ids": list(ctx.region_ids),
        "valid_signatures": None if ctx.valid_signatures is None else dict(ctx.valid_signatures),
    }


def _context_from_dict(d: Mapping[str, Any]) -> EligibilityContext:
    sig = d["valid_signatures"]
    return EligibilityContext(
        election_day=date.fromisoformat(d["election_day"]), registered_voters=int(d["registered_voters"]),
        region_ids=tuple(d["region_ids"]), valid_signatures=None if sig is None else dict(sig))


@dataclass(frozen=True)
class Appeal:
    """A refused applicant's appeal: who filed it, when, on what grounds, with what new evidence."""

    filed_by: str
    filed_on: date
    grounds: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"filed_by": self.filed_by, "filed_on": self.filed_on.isoformat(), "grounds": self.grounds,
                "evidence": dict(self.evidence)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Appeal:
        """Inverse of :meth:`to_dict`."""
        return cls(filed_by=str(d["filed_by"]), filed_on=date.fromisoformat(d["filed_on"]),
                   grounds=str(d["grounds"]), evidence=dict(d["evidence"]))


@dataclass(frozen=True)
class Decision:
    """One version of the registration decision about one applicant."""

    applicant: Applicant
    context: EligibilityContext
    version: int
    status: DecisionStatus
    decided_on: date
    decided_by: str
    reason: str
    outcomes: tuple[RuleOutcome, ...]
    appeal: Appeal | None = None
    previous_hash: str | None = None

    @property
    def applicant_id(self) -> str:
        """The id of the applicant decided about."""
        return self.applicant.id

    def to_dict(self) -> dict[str, Any]:
        """The published form; its RFC 8785 canonical bytes are what :meth:`digest` hashes."""
        return {
            "applicant_id": self.applicant.id,
            "version": self.version,
            "status": self.status,
            "decided_on": self.decided_on.isoformat(),
            "decided_by": self.decided_by,
            "reason": self.reason,
            "applicant": self.applicant.model_dump(mode="json"),
            "context": _context_to_dict(self.context),
            "outcomes": [o.to_dict() for o in self.outcomes],
            "appeal": None if self.appeal is None else self.appeal.to_dict(),
            "previous_hash": self.previous_hash,
        }

    def canonical_bytes(self) -> bytes:
        """RFC 8785 canonical JSON of :meth:`to_dict`."""
        return bytes(rfc8785.dumps(self.to_dict()))

    def digest(self) -> str:
        """SHA-256 of the canonical JSON, lowercase hex: the decision's identity in the audit trail."""
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Decision:
        """Rebuild a decision from its published form (raises ``RegistrationError`` if malformed)."""
        try:
            applicant = Applicant.model_validate(d["applicant"])
            if applicant.id != d["applicant_id"]:
                raise RegistrationError(
                    f"decision for {d['applicant_id']!r} carries the facts of applicant {applicant.id!r}")
            status = d["status"]
            if status not in ("registered", "refused"):
                raise RegistrationError(f"decision for {applicant.id!r} has unknown status {status!r}")
            return cls(
                applicant=applicant, context=_context_from_dict(d["context"]), version=int(d["version"]),
                status=status, decided_on=date.fromisoformat(d["decided_on"]),
                decided_by=str(d["decided_by"]), reason=str(d["reason"]),
                outcomes=tuple(RuleOutcome.from_dict(o) for o in d["outcomes"]),
                appeal=None if d["appeal"] is None else Appeal.from_dict(d["appeal"]),
                previous_hash=d["previous_hash"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistrationError(f"malformed registration decision: {exc}") from exc


def _verdict(outcomes: list[RuleOutcome]) -> tuple[DecisionStatus, str]:
    failed = [o for o in outcomes if not o.passed]
    if not failed:
        return "registered", f"all {len(outcomes)} eligibility rules passed"
    listed = "; ".join(f"{o.rule_id}: {o.reason}" for o in failed)
    return "refused", f"{len(failed)} of {len(outcomes)} rules failed — {listed}"


def verify_decision(decision: Decision, rules: CandidacyRules) -> None:
    """Recompute every rule from the decision's own facts; raise ``RegistrationError`` on a mismatch."""
    expected = evaluate(decision.applicant, rules, decision.context)
    if tuple(expected) != decision.outcomes:
        got = {o.rule_id: o.passed for o in decision.outcomes}
        diff = [o.rule_id for o in expected if got.get(o.rule_id) is not o.passed] or ["evidence or reasons"]
        raise RegistrationError(
            f"decision v{decision.version} for {decision.applicant_id!r}: recorded rule outcomes differ "
            f"from the rules applied to its facts ({', '.join(diff)})")
    status, _ = _verdict(expected)
    if status != decision.status:
        raise RegistrationError(
            f"decision v{decision.version} for {decision.applicant_id!r} says {decision.status!r} "
            f"but its rule outcomes give {status!r}")


def verify_history(history: list[Decision], rules: CandidacyRules) -> None:
    """Check one applicant's versions: numbered 1.., hash-chained, dated in order, each one sound."""
    if not history:
        raise RegistrationError("empty decision history")
    previous: Decision | None = None
    for i, d in enumerate(history, start=1):
        if d.version != i:
            raise RegistrationError(
                f"decision for {d.applicant_id!r}: version {d.version} found at place {i}")
        if previous is None:
            if d.previous_hash is not None or d.appeal is not None:
                raise RegistrationError(
                    f"first decision for {d.applicant_id!r} claims a predecessor or appeal")
        else:
            if d.applicant_id != previous.applicant_id:
                raise RegistrationError(f"history of {previous.applicant_id!r} contains {d.applicant_id!r}")
            if d.previous_hash != previous.digest():
                raise RegistrationError(
                    f"decision v{d.version} for {d.applicant_id!r} does not chain to v{previous.version}")
            if d.appeal is None or d.decided_on < previous.decided_on:
                raise RegistrationError(
                    f"decision v{d.version} for {d.applicant_id!r} revises v{previous.version} "
                    "without an appeal or before it")
        verify_decision(d, rules)
        previous = d


class RegistrationBook:
    """The registration commission's decisions, per applicant an append-only list of versions."""

    def __init__(self, rules: CandidacyRules) -> None:
        self.rules = rules
        self._history: dict[str, list[Decision]] = {}

    def decide(self, applicant: Applicant, ctx: EligibilityContext, decided_on: date,
               decided_by: str) -> Decision:
        """First decision on an application, within ``decision_deadline_days`` of filing."""
        if applicant.id in self._history:
            raise RegistrationError(
                f"applicant {applicant.id!r} already has a decision; revise it through an appeal")
        deadline = applicant.application_date + timedelta(days=self.rules.decision_deadline_days)
        if not applicant.application_date <= decided_on <= deadline:
            raise RegistrationError(
                f"decision on {applicant.id!r} dated {decided_on} is outside {applicant.application_date}"
                f"..{deadline} (filing date plus {self.rules.decision_deadline_days} days)")
        decision = self._make(applicant, ctx, 1, decided_on, decided_by, None, None)
        self._history[applicant.id] = [decision]
        return decision

    def appeal(self, applicant_id: str, appeal: Appeal, decided_on: date, decided_by: str,
               revised: Applicant | None = None, ctx: EligibilityContext | None = None) -> Decision:
        """Decide an appeal against a refusal: rerun every rule on the revised facts, add a version.

        ``revised`` holds the applicant's corrected facts (same id) and ``ctx`` new election facts
        such as a recount of signatures; whatever is not given stays as last judged.
        """
        current = self.current(applicant_id)
        if current.status != "refused":
            raise RegistrationError(
                f"applicant {applicant_id!r} is registered; only a refusal can be appealed")
        if revised is not None and revised.id != applicant_id:
            raise RegistrationError(f"appeal of {applicant_id!r} carries the facts of {revised.id!r}")
        if not current.decided_on <= appeal.filed_on <= decided_on:
            raise RegistrationError(
                f"appeal of {applicant_id!r}: filed {appeal.filed_on} and decided {decided_on} must both "
                f"follow the decision of {current.decided_on}")
        decision = self._make(revised or current.applicant, ctx or current.context, current.version + 1,
                              decided_on, decided_by, appeal, current.digest())
        self._history[applicant_id].append(decision)
        return decision

    def _make(self, applicant: Applicant, ctx: EligibilityContext, version: int, decided_on: date,
              decided_by: str, appeal: Appeal | None, previous_hash: str | None) -> Decision:
        outcomes = evaluate(applicant, self.rules, ctx)
        status, reason = _verdict(outcomes)
        return Decision(applicant=applicant, context=ctx, version=version, status=status,
                        decided_on=decided_on, decided_by=decided_by, reason=reason,
                        outcomes=tuple(outcomes), appeal=appeal, previous_hash=previous_hash)

    def current(self, applicant_id: str) -> Decision:
        """The latest version of the decision about ``applicant_id``."""
        return self.history(applicant_id)[-1]

    def history(self, applicant_id: str) -> list[Decision]:
        """Every version, oldest first (a copy: the book itself is append-only)."""
        try:
            return list(self._history[applicant_id])
        except KeyError:
            raise RegistrationError(f"no decision recorded for applicant {applicant_id!r}") from None

    def __iter__(self) -> Iterator[Decision]:
        """The current decision of each applicant, in order of first decision."""
        return (versions[-1] for versions in self._history.values())

    def registered(self) -> list[str]:
        """Ids of the applicants registered as candidates in their current decision."""
        return [d.applicant_id for d in self if d.status == "registered"]

    def to_dict(self) -> dict[str, Any]:
        """Everything published: per applicant every version, with its digest."""
        return {"applicants": {
            aid: [d.to_dict() | {"digest": d.digest()} for d in versions]
            for aid, versions in self._history.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], rules: CandidacyRules) -> RegistrationBook:
        """Load a published book and verify every history and every stated digest."""
        book = cls(rules)
        for aid, versions in data["applicants"].items():
            history = []
            for v in versions:
                d = Decision.from_dict({k: x for k, x in v.items() if k != "digest"})
                if "digest" in v and v["digest"] != d.digest():
                    raise RegistrationError(
                        f"decision v{d.version} for {aid!r}: stated digest does not match")
                history.append(d)
            verify_history(history, rules)
            book._history[aid] = history
        return book
