"""Result determination: is the election valid, who won, or who goes to a runoff.

Everything a country's law decides is a parameter of :class:`ElectoralRules` (majority base,
turnout threshold, how "against all" counts, runoff size and timing, tie-break); the code only
applies them. Each :class:`Decision` carries its explanation as a list of :class:`Reason` —
a translation key plus the numbers — rendered in Kazakh, Russian or English by :func:`explain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from saylau.errors import ElectionError

__all__ = [
    "Decision",
    "ElectoralRules",
    "Outcome",
    "Reason",
    "Totals",
    "decide",
    "explain",
]

Outcome = Literal["winner", "runoff", "invalid_turnout", "invalid_against_all", "tie_lot"]
"""``tie_lot``: a tie the rules settle by drawing lots, which the commission must now hold."""


class ElectoralRules(BaseModel):
    """The result rules of one election, as data.

    ``majority_base``: ``"valid"`` (valid ballots, "against all" included when
    ``against_all_in_base``) or ``"took_part"`` (everyone who received a ballot).
    ``min_turnout`` is a fraction of registered voters that turnout must *exceed*
    (0 disables the check). A candidate wins with strictly more than ``majority`` of the base.
    ``against_all_wins_effect``: what happens when "against all" has more votes than every
    candidate — ``"none"`` (the rules ignore it) or ``"invalid"`` (the election is void).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    majority_base: Literal["valid", "took_part"] = "valid"
    majority: float = Field(default=0.5, gt=0, lt=1)
    min_turnout: float = Field(default=0.5, ge=0, lt=1)
    against_all_in_base: bool = True
    against_all_wins_effect: Literal["none", "invalid"] = "none"
    runoff_candidates: int = Field(default=2, ge=2)
    runoff_within_days: int = Field(default=60, ge=1)
    tie_break: Literal["lot", "all_tied_advance"] = "lot"
    polls_open_local: str = Field(default="07:00", pattern=r"^\d{2}:\d{2}$")
    polls_close_local: str = Field(default="20:00", pattern=r"^\d{2}:\d{2}$")
    turnout_reports_local: list[str] = Field(
        default_factory=lambda: ["10:00", "12:00", "14:00", "16:00", "18:00"]
    )


class Totals(BaseModel):
    """The national figures a decision is made from; ``votes`` maps option id to count."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    registered: int = Field(ge=0)
    took_part: int = Field(ge=0)
    valid: int = Field(ge=0)
    votes: dict[str, int]
    against_all: str | None = Field(default=None, description="option id of 'against all', if any")


class Reason(BaseModel):
    """One step of the explanation: a translation key and the numbers it speaks of."""

    model_config = ConfigDict(frozen=True)

    key: str
    params: dict[str, Any] = Field(default_factory=dict)


class Decision(BaseModel):
    """The outcome, the candidates concerned, and why."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    winner: str | None = None
    runoff: list[str] = Field(default_factory=list)
    tied: list[str] = Field(default_factory=list)
    runoff_within_days: int | None = None
    base: int
    reasons: list[Reason]

    def explain(self, lang: str = "en", names: Mapping[str, str] | None = None) -> list[str]:
        """The reasons as sentences in ``lang`` (kk, ru or en), option ids shown by ``names``."""
        return explain(self.reasons, lang, names)


