"""The rule decision in the page's language: gettext sentences for each reason of ``election.rules``.

``decide()`` records each step as a :class:`~saylau.election.rules.Reason` (a key and its numbers); here
each key is an interface sentence in the catalogues, its numbers formatted by Babel for the locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from saylau.web.rendering import Page

__all__ = ["OUTCOMES", "REASONS", "explain", "rule_facts"]


def N_(message: str) -> str:  # noqa: N802 (gettext's name for a no-op marker)
    """Mark a message for extraction; it is translated where it is shown."""
    return message


REASONS: dict[str, str] = {
    "turnout_ok": N_("Turnout %(turnout)s (%(took_part)s of %(registered)s registered voters) exceeds the "
                     "threshold of %(threshold)s."),
    "turnout_low": N_("Turnout %(turnout)s (%(took_part)s of %(registered)s registered voters) does not "
                      "exceed the threshold of %(threshold)s: the election is invalid."),
    "base": N_("Majority base: %(base_name)s, %(base)s votes; more than %(majority)s means at least "
               "%(needed)s votes."),
    "against_all_first": N_("\u201cAgainst all\u201d (%(against)s votes) has more votes than every "
                            "candidate; the rule says: %(effect)s."),
    "winner": N_("%(option)s has %(votes)s votes (%(share)s of the base), more than %(majority)s: elected."),
    "no_majority": N_("No candidate has more than %(majority)s; the leader, %(option)s, has %(votes)s votes "
                      "(%(share)s)."),
    "runoff": N_("A runoff between the top %(n)s within %(days)s days: %(options)s."),
    "runoff_winner": N_("Runoff: %(option)s has the most votes, %(votes)s (%(share)s of the base): elected."),
    "tie": N_("A tie at %(votes)s votes between %(options)s for the last runoff place; the rule says: "
              "%(rule)s."),
}
"""Each reason key's sentence (placeholders filled with the locale's numbers and the options' names)."""

OUTCOMES: dict[str, str] = {
    "winner": N_("A candidate is elected"),
    "runoff": N_("A runoff is needed"),
    "invalid_turnout": N_("The election is invalid: turnout too low"),
    "invalid_against_all": N_("The election is invalid: \u201cagainst all\u201d came first"),
    "tie_lot": N_("A tie, to be settled by drawing lots"),
}

_WORDS: dict[str, str] = {
    "valid": N_("valid ballots"),
    "valid_without_against_all": N_("valid ballots without \u201cagainst all\u201d"),
    "took_part": N_("voters who took part"),
    "none": N_("it has no effect"),
    "invalid": N_("the election is invalid"),
    "lot": N_("drawing lots"),
    "all_tied_advance": N_("all tied candidates advance"),
}


def explain(page: Page, reasons: list[dict[str, Any]], names: Mapping[str, str]) -> list[str]:
    """The decision's reasons as sentences in the page's language."""
    out = []
    for r in reasons:
        p: dict[str, Any] = dict(r["params"])
        values: dict[str, str] = {}
        for k, v in p.items():
            if k in ("turnout", "share"):
                values[k] = page.percent(v, 2)
            elif k in ("threshold", "majority"):
                values[k] = page.percent(v, 0)
            elif k == "option":
                values[k] = names.get(v, v)
            elif k == "options":
                values[k] = ", ".join(names.get(o, o) for o in v.split(", "))
            elif k in ("base_name", "effect", "rule"):
                values[k] = page.gettext(_WORDS.get(v, v))
            else:
                values[k] = page.number(v)
        out.append(page.gettext(REASONS[r["key"]], **values))
    return out


def rule_facts(page: Page, rules: dict[str, Any]) -> list[tuple[str, str]]:
    """The rule parameters the decision applied, as (label, value) in the page's language."""
    base = "took_part" if rules["majority_base"] == "took_part" else (
        "valid" if rules["against_all_in_base"] else "valid_without_against_all")
    return [
        (page.gettext("Majority base"), page.gettext(_WORDS[base])),
        (page.gettext("Majority needed"),
         page.gettext("more than %(share)s", share=page.percent(rules["majority"], 0))),
        (page.gettext("Turnout threshold"),
         page.gettext("more than %(share)s of registered voters",
                      share=page.percent(rules["min_turnout"], 0))),
        (page.gettext("If \u201cagainst all\u201d comes first"),
         page.gettext(_WORDS[rules["against_all_wins_effect"]])),
        (page.gettext("Runoff"), page.gettext("the top %(n)s within %(days)s days",
                                              n=page.number(rules["runoff_candidates"]),
                                              days=page.number(rules["runoff_within_days"]))),
    ]
