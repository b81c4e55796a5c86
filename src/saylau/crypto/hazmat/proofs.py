"""Bare zero-knowledge proofs (ElectionGuard 2.0 §3.2.2, §3.3.5–3.3.8, §3.6.3), made non-interactive.

All proofs use the ElectionGuard 2.0 "challenge–response" form: the prover publishes the challenge(s) ``c``
and response(s) ``v = u − c·x mod q``; the verifier recomputes the commitments ``g^v · h^c`` and checks that
hashing the statement and those commitments gives back the challenge. Each challenge hashes a purpose tag,
the caller's context (the extended base hash H_E and the object's identifiers), every public point of the
statement and every commitment.

Provers use constant-time library calls for everything touched by a secret. Verifiers only see public
values and use the variable-time fixed-base tables of ``fixedbase`` for ``g`` and the election key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from saylau.crypto.hazmat.elgamal import Ciphertext
from saylau.crypto.hazmat.fixedbase import g_table, multi_exp, table_for
from saylau.crypto.hazmat.group import (
    G,
    Point,
    Q,
    combine,
    g_pow,
    random_scalar,
    scalar_from_hex,
    scalar_to_hex,
)
from saylau.crypto.hazmat.hashing import HashPart, hash_to_scalar
from saylau.errors import InvalidProof

__all__ = [
    "ChaumPedersenProof",
    "RangeProof",
    "SchnorrProof",
    "prove_dleq",
    "prove_range",
    "prove_schnorr",
    "verify_dleq",
    "verify_range",
    "verify_schnorr",
]

_SCHNORR = "saylau/v1/schnorr"
_DLEQ = "saylau/v1/chaum-pedersen"
_RANGE = "saylau/v1/range"


_nonce = random_scalar


def _scalar(d: dict[str, Any], key: str, what: str) -> int:
    try:
        return scalar_from_hex(d[key], f"{what}.{key}")
    except KeyError as exc:
        raise ValueError(f"{what}: missing field {key!r}") from exc


@dataclass(frozen=True, slots=True)
class SchnorrProof:
    """Proof of knowledge of ``a`` with ``K = g^a`` (EG 2.0 §3.2.2, guardian coefficient proofs)."""

    challenge: int
    response: int

    def to_dict(self) -> dict[str, Any]:
        """Return the record form (hex scalars)."""
        return {"challenge": scalar_to_hex(self.challenge), "response": scalar_to_hex(self.response)}

    @classmethod
    def from_dict(cls, d: Any, what: str = "schnorr proof") -> SchnorrProof:
        """Parse the record form; raise ``ValueError`` naming the bad field."""
        if not isinstance(d, dict) or set(d) != {"challenge", "response"}:
            raise ValueError(f"{what}: expected exactly the keys challenge, response")
        return cls(_scalar(d, "challenge", what), _scalar(d, "response", what))


def prove_schnorr(
    secret: int, public: Point, context: tuple[HashPart, ...], draw: Callable[[], int] = _nonce
) -> SchnorrProof:
    """Prove knowledge of ``secret`` with ``public = g^secret`` (EG 2.0 §3.2.2): ``v = u − c·a``."""
    u = draw()
    h = g_pow(u)
    c = hash_to_scalar(_SCHNORR, *context, public, h)
    return SchnorrProof(c, (u - c * secret) % Q)


def verify_schnorr(proof: SchnorrProof, public: Point, context: tuple[HashPart, ...], what: str) -> None:
    """Check ``c = H(…, K, g^v·K^c)``; raise ``InvalidProof`` naming ``what`` otherwise."""
    if public.is_identity:
        raise InvalidProof(f"{what}: the committed public value is the identity")
    h = multi_exp([(G, proof.response)], [public**proof.challenge])
    if hash_to_scalar(_SCHNORR, *context, public, h) != proof.challenge:
        raise InvalidProof(f"{what}: Schnorr challenge does not match the recomputed commitment")


@dataclass(frozen=True, slots=True)
class ChaumPedersenProof:
    """Proof that ``log_g1 h1 = log_g2 h2`` (EG 2.0 §3.6.3, correct partial decryption)."""

    challenge: int
    response: int

    def to_dict(self) -> dict[str, Any]:
        """Return the record form (hex scalars)."""
        return {"challenge": scalar_to_hex(self.challenge), "response": scalar_to_hex(self.response)}

    @classmethod
    def from_dict(cls, d: Any, what: str = "chaum-pedersen proof") -> ChaumPedersenProof:
        """Parse the record form; raise ``ValueError`` naming the bad field."""
        if not isinstance(d, dict) or set(d) != {"challenge", "response"}:
            raise ValueError(f"{what}: expected exactly the keys challenge, response")
        return cls(_scalar(d, "challenge", what), _scalar(d, "response", what))


def prove_dleq(
    secret: int,
    g2: Point,
    h1: Point,
    h2: Point,
    context: tuple[HashPart, ...],
    draw: Callable[[], int] = _nonce,
) -> ChaumPedersenProof:
    """Prove ``h1 = g^x`` and ``h2 = g2^x`` for the same ``x`` (EG 2.0 §3.6.3): ``a = g^u``, ``b = g2^u``."""
    u = draw()
    a, b = g_pow(u), g2**u
    c = hash_to_scalar(_DLEQ, *context, h1, g2, h2, a, b)
    return ChaumPedersenProof(c, (u - c * secret) % Q)


def verify_dleq(
    proof: ChaumPedersenProof,
    g2: Point,
    h1: Point,
    h2: Point,
    context: tuple[HashPart, ...],
    what: str,
    table_h1: bool = False,
) -> None:
    """Recompute ``a = g^v·h1^c``, ``b = g2^v·h2^c`` and check the challenge; raise ``InvalidProof``.

    ``table_h1`` uses a cached fixed-base table for ``h1`` (worth it when ``h1`` recurs, such as a
    guardian's verification key across thousands of tallies).
    """
    c, v = proof.challenge, proof.response
    a = multi_exp([(G, v), (h1, c)]) if table_h1 else multi_exp([(G, v)], [h1**c])
    b = combine((g2**v, h2**c))
    if hash_to_scalar(_DLEQ, *context, h1, g2, h2, a, b) != c:
        raise InvalidProof(f"{what}: Chaum-Pedersen challenge does not match the recomputed commitments")


@dataclass(frozen=True, slots=True)
class RangeProof:
    """Disjunctive Chaum–Pedersen proof that a ciphertext encrypts one of ``allowed`` (EG 2.0 §3.3.5).

    One challenge and one response per allowed value; the challenges sum to the Fiat–Shamir hash. The
    contest-limit proof (§3.3.6) is the same proof with the allowed set ``{L}`` (or ``0..L``).
    """

    challenges: tuple[int, ...]
    responses: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the record form (lists of hex scalars)."""
        return {
            "challenges": [scalar_to_hex(c) for c in self.challenges],
            "responses": [scalar_to_hex(v) for v in self.responses],
        }

    @classmethod
    def from_dict(cls, d: Any, what: str = "range proof") -> RangeProof:
        """Parse the record form; raise ``ValueError`` naming the bad field."""
        if not isinstance(d, dict) or set(d) != {"challenges", "responses"}:
            raise ValueError(f"{what}: expected exactly the keys challenges, responses")
        cs, vs = d["challenges"], d["responses"]
        if not isinstance(cs, list) or not isinstance(vs, list) or len(cs) != len(vs) or not cs:
            raise ValueError(f"{what}: challenges and responses must be non-empty lists of equal length")
        return cls(
            tuple(scalar_from_hex(c, f"{what}.challenges[{i}]") for i, c in enumerate(cs)),
            tuple(scalar_from_hex(v, f"{what}.responses[{i}]") for i, v in enumerate(vs)),
        )


def prove_range(
    K: Point,
    ct: Ciphertext,
    nonce: int,
    value: int,
    allowed: Sequence[int],
    context: tuple[HashPart, ...],
    draw: Callable[[], int] = _nonce,
) -> RangeProof:
    """Prove ``ct = (g^ξ, K^(value+ξ))`` with ``value ∈ allowed`` without revealing which (EG 2.0 §3.3.5).

    For the true branch ``ℓ``: ``a = g^u``, ``b = K^u``. For a simulated branch ``j`` the prover knows ``ξ``
    and so computes each commitment with one exponentiation: ``a_j = g^(u_j)``, ``b_j = K^(u_j + (ℓ−j)·c_j)``,
    then ``v_j = u_j − c_j·ξ``; the verifier's ``g^v_j·α^c_j`` and ``K^(v_j − j·c_j)·β^c_j`` give them back.
    """
    if value not in allowed:
        raise ValueError(f"range proof: value {value} is not in the allowed set")
    n = len(allowed)
    us = [draw() for _ in range(n)]
    cs = [0] * n
    commitments: list[Point] = []
    for j, m in enumerate(allowed):
        if m == value:
            commitments += (g_pow(us[j]), K ** us[j])
        else:
            cs[j] = draw()
            commitments += (g_pow(us[j]), K ** (us[j] + (value - m) * cs[j]))
    c = hash_to_scalar(_RANGE, *context, K, ct.alpha, ct.beta, *allowed, *commitments)
    real = allowed.index(value)
    cs[real] = (c - sum(cs)) % Q
    return RangeProof(tuple(cs), tuple((u - cj * nonce) % Q for u, cj in zip(us, cs, strict=True)))


def verify_range(
    proof: RangeProof,
    K: Point,
    ct: Ciphertext,
    allowed: Sequence[int],
    context: tuple[HashPart, ...],
    what: str,
) -> None:
    """Recompute every branch's commitments and check the challenges sum to the hash (EG 2.0 §3.3.5).

    A commitment that is the identity is refused: ``g^v · α^c = 1`` gives ``α = g^(−v/c)``, i.e. the
    encryption nonce, hence the plaintext (likewise ``K^(v−m·c) · β^c = 1`` gives ``β`` as a known power
    of ``K``). An honest prover's commitments are the identity with probability 2^-256.
    """
    n = len(allowed)
    if len(proof.challenges) != n or len(proof.responses) != n:
        raise InvalidProof(f"{what}: range proof has {len(proof.challenges)} branches, expected {n}")
    alpha, beta = ct.alpha, ct.beta
    g_tab, k_tab = g_table(), table_for(K)
    commitments: list[Point] = []
    for m, c, v in zip(allowed, proof.challenges, proof.responses, strict=True):
        commitments.append(g_tab.pow_mul(v, alpha**c))
        commitments.append(k_tab.pow_mul(v - m * c, beta**c))
    if any(p.is_identity for p in commitments):
        raise InvalidProof(f"{what}: a range-proof commitment is the identity (it would reveal the nonce)")
    expected = hash_to_scalar(_RANGE, *context, K, alpha, beta, *allowed, *commitments)
    if sum(proof.challenges) % Q != expected:
        raise InvalidProof(f"{what}: range proof challenges do not sum to the Fiat-Shamir hash")
