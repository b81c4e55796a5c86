from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from saylau.errors import ForensicsError
from saylau.forensics.load import load_input, read_station_csv, read_turnout_csv, write_station_csv

HEADER = "station,region,registered,voted,A,B\n"


def write(tmp_path: Path, body: str, name: str = "in.csv") -> Path:
    p = tmp_path / name
    p.write_text(HEADER + body, encoding="utf-8")
    return p


def test_messy_rows_are_dropped_with_reasons(tmp_path: Path) -> None:
    body = (
        "s1,r1,100,80,50,20\n"
        "s2,r1,,80,50,20\n"          # missing registered
        "s3,r1,0,0,0,0\n"            # zero registered
        "s4,r1,100,120,60,50\n"      # voted > registered
        "s5,r1,100,50,40,30\n"       # valid > voted
        "s6,r1,100,80,x,20\n"        # not a number
        "s7,r2,200,150,100,40\n"
        "s7,r2,200,150,100,40\n"     # exact duplicate: keep one
        "s8,r2,300,200,150,40\n"
        "s8,r2,300,210,150,40\n"     # conflicting duplicate: drop both
        "s9,r2,100,80,NA,20\n"       # missing vote count
        "s10,r2,100,70.0,50,15\n"    # integral float is fine
        "s11,r2,100,80,50\n"         # short row
    )
    results, report = read_station_csv(write(tmp_path, body))
    assert sorted(results.stations.tolist()) == ["s1", "s10", "s7"]
    assert report.rows_read == 13
    assert report.rows_kept == 3
    assert report.dropped == {
        "missing value": 2,
        "zero registered voters": 1,
        "more ballots issued than registered voters": 1,
        "more valid votes than ballots issued": 1,
        "a count is not a non-negative integer": 1,
        "exact duplicate row": 1,
        "station id repeated with different figures": 2,
        "wrong number of cells": 1,
    }
    assert report.examples["zero registered voters"] == ["s3"]
    assert sum(report.as_dict()["dropped_by_reason"].values()) == 10  # type: ignore[attr-defined]


def test_bad_header_and_empty_input_raise(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,region,registered,voted,A,B\n1,r,1,1,1,0\n", encoding="utf-8")
    with pytest.raises(ForensicsError, match="header"):
        read_station_csv(bad)
    with pytest.raises(ForensicsError, match="no usable station rows"):
        read_station_csv(write(tmp_path, "s1,r,0,0,0,0\n"))


def test_turnout_wide_and_long_forms(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text("station,region,time_zone,10:00,12:00,20:00\na,r,Asia/Almaty,5,9,20\nb,r,X,1,,4\n")
    snaps = read_turnout_csv(wide)
    assert snaps.hours.tolist() == [10.0, 12.0, 20.0]
    assert snaps.voted.tolist() == [[5, 9, 20], [1, 1, 4]]  # missing carried forward
    long = tmp_path / "long.csv"
    long.write_text("station,time,voted\na,10:00,5\na,20:00,20\nb,20:00,4\n")
    snaps = read_turnout_csv(long)
    assert snaps.voted.tolist() == [[5, 20], [0, 4]]


def test_round_trip_through_a_results_directory(tmp_path: Path, clean_one) -> None:  # type: ignore[no-untyped-def]
    write_station_csv(clean_one, tmp_path / "res" / "stations.csv")
    back, report = load_input(tmp_path / "res")
    assert report.rows_kept == clean_one.n and not report.dropped
    assert np.array_equal(back.votes, clean_one.votes)
    assert back.snapshots is not None and clean_one.snapshots is not None
    assert np.array_equal(back.snapshots.voted, clean_one.snapshots.voted)


def test_missing_input_raises(tmp_path: Path) -> None:
    with pytest.raises(ForensicsError, match="no such file"):
        load_input(tmp_path / "nope.csv")
    with pytest.raises(ForensicsError, match="no station results file"):
        load_input(tmp_path)


def test_election_record_is_read_without_registered_voters(tmp_path: Path) -> None:
    import json

    from saylau.forensics.suite import run_suite

    manifest = {
        "format": "saylau-manifest/1",
        "contests": [
            {
                "contest_id": "president",
                "selections": [
                    {"selection_id": "a", "name": {"en": "Alpha"}},
                    {"selection_id": "b", "name": {"en": "Beta"}},
                ],
            }
        ],
        "regions": [
            {"region_id": "r1", "districts": [{"district_id": "d", "stations": [
                {"station_id": f"ps{i}"} for i in range(300)
            ]}]}
        ],
    }
    rng = np.random.default_rng(3)
    stations = {}
    for i in range(300):
        a = int(rng.integers(100, 400))
        b = int(rng.integers(20, 100))
        stations[f"ps{i}"] = {"ballots": a + b, "counts": {"president": {"a": a, "b": b}}}
    stations["ps0"] = {"ballots": 0, "counts": {"president": {"a": 0, "b": 0}}}
    stations["ps1"] = {"ballots": 5, "counts": {"other": {}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "results.json").write_text(json.dumps({"format": "saylau-record/1", "stations": stations}))
    results, report = load_input(tmp_path)
    assert results.options == ("Alpha", "Beta")
    assert not results.registered_known
    assert results.n == 298
    assert report.dropped == {"no ballots cast": 1, "missing value": 1}
    assert report.notes
    out = run_suite(results, rng, replications=20, fingerprint_replications=19)
    assert out["fingerprint"].skipped is not None and "registered" in out["fingerprint"].skipped
    assert out["round_numbers"].p_value is not None  # shares still tested
    assert out["last_digit"].p_value is not None
