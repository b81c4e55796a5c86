"""Assertions: what must be true of the paper ballots for the reported rule decision to be right.

They are derived from the scenario's :class:`~saylau.election.rules.ElectoralRules` and the reported
totals, never written by hand. Every assertion has the form "among the ballots of ``support ∪
against``, the share of ``support`` exceeds ``threshold``", which covers the three kinds needed:

* **supermajority** (outcome ``winner``): the winner has more than ``majority`` of the majority base —
  ``support = {winner}``, ``against`` = the rest of the base, ``threshold = majority``;
* **no majority** (outcome ``runoff``): each finalist has less than ``majority`` of the base —
  ``support`` = the base without the finalist, ``against = {finalist}``, ``threshold = 1 − majority``;
* **pairwise** (outcome ``runoff``): each finalist beats each candidate left out of the runoff, and
  (when "against all" ahead of every candidate voids the election) the winner beats "against all" —
  ``threshold = 1/2``.

The majority base is the rules': valid ballots ("against all" included or not, as
``against_all_in_base`` says) or everyone who took part (invalid ballots then count against). Its
assorter (SHANGRLA, Stark 2020, §2.1 and the super-majority assorter of its §2.3) gives a ballot
``1/(2t)`` when it is in ``support``, 0 when in ``against`` and ½ otherwise; the assertion holds iff
the assorter's mean over all ballots exceeds ½. Ballot categories are option ids and ``"invalid"``.

The turnout threshold is a fact of the pollbooks (registered voters), not of the ballots in the box,
so no ballot audit can check it; an outcome that is not a winner or a runoff (invalid election, tie
settled by lot) raises :class:`~saylau.errors.AuditError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from saylau.election.rules import Decision, ElectoralRules, Totals, decide
from saylau.errors import AuditError

__all__ = ["INVALID", "Assertion", "base_categories", "derive_assertions"]

INVALID = "invalid"
"""The ballot category of an invalid ballot (the others are option ids)."""


class Assertion(BaseModel):
    """Among ballots in ``support ∪ against``, the share of ``support`` exceeds ``threshold``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: Literal["supermajority", "no_majority", "pairwise"]
    text: str
    support: tuple[str, ...]
    against: tuple[str, ...]
    threshold: float = Field(gt=0, lt=1)

    @property
    def upper(self) -> float:
        """The assorter's upper bound ``u = 1/(2·threshold)``."""
        return 1.0 / (2.0 * self.threshold)

    def value(self, category: str) -> float:
        """The assorter of one ballot of ``category``."""
        if category in self.support:
            return self.upper
        if category in self.against:
            return 0.0
        return 0.5

    def total(self, counts: Mapping[str, int]) -> float:
        """The assorter summed over a batch of ballots given by category counts."""
        return sum(self.value(c) * n for c, n in counts.items())

    def reported_share(self, counts: Mapping[str, int]) -> float:
        """The share of ``support`` among ``support ∪ against`` in ``counts``."""
        s = sum(counts.get(c, 0) for c in self.support)
        a = sum(counts.get(c, 0) for c in self.against)
        return s / (s + a) if s + a else 0.0


def base_categories(rules: ElectoralRules, options: Sequence[str], against_all: str | None) -> list[str]:
    """The ballot categories in the rules' majority base."""
    cats = list(options)
    if rules.majority_base == "took_part":
        return [*cats, INVALID]
    if against_all is not None and not rules.against_all_in_base:
        cats.remove(against_all)
    return cats


def derive_assertions(
    rules: ElectoralRules, totals: Totals, options: Sequence[str]
) -> tuple[Decision, list[Assertion]]:
    """The reported decision and the assertions that, if true of the paper, make it right."""
    decision = decide(rules, totals)
    aa = totals.against_all
    base = base_categories(rules, options, aa)
    f = rules.majority
    out: list[Assertion] = []
    if decision.outcome == "winner" and decision.winner is not None:
        w = decision.winner
        out.append(
            Assertion(
                id=f"supermajority:{w}",
                kind="supermajority",
                text=f"{w} has more than {f:.0%} of the majority base ({', '.join(base)})",
                support=(w,),
                against=tuple(c for c in base if c != w),
                threshold=f,
            )
        )
        if aa is not None and rules.against_all_wins_effect == "invalid" and aa not in base:
            out.append(_pairwise(w, aa))
    elif decision.outcome == "runoff":
        finalists = list(decision.runoff)
        for fin in finalists:
            out.append(
                Assertion(
                    id=f"no_majority:{fin}",
                    kind="no_majority",
                    text=f"{fin} has less than {f:.0%} of the majority base",
                    support=tuple(c for c in base if c != fin),
                    against=(fin,),
                    threshold=1.0 - f,
                )
            )
        losers = [o for o in options if o not in finalists and o != aa]
        out.extend(_pairwise(fin, lo) for fin in finalists for lo in losers)
        if aa is not None and rules.against_all_wins_effect == "invalid":
            out.extend(_pairwise(fin, aa) for fin in finalists)
    else:
        raise AuditError(
            f"the reported outcome {decision.outcome!r} cannot be audited from the ballots "
            "(only a winner or a runoff can)"
        )
    return decision, out


def _pairwise(winner: str, loser: str) -> Assertion:
    return Assertion(
        id=f"pairwise:{winner}>{loser}",
        kind="pairwise",
        text=f"{winner} has more votes than {loser}",
        support=(winner,),
        against=(loser,),
        threshold=0.5,
    )
