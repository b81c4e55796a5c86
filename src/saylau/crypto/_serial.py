"""Helpers shared by the ``to_dict``/``from_dict`` methods of the safe tier (record form: JSON-able dicts)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from saylau.errors import RecordError

__all__ = ["bytes_from_hex", "expect_keys", "parse_errors", "want_int", "want_list", "want_str"]

T = TypeVar("T")
_HEX = re.compile(r"[0-9a-f]*")


@contextmanager
def parse_errors(what: str, error: Callable[[str], Exception] = RecordError) -> Iterator[None]:
    """Turn ``ValueError``/``KeyError``/``TypeError`` raised while parsing into ``error`` naming ``what``."""
    try:
        yield
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise error(f"{what}: {exc}") from exc


def expect_keys(d: Any, keys: set[str], what: str) -> dict[str, Any]:
    """Return ``d`` if it is a dict with exactly ``keys``; raise ``ValueError`` naming the difference."""
    if not isinstance(d, dict):
        raise ValueError(f"{what}: expected an object, got {type(d).__name__}")
    if set(d) != keys:
        missing, extra = sorted(keys - set(d)), sorted(set(d) - keys)
        raise ValueError(f"{what}: missing fields {missing}, unexpected fields {extra}")
    return d


def want_str(d: dict[str, Any], key: str, what: str) -> str:
    """Return ``d[key]`` if it is a string."""
    v = d[key]
    if not isinstance(v, str):
        raise ValueError(f"{what}.{key}: expected a string")
    return v


def want_int(d: dict[str, Any], key: str, what: str) -> int:
    """Return ``d[key]`` if it is an int (not a bool)."""
    v = d[key]
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValueError(f"{what}.{key}: expected an integer")
    return v


def want_list(d: dict[str, Any], key: str, what: str) -> list[Any]:
    """Return ``d[key]`` if it is a list."""
    v = d[key]
    if not isinstance(v, list):
        raise ValueError(f"{what}.{key}: expected a list")
    return v


def bytes_from_hex(text: Any, length: int, what: str) -> bytes:
    """Parse exactly ``length`` bytes written as lowercase hex."""
    if not isinstance(text, str) or len(text) != 2 * length or _HEX.fullmatch(text) is None:
        raise ValueError(f"{what}: expected {2 * length} lowercase hex digits")
    return bytes.fromhex(text)
