"""Measure the risk-limiting audits on kz-2022: honest counts and falsified protocols.

* **Honest**: the paper equals the protocols. For each audit type and risk limit: the estimated first
  round, the mean number of draws to the end, the share confirmed in round 1, the mean rounds.
* **Falsified**: the paper says no candidate has a majority (a runoff); the protocols of a share of the
  stations were rewritten (the others' votes moved to the leader) so the reported totals show the
  leader elected in round 1. An audit that *confirms* the reported outcome has failed; the RLA
  guarantee is that this happens with probability at most the risk limit. Every other run ends in a
  full hand count, whose rule decision is the runoff. The table gives the measured miss rate with its
  one-sided 95% Clopper-Pearson upper bound, and the mean draws before the full count was called.

Each row uses one simulated paper election and new dice rolls per run (the sample is the audit's only
randomness). Batch comparison runs on all 10,101 stations; ballot polling on a smaller simulation
(``--polling-scale``), because the consistent sampler hashes every ballot id.

    .venv/bin/python benchmarks/audit_eval.py --write-docs          # ~5-10 min on 2 cores
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from scipy import stats

from saylau.audit.engine import AuditKind
from saylau.audit.simulate import falsify_to_win, lower_leader, run_audit
from saylau.audit.sources import manifest_from_table
from saylau.election.aggregation import StationTable
from saylau.election.scenario import Scenario, load_scenario
from saylau.sim.paper import simulate_paper

DOCS = Path(__file__).resolve().parent.parent / "docs" / "audit.md"
BEGIN, END = "<!-- BEGIN audit_eval -->", "<!-- END audit_eval -->"
P_BEGIN, P_END = "<!-- BEGIN projection_eval -->", "<!-- END projection_eval -->"
FRACTIONS = (0.01, 0.05, 0.10, 0.25, 0.50, 0.80)
KINDS: tuple[AuditKind, ...] = ("batch_comparison", "bravo", "alpha")
#: (true leader share, reported leader share, share of stations falsified)
FALSIFIED = [(0.45, 0.81, 0.8), (0.49, 0.56, 0.4), (0.495, 0.52, 0.2), (0.499, 0.53, 0.06)]


def rolls(rng: np.random.Generator) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, 20))


def upper95(k: int, n: int) -> float:
    return 1.0 if k == n else float(stats.beta.ppf(0.95, k + 1, n - k))


def honest(
    sc: Scenario, table: StationTable, kind: AuditKind, alpha: float, reps: int, rng: np.random.Generator
) -> str:
    draws, first, rounds, est = [], 0, [], 0
    manifest = manifest_from_table(sc.election_id, table)
    for _ in range(reps):
        done = run_audit(
            sc.election_id, table, table, sc.rules, sc.against_all, kind, alpha, rolls(rng), manifest
        )
        est = max(max(e.values()) for e in done.record.estimates.values())
        draws.append(done.drawn)
        rounds.append(done.rounds)
        first += done.confirmed and done.rounds == 1
    return (
        f"| {kind} | {len(table):,} | {int(table.voted.sum()):,} | {alpha:g} | {reps} | {est:,} | "
        f"{np.mean(draws):,.1f} | {first / reps:.2f} | {np.mean(rounds):.2f} |"
    )


def falsified(
    sc: Scenario,
    table: StationTable,
    kind: AuditKind,
    alpha: float,
    reps: int,
    rng: np.random.Generator,
    case: tuple[float, float, float],
) -> str:
    true_share, target, fraction = case
    truth = lower_leader(table, "tokayev", true_share, rng)
    while truth.votes[:, truth.options.index("tokayev")].sum() * 2 >= truth.valid.sum():
        true_share -= 0.001  # the draw landed on the winning side: the paper must say runoff
        truth = lower_leader(table, "tokayev", true_share, rng)
    reported, _ = falsify_to_win(truth, "tokayev", fraction, target, rng)
    rep_share = reported.votes[:, reported.options.index("tokayev")].sum() / reported.valid.sum()
    misses, draws, runoffs = 0, [], 0
    manifest = manifest_from_table(sc.election_id, reported)
    for _ in range(reps):
        done = run_audit(
            sc.election_id, reported, truth, sc.rules, sc.against_all, kind, alpha, rolls(rng), manifest
        )
        misses += done.confirmed
        draws.append(done.drawn)
        d = done.record.full_count_decision
        runoffs += d is not None and d.outcome == "runoff"
    tw = truth.votes[:, truth.options.index("tokayev")].sum() / truth.valid.sum()
    return (
        f"| {kind} | {tw:.3f} | {rep_share:.3f} | {fraction:.0%} | {alpha:g} | {reps} | {misses / reps:.3f} "
        f"(≤ {upper95(misses, reps):.3f}) | {runoffs}/{reps} | {np.mean(draws):,.0f} |"
    )


def city_effect(
    table: StationTable, settlement: tuple[str, ...], drop: float, rng: np.random.Generator
) -> StationTable:
    """The leader's share lower by about ``drop`` (absolute) in urban stations, the others' votes up."""
    urban = np.array(settlement) == "urban"
    w = table.options.index("tokayev")
    share = table.votes[urban, w].sum() / table.valid[urban].sum()
    moved = np.where(urban, rng.binomial(table.votes[:, w], min(1.0, drop / share)), 0)
    votes = table.votes.copy()
    votes[:, w] -= moved
    others = [k for k in range(len(table.options)) if k != w]
    weights = table.votes[:, others] + 1
    for i in np.flatnonzero(moved):
        votes[i, others] += rng.multinomial(moved[i], weights[i] / weights[i].sum())
    return StationTable(table.station, table.district, table.region, table.options, table.registered,
                        table.voted, table.valid, table.invalid, votes)  # fmt: skip


def projection_eval(sc: Scenario, runs: int, seed: int, leader: float | None) -> list[str]:
    """Coverage of the projection's 95% intervals, and its calls, at fractions of stations reported."""
    from saylau.audit.projection import arrival_times, project

    rng = np.random.default_rng(seed)
    cover = {f: [0.0, 0.0] for f in FRACTIONS}  # leader covered, mean over options
    width = {f: [] for f in FRACTIONS}
    naive_err = {f: [] for f in FRACTIONS}
    calls = {f: {"right": 0, "wrong": 0, "open": 0} for f in FRACTIONS}
    for r in range(runs):
        sim = simulate_paper(sc, scale=1.0, seed=seed + r)
        table = city_effect(sim.table, sim.settlement, 0.10, rng)
        if leader is not None:
            table = lower_leader(table, "tokayev", leader, rng)
        w = table.options.index("tokayev")
        final = table.votes.sum(0) / table.valid.sum()
        truth = "winner: tokayev" if final[w] > sc.rules.majority else "runoff"
        stamps = np.array([a.timestamp() for a in arrival_times(sim, rng)])
        order = np.sort(stamps)
        for f in FRACTIONS:
            rep = stamps <= order[max(0, int(f * len(order)) - 1)]
            p = project(table, sim.settlement, rep, sc.rules, sc.against_all, sim.abroad)
            lo, hi = p.intervals["tokayev"]
            cover[f][0] += lo <= final[w] <= hi
            inside = [p.intervals[o][0] <= final[k] <= p.intervals[o][1] for k, o in enumerate(table.options)]
            cover[f][1] += float(np.mean(inside))
            width[f].append(hi - lo)
            naive_err[f].append(table.votes[rep, w].sum() / table.valid[rep].sum() - final[w])
            key = "open" if p.decision == "too close to call" else "right" if p.decision == truth else "wrong"
            calls[f][key] += 1
    rows = []
    for f in FRACTIONS:
        c = calls[f]
        rows.append(
            f"| {f:.0%} | {runs} | {cover[f][0] / runs:.2f} | {cover[f][1] / runs:.2f} | "
            f"±{np.mean(width[f]) / 2 * 100:.2f} pp | {np.mean(naive_err[f]) * 100:+.2f} pp | "
            f"{c['right']}/{c['wrong']}/{c['open']} |"
        )
    return rows


