from hypothesis import given, settings
from hypothesis import strategies as st

from saylau.crypto.hazmat.elgamal import Ciphertext, encrypt, product
from saylau.crypto.hazmat.group import Q, g_pow

SECRET = 0x1234567890ABCDEF1234567890ABCDEF
K = g_pow(SECRET)
votes = st.integers(min_value=0, max_value=1000)
nonces = st.integers(min_value=1, max_value=Q - 1)


def _decrypt_to_point(ct: Ciphertext):  # K^σ
    return ct.beta / ct.alpha**SECRET


@settings(max_examples=30, deadline=None)
@given(votes, nonces, votes, nonces)
def test_product_encrypts_the_sum(v1: int, n1: int, v2: int, n2: int) -> None:
    c = encrypt(K, v1, n1) * encrypt(K, v2, n2)
    assert c == encrypt(K, v1 + v2, n1 + n2)
    assert _decrypt_to_point(c) == K ** (v1 + v2)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(votes, nonces), min_size=1, max_size=12))
def test_batched_product_matches_pairwise(pairs: list[tuple[int, int]]) -> None:
    cts = [encrypt(K, v, n) for v, n in pairs]
    acc = cts[0]
    for c in cts[1:]:
        acc = acc * c
    assert product(cts) == acc
    assert _decrypt_to_point(acc) == K ** sum(v for v, _ in pairs)


def test_ciphertext_round_trip() -> None:
    c = encrypt(K, 1, 99)
    assert Ciphertext.from_dict(c.to_dict()) == c
