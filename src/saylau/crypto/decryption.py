"""Threshold decryption of tallies with proofs (EG 2.0 §3.6).

Each available guardian ``i`` publishes, for every selection's encrypted sum ``(A, B)``, the share
``M_i = A^P(i)`` with a Chaum–Pedersen proof that ``log_g(g^P(i)) = log_A(M_i)`` (§3.6.3), where
``g^P(i)`` is derived from the public commitments (``JointPublicKey.verification_key``). Any set ``S`` of at
least ``k`` guardians combines the shares with Lagrange coefficients ``w_i = Π_(j∈S, j≠i) j/(j−i)``:
``M = Π M_i^(w_i) = A^s`` (§3.6.2), so up to ``n−k`` guardians may be missing. Then ``B/M = K^σ`` and the
count ``σ`` is a small discrete log (``hazmat.dlog``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from saylau.crypto._serial import expect_keys, parse_errors, want_int, want_list, want_str
from saylau.crypto.ceremony import Guardian
from saylau.crypto.hazmat.dlog import discrete_log
from saylau.crypto.hazmat.elgamal import Ciphertext
from saylau.crypto.hazmat.fixedbase import multi_exp
from saylau.crypto.hazmat.group import Point, Q, combine, random_scalar
from saylau.crypto.hazmat.proofs import ChaumPedersenProof, prove_dleq, verify_dleq
from saylau.crypto.params import ElectionParameters
from saylau.crypto.tally import EncryptedTally
from saylau.errors import DecryptionError, InvalidProof

__all__ = [
    "DecryptionShare",
    "PartialDecryption",
    "PlaintextTally",
    "combine_decryption",
    "lagrange_coefficient",
    "partial_decrypt",
    "verify_partial_decryption",
    "verify_plaintext_tally",
]


def _context(
    h_e: bytes, tally_hash: bytes, index: int, contest_id: str, selection_id: str, ct: Ciphertext
) -> tuple[Any, ...]:
    """Fiat–Shamir context: ``H_E``, the whole tally (counts and ciphertexts), the guardian and selection."""
    return (h_e, "partial-decryption", tally_hash, index, contest_id, selection_id, ct.beta)


def lagrange_coefficient(index: int, indices: Sequence[int]) -> int:
    """``w_i = Π_(j ≠ i) j / (j − i) mod q`` over the guardians present (EG 2.0 §3.6.2)."""
    num, den = 1, 1
    for j in indices:
        if j != index:
            num = num * j % Q
            den = den * (j - index) % Q
    return num * pow(den, -1, Q) % Q


@dataclass(frozen=True, slots=True)
class DecryptionShare:
    """One guardian's ``M_i = A^P(i)`` for one selection, with its Chaum–Pedersen proof."""

    contest_id: str
    selection_id: str
    share: Point
    proof: ChaumPedersenProof

    def to_dict(self) -> dict[str, Any]:
        """Return the record form."""
        return {
            "contest_id": self.contest_id,
            "selection_id": self.selection_id,
            "share": self.share.hex(),
            "proof": self.proof.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Any, what: str) -> DecryptionShare:
        """Parse the record form (``ValueError`` naming the field)."""
        d = expect_keys(d, {"contest_id", "selection_id", "share", "proof"}, what)
        return cls(
            want_str(d, "contest_id", what),
            want_str(d, "selection_id", what),
            Point.from_hex(d["share"], f"{what}.share"),
            ChaumPedersenProof.from_dict(d["proof"], f"{what}.proof"),
        )


