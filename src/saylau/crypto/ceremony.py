"""The guardians' key ceremony: Feldman VSS with Schnorr proofs and encrypted shares (EG 2.0 §3.2).

Each guardian ``i`` draws a secret polynomial ``P_i`` of degree ``k−1`` and publishes commitments
``K_ij = g^a_ij`` with Schnorr proofs (§3.2.2). It sends every other guardian ``ℓ`` the value ``P_i(ℓ)``,
encrypted with hashed ElGamal to ``K_ℓ = K_ℓ0`` and authenticated with HMAC-SHA-256 (§3.2.2, share
encryption). The recipient decrypts, checks the MAC and checks ``g^P_i(ℓ) = Π_j K_ij^(ℓ^j)``; any failure
raises ``CeremonyError`` naming the sender. Guardian ``ℓ``'s key share is ``P(ℓ) = Σ_i P_i(ℓ)``; the joint
key is ``K = Π_i K_i0`` (§3.2.3).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from dataclasses import dataclass
from typing import Any

from saylau.crypto._serial import bytes_from_hex, expect_keys, parse_errors, want_int, want_list
from saylau.crypto.hazmat.group import Point, Q, combine, g_pow, scalar_from_hex, scalar_to_hex
from saylau.crypto.hazmat.hashing import hash_bytes
from saylau.crypto.hazmat.proofs import prove_schnorr
from saylau.crypto.keys import (
    GuardianRecord,
    JointPublicKey,
    coefficient_context,
    extended_base_hash,
    verify_guardian_record,
)
from saylau.crypto.params import ElectionParameters
from saylau.errors import CeremonyError

__all__ = ["EncryptedShare", "Guardian", "run_key_ceremony"]

_SHARE_KEY_TAG = "saylau/v1/share-key"


@dataclass(frozen=True)
class EncryptedShare:
    """``P_sender(recipient)`` in hashed ElGamal: ``α = g^ν``, ciphertext ``c1``, MAC ``c2`` (§3.2.2)."""

    sender: int
    recipient: int
    alpha: Point
    c1: bytes
    c2: bytes

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-able form (safe to send over an untrusted channel)."""
        return {
            "sender": self.sender,
            "recipient": self.recipient,
            "alpha": self.alpha.hex(),
            "c1": self.c1.hex(),
            "c2": self.c2.hex(),
        }

    @classmethod
    def from_dict(cls, d: Any) -> EncryptedShare:
        """Parse the form written by ``to_dict``; raise ``CeremonyError`` naming the bad field."""
        what = "encrypted share"
        with parse_errors(what, CeremonyError):
            d = expect_keys(d, {"sender", "recipient", "alpha", "c1", "c2"}, what)
            return cls(
                want_int(d, "sender", what),
                want_int(d, "recipient", what),
                Point.from_hex(d["alpha"], f"{what}.alpha"),
                bytes_from_hex(d["c1"], 32, f"{what}.c1"),
                bytes_from_hex(d["c2"], 32, f"{what}.c2"),
            )


def _share_keys(
    base_hash: bytes, sender: int, recipient: int, K_l: Point, alpha: Point, beta: Point
) -> tuple[bytes, bytes]:
    """Derive the encryption and MAC keys from the shared secret ``β`` (a KDF in counter mode, §3.2.2)."""
    k = hash_bytes(_SHARE_KEY_TAG, base_hash, sender, recipient, K_l, alpha, beta)
    label = b"saylau share" + sender.to_bytes(4, "big") + recipient.to_bytes(4, "big")
    k1 = hmac.new(k, b"\x01" + label, hashlib.sha256).digest()
    k2 = hmac.new(k, b"\x02" + label, hashlib.sha256).digest()
    return k1, k2


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _eval_poly(coefficients: list[int], x: int) -> int:
    y = 0
    for a in reversed(coefficients):
        y = (y * x + a) % Q
    return y


