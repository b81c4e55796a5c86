from datetime import date, timedelta
from pathlib import Path

import pytest

from saylau.election.territory import (
    District,
    LocalizedName,
    Region,
    Station,
    Territory,
    load_districts_csv,
    load_stations_csv,
    tz_offset,
)
from saylau.errors import ScenarioError

N = LocalizedName.of(kk="К", ru="Р", en="E")


def _t(regions=None, districts=None, stations=None) -> Territory:
    regions = regions or [
        Region(id="r1", name=N, time_zone="Asia/Almaty"),
        Region(id="ab", name=N, kind="abroad"),
    ]
    districts = districts or [
        District(id="d1", region="r1", name=N),
        District(id="x-tr", region="ab", name=N, time_zone="Europe/Istanbul"),
    ]
    stations = stations or [
        Station(id="s1", district="d1", expected_size=100),
        Station(id="s2", district="d1", expected_size=100, time_zone="Asia/Qyzylorda"),
        Station(id="s3", district="x-tr", expected_size=50),
    ]
    return Territory(regions, districts, stations)


def test_lookups_and_most_specific_zone() -> None:
    t = _t()
    assert t.parent_chain("s3") == ("s3", "x-tr", "ab")
    assert t.time_zone("s1") == "Asia/Almaty"
    assert t.time_zone("s2") == "Asia/Qyzylorda"
    assert t.time_zone("s3") == "Europe/Istanbul"
    assert [s.id for s in t.stations_in_region("r1")] == ["s1", "s2"]
    assert t.counts() == {"regions": 2, "districts": 2, "stations": 3}


def test_tz_history_from_tzdata() -> None:
    assert tz_offset("Asia/Qyzylorda", date(2022, 11, 20)) == timedelta(hours=5)
    assert tz_offset("Asia/Qyzylorda", date(2017, 11, 20)) == timedelta(hours=6)
    with pytest.raises(ScenarioError, match="Mars/Olympus"):
        tz_offset("Mars/Olympus", date(2022, 1, 1))


def test_structure_errors() -> None:
    with pytest.raises(ScenarioError, match="duplicate station id 's1'"):
        _t(stations=[Station(id="s1", district="d1", expected_size=1)] * 2)
    with pytest.raises(ScenarioError, match="district 'd9': region 'r9' is not defined"):
        _t(districts=[District(id="d9", region="r9", name=N)])
    with pytest.raises(ScenarioError, match="district 'x-tr' has no polling station"):
        _t(stations=[Station(id="s1", district="d1", expected_size=1)])
    with pytest.raises(ScenarioError, match="station 's3': no time_zone"):
        _t(
            districts=[District(id="d1", region="r1", name=N), District(id="x-tr", region="ab", name=N)],
        )
    with pytest.raises(ScenarioError, match="not in the territory"):
        _t().district_of("nope")


def test_region_without_district() -> None:
    regions = [Region(id="r1", name=N, time_zone="Asia/Almaty"), Region(id="empty", name=N)]
    with pytest.raises(ScenarioError, match="region 'empty' has no district"):
        Territory(
            regions,
            [District(id="d1", region="r1", name=N)],
            [Station(id="s1", district="d1", expected_size=1)],
        )


def test_names_by_language() -> None:
    assert N.get("ru") == "Р"
    with pytest.raises(KeyError, match="no 'de' text"):
        N.get("de")


def test_csv_errors(tmp_path: Path) -> None:
    p = tmp_path / "districts.csv"
    p.write_text("id,region\nd1,r1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="no name column"):
        load_districts_csv(p)
    p.write_text("id,name_kk\nd1,a\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="missing column\\(s\\) region"):
        load_districts_csv(p)
    s = tmp_path / "stations.csv"
    s.write_text("id,district,expected_size\ns1,d1,10\ns 2,d1,10\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="line 3: field 'id'"):
        load_stations_csv(s)
    with pytest.raises(ScenarioError, match="file not found"):
        load_stations_csv(tmp_path / "none.csv")
