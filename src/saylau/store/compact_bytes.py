"""Byte-level pieces shared by the store's compact forms (``ballot_codec``, ``entry_codec``).

Counts and string lengths are LEB128 unsigned varints, strings length-prefixed UTF-8. Writers raise
:class:`Unfit` for a value of another shape (the caller then stores the payload in another form); the
:class:`Reader` raises ``ValueError`` for anything but an exact, complete, minimal encoding, so each value
has one encoding and a changed byte cannot decode to the same value.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "HEX32",
    "HEX33",
    "Reader",
    "Unfit",
    "put_hex",
    "put_str",
    "put_varint",
    "want_keys",
    "want_list",
]

HEX32 = re.compile(r"[0-9a-f]{64}")
HEX33 = re.compile(r"[0-9a-f]{66}")


class Unfit(Exception):
    """The value is not of the shape a compact form stores (it is kept in another form)."""


def put_varint(out: bytearray, n: Any) -> None:
    """Append ``n`` (a non-negative int) as a LEB128 varint."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise Unfit
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def put_str(out: bytearray, s: Any) -> None:
    """Append a string: its UTF-8 length, then its bytes (``Unfit`` for a non-string or lone surrogate)."""
    if not isinstance(s, str):
        raise Unfit
    try:
        b = s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        raise Unfit from None
    put_varint(out, len(b))
    out += b


def put_hex(out: bytearray, s: Any, pattern: re.Pattern[str]) -> None:
    """Append the bytes of a canonical lowercase hex string matching ``pattern``."""
    if not isinstance(s, str) or pattern.fullmatch(s) is None:
        raise Unfit
    out += bytes.fromhex(s)


def want_keys(d: Any, keys: frozenset[str] | set[str]) -> dict[str, Any]:
    """``d`` if it is a dict with exactly ``keys``."""
    if not isinstance(d, dict) or d.keys() != keys:
        raise Unfit
    return d


def want_list(x: Any) -> list[Any]:
    """``x`` if it is a list."""
    if not isinstance(x, list):
        raise Unfit
    return x


class Reader:
    """Reads the fields back from a buffer; ``ValueError`` (prefixed ``what``) for a broken one."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        """Read ``data`` from its first byte; errors start with ``what`` (``"compact ballot"``)."""
        self.data = data
        self.pos = 0
        self.what = what

    def fail(self, message: str) -> ValueError:
        """The error to raise for ``message``."""
        return ValueError(f"{self.what}: {message}")

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes."""
        end = self.pos + n
        if end > len(self.data):
            raise self.fail(f"ends at byte {len(self.data)}, {end - len(self.data)} short")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def varint(self) -> int:
        """The next varint (minimal: no trailing zero continuation)."""
        n, shift = 0, 0
        while True:
            (byte,) = self.take(1)
            if byte == 0 and shift:
                raise self.fail(f"count at byte {self.pos} is not minimally encoded")
            n |= (byte & 0x7F) << shift
            if byte < 0x80:
                return n
            shift += 7
            if shift > 63:
                raise self.fail(f"count at byte {self.pos} is too long")

    def text(self) -> str:
        """The next string."""
        raw = self.take(self.varint())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail(f"string before byte {self.pos} is not UTF-8 ({exc})") from None

    def hex(self, n: int) -> str:
        """The next ``n`` bytes as lowercase hex."""
        return self.take(n).hex()

    def end(self) -> None:
        """Refuse bytes after the last field."""
        if self.pos != len(self.data):
            raise self.fail(f"{len(self.data) - self.pos} bytes after the end")
