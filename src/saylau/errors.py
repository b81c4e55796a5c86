"""The exceptions saylau raises, in one place.

Every failure raises; no function signals failure by returning ``None``.
``TypeError``/``ValueError`` remain for plain misuse of an API.

    SaylauError
    ├── CryptoError
    │   ├── InvalidProof          a zero-knowledge proof does not verify
    │   ├── InvalidBallot         a ballot is malformed or fails a check
    │   ├── CeremonyError         the key ceremony cannot go on (bad share, bad commitment)
    │   └── DecryptionError       partial decryptions are missing, forged or insufficient
    ├── RecordError               the election record is malformed or unreadable
    │   └── VerificationFailed    an independent check of the record failed
    ├── BoardError                the bulletin board's hash chain or a checkpoint is broken
    │   └── BoardClosed           the board was closed (final checkpoint): nothing may be appended
    ├── ElectionError             administration of the election
    │   ├── ScenarioError         a scenario or manifest file is invalid
    │   ├── RegistrationError     a candidate application cannot be processed
    │   ├── RollImportError       a voter-roll file has bad rows
    │   ├── VoterRollError        a change to the voter roll is refused (unknown voter, second transfer)
    │   ├── PollbookError         a check-in is refused (already voted, wrong station ...)
    │   ├── TurnoutError          a turnout snapshot is refused (decreasing, off schedule, too high)
    │   ├── ProtocolRejected      a polling-station protocol breaks a control relation
    │   ├── ElectionStateError    an action does not fit the election's phase
    │   └── AuditError            a risk-limiting audit step is refused (bad manifest, seed, tally)
    ├── PollError                 exit polls
    │   └── EmbargoError          estimates requested before the polls closed
    ├── ForensicsError            forensic input cannot be analysed
    └── AccessDenied              the caller's role may not do this
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AuditError",
    "BoardClosed",
    "BoardError",
    "CeremonyError",
    "CryptoError",
    "DecryptionError",
    "ElectionError",
    "ElectionStateError",
    "EmbargoError",
    "ForensicsError",
    "InvalidBallot",
    "InvalidProof",
    "KeyFileError",
    "PollError",
    "PollbookError",
    "ProtocolRejected",
    "RecordError",
    "RegistrationError",
    "RollImportError",
    "SaylauError",
    "ScenarioError",
    "TurnoutError",
    "VerificationFailed",
    "VoterRollError",
]


class SaylauError(Exception):
    """Base class of every error saylau raises on purpose."""


class CryptoError(SaylauError):
    """A cryptographic object or step is not acceptable."""


class InvalidProof(CryptoError):
    """A zero-knowledge proof does not verify; the message names the object and the check."""


class InvalidBallot(CryptoError):
    """A ballot is malformed, does not match the manifest, or one of its proofs fails."""


class KeyFileError(CryptoError):
    """A passphrase-protected secret file cannot be opened: wrong passphrase, altered, or not such a file."""


class CeremonyError(CryptoError):
    """The key ceremony cannot continue: a guardian sent a bad share, commitment or proof."""


class DecryptionError(CryptoError):
    """Decryption cannot be completed or a partial decryption is invalid."""


class RecordError(SaylauError):
    """The election record is missing a file, malformed or unreadable."""


class VerificationFailed(RecordError):
    """An independent check of the election record failed."""


class BoardError(SaylauError):
    """The bulletin board's hash chain or one of its signed checkpoints is broken."""


class BoardClosed(BoardError):
    """The board carries its final signed checkpoint: no entry may be appended, and it closes once."""


class ElectionError(SaylauError):
    """Administration of the election refused an input."""


class ScenarioError(ElectionError):
    """A scenario or manifest file is invalid."""


class RegistrationError(ElectionError):
    """A candidate application or appeal cannot be processed."""


class RollImportError(ElectionError):
    """A voter-roll file has rows that cannot be imported."""


class VoterRollError(ElectionError):
    """A change to the voter roll (transfer, lookup) is refused."""


class TurnoutError(ElectionError):
    """A turnout snapshot is refused: off the reporting schedule, decreasing, or above the list."""


class PollbookError(ElectionError):
    """A check-in at a polling station is refused."""


class ProtocolRejected(ElectionError):
    """A polling-station result protocol breaks a control relation."""


class ElectionStateError(ElectionError):
    """The action does not fit the election's current phase."""


class PollError(SaylauError):
    """An exit-poll operation is invalid."""


class EmbargoError(PollError):
    """Exit-poll data was requested before the last polling station closed."""


class ForensicsError(SaylauError):
    """Forensic input cannot be analysed."""


class AuditError(ElectionError):
    """A risk-limiting audit cannot take this step: bad manifest, seed, sample or hand tally."""


class AccessDenied(SaylauError):
    """The caller's role is not allowed to perform this action."""
