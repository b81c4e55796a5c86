"""Candidate eligibility: each rule of the law a separate, small check with a stable id.

A rule never raises for an ineligible applicant: it returns a :class:`RuleOutcome` saying whether it
passed, why (an English sentence; translations are looked up by ``rule_id`` later) and the evidence it
looked at, so that a registration decision can publish every rule's outcome. All thresholds come from
:class:`~saylau.election.nomination_models.CandidacyRules`; nothing about one country lives here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from saylau.election.nomination_models import Applicant, CandidacyRules

__all__ = [
    "RULES",
    "EligibilityContext",
    "EligibilityRule",
    "RuleOutcome",
    "age_on",
    "check_age",
    "check_citizenship",
    "check_education",
    "check_entitled_to_vote",
    "check_fee",
    "check_language_test",
    "check_nomination_window",
    "check_nominator_type",
    "check_regional_spread",
    "check_residence",
    "check_service_years",
    "check_signature_threshold",
    "evaluate",
    "required_signatures",
    "spread_requirement",
]


def age_on(date_of_birth: date, day: date) -> int:
    """Age in whole years on ``day``; the birthday itself counts (40 on the 40th birthday).

    Someone born on 29 February turns a year older on 1 March in non-leap years, the usual reading
    of "has reached the age" when the anniversary does not exist.
    """
    if day < date_of_birth:
        raise ValueError(f"day {day} is before the date of birth {date_of_birth}")
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


@dataclass(frozen=True)
class RuleOutcome:
    """The result of one eligibility rule for one applicant, ready to be published."""

    rule_id: str
    passed: bool
    reason: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (evidence values are plain strings, numbers and booleans)."""
        return {"rule_id": self.rule_id, "passed": self.passed, "reason": self.reason,
                "evidence": dict(self.evidence)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleOutcome:
        """Inverse of :meth:`to_dict`."""
        return cls(rule_id=str(data["rule_id"]), passed=bool(data["passed"]), reason=str(data["reason"]),
                   evidence=dict(data["evidence"]))


@dataclass(frozen=True)
class EligibilityContext:
    """Facts about the election that the rules need besides the applicant and the rules.

    ``valid_signatures`` holds the checked valid signatures per region id (from
    :mod:`saylau.election.signatures`); when ``None`` the applicant's declared
    ``signatures.counts_per_region`` is used.
    """

    election_day: date
    registered_voters: int
    region_ids: tuple[str, ...]
    valid_signatures: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        if self.registered_voters < 0:
            raise ValueError(f"registered_voters is negative: {self.registered_voters}")
        if not self.region_ids:
            raise ValueError("region_ids is empty: the regional spread rule needs the list of regions")

    def signatures_for(self, applicant: Applicant) -> dict[str, int]:
        """Valid signatures per region for ``applicant``: checked counts first, else declared ones."""
        if self.valid_signatures is not None:
            return dict(self.valid_signatures)
        return dict(applicant.signatures.counts_per_region or {})


RuleCheck = Callable[[Applicant, CandidacyRules, EligibilityContext], RuleOutcome]


@dataclass(frozen=True)
class EligibilityRule:
    """A rule id, a one-line description of the law it applies, and its check."""

    rule_id: str
    description: str
    check: RuleCheck


def _outcome(rule_id: str, passed: bool, reason: str, **evidence: Any) -> RuleOutcome:
    return RuleOutcome(rule_id=rule_id, passed=passed, reason=reason, evidence=evidence)


def check_citizenship(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """The applicant must be a citizen by birth (when the rules require it)."""
    if not r.citizenship_by_birth_required:
        return _outcome("citizenship_by_birth", True, "citizenship by birth is not required",
                        citizen_by_birth=a.citizen_by_birth, required=False)
    if a.citizen_by_birth:
        return _outcome("citizenship_by_birth", True, "citizen by birth",
                        citizen_by_birth=True, required=True)
    return _outcome("citizenship_by_birth", False, "not a citizen by birth",
                    citizen_by_birth=False, required=True)


def check_age(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """The applicant must have reached ``min_age`` on election day (the birthday itself counts)."""
    age = age_on(a.date_of_birth, ctx.election_day) if ctx.election_day >= a.date_of_birth else 0
    ev = {"date_of_birth": a.date_of_birth.isoformat(), "election_day": ctx.election_day.isoformat(),
          "age_on_election_day": age, "min_age": r.min_age}
    if age >= r.min_age:
        return _outcome("min_age", True, f"aged {age} on election day, at least {r.min_age}", **ev)
    return _outcome("min_age", False, f"aged {age} on election day, younger than {r.min_age}", **ev)


def check_residence(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """The applicant must have resided permanently in the country for the required years."""
    ev = {"residence_years": a.residence_years, "required": r.residence_years}
    if a.residence_years >= r.residence_years:
        return _outcome("residence", True, f"{a.residence_years} years of permanent residence", **ev)
    return _outcome("residence", False,
                    f"{a.residence_years} years of permanent residence, fewer than {r.residence_years}", **ev)


def check_language_test(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """The applicant must have passed the state-language examination (when required)."""
    ev = {"state_language_test": a.state_language_test, "required": r.language_test_required}
    if not r.language_test_required:
        return _outcome("state_language", True, "the state-language test is not required", **ev)
    if a.state_language_test == "passed":
        return _outcome("state_language", True, "passed the state-language test", **ev)
    why = "failed" if a.state_language_test == "failed" else "did not take"
    return _outcome("state_language", False, f"{why} the state-language test", **ev)


def check_education(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """The applicant must hold a higher-education degree (when required)."""
    ev = {"higher_education": a.higher_education, "required": r.higher_education_required}
    if not r.higher_education_required:
        return _outcome("higher_education", True, "higher education is not required", **ev)
    if a.higher_education:
        return _outcome("higher_education", True, "holds a higher-education degree", **ev)
    return _outcome("higher_education", False, "has no higher-education degree", **ev)


def check_service_years(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """The applicant must have served the required years in civil service or an elected office."""
    ev = {"service_years": a.service_years, "required": r.service_years}
    if a.service_years >= r.service_years:
        return _outcome("service_years", True, f"{a.service_years:g} years of public service", **ev)
    return _outcome("service_years", False,
                    f"{a.service_years:g} years of public service, fewer than {r.service_years:g}", **ev)


def check_entitled_to_vote(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """The applicant must themself hold the right to vote (not disenfranchised by a court)."""
    if a.entitled_to_vote:
        return _outcome("entitled_to_vote", True, "entitled to vote", entitled_to_vote=True)
    return _outcome("entitled_to_vote", False, "not entitled to vote", entitled_to_vote=False)


def check_nominator_type(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """The nominating body must be of an allowed type (e.g. no self-nomination)."""
    ev = {"nominator": a.nominator.name, "nominator_type": a.nominator.type,
          "allowed": list(r.allowed_nominator_types)}
    if a.nominator.type in r.allowed_nominator_types:
        return _outcome("nominator_type", True, f"nominated by a {a.nominator.type}", **ev)
    return _outcome("nominator_type", False,
                    f"nominator type {a.nominator.type!r} is not allowed "
                    f"(allowed: {', '.join(r.allowed_nominator_types)})", **ev)


def required_signatures(r: CandidacyRules, registered_voters: int) -> int:
    """Signatures needed: ``signature_threshold`` of the registered voters, rounded up."""
    return math.ceil(_exact(r.signature_threshold) * registered_voters)


def spread_requirement(r: CandidacyRules, registered_voters: int, n_regions: int) -> tuple[int, int]:
    """(regions needed, signatures each of them needs) for the regional spread rule, rounded up."""
    regions_needed = math.ceil(_exact(r.spread_min_region_share) * n_regions)
    per_region = math.ceil(_exact(r.spread_min_region_fraction) * required_signatures(r, registered_voters))
    return regions_needed, per_region


def _exact(x: float) -> Fraction:
    """A float rule parameter as an exact fraction (2/3 written 0.6666666666666666 becomes 2/3)."""
    return Fraction(x).limit_denominator(10_000)


def check_signature_threshold(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """The valid signatures must reach the threshold share of registered voters."""
    needed = required_signatures(r, ctx.registered_voters)
    total = sum(ctx.signatures_for(a).values())
    ev = {"valid_signatures": total, "required": needed, "registered_voters": ctx.registered_voters,
          "threshold": r.signature_threshold}
    if total >= needed:
        return _outcome("signature_threshold", True, f"{total} valid signatures, at least {needed}", **ev)
    return _outcome("signature_threshold", False, f"{total} valid signatures, fewer than {needed}", **ev)


def check_regional_spread(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """Enough regions must each hold enough valid signatures; regions outside the list do not count."""
    regions_needed, per_region = spread_requirement(r, ctx.registered_voters, len(ctx.region_ids))
    counts = ctx.signatures_for(a)
    qualifying = sorted(rid for rid in ctx.region_ids if counts.get(rid, 0) >= per_region)
    ev = {"regions_qualifying": qualifying, "regions_needed": regions_needed,
          "signatures_per_region_needed": per_region, "regions_total": len(ctx.region_ids)}
    if len(qualifying) >= regions_needed:
        return _outcome("regional_spread", True,
                        f"{len(qualifying)} of {len(ctx.region_ids)} regions have at least {per_region} "
                        f"valid signatures (needed {regions_needed})", **ev)
    return _outcome("regional_spread", False,
                    f"only {len(qualifying)} of {len(ctx.region_ids)} regions have at least {per_region} "
                    f"valid signatures, fewer than {regions_needed}", **ev)


def check_fee(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """The election fee must be paid in full."""
    ev = {"fee_paid": str(a.fee_paid), "fee_amount": str(r.fee_amount), "currency": r.currency}
    if a.fee_paid >= r.fee_amount:
        return _outcome("election_fee", True, f"election fee of {r.fee_amount} {r.currency} paid", **ev)
    return _outcome("election_fee", False,
                    f"paid {a.fee_paid} {r.currency} of the {r.fee_amount} {r.currency} election fee", **ev)


def check_nomination_window(a: Applicant, r: CandidacyRules, ctx: EligibilityContext) -> RuleOutcome:
    """The application must be filed within the nomination window, both ends included."""
    ev = {"application_date": a.application_date.isoformat(),
          "nomination_start": r.nomination_start.isoformat(), "nomination_end": r.nomination_end.isoformat()}
    if a.application_date < r.nomination_start:
        return _outcome("nomination_window", False,
                        f"applied on {a.application_date}, before the window opened on {r.nomination_start}",
                        **ev)
    if a.application_date > r.nomination_end:
        return _outcome("nomination_window", False,
                        f"applied on {a.application_date}, after the window closed on {r.nomination_end}",
                        **ev)
    return _outcome("nomination_window", True, f"applied on {a.application_date}, within the window", **ev)


RULES: tuple[EligibilityRule, ...] = (
    EligibilityRule("citizenship_by_birth", "citizen by birth", check_citizenship),
    EligibilityRule("min_age", "minimum age on election day", check_age),
    EligibilityRule("residence", "years of permanent residence", check_residence),
    EligibilityRule("state_language", "state-language test passed", check_language_test),
    EligibilityRule("higher_education", "higher education", check_education),
    EligibilityRule("service_years", "years in civil service or elected office", check_service_years),
    EligibilityRule("entitled_to_vote", "holds the right to vote", check_entitled_to_vote),
    EligibilityRule("nominator_type", "nominated by an allowed body", check_nominator_type),
    EligibilityRule("signature_threshold", "enough valid voter signatures", check_signature_threshold),
    EligibilityRule("regional_spread", "signatures spread over enough regions", check_regional_spread),
    EligibilityRule("election_fee", "election fee paid", check_fee),
    EligibilityRule("nomination_window", "applied within the nomination window", check_nomination_window),
)
"""Every rule, in the order a decision lists them; ids are stable (translations are keyed by them)."""


def evaluate(applicant: Applicant, rules: CandidacyRules, ctx: EligibilityContext) -> list[RuleOutcome]:
    """Run every rule in :data:`RULES` on the applicant; one outcome per rule, none skipped."""
    return [rule.check(applicant, rules, ctx) for rule in RULES]
