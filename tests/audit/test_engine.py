"""Assertions from the rules, rounds with escalation, full hand count, and verification from scratch."""

from __future__ import annotations

import numpy as np
import pytest

from saylau.audit.assertions import derive_assertions
from saylau.audit.simulate import falsify_to_win, lower_leader, run_audit
from saylau.audit.verify import verify_audit
from saylau.election.rules import ElectoralRules, Totals
from saylau.election.scenario import load_scenario
from saylau.errors import AuditError, VerificationFailed
from saylau.sim.paper import PaperSimulation, simulate_paper

ROLLS = "39184720553619028847"
OPTS = ("a", "b", "c", "aa")


@pytest.fixture(scope="module")
def kz() -> PaperSimulation:
    return simulate_paper(load_scenario("kz-2022"), scale=0.02, seed=7)


def totals(a: int, b: int, c: int, aa: int, invalid: int = 10) -> Totals:
    valid = a + b + c + aa
    return Totals(
        registered=3 * (valid + invalid) // 2,
        took_part=valid + invalid,
        valid=valid,
        votes={"a": a, "b": b, "c": c, "aa": aa},
        against_all="aa",
    )


def test_kz_rules_give_one_supermajority_assertion(kz: PaperSimulation) -> None:
    sc = kz.scenario
    from saylau.audit.sources import reported_totals

    decision, assertions = derive_assertions(
        sc.rules, reported_totals(kz.table, sc.against_all), kz.table.options
    )
    assert decision.outcome == "winner" and decision.winner == "tokayev"
    (a,) = assertions
    assert a.kind == "supermajority" and a.support == ("tokayev",) and a.threshold == sc.rules.majority
    # kz-2022: the base is the valid votes, "against all" included; invalid ballots are outside it
    assert "against_all" in a.against and "invalid" not in a.against
    assert a.value("tokayev") == 1.0 and a.value("abden") == 0.0 and a.value("invalid") == 0.5


def test_base_follows_the_rules() -> None:
    _, (a,) = derive_assertions(ElectoralRules(against_all_in_base=False), totals(60, 30, 5, 5), OPTS)
    assert a.against == ("b", "c")
    _, (b,) = derive_assertions(ElectoralRules(majority_base="took_part"), totals(60, 30, 5, 5), OPTS)
    assert "invalid" in b.against
    _, (c,) = derive_assertions(ElectoralRules(majority=2 / 3), totals(70, 20, 5, 5), OPTS)
    assert c.threshold == pytest.approx(2 / 3) and c.upper == pytest.approx(0.75)


def test_runoff_assertions() -> None:
    decision, assertions = derive_assertions(ElectoralRules(), totals(45, 35, 15, 5), OPTS)
    assert decision.runoff == ["a", "b"]
    ids = {x.id for x in assertions}
    assert ids == {"no_majority:a", "no_majority:b", "pairwise:a>c", "pairwise:b>c"}
    nm = next(x for x in assertions if x.id == "no_majority:a")
    assert nm.against == ("a",) and nm.threshold == pytest.approx(0.5)
    with_void = ElectoralRules(against_all_wins_effect="invalid")
    _, more = derive_assertions(with_void, totals(45, 35, 15, 5), OPTS)
    assert {"pairwise:a>aa", "pairwise:b>aa"} <= {x.id for x in more}


def test_unauditable_outcome_is_refused() -> None:
    low = Totals(
        registered=1000, took_part=100, valid=90, votes={"a": 60, "b": 30, "c": 0, "aa": 0}, against_all="aa"
    )
    with pytest.raises(AuditError, match="invalid_turnout"):
        derive_assertions(ElectoralRules(), low, OPTS)


@pytest.mark.parametrize("kind", ["batch_comparison", "bravo", "alpha"])
def test_honest_count_is_confirmed_and_verifies(kz: PaperSimulation, kind: str) -> None:
    sc = kz.scenario
    done = run_audit("kz", kz.table, kz.table, sc.rules, sc.against_all, kind, 0.05, ROLLS)  # type: ignore[arg-type]
    assert done.confirmed and done.rounds == 1
    est = max(max(e.values()) for e in done.record.estimates.values())
    assert done.drawn == est  # the first round is the estimate, and it sufficed
    assert done.record.max_risk() is not None and done.record.max_risk() <= 0.05
    names = [n for n, _ in verify_audit(done.record).checks]
    assert names[:2] == ["manifest", "seed"] and names[-1] == "status"