_TEXT: dict[str, dict[str, str]] = {
    "turnout_ok": {
        "en": "Turnout {turnout:.2%} ({took_part} of {registered}) exceeds the threshold {threshold:.0%}.",
        "ru": "Явка {turnout:.2%} ({took_part} из {registered}) выше порога {threshold:.0%}.",
        "kk": "Сайлаушылардың келуі {turnout:.2%} ({registered} ішінен {took_part}) "
        "{threshold:.0%} шегінен жоғары.",
    },
    "turnout_low": {
        "en": "Turnout {turnout:.2%} ({took_part} of {registered}) does not exceed {threshold:.0%}: "
        "the election is invalid.",
        "ru": "Явка {turnout:.2%} ({took_part} из {registered}) не превышает {threshold:.0%}: "
        "выборы признаются несостоявшимися.",
        "kk": "Сайлаушылардың келуі {turnout:.2%} ({registered} ішінен {took_part}) {threshold:.0%} "
        "аспайды: сайлау өтпеді деп танылады.",
    },
    "base": {
        "en": "Majority base: {base_name} = {base}; more than {majority:.0%} means at least {needed} votes.",
        "ru": "База большинства: {base_name} = {base}; более {majority:.0%} — не менее {needed} голосов.",
        "kk": "Көпшілік негізі: {base_name} = {base}; {majority:.0%} астам — кемінде {needed} дауыс.",
    },
    "against_all_first": {
        "en": "'Against all' ({against} votes) has more votes than every candidate; rule: {effect}.",
        "ru": "«Против всех» ({against} голосов) набрало больше любого кандидата; правило: {effect}.",
        "kk": "«Барлығына қарсы» ({against} дауыс) кез келген кандидаттан көп; ереже: {effect}.",
    },
    "winner": {
        "en": "{option} has {votes} votes ({share:.2%} of the base), more than {majority:.0%}: elected.",
        "ru": "{option}: {votes} голосов ({share:.2%} базы), более {majority:.0%}: избран(а).",
        "kk": "{option}: {votes} дауыс (негіздің {share:.2%}), {majority:.0%} астам: сайланды.",
    },
    "no_majority": {
        "en": "No candidate has more than {majority:.0%}; the leader {option} has {votes} ({share:.2%}).",
        "ru": "Ни один кандидат не набрал более {majority:.0%}; лидер {option}: {votes} ({share:.2%}).",
        "kk": "Бірде-бір кандидат {majority:.0%} астам жинамады; көшбасшы {option}: {votes} ({share:.2%}).",
    },
    "runoff": {
        "en": "Runoff of the top {n} within {days} days: {options}.",
        "ru": "Повторное голосование первых {n} в течение {days} дней: {options}.",
        "kk": "Алғашқы {n} кандидат бойынша {days} күн ішінде қайта дауыс беру: {options}.",
    },
    "runoff_winner": {
        "en": "Runoff: {option} has the most votes, {votes} ({share:.2%} of the base): elected.",
        "ru": "Повторное голосование: у {option} больше всех голосов, {votes} ({share:.2%} базы): избран(а).",
        "kk": "Қайта дауыс беру: {option} ең көп дауыс алды, {votes} (негіздің {share:.2%}): сайланды.",
    },
    "tie": {
        "en": "Tie at {votes} votes between {options} for the last runoff place; rule: {rule}.",
        "ru": "Равенство ({votes} голосов) между {options} за последнее место; правило: {rule}.",
        "kk": "Соңғы орын үшін {options} арасында тең дауыс ({votes}); ереже: {rule}.",
    },
}


def _runoff_round(
    rules: ElectoralRules, candidates: list[tuple[int, str]], base: int, share: float, reasons: list[Reason]
) -> Decision:
    """Second round: plurality among the candidates still on the ballot."""
    top_votes, top = candidates[0]
    tied = [k for v, k in candidates if v == top_votes]
    if len(tied) == 1:
        reasons.append(
            Reason(key="runoff_winner", params={"option": top, "votes": top_votes, "share": share})
        )
        return Decision(outcome="winner", winner=top, base=base, reasons=reasons)
    reasons.append(
        Reason(key="tie", params={"votes": top_votes, "options": ", ".join(tied), "rule": rules.tie_break})
    )
    if rules.tie_break == "all_tied_advance":
        return Decision(
            outcome="runoff",
            runoff=tied,
            tied=tied,
            base=base,
            runoff_within_days=rules.runoff_within_days,
            reasons=reasons,
        )
    return Decision(outcome="tie_lot", tied=tied, base=base, reasons=reasons)


def explain(reasons: list[Reason], lang: str = "en", names: Mapping[str, str] | None = None) -> list[str]:
    """Render reasons in ``lang`` (unknown languages fall back to English); ``names`` maps option ids."""
    names = names or {}
    out = []
    for r in reasons:
        table = _TEXT[r.key]
        params = dict(r.params)
        if "option" in params:
            params["option"] = names.get(params["option"], params["option"])
        if "options" in params:
            params["options"] = ", ".join(names.get(o, o) for o in params["options"].split(", "))
        out.append(table.get(lang, table["en"]).format(**params))
    return out


def _needed(base: int, majority: float) -> int:
    """Smallest vote count strictly above ``majority`` of ``base`` (exact rational arithmetic)."""
    limit = Fraction(base) * Fraction(majority).limit_denominator(10**6)
    return int(limit) + 1


