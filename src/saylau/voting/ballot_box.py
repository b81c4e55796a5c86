"""The ballot box: accepts submitted ballots, checks them, and applies remote revoting.

Every ballot that reaches the box stays on the record in submission order per device: cast ballots are
counted, challenged ones are published opened, and a remote ballot replaced by a later one of the same
voter becomes ``superseded`` (naming its successor) and is not counted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from saylau.crypto import ChallengedBallot, ElectionParameters, verify_ballot
from saylau.errors import ElectionStateError, InvalidBallot
from saylau.voting.device import DeviceRecord
from saylau.voting.revote import RevoteSlots
from saylau.voting.submitted import SubmittedBallot

__all__ = ["BallotBox"]


class BallotBox:
    """Collects the election's submitted ballots, challenged openings and device records."""

    def __init__(
        self, params: ElectionParameters, verify: bool = True, revote_key: bytes | None = None
    ) -> None:
        self.params = params
        self.verify = verify
        self._ballots: dict[str, SubmittedBallot] = {}
        self._challenged: list[ChallengedBallot] = []
        self._devices: dict[str, DeviceRecord] = {}
        self._slots = RevoteSlots(revote_key)

    def __len__(self) -> int:
        return len(self._ballots)

    def _admit(self, sb: SubmittedBallot) -> None:
        if sb.ballot_id in self._ballots:
            raise InvalidBallot(f"ballot {sb.ballot_id}: already in the ballot box")
        if sb.device_id in self._devices:
            raise ElectionStateError(f"ballot {sb.ballot_id}: device {sb.device_id} is already closed")
        if self.verify:
            verify_ballot(self.params, sb.ballot)
        self._ballots[sb.ballot_id] = sb

    def cast(self, sb: SubmittedBallot, voter_credential: bytes | None = None) -> str | None:
        """Accept a cast ballot; with a remote voter's credential, supersede that voter's previous ballot.

        Returns the id of the ballot it superseded, if any.
        """
        if sb.state != "cast":
            raise ValueError(f"ballot {sb.ballot_id}: cast() needs a cast ballot, got {sb.state}")
        earlier = None if voter_credential is None else self._slots.current(voter_credential)
        if earlier is not None and self._ballots[earlier].station_id != sb.station_id:
            raise ElectionStateError(
                f"ballot {sb.ballot_id}: a revote must stay at the voter's station "
                f"{self._ballots[earlier].station_id}"
            )
        self._admit(sb)
        if voter_credential is None:
            return None
        previous = self._slots.replace(voter_credential, sb.ballot_id)
        if previous is not None:
            old = self._ballots[previous]
            self._ballots[previous] = dataclasses.replace(old, state="superseded", superseded_by=sb.ballot_id)
        return previous

    def challenge(self, sb: SubmittedBallot, opened: ChallengedBallot) -> None:
        """Accept a challenged ballot and its opening (published, never counted)."""
        if sb.state != "challenged":
            raise ValueError(f"ballot {sb.ballot_id}: challenge() needs a challenged ballot, got {sb.state}")
        self._admit(sb)
        self._challenged.append(opened)

    def close_device(self, record: DeviceRecord) -> None:
        """Record a device's closing code; the device may submit nothing after this."""
        self._devices[record.device_id] = record

    def ballots(self) -> Iterator[SubmittedBallot]:
        """Every submitted ballot, grouped by device and in chain order (the record's order)."""
        yield from sorted(self._ballots.values(), key=lambda b: (b.device_id, b.sequence))

    def challenged(self) -> list[ChallengedBallot]:
        """The openings of challenged ballots, in submission order."""
        return list(self._challenged)

    def devices(self) -> list[DeviceRecord]:
        """Closed devices, by id."""
        return [self._devices[k] for k in sorted(self._devices)]
