"""The exit-poll desk: registration, uploads during the day, release only after the embargo.

Pollsters register, fix their sample, upload interviews during the day, and get their estimates
and raw data back only once the last station in the country has closed.

This is the object the server wraps; it keeps everything in memory and enforces the rules itself, so
no route can leak an estimate or a raw interview before the last station closes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from saylau.errors import PollError
from saylau.polls.design import SampleDesign
from saylau.polls.embargo import Embargo
from saylau.polls.estimate import REFUSAL, Comparison, InterviewData, PollEstimate, compare, estimate

__all__ = ["ExitPollDesk", "Interview", "Pollster"]


@dataclass(frozen=True)
class Interview:
    """One voter approached at the exit: the option named, or ``None`` for a refusal."""

    station: str
    choice: str | None
    klass: str = ""


@dataclass
class Pollster:
    """A registered pollster, its sample design and the interviews uploaded so far."""

    pollster_id: str
    name: str
    design: SampleDesign | None = None
    interviews: list[Interview] = field(default_factory=list)


class ExitPollDesk:
    """Registration, uploads and embargoed release of exit polls for one contest."""

    def __init__(self, options: Sequence[str], embargo: Embargo) -> None:
        """Accept interviews naming one of ``options``; release nothing until ``embargo`` lifts."""
        self.options = tuple(options)
        self.embargo = embargo
        self._pollsters: dict[str, Pollster] = {}

    def register(self, pollster_id: str, name: str) -> Pollster:
        """Register a pollster under a new id."""
        if not pollster_id or pollster_id in self._pollsters:
            raise PollError(f"pollster {pollster_id!r}: id empty or already registered")
        p = Pollster(pollster_id, name)
        self._pollsters[pollster_id] = p
        return p

    def pollster(self, pollster_id: str) -> Pollster:
        """A registered pollster."""
        try:
            return self._pollsters[pollster_id]
        except KeyError:
            raise PollError(f"pollster {pollster_id!r}: not registered") from None

    def set_design(self, pollster_id: str, design: SampleDesign) -> None:
        """Fix the pollster's sample before any interview is uploaded."""
        p = self.pollster(pollster_id)
        if p.interviews:
            raise PollError(f"pollster {pollster_id!r}: the sample is fixed once interviews are uploaded")
        p.design = design

    def upload(self, pollster_id: str, interviews: Sequence[Interview]) -> int:
        """Add interviews from sampled stations (all or none); returns the pollster's total."""
        p = self.pollster(pollster_id)
        if p.design is None:
            raise PollError(f"pollster {pollster_id!r}: no sample design set")
        sampled = set(p.design.stations.tolist())
        for iv in interviews:
            if iv.station not in sampled:
                raise PollError(f"pollster {pollster_id!r}: station {iv.station!r} is not in its sample")
            if iv.choice is not None and iv.choice not in self.options:
                raise PollError(f"pollster {pollster_id!r}: unknown option {iv.choice!r} at {iv.station}")
        p.interviews.extend(interviews)
        return len(p.interviews)

    def raw(self, pollster_id: str) -> list[Interview]:
        """The pollster's interviews, once the embargo has lifted."""
        self.embargo.check(f"raw interviews of {pollster_id!r}")
        return list(self.pollster(pollster_id).interviews)

    def data(self, pollster_id: str) -> InterviewData:
        """The interviews as arrays, once the embargo has lifted."""
        rows = self.raw(pollster_id)
        index = {o: i for i, o in enumerate(self.options)}
        return InterviewData(
            np.asarray([r.station for r in rows], dtype=np.str_),
            np.asarray([REFUSAL if r.choice is None else index[r.choice] for r in rows], dtype=np.int64),
            np.asarray([r.klass for r in rows], dtype=np.str_),
        )

    def estimate(self, pollster_id: str, voters: Mapping[str, int], confidence: float = 0.95) -> PollEstimate:
        """The pollster's estimates, once the embargo has lifted."""
        self.embargo.check(f"estimates of {pollster_id!r}")
        p = self.pollster(pollster_id)
        if p.design is None or not p.interviews:
            raise PollError(f"pollster {pollster_id!r}: no sample or no interviews")
        return estimate(p.design, self.data(pollster_id), voters, self.options, confidence)

    def compare(
        self, pollster_id: str, voters: Mapping[str, int], official: Mapping[str, float]
    ) -> list[Comparison]:
        """The pollster's estimates against the official shares, once the embargo has lifted."""
        return compare(self.estimate(pollster_id, voters), official)
