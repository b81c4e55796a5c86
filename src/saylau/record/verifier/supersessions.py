"""The "superseded by" links of ``ballots.jsonl``: each successor a cast ballot of the same station.

Each ballot names at most one successor and each successor supersedes at most one ballot; following the
successors from any superseded ballot must end in a cast ballot (no cycles). The state and station are
kept only for ballots named as successors, so memory grows with the number of revotes; a successor that
came earlier in the file than its predecessor is looked up in a second pass over the file.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from saylau.record import format as fmt
from saylau.record.reader import RecordReader
from saylau.record.verifier.lines import LineFacts
from saylau.record.verifier.table import CheckResult, fail

__all__ = ["SupersessionLinks"]


class SupersessionLinks:
    """Collects the links during the ballot pass; ``check`` follows them once the file has been read."""

    def __init__(self, check: CheckResult) -> None:
        """Failures are reported under ``check``."""
        self.check = check
        self._supersedes: dict[str, str] = {}  # successor -> predecessor
        self._successor_of: dict[str, tuple[str, str]] = {}  # predecessor -> (successor, station)
        self._info: dict[str, tuple[str, str]] = {}  # (state, station) of ballots named as successors
        self._backward: set[str] = set()  # successors that came earlier in the file than their predecessor

    def dump(self) -> dict[str, Any]:
        """JSON form (an incremental verification's saved state)."""
        return {
            "supersedes": self._supersedes,
            "successor_of": {k: list(v) for k, v in self._successor_of.items()},
            "info": {k: list(v) for k, v in self._info.items()},
            "backward": sorted(self._backward),
        }

    def restore(self, d: dict[str, Any]) -> None:
        """Take the links back from ``dump``'s form."""
        self._supersedes = dict(d["supersedes"])
        self._successor_of = {k: (v[0], v[1]) for k, v in d["successor_of"].items()}
        self._info = {k: (v[0], v[1]) for k, v in d["info"].items()}
        self._backward = set(d["backward"])

    def note(self, sb: LineFacts) -> None:
        """Keep the state and station of a ballot already named as a successor."""
        if sb.ballot_id in self._supersedes:
            self._info[sb.ballot_id] = (sb.state, sb.station_id)

    def add(self, sb: LineFacts, where: str, seen: Container[str]) -> None:
        """Record a superseded ballot's link (``seen``: the ballot ids read so far, this one included)."""
        succ = sb.superseded_by
        if succ is None:
            return
        if succ in self._supersedes:
            raise fail(self.check, f"{where}: its successor {succ} supersedes two ballots")
        self._supersedes[succ] = sb.ballot_id
        self._successor_of[sb.ballot_id] = (succ, sb.station_id)
        if succ in seen:
            self._backward.add(succ)

    def check_links(self, reader: RecordReader) -> None:
        """Every successor is a cast (or itself superseded) ballot of the same station; no cycles."""
        if self._backward:
            for no, line in reader.raw_lines(fmt.BALLOTS):
                d = RecordReader.parse_line(line, fmt.BALLOTS, no)
                bid = d["ballot"]["ballot_id"]
                if bid in self._backward:
                    self._info[bid] = (d["state"], d["station_id"])
        info, successor_of = self._info, self._successor_of
        for pred, (succ, station) in successor_of.items():
            if succ not in info or info[succ][0] == "challenged":
                raise fail(self.check, f"ballot {pred}: superseded by {succ}, which is not a cast ballot")
            if info[succ][1] != station:
                raise fail(self.check, f"ballot {pred}: superseded by {succ} of another station")
            # following successors must end in a cast ballot (no cycles)
            hops, cur = 0, succ
            while cur in successor_of:
                cur = successor_of[cur][0]
                hops += 1
                if hops > len(successor_of):
                    raise fail(self.check, f"ballot {pred}: its chain of revotes is a cycle")