class Guardian:
    """The secret side of one guardian. Holds its polynomial and, after ``finish``, its key share ``P(i)``."""

    def __init__(self, index: int, n: int, k: int, base_hash: bytes, coefficients: list[int]) -> None:
        if not 1 <= k <= n or not 1 <= index <= n:
            raise ValueError(f"guardian: need 1 ≤ k ≤ n and 1 ≤ index ≤ n (index={index}, n={n}, k={k})")
        if len(coefficients) != k:
            raise ValueError(f"guardian {index}: need {k} coefficients")
        self.index, self.n, self.k, self.base_hash = index, n, k, base_hash
        self._coefficients = [a % Q for a in coefficients]
        self._received: dict[int, int] = {index: _eval_poly(self._coefficients, index)}
        self._records: dict[int, GuardianRecord] = {}
        self._joint_key: JointPublicKey | None = None
        self._record: GuardianRecord | None = None
        self._share: int | None = None

    @classmethod
    def generate(
        cls, index: int, n: int, k: int, base_hash: bytes, rng: random.Random | None = None
    ) -> Guardian:
        """Draw a fresh secret polynomial of degree ``k−1`` (OS CSPRNG unless ``rng`` is given for tests)."""
        source = rng if rng is not None else secrets.SystemRandom()
        guardian = cls(index, n, k, base_hash, [source.randrange(1, Q) for _ in range(k)])
        guardian.public_record(source)
        return guardian

    def __repr__(self) -> str:
        return f"Guardian(index={self.index}, n={self.n}, k={self.k}, <secret>)"

    def public_record(self, rng: random.Random | None = None) -> GuardianRecord:
        """Return the commitments ``K_ij = g^a_ij`` and a Schnorr proof for each (computed once)."""
        if self._record is None:
            source = rng if rng is not None else secrets.SystemRandom()
            commitments = tuple(g_pow(a) for a in self._coefficients)

            def draw() -> int:
                return source.randrange(1, Q)

            proofs = tuple(
                prove_schnorr(a, c, coefficient_context(self.base_hash, self.index, j), draw)
                for j, (a, c) in enumerate(zip(self._coefficients, commitments, strict=True))
            )
            self._record = GuardianRecord(self.index, commitments, proofs)
        return self._record

    def share_for(self, other_index: int, other_record: GuardianRecord) -> EncryptedShare:
        """Encrypt ``P_i(ℓ)`` for guardian ``ℓ`` to its public key ``K_ℓ0`` (after checking its proofs)."""
        if other_record.index != other_index or other_index == self.index or not 1 <= other_index <= self.n:
            raise ValueError(f"guardian {self.index}: cannot make a share for guardian {other_index}")
        verify_guardian_record(other_record, self.base_hash)
        K_l = other_record.public_key
        nu = secrets.randbelow(Q - 1) + 1
        alpha, beta = g_pow(nu), K_l**nu
        k1, k2 = _share_keys(self.base_hash, self.index, other_index, K_l, alpha, beta)
        c1 = _xor(_eval_poly(self._coefficients, other_index).to_bytes(32, "big"), k1)
        c2 = hmac.new(k2, alpha.to_bytes() + c1, hashlib.sha256).digest()
        return EncryptedShare(self.index, other_index, alpha, c1, c2)

    def receive_share(self, share: EncryptedShare, sender_record: GuardianRecord) -> None:
        """Decrypt and check a share; raise ``CeremonyError`` naming the sender if anything is wrong."""
        sender = share.sender
        if share.recipient != self.index:
            raise CeremonyError(f"guardian {sender}: share addressed to {share.recipient}, not {self.index}")
        if sender_record.index != sender or sender == self.index:
            raise CeremonyError(f"guardian {sender}: share does not match record {sender_record.index}")
        verify_guardian_record(sender_record, self.base_hash)
        if len(sender_record.commitments) != self.k:
            got = len(sender_record.commitments)
            raise CeremonyError(f"guardian {sender}: {got} commitments, expected {self.k}")
        own_key = self.public_record().public_key
        beta = share.alpha ** self._coefficients[0]
        k1, k2 = _share_keys(self.base_hash, sender, self.index, own_key, share.alpha, beta)
        mac = hmac.new(k2, share.alpha.to_bytes() + share.c1, hashlib.sha256).digest()
        if not hmac.compare_digest(mac, share.c2):
            raise CeremonyError(f"guardian {sender}: share for guardian {self.index} fails its MAC")
        value = int.from_bytes(_xor(share.c1, k1), "big")
        if value >= Q:
            raise CeremonyError(f"guardian {sender}: share for guardian {self.index} is not a scalar")
        expected = combine(c ** (self.index**j) for j, c in enumerate(sender_record.commitments))
        if g_pow(value) != expected:
            raise CeremonyError(
                f"guardian {sender}: share for guardian {self.index} does not match the sender's commitments "
                "(g^P_i(ℓ) ≠ Π_j K_ij^(ℓ^j))"
            )
        self._received[sender] = value
        self._records[sender] = sender_record

    def finish(self) -> None:
        """Compute the key share ``P(i) = Σ_j P_j(i)`` once a share from every guardian has arrived."""
        missing = sorted(set(range(1, self.n + 1)) - set(self._received))
        if missing:
            raise CeremonyError(f"guardian {self.index}: no share yet from guardians {missing}")
        self._share = sum(self._received.values()) % Q
        records = {**self._records, self.index: self.public_record()}
        ordered = tuple(records[i] for i in range(1, self.n + 1))
        self._joint_key = JointPublicKey(combine(r.public_key for r in ordered), ordered, self.k)
        if g_pow(self._share) != self._joint_key.verification_key(self.index):
            raise CeremonyError(f"guardian {self.index}: key share does not match the public commitments")

    @property
    def joint_key(self) -> JointPublicKey:
        """The joint key as this guardian computed it from the records it received."""
        if self._joint_key is None:
            raise CeremonyError(f"guardian {self.index}: key ceremony not finished")
        return self._joint_key

    def check_published(self, params: ElectionParameters) -> None:
        """Refuse (``CeremonyError``) published parameters that are not those of this guardian's ceremony.

        The server publishes the joint key that voters encrypt to; a guardian must not lend its key share
        to any other. Checked against what this guardian saw: the base hash ``H_B`` it was set up with
        (which binds the manifest, ``n`` and ``k``), its own record, every other guardian's commitments
        as received with their shares, ``K`` and ``H_E``. Call it when the key is published and again
        before decrypting (``partial_decrypt`` does). The contests are bound by the manifest, which the
        verifier checks against the parameters; this guardian checks only the ceremony's part.
        """
        i = self.index
        where = f"guardian {i}: refusing the published election parameters, not those of its ceremony"
        if params.base_hash != self.base_hash:
            raise CeremonyError(
                f"{where}: base hash {params.base_hash.hex()} is not {self.base_hash.hex()} "
                "(another manifest, number of guardians or quorum)"
            )
        key, mine = params.joint_key, self.joint_key
        if (key.n, key.quorum) != (self.n, self.k):
            raise CeremonyError(
                f"{where}: {key.quorum} of {key.n} guardians, the ceremony had {self.k} of {self.n}"
            )
        for published, seen in zip(key.guardian_records, mine.guardian_records, strict=True):
            if published.commitments != seen.commitments:
                what = (
                    "its own commitments are not the ones it published"
                    if seen.index == i
                    else f"guardian {seen.index}'s commitments are not the ones it sent with its share"
                )
                raise CeremonyError(
                    f"{where}: in the published joint key, {what} "
                    f"(published K = {key.K.hex()}, the ceremony's K = {mine.K.hex()})"
                )
        if key.K != mine.K or params.extended_base_hash != self.extended_base_hash:
            raise CeremonyError(f"{where}: joint key K = {key.K.hex()} is not {mine.K.hex()}")

    @property
    def extended_base_hash(self) -> bytes:
        """``H_E`` for this ceremony (EG 2.0 §3.2.3), which the guardian's decryption proofs bind."""
        return extended_base_hash(self.base_hash, self.joint_key)

    def to_private_dict(self) -> dict[str, Any]:
        """Return the guardian's **secret** state (polynomial, shares received) for its own key file.

        Never put this in the election record, a log or a message to anyone but the guardian.
        """
        return {
            "index": self.index,
            "n": self.n,
            "k": self.k,
            "base_hash": self.base_hash.hex(),
            "coefficients": [scalar_to_hex(a) for a in self._coefficients],
            "record": self.public_record().to_dict(),
            "received": {str(i): scalar_to_hex(v) for i, v in sorted(self._received.items())},
            "records": [r.to_dict() for _, r in sorted(self._records.items())],
        }

    @classmethod
    def from_private_dict(cls, d: Any) -> Guardian:
        """Restore a guardian from ``to_private_dict``; finishes it again if every share is there."""
        what = "guardian key file"
        with parse_errors(what, CeremonyError):
            d = expect_keys(
                d, {"index", "n", "k", "base_hash", "coefficients", "record", "received", "records"}, what
            )
            coefficients = [
                scalar_from_hex(a, f"{what}.coefficients") for a in want_list(d, "coefficients", what)
            ]
            g = cls(
                want_int(d, "index", what),
                want_int(d, "n", what),
                want_int(d, "k", what),
                bytes_from_hex(d["base_hash"], 32, f"{what}.base_hash"),
                coefficients,
            )
            record = GuardianRecord.from_dict(d["record"])
            if record.index != g.index or record.commitments != tuple(g_pow(a) for a in g._coefficients):
                raise ValueError("the public record does not match the secret coefficients")
            g._record = record
            received = d["received"]
            if not isinstance(received, dict):
                raise ValueError("received: expected an object")
            g._received = {int(i): scalar_from_hex(v, f"{what}.received") for i, v in received.items()}
            g._records = {
                r.index: r for r in (GuardianRecord.from_dict(x) for x in want_list(d, "records", what))
            }
        if len(g._received) == g.n:
            g.finish()
        return g

    @property
    def key_share(self) -> int:
        """The secret ``P(i)``; raise ``CeremonyError`` before ``finish``."""
        if self._share is None:
            raise CeremonyError(f"guardian {self.index}: key ceremony not finished")
        return self._share


def run_key_ceremony(
    n: int, k: int, base_hash: bytes, rng: random.Random | None = None
) -> tuple[list[Guardian], JointPublicKey]:
    """Run a whole ceremony in one process (demos and tests): every share is encrypted, sent and checked."""
    guardians = [Guardian.generate(i, n, k, base_hash, rng) for i in range(1, n + 1)]
    records = [g.public_record() for g in guardians]
    for rec in records:
        verify_guardian_record(rec, base_hash)
    for sender in guardians:
        for receiver in guardians:
            if receiver is not sender:
                share = sender.share_for(receiver.index, records[receiver.index - 1])
                receiver.receive_share(share, records[sender.index - 1])
    for g in guardians:
        g.finish()
    K = combine(r.public_key for r in records)
    return guardians, JointPublicKey(K, tuple(records), k)
