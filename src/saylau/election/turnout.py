"""Turnout through election day: station snapshots at local reporting times, aggregated upward.

A reporting time is a wall-clock label: the snapshot "at 10:00" is taken at each station's own local
10:00, so in a country with two time zones the western stations report an hour later in absolute
time. A station's snapshots may never decrease (a lower figure than an earlier one, or higher than a
later one already recorded, raises :class:`TurnoutError`) and never exceed the station's list. The
snapshot at closing time is the final turnout and must equal the pollbook's count
(:meth:`TurnoutBook.verify_final`). Aggregates per region and country sum the stations that have
reported at that label; the registered voters of the same stations are the base of the percentage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from saylau.errors import TurnoutError

__all__ = [
    "StationPlace",
    "TurnoutBook",
    "TurnoutCounter",
    "TurnoutSnapshot",
    "resolve_zone",
]

_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2})(?::?(\d{2}))?$")


def resolve_zone(name: str) -> tzinfo:
    """An IANA zone name (``Asia/Almaty``, history from tzdata) or a fixed offset (``UTC+5``, ``+05:00``)."""
    m = _OFFSET.match(name)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0)))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TurnoutError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True, slots=True)
class StationPlace:
    """Where a station sits, as far as turnout cares: its region id and time zone."""

    region: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class TurnoutSnapshot:
    """Voters who had voted at one station by one local reporting time."""

    station_id: str
    label: time
    at: datetime
    voted: int
    registered: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (counts only, no personal data)."""
        return {"station_id": self.station_id, "label": self.label.strftime("%H:%M"),
                "at": self.at.isoformat(), "voted": self.voted, "registered": self.registered}


class TurnoutCounter(Protocol):
    """What a snapshot can be read from: a pollbook or its store (``count`` up to a moment)."""

    def count(self, station_id: str, until: datetime | None = None) -> int:
        """Voters checked in at ``station_id`` at or before ``until``."""
        ...


def _share(voted: int, registered: int) -> float:
    return round(100.0 * voted / registered, 2) if registered else 0.0


