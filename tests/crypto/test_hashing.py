import pytest

from saylau.crypto.hazmat.group import G, Q
from saylau.crypto.hazmat.hashing import hash_bytes, hash_to_scalar


def test_tags_separate_domains() -> None:
    assert hash_bytes("a", b"x") != hash_bytes("b", b"x")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("ab", "c"), ("a", "bc")),
        ((b"ab", b"c"), (b"a", b"bc")),
        ((b"\x01",), (1,)),
        (("x",), (b"x",)),
        ((G,), (G.to_bytes(),)),
        ((), (b"",)),
    ],
)
def test_encoding_is_unambiguous(left: tuple, right: tuple) -> None:
    assert hash_bytes("t", *left) != hash_bytes("t", *right)


@pytest.mark.parametrize("bad", [1.5, None, True, [b"x"], -1, 1 << 256])
def test_no_fallback_for_other_types(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        hash_bytes("t", bad)  # type: ignore[arg-type]


def test_hash_to_scalar_is_reduced() -> None:
    values = {hash_to_scalar("t", i) for i in range(100)}
    assert all(0 <= v < Q for v in values)
    assert len(values) == 100
