"""The ballot box: accepts submitted ballots, checks them, applies remote revoting, publishes on the board.

Every ballot that reaches the box stays on the record in submission order per device: cast ballots are
counted, challenged ones are published opened, and a remote ballot replaced by a later one of the same
voter becomes ``superseded`` (naming its successor) and is not counted. With a bulletin board, the box
publishes each accepted ballot, challenge and supersession as it happens (the server's payloads, from
``saylau.voting.publish``), and every device's closing code when voting closes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from saylau.board import BulletinBoard
from saylau.crypto import ChallengedBallot, ElectionParameters, verify_ballot
from saylau.errors import ElectionStateError, InvalidBallot
from saylau.voting.device import DeviceRecord
from saylau.voting.publish import closed_payload, published_ballot, published_challenge, superseded_payload
from saylau.voting.revote import RevoteSlots
from saylau.voting.submitted import SubmittedBallot

__all__ = ["BallotBox"]


class BallotBox:
    """Collects the election's submitted ballots, challenged openings and device records."""

    def __init__(
        self,
        params: ElectionParameters,
        verify: bool = True,
        revote_key: bytes | None = None,
        board: BulletinBoard | None = None,
    ) -> None:
        """``revote_key``: the revote service's secret; ``board``: where accepted ballots are published."""
        self.params = params
        self.verify = verify
        self.board = board
        self._ballots: dict[str, SubmittedBallot] = {}
        self._challenged: list[ChallengedBallot] = []
        self._devices: dict[str, DeviceRecord] = {}
        self._slots = RevoteSlots(revote_key, context=params.base_hash)
        self._voting_closed = False

    def __len__(self) -> int:
        return len(self._ballots)

    def revote_tag(self, voter_credential: bytes) -> bytes:
        """The tag a remote voter's device puts in each of the voter's ballots (same for all of them)."""
        return self._slots.slot(voter_credential)

    def _admit(self, sb: SubmittedBallot) -> None:
        if self._voting_closed:
            raise ElectionStateError(f"ballot {sb.ballot_id}: voting is closed")
        if sb.ballot_id in self._ballots:
            raise InvalidBallot(f"ballot {sb.ballot_id}: already in the ballot box")
        if sb.device_id in self._devices:
            raise ElectionStateError(f"ballot {sb.ballot_id}: device {sb.device_id} is already closed")
        if self.verify:
            verify_ballot(self.params, sb.ballot)
        self._ballots[sb.ballot_id] = sb

    def cast(self, sb: SubmittedBallot, voter_credential: bytes | None = None) -> str | None:
        """Accept a cast ballot; with a remote voter's credential, supersede that voter's previous ballot.

        A ballot carrying a revote tag needs the credential it was derived from (a tag that is not the
        voter's is refused); an untagged ballot with a credential is a legacy revote whose link only the
        board binds. Returns the id of the ballot it superseded, if any.
        """
        if sb.state != "cast":
            raise ValueError(f"ballot {sb.ballot_id}: cast() needs a cast ballot, got {sb.state}")
        tag = sb.ballot.revote_tag
        if tag is not None and (voter_credential is None or tag != self.revote_tag(voter_credential)):
            raise InvalidBallot(f"ballot {sb.ballot_id}: revote tag is not the casting voter's")
        earlier = None if voter_credential is None else self._slots.current(voter_credential)
        if earlier is not None and self._ballots[earlier].station_id != sb.station_id:
            raise ElectionStateError(
                f"ballot {sb.ballot_id}: a revote must stay at the voter's station "
                f"{self._ballots[earlier].station_id}"
            )
        if earlier is not None and self._ballots[earlier].ballot.revote_tag != tag:
            raise InvalidBallot(f"ballot {sb.ballot_id}: revote tag differs from the voter's earlier ballot")
        self._admit(sb)
        previous = None if voter_credential is None else self._slots.replace(voter_credential, sb.ballot_id)
        if previous is not None:
            old = self._ballots[previous]
            self._ballots[previous] = dataclasses.replace(old, state="superseded", superseded_by=sb.ballot_id)
            if self.board is not None:
                code = old.ballot.code.hex()
                self.board.append("superseded", superseded_payload(previous, code, sb.ballot_id), code=code)
        if self.board is not None:
            self.board.append("ballot", published_ballot(sb), code=sb.ballot.code.hex())
        return previous

    def challenge(self, sb: SubmittedBallot, opened: ChallengedBallot) -> None:
        """Accept a challenged ballot and its opening (published, never counted)."""
        if sb.state != "challenged":
            raise ValueError(f"ballot {sb.ballot_id}: challenge() needs a challenged ballot, got {sb.state}")
        self._admit(sb)
        self._challenged.append(opened)
        if self.board is not None:
            self.board.append("challenge", published_challenge(opened, sb), code=sb.ballot.code.hex())

    def close_device(self, record: DeviceRecord) -> None:
        """Record a device's closing code; the device may submit nothing after this."""
        self._devices[record.device_id] = record

    def close_voting(self) -> list[DeviceRecord]:
        """Close the box: publish every device's closing code and ballot count on the board."""
        if self._voting_closed:
            raise ElectionStateError("ballot box: voting is already closed")
        self._voting_closed = True
        devices = self.devices()
        if self.board is not None:
            at = self.board.clock().isoformat()  # the board's time: the simulated day's in the demo
            self.board.append("phase", closed_payload(devices, at))
        return devices

    def ballots(self) -> Iterator[SubmittedBallot]:
        """Every submitted ballot, grouped by device and in chain order (the record's order)."""
        yield from sorted(self._ballots.values(), key=lambda b: (b.device_id, b.sequence))

    def challenged(self) -> list[ChallengedBallot]:
        """The openings of challenged ballots, in submission order."""
        return list(self._challenged)

    def devices(self) -> list[DeviceRecord]:
        """Closed devices, by id."""
        return [self._devices[k] for k in sorted(self._devices)]
