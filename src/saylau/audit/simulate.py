"""Simulated audits: hand counts read from a "true" paper table, honest or under falsified protocols.

``falsify_to_win`` builds the case an audit exists for: the paper (truth) says no candidate has a
majority (a runoff), and the protocols of a share of the stations were rewritten — votes of the other
candidates moved to the leader — just enough for the reported totals to show a first-round winner.
``run_audit`` plays every round with the audit boards reading the true paper, and the full hand
count when the audit calls for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from saylau.audit.assertions import INVALID
from saylau.audit.ceremony import DiceCeremony
from saylau.audit.engine import AuditKind, AuditRecord, enter_full_count, enter_round, plan_audit
from saylau.audit.manifest import BallotManifest
from saylau.audit.sources import manifest_from_table, reported_totals, station_counts
from saylau.election.aggregation import StationTable
from saylau.election.rules import ElectoralRules

__all__ = ["SimulatedAudit", "falsify_to_win", "lower_leader", "run_audit"]


@dataclass(frozen=True)
class SimulatedAudit:
    """An audit played to its end, and what it cost."""

    record: AuditRecord
    rounds: int
    drawn: int
    distinct: int
    confirmed: bool
    full_count: bool


def _with_votes(table: StationTable, votes: np.ndarray) -> StationTable:
    return StationTable(
        station=table.station,
        district=table.district,
        region=table.region,
        options=table.options,
        registered=table.registered,
        voted=table.voted,
        valid=table.valid,
        invalid=table.invalid,
        votes=votes.astype(np.int64),
    )


def lower_leader(table: StationTable, leader: str, share: float, rng: np.random.Generator) -> StationTable:
    """The table with the leader's national share of valid votes brought down to about ``share``.

    At every station the same fraction of the leader's votes goes to the other options (excluding
    none), in proportion to a Dirichlet draw, so the stations keep their valid votes.
    """
    w = table.options.index(leader)
    current = table.votes[:, w].sum() / table.valid.sum()
    if share >= current:
        return table
    moved = rng.binomial(table.votes[:, w], 1 - share / current)
    votes = table.votes.copy()
    votes[:, w] -= moved
    others = [k for k in range(len(table.options)) if k != w]
    weights = rng.dirichlet(np.ones(len(others)), size=len(table))
    for i in np.flatnonzero(moved):
        votes[i, others] += rng.multinomial(moved[i], weights[i])
    return _with_votes(table, votes)


def falsify_to_win(
    truth: StationTable, leader: str, fraction: float, target: float, rng: np.random.Generator
) -> tuple[StationTable, np.ndarray]:
    """Reported protocols: at ``fraction`` of the stations, others' votes moved to ``leader``.

    The shifted share is solved so the reported leader has ``target`` of the valid votes nationally
    (all of the others' votes at those stations at most). Returns the reported table and the mask.
    """
    n = len(truth)
    w = truth.options.index(leader)
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=max(1, round(fraction * n)), replace=False)] = True
    others = truth.valid - truth.votes[:, w]
    need = target * truth.valid.sum() - truth.votes[:, w].sum()
    q = min(1.0, max(0.0, need / max(1, int(others[mask].sum()))))
    votes = truth.votes.copy()
    for k in range(len(truth.options)):
        if k == w:
            continue
        take = np.where(mask, np.ceil(votes[:, k] * q), 0).astype(np.int64)
        votes[:, k] -= take
        votes[:, w] += take
    return _with_votes(truth, votes), mask


def _readings(truth: StationTable, index: dict[str, int], station: str, position: int) -> str:
    """The category of ballot ``position`` in the true box (boxes sorted by category; positions random)."""
    counts = station_counts(truth, index[station])
    k = position
    for cat in (*truth.options, INVALID):
        if k <= counts[cat]:
            return cat
        k -= counts[cat]
    return INVALID  # a position beyond the true box: a missing ballot, read as the worst case


def run_audit(
    election_id: str,
    reported: StationTable,
    truth: StationTable,
    rules: ElectoralRules,
    against_all: str | None,
    kind: AuditKind,
    risk_limit: float,
    rolls: str,
    manifest: BallotManifest | None = None,
    **options: float,
) -> SimulatedAudit:
    """Play an audit of ``reported`` against the paper ``truth`` to its end.

    ``manifest``: the manifest of ``reported`` if already built (it is the same for every dice roll).
    """
    manifest = manifest or manifest_from_table(election_id, reported)
    ceremony = DiceCeremony(
        rolls=rolls,
        observers=("simulation",),
        held_at="2022-11-21T10:00:00+06:00",
        manifest_hash=manifest.hash(),
    )
    rec = plan_audit(
        manifest,
        rules,
        reported_totals(reported, against_all),
        ceremony,
        kind,
        risk_limit,
        quantile=float(options.get("quantile", 0.9)),
        escalation=float(options.get("escalation", 2.0)),
        full_count_at=float(options.get("full_count_at", 0.5)),
        max_rounds=int(options.get("max_rounds", 5)),
    )
    index = {s: i for i, s in enumerate(truth.station)}
    while rec.status == "in_progress":
        rnd = rec.rounds[-1]
        if kind == "batch_comparison":
            tallies: dict[str, object] = {
                d.station: station_counts(truth, index[d.station]) for d in rnd.draws
            }
        else:
            tallies = {d.id: _readings(truth, index, d.station, d.position or 0) for d in rnd.draws}
        rec = enter_round(rec, tallies)
    full = rec.status == "full_hand_count"
    if full:
        rec = enter_full_count(rec, {s: station_counts(truth, i) for i, s in enumerate(truth.station)})
    distinct = len({d.id for r in rec.rounds for d in r.draws})
    return SimulatedAudit(rec, len(rec.rounds), rec.drawn, distinct, rec.status == "confirmed", full)
