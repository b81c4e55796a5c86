"""Candidate registration through the API: decisions computed by RegistrationBook, appeals, signatures."""

from __future__ import annotations

from typing import Any

from saylau.board import read_jsonl, verify_board
from saylau.election.nomination_models import CandidacyRules
from saylau.election.registration import Decision, verify_decision

from .conftest import CSV, KZ_IIN, VOTERS, P, TestClient, login, manifest, roll_csv

E = "e2022"
RULES: dict[str, Any] = {
    "min_age": 40,
    "residence_years": 15,
    "language_test_required": True,
    "higher_education_required": True,
    "service_years": 5,
    "allowed_nominator_types": ["public_association", "party", "coalition"],
    "signature_threshold": 0.01,
    "spread_min_region_share": 0.6667,
    "spread_min_region_fraction": 0.03,
    "fee_amount": "3000000",
    "currency": "KZT",
    "nomination_start": "2022-09-23",
    "nomination_end": "2022-10-11",
    "decision_deadline_days": 5,
}


def applicant(aid: str, **facts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": aid,
        "full_name": {"kk": aid, "ru": aid, "en": aid},
        "date_of_birth": "1960-05-17",
        "citizen_by_birth": True,
        "residence_years": 40,
        "state_language_test": "passed",
        "higher_education": True,
        "service_years": 20,
        "nominator": {"name": "Association", "type": "public_association"},
        "signatures": {"counts_per_region": {"r1": 12}},
        "fee_paid": "3000000",
        "application_date": "2022-10-01",
    }
    return base | facts


def _election(client: TestClient, rules: bool = True, at_nomination: int | None = 1000) -> dict[str, str]:
    cec = login(client, "cec")
    body: dict[str, Any] = {"manifest": manifest(), "guardians": 3, "quorum": 2, "voter_id": KZ_IIN}
    if rules:
        body |= {"candidacy_rules": RULES, "registered_at_nomination": at_nomination}
    r = client.post(f"{P}/elections", json=body, headers=cec)
    assert r.status_code == 201, r.text
    r = client.post(f"{P}/elections/{E}/roll", content=roll_csv(), headers={**cec, **CSV})
    assert r.status_code == 201, r.text
    return cec


def _apply(client: TestClient, cec: dict[str, str], app: dict[str, Any]) -> None:
    r = client.post(f"{P}/elections/{E}/applications", json={"applicant": app}, headers=cec)
    assert r.status_code == 201, r.text


def _decide(client: TestClient, cec: dict[str, str], aid: str, on: str = "2022-10-03") -> Any:
    return client.post(f"{P}/elections/{E}/applications/{aid}/decision", json={"decided_on": on}, headers=cec)


def test_decisions_are_computed_with_every_rule_and_published(client: TestClient) -> None:
    cec = _election(client)
    _apply(client, cec, applicant("good"))
    _apply(client, cec, applicant("young", date_of_birth="1984-07-02", state_language_test="failed"))
    good = _decide(client, cec, "good")
    assert good.status_code == 200, good.text
    assert good.json()["status"] == "registered" and good.json()["version"] == 1
    assert len(good.json()["outcomes"]) == 12 and all(o["passed"] for o in good.json()["outcomes"])
    young = _decide(client, cec, "young").json()
    assert young["status"] == "refused"
    failed = {o["rule_id"]: o["reason"] for o in young["outcomes"] if not o["passed"]}
    assert failed == {"min_age": "aged 38 on election day, younger than 40",
                      "state_language": "failed the state-language test"}
    assert "2 of 12 rules failed" in young["reason"] and "min_age" in young["reason"]
    assert young["context"]["registered_voters"] == 1000 and young["context"]["region_ids"] == ["r1"]
    # the published decision re-checks from its own facts alone
    rules = CandidacyRules.model_validate(RULES)
    decision = Decision.from_dict({k: v for k, v in young.items() if k not in ("digest", "board_position")})
    verify_decision(decision, rules)
    assert decision.digest() == young["digest"]
    board = read_jsonl(client.get(f"{P}/elections/{E}/board").text.splitlines())
    verify_board(board)
    published = [row["payload"] for row in board if row.get("kind") == "decision"]
    assert [p["applicant_id"] for p in published] == ["good", "young"]
    assert published[1]["digest"] == young["digest"]
    # a second decision is refused: revisions go through an appeal
    assert _decide(client, cec, "good").status_code == 422
    listed = {a["applicant"]["id"]: a for a in client.get(f"{P}/elections/{E}/applications").json()}
    assert listed["young"]["status"] == "refused" and len(listed["young"]["decisions"]) == 1


def test_a_cec_user_cannot_type_a_verdict(client: TestClient) -> None:
    cec = _election(client)
    _apply(client, cec, applicant("good", fee_paid="10"))
    r = client.post(f"{P}/elections/{E}/applications/good/decision",
                    json={"outcome": "registered", "rules": [], "reason": "trust me"}, headers=cec)
    assert r.status_code == 422 and "outcome" in r.json()["detail"], r.text
    r = client.post(f"{P}/elections/{E}/applications", json={"applicant": {"id": "x"}}, headers=cec)
    assert r.status_code == 422 and "applicant.full_name" in r.json()["detail"]
    late = _decide(client, cec, "good", on="2022-10-30")
    assert late.status_code == 422 and "outside" in late.json()["detail"]
    assert _decide(client, cec, "nobody").status_code == 404


