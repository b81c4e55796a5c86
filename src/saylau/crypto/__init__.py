"""saylau.crypto — the safe tier: ceremony steps, ballot encryption and verification, tally, decryption.

Election, voting, server and CLI code import only from here; ``saylau.crypto.hazmat`` holds the group,
hashing, ElGamal and bare proofs. The mapping from ElectionGuard 2.0 sections to modules is in
``docs/spec-map.md``.
"""

from saylau.crypto.ballot import encrypt_ballot, verify_ballot
from saylau.crypto.ballot_types import BallotSecret, EncryptedBallot, EncryptedContest, EncryptedSelection
from saylau.crypto.ceremony import EncryptedShare, Guardian, run_key_ceremony
from saylau.crypto.challenge import ChallengedBallot, open_challenged_ballot, verify_challenged_ballot
from saylau.crypto.decryption import (
    DecryptionShare,
    PartialDecryption,
    PlaintextTally,
    combine_decryption,
    partial_decrypt,
    verify_partial_decryption,
    verify_plaintext_tally,
)
from saylau.crypto.keys import GuardianRecord, JointPublicKey, joint_public_key, verify_guardian_record
from saylau.crypto.params import ContestSpec, ElectionParameters
from saylau.crypto.tally import EncryptedTally
from saylau.crypto.tracking import DeviceChain, verify_device_chain

__all__ = [
    "BallotSecret",
    "ChallengedBallot",
    "ContestSpec",
    "DecryptionShare",
    "DeviceChain",
    "ElectionParameters",
    "EncryptedBallot",
    "EncryptedContest",
    "EncryptedSelection",
    "EncryptedShare",
    "EncryptedTally",
    "Guardian",
    "GuardianRecord",
    "JointPublicKey",
    "PartialDecryption",
    "PlaintextTally",
    "combine_decryption",
    "encrypt_ballot",
    "joint_public_key",
    "open_challenged_ballot",
    "partial_decrypt",
    "run_key_ceremony",
    "verify_ballot",
    "verify_challenged_ballot",
    "verify_device_chain",
    "verify_guardian_record",
    "verify_partial_decryption",
    "verify_plaintext_tally",
]
