"""What every ballot is bound to: the contests and the election parameters with ``H_E`` (EG 2.0 §3.2.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from saylau.crypto._serial import bytes_from_hex, expect_keys, parse_errors, want_int, want_list, want_str
from saylau.crypto.keys import JointPublicKey
from saylau.crypto.keys import extended_base_hash as _compute_h_e

__all__ = ["ContestSpec", "ElectionParameters"]


@dataclass(frozen=True)
class ContestSpec:
    """What the cryptography needs of a contest: its selections and how many marks a ballot carries.

    ``votes_allowed`` is the contest limit ``L`` (EG 2.0 §3.3.6). By default a ballot must carry exactly ``L``
    marks; with ``allow_undervote`` it may carry any number from 0 to ``L``.
    """

    contest_id: str
    selection_ids: tuple[str, ...]
    votes_allowed: int
    allow_undervote: bool = False

    def __post_init__(self) -> None:
        if not self.contest_id:
            raise ValueError("contest: empty contest_id")
        if not self.selection_ids or len(set(self.selection_ids)) != len(self.selection_ids):
            raise ValueError(f"contest {self.contest_id}: selection ids must be non-empty and unique")
        if not 1 <= self.votes_allowed <= len(self.selection_ids):
            raise ValueError(f"contest {self.contest_id}: votes_allowed {self.votes_allowed} out of range")

    @property
    def allowed_totals(self) -> tuple[int, ...]:
        """The numbers of marks a ballot may carry in this contest."""
        if self.allow_undervote:
            return tuple(range(self.votes_allowed + 1))
        return (self.votes_allowed,)

    def to_dict(self) -> dict[str, Any]:
        """Return the record form."""
        return {
            "contest_id": self.contest_id,
            "selection_ids": list(self.selection_ids),
            "votes_allowed": self.votes_allowed,
            "allow_undervote": self.allow_undervote,
        }

    @classmethod
    def from_dict(cls, d: Any) -> ContestSpec:
        """Parse the record form; raise ``RecordError`` naming the bad field."""
        what = "contest"
        with parse_errors(what):
            d = expect_keys(d, {"contest_id", "selection_ids", "votes_allowed", "allow_undervote"}, what)
            sel = want_list(d, "selection_ids", what)
            if not all(isinstance(s, str) for s in sel):
                raise ValueError("selection_ids must be strings")
            undervote = d["allow_undervote"]
            if not isinstance(undervote, bool):
                raise ValueError("allow_undervote must be a boolean")
            cid = want_str(d, "contest_id", what)
            return cls(cid, tuple(sel), want_int(d, "votes_allowed", what), undervote)


@dataclass(frozen=True)
class ElectionParameters:
    """The election's base hash ``H_B``, joint key and contests; ``extended_base_hash`` is ``H_E``.

    ``H_E`` hashes ``H_B``, ``K``, ``n``, ``k`` and every guardian commitment (EG 2.0 §3.2.3), so each proof
    that binds ``H_E`` is bound to this exact key ceremony and manifest.
    """

    base_hash: bytes
    joint_key: JointPublicKey
    contests: tuple[ContestSpec, ...]
    extended_base_hash: bytes = field(init=False, repr=False)
    _by_id: dict[str, ContestSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.base_hash) != 32:
            raise ValueError("election parameters: base_hash must be 32 bytes")
        by_id = {c.contest_id: c for c in self.contests}
        if len(by_id) != len(self.contests) or not by_id:
            raise ValueError("election parameters: contest ids must be non-empty and unique")
        object.__setattr__(self, "extended_base_hash", _compute_h_e(self.base_hash, self.joint_key))
        object.__setattr__(self, "_by_id", by_id)

    def contest(self, contest_id: str) -> ContestSpec:
        """Return the contest with this id; raise ``KeyError`` naming it if there is none."""
        try:
            return self._by_id[contest_id]
        except KeyError:
            raise KeyError(f"unknown contest {contest_id!r}") from None

    def to_dict(self) -> dict[str, Any]:
        """Return the record form (``H_E`` included so readers can cross-check it)."""
        return {
            "base_hash": self.base_hash.hex(),
            "extended_base_hash": self.extended_base_hash.hex(),
            "joint_key": self.joint_key.to_dict(),
            "contests": [c.to_dict() for c in self.contests],
        }

    @classmethod
    def from_dict(cls, d: Any) -> ElectionParameters:
        """Parse the record form; raise ``RecordError`` if a field is bad or ``H_E`` does not match."""
        what = "election parameters"
        with parse_errors(what):
            d = expect_keys(d, {"base_hash", "extended_base_hash", "joint_key", "contests"}, what)
            params = cls(
                bytes_from_hex(d["base_hash"], 32, f"{what}.base_hash"),
                JointPublicKey.from_dict(d["joint_key"]),
                tuple(ContestSpec.from_dict(c) for c in want_list(d, "contests", what)),
            )
            h_e = bytes_from_hex(d["extended_base_hash"], 32, f"{what}.extended_base_hash")
            if h_e != params.extended_base_hash:
                raise ValueError("extended_base_hash does not match H(base_hash, K, commitments)")
            return params