def test_no_rules_no_decision(client: TestClient) -> None:
    cec = _election(client, rules=False)
    _apply(client, cec, applicant("good"))
    r = _decide(client, cec, "good")
    assert r.status_code == 409 and "no candidacy rules" in r.json()["detail"]


def test_an_appeal_that_flips_the_decision_keeps_the_old_version(client: TestClient) -> None:
    cec = _election(client)
    _apply(client, cec, applicant("short", fee_paid="1000000"))
    first = _decide(client, cec, "short").json()
    assert first["status"] == "refused" and "election_fee" in first["reason"]
    appeal = {
        "filed_by": "short's representative",
        "filed_on": "2022-10-04",
        "grounds": "the remaining fee was paid on 30 September; bank statement attached",
        "evidence": {"bank_reference": "KZ-123"},
        "revised_applicant": applicant("short"),
        "decided_on": "2022-10-05",
    }
    r = client.post(f"{P}/elections/{E}/applications/short/appeal", json=appeal, headers=cec)
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["status"] == "registered" and second["version"] == 2
    assert second["previous_hash"] == first["digest"]
    assert second["appeal"]["filed_by"] == "short's representative" and second["decided_by"] == "cec"
    assert second["appeal"]["grounds"].startswith("the remaining fee")
    assert second["decided_on"] == "2022-10-05"
    listed = {a["applicant"]["id"]: a for a in client.get(f"{P}/elections/{E}/applications").json()}
    versions = listed["short"]["decisions"]
    assert [v["status"] for v in versions] == ["refused", "registered"]
    assert listed["short"]["status"] == "registered"
    assert versions[0]["digest"] == first["digest"]
    # only a refusal can be appealed
    again = client.post(f"{P}/elections/{E}/applications/short/appeal", json=appeal, headers=cec)
    assert again.status_code == 422 and "only a refusal" in again.json()["detail"]


def test_a_tampered_stored_decision_is_detected(client: TestClient) -> None:
    cec = _election(client)
    _apply(client, cec, applicant("short", fee_paid="1000000"))
    assert _decide(client, cec, "short").json()["status"] == "refused"
    state = client.app.state.saylau  # type: ignore[attr-defined]
    from sqlalchemy import select

    from saylau.store.models import DecisionRow

    with state.transaction() as s:
        row = s.scalars(select(DecisionRow)).one()
        row.detail = {**row.detail, "reason": "edited in the database"}
    appeal = {"filed_by": "x", "filed_on": "2022-10-04", "grounds": "g", "decided_on": "2022-10-05"}
    r = client.post(f"{P}/elections/{E}/applications/short/appeal", json=appeal, headers=cec)
    assert r.status_code == 422 and "digest does not match" in r.json()["detail"], r.text


def _sheet(lines: list[tuple[str, str, str, str]]) -> str:
    """(iin, last name, region, signed on) per line, all for applicant 'sig', first name 'Test'."""
    out = ["applicant_id,iin,last_name,first_name,region,signed_on"]
    out += [f"sig,{iin},{last},Test,{region},{day}" for iin, last, region, day in lines]
    return "\n".join(out) + "\n"


def test_signature_sheets_are_checked_against_the_stored_roll(client: TestClient) -> None:
    # threshold counted from the stored roll: 1 % of 10 voters → 1 signature needed
    cec = _election(client, at_nomination=None)
    _apply(client, cec, applicant("sig", signatures={"counts_per_region": {"r1": 500}}))
    stranger = "900101300013"
    sheet = _sheet([
        (VOTERS[0], "Voter0", "r1", "2022-10-01"),
        (VOTERS[0], "Voter0", "r1", "2022-10-02"),  # duplicate
        (VOTERS[1], "Someone", "r1", "2022-10-01"),  # name mismatch
        (VOTERS[2], "Voter2", "r1", "2022-12-01"),  # after the nomination window
        (stranger, "Nobody", "r1", "2022-10-01"),  # not a valid IIN or not on the roll
    ])
    url = f"{P}/elections/{E}/applications/sig/signatures"
    r = client.post(url, content=_sheet([]), headers={**cec, **CSV})
    assert r.status_code == 201 and r.json()["valid_total"] == 0
    zero = _decide(client, cec, "sig").json()  # checked counts (none) replace the 500 declared
    assert zero["status"] == "refused" and zero["context"]["valid_signatures"] == {}
    assert "0 valid signatures, fewer than 1" in zero["reason"]
    r = client.post(url, content=sheet, headers={**cec, **CSV})
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["valid_total"] == 1 and report["lines_read"] == 5
    per_reason = {k: v for k, v in report["per_reason"].items() if v}
    assert per_reason.pop("duplicate") == 1 and per_reason.pop("name_mismatch") == 1
    assert per_reason.pop("out_of_window") == 1 and sum(per_reason.values()) == 1
    assert VOTERS[0] not in str(report) and "Voter0" not in str(report)  # no personal data published
    appeal = {"filed_by": "sig", "filed_on": "2022-10-04", "grounds": "sheets recounted",
              "decided_on": "2022-10-05"}
    flipped = client.post(f"{P}/elections/{E}/applications/sig/appeal", json=appeal, headers=cec).json()
    assert flipped["status"] == "registered" and flipped["context"]["valid_signatures"] == {"r1": 1}
    listed = client.get(f"{P}/elections/{E}/applications").json()
    assert listed[0]["signature_check"]["valid_total"] == 1
    r = client.post(url, content="iin\n1\n", headers={**cec, **CSV})
    assert r.status_code == 422 and "missing column(s)" in r.json()["detail"]
