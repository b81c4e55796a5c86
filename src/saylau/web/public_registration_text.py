"""A registration decision's rule outcomes as sentences in the page's language.

``saylau.election.eligibility`` records each rule's outcome with an English reason and the evidence it
looked at; the reason's translations are keyed by ``rule_id`` (its docstring says so). Here each rule id
is a gettext sentence built from that evidence alone, its numbers, dates and amounts formatted by Babel,
so the page says in kk or ru exactly what the published decision says in English. A rule id this module
does not know shows its recorded reason as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency

from saylau.web.rendering import Page

__all__ = ["NOMINATOR_TYPES", "RULE_LABELS", "day", "money", "outcome_sentence", "rule_label"]


def N_(message: str) -> str:  # noqa: N802 (gettext's name for a no-op marker)
    """Mark a message for extraction; it is translated where it is shown."""
    return message


RULE_LABELS: dict[str, str] = {
    "citizenship_by_birth": N_("Citizen by birth"),
    "min_age": N_("Minimum age on election day"),
    "residence": N_("Years of permanent residence"),
    "state_language": N_("State-language test"),
    "higher_education": N_("Higher education"),
    "service_years": N_("Years in civil service or elected office"),
    "entitled_to_vote": N_("Holds the right to vote"),
    "nominator_type": N_("Nominated by an allowed body"),
    "signature_threshold": N_("Enough valid voter signatures"),
    "regional_spread": N_("Signatures spread over enough regions"),
    "election_fee": N_("Election fee paid"),
    "nomination_window": N_("Applied within the nomination window"),
}
"""Each rule's name (``eligibility.RULES`` order is the decision's order)."""

NOMINATOR_TYPES: dict[str, str] = {
    "public_association": N_("a public association"),
    "party": N_("a political party"),
    "coalition": N_("a coalition"),
    "self": N_("self-nomination"),
}


def rule_label(page: Page, rule_id: str) -> str:
    """The rule's name in the page's language (its id when unknown)."""
    label = RULE_LABELS.get(rule_id)
    return page.gettext(label) if label else rule_id


def day(page: Page, iso: str) -> str:
    """An ISO date in the locale's long format (the text itself if it is not a date)."""
    try:
        return format_date(date.fromisoformat(iso), format="long", locale=page.locale)
    except (TypeError, ValueError):
        return str(iso)


def money(page: Page, amount: Any, currency: str) -> str:
    """An amount in ``currency`` as the locale writes it."""
    try:
        return format_currency(Decimal(str(amount)), currency, locale=page.locale)
    except (InvalidOperation, ValueError):
        return f"{amount} {currency}"


def _years(page: Page, value: Any) -> str:
    return page.number(float(value)) if isinstance(value, float) and not value.is_integer() else page.number(
        int(value))


