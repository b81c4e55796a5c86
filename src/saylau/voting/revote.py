"""Revote slots: the last remote vote of a voter counts, without the record naming the voter.

The remote-voting service derives a slot from the voter's credential with a key only it holds
(HMAC-SHA256, RFC 2104). Two ballots of the same voter share a slot, so the service can mark the earlier
one superseded; the slot itself and the key never leave the service, so the record shows only "ballot A
was superseded by ballot B". A voter coerced into showing a ballot (a selfie for an employer) can vote
again later; the shown ballot proves nothing about the counted one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["RevoteSlots"]

_TAG = b"saylau/revote-slot/v1\x00"


class RevoteSlots:
    """Derives per-voter slots and remembers the ballot currently counted for each slot."""

    __slots__ = ("_current", "_key")

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        if len(self._key) < 16:
            raise ValueError("revote slot key must be at least 16 bytes")
        self._current: dict[bytes, str] = {}

    def __repr__(self) -> str:
        return f"RevoteSlots({len(self._current)} slots)"  # never the key

    def slot(self, voter_credential: bytes) -> bytes:
        """The slot of a voter credential: HMAC-SHA256(key, tag || credential)."""
        return hmac.new(self._key, _TAG + voter_credential, hashlib.sha256).digest()

    def current(self, voter_credential: bytes) -> str | None:
        """The ballot currently counted for this voter's slot, if the voter has voted remotely."""
        return self._current.get(self.slot(voter_credential))

    def replace(self, voter_credential: bytes, ballot_id: str) -> str | None:
        """Record ``ballot_id`` as the voter's counted ballot; return the ballot it supersedes, if any."""
        s = self.slot(voter_credential)
        previous = self._current.get(s)
        self._current[s] = ballot_id
        return previous
