"""Each polling station's voting hours, from the manifest (``docs/record-format.md`` §3).

The manifest gives the voting hours as ``voting_opens`` and ``voting_closes`` and each station its IANA
``time_zone``. A station votes on ``election_date`` from the local clock time of ``voting_opens`` (its
time of day as written, in its own offset) to that of ``voting_closes``, both read in the station's
time zone; a closing time of day not after the opening one falls on the next day. For kz-2022 that is
07:00–20:00 local in every station. Board times are compared as strings (``saylau.board.format_time``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from saylau.board.chain import format_time
from saylau.election.manifest import Manifest

__all__ = ["VotingWindows"]


class VotingWindows:
    """Station id → the first and last moment of its voting hours, as UTC datetimes and board times."""

    def __init__(self, manifest: Manifest) -> None:
        """Compute the window of every station of ``manifest`` (one per time zone, shared)."""
        opens, closes = manifest.voting_opens.time(), manifest.voting_closes.time()
        by_zone: dict[str, tuple[datetime, datetime]] = {}
        self._windows: dict[str, tuple[datetime, datetime]] = {}
        for loc in manifest.locations():
            zone = loc.station.time_zone
            if zone not in by_zone:
                tz = ZoneInfo(zone)
                start = datetime.combine(manifest.election_date, opens, tz)
                end = datetime.combine(manifest.election_date, closes, tz)
                if end <= start:
                    end += timedelta(days=1)
                by_zone[zone] = (start, end)
            self._windows[loc.station.station_id] = by_zone[zone]
        self._times = {sid: (format_time(a), format_time(b)) for sid, (a, b) in self._windows.items()}

    def __contains__(self, station_id: object) -> bool:
        return station_id in self._windows

    def window(self, station_id: str) -> tuple[datetime, datetime]:
        """When the station opens and closes (aware datetimes, local); ``KeyError`` naming an unknown one."""
        try:
            return self._windows[station_id]
        except KeyError:
            raise KeyError(f"station {station_id!r} is not in the manifest") from None

    def board_times(self, station_id: str) -> tuple[str, str]:
        """The window as board times (UTC, ``Z``), which compare as strings."""
        self.window(station_id)
        return self._times[station_id]

    def contains(self, station_id: str, board_time: str) -> bool:
        """Whether a board time lies within the station's voting hours (both ends included)."""
        start, end = self.board_times(station_id)
        return start <= board_time <= end

    def describe(self, station_id: str) -> str:
        """``07:00–20:00 Asia/Almaty (2022-11-20T01:00:00Z–2022-11-20T14:00:00Z)``, for messages."""
        start, end = self.window(station_id)
        a, b = self.board_times(station_id)
        return f"{start:%H:%M}–{end:%H:%M} {start.tzinfo} ({a[:19]}Z–{b[:19]}Z)"
