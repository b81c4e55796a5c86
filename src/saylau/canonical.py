"""RFC 8785 (JCS) bytes of plain JSON values by the standard library's C encoder.

Everything saylau hashes is RFC 8785 canonical JSON. The ``rfc8785`` package serialises any value in
pure Python (~200 µs for a 7-option ballot); ballots, board payloads, entry headers and record lines
are plain ASCII JSON, for which ``json.dumps`` gives the same bytes about four times faster.
``plain_json`` returns those bytes, or ``None`` for a value that needs the full serialiser (the callers
``saylau.board.hashing.canonical_json`` and ``saylau.election.manifest.canonical_json`` then use it).
Imported by both, so it sits below every layer and imports nothing of saylau.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["is_plain", "plain_json"]

_SAFE_INT = 2**53 - 1  # RFC 8785 numbers are IEEE-754 doubles: larger integers are not exact


def is_plain(obj: Any) -> bool:
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


def plain_json(obj: Any) -> bytes | None:
    """The RFC 8785 bytes of a plain value (``is_plain``), else ``None``."""
    if not is_plain(obj):
        return None
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
