"""The candidates and applicants page: each registration decision, every rule's outcome, the appeals trail.

Read through the API's own ``list_applications`` (the same JSON as ``GET /applications``): each
applicant with every decision version, oldest first, and the signature check. Names come from the
scenario data in the page's language (the applicant's ``full_name``; the nominator's name from the
ballot option of the same id, where there is one).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from saylau.api.auth import StateDep
from saylau.api.common import get_election
from saylau.api.errors import NotFound
from saylau.api.routes_admin import list_applications
from saylau.web.public_registration_text import day, money, outcome_sentence, rule_label
from saylau.web.public_results import not_found, text
from saylau.web.rendering import Page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _version(page: Page, d: dict[str, Any], nominator: str | None) -> dict[str, Any]:
    """One decision version for the template (``nominator``: the body's name in the page's language)."""
    outcomes = [{"rule_id": o["rule_id"], "passed": bool(o["passed"]),
                 "label": rule_label(page, o["rule_id"]), "sentence": outcome_sentence(page, o, nominator)}
                for o in d["outcomes"]]
    failed = sum(not o["passed"] for o in outcomes)
    appeal = d.get("appeal")
    return {
        "version": d["version"],
        "status": d["status"],
        "decided_on": day(page, d["decided_on"]),
        "decided_by": d["decided_by"],
        "outcomes": outcomes,
        "failed": failed,
        "passed": len(outcomes) - failed,
        "digest": d.get("digest", ""),
        "previous_hash": d.get("previous_hash"),
        "appeal": None if appeal is None else {
            "filed_by": appeal["filed_by"], "filed_on": day(page, appeal["filed_on"]),
            "grounds": appeal["grounds"], "evidence": sorted(appeal.get("evidence", {}).items())},
    }


def _applicant(page: Page, a: dict[str, Any], options: dict[str, dict[str, Any]]) -> dict[str, Any]:
    facts = a["applicant"]
    option = options.get(facts["id"])
    localized = text(option["nominated_by"], page.lang) if option and option.get("nominated_by") else None
    nominator = localized or facts["nominator"]["name"]
    check = a.get("signature_check")
    return {
        "id": facts["id"],
        "name": text(facts["full_name"], page.lang),
        "nominator": nominator,
        "applied_on": day(page, facts["application_date"]),
        "status": a["status"],
        "on_ballot": option is not None,
        "versions": [_version(page, d, localized) for d in a["decisions"]],
        "signature_check": None if check is None else {
            "lines": page.number(check["lines_read"]), "valid": page.number(check["valid_total"]),
            "rejected": page.number(len(check.get("rejected", [])))},
    }


def _rules(page: Page, rules: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The candidacy rules the decisions applied, as (label, value)."""
    if rules is None:
        return []
    yes, no = page.gettext("required"), page.gettext("not required")
    return [
        (page.gettext("Minimum age on election day"), page.number(rules["min_age"])),
        (page.gettext("Years of permanent residence"), page.number(rules["residence_years"])),
        (page.gettext("Citizen by birth"), yes if rules.get("citizenship_by_birth_required", True) else no),
        (page.gettext("State-language test"), yes if rules["language_test_required"] else no),
        (page.gettext("Higher education"), yes if rules["higher_education_required"] else no),
        (page.gettext("Years in civil service or elected office"), page.number(rules["service_years"])),
        (page.gettext("Signatures needed"), page.gettext(
            "%(share)s of registered voters, with at least %(fraction)s of them in each of %(regions)s "
            "of the regions", share=page.percent(float(rules["signature_threshold"]), 0),
            fraction=page.percent(float(rules["spread_min_region_fraction"]), 0),
            regions=page.percent(float(rules["spread_min_region_share"]), 0))),
        (page.gettext("Election fee"), money(page, rules["fee_amount"], rules["currency"])),
        (page.gettext("Nomination window"), page.gettext(
            "from %(start)s to %(end)s", start=day(page, rules["nomination_start"]),
            end=day(page, rules["nomination_end"]))),
    ]


@router.get("/elections/{election_id}/candidates")
def candidates_page(election_id: str, request: Request, state: StateDep) -> Response:
    """Every applicant with each decision version, its rules' outcomes and reasons, and the appeals."""
    with state.reading() as session:
        try:
            e = get_election(session, election_id)
        except NotFound:
            return not_found(request, election_id)
        manifest, candidacy = e.manifest, e.candidacy_rules
    applications = list_applications(election_id, state, None)  # type: ignore[arg-type]
    page = Page(request, tuple(manifest["name"]))
    options = {s["selection_id"]: s for c in manifest["contests"] for s in c["selections"]}
    applicants = [_applicant(page, a, options) for a in applications]
    return page.render(
        "public_candidates.html",
        election_id=election_id,
        name=text(manifest["name"], page.lang),
        applicants=applicants,
        registered=sum(a["status"] == "registered" for a in applicants),
        refused=sum(a["status"] == "refused" for a in applicants),
        pending=sum(a["status"] not in ("registered", "refused") for a in applicants),
        rules=_rules(page, candidacy),
    )
