"""The demo's simulated election day: when each voter votes, when turnout is reported, protocols signed.

The demo's board carries the times of the election it simulates, not the wall clock of the run: the
ceremony the day before, each ballot at its voter's moment within the station's voting hours (local
time zone, ``saylau.record.windows``), turnout snapshots at the stations' local reporting times, the close
after the last station closed, protocols as they arrive, then tally, partial decryptions and results.
Everything is in time order, so the board's times never go backwards.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saylau.election.manifest import Manifest
from saylau.election.protocols import ProtocolFigures, SignedProtocol, sign_protocol
from saylau.record.windows import VotingWindows

__all__ = ["DEFAULT_TURNOUT_TIMES", "DayEvent", "SimulatedClock", "election_day_events", "station_protocol"]

DEFAULT_TURNOUT_TIMES = ("10:00", "12:00", "14:00", "16:00", "18:00")
"""Local times of the turnout snapshots (kz-2022's); the closing snapshot comes on top."""


class SimulatedClock:
    """A board clock set by the simulation; it never goes backwards."""

    def __init__(self, start: datetime) -> None:
        """Start at ``start`` (an aware datetime)."""
        self._now = start

    def __call__(self) -> datetime:
        """The simulated time now."""
        return self._now

    def set(self, at: datetime) -> None:
        """Move to ``at``, unless that would go back in time."""
        self._now = max(self._now, at)


@dataclass(frozen=True)
class DayEvent:
    """Something that happens on the simulated day: ``vote`` (voter index), ``revote``, ``turnout``."""

    at: datetime
    kind: str
    voter: int = -1
    station_id: str = ""


def election_day_events(
    rnd: random.Random,
    windows: VotingWindows,
    voter_stations: Sequence[str],
    revoters: set[int],
    turnout_times: Sequence[str],
) -> list[DayEvent]:
    """Every vote, revote and turnout snapshot of the day, in time order.

    Each voter votes at a uniform moment of their station's voting hours (before its last minutes); a
    voter in ``revoters`` votes again later the same day; each station reports turnout at the local
    ``turnout_times`` that fall within its hours, and at its close.
    """
    events: list[DayEvent] = []
    for voter, sid in enumerate(voter_stations):
        start, end = windows.window(sid)
        span = (end - start).total_seconds()
        t = start + timedelta(seconds=span * rnd.uniform(0.0, 0.95))
        events.append(DayEvent(t, "vote", voter, sid))
        if voter in revoters:
            later = t + timedelta(seconds=(end - t).total_seconds() * rnd.uniform(0.1, 0.9))
            events.append(DayEvent(later, "revote", voter, sid))
    for sid in dict.fromkeys(voter_stations):
        start, end = windows.window(sid)
        for hhmm in turnout_times:
            h, m = (int(x) for x in hhmm.split(":"))
            at = datetime.combine(start.date(), time(h, m), start.tzinfo)
            if start < at < end:
                events.append(DayEvent(at, "turnout", station_id=sid))
        events.append(DayEvent(end, "turnout", station_id=sid))
    order = {"vote": 0, "revote": 1, "turnout": 2}
    events.sort(key=lambda e: (e.at, order[e.kind], e.voter, e.station_id))
    return events


def station_protocol(
    manifest: Manifest,
    station_id: str,
    votes: Mapping[str, int],
    registered: int,
    key: Ed25519PrivateKey,
    signed_at: datetime,
) -> SignedProtocol:
    """The station's signed result protocol for the pilot: every voter took part and voted validly.

    ``votes`` per option (missing options count 0); the station received a ballot for every registered
    voter, and the ones not issued are unused.
    """
    options = [s.selection_id for c in manifest.contests for s in c.selections]
    counts = {o: int(votes.get(o, 0)) for o in options}
    voted = sum(counts.values())
    registered = max(registered, voted)
    figures = ProtocolFigures(
        station=station_id,
        registered=registered,
        ballots_received=registered,
        ballots_issued=voted,
        ballots_unused=registered - voted,
        ballots_spoiled=0,
        ballots_in_boxes=voted,
        valid=voted,
        invalid=0,
        votes=counts,
    )
    return sign_protocol(figures, key, election_id=manifest.election_id, signed_at=signed_at)