def test_falsified_runoff_escalates_to_full_count(kz: PaperSimulation) -> None:
    sc = kz.scenario
    rng = np.random.default_rng(3)
    truth = lower_leader(kz.table, "tokayev", 0.46, rng)
    reported, _ = falsify_to_win(truth, "tokayev", 0.9, 0.81, rng)
    done = run_audit("kz", reported, truth, sc.rules, sc.against_all, "batch_comparison", 0.05, ROLLS)
    assert not done.confirmed and done.full_count
    assert [r.decision for r in done.record.rounds][-1] == "full_hand_count"
    assert done.record.rounds[0].decision == "escalate"
    assert done.record.rounds[1].size == done.record.rounds[0].size  # cumulative doubled
    d = done.record.full_count_decision
    assert d is not None and d.outcome == "runoff" and d.runoff[0] == "tokayev"
    verify_audit(done.record)


def test_verify_catches_every_change(kz: PaperSimulation) -> None:
    sc = kz.scenario
    done = run_audit("kz", kz.table, kz.table, sc.rules, sc.against_all, "batch_comparison", 0.05, ROLLS)
    rec = done.record
    rnd = rec.rounds[0]

    def tampered(**change: object) -> None:
        bad = rec.model_copy(deep=True)
        for path, value in change.items():
            if path == "tally":
                st = bad.rounds[0].draws[0].station
                assert bad.rounds[0].station_tallies is not None
                bad.rounds[0].station_tallies[st]["tokayev"] -= 1
                bad.rounds[0].station_tallies[st]["abden"] += 1
            elif path == "rolls":
                bad.ceremony = bad.ceremony.model_copy(update={"rolls": value})
            elif path == "risk":
                assert bad.rounds[0].risks is not None
                bad.rounds[0].risks = {k: v / 2 for k, v in bad.rounds[0].risks.items()}
            elif path == "draw":
                bad.rounds[0].draws[0] = bad.rounds[0].draws[1]
        with pytest.raises(VerificationFailed):
            verify_audit(bad)

    tampered(tally=True)
    tampered(rolls="0" * 20)
    tampered(risk=True)
    tampered(draw=True)
    assert rnd.station_tallies is not None


def test_a_ballot_drawn_again_must_read_the_same(kz: PaperSimulation) -> None:
    from saylau.audit.ceremony import DiceCeremony
    from saylau.audit.engine import enter_round, plan_audit
    from saylau.audit.sources import manifest_from_table, reported_totals

    sc = kz.scenario
    m = manifest_from_table("kz", kz.table)
    cer = DiceCeremony(
        rolls=ROLLS, observers=("x",), held_at="2022-11-21T10:00:00+06:00", manifest_hash=m.hash()
    )
    rec = plan_audit(m, sc.rules, reported_totals(kz.table, sc.against_all), cer, "batch_comparison", 0.05)
    first = rec.rounds[0]
    # round 1 reads every station as the leader's landslide loss: the risk stays high, round 2 is drawn
    bad = {d.station: {**m.by_station()[d.station].reported} for d in first.draws}
    for counts in bad.values():
        counts["abden"] += counts["tokayev"]
        counts["tokayev"] = 0
    rec = enter_round(rec, bad)
    assert rec.status == "in_progress" and len(rec.rounds) == 2
    again = [d.station for d in rec.rounds[1].draws if d.station in bad]
    honest = {d.station: dict(m.by_station()[d.station].reported) for d in rec.rounds[1].draws}
    assert again  # with replacement, 38 + 38 draws of ~200 stations meet again
    with pytest.raises(AuditError, match="earlier round"):  # ... and must be read the same way
        enter_round(rec.model_copy(deep=True), honest)
    consistent = {st: bad.get(st, c) for st, c in honest.items()}
    with pytest.raises(AuditError, match="was not sampled"):
        enter_round(rec.model_copy(deep=True), {**consistent, "nowhere": {}})
    assert enter_round(rec, consistent).rounds[1].risks is not None


def test_repeated_audits_catch_falsified_runoffs(kz: PaperSimulation) -> None:
    """Small version of benchmarks/audit_eval.py: the miss rate must stay within the risk limit."""
    from saylau.audit.sources import manifest_from_table

    sc = kz.scenario
    rng = np.random.default_rng(8)
    truth = lower_leader(kz.table, "tokayev", 0.48, rng)
    reported, _ = falsify_to_win(truth, "tokayev", 0.6, 0.70, rng)
    manifest = manifest_from_table("kz", reported)
    runs, misses = 30, 0
    for _ in range(runs):
        rolls = "".join(str(d) for d in rng.integers(0, 10, 20))
        done = run_audit(
            "kz", reported, truth, sc.rules, sc.against_all, "batch_comparison", 0.1, rolls, manifest
        )
        misses += done.confirmed
        if not done.confirmed:
            d = done.record.full_count_decision
            assert d is not None and d.outcome == "runoff"
    assert misses <= 0.1 * runs
    honest = manifest_from_table("kz", kz.table)
    sizes = [
        run_audit(
            "kz", kz.table, kz.table, sc.rules, sc.against_all, "batch_comparison", 0.1, f"{k:020d}", honest
        ).drawn
        for k in range(10)
    ]
    assert sizes == [sizes[0]] * 10  # protocols right: the estimate, every time
