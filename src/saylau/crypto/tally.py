"""Homomorphic tallies per selection: the product of the ballots' ciphertexts (EG 2.0 §3.5).

``EncryptedTally`` accumulates cast ballots for one scope (a station, a region, the nation). Additions are
buffered and folded in with one ``pubkey_combine`` call per few hundred ballots, so summing millions of
ballots costs well under a microsecond of group work per selection. Ballots must have been verified with
``verify_ballot`` before they are added; the tally checks only that their structure matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from saylau.crypto._serial import expect_keys, parse_errors, want_int, want_list, want_str
from saylau.crypto.ballot_types import EncryptedBallot
from saylau.crypto.hazmat.elgamal import Ciphertext
from saylau.crypto.hazmat.group import IDENTITY, Point, combine
from saylau.crypto.hazmat.hashing import hash_bytes
from saylau.crypto.params import ContestSpec
from saylau.errors import InvalidBallot

__all__ = ["EncryptedTally"]

_FLUSH = 256
_TALLY_TAG = "saylau/v1/tally-hash"


class _Sum:
    """Running product of many points, folded in batches."""

    __slots__ = ("pending", "value")

    def __init__(self, value: Point = IDENTITY) -> None:
        self.value = value
        self.pending: list[Point] = []

    def add(self, p: Point) -> None:
        self.pending.append(p)
        if len(self.pending) >= _FLUSH:
            self.fold()

    def fold(self) -> Point:
        if self.pending:
            self.value = combine([self.value, *self.pending])
            self.pending.clear()
        return self.value


class EncryptedTally:
    """Encrypted sums per contest and selection, with the number of ballots added per contest.

    ``add_ballot`` updates the tally in place *and* returns it, so both ``t.add_ballot(b)`` and
    ``t = t.add_ballot(b)`` work; ``t1 + t2`` and ``EncryptedTally.sum(ts)`` return a new tally and leave
    their operands unchanged. Not thread-safe: one writer per tally.
    """

    def __init__(self, layout: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        self._layout: dict[str, tuple[str, ...]] = {}
        self._alpha: dict[tuple[str, str], _Sum] = {}
        self._beta: dict[tuple[str, str], _Sum] = {}
        self._counts: dict[str, int] = {}
        for contest_id, selection_ids in layout:
            if contest_id in self._layout:
                raise ValueError(f"tally: contest {contest_id} appears twice")
            self._layout[contest_id] = tuple(selection_ids)
            self._counts[contest_id] = 0
            for s in selection_ids:
                self._alpha[(contest_id, s)] = _Sum()
                self._beta[(contest_id, s)] = _Sum()

    @classmethod
    def empty(cls, contests: Iterable[ContestSpec]) -> EncryptedTally:
        """A tally of zero ballots (every selection encrypts 0 as the identity pair)."""
        return cls((c.contest_id, c.selection_ids) for c in contests)

    @property
    def layout(self) -> dict[str, tuple[str, ...]]:
        """Contest id → selection ids, in order."""
        return dict(self._layout)

    def ballot_count(self, contest_id: str) -> int:
        """The number of ballots added that carried this contest."""
        return self._counts[contest_id]

    def add_ballot(self, ballot: EncryptedBallot) -> EncryptedTally:
        """Add a verified ballot's ciphertexts; raise ``InvalidBallot`` if its structure does not fit."""
        for contest in ballot.contests:
            expected = self._layout.get(contest.contest_id)
            if expected is None or tuple(s.selection_id for s in contest.selections) != expected:
                where = f"ballot {ballot.ballot_id}: contest {contest.contest_id}"
                raise InvalidBallot(f"{where}: does not fit the tally's contests and selections")
        for contest in ballot.contests:
            cid = contest.contest_id
            self._counts[cid] += 1
            for s in contest.selections:
                self._alpha[(cid, s.selection_id)].add(s.ciphertext.alpha)
                self._beta[(cid, s.selection_id)].add(s.ciphertext.beta)
        return self

    def ciphertext(self, contest_id: str, selection_id: str) -> Ciphertext:
        """The encrypted sum ``(A, B)`` for one selection."""
        key = (contest_id, selection_id)
        return Ciphertext(self._alpha[key].fold(), self._beta[key].fold())

    def items(self) -> list[tuple[str, str, Ciphertext]]:
        """``(contest_id, selection_id, ciphertext)`` for every selection, in layout order."""
        return [(c, s, self.ciphertext(c, s)) for c, sels in self._layout.items() for s in sels]

    def __add__(self, other: EncryptedTally) -> EncryptedTally:
        if not isinstance(other, EncryptedTally):
            return NotImplemented
        if other._layout != self._layout:
            raise ValueError("tally: cannot add tallies with different contests or selections")
        out = EncryptedTally(self._layout.items())
        for c, s, ct in self.items():
            o = other.ciphertext(c, s)
            out._alpha[(c, s)] = _Sum(ct.alpha * o.alpha)
            out._beta[(c, s)] = _Sum(ct.beta * o.beta)
        out._counts = {c: self._counts[c] + other._counts[c] for c in self._layout}
        return out

    @classmethod
    def sum(cls, tallies: Iterable[EncryptedTally]) -> EncryptedTally:
        """Return the sum of many tallies with one multi-point addition per selection (e.g. a region)."""
        items = list(tallies)
        if not items:
            raise ValueError("tally: nothing to sum")
        layout = items[0]._layout
        if any(t._layout != layout for t in items):
            raise ValueError("tally: cannot add tallies with different contests or selections")
        out = EncryptedTally(layout.items())
        for key in out._alpha:
            out._alpha[key] = _Sum(combine([t._alpha[key].fold() for t in items]))
            out._beta[key] = _Sum(combine([t._beta[key].fold() for t in items]))
        out._counts = {c: sum(t._counts[c] for t in items) for c in layout}
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EncryptedTally):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def crypto_hash(self) -> bytes:
        """Hash of every contest, selection, count and ciphertext (binds decryption proofs to this tally)."""
        parts: list[bytes | int | str | Point] = []
        for c, sels in self._layout.items():
            parts += (c, self._counts[c], len(sels))
            for s in sels:
                ct = self.ciphertext(c, s)
                parts += (s, ct.alpha, ct.beta)
        return hash_bytes(_TALLY_TAG, *parts)

    def to_dict(self) -> dict[str, Any]:
        """Return the record form."""
        return {
            "contests": [
                {
                    "contest_id": c,
                    "ballot_count": self._counts[c],
                    "selections": [{"selection_id": s, **self.ciphertext(c, s).to_dict()} for s in sels],
                }
                for c, sels in self._layout.items()
            ]
        }

    @classmethod
    def from_dict(cls, d: Any) -> EncryptedTally:
        """Parse the record form; raise ``RecordError`` naming the bad field."""
        what = "encrypted tally"
        with parse_errors(what):
            d = expect_keys(d, {"contests"}, what)
            layout: list[tuple[str, tuple[str, ...]]] = []
            values: list[tuple[str, str, Ciphertext]] = []
            counts: dict[str, int] = {}
            for i, c in enumerate(want_list(d, "contests", what)):
                w = f"{what}.contests[{i}]"
                c = expect_keys(c, {"contest_id", "ballot_count", "selections"}, w)
                cid = want_str(c, "contest_id", w)
                counts[cid] = want_int(c, "ballot_count", w)
                if counts[cid] < 0:
                    raise ValueError(f"{w}: negative ballot_count")
                sels: list[str] = []
                for j, s in enumerate(want_list(c, "selections", w)):
                    ws = f"{w}.selections[{j}]"
                    s = expect_keys(s, {"selection_id", "alpha", "beta"}, ws)
                    sid = want_str(s, "selection_id", ws)
                    sels.append(sid)
                    ct = Ciphertext.from_dict({"alpha": s["alpha"], "beta": s["beta"]}, ws)
                    values.append((cid, sid, ct))
                layout.append((cid, tuple(sels)))
            tally = cls(layout)
            if len({(cid, sid) for cid, sid, _ in values}) != len(values):
                raise ValueError(f"{what}: a selection appears twice in a contest")
            for cid, sid, ct in values:
                tally._alpha[(cid, sid)] = _Sum(ct.alpha)
                tally._beta[(cid, sid)] = _Sum(ct.beta)
            tally._counts = counts
            return tally