class TurnoutBook:
    """The day's turnout snapshots for every station, checked as they arrive."""

    def __init__(self, election_day: date, reporting_times: Sequence[time], close_time: time,
                 stations: Mapping[str, StationPlace], registered: Mapping[str, int]) -> None:
        labels = sorted(set(reporting_times) | {close_time})
        if list(reporting_times) != sorted(set(reporting_times)):
            raise ValueError(f"reporting times must be strictly increasing: {list(reporting_times)}")
        if labels[-1] != close_time:
            raise ValueError(f"reporting time {labels[-1]} is after closing time {close_time}")
        missing = sorted(set(stations) - set(registered))
        if missing:
            raise ValueError(f"no registered count for stations {missing[:5]}")
        self.election_day = election_day
        self.labels: tuple[time, ...] = tuple(labels)
        self.close_time = close_time
        self.stations = dict(stations)
        self.registered = {s: registered[s] for s in stations}
        self._zones = {s: resolve_zone(p.time_zone) for s, p in self.stations.items()}
        self._snaps: dict[str, dict[time, TurnoutSnapshot]] = {s: {} for s in stations}

    def local_instant(self, station_id: str, label: time) -> datetime:
        """The absolute moment of ``label`` at the station: its local wall clock on election day."""
        return datetime.combine(self.election_day, label, tzinfo=self._zone(station_id))

    def _zone(self, station_id: str) -> tzinfo:
        try:
            return self._zones[station_id]
        except KeyError:
            raise TurnoutError(f"unknown station {station_id!r}") from None

    def record(self, station_id: str, label: time, voted: int) -> TurnoutSnapshot:
        """Accept one station's snapshot at a reporting label, after the checks of the module."""
        at = self.local_instant(station_id, label)
        if label not in self.labels:
            raise TurnoutError(
                f"station {station_id!r}: {label:%H:%M} is not a reporting time "
                f"({', '.join(f'{t:%H:%M}' for t in self.labels)})")
        snaps = self._snaps[station_id]
        if label in snaps:
            raise TurnoutError(
                f"station {station_id!r} already reported {snaps[label].voted} at {label:%H:%M}")
        registered = self.registered[station_id]
        if not 0 <= voted <= registered:
            raise TurnoutError(
                f"station {station_id!r} at {label:%H:%M}: {voted} voted is outside "
                f"0..{registered} registered")
        earlier = [s for t, s in snaps.items() if t < label]
        later = [s for t, s in snaps.items() if t > label]
        if earlier:
            prev = max(earlier, key=lambda s: s.label)
            if voted < prev.voted:
                raise TurnoutError(
                    f"station {station_id!r} at {label:%H:%M}: {voted} voted is lower than {prev.voted} "
                    f"at {prev.label:%H:%M}; turnout cannot decrease")
        if later:
            nxt = min(later, key=lambda s: s.label)
            if voted > nxt.voted:
                raise TurnoutError(
                    f"station {station_id!r} at {label:%H:%M}: {voted} voted is higher than {nxt.voted} "
                    f"already reported at {nxt.label:%H:%M}; turnout cannot decrease")
        snap = TurnoutSnapshot(station_id, label, at, voted, registered)
        snaps[label] = snap
        return snap

    def record_from(self, counter: TurnoutCounter, label: time) -> list[TurnoutSnapshot]:
        """Take every station's snapshot at ``label`` from pollbook counts up to its local instant."""
        return [self.record(s, label, counter.count(s, self.local_instant(s, label))) for s in self.stations]

    def snapshot(self, station_id: str, label: time) -> TurnoutSnapshot:
        """The station's snapshot at ``label`` (``TurnoutError`` if it has not reported)."""
        self._zone(station_id)
        try:
            return self._snaps[station_id][label]
        except KeyError:
            raise TurnoutError(f"station {station_id!r} has not reported at {label:%H:%M}") from None

    def aggregate(self, label: time) -> dict[str, Any]:
        """Turnout at ``label`` per region and for the country, over the stations that reported."""
        regions: dict[str, dict[str, int]] = {}
        total = {"voted": 0, "registered": 0, "stations_reporting": 0}
        for station_id, place in self.stations.items():
            reg = regions.setdefault(place.region, {"voted": 0, "registered": 0, "stations_reporting": 0,
                                                    "stations_total": 0})
            reg["stations_total"] += 1
            snap = self._snaps[station_id].get(label)
            if snap is None:
                continue
            for bucket in (reg, total):
                bucket["voted"] += snap.voted
                bucket["registered"] += snap.registered
                bucket["stations_reporting"] += 1
        return {
            "label": label.strftime("%H:%M"),
            "country": total | {"stations_total": len(self.stations),
                                "percent": _share(total["voted"], total["registered"])},
            "regions": {r: v | {"percent": _share(v["voted"], v["registered"])}
                        for r, v in sorted(regions.items())},
        }

    def verify_final(self, pollbook_counts: Mapping[str, int] | TurnoutCounter) -> None:
        """Every station's closing snapshot must equal the pollbook's count; raise naming the first miss."""
        for station_id in self.stations:
            final = self._snaps[station_id].get(self.close_time)
            if final is None:
                raise TurnoutError(f"station {station_id!r} has no final turnout at {self.close_time:%H:%M}")
            if isinstance(pollbook_counts, Mapping):
                expected = pollbook_counts.get(station_id, 0)
            else:
                expected = pollbook_counts.count(station_id)
            if final.voted != expected:
                raise TurnoutError(
                    f"station {station_id!r}: final turnout {final.voted} differs from the pollbook's "
                    f"{expected} check-ins")

    def to_dict(self) -> dict[str, Any]:
        """The published turnout: every label's aggregate and every station's snapshots."""
        return {
            "election_day": self.election_day.isoformat(),
            "labels": [t.strftime("%H:%M") for t in self.labels],
            "aggregates": [self.aggregate(t) for t in self.labels],
            "stations": {s: [snap.to_dict() for _, snap in sorted(v.items())]
                         for s, v in self._snaps.items()},
        }
