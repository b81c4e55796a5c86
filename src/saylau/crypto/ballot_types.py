"""Encrypted ballot types and their record form (EG 2.0 §3.3 ballot structure, §3.4 confirmation codes).

Kept apart from ``ballot`` (encryption and verification) so that readers and writers of the election record
can parse ballots without pulling in the provers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from saylau.crypto._serial import bytes_from_hex, expect_keys, parse_errors, want_list, want_str
from saylau.crypto.hazmat.elgamal import Ciphertext
from saylau.crypto.hazmat.hashing import HashPart, hash_bytes
from saylau.crypto.hazmat.proofs import RangeProof
from saylau.errors import InvalidBallot

__all__ = [
    "REVOTE_TAG_BYTES",
    "BallotSecret",
    "EncryptedBallot",
    "EncryptedContest",
    "EncryptedSelection",
    "record_tracking_code",
    "tracking_code",
]

_BALLOT_TAG = "saylau/v1/ballot-hash"
_CODE_TAG = "saylau/v1/tracking-code"

REVOTE_TAG_BYTES = 32
"""Length of a remote ballot's revote tag (an HMAC-SHA-256 output)."""


def tracking_code(previous_code: bytes, ballot_hash: bytes) -> bytes:
    """Return ``H(previous code, ballot hash)``: the chained confirmation code of EG 2.0 §3.4.4."""
    return hash_bytes(_CODE_TAG, previous_code, ballot_hash)


def _scalars(proof: Mapping[str, Any]) -> list[int]:
    return [int(x, 16) for x in (*proof["challenges"], *proof["responses"])]


def record_tracking_code(ballot: Mapping[str, Any]) -> str:
    """The tracking code (hex) a ballot in record form must carry: ``H(previous code, ballot hash)``.

    Equal to ``tracking_code(b.previous_code, b.crypto_hash()).hex()`` for ``b =
    EncryptedBallot.from_dict(ballot)``, computed from the hex fields without parsing a point (the
    store's compact codec derives a stored ballot's code with it, so it need not store the code).
    ``KeyError``/``ValueError``/``TypeError`` for a malformed ballot.
    """
    parts: list[HashPart] = [ballot["ballot_id"], ballot["style_id"]]
    if "revote_tag" in ballot:
        parts.append(bytes.fromhex(ballot["revote_tag"]))
    contests = ballot["contests"]
    parts.append(len(contests))
    for c in contests:
        sels = c["selections"]
        parts += (c["contest_id"], len(sels), *_scalars(c["proof"]))
        for s in sels:
            alpha, beta = bytes.fromhex(s["alpha"]), bytes.fromhex(s["beta"])
            parts += (s["selection_id"], alpha, beta, len(s["proof"]["challenges"]), *_scalars(s["proof"]))
    ballot_hash = hash_bytes(_BALLOT_TAG, *parts)
    return tracking_code(bytes.fromhex(ballot["previous_code"]), ballot_hash).hex()


@dataclass(frozen=True, slots=True)
class EncryptedSelection:
    """One selection: its ciphertext ``(α, β)`` and the proof that it encrypts 0 or 1 (EG 2.0 §3.3.5)."""

    selection_id: str
    ciphertext: Ciphertext
    proof: RangeProof

    def to_dict(self) -> dict[str, Any]:
        """Return the record form."""
        return {"selection_id": self.selection_id, **self.ciphertext.to_dict(), "proof": self.proof.to_dict()}

    @classmethod
    def from_dict(cls, d: Any, what: str) -> EncryptedSelection:
        """Parse the record form (``ValueError`` naming the field)."""
        d = expect_keys(d, {"selection_id", "alpha", "beta", "proof"}, what)
        sid = want_str(d, "selection_id", what)
        what = f"{what} ({sid})"
        ct = Ciphertext.from_dict({"alpha": d["alpha"], "beta": d["beta"]}, what)
        return cls(sid, ct, RangeProof.from_dict(d["proof"], f"{what}.proof"))


@dataclass(frozen=True, slots=True)
class EncryptedContest:
    """One contest: its selections in manifest order and the contest-limit proof (EG 2.0 §3.3.6)."""

    contest_id: str
    selections: tuple[EncryptedSelection, ...]
    proof: RangeProof

    def to_dict(self) -> dict[str, Any]:
        """Return the record form."""
        return {
            "contest_id": self.contest_id,
            "selections": [s.to_dict() for s in self.selections],
            "proof": self.proof.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Any, what: str) -> EncryptedContest:
        """Parse the record form (``ValueError`` naming the field)."""
        d = expect_keys(d, {"contest_id", "selections", "proof"}, what)
        cid = want_str(d, "contest_id", what)
        what = f"{what} ({cid})"
        sels = tuple(
            EncryptedSelection.from_dict(s, f"{what}.selections[{i}]")
            for i, s in enumerate(want_list(d, "selections", what))
        )
        return cls(cid, sels, RangeProof.from_dict(d["proof"], f"{what}.proof"))


