"""Revote tags: the last remote vote of a voter counts, and the record can prove which one that is.

The remote-voting service derives a tag from the voter's credential and the election's base hash with a
key only it holds (HMAC-SHA-256, RFC 2104). The voter's device puts the tag inside every remote ballot
it encrypts, before the tracking code is computed (``EncryptedBallot.revote_tag``), so the tag is bound
to the code the voter keeps. All ballots of one voter share the tag, and nobody without the key can tell
whose tag it is; the verifier then checks that in each tag group exactly the last ballot counts and
every earlier one is superseded by the next (``docs/record-format.md`` §6.7), so a "superseded by"
link cannot be redirected to another voter's ballot.

Coercion: a coerced voter can still vote again until the polls close, so a ballot shown under pressure
proves nothing about the counted one; the tag says only that the shown ballot and the later one are the
same voter's, which the published "superseded" link says already. Revoting does not hide that it
happened: a coercer who noted the tracking code sees it superseded on the public board. Nor does it help
against a coercer who holds the credential, or the voter, until the close.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["RevoteSlots"]

_TAG = b"saylau/revote-tag/v1\x00"


class RevoteSlots:
    """Derives per-voter revote tags and remembers the ballot currently counted for each tag."""

    __slots__ = ("_context", "_current", "_key")

    def __init__(self, key: bytes | None = None, context: bytes = b"") -> None:
        """``key``: the service's secret (random if omitted); ``context``: the election's base hash."""
        self._key = key if key is not None else secrets.token_bytes(32)
        if len(self._key) < 16:
            raise ValueError("revote tag key must be at least 16 bytes")
        self._context = len(context).to_bytes(4, "big") + context
        self._current: dict[bytes, str] = {}

    def __repr__(self) -> str:
        return f"RevoteSlots({len(self._current)} voters)"  # never the key

    def slot(self, voter_credential: bytes) -> bytes:
        """The voter's 32-byte revote tag: HMAC-SHA256(key, tag ‖ len(context) ‖ context ‖ credential)."""
        return hmac.new(self._key, _TAG + self._context + voter_credential, hashlib.sha256).digest()

    def current(self, voter_credential: bytes) -> str | None:
        """The ballot currently counted for this voter, if the voter has voted remotely."""
        return self._current.get(self.slot(voter_credential))

    def replace(self, voter_credential: bytes, ballot_id: str) -> str | None:
        """Record ``ballot_id`` as the voter's counted ballot; return the ballot it supersedes, if any."""
        s = self.slot(voter_credential)
        previous = self._current.get(s)
        self._current[s] = ballot_id
        return previous
