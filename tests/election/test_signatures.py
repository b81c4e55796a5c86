"""Signature sheets against the roll: each rejection reason, counts per region, feeding the rules."""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from saylau.election.eligibility import EligibilityContext, check_regional_spread, check_signature_threshold
from saylau.election.nomination_models import Applicant, CandidacyRules
from saylau.election.signatures import REASONS, check_signatures
from saylau.election.voter_ids import VoterIdSpec
from saylau.election.voter_roll import Voter, VoterRoll, make_iin
from saylau.errors import RegistrationError

# these tests read kz-2022's identifier: the IIN (column "iin", validator kz-iin)
KZ_IIN = VoterIdSpec(name="IIN", validator="kz-iin", column="iin")
check_signatures_kz = functools.partial(check_signatures, voter_id=KZ_IIN)

STATIONS = {"e1": "east", "w1": "west", "n1": "north"}
HEADER = "applicant_id,iin,last_name,first_name,region,signed_on"
WINDOW = (date(2022, 9, 23), date(2022, 10, 11))


def build_roll() -> VoterRoll:
    roll = VoterRoll(STATIONS)
    for i in range(1, 21):
        region, station = (("east", "e1"), ("west", "w1"), ("north", "n1"))[i % 3]
        roll.add(Voter(make_iin(date(1970, 1, i), False, i), f"Last{i}", f"First{i}", "",
                       date(1970, 1, i), region, station))
    roll.add(Voter(make_iin(date(2004, 10, 1), True, 1), "Young", "One", "", date(2004, 10, 1), "east", "e1"))
    return roll


ROLL = build_roll()


def sig(i: int, region: str | None = None, applicant: str = "a1", signed: str = "2022-10-01",
        last: str | None = None) -> str:
    v = ROLL.voter(make_iin(date(1970, 1, i), False, i))
    return f"{applicant},{v.voter_id},{last or v.last_name},{v.first_name},{region or v.region},{signed}"


def sheet(*lines: str) -> str:
    return "\n".join((HEADER, *lines)) + "\n"


def test_valid_signatures_count_per_region() -> None:
    report = check_signatures_kz(sheet(sig(1), sig(2), sig(3), sig(4)), "a1", ROLL, 18, WINDOW)
    assert report.valid_total == 4 and report.rejected == []
    assert dict(report.valid_per_region) == {"west": 2, "north": 1, "east": 1}
    assert report.per_reason() == dict.fromkeys(REASONS, 0)


@pytest.mark.parametrize(("line", "reason", "detail"), [
    ("a1,123,A,B,east,2022-10-01", "malformed", "iin: not 12 digits"),
    (sig(1).replace("2022-10-01", "01.10.2022"), "malformed", "is not a date"),
    (sig(1, region="south"), "malformed", "unknown region 'south'"),
    ("a1,1,2", "malformed", "expected 6 fields, found 3"),
    (sig(1, applicant="a2"), "wrong_applicant", "supports 'a2'"),
    (f"a1,{make_iin(date(1999, 5, 5), False, 1)},X,Y,east,2022-10-01", "not_on_roll", "not on the voter"),
    (sig(1, last="Someone"), "name_mismatch", "differs"),
    (f"a1,{make_iin(date(2004, 10, 1), True, 1)},Young,One,east,2022-09-30", "not_eligible", "under 18"),
    (sig(1, signed="2022-10-12"), "out_of_window", "outside 2022-09-23..2022-10-11"),
    (sig(1, region="east"), "wrong_region", "registered in region 'west', sheet is for 'east'"),
])
def test_each_rejection_reason(line: str, reason: str, detail: str) -> None:
    report = check_signatures_kz(sheet(sig(2), line), "a1", ROLL, 18, WINDOW)
    assert report.valid_total == 1
    [problem] = report.rejected
    assert (problem.row, problem.reason) == (3, reason)
    assert detail in problem.detail
    assert report.per_reason()[reason] == 1


def test_signer_of_age_on_the_day_of_signing_counts() -> None:
    young = make_iin(date(2004, 10, 1), True, 1)
    report = check_signatures_kz(sheet(f"a1,{young},young,ONE,east,2022-10-01"), "a1", ROLL, 18, WINDOW)
    assert report.valid_total == 1


def test_duplicates_count_once() -> None:
    report = check_signatures_kz(sheet(sig(1), sig(2), sig(1), sig(1, region="east")), "a1", ROLL, 18)
    assert report.valid_total == 2
    assert [(p.row, p.reason) for p in report.rejected] == [(4, "duplicate"), (5, "duplicate")]
    assert "same voter as row 2" in report.rejected[0].detail


def test_report_per_region_and_publishable(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(sheet(sig(1), sig(4), sig(1), sig(2, region="west"), sig(3, region="west")),
                    encoding="utf-8")
    report = check_signatures_kz(path, "a1", ROLL, 18, WINDOW)
    assert report.per_region() == {"west": {"valid": 2, "duplicate": 1, "wrong_region": 2}}
    published = report.to_dict()
    assert published["valid_total"] == 2 and published["lines_read"] == 5
    text = repr(published)
    assert all(v.voter_id not in text and v.last_name not in text for v in ROLL)


def test_sheet_without_columns_cannot_be_processed() -> None:
    with pytest.raises(RegistrationError, match="missing column"):
        check_signatures_kz("applicant_id,iin\n", "a1", ROLL, 18)


def rules_with(fraction: float) -> CandidacyRules:
    return CandidacyRules(
        min_age=40, residence_years=15, language_test_required=True, higher_education_required=True,
        service_years=5, allowed_nominator_types=["public_association"], signature_threshold=0.01,
        spread_min_region_share=2 / 3, spread_min_region_fraction=fraction, fee_amount=Decimal(1),
        currency="KZT", nomination_start=WINDOW[0], nomination_end=WINDOW[1], decision_deadline_days=5)


def test_checked_counts_feed_threshold_and_spread() -> None:
    lines = [sig(i) for i in range(1, 21)]
    report = check_signatures_kz(sheet(*lines, sig(1), sig(2, region="east")), "a1", ROLL, 18, WINDOW)
    assert report.valid_total == 20
    assert dict(report.valid_per_region) == {"west": 7, "north": 7, "east": 6}
    applicant = Applicant(
        id="a1", full_name={"kk": "A", "ru": "A", "en": "A"}, date_of_birth=date(1960, 1, 1),
        citizen_by_birth=True, residence_years=20, state_language_test="passed", higher_education=True,
        service_years=6, nominator={"name": "N", "type": "public_association"},
        signatures={"sheet": "sheet-a1.csv"}, fee_paid=Decimal(1), application_date=date(2022, 10, 1))
    regions = ("east", "west", "north")

    def ctx(registered: int) -> EligibilityContext:
        return EligibilityContext(date(2022, 11, 20), registered, regions, report.valid_per_region)

    assert check_signature_threshold(applicant, rules_with(0.3), ctx(2000)).passed      # 20 of 20
    assert not check_signature_threshold(applicant, rules_with(0.3), ctx(2001)).passed  # 20 of 21
    # Each qualifying region needs ceil(f * 20); two of the three regions are needed.
    assert check_regional_spread(applicant, rules_with(0.35), ctx(2000)).passed         # 7: west, north
    spread = check_regional_spread(applicant, rules_with(0.36), ctx(2000))              # 8: none
    assert not spread.passed and spread.evidence["regions_qualifying"] == []