def decide(rules: ElectoralRules, totals: Totals, round_: Literal[1, 2] = 1) -> Decision:
    """Apply the rules to the national totals; raise ``ElectionError`` on inconsistent totals.

    ``round_=2`` is the runoff: the candidate with more votes than every other is elected (no
    majority threshold); a tie at the top is ``tie_lot`` (or a further runoff with
    ``all_tied_advance``).
    """
    votes = dict(totals.votes)
    if sum(votes.values()) != totals.valid:
        raise ElectionError(f"totals: sum of option votes {sum(votes.values())} != valid {totals.valid}")
    if totals.valid > totals.took_part or totals.took_part > totals.registered:
        raise ElectionError(
            f"totals: need valid ({totals.valid}) <= took_part ({totals.took_part}) "
            f"<= registered ({totals.registered})"
        )
    if any(v < 0 for v in votes.values()):
        raise ElectionError("totals: negative vote count")
    aa = totals.against_all
    if aa is not None and aa not in votes:
        raise ElectionError(f"totals: against-all option {aa!r} has no vote count")
    reasons: list[Reason] = []
    turnout = totals.took_part / totals.registered if totals.registered else 0.0
    tparams = {
        "turnout": turnout,
        "took_part": totals.took_part,
        "registered": totals.registered,
        "threshold": rules.min_turnout,
    }
    threshold = Fraction(rules.min_turnout).limit_denominator(10**6)
    if totals.registered == 0 or Fraction(totals.took_part, totals.registered) <= threshold:
        reasons.append(Reason(key="turnout_low", params=tparams))
        return Decision(outcome="invalid_turnout", base=0, reasons=reasons)
    reasons.append(Reason(key="turnout_ok", params=tparams))

    if rules.majority_base == "took_part":
        base, base_name = totals.took_part, "took_part"
    else:
        base = totals.valid - (votes[aa] if aa is not None and not rules.against_all_in_base else 0)
        base_name = "valid" if rules.against_all_in_base or aa is None else "valid_without_against_all"
    needed = _needed(base, rules.majority)
    reasons.append(
        Reason(
            key="base",
            params={"base_name": base_name, "base": base, "majority": rules.majority, "needed": needed},
        )
    )
    candidates = sorted(((v, k) for k, v in votes.items() if k != aa), key=lambda t: (-t[0], t[1]))
    if not candidates:
        raise ElectionError("totals: no candidate option besides 'against all'")
    top_votes, top = candidates[0]
    if aa is not None and votes[aa] > top_votes:
        reasons.append(
            Reason(
                key="against_all_first",
                params={"against": votes[aa], "effect": rules.against_all_wins_effect},
            )
        )
        if rules.against_all_wins_effect == "invalid":
            return Decision(outcome="invalid_against_all", base=base, reasons=reasons)
    share = top_votes / base if base else 0.0
    if round_ == 2:
        return _runoff_round(rules, candidates, base, share, reasons)
    if top_votes >= needed:
        reasons.append(
            Reason(
                key="winner",
                params={"option": top, "votes": top_votes, "share": share, "majority": rules.majority},
            )
        )
        return Decision(outcome="winner", winner=top, base=base, reasons=reasons)
    reasons.append(
        Reason(
            key="no_majority",
            params={"option": top, "votes": top_votes, "share": share, "majority": rules.majority},
        )
    )
    n = rules.runoff_candidates

    def runoff(chosen: list[str], shown_n: int, tied: list[str] | None = None) -> Decision:
        reasons.append(
            Reason(
                key="runoff",
                params={"n": shown_n, "days": rules.runoff_within_days, "options": ", ".join(chosen)},
            )
        )
        return Decision(
            outcome="runoff",
            runoff=chosen,
            tied=tied or [],
            base=base,
            runoff_within_days=rules.runoff_within_days,
            reasons=reasons,
        )

    if len(candidates) <= n:
        return runoff([k for _, k in candidates], n)
    cutoff = candidates[n - 1][0]
    sure = [k for v, k in candidates if v > cutoff]
    at_cut = [k for v, k in candidates if v == cutoff]
    if len(sure) + len(at_cut) == n:
        return runoff(sure + at_cut, n)
    reasons.append(
        Reason(key="tie", params={"votes": cutoff, "options": ", ".join(at_cut), "rule": rules.tie_break})
    )
    if rules.tie_break == "all_tied_advance":
        return runoff(sure + at_cut, len(sure + at_cut), tied=at_cut)
    return Decision(
        outcome="tie_lot",
        runoff=sure,
        tied=at_cut,
        base=base,
        runoff_within_days=rules.runoff_within_days,
        reasons=reasons,
    )
