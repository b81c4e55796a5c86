"""The whole election day of a scenario, end to end: what ``saylau demo`` runs.

1. nomination: every applicant of the scenario is decided by the candidacy rules, each rule's
   outcome and reason kept (refusals included);
2. the paper election: station protocols for the whole country, turnout through the day in local
   time, partial results as protocols arrive, aggregation to regions and the rule decision;
3. a pilot of end-to-end verifiable voting in sampled stations (key ceremony, encrypted ballots with
   challenges and coerced-then-replaced remote votes, threshold decryption with a guardian missing,
   the election record and its independent verification), whose decrypted station tallies must equal
   the pilot's plan drawn from those stations' paper protocols.

Exit polls and forensics run on the results directory this writes. Each step reports through a
``progress(step)`` callback; nothing here prints.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saylau.election.eligibility import EligibilityContext
from saylau.election.registration import RegistrationBook
from saylau.election.scenario import Scenario, load_scenario
from saylau.errors import ElectionError, ScenarioError
from saylau.record.demo import DemoResult, run_demo
from saylau.record.verifier import ProgressHook
from saylau.sim.pilot import Pilot, pilot_election
from saylau.sim.run import PaperRun, run_paper

__all__ = ["ElectionDay", "decide_applicants", "run_election_day"]


@dataclass
class ElectionDay:
    """Everything the day produced, with the directory it was written to."""

    out: Path
    scenario: Scenario
    registration: RegistrationBook
    paper: PaperRun
    pilot: Pilot
    encrypted: DemoResult
    pilot_mismatches: list[str]
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """A JSON-able digest of the day (written as ``summary.json``)."""
        t = self.paper.sim.table
        return {
            "scenario": self.scenario.election_id,
            "applicants": {d.applicant_id: d.status for d in self.registration},
            "registered_voters": int(t.registered.sum()),
            "took_part": int(t.voted.sum()),
            "valid": int(t.valid.sum()),
            "invalid": int(t.invalid.sum()),
            "votes": {o: int(v) for o, v in zip(t.options, t.votes.sum(axis=0), strict=True)},
            "decision": self.paper.decision.model_dump(mode="json"),
            "pilot": {
                "stations": list(self.pilot.station_ids),
                "ballots": self.encrypted.states,
                "record_hash": self.encrypted.record_hash.hex(),
                "missing_guardians": list(self.encrypted.missing_guardians),
                "matches_paper_protocols": not self.pilot_mismatches,
            },
            "timings_s": {k: round(v, 2) for k, v in self.timings.items()},
        }


def decide_applicants(scenario: Scenario) -> RegistrationBook:
    """Decide every applicant of the scenario on its application date.

    The signature threshold counts from the roll at nomination time when the scenario publishes it
    (in 2022: 1 % of it was 118,273), else from the election-day roll.
    """
    if scenario.candidacy is None or scenario.published is None:
        raise ScenarioError(f"scenario {scenario.election_id}: no candidacy rules or registered voters")
    regions = tuple(r.id for r in scenario.territory_index.regions if r.kind != "abroad")
    figures = scenario.published
    base = figures.registered_at_nomination or figures.registered
    ctx = EligibilityContext(scenario.date, base, regions)
    book = RegistrationBook(scenario.candidacy)
    for applicant in scenario.applicants:
        book.decide(applicant, ctx, applicant.application_date, "CEC")
    return book


def _pilot_mismatches(pilot: Pilot, result: DemoResult) -> list[str]:
    """Stations whose decrypted tally differs from the votes the pilot planned there."""
    contest = result.manifest.contests[0].contest_id
    decrypted = {e.scope_id: e.counts()[contest] for e in result.entries if e.scope == "station"}
    wrong = []
    for sid, plan in pilot.plan.items():
        got = decrypted.get(sid, {})
        if any(got.get(o, 0) != n for o, n in plan.items()):
            wrong.append(sid)
    return wrong


def run_election_day(
    out: Path,
    scenario: str | Path | Scenario = "kz-2022",
    *,
    scale: float = 1.0,
    seed: int = 2022,
    pilot_stations: int = 20,
    pilot_ballots: int = 3000,
    guardians: int = 5,
    quorum: int = 3,
    missing: int = 1,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
    crypto_progress: ProgressHook | None = None,
) -> ElectionDay:
    """Run the day into ``out`` (``registration.json``, ``results/``, ``record/``, ``summary.json``)."""
    tick = progress or (lambda _step: None)
    timings: dict[str, float] = {}
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    book = decide_applicants(sc)
    (out / "registration.json").write_text(json.dumps(book.to_dict(), ensure_ascii=False, indent=1))
    timings["nomination and registration"] = time.perf_counter() - t0
    tick("registration decided")

    t0 = time.perf_counter()
    paper = run_paper(sc, out / "results", scale=scale, seed=seed)
    timings["paper election (all stations)"] = time.perf_counter() - t0
    tick("paper election simulated")

    t0 = time.perf_counter()
    pilot = pilot_election(sc, stations=pilot_stations, ballots=pilot_ballots, seed=seed, paper=paper.sim)
    encrypted = run_demo(
        out / "record",
        pilot.manifest,
        pilot.plan,
        guardians=guardians,
        quorum=quorum,
        missing=missing,
        seed=seed,
        workers=workers,
        progress=crypto_progress,
    )
    mismatches = _pilot_mismatches(pilot, encrypted)
    if mismatches:
        raise ElectionError(f"decrypted pilot tallies differ from the paper protocols at {mismatches}")
    timings["verifiable pilot (encrypt, tally, decrypt, record, verify)"] = time.perf_counter() - t0
    tick("verifiable pilot done")

    day = ElectionDay(out, sc, book, paper, pilot, encrypted, mismatches, timings)
    (out / "summary.json").write_text(json.dumps(day.summary(), ensure_ascii=False, indent=1))
    return day
