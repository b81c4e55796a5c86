"""Benaloh cast-or-challenge: a challenged ballot is opened by its nonce, checked, published, never counted.

ElectionGuard 2.0 (§3.6, decryption of challenged ballots; §3.6.7 in v2.1) lets a voter audit the device:
instead of casting, the voter challenges the ballot, the device reveals the ballot nonce ``ξ_B`` and the
choices, and anyone re-derives the selection nonces (§3.3.2) and re-encrypts. If the device encrypted
something other than what it showed the voter, the re-encryption differs and ``verify_challenged_ballot``
raises. The ballot stays in its device's tracking-code chain but never enters a tally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from saylau.crypto._serial import bytes_from_hex, expect_keys, parse_errors
from saylau.crypto.ballot import selection_nonce, selection_votes, verify_ballot
from saylau.crypto.ballot_types import BallotSecret, EncryptedBallot
from saylau.crypto.hazmat.elgamal import encrypt
from saylau.crypto.params import ElectionParameters
from saylau.errors import InvalidBallot

__all__ = ["ChallengedBallot", "open_challenged_ballot", "verify_challenged_ballot"]


@dataclass(frozen=True)
class ChallengedBallot:
    """A spoiled ballot with its revealed nonce and the plaintext choices it claims to encrypt."""

    ballot: EncryptedBallot
    ballot_nonce: bytes
    choices: dict[str, tuple[str, ...]]

    @property
    def ballot_id(self) -> str:
        """The id of the challenged ballot."""
        return self.ballot.ballot_id

    def to_dict(self) -> dict[str, Any]:
        """Return the record form."""
        return {
            "ballot": self.ballot.to_dict(),
            "ballot_nonce": self.ballot_nonce.hex(),
            "choices": {k: list(v) for k, v in sorted(self.choices.items())},
        }

    @classmethod
    def from_dict(cls, d: Any) -> ChallengedBallot:
        """Parse the record form; raise ``InvalidBallot`` naming the bad field."""
        what = "challenged ballot"
        with parse_errors(what, InvalidBallot):
            d = expect_keys(d, {"ballot", "ballot_nonce", "choices"}, what)
            ballot = EncryptedBallot.from_dict(d["ballot"])
            what = f"challenged ballot {ballot.ballot_id}"
            choices = d["choices"]
            if not isinstance(choices, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(s, str) for s in v)
                for k, v in choices.items()
            ):
                raise ValueError(f"{what}: choices must map contest ids to lists of selection ids")
            nonce = bytes_from_hex(d["ballot_nonce"], 32, f"{what}.ballot_nonce")
            return cls(ballot, nonce, {k: tuple(v) for k, v in choices.items()})


def open_challenged_ballot(
    params: ElectionParameters, ballot: EncryptedBallot, secret: BallotSecret
) -> ChallengedBallot:
    """Reveal a ballot's nonce and choices; checks the opening before returning it (raises if it fails)."""
    if secret.ballot_id != ballot.ballot_id:
        raise InvalidBallot(f"ballot {ballot.ballot_id}: the secret belongs to ballot {secret.ballot_id}")
    opened = ChallengedBallot(ballot, secret.ballot_nonce, dict(secret.choices))
    verify_challenged_ballot(params, opened)
    return opened


def verify_challenged_ballot(params: ElectionParameters, challenged: ChallengedBallot) -> None:
    """Check the ballot's proofs, then re-encrypt the claimed choices with the revealed nonce.

    Raises ``InvalidBallot`` naming the ballot, contest and selection whose ciphertext differs, i.e. the
    device lied about the plaintext (or the published opening was altered).
    """
    ballot = challenged.ballot
    bid = ballot.ballot_id
    verify_ballot(params, ballot)
    if set(challenged.choices) != {c.contest_id for c in ballot.contests}:
        raise InvalidBallot(f"challenged ballot {bid}: choices do not cover exactly the ballot's contests")
    K = params.joint_key.K
    h_e = params.extended_base_hash
    for contest in ballot.contests:
        spec = params.contest(contest.contest_id)
        votes = selection_votes(spec, challenged.choices[contest.contest_id], bid)
        for s, vote in zip(contest.selections, votes, strict=True):
            xi = selection_nonce(h_e, challenged.ballot_nonce, bid, contest.contest_id, s.selection_id)
            if encrypt(K, vote, xi) != s.ciphertext:
                raise InvalidBallot(
                    f"challenged ballot {bid}: contest {contest.contest_id}: selection {s.selection_id}: "
                    f"the revealed nonce does not re-encrypt the claimed vote {vote}"
                )