def _citizenship(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    if not ev.get("required", True):
        return page.gettext("Citizenship by birth is not required.")
    return page.gettext("A citizen by birth.") if passed else page.gettext("Not a citizen by birth.")


def _age(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    values = {"age": page.number(ev["age_on_election_day"]), "day": day(page, ev["election_day"]),
              "min": page.number(ev["min_age"]), "born": day(page, ev["date_of_birth"])}
    if passed:
        return page.gettext("Born %(born)s: aged %(age)s on election day (%(day)s), at least %(min)s.",
                            **values)
    return page.gettext("Born %(born)s: aged %(age)s on election day (%(day)s), younger than %(min)s.",
                        **values)


def _residence(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    values = {"years": _years(page, ev["residence_years"]), "required": _years(page, ev["required"])}
    if passed:
        return page.gettext("%(years)s years of permanent residence, at least %(required)s.", **values)
    return page.gettext("%(years)s years of permanent residence, fewer than %(required)s.", **values)


def _language(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    if not ev.get("required", True):
        return page.gettext("The state-language test is not required.")
    result = ev.get("state_language_test")
    if result == "passed":
        return page.gettext("Passed the state-language test.")
    if result == "failed":
        return page.gettext("Failed the state-language test.")
    return page.gettext("Did not take the state-language test.")


def _education(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    if not ev.get("required", True):
        return page.gettext("Higher education is not required.")
    if passed:
        return page.gettext("Holds a higher-education degree.")
    return page.gettext("Has no higher-education degree.")


def _service(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    values = {"years": _years(page, ev["service_years"]), "required": _years(page, ev["required"])}
    if passed:
        return page.gettext("%(years)s years of public service, at least %(required)s.", **values)
    return page.gettext("%(years)s years of public service, fewer than %(required)s.", **values)


def _entitled(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    return page.gettext("Entitled to vote.") if passed else page.gettext("Not entitled to vote.")


def _kind(page: Page, kind: str) -> str:
    label = NOMINATOR_TYPES.get(kind)
    return page.gettext(label) if label else kind


def _nominator(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    values = {"nominator": str(ev["nominator"]), "type": _kind(page, str(ev["nominator_type"]))}
    if passed:
        return page.gettext("Nominated by %(nominator)s (%(type)s), an allowed nominator.", **values)
    allowed = ", ".join(_kind(page, str(k)) for k in ev.get("allowed", []))
    return page.gettext("Nominated by %(nominator)s (%(type)s), which the rules do not allow (allowed: "
                        "%(allowed)s).", allowed=allowed, **values)


def _signatures(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    values = {"total": page.number(ev["valid_signatures"]), "needed": page.number(ev["required"]),
              "share": page.percent(float(ev["threshold"]), 0),
              "registered": page.number(ev["registered_voters"])}
    if passed:
        return page.gettext("%(total)s valid signatures, at least the %(needed)s needed (%(share)s of "
                            "%(registered)s registered voters).", **values)
    return page.gettext("%(total)s valid signatures, fewer than the %(needed)s needed (%(share)s of "
                        "%(registered)s registered voters).", **values)


def _spread(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    values = {"qualifying": page.number(len(ev["regions_qualifying"])),
              "regions": page.number(ev["regions_total"]),
              "per_region": page.number(ev["signatures_per_region_needed"]),
              "needed": page.number(ev["regions_needed"])}
    if passed:
        return page.gettext("%(qualifying)s of %(regions)s regions have at least %(per_region)s valid "
                            "signatures each; %(needed)s are needed.", **values)
    return page.gettext("Only %(qualifying)s of %(regions)s regions have at least %(per_region)s valid "
                        "signatures each; %(needed)s are needed.", **values)


def _fee(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    currency = str(ev["currency"])
    values = {"paid": money(page, ev["fee_paid"], currency),
              "amount": money(page, ev["fee_amount"], currency)}
    if passed:
        return page.gettext("Paid %(paid)s; the election fee is %(amount)s.", **values)
    return page.gettext("Paid %(paid)s of the %(amount)s election fee.", **values)


def _window(page: Page, passed: bool, ev: Mapping[str, Any]) -> str:
    values = {"date": day(page, ev["application_date"]), "start": day(page, ev["nomination_start"]),
              "end": day(page, ev["nomination_end"])}
    if passed:
        return page.gettext("Applied on %(date)s, within the window from %(start)s to %(end)s.", **values)
    if str(ev["application_date"]) < str(ev["nomination_start"]):
        return page.gettext("Applied on %(date)s, before the window opened on %(start)s.", **values)
    return page.gettext("Applied on %(date)s, after the window closed on %(end)s.", **values)


_SENTENCES: dict[str, Callable[[Page, bool, Mapping[str, Any]], str]] = {
    "citizenship_by_birth": _citizenship,
    "min_age": _age,
    "residence": _residence,
    "state_language": _language,
    "higher_education": _education,
    "service_years": _service,
    "entitled_to_vote": _entitled,
    "nominator_type": _nominator,
    "signature_threshold": _signatures,
    "regional_spread": _spread,
    "election_fee": _fee,
    "nomination_window": _window,
}


def outcome_sentence(page: Page, outcome: Mapping[str, Any], nominator: str | None = None) -> str:
    """One rule outcome (``RuleOutcome.to_dict``) as a sentence; the recorded reason for an unknown rule.

    ``nominator``: the nominating body's name in the page's language (the scenario's, where the
    applicant is on the ballot), shown instead of the name the application gave.
    """
    build = _SENTENCES.get(str(outcome["rule_id"]))
    if build is None:
        return str(outcome["reason"])
    evidence = dict(outcome["evidence"])
    if nominator and "nominator" in evidence:
        evidence["nominator"] = nominator
    try:
        sentence = build(page, bool(outcome["passed"]), evidence)
    except (KeyError, TypeError, ValueError):
        return str(outcome["reason"])  # evidence of another shape: the decision's own words
    # a long date that ends in a period ("11 октября 2022 г.") ends the sentence too
    return sentence[:-1] if sentence.endswith("..") else sentence
