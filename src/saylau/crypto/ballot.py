"""Ballot encryption and verification, the safe tier over ``hazmat`` (EG 2.0 §3.3).

``encrypt_ballot`` encrypts every selection as ``(g^ξ, K^(σ+ξ))`` with a 0/1 range proof (§3.3.5) and
proves each contest's number of marks (§3.3.6); ``verify_ballot`` checks all of it and the ballot's own
tracking code.
Selection nonces derive from one ballot nonce ``ξ_B`` (§3.3.2), which is what a Benaloh challenge reveals.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence

from saylau.crypto.ballot_types import (
    BallotSecret,
    EncryptedBallot,
    EncryptedContest,
    EncryptedSelection,
    tracking_code,
)
from saylau.crypto.hazmat.elgamal import encrypt, product
from saylau.crypto.hazmat.group import Q, random_scalar
from saylau.crypto.hazmat.hashing import hash_to_scalar
from saylau.crypto.hazmat.proofs import prove_range, verify_range
from saylau.crypto.params import ContestSpec, ElectionParameters
from saylau.crypto.tracking import DeviceChain
from saylau.errors import InvalidBallot, InvalidProof

__all__ = ["NO_DEVICE_CODE", "encrypt_ballot", "selection_nonce", "selection_votes", "verify_ballot"]

NO_DEVICE_CODE = bytes(32)
"""``previous_code`` of a ballot encrypted outside any device chain."""

_NONCE_TAG = "saylau/v1/selection-nonce"
_SELECTION_VALUES = (0, 1)


def selection_nonce(
    h_e: bytes, ballot_nonce: bytes, ballot_id: str, contest_id: str, selection_id: str
) -> int:
    """``ξ = H(H_E, ξ_B, ballot, contest, selection)`` mod q (EG 2.0 §3.3.2), never zero."""
    return hash_to_scalar(_NONCE_TAG, h_e, ballot_nonce, ballot_id, contest_id, selection_id) or 1


def selection_votes(spec: ContestSpec, chosen: Sequence[str], ballot_id: str) -> list[int]:
    """Return the 0/1 vote per selection of ``spec``; raise ``InvalidBallot`` for a malformed choice."""
    picked = set(chosen)
    if len(picked) != len(chosen):
        raise InvalidBallot(f"ballot {ballot_id}: contest {spec.contest_id}: a selection is chosen twice")
    where = f"ballot {ballot_id}: contest {spec.contest_id}"
    unknown = picked - set(spec.selection_ids)
    if unknown:
        raise InvalidBallot(f"{where}: unknown selections {sorted(unknown)}")
    if len(picked) not in spec.allowed_totals:
        raise InvalidBallot(f"{where}: {len(picked)} marks, allowed {spec.allowed_totals}")
    return [1 if s in picked else 0 for s in spec.selection_ids]


def _contexts(h_e: bytes, ballot_id: str, contest_id: str) -> tuple[bytes, str, str]:
    return (h_e, ballot_id, contest_id)


def encrypt_ballot(
    params: ElectionParameters,
    ballot_id: str,
    style_id: str,
    choices: Mapping[str, Sequence[str]],
    device: DeviceChain | None = None,
    rng: random.Random | None = None,
    revote_tag: bytes | None = None,
) -> tuple[EncryptedBallot, BallotSecret]:
    """Encrypt a voter's choices; return the published ballot and the secret that can open it.

    ``choices`` maps each contest on the ballot to the chosen selection ids. ``rng`` (default: the OS
    CSPRNG) draws the ballot nonce and the proof nonces; pass ``random.Random(seed)`` only for test vectors.
    With a ``device`` the tracking code is chained on it (EG 2.0 §3.4.4). ``revote_tag`` (a remote
    voter's 32-byte tag from the revote service) goes inside the ballot hash, before the code is computed.
    """
    if not ballot_id:
        raise InvalidBallot("ballot: empty ballot id")
    if rng is None:
        nonce = random_scalar
        ballot_nonce = secrets.token_bytes(32)
    else:
        seeded = rng

        def nonce() -> int:
            return seeded.getrandbits(320) % (Q - 1) + 1

        ballot_nonce = rng.getrandbits(256).to_bytes(32, "big")
    K = params.joint_key.K
    h_e = params.extended_base_hash
    contests: list[EncryptedContest] = []
    for contest_id, chosen in choices.items():
        try:
            spec = params.contest(contest_id)
        except KeyError:
            raise InvalidBallot(f"ballot {ballot_id}: unknown contest {contest_id!r}") from None
        votes = selection_votes(spec, chosen, ballot_id)
        context = _contexts(h_e, ballot_id, contest_id)
        selections: list[EncryptedSelection] = []
        total_nonce = 0
        for selection_id, vote in zip(spec.selection_ids, votes, strict=True):
            xi = selection_nonce(h_e, ballot_nonce, ballot_id, contest_id, selection_id)
            ct = encrypt(K, vote, xi)
            proof = prove_range(K, ct, xi, vote, _SELECTION_VALUES, (*context, selection_id), nonce)
            selections.append(EncryptedSelection(selection_id, ct, proof))
            total_nonce += xi
        aggregate = product([s.ciphertext for s in selections])
        limit_proof = prove_range(
            K, aggregate, total_nonce % Q, sum(votes), spec.allowed_totals, context, nonce
        )
        contests.append(EncryptedContest(contest_id, tuple(selections), limit_proof))
    if not contests:
        raise InvalidBallot(f"ballot {ballot_id}: no contests")
    draft = EncryptedBallot(
        ballot_id, style_id, tuple(contests), NO_DEVICE_CODE, NO_DEVICE_CODE, revote_tag
    )
    ballot_hash = draft.crypto_hash()
    if device is None:
        previous, code = NO_DEVICE_CODE, tracking_code(NO_DEVICE_CODE, ballot_hash)
    else:
        previous = device.last_code
        code = device.next(ballot_hash)
    ballot = EncryptedBallot(ballot_id, style_id, tuple(contests), code, previous, revote_tag)
    secret = BallotSecret(ballot_id, ballot_nonce, {k: tuple(v) for k, v in choices.items()})
    return ballot, secret


def verify_ballot(params: ElectionParameters, ballot: EncryptedBallot) -> None:
    """Check a ballot's structure, proofs and tracking code; raise ``InvalidBallot`` naming the fault.

    The chain link to the previous ballot on the device is checked by ``verify_device_chain``.
    """
    bid = ballot.ballot_id
    K = params.joint_key.K
    h_e = params.extended_base_hash
    seen: set[str] = set()
    if not ballot.contests:
        raise InvalidBallot(f"ballot {bid}: no contests")
    for contest in ballot.contests:
        cid = contest.contest_id
        try:
            spec = params.contest(cid)
        except KeyError:
            raise InvalidBallot(f"ballot {bid}: unknown contest {cid!r}") from None
        if cid in seen:
            raise InvalidBallot(f"ballot {bid}: contest {cid} appears twice")
        seen.add(cid)
        if tuple(s.selection_id for s in contest.selections) != spec.selection_ids:
            raise InvalidBallot(f"ballot {bid}: contest {cid}: selections differ from the manifest's")
        context = _contexts(h_e, bid, cid)
        try:
            for s in contest.selections:
                verify_range(
                    s.proof,
                    K,
                    s.ciphertext,
                    _SELECTION_VALUES,
                    (*context, s.selection_id),
                    f"ballot {bid}: contest {cid}: selection {s.selection_id}",
                )
            aggregate = product([s.ciphertext for s in contest.selections])
            verify_range(
                contest.proof,
                K,
                aggregate,
                spec.allowed_totals,
                context,
                f"ballot {bid}: contest {cid}: contest-limit proof",
            )
        except InvalidProof as exc:
            raise InvalidBallot(str(exc)) from exc
    if ballot.code != tracking_code(ballot.previous_code, ballot.crypto_hash()):
        raise InvalidBallot(f"ballot {bid}: tracking code is not H(previous code, ballot hash)")
