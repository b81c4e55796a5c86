"""A voting device: encrypts ballots, chains their tracking codes, and lets the voter cast or challenge.

Tracking codes are chained per device as ElectionGuard's confirmation codes (EG 2.0 §3.4.4): each code
hashes the previous one and the ballot, starting from the device's opening code; closing the device
publishes a closing code over the last one, so a ballot dropped from the end of the chain is caught.
Cast or challenge is Benaloh's (EG 2.0 §3.6, challenged ballots): after seeing the tracking code the
voter either casts the ballot or challenges it, in which case the device reveals the encryption nonces
and the ballot is published opened and never counted. A device holds at most one undecided ballot at a time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal, cast

from saylau.crypto import (
    BallotSecret,
    ChallengedBallot,
    DeviceChain,
    ElectionParameters,
    EncryptedBallot,
    encrypt_ballot,
    open_challenged_ballot,
)
from saylau.errors import ElectionStateError, RecordError
from saylau.voting.submitted import SubmittedBallot

__all__ = ["CHANNELS", "Channel", "DeviceRecord", "PendingBallot", "VotingDevice"]

Channel = Literal["booth", "remote"]
CHANNELS: tuple[Channel, ...] = ("booth", "remote")


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """What the record publishes about a device: its chain's ends and how many ballots it encrypted.

    ``channel``: ``"booth"`` (a polling station's device, registered by its commission) or ``"remote"``
    (the remote-voting channel of a station); only remote ballots carry revote tags and can be superseded.
    """

    device_id: str
    station_id: str
    opening_code: str
    closing_code: str
    ballot_count: int
    channel: Channel = "booth"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object in ``devices.json``."""
        return {
            "ballot_count": self.ballot_count,
            "channel": self.channel,
            "closing_code": self.closing_code,
            "device_id": self.device_id,
            "opening_code": self.opening_code,
            "station_id": self.station_id,
        }

    @classmethod
    def from_dict(cls, d: Any) -> DeviceRecord:
        """Parse one device entry; raises ``RecordError`` naming the bad field."""
        keys = {"ballot_count", "channel", "closing_code", "device_id", "opening_code", "station_id"}
        if not isinstance(d, dict) or set(d) != keys:
            raise RecordError(f"device entry: expected fields {sorted(keys)}")
        for k in keys - {"ballot_count"}:
            if not isinstance(d[k], str):
                raise RecordError(f"device {d.get('device_id')!r}: {k} is not a string")
        n = d["ballot_count"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise RecordError(f"device {d['device_id']}: ballot_count is not a non-negative integer")
        channel = d["channel"]
        if channel not in CHANNELS:
            raise RecordError(f"device {d['device_id']}: channel {channel!r} is not 'booth' or 'remote'")
        return cls(
            d["device_id"], d["station_id"], d["opening_code"], d["closing_code"], n, cast(Channel, channel)
        )


@dataclass(frozen=True, slots=True)
class PendingBallot:
    """An encrypted ballot shown to the voter (its tracking code) and awaiting cast or challenge."""

    ballot: EncryptedBallot
    secret: BallotSecret
    sequence: int

    @property
    def tracking_code(self) -> str:
        """The code the voter writes down and later finds on the bulletin board."""
        return _code_hex(self.ballot.code)


def _code_hex(code: Any) -> str:
    return code.hex() if isinstance(code, bytes) else str(code)


class VotingDevice:
    """One ballot-marking device (in a polling station, or a remote-voting channel of one).

    ``channel``: ``"booth"`` for a station's device, ``"remote"`` for a station's remote-voting channel
    (whose cast ballots carry the voter's revote tag; ``docs/record-format.md`` §5–§6).
    """

    def __init__(
        self, params: ElectionParameters, device_id: str, station_id: str, channel: Channel = "booth"
    ) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"device {device_id}: channel {channel!r} is not 'booth' or 'remote'")
        self.params = params
        self.device_id = device_id
        self.station_id = station_id
        self.channel: Channel = channel
        self._chain = DeviceChain(device_id, params.base_hash)
        self._opening = _code_hex(self._chain.opening_code)
        self._pending: PendingBallot | None = None
        self._count = 0
        self._closed: DeviceRecord | None = None

    def __repr__(self) -> str:
        return f"VotingDevice({self.device_id!r}, station={self.station_id!r}, ballots={self._count})"

    def encrypt(
        self,
        choices: dict[str, list[str]],
        style_id: str,
        rng: random.Random | None = None,
        revote_tag: bytes | None = None,
    ) -> PendingBallot:
        """Encrypt the voter's choices; the returned ballot must be cast or challenged next.

        ``rng`` defaults to the OS CSPRNG; a seeded ``random.Random`` is for reproducible tests only.
        ``revote_tag``: a remote voter's tag from the revote service (``BallotBox.revote_tag``).
        """
        if self._closed is not None:
            raise ElectionStateError(f"device {self.device_id}: closed, cannot encrypt")
        if self._pending is not None:
            raise ElectionStateError(
                f"device {self.device_id}: ballot {self._pending.ballot.ballot_id} awaits cast or challenge"
            )
        ballot_id = f"{self.device_id}-{self._count:06d}"
        ballot, secret = encrypt_ballot(
            self.params, ballot_id, style_id, choices, self._chain, rng=rng, revote_tag=revote_tag
        )
        self._pending = PendingBallot(ballot, secret, self._count)
        self._count += 1
        return self._pending

    def _take(self, pending: PendingBallot) -> PendingBallot:
        if self._pending is None or pending.ballot.ballot_id != self._pending.ballot.ballot_id:
            raise ElectionStateError(
                f"device {self.device_id}: ballot {pending.ballot.ballot_id} is not the pending ballot"
            )
        self._pending = None
        return pending

    def cast(self, pending: PendingBallot) -> SubmittedBallot:
        """The voter casts: the ballot goes to the box (the nonces are forgotten)."""
        p = self._take(pending)
        return SubmittedBallot(p.ballot, self.station_id, self.device_id, p.sequence, "cast")

    def challenge(self, pending: PendingBallot) -> tuple[SubmittedBallot, ChallengedBallot]:
        """The voter challenges: the ballot is opened for publication and never counted."""
        p = self._take(pending)
        opened = open_challenged_ballot(self.params, p.ballot, p.secret)
        return SubmittedBallot(p.ballot, self.station_id, self.device_id, p.sequence, "challenged"), opened

    def close(self) -> DeviceRecord:
        """Close the chain; a pending ballot must be decided first."""
        if self._pending is not None:
            raise ElectionStateError(
                f"device {self.device_id}: ballot {self._pending.ballot.ballot_id} still pending at close"
            )
        if self._closed is None:
            closing = _code_hex(self._chain.close())
            self._closed = DeviceRecord(
                self.device_id, self.station_id, self._opening, closing, self._count, self.channel
            )
        return self._closed
