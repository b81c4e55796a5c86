import shutil
from pathlib import Path

import pytest

from saylau.election.scenario import load_scenario, resolve_scenario
from saylau.errors import ScenarioError

KZ = Path(__file__).resolve().parents[2] / "src" / "saylau" / "scenarios" / "kz-2022"


@pytest.fixture(scope="module")
def kz():
    return load_scenario("kz-2022")


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "sc"
    shutil.copytree(KZ, dst)
    return dst


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_kz_territory_matches_published_counts(kz) -> None:
    t = kz.territory_index
    assert len(t.stations) == 10101
    kinds = [r.kind for r in t.regions]
    assert kinds.count("region") == 17 and kinds.count("city") == 3 and kinds.count("abroad") == 1
    abroad = [s for s in t.stations if t.region_of(s.id).kind == "abroad"]
    assert len(abroad) == 68
    assert len({s.district for s in abroad}) == 53


def test_two_time_zones_at_home_from_data(kz) -> None:
    t = kz.territory_index
    home = [s for s in t.stations if t.region_of(s.id).kind != "abroad"]
    hours = {kz.utc_offset(s.id).total_seconds() / 3600 for s in home}
    assert hours == {5.0, 6.0}
    west = {t.region_of(s.id).id for s in home if kz.utc_offset(s.id).total_seconds() == 5 * 3600}
    assert west == {"aktobe", "atyrau", "mangystau", "west_kazakhstan", "kyzylorda"}
    # 8,202 stations in the other 15 units close at 20:00 Astana time
    assert sum(1 for s in home if kz.utc_offset(s.id).total_seconds() == 6 * 3600) == 8202


def test_local_time_uses_station_zone(kz) -> None:
    close = kz.local_time("aktobe-0001", "20:00")
    assert close.utcoffset().total_seconds() == 5 * 3600


def test_options_and_published_consistent(kz) -> None:
    assert kz.against_all == "against_all"
    assert sum(kz.published.votes.values()) == kz.published.valid == 7940478
    assert kz.option("tokayev").name.get("ru") == "Касым-Жомарт Токаев"
    with pytest.raises(ScenarioError, match="no option 'nobody'"):
        kz.option("nobody")


def test_candidacy_and_applicants_loaded(kz) -> None:
    assert kz.candidacy is not None and kz.candidacy.min_age == 40
    assert {a.id for a in kz.applicants} >= {"tokayev", "fictional-mukhanova"}


def test_to_manifest(kz) -> None:
    m = kz.to_manifest()
    assert m.election_id == kz.election_id
    assert len(list(m.locations())) == 10101
    assert [s.selection_id for s in m.contests[0].selections][-1] == "against_all"
    assert len(m.manifest_hash()) == 32


def test_bad_rule_value_names_field(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _edit(d / "scenario.toml", "min_turnout = 0.5 ", "min_turnout = 1.5 ")
    with pytest.raises(ScenarioError, match=r"rules\.min_turnout"):
        load_scenario(d)


def test_published_votes_must_sum_to_valid(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _edit(d / "scenario.toml", "tokayev = 6456393", "tokayev = 6456394")
    with pytest.raises(ScenarioError, match=r"published.*sum of votes"):
        load_scenario(d)


def test_unknown_field_rejected(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _edit(d / "scenario.toml", "[rules]\n", "[rules]\nmajorty = 0.5\n")
    with pytest.raises(ScenarioError, match=r"rules\.majorty"):
        load_scenario(d)


def test_bad_time_zone_names_field(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _edit(d / "scenario.toml", 'time_zone = "Asia/Oral"', 'time_zone = "Asia/Nowhere"')
    with pytest.raises(ScenarioError, match=r"time_zone.*Asia/Nowhere"):
        load_scenario(d)


def test_bad_station_row_names_line(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _edit(d / "stations.csv", "abai-0002,abai-d01,", "abai-0002,abai-d01,-4")
    with pytest.raises(ScenarioError, match=r"stations.csv: line 3: field 'expected_size'"):
        load_scenario(d)


def test_dangling_district_rejected(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _edit(d / "stations.csv", "abai-0002,abai-d01,", "abai-0002,abai-d99,")
    with pytest.raises(ScenarioError, match="station 'abai-0002': district 'abai-d99'"):
        load_scenario(d)


def test_station_count_checked_against_published(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _edit(d / "scenario.toml", "stations = 10101", "stations = 10100")
    with pytest.raises(ScenarioError, match=r"10101 stations, published\.stations = 10100"):
        load_scenario(d)


def test_not_toml(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "scenario.toml").write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(d)


def test_resolve_by_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(KZ, tmp_path / "other-2030")
    monkeypatch.setenv("SAYLAU_SCENARIOS", str(tmp_path))
    assert resolve_scenario("other-2030") == tmp_path / "other-2030"
    assert resolve_scenario(KZ / "scenario.toml") == KZ
    with pytest.raises(ScenarioError, match="'missing-1999' not found"):
        resolve_scenario("missing-1999")


def test_kz_applicants_meet_or_fail_the_rules_as_documented(kz) -> None:
    from saylau.election.eligibility import EligibilityContext, evaluate

    regions = tuple(r.id for r in kz.territory_index.regions if r.kind != "abroad")
    ctx = EligibilityContext(
        election_day=kz.date, registered_voters=kz.published.registered_at_nomination, region_ids=regions
    )
    failed = {
        a.id: {o.rule_id for o in evaluate(a, kz.candidacy, ctx) if not o.passed} for a in kz.applicants
    }
    for option in kz.options:
        if option.kind == "candidate":
            assert failed[option.id] == set(), option.id
    assert failed["fictional-serikbayev"] == {"min_age"}
    assert failed["fictional-mukhanova"] == {"state_language"}
    assert "nominator_type" in failed["fictional-zhaksylykov"]
    assert failed["fictional-ospanova"] == {"signature_threshold", "regional_spread"}
    assert failed["fictional-kemelbekov"] == {"residence", "election_fee"}


def test_kz_2022_is_found_inside_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed wheel has no source checkout: the shipped scenario is found from any directory."""
    from saylau.election.scenario import PACKAGED_SCENARIOS

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SAYLAU_SCENARIOS", raising=False)
    assert resolve_scenario("kz-2022") == PACKAGED_SCENARIOS / "kz-2022"


def test_local_scenarios_come_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAYLAU_SCENARIOS", raising=False)
    shutil.copytree(KZ, tmp_path / "scenarios" / "kz-2022")
    monkeypatch.chdir(tmp_path)
    assert resolve_scenario("kz-2022") == tmp_path / "scenarios" / "kz-2022"
