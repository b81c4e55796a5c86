"""The territory of an election: regions → districts → polling stations, as data.

Regions (including cities with region status and an "abroad" pseudo-region) come from the scenario
TOML; districts and stations come from CSV files beside it, because a national election has
thousands of stations. Every level carries names in each of the election's languages and a UTC
IANA time zone may be set at any level (the most specific one wins), so time zones are facts in data.
"""

from __future__ import annotations

import csv
import zoneinfo
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from saylau.election.manifest import LocalizedText as LocalizedName
from saylau.errors import ScenarioError

__all__ = [
    "District",
    "LocalizedName",
    "Region",
    "RegionKind",
    "Station",
    "Territory",
    "load_districts_csv",
    "load_stations_csv",
    "tz_offset",
]

RegionKind = Literal["region", "city", "abroad"]
"""A first-level unit: an ordinary region, a city with region status, or the stations abroad."""

_ID = r"^[A-Za-z0-9_.-]+$"
_T = TypeVar("_T", "Region", "District", "Station")


def tz_offset(time_zone: str, on: date) -> timedelta:
    """UTC offset of an IANA zone at noon on ``on`` (history from tzdata, e.g. Qyzylorda → +5 since 2018)."""
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ScenarioError(f"time_zone {time_zone!r} is not a known IANA time zone") from exc
    off = datetime.combine(on, time(12), tzinfo=zone).utcoffset()
    assert off is not None
    return off


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Offset(_Model):
    time_zone: str | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone_ok(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                zoneinfo.ZoneInfo(v)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"time_zone {v!r} is not a known IANA time zone") from exc
        return v


class Region(_Offset):
    """A first-level unit; ``time_zone`` is the default for its districts and stations."""

    id: str = Field(pattern=_ID)
    name: LocalizedName
    kind: RegionKind = "region"


class District(_Offset):
    """A second-level unit (district, city of regional status, or a country abroad)."""

    id: str = Field(pattern=_ID)
    region: str = Field(pattern=_ID)
    name: LocalizedName


class Station(_Offset):
    """A polling station; ``expected_size`` is the modelled number of registered voters."""

    id: str = Field(pattern=_ID)
    district: str = Field(pattern=_ID)
    expected_size: int = Field(ge=1)
    settlement: str = ""


def _read_csv(path: Path, required: Iterable[str]) -> list[dict[str, str]]:
    if not path.is_file():
        raise ScenarioError(f"{path}: file not found")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise ScenarioError(f"{path}: missing column(s) {', '.join(missing)}")
            return list(reader)
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise ScenarioError(f"{path}: not a CSV file ({exc})") from None


def _row_error(path: Path, lineno: int, exc: ValidationError) -> ScenarioError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return ScenarioError(f"{path}: line {lineno}: field {loc!r}: {err['msg']}")


def load_districts_csv(path: Path) -> list[District]:
    """Read ``districts.csv`` (id, region, one ``name_<lang>`` column per language[, time_zone])."""
    rows = _read_csv(path, ("id", "region"))
    langs = [c.removeprefix("name_") for c in (rows[0] if rows else {}) if c.startswith("name_")]
    if rows and not langs:
        raise ScenarioError(f"{path}: no name column (name_<language>, e.g. name_kk)")
    out: list[District] = []
    for lineno, row in enumerate(rows, start=2):
        try:
            out.append(
                District(
                    id=row["id"],
                    region=row["region"],
                    name=LocalizedName({lang: row[f"name_{lang}"] for lang in langs}),
                    time_zone=row.get("time_zone") or None,
                )
            )
        except ValidationError as exc:
            raise _row_error(path, lineno, exc) from exc
    return out


def load_stations_csv(path: Path) -> list[Station]:
    """Read ``stations.csv`` (id, district, expected_size[, settlement, time_zone])."""
    rows = _read_csv(path, ("id", "district", "expected_size"))
    out: list[Station] = []
    for lineno, row in enumerate(rows, start=2):
        try:
            out.append(
                Station(
                    id=row["id"],
                    district=row["district"],
                    expected_size=row["expected_size"],
                    settlement=row.get("settlement") or "",
                    time_zone=row.get("time_zone") or None,
                )
            )
        except ValidationError as exc:
            raise _row_error(path, lineno, exc) from exc
    return out


class Territory:
    """The checked hierarchy with fast look-ups; built once per scenario.

    Raises ``ScenarioError`` for duplicate ids, dangling parents, a region or district without
    stations, or a station whose time zone is set at no level.
    """

    def __init__(self, regions: list[Region], districts: list[District], stations: list[Station]) -> None:
        self.regions: tuple[Region, ...] = tuple(regions)
        self.districts: tuple[District, ...] = tuple(districts)
        self.stations: tuple[Station, ...] = tuple(stations)
        self.region_by_id: dict[str, Region] = _unique("region", regions)
        self.district_by_id: dict[str, District] = _unique("district", districts)
        self.station_by_id: dict[str, Station] = _unique("station", stations)
        for d in districts:
            if d.region not in self.region_by_id:
                raise ScenarioError(f"district {d.id!r}: region {d.region!r} is not defined")
        for s in stations:
            if s.district not in self.district_by_id:
                raise ScenarioError(f"station {s.id!r}: district {s.district!r} is not defined")
        used_d = {s.district for s in stations}
        for d in districts:
            if d.id not in used_d:
                raise ScenarioError(f"district {d.id!r} has no polling station")
        used_r = {d.region for d in districts}
        for r in regions:
            if r.id not in used_r:
                raise ScenarioError(f"region {r.id!r} has no district")
        for s in stations:
            self.time_zone(s.id)

    def region_of(self, station_id: str) -> Region:
        """The region a station belongs to."""
        return self.region_by_id[self.district_of(station_id).region]

    def district_of(self, station_id: str) -> District:
        """The district a station belongs to."""
        try:
            return self.district_by_id[self.station_by_id[station_id].district]
        except KeyError:
            raise ScenarioError(f"station {station_id!r} is not in the territory") from None

    def parent_chain(self, station_id: str) -> tuple[str, str, str]:
        """``(station, district, region)`` ids: the path every aggregation follows upward."""
        d = self.district_of(station_id)
        return (station_id, d.id, d.region)

    def time_zone(self, station_id: str) -> str:
        """The IANA time zone of a station: its own, else its district's, else its region's."""
        s = self.station_by_id[station_id]
        d = self.district_by_id[s.district]
        r = self.region_by_id[d.region]
        tz = s.time_zone or d.time_zone or r.time_zone
        if tz is None:
            raise ScenarioError(f"station {station_id!r}: no time_zone at station, district or region")
        return tz

    def stations_in_region(self, region_id: str) -> list[Station]:
        """Stations of one region, in file order."""
        return [s for s in self.stations if self.district_by_id[s.district].region == region_id]

    def counts(self) -> Mapping[str, int]:
        """Numbers of regions, districts and stations (for checks against published figures)."""
        return {
            "regions": len(self.regions),
            "districts": len(self.districts),
            "stations": len(self.stations),
        }


def _unique(kind: str, items: list[_T]) -> dict[str, _T]:
    out: dict[str, _T] = {}
    for item in items:
        if item.id in out:
            raise ScenarioError(f"duplicate {kind} id {item.id!r}")
        out[item.id] = item
    return out
