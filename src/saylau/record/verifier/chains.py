"""Every device's tracking-code chain, walked from its opening code to its closing code.

``ballots.jsonl`` is in board order, so the devices' chains interleave: ``DeviceChains`` keeps, per
device, the last tracking code and the number of ballots so far (memory grows with the devices, not
the ballots). Each ballot must carry the next sequence of its device, link to the device's previous
code and carry ``code = H(previous code, ballot hash)``; after the file every device's count and
closing code must be those of ``devices.json`` (a device without ballots has the empty chain).
"""

from __future__ import annotations

from typing import Any

from saylau.crypto.tracking import closing_code, opening_code
from saylau.record.verifier.entries import DeviceEntry
from saylau.record.verifier.lines import LineFacts
from saylau.record.verifier.state import VerifyState
from saylau.record.verifier.table import CheckResult, fail

__all__ = ["DeviceChains", "check_chains"]


class DeviceChains:
    """Walks every device's chain as its ballots come; ``heads`` is what an incremental run resumes from."""

    def __init__(self, devices: dict[str, DeviceEntry], base_hash: bytes, check: CheckResult) -> None:
        """``devices`` from ``devices.json``; failures are reported under ``check``."""
        self.devices, self.base_hash, self.check = devices, base_hash, check
        self.heads: dict[str, tuple[bytes, int]] = {}  # device id -> (last code, ballots so far)

    def __contains__(self, ballot_id: object) -> bool:
        """Whether the ballot id names a ballot already read (``<device id>-<sequence>``)."""
        if not isinstance(ballot_id, str) or "-" not in ballot_id:
            return False
        device, _, seq = ballot_id.rpartition("-")
        head = self.heads.get(device)
        return head is not None and seq.isdigit() and int(seq) < head[1]

    def dump(self) -> dict[str, list[Any]]:
        """JSON form of the chain heads (an incremental verification's saved state)."""
        return {dev: [code.hex(), count] for dev, (code, count) in self.heads.items()}

    def restore(self, d: dict[str, list[Any]]) -> None:
        """Take the chain heads back from ``dump``'s form."""
        self.heads = {dev: (bytes.fromhex(code), int(count)) for dev, (code, count) in d.items()}

    def add(self, f: LineFacts, where: str) -> None:
        """The next ballot of its device: sequence, link to the previous code, its own tracking code.

        ``f.code_ok`` (``code = H(previous_code, ballot hash)``) was computed in a worker (``lines``);
        with ``previous_code`` equal to the device's preceding code, that is ``H(preceding code, hash)``.
        """
        prev, count = self.heads.get(f.device_id) or (opening_code(f.device_id, self.base_hash), 0)
        if f.sequence != count:
            raise fail(self.check, f"{where}: sequence {f.sequence}, expected {count} on its device")
        if f.previous_code != prev:
            raise fail(
                self.check,
                f"{where}: previous_code does not match the preceding code on {f.device_id} "
                "(a ballot is missing, added or out of order)",
            )
        if not f.code_ok:
            raise fail(self.check, f"{where}: tracking code is not H(previous code, ballot hash)")
        self.heads[f.device_id] = (bytes.fromhex(f.code), count + 1)

    def close_all(self) -> int:
        """After the file: every device's count and closing code; returns the number of chains walked."""
        for dev_id, dev in self.devices.items():
            prev, count = self.heads.get(dev_id) or (opening_code(dev_id, self.base_hash), 0)
            if count != dev.ballot_count:
                raise fail(
                    self.check, f"device {dev_id}: {count} ballots, devices.json says {dev.ballot_count}"
                )
            if closing_code(dev_id, self.base_hash, prev, count) != bytes.fromhex(dev.closing_code):
                raise fail(
                    self.check,
                    f"device {dev_id}: closing hash does not match the chain of {count} ballots "
                    "(a ballot is missing from or added to the end)",
                )
        return len(self.devices)


def check_chains(s: VerifyState, check: CheckResult) -> None:
    """Report the chains the ballot pass walked."""
    check.count = s.chains
    check.detail = "closing codes match"
