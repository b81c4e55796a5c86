"""NaN and Infinity are not JSON: neither the record's canonical parser nor the board reader accepts them.

Python's ``json`` reads ``NaN``, ``Infinity`` and ``-Infinity`` (and ``1e400`` as infinity), and its
``dumps`` writes them back the same way, so the canonical check (parse, re-serialise, compare) passed
them before; a verifier in another language would reject or misread such a record.
"""

from __future__ import annotations

import pytest

from saylau.board import read_jsonl
from saylau.errors import BoardError, RecordError
from saylau.record.format import parse_canonical


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999"])
def test_the_canonical_parser_refuses_non_finite_numbers(literal: bytes) -> None:
    for doc in (b'{"a":' + literal + b"}", b"[" + literal + b"]", b'{"a":[1,{"b":' + literal + b"}]}"):
        with pytest.raises(RecordError, match=r"manifest\.json: .*(not a JSON number|overflows)"):
            parse_canonical(doc, "manifest.json")
    assert parse_canonical(b'{"a":1.5,"b":"NaN"}', "x") == {"a": 1.5, "b": "NaN"}


def test_the_board_reader_refuses_non_finite_numbers() -> None:
    lines = ['{"type":"header"}', '{"type":"entry","payload":{"voted":NaN}}']
    with pytest.raises(BoardError, match="line 2: NaN is not a JSON number"):
        read_jsonl(lines)
