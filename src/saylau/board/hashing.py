"""Domain-separated hashing of canonical JSON for the bulletin board.

Every hash the board publishes is SHA-256 over a length-prefixed purpose tag followed by the
length-prefixed RFC 8785 (JCS) canonical JSON of the object, so that a payload hash can never be
confused with an entry hash or a checkpoint statement, and any third party can recompute it in any
language from docs/board-format.md alone.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from saylau.canonical import plain_json

__all__ = [
    "TAG_CHECKPOINT",
    "TAG_ENTRY",
    "TAG_GENESIS",
    "TAG_PAYLOAD",
    "canonical_json",
    "canonical_object",
    "tagged_hash",
    "tagged_hash_bytes",
]

TAG_PAYLOAD = b"saylau/board/v1/payload"
TAG_ENTRY = b"saylau/board/v1/entry"
TAG_GENESIS = b"saylau/board/v1/genesis"
TAG_CHECKPOINT = b"saylau/board/v1/checkpoint"


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 canonical bytes of a JSON-able object; ``ValueError`` if it is not JSON-able.

    Board payloads and entry headers are plain ASCII JSON (``saylau.canonical.plain_json``), serialised
    by the standard library's C encoder; everything else by the ``rfc8785`` serialiser.
    """
    fast = plain_json(obj)
    if fast is not None:
        return fast
    try:
        return bytes(rfc8785.dumps(obj))
    except (TypeError, rfc8785.CanonicalizationError) as exc:  # pragma: no branch
        raise ValueError(f"object cannot be canonicalised as JSON: {exc}") from exc


def canonical_object(members: dict[str, bytes]) -> bytes:
    """RFC 8785 bytes of an object from its members' already canonical values.

    JCS serialises an object as its members sorted by the UTF-16 code units of their names (RFC 8785
    §3.2.3), each value canonicalised on its own, so a large value canonicalised once (a ballot) can be
    reused inside the object that carries it (its board payload) instead of being serialised again.
    """
    names = sorted(members, key=lambda k: k.encode("utf-16-be"))
    return b"{" + b",".join(canonical_json(k) + b":" + members[k] for k in names) + b"}"


def tagged_hash(tag: bytes, obj: Any) -> str:
    """Lowercase hex SHA-256 of ``len(tag) ‖ tag ‖ len(jcs) ‖ jcs`` (lengths as 8-byte big-endian)."""
    return tagged_hash_bytes(tag, canonical_json(obj))


def tagged_hash_bytes(tag: bytes, data: bytes) -> str:
    """``tagged_hash`` of an object whose canonical bytes ``data`` are already known."""
    h = hashlib.sha256()
    h.update(len(tag).to_bytes(8, "big"))
    h.update(tag)
    h.update(len(data).to_bytes(8, "big"))
    h.update(data)
    return h.hexdigest()
