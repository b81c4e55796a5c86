"""Data models of candidate nomination: who applies, and the rules they are judged by.

These models are part of the scenario format (the scenario holds ``candidacy_rules`` and a list of
``applicants``), so every country-specific number — minimum age, residence years, signature threshold,
fee, nomination window — is data here, never code. The eligibility rules in
:mod:`saylau.election.eligibility` read them; :mod:`saylau.election.registration` records the decision.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from saylau.election.manifest import LocalizedText

__all__ = [
    "Applicant",
    "CandidacyRules",
    "LanguageTestResult",
    "Nominator",
    "NominatorType",
    "PersonName",
    "SignatureSubmission",
]

NominatorType = Literal["public_association", "party", "coalition", "self"]
"""Who may put an applicant forward; the rules list which of these are allowed."""

LanguageTestResult = Literal["passed", "failed", "not_taken"]
"""Outcome of the state-language examination the applicant sat (or did not)."""


class _Frozen(BaseModel):
    """Base of the nomination models: immutable, unknown fields rejected (typos in a scenario fail)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


PersonName = LocalizedText
"""An applicant's full name as printed in each of the election's languages."""


class Nominator(_Frozen):
    """The body (or the applicant themself) that nominated the applicant."""

    name: str = Field(min_length=1)
    type: NominatorType


class SignatureSubmission(_Frozen):
    """The supporting signatures an applicant handed in.

    Either a reference to a signature-sheet CSV (checked against the voter roll by
    :mod:`saylau.election.signatures`) or already-verified valid counts per region id, or both
    (the sheet then wins once it has been checked). Neither means no signatures were submitted.
    """

    sheet: str | None = Field(default=None, min_length=1, description="path of the sheet CSV")
    counts_per_region: dict[str, Annotated[int, Field(le=2**31 - 1)]] | None = Field(
        default=None, description="valid signatures per region id, when no sheet is checked"
    )

    @model_validator(mode="after")
    def _counts_not_negative(self) -> SignatureSubmission:
        for region, count in (self.counts_per_region or {}).items():
            if count < 0:
                raise ValueError(f"signature count for region {region!r} is negative: {count}")
        return self


class Applicant(_Frozen):
    """One person who applied to be registered as a candidate, with the facts the rules test."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    full_name: PersonName
    date_of_birth: date
    citizen_by_birth: bool
    residence_years: int = Field(ge=0, le=200, description="years of permanent residence up to the election")
    state_language_test: LanguageTestResult
    higher_education: bool
    service_years: float = Field(ge=0, le=200, description="years in civil service or an elected office")
    entitled_to_vote: bool = True
    nominator: Nominator
    signatures: SignatureSubmission = Field(default_factory=SignatureSubmission)
    fee_paid: Decimal = Field(default=Decimal(0), ge=0, description="election fee paid, in rules.currency")
    application_date: date


class CandidacyRules(_Frozen):
    """The eligibility and nomination rules of one election, all parameters (no country in code).

    ``signature_threshold`` is a fraction of registered voters (0.01 = 1 %). The regional spread rule
    requires at least ``spread_min_region_share`` of the regions (e.g. 2/3) each to hold at least
    ``spread_min_region_fraction`` of the required signature count.
    """

    min_age: int = Field(ge=0, le=200)
    residence_years: int = Field(ge=0, le=200)
    language_test_required: bool
    higher_education_required: bool
    service_years: float = Field(ge=0, le=200)
    citizenship_by_birth_required: bool = True
    allowed_nominator_types: list[NominatorType] = Field(min_length=1)
    signature_threshold: float = Field(ge=0, le=1)
    spread_min_region_share: float = Field(ge=0, le=1)
    spread_min_region_fraction: float = Field(ge=0, le=1)
    fee_amount: Decimal = Field(ge=0, le=10**15)
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 code of fee amounts")
    nomination_start: date
    nomination_end: date
    decision_deadline_days: int = Field(ge=0, le=3650, description="days after the application to decide")

    @model_validator(mode="after")
    def _window_ordered(self) -> CandidacyRules:
        if self.nomination_end < self.nomination_start:
            raise ValueError(
                f"nomination window ends ({self.nomination_end}) before it starts ({self.nomination_start})"
            )
        return self
