"""Every device's tracking-code chain, walked from its opening code to its closing code.

In ``ballots.jsonl`` a device's ballots (cast, superseded and challenged) are contiguous, the devices
come in ``devices.json`` order and the sequence numbers count from 0 on each device. ``DeviceChains``
holds one device's ballots at a time and checks each chain with ``verify_device_chain`` as soon as the
device's last ballot has been read; a device without ballots must have an empty chain.
"""

from __future__ import annotations

from saylau.crypto import EncryptedBallot, verify_device_chain
from saylau.record import format as fmt
from saylau.record.verifier.entries import BallotLine, DeviceEntry
from saylau.record.verifier.state import VerifyState
from saylau.record.verifier.table import CheckResult, fail

__all__ = ["DeviceChains", "check_chains"]


class DeviceChains:
    """Groups the ballot pass's ballots by device and walks each device's chain; ``walked`` counts them."""

    def __init__(self, devices: dict[str, DeviceEntry], base_hash: bytes, check: CheckResult) -> None:
        """``devices`` in ``devices.json`` order; failures are reported under ``check``."""
        self.devices, self.base_hash, self.check = devices, base_hash, check
        self.walked = 0
        self._order = {dev_id: i for i, dev_id in enumerate(devices)}
        self._last_order = -1
        self._done: set[str] = set()
        self._current: str | None = None
        self._group: list[EncryptedBallot] = []

    def add(self, sb: BallotLine, where: str) -> None:
        """The next ballot of the file (its device is known): contiguity, device order, sequence."""
        if sb.device_id != self._current:
            self.close_device()
            if sb.device_id in self._done:
                raise fail(self.check, f"{where}: its device's ballots are not contiguous")
            if self._order[sb.device_id] < self._last_order:
                raise fail(self.check, f"{where}: its device is out of {fmt.DEVICES} order")
            self._last_order = self._order[sb.device_id]
            self._done.add(sb.device_id)
            self._current, self._group = sb.device_id, []
        if sb.sequence != len(self._group):
            expected = len(self._group)
            raise fail(self.check, f"{where}: sequence {sb.sequence}, expected {expected} on its device")
        self._group.append(sb.ballot)

    def close_device(self) -> None:
        """Walk the current device's chain (its ballot count and closing code from ``devices.json``)."""
        if self._current is None:
            return
        dev = self.devices[self._current]
        if len(self._group) != dev.ballot_count:
            raise fail(
                self.check,
                f"device {self._current}: {len(self._group)} ballots, devices.json says {dev.ballot_count}",
            )
        verify_device_chain(self._current, self.base_hash, self._group, bytes.fromhex(dev.closing_code))
        self.walked += 1

    def walk_devices_without_ballots(self) -> None:
        """After the file: a device with no ballot must say so, and its chain is the empty one."""
        for dev_id, dev in self.devices.items():
            if dev_id not in self._done:
                if dev.ballot_count != 0:
                    raise fail(
                        self.check,
                        f"device {dev_id}: no ballots in {fmt.BALLOTS}, devices.json says {dev.ballot_count}",
                    )
                verify_device_chain(dev_id, self.base_hash, [], bytes.fromhex(dev.closing_code))
                self.walked += 1


def check_chains(s: VerifyState, check: CheckResult) -> None:
    """Report the chains the ballot pass walked."""
    check.count = s.chains
    check.detail = "closing codes match"
