"""The whole election day of a scenario, end to end: what ``saylau demo`` runs.

1. nomination: every applicant of the scenario is decided by the candidacy rules, each rule's
   outcome and reason kept (refusals included);
2. the paper election: station protocols for the whole country, turnout through the day in local
   time, partial results as protocols arrive, aggregation to regions and the rule decision;
3. a pilot of end-to-end verifiable voting in sampled stations (key ceremony, encrypted ballots with
   challenges and coerced-then-replaced remote votes, threshold decryption with a guardian missing,
   the election record and its independent verification), whose decrypted station tallies must equal
   the pilot's plan drawn from those stations' paper protocols.

4. exit polls: the scenario's pollsters interview voters at sampled stations; their estimates stay
   under embargo until the last station in the country closes (the day checks the embargo refuses a
   minute before and releases at the close), then are compared with the official result;
5. forensics on the station protocols: an HTML report with plots and a p-value per test;
6. one round of a risk-limiting batch-comparison audit of the protocols against the paper (here the
   simulated paper equals the protocols), from a simulated dice ceremony (``saylau.audit``).

Each step reports through a ``progress(step)`` callback; nothing here prints.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from saylau.election.eligibility import EligibilityContext
from saylau.election.registration import RegistrationBook
from saylau.election.scenario import Scenario, load_scenario
from saylau.errors import ElectionError, EmbargoError, ScenarioError
from saylau.forensics.load import load_input
from saylau.forensics.report import write_report
from saylau.polls.embargo import Embargo
from saylau.polls.report import pollsters_from_scenario, write_exit_polls
from saylau.record.demo import DemoResult, run_demo
from saylau.record.verifier import ProgressHook
from saylau.sim.pilot import Pilot, pilot_election
from saylau.sim.run import PaperRun, run_paper

__all__ = ["ElectionDay", "decide_applicants", "domestic_closings", "run_election_day"]


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
    exit_polls: dict[str, Any]
    forensics: dict[str, Any]
    embargo_until: datetime
    timings: dict[str, float] = field(default_factory=dict)
    audit: Any = None

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
            "exit_polls": {
                "released_at_utc": self.embargo_until.isoformat(),
                "pollsters": {
                    p["name"]: {
                        "published": p["published_winner_share"],
                        "estimate": next(
                            e for e in p["estimates"] if e["option"] == self.exit_polls["winner"]
                        ),
                    }
                    for p in self.exit_polls["pollsters"]
                },
            },
            "forensics": {
                name: {"p_value": t["p_value"], "calibrated": t["calibrated"], "skipped": t["skipped"]}
                for name, t in self.forensics["tests"].items()
            },
            "audit": None if self.audit is None else {
                "kind": self.audit.kind, "status": self.audit.status, "draws": self.audit.drawn,
                "max_risk": self.audit.max_risk(),
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


def domestic_closings(scenario: Scenario) -> dict[str, datetime]:
    """When polls close in each time zone of the scenario's domestic stations (local closing time)."""
    terr = scenario.territory_index
    abroad = {r.id for r in terr.regions if r.kind == "abroad"}
    region_of = {d.id: d.region for d in terr.districts}
    zones = sorted({terr.time_zone(st.id) for st in terr.stations if region_of[st.district] not in abroad})
    hh, mm = (int(x) for x in scenario.rules.polls_close_local.split(":"))
    return {z: datetime.combine(scenario.date, dt_time(hh, mm), ZoneInfo(z)) for z in zones}


def _release_exit_polls(scenario: Scenario) -> datetime:
    """The moment the embargo lifts, after checking it holds a minute before and lifts at that moment."""
    closings = domestic_closings(scenario)
    last = Embargo(closings).last_close
    for now, must_hold in ((last - timedelta(minutes=1), True), (last, False)):
        embargo = Embargo(closings, clock=lambda now=now: now)  # type: ignore[misc]
        try:
            embargo.check("exit-poll estimates")
        except EmbargoError:
            if not must_hold:
                raise
        else:
            if must_hold:
                raise ElectionError(f"the exit-poll embargo did not hold at {now.isoformat()}")
    return last


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


def _audit_round(sc: Scenario, paper: PaperRun, out: Path, seed: int) -> Any:
    """One round of a batch-comparison audit; the audit boards find the paper as the protocols say."""
    import numpy as np

    from saylau.audit.simulate import run_audit

    rolls = "".join(str(d) for d in np.random.default_rng(seed).integers(0, 10, 20))  # simulated dice
    t = paper.sim.table
    done = run_audit(
        sc.election_id, t, t, sc.rules, sc.against_all, "batch_comparison", 0.05, rolls, max_rounds=1
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "audit.json").write_text(done.record.model_dump_json(indent=1), encoding="utf-8")
    return done.record


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
    forensic_replications: int = 200,
    progress: Callable[[str], None] | None = None,
    crypto_progress: ProgressHook | None = None,
) -> ElectionDay:
    """Run the day into ``out``.

    Writes ``registration.json``, ``results/``, ``record/``, ``exitpolls/``, ``forensics/`` and
    ``summary.json``.
    """
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
        registered=pilot.registered,
        turnout_times=sc.rules.turnout_reports_local,
    )
    mismatches = _pilot_mismatches(pilot, encrypted)
    if mismatches:
        raise ElectionError(f"decrypted pilot tallies differ from the paper protocols at {mismatches}")
    timings["verifiable pilot (encrypt, tally, decrypt, record, verify)"] = time.perf_counter() - t0
    tick("verifiable pilot done")

    t0 = time.perf_counter()
    results, cleaning = load_input(out / "results")
    released = _release_exit_polls(sc)
    polls = write_exit_polls(results, out / "exitpolls", pollsters_from_scenario(sc), seed=seed)
    timings["exit polls (3 pollsters, embargoed until the close)"] = time.perf_counter() - t0
    tick("exit polls published")

    t0 = time.perf_counter()
    report = write_report(
        results,
        cleaning,
        out / "forensics",
        seed=seed,
        replications=forensic_replications,
        fingerprint_replications=max(forensic_replications // 2, 19),
    )
    timings["forensics report"] = time.perf_counter() - t0
    tick("forensics written")

    t0 = time.perf_counter()
    audit = _audit_round(sc, paper, out / "audit", seed)
    timings["risk-limiting audit (one round, batch comparison)"] = time.perf_counter() - t0

    day = ElectionDay(
        out, sc, book, paper, pilot, encrypted, mismatches, polls, report, released, timings, audit
    )
    (out / "summary.json").write_text(json.dumps(day.summary(), ensure_ascii=False, indent=1))
    return day
