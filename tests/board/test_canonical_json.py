"""``canonical_json``'s fast path (the standard library's encoder) gives exactly the RFC 8785 bytes."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from saylau.board.hashing import canonical_json
from saylau.canonical import is_plain
from saylau.election.manifest import canonical_json as manifest_canonical_json

_ASCII = st.text(st.characters(max_codepoint=0x7F), max_size=12)
_ANY_TEXT = st.text(max_size=12)


def _json(text: st.SearchStrategy[str], ints: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | ints | text
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
        max_leaves=40,
    )


def _rfc8785(obj: Any) -> bytes | None:
    try:
        return bytes(rfc8785.dumps(obj))
    except (TypeError, rfc8785.CanonicalizationError):
        return None


@settings(max_examples=200, deadline=None)
@given(_json(_ASCII, st.integers(-(2**53) + 1, 2**53 - 1)))
def test_plain_ascii_json_takes_the_fast_path_and_matches_rfc8785(obj: Any) -> None:
    assert is_plain(obj)
    assert canonical_json(obj) == _rfc8785(obj) == manifest_canonical_json(obj)


@settings(max_examples=150, deadline=None)
@given(_json(_ANY_TEXT, st.integers(-(2**60), 2**60)) | st.floats(allow_nan=False, allow_infinity=False))
def test_any_json_gives_the_rfc8785_bytes_or_the_same_refusal(obj: Any) -> None:
    expected = _rfc8785(obj)
    if expected is None:  # rfc8785 refuses (an integer beyond 2^53): so must canonical_json
        with pytest.raises(ValueError):
            canonical_json(obj)
    else:
        assert canonical_json(obj) == expected


class _Kind(enum.StrEnum):
    BALLOT = "ballot"


@pytest.mark.parametrize(
    "obj",
    [
        {"a": 1.5},  # a float
        {"é": "x"},  # a non-ASCII name
        {"a": "ж"},  # non-ASCII text
        {"a": 2**53},  # an integer RFC 8785 cannot hold exactly
        {"a": (1, 2)},  # a tuple
        {"a": _Kind.BALLOT},  # a str subclass
        {1: "x"},  # a name that is not a string
    ],
)
def test_values_outside_the_fast_path_go_to_rfc8785(obj: Any) -> None:
    assert not is_plain(obj)
    expected = _rfc8785(obj)
    if expected is None:
        with pytest.raises(ValueError):
            canonical_json(obj)
    else:
        assert canonical_json(obj) == expected


def test_controls_quotes_and_backslashes_are_escaped_as_rfc8785_does() -> None:
    text = "".join(chr(c) for c in range(0x80)) + '"\\/'
    obj = {text: [text, {"\x7f": "\x00\x1f"}]}
    assert is_plain(obj)
    assert canonical_json(obj) == bytes(rfc8785.dumps(obj))


def test_a_cyclic_object_is_not_walked_for_ever() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    assert not is_plain(cyclic)
