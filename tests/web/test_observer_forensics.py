"""The observer console's forensic report and the pollster console's CSV reader, without a browser.

The report is computed from the same CSV files ``saylau forensics`` reads, so on a clean synthetic
election of 120 stations it must be exactly ``write_report``'s on those files with the same seed (tests
run, p-values, plots); the CSV reader names each bad row by line and field and refuses the whole file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from saylau.forensics.load import load_input, write_station_csv
from saylau.forensics.report import write_report
from saylau.forensics.synthetic import clean_election
from saylau.web import observer_forensics
from saylau.web.observer_forensics import ForensicReport, Inputs, _compute
from saylau.web.pollster_csv import MAX_ERRORS, CsvRefused, parse_design, parse_interviews


def test_the_report_is_the_forensics_suite_on_the_protocols(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fewer Monte-Carlo draws than the server's, the same for both sides (the test stays fast)
    monkeypatch.setattr(observer_forensics, "REPLICATIONS", 40)
    monkeypatch.setattr(observer_forensics, "FINGERPRINT_REPLICATIONS", 19)
    results = clean_election(np.random.default_rng(3), n_stations=120, n_regions=3)
    csv_path = write_station_csv(results, tmp_path / "src" / "stations.csv")
    turnout = csv_path.parent / "turnout.csv"
    assert turnout.is_file()  # the synthetic election has turnout reports through the day
    given = Inputs(csv_path.read_text(), turnout.read_text(), results.n)
    report = ForensicReport(given.digest, tmp_path / "console")
    _compute(report, given)
    assert report.state == "done", report.error
    assert report.summary is not None
    seed = int(given.digest[:8], 16)
    again, cleaning = load_input(csv_path)
    expected = write_report(
        again, cleaning, tmp_path / "cli", seed=seed, replications=40, fingerprint_replications=19
    )
    ran = {n: t for n, t in report.summary["tests"].items() if not t["skipped"]}
    assert {
        "fingerprint",
        "round_numbers",
        "last_digit_mc",
        "second_digit_mc",
        "late_turnout",
        "near_100",
    } <= set(ran)
    for name, t in report.summary["tests"].items():
        assert (t["p_value"], t["p_text"], t["skipped"]) == (
            expected["tests"][name]["p_value"],
            expected["tests"][name]["p_text"],
            expected["tests"][name]["skipped"],
        ), name
    assert set(report.images) == {"fingerprint.png", "percentages.png", "digits.png", "late_turnout.png"}
    for name in report.images:
        assert (report.directory / "report" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # another input, another digest: a report is never reused for other figures
    assert Inputs(given.stations_csv, "", results.n).digest != given.digest


def test_a_report_that_cannot_run_says_why(tmp_path: Path) -> None:
    given = Inputs("station,region,registered,voted,a,b\ns1,r,0,0,0,0\n", "", 1)
    report = ForensicReport(given.digest, tmp_path)
    _compute(report, given)
    assert report.state == "failed" and "zero registered voters" in str(report.error)


SAMPLED, OPTIONS = {"st-1", "st-2"}, {"tokayev", "abden"}


def test_interviews_csv_names_each_bad_row() -> None:
    good = parse_interviews("\ufeffStation,Choice\nst-1,tokayev\n\nst-2,refused\n".encode(), SAMPLED, OPTIONS)
    assert good == [{"station_id": "st-1", "answer": "tokayev"}, {"station_id": "st-2", "answer": "refused"}]
    with pytest.raises(CsvRefused) as bad:
        parse_interviews(b"station_id,answer\nst-1,tokayev\nst-3,\nst-1,abden,extra\n", SAMPLED, OPTIONS)
    assert bad.value.problems == [
        "line 3, field 'station_id': 'st-3' is not in your sample",
        "line 3, field 'answer': empty",
        "line 4: 3 cells, the header has 2",
    ]
    assert "nothing was stored" in str(bad.value)
    many = b"station_id,answer\n" + b"st-1,x\n" * (MAX_ERRORS + 5)
    with pytest.raises(CsvRefused, match=r"and 5 more$"):
        parse_interviews(many, SAMPLED, OPTIONS)
    for data, message in (
        (b"who,what\nst-1,abden\n", "header must name the columns station_id, answer"),
        (b"station_id,answer\n", "no data rows"),
        (b"station_id,answer\n\xff\xfe,x\n", "not UTF-8"),
    ):
        with pytest.raises(CsvRefused, match=message):
            parse_interviews(data, SAMPLED, OPTIONS)


def test_design_csv_checks_stations_repeats_and_probabilities() -> None:
    assert parse_design(b"station_id,stratum,pi\nst-1,a,1\nst-2,a,0.25\n", SAMPLED) == [
        {"station_id": "st-1", "stratum": "a", "pi": 1.0},
        {"station_id": "st-2", "stratum": "a", "pi": 0.25},
    ]
    with pytest.raises(CsvRefused) as bad:
        parse_design(b"station_id,stratum,pi\nst-1,a,0\nst-1,,nan\nst-9,b,0.5\n", SAMPLED)
    assert bad.value.problems == [
        "line 2, field 'pi': '0' is not a probability in (0, 1]",
        "line 3, field 'station_id': 'st-1' repeats line 2",
        "line 3, field 'stratum': empty",
        "line 3, field 'pi': 'nan' is not a probability in (0, 1]",
        "line 4, field 'station_id': no station 'st-9' in this election",
    ]
