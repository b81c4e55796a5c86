"""The exit-poll embargo: nothing is released before the last polling station in the country closes.

Stations close at a local time in their own time zone (kz-2022: 20:00 at UTC+6, and an hour later in
absolute time in the west at UTC+5), so the embargo compares aware datetimes in UTC. The clock is
injected so the server, the tests and the simulation can all decide what "now" is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo

from saylau.errors import EmbargoError

__all__ = ["Embargo", "utc_now"]


def utc_now() -> datetime:
    """The system clock, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Embargo:
    """Closing times of every zone (aware datetimes) and the clock used to compare with them."""

    closings: Mapping[str, datetime]
    clock: Callable[[], datetime] = field(default=utc_now)

    def __post_init__(self) -> None:
        """Refuse an empty schedule or naive datetimes (they would compare in the wrong zone)."""
        if not self.closings:
            raise ValueError("embargo: no closing times given")
        for zone, at in self.closings.items():
            if at.tzinfo is None or at.utcoffset() is None:
                raise ValueError(f"embargo: closing time of {zone!r} has no time zone")

    @classmethod
    def local_close(
        cls,
        day: date,
        close: time,
        zones: Mapping[str, tzinfo],
        clock: Callable[[], datetime] = utc_now,
    ) -> Embargo:
        """Every zone closes at the same local wall-clock time ``close`` on ``day``."""
        return cls({name: datetime.combine(day, close, tz) for name, tz in zones.items()}, clock)

    @property
    def last_close(self) -> datetime:
        """The moment (UTC) the last station in the country closes."""
        return max(at.astimezone(UTC) for at in self.closings.values())

    @property
    def last_zone(self) -> str:
        """The zone that closes last."""
        return max(self.closings, key=lambda z: self.closings[z].astimezone(UTC))

    def lifted(self) -> bool:
        """Whether the polls have closed everywhere."""
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("embargo: the clock returned a naive datetime")
        return now.astimezone(UTC) >= self.last_close

    def check(self, what: str) -> None:
        """Raise :class:`EmbargoError` naming ``what`` and the closing time while the embargo holds."""
        if not self.lifted():
            raise EmbargoError(
                f"{what}: under embargo until {self.last_close.isoformat()} "
                f"(the last stations, in {self.last_zone}, close then); now {self.clock().isoformat()}"
            )
