from __future__ import annotations

import json
from pathlib import Path

import pytest

from saylau.election.scenario import load_scenario
from saylau.record.verifier import verify_record
from saylau.sim import election_day
from saylau.sim.election_day import ElectionDay, decide_applicants, run_election_day


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> ElectionDay:
    out = tmp_path_factory.mktemp("day")
    return run_election_day(
        out, "kz-2022", scale=1.0, seed=5, pilot_stations=4, pilot_ballots=40,
        guardians=3, quorum=2, missing=1, forensic_replications=19,
    )


def test_the_day_reproduces_the_published_totals(day: ElectionDay) -> None:
    published = day.scenario.published
    assert published is not None
    summary = json.loads((day.out / "summary.json").read_text())
    assert summary["registered_voters"] == published.registered == 11_953_465
    assert summary["took_part"] == published.took_part == 8_300_046
    assert summary["votes"] == published.votes
    assert summary["decision"]["outcome"] == "winner"
    assert summary["decision"]["winner"] == "tokayev"


def test_applicants_are_decided_with_refusals(day: ElectionDay) -> None:
    statuses = {d.applicant_id: d.status for d in day.registration}
    assert sum(s == "registered" for s in statuses.values()) == 6
    assert "refused" in statuses.values()
    saved = json.loads((day.out / "registration.json").read_text())
    assert saved == json.loads(json.dumps(day.registration.to_dict()))


def test_signature_threshold_counts_from_the_roll_at_nomination() -> None:
    sc = load_scenario("kz-2022")
    book = decide_applicants(sc)
    reasons = [o.reason for d in book for o in d.outcomes if o.rule_id == "signature_threshold"]
    assert any("118273" in r for r in reasons)


def test_pilot_tallies_equal_the_planned_station_votes(day: ElectionDay) -> None:
    assert day.pilot_mismatches == []
    assert verify_record(day.out / "record") == day.encrypted.record_hash
    cast = day.encrypted.states["cast"]
    assert cast == day.pilot.ballots == 40


def test_a_pilot_tally_that_differs_from_the_plan_is_named(day: ElectionDay) -> None:
    station = day.pilot.station_ids[0]
    plan = {sid: dict(v) for sid, v in day.pilot.plan.items()}
    option = next(iter(plan[station]))
    plan[station][option] += 1
    pilot = type(day.pilot)(day.pilot.manifest, plan, day.pilot.paper, day.pilot.station_ids)
    assert election_day._pilot_mismatches(pilot, day.encrypted) == [station]


def test_an_unknown_station_in_the_plan_is_refused(day: ElectionDay, tmp_path: Path) -> None:
    from saylau.record.demo import run_demo

    with pytest.raises(ValueError, match="not in the manifest"):
        run_demo(tmp_path / "r", day.pilot.manifest, {"nowhere": {"tokayev": 1}}, guardians=3, quorum=2)


def test_exit_polls_are_released_at_the_last_domestic_close(day: ElectionDay) -> None:
    summary = json.loads((day.out / "summary.json").read_text())
    # 20:00 local in the western regions (UTC+5) is 15:00 UTC, an hour after Astana's close
    assert summary["exit_polls"]["released_at_utc"] == "2022-11-20T15:00:00+00:00"
    published = {p.pollster: p.share for p in day.scenario.published.exit_polls}  # type: ignore[union-attr]
    assert {k: v["published"] for k, v in summary["exit_polls"]["pollsters"].items()} == published
    assert (day.out / "exitpolls" / "exitpolls.png").stat().st_size > 0


def test_domestic_closings_cover_both_time_zones(day: ElectionDay) -> None:
    from datetime import UTC

    closings = election_day.domestic_closings(day.scenario)
    assert sorted({c.astimezone(UTC).hour for c in closings.values()}) == [14, 15]


def test_forensics_report_is_written(day: ElectionDay) -> None:
    summary = json.loads((day.out / "summary.json").read_text())
    assert {"fingerprint", "round_numbers", "last_digit_mc", "second_digit_mc"} <= set(summary["forensics"])
    assert (day.out / "forensics" / "index.html").read_text().count("<img") >= 3
