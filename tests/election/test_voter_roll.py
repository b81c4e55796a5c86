"""Voter roll: IIN rule, bad CSV rows (each reason), atomic and partial import, dedup, transfers."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saylau.election.voter_ids import VoterIdSpec
from saylau.election.voter_roll import (
    iin_birth_date,
    iin_check_digit,
    import_roll,
    make_iin,
    validate_iin,
)
from saylau.errors import RollImportError, VoterRollError

# these tests read kz-2022's identifier: the IIN (column "iin", validator kz-iin)
KZ_IIN = VoterIdSpec(name="IIN", validator="kz-iin", column="iin")
import_roll_kz = functools.partial(import_roll, voter_id=KZ_IIN)

STATIONS = {"s1": "east", "s2": "east", "s3": "west", "s4": "west"}
HEADER = "iin,last_name,first_name,patronymic,date_of_birth,region,station"


def person(n: int, dob: date = date(1980, 1, 15), region: str = "east", station: str = "s1",
           female: bool = False) -> str:
    return f"{make_iin(dob, female, n)},Last{n},First{n},,{dob},{region},{station}"


def csv_text(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


def test_iin_rule_matches_a_published_example() -> None:
    # Example IIN from the README of github.com/ZhymabekRoman/kz-iin-validator (valid there).
    validate_iin("061211600012")
    assert iin_birth_date("061211600012") == date(2006, 12, 11)
    with pytest.raises(ValueError, match="check digit is 3, expected 2"):
        validate_iin("061211600013")


def test_iin_uses_the_second_weights_when_the_first_give_ten() -> None:
    # Find a prefix whose first weighted sum is 10 mod 11 and check the second pass is used.
    head = "8211203"
    for s in range(10_000):
        first11 = f"{head}{s:04d}"
        if sum(int(c) * w for c, w in zip(first11, range(1, 12), strict=True)) % 11 == 10:
            w2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
            second = sum(int(c) * w for c, w in zip(first11, w2, strict=True)) % 11
            if second == 10:
                with pytest.raises(ValueError, match="never issued"):
                    iin_check_digit(first11)
            else:
                assert iin_check_digit(first11) == second
                return
    pytest.fail("no prefix with a first checksum of 10 found")


@given(st.dates(date(1900, 1, 1), date(2099, 12, 31)), st.booleans(), st.integers(0, 9000))
def test_made_iins_are_valid_and_encode_the_birth_date(dob: date, female: bool, serial: int) -> None:
    iin = make_iin(dob, female, serial)
    validate_iin(iin)
    assert iin_birth_date(iin) == dob
    assert int(iin[6]) % 2 == (0 if female else 1)


def test_good_file_imports_and_assigns_stations(tmp_path: Path) -> None:
    path = tmp_path / "roll.csv"
    rows = [person(i, station="s1") for i in range(1, 4)]
    rows += [person(i, region="west", station="") for i in range(10, 15)]
    path.write_text(csv_text(*rows), encoding="utf-8")
    result = import_roll_kz(path, STATIONS)
    assert (len(result.roll), result.rows_read, result.rejected) == (8, 8, [])
    counts = result.roll.counts_per_station()
    assert counts == {"s1": 3, "s2": 0, "s3": 3, "s4": 2}
    assert result.roll.counts_per_region() == {"east": 3, "west": 5}


@pytest.mark.parametrize(("row", "field", "reason"), [
    ("12345,A,B,,1980-01-15,east,s1", "iin", "not 12 digits"),
    (f"{make_iin(date(1980, 1, 15), False, 1)[:11]}9,A,B,,1980-01-15,east,s1", "iin", "check digit is 9"),
    ("801315300011,A,B,,1980-01-15,east,s1", "iin", "not a valid date"),
    ("800115900011,A,B,,1980-01-15,east,s1", "iin", "not a century/sex code"),
    (f"{make_iin(date(1980, 1, 15), False, 1)},,B,,1980-01-15,east,s1", "last_name", "empty"),
    (f"{make_iin(date(1980, 1, 15), False, 1)},A, ,,1980-01-15,east,s1", "first_name", "empty"),
    (f"{make_iin(date(1980, 1, 15), False, 1)},A,B,,15.01.1980,east,s1", "date_of_birth", "not a date"),
    (f"{make_iin(date(1980, 1, 15), False, 1)},A,B,,1980-01-16,east,s1", "date_of_birth", "differs from"),
    (f"{make_iin(date(1980, 1, 15), False, 1)},A,B,,1980-01-15,north,s1", "region", "unknown region"),
    (f"{make_iin(date(1980, 1, 15), False, 1)},A,B,,1980-01-15,east,s9", "station", "unknown station"),
    (f"{make_iin(date(1980, 1, 15), False, 1)},A,B,,1980-01-15,east,s3", "station", "is in region 'west'"),
    (f"{make_iin(date(1980, 1, 15), False, 1)},A,B,1980-01-15,east,s1", "*", "expected 7 fields, found 6"),
])
def test_each_bad_row_reason(row: str, field: str, reason: str) -> None:
    good = person(50)
    with pytest.raises(RollImportError) as info:
        import_roll_kz(csv_text(good, row), STATIONS)
    message = str(info.value)
    assert "nothing imported" in message
    assert f"row 3, field '{field}': " in message and reason in message
    assert "row 2" not in message
    partial = import_roll_kz(csv_text(good, row), STATIONS, accept_partial=True)
    assert len(partial.roll) == 1
    assert next((p.row, p.field) for p in partial.rejected) == (3, field)


def test_missing_column_fails_the_file() -> None:
    with pytest.raises(RollImportError, match="missing column"):
        import_roll_kz("iin,last_name,first_name,region\n", STATIONS, accept_partial=True)


def test_many_bad_rows_are_all_counted() -> None:
    rows = ["1,A,B,,1980-01-15,east,s1" for _ in range(60)]
    with pytest.raises(RollImportError, match=r"60 problem\(s\) in 60 row\(s\)") as info:
        import_roll_kz(csv_text(*rows), STATIONS)
    assert "and 10 more" in str(info.value)


def test_exact_duplicates_are_dropped_and_conflicts_rejected() -> None:
    a, b = person(1), person(2)
    result = import_roll_kz(csv_text(a, b, a, a), STATIONS)
    assert len(result.roll) == 2 and result.duplicates_removed == 2
    conflicting = a.replace("Last1", "Other")
    with pytest.raises(RollImportError, match="row 4, field 'iin': the same IIN is on row 2 with other data"):
        import_roll_kz(csv_text(a, b, conflicting), STATIONS)


def test_absentee_transfer_moves_the_voter() -> None:
    roll = import_roll_kz(csv_text(person(1), person(2)), STATIONS).roll
    iin = make_iin(date(1980, 1, 15), False, 1)
    assert roll.station_of(iin) == "s1" and roll.transfer_of(iin) is None
    cert = roll.issue_absentee_certificate(iin, "s3", date(2022, 11, 10))
    assert (cert.from_station, cert.to_station) == ("s1", "s3")
    assert roll.station_of(iin) == "s3" and roll.transfer_of(iin) == cert
    assert roll.counts_per_station() == {"s1": 1, "s2": 0, "s3": 1, "s4": 0}
    assert roll.counts_per_region() == {"east": 1, "west": 1}
    public = roll.public_counts()
    assert public["stations"]["s1"]["transferred_out"] == 1
    assert public["stations"]["s3"]["transferred_in"] == 1
    assert iin not in repr(public) and "Last1" not in repr(public)
    with pytest.raises(VoterRollError, match="already issued"):
        roll.issue_absentee_certificate(iin, "s2", date(2022, 11, 11))


def test_transfer_refusals() -> None:
    roll = import_roll_kz(csv_text(person(1)), STATIONS).roll
    iin = make_iin(date(1980, 1, 15), False, 1)
    with pytest.raises(VoterRollError, match="unknown station"):
        roll.issue_absentee_certificate(iin, "s9", date(2022, 11, 10))
    with pytest.raises(VoterRollError, match="already listed"):
        roll.issue_absentee_certificate(iin, "s1", date(2022, 11, 10))
    with pytest.raises(VoterRollError, match="not on the roll"):
        roll.issue_absentee_certificate(make_iin(date(1990, 1, 1), True, 1), "s2", date(2022, 11, 10))


def test_progress_hook_hears_large_imports() -> None:
    rows = [f"{make_iin(date(1950, 1, 1) + timedelta(days=i // 1000), False, i % 1000 * 9)},L,F,,"
            f"{date(1950, 1, 1) + timedelta(days=i // 1000)},east," for i in range(20_500)]
    ticks: list[tuple[str, int, int | None]] = []
    result = import_roll_kz(csv_text(*rows), STATIONS, progress=lambda *a: ticks.append(a))
    assert len(result.roll) == 20_500
    assert ticks == [("voter roll", 10_000, None)] * 2
    assert result.roll.counts_per_station() == {"s1": 10_250, "s2": 10_250, "s3": 0, "s4": 0}
