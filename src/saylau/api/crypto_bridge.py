"""The server's only door to ``saylau.crypto`` (the safe tier, contract in docs/crypto-api.md).

Everything here parses a JSON payload into a crypto object and verifies it, raising the crypto layer's
exceptions (``InvalidBallot``, ``InvalidProof``, ``CeremonyError``, ``DecryptionError``) or
``RecordError`` naming the bad field. Parsed election parameters are cached per election and key.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from typing import Any

from saylau.errors import CeremonyError

__all__ = [
    "ParamsCache",
    "add_to_tally",
    "base_hash_for",
    "combine_decryption",
    "empty_tally",
    "joint_key_from_records",
    "parse_ballot",
    "verify_ballot",
    "verify_challenged",
    "verify_guardian_record",
    "verify_partial",
]


def _crypto() -> Any:
    return importlib.import_module("saylau.crypto")


def base_hash_for(manifest_hash: bytes, guardians: int, quorum: int) -> bytes:
    """Base hash H_B binding the manifest and the ceremony's size (EG 2.0 §3.1.3, our tag)."""
    h = hashlib.sha256()
    for part in (
        b"saylau/base-hash/v1",
        manifest_hash,
        guardians.to_bytes(4, "big"),
        quorum.to_bytes(4, "big"),
    ):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.digest()


def verify_guardian_record(record: dict[str, Any], base_hash: bytes) -> Any:
    """Parse and check a guardian's public record (Schnorr proofs of every commitment)."""
    c = _crypto()
    rec = c.GuardianRecord.from_dict(record)
    c.verify_guardian_record(rec, base_hash)
    return rec


def joint_key_from_records(records: list[dict[str, Any]], quorum: int, base_hash: bytes) -> Any:
    """The joint key K = Π_i K_i0 (EG 2.0 §3.2.3) from every guardian's record, each proof re-checked."""
    c = _crypto()
    parsed = tuple(c.GuardianRecord.from_dict(r) for r in records)
    if len(parsed) < quorum:
        raise CeremonyError(f"joint key: {len(parsed)} guardian records, quorum is {quorum}")
    return c.joint_public_key(parsed, quorum, base_hash)


class ParamsCache:
    """Parsed ``ElectionParameters`` per election (parsing checks H_E, so do it once)."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], Any] = {}

    def get(self, election_id: str, params: dict[str, Any]) -> Any:
        """Parameters of ``election_id`` from their record form."""
        key = (election_id, str(params.get("extended_base_hash")))
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            found = _crypto().ElectionParameters.from_dict(params)
            with self._lock:
                self._cache[key] = found
        return found


def make_params(base_hash: bytes, joint_key: Any, contest_specs: tuple[Any, ...]) -> Any:
    """Build election parameters."""
    return _crypto().ElectionParameters(base_hash, joint_key, contest_specs)


def parse_ballot(payload: dict[str, Any]) -> Any:
    """Parse an encrypted ballot (``InvalidBallot``/``RecordError`` name the field)."""
    return _crypto().EncryptedBallot.from_dict(payload)


def verify_ballot(params: Any, ballot: Any) -> None:
    """Check every proof of an encrypted ballot."""
    _crypto().verify_ballot(params, ballot)


def verify_challenged(params: Any, payload: dict[str, Any]) -> Any:
    """Parse and check an opened (challenged) ballot."""
    c = _crypto()
    challenged = c.ChallengedBallot.from_dict(payload)
    c.verify_challenged_ballot(params, challenged)
    return challenged


def empty_tally(params: Any) -> Any:
    """An encrypted tally with zero in every selection."""
    return _crypto().EncryptedTally.empty(params.contests)


def add_to_tally(tally: Any, ballot: Any) -> None:
    """Add one cast ballot homomorphically."""
    tally.add_ballot(ballot)


def verify_partial(params: Any, tally: Any, payload: dict[str, Any]) -> Any:
    """Parse and check a guardian's partial decryption of the tally."""
    c = _crypto()
    partial = c.PartialDecryption.from_dict(payload)
    c.verify_partial_decryption(params, tally, partial)
    return partial


def combine_decryption(params: Any, tally: Any, partials: list[Any], max_count: int) -> Any:
    """Combine ≥ quorum partial decryptions into the plaintext tally (and check it)."""
    c = _crypto()
    plaintext = c.combine_decryption(params, tally, partials, max_count)
    c.verify_plaintext_tally(params, tally, plaintext)
    return plaintext


def tally_from_dict(payload: dict[str, Any]) -> Any:
    """Parse a stored encrypted tally."""
    return _crypto().EncryptedTally.from_dict(payload)
