"""A ballot as the ballot box publishes it: the encrypted ballot plus where it came from and its state.

The record never links a ballot to a voter: it carries the station and the device that encrypted it,
its position in that device's tracking-code chain, and its state. A ballot replaced by a later remote
vote of the same voter is ``superseded`` and names only the ballot that replaced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

from saylau.crypto import EncryptedBallot
from saylau.errors import RecordError

__all__ = ["BallotState", "SubmittedBallot"]

BallotState = Literal["cast", "challenged", "superseded"]
_STATES: tuple[BallotState, ...] = ("cast", "challenged", "superseded")


@dataclass(frozen=True, slots=True)
class SubmittedBallot:
    """One line of ``ballots.jsonl``."""

    ballot: EncryptedBallot
    station_id: str
    device_id: str
    sequence: int
    state: BallotState
    superseded_by: str | None = None

    @property
    def ballot_id(self) -> str:
        """The encrypted ballot's identifier."""
        return str(self.ballot.ballot_id)

    def __post_init__(self) -> None:
        if self.state not in _STATES:
            raise ValueError(f"ballot {self.ballot.ballot_id}: unknown state {self.state!r}")
        if (self.state == "superseded") != (self.superseded_by is not None):
            raise ValueError(
                f"ballot {self.ballot.ballot_id}: superseded_by must be set exactly when superseded"
            )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this record line."""
        return {
            "ballot": self.ballot.to_dict(),
            "device_id": self.device_id,
            "sequence": self.sequence,
            "state": self.state,
            "station_id": self.station_id,
            "superseded_by": self.superseded_by,
        }

    @classmethod
    def from_dict(cls, d: Any) -> SubmittedBallot:
        """Parse a record line; raises ``RecordError``/``InvalidBallot`` naming the bad field."""
        if not isinstance(d, dict):
            raise RecordError("ballot line: not a JSON object")
        expected = {"ballot", "device_id", "sequence", "state", "station_id", "superseded_by"}
        if set(d) != expected:
            raise RecordError(f"ballot line: fields {sorted(d)} differ from {sorted(expected)}")
        ballot = EncryptedBallot.from_dict(d["ballot"])
        for key in ("device_id", "station_id"):
            if not isinstance(d[key], str):
                raise RecordError(f"ballot {ballot.ballot_id}: {key} is not a string")
        seq = d["sequence"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise RecordError(f"ballot {ballot.ballot_id}: sequence is not a non-negative integer")
        if d["state"] not in _STATES:
            raise RecordError(f"ballot {ballot.ballot_id}: unknown state {d['state']!r}")
        sup = d["superseded_by"]
        if sup is not None and not isinstance(sup, str):
            raise RecordError(f"ballot {ballot.ballot_id}: superseded_by is not a string or null")
        try:
            return cls(ballot, d["station_id"], d["device_id"], seq, cast(BallotState, d["state"]), sup)
        except ValueError as exc:
            raise RecordError(str(exc)) from exc
