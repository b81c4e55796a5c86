"""Per-station flags: which stations the suite's station-level checks point at.

A flag says only that a station's figures have a property the tests count (``docs/forensics.md``):
turnout or the winner's share at 99 % or more (``near_full_stations``, bases of 50+), an integer
percentage of turnout or of the winner's share (``integer_percent_stations``, bases of 100+, where
about one station in ``base/100`` has one by chance), and a late turnout jump
(``late_jump_test``'s flagged stations, listed when the suite could run it). Whether their number is
anomalous is the suite's p-value, not the flag.
"""

from __future__ import annotations

from collections.abc import Iterable

from saylau.forensics.data import StationResults
from saylau.forensics.outliers import near_full_stations
from saylau.forensics.rounding import integer_percent_stations

__all__ = ["FLAGS", "station_flags"]

FLAGS = ("near_100_turnout", "near_100_share", "integer_turnout", "integer_share", "late_jump")
"""Every flag, in the order a station's flags are listed."""


def station_flags(results: StationResults, late_jumps: Iterable[str] = ()) -> dict[str, list[str]]:
    """Station id → its flags (in ``FLAGS`` order); stations without a flag are left out."""
    masks = (*near_full_stations(results), *integer_percent_stations(results))
    late = set(late_jumps)
    out: dict[str, list[str]] = {}
    for i, sid in enumerate(results.stations.tolist()):
        flags = [name for name, mask in zip(FLAGS, masks, strict=False) if bool(mask[i])]
        if sid in late:
            flags.append("late_jump")
        if flags:
            out[str(sid)] = flags
    return out
