"""Registration decisions: every rule recorded, deadlines, appeals with an append-only trail."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import rfc8785

from saylau.election.eligibility import RULES, EligibilityContext
from saylau.election.nomination_models import Applicant, CandidacyRules
from saylau.election.registration import Appeal, Decision, RegistrationBook, verify_decision, verify_history
from saylau.errors import RegistrationError

REGIONS = tuple(f"r{i:02d}" for i in range(20))
RULES_2022 = CandidacyRules(
    min_age=40, residence_years=15, language_test_required=True, higher_education_required=True,
    service_years=5, allowed_nominator_types=["public_association"], signature_threshold=0.01,
    spread_min_region_share=2 / 3, spread_min_region_fraction=0.03, fee_amount=Decimal(1_500_000),
    currency="KZT", nomination_start=date(2022, 9, 23), nomination_end=date(2022, 10, 11),
    decision_deadline_days=5)
CTX = EligibilityContext(election_day=date(2022, 11, 20), registered_voters=11_827_300, region_ids=REGIONS)


def applicant(aid: str = "a1", **over: Any) -> Applicant:
    base: dict[str, Any] = {
        "id": aid, "full_name": {"kk": "Аты", "ru": "Имя", "en": "Name"},
        "date_of_birth": date(1960, 5, 1), "citizen_by_birth": True, "residence_years": 30,
        "state_language_test": "passed", "higher_education": True, "service_years": 10,
        "nominator": {"name": "Association", "type": "public_association"},
        "signatures": {"counts_per_region": {r: 7000 for r in REGIONS}},
        "fee_paid": Decimal(1_500_000), "application_date": date(2022, 10, 1),
    }
    base.update(over)
    return Applicant(**base)


def test_registered_decision_records_every_rule() -> None:
    book = RegistrationBook(RULES_2022)
    d = book.decide(applicant(), CTX, date(2022, 10, 3), "CEC")
    assert d.status == "registered"
    assert [o.rule_id for o in d.outcomes] == [r.rule_id for r in RULES]
    assert d.reason == "all 12 eligibility rules passed"
    assert book.registered() == ["a1"]


def test_refusal_names_each_failed_rule() -> None:
    book = RegistrationBook(RULES_2022)
    d = book.decide(applicant(date_of_birth=date(1982, 11, 21), nominator={"name": "me", "type": "self"}),
                    CTX, date(2022, 10, 3), "CEC")
    assert d.status == "refused"
    assert "min_age: aged 39" in d.reason and "nominator_type:" in d.reason
    assert [o.rule_id for o in d.outcomes if not o.passed] == ["min_age", "nominator_type"]
    assert len(d.outcomes) == len(RULES)
    assert book.registered() == []


@pytest.mark.parametrize("day", [date(2022, 9, 30), date(2022, 10, 7)])
def test_decision_outside_the_deadline_is_refused(day: date) -> None:
    book = RegistrationBook(RULES_2022)
    with pytest.raises(RegistrationError, match=r"outside 2022-10-01\.\.2022-10-06"):
        book.decide(applicant(), CTX, day, "CEC")


def test_decision_on_the_last_day_is_accepted() -> None:
    assert RegistrationBook(RULES_2022).decide(applicant(), CTX, date(2022, 10, 6), "CEC").version == 1


def test_second_first_decision_is_refused() -> None:
    book = RegistrationBook(RULES_2022)
    book.decide(applicant(), CTX, date(2022, 10, 2), "CEC")
    with pytest.raises(RegistrationError, match="already has a decision"):
        book.decide(applicant(), CTX, date(2022, 10, 3), "CEC")


def test_decision_is_canonical_json_and_hashable() -> None:
    d = RegistrationBook(RULES_2022).decide(applicant(), CTX, date(2022, 10, 3), "CEC")
    as_json = json.dumps(d.to_dict())
    again = Decision.from_dict(json.loads(as_json))
    assert again.canonical_bytes() == d.canonical_bytes() == rfc8785.dumps(d.to_dict())
    assert again.digest() == d.digest() and len(d.digest()) == 64


def test_appeal_with_new_evidence_keeps_the_old_version() -> None:
    book = RegistrationBook(RULES_2022)
    few = {r: 100 for r in REGIONS}
    refused = book.decide(applicant(), EligibilityContext(CTX.election_day, CTX.registered_voters, REGIONS,
                                                          valid_signatures=few), date(2022, 10, 3), "CEC")
    assert refused.status == "refused"
    appeal = Appeal(filed_by="a1's agent", filed_on=date(2022, 10, 4),
                    grounds="signatures wrongly rejected", evidence={"recount_sheet": "sheet-a1-recount.csv"})
    revised = book.appeal("a1", appeal, date(2022, 10, 6), "Supreme Court", ctx=CTX)
    assert revised.status == "registered" and revised.version == 2
    assert revised.previous_hash == refused.digest()
    history = book.history("a1")
    assert [h.status for h in history] == ["refused", "registered"]
    assert history[0] == refused
    assert book.current("a1") == revised
    assert book.registered() == ["a1"]
    verify_history(history, RULES_2022)
    published = book.to_dict()
    assert [v["version"] for v in published["applicants"]["a1"]] == [1, 2]
    assert published["applicants"]["a1"][1]["appeal"]["filed_by"] == "a1's agent"
    loaded = RegistrationBook.from_dict(json.loads(json.dumps(published)), RULES_2022)
    assert loaded.current("a1").digest() == revised.digest()


def test_appeal_rules() -> None:
    book = RegistrationBook(RULES_2022)
    book.decide(applicant(), CTX, date(2022, 10, 3), "CEC")
    appeal = Appeal("x", date(2022, 10, 4), "none")
    with pytest.raises(RegistrationError, match="only a refusal can be appealed"):
        book.appeal("a1", appeal, date(2022, 10, 5), "court")
    book.decide(applicant("a2", higher_education=False), CTX, date(2022, 10, 3), "CEC")
    with pytest.raises(RegistrationError, match="must both follow"):
        book.appeal("a2", Appeal("x", date(2022, 10, 2), "early"), date(2022, 10, 5), "court")
    with pytest.raises(RegistrationError, match="carries the facts"):
        book.appeal("a2", appeal, date(2022, 10, 5), "court", revised=applicant("a3"))
    still = book.appeal("a2", appeal, date(2022, 10, 5), "court",
                        revised=applicant("a2", higher_education=False))
    assert still.status == "refused" and still.version == 2
    with pytest.raises(RegistrationError, match="no decision recorded"):
        book.current("nobody")


def test_tampered_decisions_are_caught() -> None:
    book = RegistrationBook(RULES_2022)
    book.decide(applicant(higher_education=False), CTX, date(2022, 10, 3), "CEC")
    book.appeal("a1", Appeal("x", date(2022, 10, 4), "diploma found"), date(2022, 10, 5), "court",
                revised=applicant())
    published = book.to_dict()
    # Flip the verdict of the first version: its digest and the chain no longer match.
    bad = json.loads(json.dumps(published))
    bad["applicants"]["a1"][0]["status"] = "registered"
    with pytest.raises(RegistrationError, match="digest does not match"):
        RegistrationBook.from_dict(bad, RULES_2022)
    with pytest.raises(RegistrationError, match="says 'registered' but its rule outcomes give 'refused'"):
        first = {k: v for k, v in bad["applicants"]["a1"][0].items() if k != "digest"}
        verify_decision(Decision.from_dict(first), RULES_2022)
    # Change who decided version 1 (no rule involved): the chain from version 2 breaks.
    bad = json.loads(json.dumps(published))
    bad["applicants"]["a1"][0]["decided_by"] = "someone else"
    del bad["applicants"]["a1"][0]["digest"]
    with pytest.raises(RegistrationError, match="does not chain"):
        RegistrationBook.from_dict(bad, RULES_2022)
    # A decision whose facts were changed after the fact no longer matches its rule outcomes.
    d = book.history("a1")[0]
    forged = Decision.from_dict(d.to_dict() | {"applicant": applicant().model_dump(mode="json")})
    with pytest.raises(RegistrationError, match="higher_education"):
        verify_decision(forged, RULES_2022)
    # Dropping the first version breaks the numbering.
    with pytest.raises(RegistrationError, match="version 2 found at place 1"):
        verify_history(book.history("a1")[1:], RULES_2022)


def test_malformed_decision_raises() -> None:
    with pytest.raises(RegistrationError, match="malformed"):
        Decision.from_dict({"applicant_id": "a1"})


def test_kz_2022_applicants_are_decided_with_reasons() -> None:
    from saylau.election.scenario import load_scenario

    sc = load_scenario("kz-2022")
    assert sc.candidacy is not None and sc.published is not None
    regions = tuple(r.id for r in sc.territory_index.regions if r.kind != "abroad")
    assert len(regions) == 20
    ctx = EligibilityContext(sc.date, sc.published.registered, regions)
    book = RegistrationBook(sc.candidacy)
    for a in sc.applicants:
        book.decide(a, ctx, a.application_date, "CEC")
    assert book.registered() == ["tokayev", "dairabayev", "abden", "kazhyken", "auesbayev", "tursynbekova"]
    refused = {d.applicant_id: [o.rule_id for o in d.outcomes if not o.passed]
               for d in book if d.status == "refused"}
    assert refused["fictional-serikbayev"] == ["min_age"]
    assert "state_language" in refused["fictional-mukhanova"]
    assert all(refused.values()) and len(refused) == len(sc.applicants) - 6
    RegistrationBook.from_dict(json.loads(json.dumps(book.to_dict())), sc.candidacy)
