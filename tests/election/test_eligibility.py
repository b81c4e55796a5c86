"""Each eligibility rule on its own: passing, failing and boundary cases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from saylau.election import eligibility as el
from saylau.election.nomination_models import Applicant, CandidacyRules

ELECTION_DAY = date(2022, 11, 20)
REGIONS = tuple(f"r{i:02d}" for i in range(20))


def rules(**over: Any) -> CandidacyRules:
    base: dict[str, Any] = {
        "min_age": 40, "residence_years": 15, "language_test_required": True,
        "higher_education_required": True, "service_years": 5,
        "allowed_nominator_types": ["public_association"], "signature_threshold": 0.01,
        "spread_min_region_share": 2 / 3, "spread_min_region_fraction": 0.03,
        "fee_amount": Decimal("1500000"), "currency": "KZT",
        "nomination_start": date(2022, 9, 23), "nomination_end": date(2022, 10, 11),
        "decision_deadline_days": 5,
    }
    base.update(over)
    return CandidacyRules(**base)


def applicant(**over: Any) -> Applicant:
    base: dict[str, Any] = {
        "id": "a1", "full_name": {"kk": "Аты Жөні", "ru": "Имя Фамилия", "en": "Name Surname"},
        "date_of_birth": date(1960, 5, 1), "citizen_by_birth": True, "residence_years": 30,
        "state_language_test": "passed", "higher_education": True, "service_years": 10,
        "nominator": {"name": "Association", "type": "public_association"},
        "signatures": {"counts_per_region": {r: 7000 for r in REGIONS}},
        "fee_paid": Decimal("1500000"), "application_date": date(2022, 10, 1),
    }
    base.update(over)
    return Applicant(**base)


def ctx(registered: int = 11_827_300, **over: Any) -> el.EligibilityContext:
    return el.EligibilityContext(election_day=ELECTION_DAY, registered_voters=registered,
                                 region_ids=REGIONS, **over)


def run(check: el.RuleCheck, a: Applicant | None = None, r: CandidacyRules | None = None,
        c: el.EligibilityContext | None = None) -> el.RuleOutcome:
    return check(a or applicant(), r or rules(), c or ctx())


def test_a_good_applicant_passes_every_rule() -> None:
    outcomes = el.evaluate(applicant(), rules(), ctx())
    assert [o.rule_id for o in outcomes] == [r.rule_id for r in el.RULES]
    assert len({o.rule_id for o in outcomes}) == 12
    assert all(o.passed for o in outcomes), [o for o in outcomes if not o.passed]


def test_age_counts_the_birthday_itself() -> None:
    assert el.age_on(date(1982, 11, 20), ELECTION_DAY) == 40
    assert el.age_on(date(1982, 11, 21), ELECTION_DAY) == 39
    assert el.age_on(date(1980, 2, 29), date(2021, 2, 28)) == 40
    assert el.age_on(date(1980, 2, 29), date(2021, 3, 1)) == 41
    with pytest.raises(ValueError, match="before the date of birth"):
        el.age_on(date(2000, 1, 2), date(2000, 1, 1))


@pytest.mark.parametrize(("dob", "passed"), [
    (date(1982, 11, 20), True),    # 40th birthday on election day
    (date(1982, 11, 21), False),   # turns 40 the day after
    (date(1950, 1, 1), True),
])
def test_min_age(dob: date, passed: bool) -> None:
    out = run(el.check_age, applicant(date_of_birth=dob))
    assert out.rule_id == "min_age"
    assert out.passed is passed
    assert out.evidence["age_on_election_day"] == (40 if dob.year == 1982 and passed else
                                                   39 if dob.year == 1982 else 72)
    assert ("younger than 40" in out.reason) is not passed


def test_citizenship_by_birth() -> None:
    assert run(el.check_citizenship).passed
    out = run(el.check_citizenship, applicant(citizen_by_birth=False))
    assert not out.passed and out.reason == "not a citizen by birth"
    assert run(el.check_citizenship, applicant(citizen_by_birth=False),
               rules(citizenship_by_birth_required=False)).passed


@pytest.mark.parametrize(("years", "passed"), [(15, True), (14, False), (40, True)])
def test_residence(years: int, passed: bool) -> None:
    out = run(el.check_residence, applicant(residence_years=years))
    assert out.passed is passed
    assert out.evidence == {"residence_years": years, "required": 15}


@pytest.mark.parametrize(("result", "passed", "reason"), [
    ("passed", True, "passed the state-language test"),
    ("failed", False, "failed the state-language test"),
    ("not_taken", False, "did not take the state-language test"),
])
def test_language_test(result: str, passed: bool, reason: str) -> None:
    out = run(el.check_language_test, applicant(state_language_test=result))
    assert (out.passed, out.reason) == (passed, reason)


def test_language_test_not_required() -> None:
    out = run(el.check_language_test, applicant(state_language_test="failed"),
              rules(language_test_required=False))
    assert out.passed


def test_higher_education() -> None:
    assert run(el.check_education).passed
    assert not run(el.check_education, applicant(higher_education=False)).passed
    assert run(el.check_education, applicant(higher_education=False),
               rules(higher_education_required=False)).passed


@pytest.mark.parametrize(("years", "passed"), [(5, True), (4.9, False), (0, False)])
def test_service_years(years: float, passed: bool) -> None:
    assert run(el.check_service_years, applicant(service_years=years)).passed is passed


def test_entitled_to_vote() -> None:
    assert run(el.check_entitled_to_vote).passed
    assert not run(el.check_entitled_to_vote, applicant(entitled_to_vote=False)).passed


@pytest.mark.parametrize(("kind", "passed"), [
    ("public_association", True), ("self", False), ("party", False)])
def test_nominator_type(kind: str, passed: bool) -> None:
    out = run(el.check_nominator_type, applicant(nominator={"name": "X", "type": kind}))
    assert out.passed is passed
    if not passed:
        assert f"nominator type '{kind}' is not allowed" in out.reason


def test_required_signatures_rounds_up() -> None:
    assert el.required_signatures(rules(), 11_827_300) == 118_273
    assert el.required_signatures(rules(), 11_827_201) == 118_273
    assert el.required_signatures(rules(), 11_827_200) == 118_272
    assert el.spread_requirement(rules(), 11_827_300, 20) == (14, 3549)
    assert el.spread_requirement(rules(), 11_827_300, 18) == (12, 3549)


def test_signature_threshold_boundary() -> None:
    need = el.required_signatures(rules(), 11_827_300)
    exact = {"r00": need}
    out = run(el.check_signature_threshold, c=ctx(valid_signatures=exact))
    assert out.passed and out.evidence["valid_signatures"] == need
    short = {"r00": need - 1}
    out = run(el.check_signature_threshold, c=ctx(valid_signatures=short))
    assert not out.passed and f"fewer than {need}" in out.reason


def test_checked_signatures_override_declared_counts() -> None:
    a = applicant(signatures={"counts_per_region": {"r00": 10**6}})
    assert run(el.check_signature_threshold, a).passed
    assert not run(el.check_signature_threshold, a, c=ctx(valid_signatures={"r00": 5})).passed


def test_regional_spread() -> None:
    per = 3549
    fourteen = {r: per for r in REGIONS[:14]}
    assert run(el.check_regional_spread, c=ctx(valid_signatures=fourteen)).passed
    thirteen = {r: per for r in REGIONS[:13]} | {REGIONS[13]: per - 1}
    out = run(el.check_regional_spread, c=ctx(valid_signatures=thirteen))
    assert not out.passed
    assert out.evidence["regions_needed"] == 14
    assert len(out.evidence["regions_qualifying"]) == 13
    # Signatures from a region that is not on the list do not count towards the spread.
    foreign = {r: per for r in REGIONS[:13]} | {"abroad": 10**6}
    assert not run(el.check_regional_spread, c=ctx(valid_signatures=foreign)).passed


def test_fee() -> None:
    assert run(el.check_fee).passed
    out = run(el.check_fee, applicant(fee_paid=Decimal("1499999.99")))
    assert not out.passed and "1499999.99 KZT of the 1500000 KZT" in out.reason


@pytest.mark.parametrize(("day", "passed"), [
    (date(2022, 9, 23), True), (date(2022, 10, 11), True),
    (date(2022, 9, 22), False), (date(2022, 10, 12), False)])
def test_nomination_window(day: date, passed: bool) -> None:
    out = run(el.check_nomination_window, applicant(application_date=day))
    assert out.passed is passed
    if not passed:
        assert ("before the window" in out.reason) or ("after the window" in out.reason)


def test_outcome_round_trips() -> None:
    out = run(el.check_regional_spread)
    assert el.RuleOutcome.from_dict(out.to_dict()) == out


def test_models_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="ends"):
        rules(nomination_end=date(2022, 9, 1))
    with pytest.raises(ValueError, match="negative"):
        applicant(signatures={"counts_per_region": {"r00": -1}})
    with pytest.raises(ValueError):
        applicant(nominator={"name": "X", "type": "church"})
    with pytest.raises(ValueError, match="region_ids"):
        el.EligibilityContext(election_day=ELECTION_DAY, registered_voters=1, region_ids=())
