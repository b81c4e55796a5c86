"""Tracking codes chained per device, with an opening and a closing hash (EG 2.0 §3.4.4).

Each device starts from ``H_0 = H(base hash, device id)``; ballot ``j`` gets the code
``H_j = H(H_(j−1), ballot hash)`` and carries ``H_(j−1)`` as its ``previous_code``. When the device closes it
publishes ``H(base hash, device id, H_last, count)``. A ballot removed from the middle breaks a link, a
reordering breaks a link, and a ballot removed from the *end* no longer matches the closing hash — the case
ElectionGuard's Python implementation misses because it never computes the closing hash.
"""

from __future__ import annotations

from collections.abc import Iterable

from saylau.crypto.ballot_types import EncryptedBallot, tracking_code
from saylau.crypto.hazmat.hashing import hash_bytes
from saylau.errors import InvalidBallot

__all__ = ["DeviceChain", "closing_code", "opening_code", "tracking_code", "verify_device_chain"]

_OPEN_TAG = "saylau/v1/chain-open"
_CLOSE_TAG = "saylau/v1/chain-close"


def opening_code(device_id: str, base_hash: bytes) -> bytes:
    """``H_0`` of a device's chain."""
    return hash_bytes(_OPEN_TAG, base_hash, device_id)


def closing_code(device_id: str, base_hash: bytes, last_code: bytes, count: int) -> bytes:
    """The closing hash over the last code and the number of ballots in the chain."""
    return hash_bytes(_CLOSE_TAG, base_hash, device_id, last_code, count)


class DeviceChain:
    """The running state of one device's chain (not thread-safe: one device, one chain)."""

    def __init__(self, device_id: str, base_hash: bytes) -> None:
        if not device_id:
            raise ValueError("device chain: empty device id")
        self.device_id = device_id
        self.base_hash = base_hash
        self.opening_code = opening_code(device_id, base_hash)
        self.last_code = self.opening_code
        self.count = 0
        self.closed = False

    @classmethod
    def resume(cls, device_id: str, base_hash: bytes, last_code: bytes, count: int) -> DeviceChain:
        """Rebuild a chain's state from storage (last code and number of ballots so far)."""
        chain = cls(device_id, base_hash)
        chain.last_code, chain.count = last_code, count
        return chain

    def next(self, ballot_hash: bytes) -> bytes:
        """Append a ballot hash and return its tracking code."""
        if self.closed:
            raise ValueError(f"device {self.device_id}: chain already closed")
        self.last_code = tracking_code(self.last_code, ballot_hash)
        self.count += 1
        return self.last_code

    def close(self) -> bytes:
        """Close the chain and return its closing code."""
        self.closed = True
        return closing_code(self.device_id, self.base_hash, self.last_code, self.count)


def verify_device_chain(
    device_id: str, base_hash: bytes, ballots_in_order: Iterable[EncryptedBallot], closing: bytes
) -> None:
    """Walk a device's ballots (cast and challenged, in order) and check every link and the closing hash.

    Raises ``InvalidBallot`` naming the first ballot whose link is wrong, or the device if the closing hash
    does not match (a ballot missing from the end).
    """
    prev = opening_code(device_id, base_hash)
    count = 0
    for b in ballots_in_order:
        if b.previous_code != prev:
            raise InvalidBallot(
                f"ballot {b.ballot_id}: previous_code does not match the preceding code on {device_id} "
                "(a ballot is missing, added or out of order)"
            )
        if b.code != tracking_code(prev, b.crypto_hash()):
            raise InvalidBallot(f"ballot {b.ballot_id}: tracking code is not H(previous code, ballot hash)")
        prev = b.code
        count += 1
    if closing_code(device_id, base_hash, prev, count) != closing:
        raise InvalidBallot(
            f"device {device_id}: closing hash does not match the chain of {count} ballots "
            "(a ballot is missing from or added to the end)"
        )
