"""The verifier's own parsers of a ``devices.json`` entry and a ``ballots.jsonl`` line.

Written from ``docs/record-format.md`` §5 and §6, not shared with the writing side (``saylau.voting``),
so that a mistake in the writer's serialisation is caught here instead of being repeated: each object
must have exactly the documented fields, each of its documented type. The encrypted ballot inside a
line is parsed by the crypto layer (``EncryptedBallot.from_dict``), which the format names as the
ballot's encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

from saylau.crypto import EncryptedBallot
from saylau.errors import RecordError

__all__ = ["CHANNELS", "BallotLine", "Channel", "DeviceEntry", "LineState", "parse_opening"]

Channel = Literal["booth", "remote"]
CHANNELS: tuple[Channel, ...] = ("booth", "remote")
LineState = Literal["cast", "challenged", "superseded"]
_STATES: tuple[LineState, ...] = ("cast", "challenged", "superseded")
_DEVICE_FIELDS = frozenset(
    {"ballot_count", "channel", "closing_code", "device_id", "opening_code", "station_id"}
)
_OPENING_FIELDS = frozenset({"ballot_id", "ballot_nonce", "choices"})
_LINE_FIELDS = frozenset({"ballot", "device_id", "sequence", "state", "station_id", "superseded_by"})


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    """One entry of ``devices.json`` (§5): a device, its station and channel, its chain's two ends."""

    device_id: str
    station_id: str
    channel: Channel
    opening_code: str
    closing_code: str
    ballot_count: int

    @classmethod
    def parse(cls, d: Any) -> DeviceEntry:
        """Parse one entry; ``RecordError`` naming the device and the field."""
        if not isinstance(d, dict):
            raise RecordError("device entry: not a JSON object")
        who = f"device {str(d.get('device_id'))[:80]!r}"
        if set(d) != _DEVICE_FIELDS:
            missing, extra = sorted(_DEVICE_FIELDS - set(d)), sorted(set(d) - _DEVICE_FIELDS)
            raise RecordError(f"{who}: missing fields {missing}, unexpected fields {extra}")
        for k in ("device_id", "station_id", "opening_code", "closing_code"):
            if not isinstance(d[k], str):
                raise RecordError(f"{who}: {k} is not a string")
        if d["channel"] not in CHANNELS:
            raise RecordError(f"{who}: channel {str(d['channel'])[:40]!r} is not 'booth' or 'remote'")
        if not _count(d["ballot_count"]):
            raise RecordError(f"{who}: ballot_count is not a non-negative integer")
        return cls(
            d["device_id"],
            d["station_id"],
            cast(Channel, d["channel"]),
            d["opening_code"],
            d["closing_code"],
            d["ballot_count"],
        )


@dataclass(frozen=True, slots=True)
class BallotLine:
    """One line of ``ballots.jsonl`` (§6): the encrypted ballot, where it was made, its state."""

    ballot: EncryptedBallot
    device_id: str
    station_id: str
    sequence: int
    state: LineState
    superseded_by: str | None

    @property
    def ballot_id(self) -> str:
        """The encrypted ballot's id."""
        return self.ballot.ballot_id

    @classmethod
    def parse(cls, d: Any) -> BallotLine:
        """Parse one line; ``RecordError`` (or ``InvalidBallot`` for the ballot) naming the field."""
        if not isinstance(d, dict):
            raise RecordError("ballot line: not a JSON object")
        if set(d) != _LINE_FIELDS:
            raise RecordError(f"ballot line: fields {sorted(d)} differ from {sorted(_LINE_FIELDS)}")
        ballot = EncryptedBallot.from_dict(d["ballot"])
        who = f"ballot {ballot.ballot_id}"
        for k in ("device_id", "station_id"):
            if not isinstance(d[k], str):
                raise RecordError(f"{who}: {k} is not a string")
        if not _count(d["sequence"]):
            raise RecordError(f"{who}: sequence is not a non-negative integer")
        state, succ = d["state"], d["superseded_by"]
        if state not in _STATES:
            raise RecordError(f"{who}: unknown state {str(state)[:40]!r}")
        if succ is not None and not isinstance(succ, str):
            raise RecordError(f"{who}: superseded_by is not a string or null")
        if (state == "superseded") != (succ is not None):
            raise RecordError(f"{who}: superseded_by must be set exactly when the state is superseded")
        return cls(ballot, d["device_id"], d["station_id"], d["sequence"], cast(LineState, state), succ)


def parse_opening(d: Any, ballot_id: str) -> dict[str, Any]:
    """One ``challenged.jsonl`` line (§7), which must open ``ballot_id``; ``RecordError`` naming the field.

    The nonce and choices are parsed with the ballot by ``ChallengedBallot.from_dict``.
    """
    if not isinstance(d, dict) or set(d) != _OPENING_FIELDS:
        fields = sorted(d) if isinstance(d, dict) else "not an object"
        raise RecordError(
            f"opening of ballot {ballot_id}: fields {fields} differ from {sorted(_OPENING_FIELDS)}"
        )
    if d["ballot_id"] != ballot_id:
        raise RecordError(
            f"opening of ballot {str(d['ballot_id'])[:80]}: the next challenged ballot of ballots.jsonl is "
            f"{ballot_id} (openings come in the same order)"
        )
    return d
