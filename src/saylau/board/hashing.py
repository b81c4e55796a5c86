"""Domain-separated hashing of canonical JSON for the bulletin board.

Every hash the board publishes is SHA-256 over a length-prefixed purpose tag followed by the
length-prefixed RFC 8785 (JCS) canonical JSON of the object, so that a payload hash can never be
confused with an entry hash or a checkpoint statement, and any third party can recompute it in any
language from docs/board-format.md alone.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

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


_SAFE_INT = 2**53 - 1  # RFC 8785 numbers are IEEE-754 doubles: larger integers are not exact


def _plain(obj: Any) -> bool:
    """Whether ``obj`` holds only ASCII strings and names, safe integers, booleans, null, lists and objects.

    For such a value RFC 8785 and ``json.dumps(sort_keys=True, separators=(",", ":"))`` give the same
    bytes: names of ASCII text sort alike by UTF-16 code units and by code points (§3.2.3), both escape
    exactly the quotation mark, the backslash and the controls U+0000–U+001F (the two-character forms
    for backspace, tab, line feed, form feed and carriage return, else six characters with lowercase
    hex, §3.2.2.2), and integers print as their digits. Anything else (a float, non-ASCII
    text, a subclass such as a ``str`` enum, a tuple) goes to the ``rfc8785`` serialiser.
    """
    stack, budget = [obj], 1_000_000  # a cyclic object (never parsed JSON) must not loop for ever
    while stack:
        budget -= 1
        if budget < 0:
            return False
        x = stack.pop()
        t = type(x)
        if t is str:
            if not x.isascii():
                return False
        elif t is dict:
            for k, v in x.items():
                if type(k) is not str or not k.isascii():
                    return False
                stack.append(v)
        elif t is list:
            stack.extend(x)
        elif t is int:
            if not -_SAFE_INT <= x <= _SAFE_INT:
                return False
        elif x is not None and t is not bool:
            return False
    return True


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 canonical bytes of a JSON-able object; ``ValueError`` if it is not JSON-able.

    Board payloads and entry headers are plain ASCII JSON (``_plain``): those are serialised by the
    standard library's C encoder, about five times faster than the pure-Python ``rfc8785`` serialiser,
    which serialises everything else (tests check both give the same bytes).
    """
    if _plain(obj):
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
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
