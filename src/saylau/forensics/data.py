"""Station-level results as plain arrays: the one input every forensic test and the exit polls share.

Keeping the type free of the simulation, the store and the record lets observers feed any country's
published station data into the same code (a CSV with ``station,region,registered,voted,<options>``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from saylau.errors import ForensicsError

__all__ = ["IntArray", "StationResults", "TurnoutSnapshots"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TurnoutSnapshots:
    """Cumulative ballots issued per station at reporting times through the day.

    ``hours`` are hours since the polls opened (local), ``voted[i, t]`` the cumulative count of station
    ``stations[i]`` at ``hours[t]``; the last column is the count at close.
    """

    stations: npt.NDArray[np.str_]
    hours: FloatArray
    voted: IntArray

    def __post_init__(self) -> None:
        """Check that the shapes agree and the counts never decrease."""
        if self.voted.shape != (len(self.stations), len(self.hours)):
            raise ForensicsError(
                f"turnout snapshots: voted has shape {self.voted.shape}, expected "
                f"({len(self.stations)}, {len(self.hours)})"
            )
        if len(self.hours) > 1 and np.any(np.diff(self.hours) <= 0):
            raise ForensicsError("turnout snapshots: reporting hours are not strictly increasing")


@dataclass(frozen=True)
class StationResults:
    """Results of one contest at every polling station.

    ``votes[i, k]`` is the number of valid votes for ``options[k]`` at station ``stations[i]``;
    ``voted`` counts every ballot issued (valid or not), so ``votes.sum(1) <= voted <= registered``
    in clean data (``voted > registered`` is allowed here and flagged by the cleaning step).
    ``registered_known`` is false when the source has no registered voters (an election record):
    ``registered`` then repeats ``voted`` and the turnout-based tests are skipped.
    """

    stations: npt.NDArray[np.str_]
    regions: npt.NDArray[np.str_]
    registered: IntArray
    voted: IntArray
    votes: IntArray
    options: tuple[str, ...]
    snapshots: TurnoutSnapshots | None = field(default=None)
    registered_known: bool = True

    def __post_init__(self) -> None:
        """Check that every array has one entry per station."""
        n = len(self.stations)
        for name in ("regions", "registered", "voted"):
            if len(getattr(self, name)) != n:
                got = len(getattr(self, name))
                raise ForensicsError(f"station results: {name} has {got} entries, not {n}")
        if self.votes.shape != (n, len(self.options)):
            raise ForensicsError(
                f"station results: votes has shape {self.votes.shape}, expected ({n}, {len(self.options)})"
            )
        if len(self.options) < 2:
            raise ForensicsError("station results: at least two options are needed")

    @classmethod
    def from_arrays(
        cls,
        registered: Sequence[int] | IntArray,
        voted: Sequence[int] | IntArray,
        votes: Sequence[Sequence[int]] | IntArray,
        options: Sequence[str],
        stations: Sequence[str] | None = None,
        regions: Sequence[str] | None = None,
        snapshots: TurnoutSnapshots | None = None,
    ) -> StationResults:
        """Build results from plain sequences, numbering stations and using one region if none given."""
        reg = np.asarray(registered, dtype=np.int64)
        n = len(reg)
        ids = np.asarray(stations if stations is not None else [str(i) for i in range(n)], dtype=np.str_)
        regs = np.asarray(regions if regions is not None else ["all"] * n, dtype=np.str_)
        return cls(
            stations=ids,
            regions=regs,
            registered=reg,
            voted=np.asarray(voted, dtype=np.int64),
            votes=np.asarray(votes, dtype=np.int64).reshape(n, len(options)),
            options=tuple(options),
            snapshots=snapshots,
        )

    @property
    def n(self) -> int:
        """Number of stations."""
        return len(self.stations)

    @property
    def valid(self) -> IntArray:
        """Valid votes per station (the base of every published share)."""
        return np.asarray(self.votes.sum(axis=1), dtype=np.int64)

    @property
    def winner_index(self) -> int:
        """Index of the option with the most valid votes nationally."""
        return int(np.argmax(self.votes.sum(axis=0)))

    @property
    def winner(self) -> str:
        """Name of the option with the most valid votes nationally."""
        return self.options[self.winner_index]

    def turnout(self) -> FloatArray:
        """Ballots issued over registered voters, per station."""
        return np.asarray(self.voted / np.maximum(self.registered, 1), dtype=np.float64)

    def winner_share(self) -> FloatArray:
        """The national winner's share of valid votes, per station (0 where nothing is valid)."""
        return np.asarray(self.votes[:, self.winner_index] / np.maximum(self.valid, 1), dtype=np.float64)

    def national_shares(self) -> dict[str, float]:
        """Each option's share of the valid votes nationally."""
        totals = self.votes.sum(axis=0)
        base = max(int(totals.sum()), 1)
        return {o: float(t) / base for o, t in zip(self.options, totals, strict=True)}

    def subset(self, mask: npt.NDArray[np.bool_]) -> StationResults:
        """The stations where ``mask`` is true (snapshots filtered to the same stations)."""
        snaps = self.snapshots
        if snaps is not None:
            keep = np.isin(snaps.stations, self.stations[mask])
            snaps = TurnoutSnapshots(snaps.stations[keep], snaps.hours, snaps.voted[keep])
        return StationResults(
            stations=self.stations[mask],
            regions=self.regions[mask],
            registered=self.registered[mask],
            voted=self.voted[mask],
            votes=self.votes[mask],
            options=self.options,
            snapshots=snaps,
            registered_known=self.registered_known,
        )

    def with_counts(self, voted: IntArray, votes: IntArray) -> StationResults:
        """A copy with new ``voted`` and ``votes`` arrays (used by the fraud injector)."""
        return StationResults(
            stations=self.stations,
            regions=self.regions,
            registered=self.registered,
            voted=np.asarray(voted, dtype=np.int64),
            votes=np.asarray(votes, dtype=np.int64),
            options=self.options,
            snapshots=self.snapshots,
            registered_known=self.registered_known,
        )
