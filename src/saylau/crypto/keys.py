"""Public results of the key ceremony: guardian records and the joint election key (EG 2.0 §3.2).

Guardian ``i`` commits to the coefficients of its secret polynomial ``P_i(x) = Σ_j a_ij x^j`` (degree k−1)
with ``K_ij = g^(a_ij)`` and proves knowledge of each ``a_ij`` with a Schnorr proof (§3.2.2). The joint key is
``K = Π_i K_i0`` (§3.2.3) and anyone can compute guardian ``ℓ``'s verification key
``g^P(ℓ) = Π_i Π_j K_ij^(ℓ^j)`` from the commitments alone (Feldman VSS), which is what the partial-decryption
proofs of §3.6.3 are checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from saylau.crypto._serial import expect_keys, parse_errors, want_int, want_list
from saylau.crypto.hazmat.group import Point, combine
from saylau.crypto.hazmat.hashing import hash_bytes
from saylau.crypto.hazmat.proofs import SchnorrProof, verify_schnorr
from saylau.errors import CeremonyError, InvalidProof

__all__ = [
    "GuardianRecord",
    "JointPublicKey",
    "coefficient_context",
    "extended_base_hash",
    "joint_public_key",
    "verify_guardian_record",
]

_HE_TAG = "saylau/v1/extended-base-hash"


def coefficient_context(base_hash: bytes, index: int, j: int) -> tuple[bytes | int | str, ...]:
    """Fiat–Shamir context of guardian ``index``'s proof for coefficient ``j`` (EG 2.0 §3.2.2)."""
    return (base_hash, "coefficient", index, j)


@dataclass(frozen=True)
class GuardianRecord:
    """What a guardian publishes: its index, coefficient commitments ``K_ij`` and their Schnorr proofs."""

    index: int
    commitments: tuple[Point, ...]
    proofs: tuple[SchnorrProof, ...]

    def __post_init__(self) -> None:
        if self.index < 1:
            raise ValueError(f"guardian record: index must be ≥ 1, got {self.index}")
        if len(self.commitments) != len(self.proofs) or not self.commitments:
            raise ValueError(f"guardian {self.index}: need one proof per commitment, at least one")

    @property
    def public_key(self) -> Point:
        """``K_i = K_i0``, the guardian's own public key."""
        return self.commitments[0]

    def to_dict(self) -> dict[str, Any]:
        """Return the record form."""
        return {
            "index": self.index,
            "commitments": [c.hex() for c in self.commitments],
            "proofs": [p.to_dict() for p in self.proofs],
        }

    @classmethod
    def from_dict(cls, d: Any) -> GuardianRecord:
        """Parse the record form; raise ``RecordError`` naming the bad field."""
        what = "guardian record"
        with parse_errors(what):
            d = expect_keys(d, {"index", "commitments", "proofs"}, what)
            index = want_int(d, "index", what)
            what = f"guardian {index}"
            commitments = tuple(
                Point.from_hex(c, f"{what}.commitments[{j}]")
                for j, c in enumerate(want_list(d, "commitments", what))
            )
            proofs = tuple(
                SchnorrProof.from_dict(p, f"{what}.proofs[{j}]")
                for j, p in enumerate(want_list(d, "proofs", what))
            )
            return cls(index, commitments, proofs)


def verify_guardian_record(rec: GuardianRecord, base_hash: bytes) -> None:
    """Check the Schnorr proof of every commitment (EG 2.0 §3.2.2); raise ``CeremonyError`` naming it."""
    for j, (commitment, proof) in enumerate(zip(rec.commitments, rec.proofs, strict=True)):
        try:
            context = coefficient_context(base_hash, rec.index, j)
            verify_schnorr(proof, commitment, context, f"K_{rec.index},{j}")
        except InvalidProof as exc:
            raise CeremonyError(f"guardian {rec.index}: commitment {j}: {exc}") from exc


@dataclass(frozen=True)
class JointPublicKey:
    """The election public key ``K`` with the guardian records it comes from and the quorum ``k``."""

    K: Point
    guardian_records: tuple[GuardianRecord, ...]
    quorum: int
    _vk_cache: dict[int, Point] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.guardian_records)
        if not 1 <= self.quorum <= n:
            raise CeremonyError(f"joint key: quorum {self.quorum} not in 1..{n}")
        if [r.index for r in self.guardian_records] != list(range(1, n + 1)):
            raise CeremonyError("joint key: guardian records must have indices 1..n in order")
        for r in self.guardian_records:
            if len(r.commitments) != self.quorum:
                raise CeremonyError(
                    f"joint key: guardian {r.index} has {len(r.commitments)} commitments, "
                    f"expected quorum {self.quorum}"
                )
        if combine(r.public_key for r in self.guardian_records) != self.K or self.K.is_identity:
            raise CeremonyError("joint key: K is not the product of the guardians' public keys K_i0")

    @classmethod
    def from_records(
        cls, records: tuple[GuardianRecord, ...] | list[GuardianRecord], quorum: int
    ) -> JointPublicKey:
        """Build the joint key ``K = Π_i K_i0`` from the guardians' records (EG 2.0 §3.2.3).

        Does not check the Schnorr proofs: call ``verify_guardian_record`` on each record first.
        """
        ordered = tuple(sorted(records, key=lambda r: r.index))
        return cls(combine(r.public_key for r in ordered), ordered, quorum)

    @property
    def n(self) -> int:
        """Number of guardians."""
        return len(self.guardian_records)

    def verification_key(self, index: int) -> Point:
        """Return ``g^P(index)`` computed from the public commitments (Feldman VSS, EG 2.0 §3.2.2)."""
        if not 1 <= index <= self.n:
            raise ValueError(f"verification key: no guardian {index}")
        vk = self._vk_cache.get(index)
        if vk is None:
            column_products = [
                combine(r.commitments[j] for r in self.guardian_records) for j in range(self.quorum)
            ]
            vk = combine(c ** (index**j) for j, c in enumerate(column_products))
            self._vk_cache[index] = vk
        return vk

    def to_dict(self) -> dict[str, Any]:
        """Return the record form."""
        return {
            "K": self.K.hex(),
            "quorum": self.quorum,
            "guardians": [r.to_dict() for r in self.guardian_records],
        }

    @classmethod
    def from_dict(cls, d: Any) -> JointPublicKey:
        """Parse the record form; raise ``RecordError`` naming the bad field."""
        what = "joint key"
        with parse_errors(what):
            d = expect_keys(d, {"K", "quorum", "guardians"}, what)
            records = tuple(GuardianRecord.from_dict(r) for r in want_list(d, "guardians", what))
            return cls(Point.from_hex(d["K"], f"{what}.K"), records, want_int(d, "quorum", what))


def extended_base_hash(base_hash: bytes, key: JointPublicKey) -> bytes:
    """``H_E = H(H_B, K, n, k, every K_ij)`` (EG 2.0 §3.2.3): binds proofs to this ceremony and manifest."""
    commitments = [c for r in key.guardian_records for c in r.commitments]
    return hash_bytes(_HE_TAG, base_hash, key.K, key.n, key.quorum, *commitments)


def joint_public_key(
    records: tuple[GuardianRecord, ...] | list[GuardianRecord], quorum: int, base_hash: bytes
) -> JointPublicKey:
    """Check every guardian record's proofs, then return the joint key built from them."""
    for rec in records:
        verify_guardian_record(rec, base_hash)
    return JointPublicKey.from_records(records, quorum)
