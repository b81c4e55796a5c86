import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saylau.crypto.hazmat.fixedbase import FixedBaseTable, multi_exp, table_for
from saylau.crypto.hazmat.group import (
    IDENTITY,
    OPS,
    G,
    Point,
    Q,
    combine,
    g_pow,
    scalar_from_hex,
    scalar_to_hex,
)

scalars = st.integers(min_value=0, max_value=Q - 1)
nonzero = st.integers(min_value=1, max_value=Q - 1)
# secp256k1's generator, from SEC 2 v2 §2.4.1
G_HEX = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"


def test_generator_matches_sec2() -> None:
    assert G.hex() == G_HEX
    assert G**Q == IDENTITY
    assert g_pow(Q - 1) == G.inverse()


@settings(max_examples=40, deadline=None)
@given(scalars, scalars)
def test_exponent_laws(a: int, b: int) -> None:
    assert g_pow(a) * g_pow(b) == g_pow(a + b)
    assert g_pow(a) ** b == g_pow(a * b)
    assert g_pow(a) / g_pow(b) == g_pow(a - b)


@settings(max_examples=30, deadline=None)
@given(scalars)
def test_identity_behaves(a: int) -> None:
    p = g_pow(a)
    assert p * IDENTITY == p
    assert IDENTITY * p == p
    assert p * p.inverse() == IDENTITY
    assert (p * p.inverse()).is_identity
    assert IDENTITY**a == IDENTITY
    assert p**0 == IDENTITY
    assert p**Q == IDENTITY
    assert IDENTITY.inverse() == IDENTITY
    assert combine([p, p.inverse(), p]) == p
    assert combine([]) == IDENTITY


@settings(max_examples=40, deadline=None)
@given(scalars)
def test_encoding_round_trip(a: int) -> None:
    p = g_pow(a)
    assert Point.from_bytes(p.to_bytes()) == p
    assert Point.from_hex(p.hex()) == p
    assert len(p.to_bytes()) == 33
    assert hash(Point.from_hex(p.hex())) == hash(p)
    assert pickle.loads(pickle.dumps(p)) == p


def test_identity_encoding_is_33_zero_bytes() -> None:
    assert IDENTITY.to_bytes() == bytes(33)
    assert Point.from_bytes(bytes(33)) is IDENTITY
    assert repr(IDENTITY) == "Point(identity)"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        bytes(32),
        bytes(34),
        b"\x04" + bytes(32),
        b"\x01" + G.to_bytes()[1:],
        b"\x02" + b"\xff" * 32,  # x >= p
        b"\x02" + (5).to_bytes(32, "big"),  # x = 5 has no point on the curve
        b"\x00" + b"\x01" + bytes(31),
    ],
)
def test_strict_decoding_rejects_garbage(data: bytes) -> None:
    with pytest.raises(ValueError, match="point"):
        Point.from_bytes(data)


@pytest.mark.parametrize(
    "text",
    [G_HEX.upper(), G_HEX[:-2], "zz" * 33, 42, G_HEX[:-4] + " 179", G_HEX[:-2] + "\n8", "+" + G_HEX[1:]],
)
def test_hex_decoding_is_canonical(text: object) -> None:
    with pytest.raises(ValueError):
        Point.from_hex(text)  # type: ignore[arg-type]


def test_scalar_hex_is_canonical() -> None:
    assert scalar_from_hex(scalar_to_hex(Q - 1)) == Q - 1
    for bad in [
        "0" * 63,
        "F" * 64,
        (Q).to_bytes(32, "big").hex(),
        "0" * 62 + " 1",
        "+" + "0" * 63,
        "0x" + "0" * 62,
    ]:
        with pytest.raises(ValueError):
            scalar_from_hex(bad)
    with pytest.raises(ValueError):
        scalar_to_hex(Q)


def test_points_are_immutable_and_not_constructible() -> None:
    with pytest.raises(AttributeError):
        G._c = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        Point()


@settings(max_examples=25, deadline=None)
@given(scalars, scalars, nonzero)
def test_fixed_base_tables_agree_with_library_multiply(a: int, b: int, k: int) -> None:
    base = g_pow(k)
    assert table_for(G).pow(a) == g_pow(a)
    assert multi_exp([(G, a), (base, b)], [G]) == g_pow(a) * base**b * G


def test_table_edge_exponents() -> None:
    table = table_for(G)
    for k in [0, 1, 255, 256, Q - 1, (1 << 255) - 1]:
        assert table.pow(k) == g_pow(k)
    with pytest.raises(ValueError):
        FixedBaseTable(IDENTITY)
    assert multi_exp([(G, 5)], [g_pow(-5)]) == IDENTITY


def test_operation_counter_counts() -> None:
    OPS.reset()
    g_pow(7) ** 3
    G * G
    assert OPS.snapshot()["base_exp"] == 1
    assert OPS.var_exp == 1
    assert OPS.combine == 1
    OPS.reset()
    assert OPS.snapshot() == dict.fromkeys(OPS.snapshot(), 0)
