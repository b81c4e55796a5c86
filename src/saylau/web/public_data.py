"""What the public pages show, read through the API's own functions (never over HTTP).

Each figure here is the API's: the results (``published_results``, the same as ``GET /results``), the
turnout snapshots (``GET /turnout``), the latest protocol of each station (``GET /protocols``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.api.routes_results import published_results
from saylau.store.models import Election, ProtocolRow, Station, TurnoutRow

__all__ = ["ResultsData", "TurnoutPoint", "results_data"]


@dataclass(frozen=True)
class TurnoutPoint:
    """Turnout at one local report time: voters so far and the registered voters of the stations counted."""

    clock: str
    voted: int
    registered: int

    @property
    def share(self) -> float:
        return self.voted / self.registered if self.registered else 0.0


@dataclass
class ResultsData:
    """Everything the results page shows, from the stored election."""

    manifest: dict[str, Any]
    phase: str
    results: dict[str, Any] | None
    turnout: list[TurnoutPoint]
    turnout_by_region: dict[str, list[TurnoutPoint]]
    registered: dict[str, int]
    station_region: dict[str, str]
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)


def _curve(snapshots: list[tuple[str, str, int]], registered: dict[str, int], zones: dict[str, str],
           stations: set[str]) -> list[TurnoutPoint]:
    """Voters at each local report time: each station's latest snapshot at or before that wall clock."""
    latest: dict[str, list[tuple[str, int]]] = {}
    for sid, at, voted in snapshots:
        if sid in stations:
            local = datetime.fromisoformat(at).astimezone(ZoneInfo(zones[sid])).strftime("%H:%M")
            latest.setdefault(sid, []).append((local, voted))
    clocks = sorted({c for rows in latest.values() for c, _ in rows})
    points = []
    for clock in clocks:
        voted = 0
        for rows in latest.values():
            before = [v for c, v in sorted(rows) if c <= clock]
            voted += before[-1] if before else 0
        points.append(TurnoutPoint(clock, voted, sum(registered.get(s, 0) for s in stations)))
    return points


def results_data(session: Session, e: Election) -> ResultsData:
    """The results page's data for election ``e``."""
    manifest = e.manifest
    zones = {s["station_id"]: s["time_zone"] for r in manifest["regions"] for d in r["districts"]
             for s in d["stations"]}
    rows = session.execute(select(Station.id, Station.region, Station.registered)
                           .where(Station.election_id == e.id)).all()
    registered = {sid: n for sid, _, n in rows}
    station_region = {sid: region for sid, region, _ in rows}
    snaps = [(r.station_id, r.at, r.voted) for r in session.scalars(
        select(TurnoutRow).where(TurnoutRow.election_id == e.id).order_by(TurnoutRow.at))]
    by_region = {r["region_id"]: _curve(snaps, registered, zones,
                                        {s for s, reg in station_region.items() if reg == r["region_id"]})
                 for r in manifest["regions"]}
    protocols: dict[str, dict[str, Any]] = {}
    for p in session.scalars(select(ProtocolRow).where(ProtocolRow.election_id == e.id)
                             .order_by(ProtocolRow.station_id, ProtocolRow.version)):
        protocols[p.station_id] = p.body["figures"]  # the latest version wins
    return ResultsData(
        manifest=manifest,
        phase=e.phase,
        results=None if e.results is None else published_results(session, e),
        turnout=_curve(snaps, registered, zones, set(station_region)),
        turnout_by_region=by_region,
        registered=registered,
        station_region=station_region,
        protocols=protocols,
    )
