import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from saylau.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "kz"
    r = runner.invoke(
        app, ["simulate", "kz-2022", "--scale", "1.0", "--paper", "--seed", "1", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    return out


def test_simulate_writes_files(full: Path) -> None:
    for name in ("stations.csv", "stations_meta.csv", "turnout.csv", "results.json"):
        assert (full / name).is_file()
    with (full / "stations.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "station", "region", "registered", "voted", "Karakat Abden", "Nurlan Auesbayev", "Zhiguli Dairabayev",
        "Meiram Kazhyken", "Kassym-Jomart Tokayev", "Saltanat Tursynbekova", "Against all",
    ]  # fmt: skip
    assert len(rows) == 10102


def test_results_json_national(full: Path) -> None:
    r = runner.invoke(app, ["results", str(full), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["registered"] == 11_953_465
    assert data["took_part"] == 8_300_046
    assert data["valid"] == 7_940_478
    assert data["invalid"] == 359_568
    assert data["options"]["Kassym-Jomart Tokayev"] == 6_456_393
    assert data["options"]["Against all"] == 460_484
    assert data["decision"]["outcome"] == "winner"
    assert data["decision"]["winner"] == "Kassym-Jomart Tokayev"


def test_results_region_table(full: Path) -> None:
    r = runner.invoke(app, ["results", str(full), "--level", "region"])
    assert r.exit_code == 0, r.output
    assert "Almaty (city)" in r.stdout and "Polling stations abroad" in r.stdout
    r = runner.invoke(app, ["results", str(full), "--level", "region", "--lang", "ru"])
    assert "город Алматы" in r.stdout and "избран" in r.stdout


def test_results_detects_tampering(full: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in full.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    text = (bad / "stations.csv").read_text(encoding="utf-8").splitlines()
    cells = text[1].split(",")
    cells[8] = str(int(cells[8]) + 1)  # one more vote for Tokayev at station 1
    cells[3] = str(int(cells[3]) + 1)
    text[1] = ",".join(cells)
    (bad / "stations.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["results", str(bad), "--json"])
    assert r.exit_code == 1


def test_simulate_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        r = runner.invoke(
            app, ["simulate", "kz-2022", "--scale", "0.05", "--paper", "--seed", "7", "--out", str(out)]
        )
        assert r.exit_code == 0, r.output
    assert (a / "stations.csv").read_bytes() == (b / "stations.csv").read_bytes()
    assert (a / "turnout.csv").read_bytes() == (b / "turnout.csv").read_bytes()


def test_simulate_needs_a_scale_and_known_scenario(tmp_path: Path) -> None:
    r = runner.invoke(app, ["simulate", "kz-2022", "--scale", "0", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2
    r = runner.invoke(app, ["simulate", "kz-2022", "--workers", "0", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2
    r = runner.invoke(app, ["simulate", "nowhere-1999", "--paper", "--out", str(tmp_path / "y")])
    assert r.exit_code == 1
    r = runner.invoke(app, ["results", str(tmp_path), "--json"])
    assert r.exit_code == 1


def test_results_as_of_partial(full: Path) -> None:
    r = runner.invoke(app, ["results", str(full), "--as-of", "2022-11-20T16:00Z", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert 0 < data["stations_reporting"] < data["stations_total"] == 10101
    assert sum(data["shares"].values()) == pytest.approx(1.0, abs=1e-5)
    late = json.loads(
        runner.invoke(app, ["results", str(full), "--as-of", "2022-11-23T00:00Z", "--json"]).stdout
    )
    assert late["stations_reporting"] == 10101 and late["took_part_counted"] == 8_300_046
    early = json.loads(
        runner.invoke(app, ["results", str(full), "--as-of", "2022-11-20T00:00Z", "--json"]).stdout
    )
    assert early["stations_reporting"] == 0
    assert runner.invoke(app, ["results", str(full), "--as-of", "yesterday"]).exit_code == 2


def test_results_json_has_timeline_and_regional_turnout(full: Path) -> None:
    summary = json.loads((full / "results.json").read_text(encoding="utf-8"))
    timeline = summary["partial_results"]
    counts = [p["stations_reporting"] for p in timeline]
    assert counts == sorted(counts) and counts[-1] == 10101
    almaty = summary["turnout_by_region"]["almaty"]
    assert almaty["10:00"] < almaty["20:00"] <= almaty["registered"]
    assert sum(v["20:00"] for v in summary["turnout_by_region"].values()) == 8_300_046


def test_simulate_plots(tmp_path: Path) -> None:
    out = tmp_path / "p"
    r = runner.invoke(
        app, ["simulate", "kz-2022", "--scale", "0.02", "--paper", "--plots", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    for name in ("turnout.png", "reporting.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_bad_published_region_rejected(tmp_path: Path) -> None:
    import shutil

    from saylau.election.scenario import load_scenario
    from saylau.errors import ScenarioError

    src = Path(__file__).resolve().parents[1] / "src" / "saylau" / "scenarios" / "kz-2022"
    shutil.copytree(src, tmp_path / "sc")
    toml = tmp_path / "sc" / "scenario.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("took_part = 11360", "took_part = 22000"), "utf-8"
    )
    with pytest.raises(
        ScenarioError, match=r"published\.regions\.abroad.*took_part 22000 > registered 12841"
    ):
        load_scenario(tmp_path / "sc")
