"""The voter identifier is the scenario's: kz-2022's IIN, and a made-up country's 9-digit Luhn number.

The Alpenland test scenario (tests/fixtures/scenarios/alpen) knows voters by a citizen number of nine
digits whose last is a Luhn check digit and which encodes no birth date; its roll is imported and its
voters checked in through the server (tests/api/test_voter_id_alpen.py), and a mistyped number is
refused naming the Luhn check, never the IIN's rules.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from saylau.election.scenario import load_scenario
from saylau.election.voter_ids import VoterIdSpec, luhn_valid, make_iin, masked
from saylau.election.voter_roll import import_roll
from saylau.errors import RollImportError, ScenarioError

ALPEN = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "alpen"


def test_kz_2022_names_the_iin_with_its_check_digit() -> None:
    spec = load_scenario("kz-2022").voter_id
    assert (spec.name, spec.validator, spec.column) == ("IIN", "kz-iin", "iin")
    iin = make_iin(date(1980, 5, 17), True, 42)
    assert spec.check_value(iin) == date(1980, 5, 17)
    broken = iin[:11] + str((int(iin[11]) + 1) % 10)
    with pytest.raises(ValueError, match="check digit"):
        spec.check_value(broken)
    with pytest.raises(ValueError, match="not 12 digits"):
        spec.check_value("12345")


def test_the_generic_validator_pattern_length_and_luhn() -> None:
    spec = load_scenario(ALPEN).voter_id
    assert (spec.validator, spec.column, spec.length, spec.check) == ("pattern", "citizen_number", 9, "luhn")
    assert [spec.example(i, date(1990, 1, 1)) for i in range(3)] == ["100000009", "100000017", "100000025"]
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")  # the ISO/IEC 7812-1 example
    assert spec.check_value("100000017") is None  # encodes no birth date
    for bad, why in (
        ("100000018", "fails the Luhn check"),
        ("10000001", "8 characters"),
        ("10000001x", "not of the form"),
        ("", "empty"),
    ):
        with pytest.raises(ValueError, match=why):
            spec.check_value(bad)
    generic = VoterIdSpec()
    assert generic.column == "voter_id" and generic.check_value("AB-1234") is None
    with pytest.raises(ValueError, match="not of the form"):
        generic.check_value("AB 1234")
    assert masked("100000017") == "voter *****0017" and masked("800517412345") == "voter ********2345"


def test_a_spec_names_a_known_validator_and_its_own_parameters() -> None:
    with pytest.raises(ValidationError, match="not one of kz-iin, pattern"):
        VoterIdSpec(validator="ssn")
    with pytest.raises(ValidationError, match="takes no pattern"):
        VoterIdSpec(validator="kz-iin", length=12)
    with pytest.raises(ValidationError, match="not a regular expression"):
        VoterIdSpec(pattern="[0-9")


def test_a_scenario_with_a_bad_voter_id_is_refused_naming_the_field(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ALPEN, tmp_path / "alpen")
    toml = tmp_path / "alpen" / "scenario.toml"
    toml.write_text(toml.read_text().replace('validator = "pattern"', 'validator = "ssn"'))
    with pytest.raises(ScenarioError, match="voter_id"):
        load_scenario(tmp_path / "alpen")


def _alpen_roll(spec: VoterIdSpec, bad: str | None = None) -> str:
    rows = [f"{spec.column},last_name,first_name,date_of_birth,region,station"]
    for i in range(6):
        station = ("nord-0001", "ost-0001")[i % 2]
        rows.append(
            f"{spec.example(i, date(1970, 1, 1))},Bürger{i},Test,1970-01-{1 + i:02d},{station[:-5]},{station}"
        )
    if bad is not None:
        rows.append(f"{bad},Falsch,Test,1970-02-01,nord,nord-0001")
    return "\n".join(rows) + "\n"


def test_the_roll_is_read_by_the_scenarios_validator() -> None:
    sc = load_scenario(ALPEN)
    stations = {"nord-0001": "nord", "ost-0001": "ost"}
    roll = import_roll(_alpen_roll(sc.voter_id), stations, voter_id=sc.voter_id).roll
    assert len(roll) == 6 and "100000017" in roll
    with pytest.raises(RollImportError, match=r"row 8, field 'citizen_number': check digit 8 fails the Luhn"):
        import_roll(_alpen_roll(sc.voter_id, bad="100000018"), stations, voter_id=sc.voter_id)
    with pytest.raises(RollImportError, match="missing column"):  # an IIN roll is not Alpenland's
        import_roll(_alpen_roll(sc.voter_id).replace("citizen_number", "iin"), stations, voter_id=sc.voter_id)
