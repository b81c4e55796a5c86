from dataclasses import replace

import pytest

from saylau.crypto.hazmat.elgamal import encrypt
from saylau.crypto.hazmat.group import G, Q, g_pow
from saylau.crypto.hazmat.proofs import (
    ChaumPedersenProof,
    RangeProof,
    SchnorrProof,
    prove_dleq,
    prove_range,
    prove_schnorr,
    verify_dleq,
    verify_range,
    verify_schnorr,
)
from saylau.errors import InvalidProof

CTX = (b"\x07" * 32, "ballot-1", "contest")
K = g_pow(0xC0FFEE)


def test_schnorr_accepts_honest_and_rejects_each_perturbation() -> None:
    a = 0xABCDEF
    pub = g_pow(a)
    proof = prove_schnorr(a, pub, CTX)
    verify_schnorr(proof, pub, CTX, "K")
    assert SchnorrProof.from_dict(proof.to_dict()) == proof
    for field in ("challenge", "response"):
        bad = replace(proof, **{field: (getattr(proof, field) + 1) % Q})
        with pytest.raises(InvalidProof, match="K"):
            verify_schnorr(bad, pub, CTX, "K")
    with pytest.raises(InvalidProof):
        verify_schnorr(proof, pub * G, CTX, "K")
    with pytest.raises(InvalidProof):
        verify_schnorr(proof, pub, (*CTX[:2], "other"), "K")
    with pytest.raises(InvalidProof):
        verify_schnorr(prove_schnorr(a + 1, pub, CTX), pub, CTX, "K")


def test_dleq_accepts_honest_and_rejects_each_perturbation() -> None:
    x = 0x5EC12E7
    base = g_pow(777)
    h1, h2 = g_pow(x), base**x
    proof = prove_dleq(x, base, h1, h2, CTX)
    verify_dleq(proof, base, h1, h2, CTX, "share")
    assert ChaumPedersenProof.from_dict(proof.to_dict()) == proof
    for field in ("challenge", "response"):
        bad = replace(proof, **{field: (getattr(proof, field) + 1) % Q})
        with pytest.raises(InvalidProof, match="share"):
            verify_dleq(bad, base, h1, h2, CTX, "share")
    statements = [(base * G, h1, h2), (base, h1 * G, h2), (base, h1, h2 * G)]
    for g2, a, b in statements:
        with pytest.raises(InvalidProof):
            verify_dleq(proof, g2, a, b, CTX, "share")
    with pytest.raises(InvalidProof):
        verify_dleq(proof, base, h1, h2, (b"\x00" * 32,), "share")
    # a prover lying about the exponent of h2 cannot make a valid proof
    lie = prove_dleq(x, base, h1, base ** (x + 1), CTX)
    with pytest.raises(InvalidProof):
        verify_dleq(lie, base, h1, base ** (x + 1), CTX, "share")


@pytest.mark.parametrize(("value", "allowed"), [(0, (0, 1)), (1, (0, 1)), (2, (0, 1, 2, 3)), (3, (3,))])
def test_range_proof_accepts_honest_and_rejects_each_perturbation(
    value: int, allowed: tuple[int, ...]
) -> None:
    nonce = 0x1111
    ct = encrypt(K, value, nonce)
    proof = prove_range(K, ct, nonce, value, allowed, CTX)
    verify_range(proof, K, ct, allowed, CTX, "sel")
    assert RangeProof.from_dict(proof.to_dict()) == proof
    for j in range(len(allowed)):
        for field in ("challenges", "responses"):
            values = list(getattr(proof, field))
            values[j] = (values[j] + 1) % Q
            with pytest.raises(InvalidProof, match="sel"):
                verify_range(replace(proof, **{field: tuple(values)}), K, ct, allowed, CTX, "sel")
    for bad_ct in (
        replace(ct, alpha=ct.alpha * G),
        replace(ct, beta=ct.beta * G),
        encrypt(K, value, nonce + 1),
    ):
        with pytest.raises(InvalidProof):
            verify_range(proof, K, bad_ct, allowed, CTX, "sel")
    with pytest.raises(InvalidProof):
        verify_range(proof, K * G, ct, allowed, CTX, "sel")
    with pytest.raises(InvalidProof):
        verify_range(proof, K, ct, allowed, (*CTX, "x"), "sel")
    with pytest.raises(InvalidProof):
        verify_range(proof, K, ct, (*allowed, 9), CTX, "sel")
    if len(allowed) > 1:
        shifted = tuple(a + 1 for a in allowed)
        with pytest.raises(InvalidProof):
            verify_range(proof, K, ct, shifted, CTX, "sel")


def test_range_proof_cannot_prove_a_value_outside_the_set() -> None:
    nonce = 0x2222
    ct = encrypt(K, 2, nonce)
    with pytest.raises(ValueError):
        prove_range(K, ct, nonce, 2, (0, 1), CTX)
    # a cheating prover claiming 1 for an encryption of 2 produces a proof that fails
    forged = prove_range(K, ct, nonce, 1, (0, 1), CTX)
    with pytest.raises(InvalidProof):
        verify_range(forged, K, ct, (0, 1), CTX, "sel")


@pytest.mark.parametrize(
    "d",
    [
        {"challenges": [], "responses": []},
        {"challenges": ["00" * 32], "responses": []},
        {"challenges": ["00" * 32], "responses": ["ff" * 32]},
        {"challenges": ["00" * 32]},
    ],
)
def test_range_proof_parsing_is_strict(d: dict) -> None:
    with pytest.raises(ValueError):
        RangeProof.from_dict(d)


def test_a_range_proof_with_an_identity_commitment_is_refused_because_it_reveals_the_nonce() -> None:
    """Real branch nonce u = 0: a = g^0 = 1, and v = −c·ξ gives away ξ, hence the vote (issue 8, item 6)."""
    xi, vote = 0x1234567, 1
    ct = encrypt(K, vote, xi)
    draws = iter([5, 0, 7])  # u_0 (simulated branch), u_1 = 0 (the real branch), c_0
    proof = prove_range(K, ct, xi, vote, (0, 1), CTX, lambda: next(draws))
    c, v = proof.challenges[1], proof.responses[1]
    assert (-v * pow(c, -1, Q)) % Q == xi  # anyone could read the nonce off the proof
    with pytest.raises(InvalidProof, match="commitment is the identity"):
        verify_range(proof, K, ct, (0, 1), CTX, "selection")
    verify_range(prove_range(K, ct, xi, vote, (0, 1), CTX), K, ct, (0, 1), CTX, "selection")
