"""Refuse hostile text and numbers in requests before any model or database sees them.

One check for every route (run by :class:`saylau.api.limits.InputGuard`), so that no model needs its own:

* **Control characters** (C0 ``U+0000``–``U+001F``, ``DEL``, C1 ``U+0080``–``U+009F``) and lone UTF-16
  surrogates in any JSON string or object key, path segment, query parameter or ``Idempotency-Key``. On
  PostgreSQL a NUL cannot be stored at all (a 500 before this check), SQLite stored it silently, and the
  others can forge log lines, hide text in names shown to voters, or break the record's byte-exact JSON.
  Free text that legitimately has several lines (``FREE_TEXT_FIELDS``: an appeal's grounds and evidence)
  may hold TAB, LF and CR; nothing else may, anywhere.
* **Numbers** that JSON parsers disagree on: ``NaN`` / ``Infinity`` (Python's ``json`` accepts them, the
  JSON grammar does not), floats that overflow to infinity (``1e400``), integers outside the 64-bit
  signed range (no column holds them; smaller columns have their bounds in the route's schema).

A refusal is :class:`HostileInput` (a ``ValueError``, so HTTP 422) naming where: the JSON path
(``field 'ballots.3.device_id'``), the path parameter, the query parameter, or the CSV line and column.
The JSON body is parsed once more here (C speed, with number hooks); the walk over its strings runs
only when a cheap scan of the raw bytes finds an escape or byte that could decode to a refused character.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "FREE_TEXT_FIELDS",
    "INT64_MAX",
    "INT64_MIN",
    "NOT_JSON",
    "HostileInput",
    "check_csv_bytes",
    "check_json_body",
    "check_text",
    "refused_character",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

FREE_TEXT_FIELDS = frozenset({"grounds", "evidence"})
"""JSON members (at any depth, and everything under them) whose strings may contain TAB, LF and CR."""

_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_REFUSED_FREE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# raw bytes that can decode to a refused character in JSON text: a \u escape of C0/DEL/C1 or of a
# surrogate, a short escape (\b \f \n \r \t), DEL, or the UTF-8 encoding of a C1 character
_ESCAPES = re.compile(rb"\\u00[0189][0-9a-fA-F]|\\u007[fF]|\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\\[bfnrt]")
_C1 = re.compile(rb"\xc2[\x80-\x9f]")


def _suspect(body: bytes) -> bool:
    """Whether ``body`` may hold a refused character (byte searches first: a ballot has no backslash)."""
    return (
        (b"\\" in body and _ESCAPES.search(body) is not None)
        or b"\x7f" in body
        or (b"\xc2" in body and _C1.search(body) is not None)
    )


_NAMES = {0: "NUL", 9: "TAB", 10: "LF", 13: "CR", 0x7F: "DEL"}


class HostileInput(ValueError):
    """A request holds a character or number no field accepts; the message names the field (HTTP 422)."""


def _describe(ch: str) -> str:
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return f"a lone surrogate U+{code:04X} (not Unicode text)"
    name = _NAMES.get(code)
    return f"control character U+{code:04X}" + (f" ({name})" if name else "")


def refused_character(value: str, free_text: bool = False) -> str | None:
    """A description of the first refused character of ``value``, or ``None`` if it has none."""
    found = (_REFUSED_FREE if free_text else _REFUSED).search(value)
    return None if found is None else f"{_describe(found.group())} at character {found.start()}"


def check_text(value: str, where: str, free_text: bool = False) -> None:
    """Raise ``HostileInput`` naming ``where`` if ``value`` holds a refused character."""
    problem = refused_character(value, free_text)
    if problem is not None:
        raise HostileInput(f"{where}: {problem}; control characters are refused")


class _Bad:
    """A number the hooks refused, left in the parsed document so that the walk can name its path."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _loads(body: bytes, bad: list[_Bad]) -> Any:
    def constant(text: str) -> _Bad:
        bad.append(_Bad(f"{text} is not a JSON number"))
        return bad[-1]

    def number(text: str) -> float | _Bad:
        value = float(text)
        if math.isfinite(value):
            return value
        bad.append(_Bad(f"{text[:40]} overflows a 64-bit float"))
        return bad[-1]

    def integer(text: str) -> int | _Bad:
        value = int(text)
        if INT64_MIN <= value <= INT64_MAX:
            return value
        bad.append(_Bad(f"integer of {len(text)} digits is outside the 64-bit range"))
        return bad[-1]

    return json.loads(body, parse_constant=constant, parse_float=number, parse_int=integer)


def _path(parts: Iterable[str | int]) -> str:
    return ".".join(str(p) for p in parts) or "body"


def _walk(doc: Any, strings: bool) -> None:
    """Depth-first, in document order: raise for the first refused number (or string, if ``strings``)."""
    stack: list[tuple[Any, tuple[str | int, ...], bool]] = [(doc, (), False)]
    while stack:
        node, where, free = stack.pop()
        if isinstance(node, _Bad):
            raise HostileInput(f"field '{_path(where)}': {node.reason}")
        if isinstance(node, str):
            if strings:
                check_text(node, f"field '{_path(where)}'", free)
        elif isinstance(node, dict):
            items = list(node.items())
            for key, value in reversed(items):
                if strings:
                    check_text(key, f"field '{_path(where)}': member name {key[:32]!r}")
                stack.append((value, (*where, key), free or key in FREE_TEXT_FIELDS))
        elif isinstance(node, list):
            stack.extend((value, (*where, i), free) for i, value in reversed(list(enumerate(node))))


NOT_JSON: Any = object()
"""``check_json_body``'s answer for an empty body or one that is not JSON (the route reports it)."""


def check_json_body(body: bytes) -> Any:
    """Refuse a JSON body holding a refused character or number (``HostileInput`` names the path).

    Returns the parsed document (so that a route need not parse the body again), or ``NOT_JSON``.
    A body that is not JSON at all is left to the route (its parser reports the syntax error); one
    nested beyond the parser's recursion limit is refused here (the route's parser would fail with 500),
    and so is one that is not UTF-8 (the route's parser would answer 400 without saying why).
    """
    if not body:
        return NOT_JSON
    bad: list[_Bad] = []
    try:
        doc = _loads(body, bad)
    except RecursionError:
        raise HostileInput("field 'body': JSON nested too deeply") from None
    except UnicodeDecodeError as exc:  # the route's parser would answer a bare 400 naming nothing
        raise HostileInput(f"field 'body': not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except ValueError:
        return NOT_JSON
    suspect = _suspect(body)
    if bad or suspect:
        _walk(doc, strings=suspect)
    return doc


def check_csv_bytes(body: bytes, what: str) -> None:
    """Refuse a CSV upload holding a NUL byte, naming its line and column (1-based)."""
    at = body.find(b"\x00")
    if at < 0:
        return
    line = body.count(b"\n", 0, at) + 1
    column = at - (body.rfind(b"\n", 0, at) + 1) + 1
    raise HostileInput(f"{what}: line {line}, column {column}: control character U+0000 (NUL) is refused")