@dataclass(frozen=True)
class EncryptedBallot:
    """A ballot as published: ciphertexts, proofs and the chained tracking code.

    ``code = H(previous_code, crypto_hash())``; ``crypto_hash`` covers everything but the two codes.
    ``revote_tag`` (32 bytes, remote ballots only) is the revote service's opaque per-voter tag: all
    ballots of one remote voter carry the same tag, so a verifier can check that only the voter's last
    ballot counts; it is inside the ballot hash, hence bound to the tracking code the voter keeps.
    """

    ballot_id: str
    style_id: str
    contests: tuple[EncryptedContest, ...]
    code: bytes
    previous_code: bytes
    revote_tag: bytes | None = None
    _hash: list[bytes] = field(default_factory=list, init=False, repr=False, compare=False)

    def crypto_hash(self) -> bytes:
        """Hash of the ballot's id, style, every ciphertext and every proof (EG 2.0 §3.4.1–3.4.2).

        A revote tag, when present, is a bytes part right after the style id; without one that place holds
        the number of contests (an integer part), so tagged and untagged ballots never hash alike.
        """
        if not self._hash:
            parts: list[bytes | int | str] = [self.ballot_id, self.style_id]
            if self.revote_tag is not None:
                parts.append(self.revote_tag)
            parts.append(len(self.contests))
            for c in self.contests:
                parts += (c.contest_id, len(c.selections), *c.proof.challenges, *c.proof.responses)
                for s in c.selections:
                    parts += (s.selection_id, s.ciphertext.alpha.to_bytes(), s.ciphertext.beta.to_bytes())
                    parts += (len(s.proof.challenges), *s.proof.challenges, *s.proof.responses)
            self._hash.append(hash_bytes(_BALLOT_TAG, *parts))
        return self._hash[0]

    def __post_init__(self) -> None:
        if self.revote_tag is not None and len(self.revote_tag) != REVOTE_TAG_BYTES:
            raise InvalidBallot(f"ballot {self.ballot_id}: revote tag must be {REVOTE_TAG_BYTES} bytes")

    def to_dict(self) -> dict[str, Any]:
        """Return the record form (``revote_tag`` only when the ballot carries one)."""
        out: dict[str, Any] = {
            "ballot_id": self.ballot_id,
            "style_id": self.style_id,
            "contests": [c.to_dict() for c in self.contests],
            "code": self.code.hex(),
            "previous_code": self.previous_code.hex(),
        }
        if self.revote_tag is not None:
            out["revote_tag"] = self.revote_tag.hex()
        return out

    @classmethod
    def from_dict(cls, d: Any) -> EncryptedBallot:
        """Parse the record form; raise ``InvalidBallot`` naming the ballot and the bad field."""
        what = "ballot"
        if isinstance(d, dict) and isinstance(d.get("ballot_id"), str):
            what = f"ballot {d['ballot_id']}"
        with parse_errors(what, InvalidBallot):
            keys = {"ballot_id", "style_id", "contests", "code", "previous_code"}
            tagged = isinstance(d, dict) and "revote_tag" in d
            d = expect_keys(d, keys | {"revote_tag"} if tagged else keys, what)
            contests = tuple(
                EncryptedContest.from_dict(c, f"contests[{i}]")
                for i, c in enumerate(want_list(d, "contests", what))
            )
            return cls(
                want_str(d, "ballot_id", what),
                want_str(d, "style_id", what),
                contests,
                bytes_from_hex(d["code"], 32, "code"),
                bytes_from_hex(d["previous_code"], 32, "previous_code"),
                bytes_from_hex(d["revote_tag"], REVOTE_TAG_BYTES, "revote_tag") if tagged else None,
            )


@dataclass(frozen=True)
class BallotSecret:
    """What only the voter's device knows: the ballot nonce ``ξ_B`` and the plaintext choices.

    Selection nonces derive from ``ξ_B`` (EG 2.0 §3.3.2), so revealing it opens a challenged ballot
    (Benaloh challenge). Never stored in the record for a cast ballot; never logged.
    """

    ballot_id: str
    ballot_nonce: bytes
    choices: dict[str, tuple[str, ...]]

    def __repr__(self) -> str:
        return f"BallotSecret(ballot_id={self.ballot_id!r}, <secret>)"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able form (only for a device's own storage or a challenge)."""
        return {
            "ballot_id": self.ballot_id,
            "ballot_nonce": self.ballot_nonce.hex(),
            "choices": {k: list(v) for k, v in sorted(self.choices.items())},
        }

    @classmethod
    def from_dict(cls, d: Any) -> BallotSecret:
        """Parse the form written by ``to_dict``."""
        what = "ballot secret"
        with parse_errors(what, InvalidBallot):
            d = expect_keys(d, {"ballot_id", "ballot_nonce", "choices"}, what)
            choices = d["choices"]
            if not isinstance(choices, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(s, str) for s in v)
                for k, v in choices.items()
            ):
                raise ValueError("choices must map contest ids to lists of selection ids")
            return cls(
                want_str(d, "ballot_id", what),
                bytes_from_hex(d["ballot_nonce"], 32, "ballot_nonce"),
                {k: tuple(v) for k, v in choices.items()},
            )
