"""Aggregation of paper results: station → district → region → country, and partial publication.

Station figures are held column-wise in a :class:`StationTable` (numpy arrays), so summing 10,101
stations to any level is one ``np.add.at`` per column. The encrypted tallies follow the same
hierarchy; :func:`parent_chain` gives it to them without going through this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from saylau.election.rules import Totals
from saylau.election.territory import Territory
from saylau.errors import ElectionError

__all__ = [
    "Level",
    "LevelTable",
    "PartialResults",
    "StationTable",
    "aggregate",
    "parent_chain",
    "partial_results",
    "stations_by_unit",
]

Level = Literal["station", "district", "region", "country"]
IntArray = npt.NDArray[np.int64]


def parent_chain(territory: Territory, station_id: str) -> tuple[str, str, str]:
    """``(station, district, region)`` ids of a station: the path any tally takes upward."""
    return territory.parent_chain(station_id)


def stations_by_unit(territory: Territory, level: Level) -> dict[str, list[str]]:
    """Station ids grouped by unit at ``level``, in territory order (for summing encrypted tallies)."""
    out: dict[str, list[str]] = {}
    for s in territory.stations:
        chain = territory.parent_chain(s.id)
        key = {"station": chain[0], "district": chain[1], "region": chain[2], "country": "country"}[level]
        out.setdefault(key, []).append(s.id)
    return out


@dataclass(frozen=True)
class StationTable:
    """Accepted station results, one row per station, options in ballot order.

    ``voted`` is the number of voters who received a ballot (took part); ``valid + invalid`` must
    equal it and the rows of ``votes`` must sum to ``valid`` (checked on construction).
    """

    station: tuple[str, ...]
    district: tuple[str, ...]
    region: tuple[str, ...]
    options: tuple[str, ...]
    registered: IntArray
    voted: IntArray
    valid: IntArray
    invalid: IntArray
    votes: IntArray = field(repr=False)

    def __post_init__(self) -> None:
        n = len(self.station)
        for name in ("district", "region"):
            if len(getattr(self, name)) != n:
                raise ElectionError(
                    f"station table: {name} has {len(getattr(self, name))} rows, expected {n}"
                )
        for name in ("registered", "voted", "valid", "invalid"):
            arr = getattr(self, name)
            if arr.shape != (n,):
                raise ElectionError(f"station table: {name} has shape {arr.shape}, expected ({n},)")
            if n and int(arr.min()) < 0:
                raise ElectionError(
                    f"station table: negative {name} at station {self.station[int(arr.argmin())]}"
                )
        if self.votes.shape != (n, len(self.options)):
            raise ElectionError(
                f"station table: votes shape {self.votes.shape} != ({n}, {len(self.options)})"
            )
        checks = (
            ("sum of option votes = valid", self.votes.sum(axis=1), self.valid),
            ("valid + invalid = voted", self.valid + self.invalid, self.voted),
        )
        for what, left, right in checks:
            bad = np.flatnonzero(left != right)
            if bad.size:
                i = int(bad[0])
                raise ElectionError(
                    f"station table: {what} fails at station {self.station[i]}: {left[i]} != {right[i]}"
                )
        bad = np.flatnonzero(self.voted > self.registered)
        if bad.size:
            raise ElectionError(f"station table: voted > registered at station {self.station[int(bad[0])]}")

    def __len__(self) -> int:
        return len(self.station)

    def subset(self, mask: npt.NDArray[np.bool_]) -> StationTable:
        """The rows where ``mask`` is true."""
        idx = np.flatnonzero(mask)
        return StationTable(
            station=tuple(self.station[i] for i in idx),
            district=tuple(self.district[i] for i in idx),
            region=tuple(self.region[i] for i in idx),
            options=self.options,
            registered=self.registered[idx],
            voted=self.voted[idx],
            valid=self.valid[idx],
            invalid=self.invalid[idx],
            votes=self.votes[idx],
        )


@dataclass(frozen=True)
class LevelTable:
    """Sums at one level: one row per unit (``keys``), same columns as :class:`StationTable`."""

    level: Level
    keys: tuple[str, ...]
    options: tuple[str, ...]
    stations: IntArray
    registered: IntArray
    voted: IntArray
    valid: IntArray
    invalid: IntArray
    votes: IntArray = field(repr=False)

    def row(self, key: str) -> dict[str, int]:
        """One unit's figures as a plain mapping (options by id)."""
        try:
            i = self.keys.index(key)
        except ValueError:
            raise ElectionError(f"{self.level} {key!r} has no results") from None
        out = {
            "stations": int(self.stations[i]),
            "registered": int(self.registered[i]),
            "voted": int(self.voted[i]),
            "valid": int(self.valid[i]),
            "invalid": int(self.invalid[i]),
        }
        out.update({o: int(v) for o, v in zip(self.options, self.votes[i], strict=True)})
        return out

    def totals(self, key: str, against_all: str | None) -> Totals:
        """One unit's figures as rule input."""
        r = self.row(key)
        return Totals(
            registered=r["registered"],
            took_part=r["voted"],
            valid=r["valid"],
            votes={o: r[o] for o in self.options},
            against_all=against_all,
        )