@dataclass(frozen=True)
class PartialDecryption:
    """All shares of one guardian for one tally, in the tally's selection order."""

    guardian_index: int
    shares: tuple[DecryptionShare, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the record form."""
        return {"guardian_index": self.guardian_index, "shares": [s.to_dict() for s in self.shares]}

    @classmethod
    def from_dict(cls, d: Any) -> PartialDecryption:
        """Parse the record form; raise ``RecordError`` naming the bad field."""
        what = "partial decryption"
        with parse_errors(what):
            d = expect_keys(d, {"guardian_index", "shares"}, what)
            index = want_int(d, "guardian_index", what)
            what = f"partial decryption of guardian {index}"
            shares = tuple(
                DecryptionShare.from_dict(s, f"{what}.shares[{j}]")
                for j, s in enumerate(want_list(d, "shares", what))
            )
            return cls(index, shares)


def partial_decrypt(
    guardian: Guardian,
    tally: EncryptedTally,
    rng: random.Random | None = None,
    *,
    published: ElectionParameters,
) -> PartialDecryption:
    """Compute ``M_i = A^P(i)`` and its proof for every selection of ``tally`` (EG 2.0 §3.6.1, §3.6.3).

    ``published`` are the election parameters as published (the key voters encrypted to): the guardian
    first checks that they are its ceremony's (``Guardian.check_published``, ``CeremonyError`` if not),
    so it never decrypts for a key it did not help make. The proofs bind ``H_E``, which the guardian
    derives from the ceremony it took part in. ``rng`` draws the proof nonces (default: the OS CSPRNG; a
    seeded ``random.Random`` only for test vectors).
    """
    guardian.check_published(published)
    draw = random_scalar if rng is None else (lambda: rng.getrandbits(320) % (Q - 1) + 1)
    s_i = guardian.key_share
    vk = guardian.joint_key.verification_key(guardian.index)
    h_e = guardian.extended_base_hash
    tally_hash = tally.crypto_hash()
    shares = []
    for cid, sid, ct in tally.items():
        m = ct.alpha**s_i
        proof = prove_dleq(
            s_i, ct.alpha, vk, m, _context(h_e, tally_hash, guardian.index, cid, sid, ct), draw
        )
        shares.append(DecryptionShare(cid, sid, m, proof))
    return PartialDecryption(guardian.index, tuple(shares))


def verify_partial_decryption(
    params: ElectionParameters, tally: EncryptedTally, partial: PartialDecryption
) -> None:
    """Check every share's proof against ``g^P(i)`` from the commitments; raise ``DecryptionError``."""
    i = partial.guardian_index
    if not 1 <= i <= params.joint_key.n:
        raise DecryptionError(f"partial decryption: no guardian {i}")
    items = tally.items()
    if [(s.contest_id, s.selection_id) for s in partial.shares] != [(c, s) for c, s, _ in items]:
        raise DecryptionError(
            f"guardian {i}: partial decryption does not cover the tally's selections in order"
        )
    vk = params.joint_key.verification_key(i)
    h_e = params.extended_base_hash
    tally_hash = tally.crypto_hash()
    for share, (cid, sid, ct) in zip(partial.shares, items, strict=True):
        try:
            verify_dleq(
                share.proof,
                ct.alpha,
                vk,
                share.share,
                _context(h_e, tally_hash, i, cid, sid, ct),
                f"guardian {i}: share for {cid}/{sid}",
                table_h1=True,
            )
        except InvalidProof as exc:
            raise DecryptionError(str(exc)) from exc


@dataclass(frozen=True)
class PlaintextTally:
    """Decrypted counts per contest and selection, with the partial decryptions that prove them."""

    counts: dict[str, dict[str, int]]
    partials: tuple[PartialDecryption, ...]

    @property
    def guardians(self) -> tuple[int, ...]:
        """Indices of the guardians whose shares were combined."""
        return tuple(p.guardian_index for p in self.partials)

    def to_dict(self) -> dict[str, Any]:
        """Return the record form."""
        return {
            "counts": {c: dict(sel) for c, sel in self.counts.items()},
            "partials": [p.to_dict() for p in self.partials],
        }

    @classmethod
    def from_dict(cls, d: Any) -> PlaintextTally:
        """Parse the record form; raise ``RecordError`` naming the bad field."""
        what = "plaintext tally"
        with parse_errors(what):
            d = expect_keys(d, {"counts", "partials"}, what)
            counts = d["counts"]
            if not isinstance(counts, dict):
                raise ValueError(f"{what}.counts: expected an object")
            parsed: dict[str, dict[str, int]] = {}
            for c, sel in counts.items():
                if not isinstance(sel, dict) or not all(
                    isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in sel.values()
                ):
                    raise ValueError(f"{what}.counts.{c}: expected selection → non-negative integer")
                parsed[c] = dict(sel)
            partials = tuple(PartialDecryption.from_dict(p) for p in want_list(d, "partials", what))
            return cls(parsed, partials)


def _combined_shares(
    params: ElectionParameters, tally: EncryptedTally, partials: Sequence[PartialDecryption]
) -> list[Point]:
    indices = [p.guardian_index for p in partials]
    if len(set(indices)) != len(indices):
        raise DecryptionError(f"decryption: a guardian appears twice among {indices}")
    if len(indices) < params.joint_key.quorum:
        raise DecryptionError(
            f"decryption: {len(indices)} guardians present, quorum is {params.joint_key.quorum}"
        )
    for p in partials:
        verify_partial_decryption(params, tally, p)
    weights = [lagrange_coefficient(i, indices) for i in indices]
    n_items = len(partials[0].shares)
    return [
        combine(p.shares[k].share ** w for p, w in zip(partials, weights, strict=True))
        for k in range(n_items)
    ]


def combine_decryption(
    params: ElectionParameters, tally: EncryptedTally, partials: list[PartialDecryption], max_count: int
) -> PlaintextTally:
    """Check the partial decryptions of ≥ k guardians, combine them and solve each count (EG 2.0 §3.6.2)."""
    shares = _combined_shares(params, tally, partials)
    K = params.joint_key.K
    counts: dict[str, dict[str, int]] = {c: {} for c in tally.layout}
    for m, (cid, sid, ct) in zip(shares, tally.items(), strict=True):
        try:
            counts[cid][sid] = discrete_log(ct.beta / m, K, max_count)
        except DecryptionError as exc:
            raise DecryptionError(f"decryption of {cid}/{sid}: {exc}") from exc
    ordered = tuple(sorted(partials, key=lambda p: p.guardian_index))
    return PlaintextTally(counts, ordered)


def verify_plaintext_tally(
    params: ElectionParameters, tally: EncryptedTally, plaintext: PlaintextTally
) -> None:
    """Check the shares' proofs and ``B = M · K^σ`` for every count; raise ``DecryptionError``."""
    if {c: set(s) for c, s in plaintext.counts.items()} != {c: set(s) for c, s in tally.layout.items()}:
        raise DecryptionError(
            "plaintext tally: counts do not cover exactly the tally's contests and selections"
        )
    shares = _combined_shares(params, tally, plaintext.partials)
    K = params.joint_key.K
    for m, (cid, sid, ct) in zip(shares, tally.items(), strict=True):
        count = plaintext.counts[cid][sid]
        if count > tally.ballot_count(cid):
            raise DecryptionError(f"plaintext tally: {cid}/{sid} = {count} exceeds the number of ballots")
        if multi_exp([(K, count)], [m]) != ct.beta:
            raise DecryptionError(
                f"plaintext tally: {cid}/{sid} = {count} does not match the decryption shares"
            )