def replace_between(text: str, begin: str, end: str, body: str) -> str:
    if begin not in text or end not in text:
        raise SystemExit(f"{DOCS}: markers {begin} / {end} missing")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}\n{end}{tail}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=100, help="runs per row (batch comparison)")
    ap.add_argument("--polling-reps", type=int, default=60, help="runs per row (ballot polling)")
    ap.add_argument("--polling-scale", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--only", choices=("audits", "projection", "both"), default="both")
    ap.add_argument("--projection-runs", type=int, default=40)
    args = ap.parse_args()
    console = Console()
    sc = load_scenario("kz-2022")
    if args.only in ("projection", "both"):
        t0 = time.perf_counter()
        head = (
            "| stations reported | runs | leader's share covered | options covered (mean) | "
            "mean half-width | "
            "running tally's error (leader) | calls right/wrong/too close |\n|---|---|---|---|---|---|---|"
        )
        parts = []
        for leader, what in (
            (None, "kz-2022 as published (leader 81%)"),
            (0.505, "a close race (leader 50.5%)"),
        ):
            rows = projection_eval(sc, args.projection_runs, args.seed, leader)
            parts.append(f"**{what}**, cities 10 points less for the leader:\n\n{head}\n" + "\n".join(rows))
            console.print(parts[-1])
        note = (
            "Produced by `benchmarks/audit_eval.py --only projection "
            f"--projection-runs {args.projection_runs} "
            f"--seed {args.seed}` in {time.perf_counter() - t0:.0f} s: each run a new kz-2022 simulation "
            "(all 10,101 stations) with the leader's share 10 points lower in urban stations than the "
            "simulation gives, protocols arriving by `arrival_times` (local closing time plus a Gamma delay: "
            "cities 60 min, villages 150 min, abroad 300 min on average); nominal coverage 0.95."
        )
        if args.write_docs:
            DOCS.write_text(
                replace_between(
                    DOCS.read_text(encoding="utf-8"), P_BEGIN, P_END, note + "\n\n" + "\n\n".join(parts)
                ),
                encoding="utf-8",
            )
        if args.only == "projection":
            return
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    full = simulate_paper(sc, scale=1.0, seed=args.seed).table
    small = simulate_paper(sc, scale=args.polling_scale, seed=args.seed).table
    head_h = (
        "| audit | stations | ballots | risk limit | runs | first round (estimate) | mean draws | "
        "confirmed in round 1 | mean rounds |\n|---|---|---|---|---|---|---|---|---|"
    )
    rows_h = []
    for kind in KINDS:
        table, reps = (full, args.reps) if kind == "batch_comparison" else (small, args.polling_reps)
        for alpha in (0.05, 0.10):
            rows_h.append(honest(sc, table, kind, alpha, reps, rng))
            console.print(rows_h[-1])
    head_f = (
        "| audit | true leader share | reported | stations falsified | risk limit | runs | "
        "wrongly confirmed (95% upper bound) | full count → runoff | mean draws |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    rows_f = []
    for case in FALSIFIED:
        for kind in KINDS:
            table, reps = (full, args.reps) if kind == "batch_comparison" else (small, args.polling_reps)
            rows_f.append(falsified(sc, table, kind, 0.05, reps, rng, case))
            console.print(rows_f[-1])
    seconds = time.perf_counter() - start
    note = (
        f"Produced by `benchmarks/audit_eval.py --reps {args.reps} --polling-reps {args.polling_reps} "
        f"--polling-scale {args.polling_scale} --seed {args.seed}` in {seconds:.0f} s. Batch comparison on "
        f"the full kz-2022 simulation; ballot polling on a {args.polling_scale:g} sample of its stations."
    )
    body = f"{note}\n\n**Honest count** (paper = protocols):\n\n{head_h}\n" + "\n".join(rows_h)
    body += (
        f"\n\n**Falsified protocols, true outcome a runoff** (risk limit 0.05):\n\n{head_f}\n"
        + "\n".join(rows_f)
    )
    console.print(body)
    if args.write_docs:
        DOCS.write_text(replace_between(DOCS.read_text(encoding="utf-8"), BEGIN, END, body), encoding="utf-8")
        console.print(f"wrote {DOCS}")


if __name__ == "__main__":
    main()
