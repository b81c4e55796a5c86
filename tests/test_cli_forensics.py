from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from saylau.cli import app
from saylau.forensics.load import write_station_csv
from saylau.forensics.synthetic import clean_election
from saylau.sim.fraud import round_protocols

runner = CliRunner()


def test_forensics_report_on_a_messy_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    clean = clean_election(rng, n_stations=1500)
    fraud, _ = round_protocols(clean, rng, fraction=0.15)
    csv_path = write_station_csv(fraud, tmp_path / "data" / "stations.csv")
    with csv_path.open("a", encoding="utf-8") as f:
        f.write("bad1,R0,0,0,0,0,0,0,0,0,0\n")  # zero registered
        f.write("bad2,R0,100,,1,1,1,1,1,1,1\n")  # missing value
        f.write("S0,R0,100,50,10,10,10,10,1,1,1\n")  # conflicts with the real S0
    out = tmp_path / "report"
    res = runner.invoke(app, ["forensics", str(csv_path), "--out", str(out), "--replications", "30"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stations"] == 1499
    assert summary["cleaning"]["dropped_by_reason"] == {
        "zero registered voters": 1,
        "missing value": 1,
        "station id repeated with different figures": 2,
    }
    assert set(summary["tests"]) >= {"fingerprint", "round_numbers", "last_digit", "second_digit", "near_100"}
    assert summary["tests"]["round_numbers"]["p_value"] < 0.05
    assert "round_numbers" in summary["anomalies"]
    html = (out / "index.html").read_text()
    assert "fingerprint.png" in html and "http" not in html.replace("http-equiv", "")
    for png in ("fingerprint.png", "percentages.png", "digits.png", "late_turnout.png"):
        assert (out / png).stat().st_size > 1000


def test_forensics_bad_input_exits_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["forensics", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "no such file" in res.output


def test_exitpoll_command(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    write_station_csv(clean_election(rng, n_stations=2000), tmp_path / "r" / "stations.csv")
    out = tmp_path / "polls"
    res = runner.invoke(app, ["exitpoll", str(tmp_path / "r"), "--out", str(out), "--stations", "120"])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "exitpolls.json").read_text())
    assert len(data["pollsters"]) == 3
    assert (out / "exitpolls.png").stat().st_size > 1000


def test_uncalibrated_digit_tests_never_count_as_anomalies(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    csv_path = write_station_csv(clean_election(rng, n_stations=1500), tmp_path / "d" / "stations.csv")
    out = tmp_path / "rep"
    res = runner.invoke(app, ["forensics", str(csv_path), "--out", str(out), "--replications", "20"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tests"]["last_digit"]["calibrated"] is False
    assert summary["tests"]["last_digit_mc"]["calibrated"] is True
    assert "last_digit" not in summary["anomalies"] and "second_digit" not in summary["anomalies"]