def aggregate(table: StationTable, level: Level, order: tuple[str, ...] | None = None) -> LevelTable:
    """Sum station rows to ``level``; ``order`` fixes the row order (units without rows get zeros)."""
    if level == "station":
        labels: tuple[str, ...] = table.station
    elif level == "district":
        labels = table.district
    elif level == "region":
        labels = table.region
    elif level == "country":
        labels = ("country",) * len(table)
    else:
        raise ValueError(f"unknown level {level!r}")
    keys = (
        order
        if order is not None
        else tuple(dict.fromkeys(labels)) or (("country",) if level == "country" else ())
    )
    pos = {k: i for i, k in enumerate(keys)}
    try:
        inv = np.fromiter((pos[x] for x in labels), dtype=np.int64, count=len(labels))
    except KeyError as exc:
        raise ElectionError(f"aggregate: {level} {exc.args[0]!r} is not in the given order") from None
    m = len(keys)

    def add(col: IntArray) -> IntArray:
        out = np.zeros((m, *col.shape[1:]), dtype=np.int64)
        np.add.at(out, inv, col)
        return out

    return LevelTable(
        level=level,
        keys=keys,
        options=table.options,
        stations=np.bincount(inv, minlength=m).astype(np.int64),
        registered=add(table.registered),
        voted=add(table.voted),
        valid=add(table.valid),
        invalid=add(table.invalid),
        votes=add(table.votes),
    )


@dataclass(frozen=True)
class PartialResults:
    """What can be published while stations are still reporting."""

    stations_reporting: int
    stations_total: int
    registered_reporting: int
    national: LevelTable
    regions: LevelTable
    regions_reporting: dict[str, tuple[int, int]]

    def shares(self) -> dict[str, float]:
        """Each option's share of the valid votes counted so far (0 when nothing is counted)."""
        valid = int(self.national.valid[0])
        return {
            o: (int(v) / valid if valid else 0.0)
            for o, v in zip(self.national.options, self.national.votes[0], strict=True)
        }


def partial_results(table: StationTable, reported: npt.NDArray[np.bool_]) -> PartialResults:
    """Sums over the stations that have reported so far, with counts of reporting stations per region."""
    if reported.shape != (len(table),):
        raise ElectionError(f"partial_results: mask has shape {reported.shape}, expected ({len(table)},)")
    regions_all = tuple(dict.fromkeys(table.region))
    part = table.subset(reported)
    total_per_region = aggregate(table, "region", regions_all).stations
    part_regions = aggregate(part, "region", regions_all)
    return PartialResults(
        stations_reporting=int(reported.sum()),
        stations_total=len(table),
        registered_reporting=int(part.registered.sum()),
        national=aggregate(part, "country", ("country",)),
        regions=part_regions,
        regions_reporting={
            r: (int(part_regions.stations[i]), int(total_per_region[i])) for i, r in enumerate(regions_all)
        },
    )
