"""Domain-separated SHA-256: the hash ``H`` of ElectionGuard 2.0 §5 (hash computation), made unambiguous.

Every hash starts with a purpose tag; every part is written as a type byte, and variable-length parts carry
a 4-byte big-endian length, so no two different part lists encode to the same bytes (ElectionGuard 1.x
joined ``str()`` values with ``|``, which is ambiguous). Accepted parts: ``bytes``, non-negative ``int``
below 2^256 (32 bytes big-endian), ``Point`` (33-byte canonical encoding) and ``str`` (UTF-8). Anything else
raises ``TypeError``; there is no ``str()`` fallback.
"""

from __future__ import annotations

import hashlib

from saylau.crypto.hazmat.group import Point, Q

__all__ = ["HashPart", "hash_bytes", "hash_to_scalar"]

HashPart = bytes | int | Point | str

_TWO_256 = 1 << 256


def _feed(h: hashlib._Hash, tag: str, parts: tuple[HashPart, ...]) -> None:
    t = tag.encode()
    h.update(len(t).to_bytes(4, "big") + t)
    for p in parts:
        if isinstance(p, Point):
            h.update(b"P" + p.to_bytes())
        elif isinstance(p, bytes):
            h.update(b"B" + len(p).to_bytes(4, "big") + p)
        elif isinstance(p, bool):
            raise TypeError("hash part: bool is ambiguous; pass an int")
        elif isinstance(p, int):
            if not 0 <= p < _TWO_256:
                raise ValueError(f"hash part: int out of range [0, 2^256): {p}")
            h.update(b"I" + p.to_bytes(32, "big"))
        elif isinstance(p, str):
            s = p.encode()
            h.update(b"S" + len(s).to_bytes(4, "big") + s)
        else:
            raise TypeError(f"hash part: unsupported type {type(p).__name__}")


def hash_bytes(tag: str, *parts: HashPart) -> bytes:
    """Return SHA-256 over the tag and the length-prefixed parts (32 bytes)."""
    h = hashlib.sha256()
    _feed(h, tag, parts)
    return h.digest()


def hash_to_scalar(tag: str, *parts: HashPart) -> int:
    """Return the hash reduced mod ``q`` (EG 2.0 §3.3.5 challenges); the bias is below 2^-127."""
    return int.from_bytes(hash_bytes(tag, *parts), "big") % Q
