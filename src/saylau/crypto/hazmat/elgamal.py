"""Exponential ElGamal in the ElectionGuard 2.0 form (§3.3, "Encryption of votes").

A vote ``σ`` encrypts under the joint key ``K`` with nonce ``ξ`` as ``(α, β) = (g^ξ, K^(σ+ξ))``. The product
of two ciphertexts encrypts the sum of the votes (§3.5, ballot aggregation), and whoever knows the secret
``s`` with ``K = g^s`` recovers ``K^σ = β / α^s``; ``σ`` itself is then a small discrete log (``dlog``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from saylau.crypto.hazmat.group import Point, combine, g_pow

__all__ = ["Ciphertext", "encrypt", "product"]


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """An ElGamal pair ``(α, β)``; ``*`` is the homomorphic addition of the plaintexts."""

    alpha: Point
    beta: Point

    def __mul__(self, other: Ciphertext) -> Ciphertext:
        if not isinstance(other, Ciphertext):
            return NotImplemented
        return Ciphertext(self.alpha * other.alpha, self.beta * other.beta)

    def to_dict(self) -> dict[str, Any]:
        """Return the record form: both points as lowercase hex."""
        return {"alpha": self.alpha.hex(), "beta": self.beta.hex()}

    @classmethod
    def from_dict(cls, d: Any, what: str = "ciphertext") -> Ciphertext:
        """Parse the record form; raise ``ValueError`` naming the bad field."""
        if not isinstance(d, dict) or set(d) != {"alpha", "beta"}:
            raise ValueError(f"{what}: expected exactly the keys alpha, beta")
        return cls(Point.from_hex(d["alpha"], f"{what}.alpha"), Point.from_hex(d["beta"], f"{what}.beta"))


def encrypt(K: Point, vote: int, nonce: int) -> Ciphertext:
    """Encrypt ``vote`` as ``(g^ξ, K^(σ+ξ))`` with constant-time library calls (EG 2.0 §3.3)."""
    return Ciphertext(g_pow(nonce), K ** (vote + nonce))


def product(ciphertexts: list[Ciphertext] | tuple[Ciphertext, ...]) -> Ciphertext:
    """Return the homomorphic sum of many ciphertexts with two library calls."""
    return Ciphertext(combine(c.alpha for c in ciphertexts), combine(c.beta for c in ciphertexts))
