"""A risk-limiting audit round by round: plan, draw, enter hand tallies, measure, escalate, full count.

``plan_audit`` derives the assertions, estimates the first round's size and draws it;
``enter_round`` takes the audit boards' hand tallies of the current round, measures the risk of every
assertion on the cumulative sample (in draw order), and either confirms the outcome, draws the next,
larger round (the cumulative sample grows by ``escalation``), or calls for a full hand count when
the next round would reach ``full_count_at`` of the population or the last round allowed;
``enter_full_count`` applies the rules to the full hand count, whose outcome stands.

Everything is kept in an :class:`AuditRecord` that ``saylau.audit.verify`` recomputes from scratch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from saylau.audit.assertions import INVALID, Assertion, derive_assertions
from saylau.audit.ceremony import DiceCeremony
from saylau.audit.estimate import alpha_polling_quantile, bravo_asn, bravo_quantile, comparison_size
from saylau.audit.manifest import BallotManifest
from saylau.audit.risk import alpha_polling_risk, bravo_risk, comparison_risk
from saylau.audit.sampler import TicketStream, sha256_hex, smallest_first_tickets
from saylau.election.rules import Decision, ElectoralRules, Totals, decide
from saylau.errors import AuditError

__all__ = [
    "FORMAT",
    "AuditKind",
    "AuditRecord",
    "Draw",
    "Round",
    "draw_round",
    "enter_full_count",
    "enter_round",
    "measure",
    "plan_audit",
]

FORMAT: Literal["saylau-audit/1"] = "saylau-audit/1"
AuditKind = Literal["bravo", "alpha", "batch_comparison"]
Status = Literal["in_progress", "confirmed", "full_hand_count", "full_count_done"]


class Draw(BaseModel):
    """One draw of the sample: ticket number (18 digits), sampled id, generation, station, position."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticket: str
    id: str
    generation: int
    station: str
    position: int | None = None


class Round(BaseModel):
    """One round: its new draws, the hand tallies entered, the risk per assertion and what followed."""

    model_config = ConfigDict(extra="forbid")

    number: int
    size: int
    draws: list[Draw]
    ballot_tallies: dict[str, str] | None = None
    station_tallies: dict[str, dict[str, int]] | None = None
    risks: dict[str, float] | None = None
    decision: Literal["confirmed", "escalate", "full_hand_count"] | None = None


class AuditRecord(BaseModel):
    """The whole audit: inputs, assertions, estimates, rounds and the conclusion."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["saylau-audit/1"] = FORMAT
    election_id: str
    kind: AuditKind
    risk_limit: float = Field(gt=0, lt=1)
    rules: ElectoralRules
    reported: Totals
    manifest: BallotManifest
    manifest_hash: str
    ceremony: DiceCeremony
    reported_decision: Decision
    assertions: list[Assertion]
    estimates: dict[str, dict[str, int]]
    quantile: float = 0.9
    escalation: float = 2.0
    full_count_at: float = 0.5
    max_rounds: int = 5
    rounds: list[Round] = Field(default_factory=list)
    status: Status = "in_progress"
    full_count: dict[str, dict[str, int]] | None = None
    full_count_decision: Decision | None = None

    @property
    def population(self) -> int:
        """What is sampled: ballots (polling) or stations (batch comparison)."""
        return len(self.manifest.batches) if self.kind == "batch_comparison" else self.manifest.total

    @property
    def drawn(self) -> int:
        """Draws so far, over every round."""
        return sum(r.size for r in self.rounds)

    def max_risk(self) -> float | None:
        """The largest measured risk after the last measured round."""
        measured = [r for r in self.rounds if r.risks is not None]
        return max(measured[-1].risks.values()) if measured and measured[-1].risks else None


def _estimates(
    kind: AuditKind, assertions: list[Assertion], manifest: BallotManifest, alpha: float, q: float, seed: str
) -> dict[str, dict[str, int]]:
    reported = manifest.reported_totals()
    out: dict[str, dict[str, int]] = {}
    rng = np.random.default_rng(int(sha256_hex("estimate:" + seed), 16))
    for a in assertions:
        if kind == "bravo":
            out[a.id] = {
                "asn": bravo_asn(a, reported, alpha),
                f"q{q:g}": bravo_quantile(a, reported, alpha, q),
            }
        elif kind == "alpha":
            out[a.id] = {f"q{q:g}": alpha_polling_quantile(a, reported, alpha, q, rng)}
        else:
            out[a.id] = {"no_discrepancy": comparison_size(a, manifest, alpha)}
    return out


def _ids(rec: AuditRecord) -> Any:
    if rec.kind == "batch_comparison":
        return (b.station for b in rec.manifest.batches)
    return rec.manifest.ballot_ids()


_STREAMS: dict[tuple[str, str, str], TicketStream] = {}
"""Draw streams per (seed, manifest hash, kind): a manifest's ballots are hashed once, rounds extend."""


def forget_streams() -> None:
    """Drop the cached draw streams (verification recomputes every draw from the seed)."""
    _STREAMS.clear()


def _stream(rec: AuditRecord, want: int) -> TicketStream:
    key = (rec.ceremony.seed, rec.manifest_hash, rec.kind)
    have = _STREAMS.get(key)
    if have is None or (want > have.capacity and have.capacity < rec.population):
        if len(_STREAMS) > 8:
            _STREAMS.clear()
        k = min(rec.population, max(8 * want, 2 * (have.capacity if have else 0), 5000))
        have = _STREAMS[key] = TicketStream(smallest_first_tickets(_ids(rec), rec.ceremony.seed, k))
    return have


def draw_round(rec: AuditRecord, size: int) -> Round:
    """The next ``size`` draws of the consistent sample (``drop`` = draws of the earlier rounds)."""
    tickets = _stream(rec, rec.drawn + size).upto(rec.drawn + size)[rec.drawn :]
    draws = []
    for t in tickets:
        if rec.kind == "batch_comparison":
            draws.append(Draw(ticket=t.shown(18), id=t.id, generation=t.generation, station=t.id))
        else:
            station, position = _ballot(t.id)
            draws.append(
                Draw(ticket=t.shown(18), id=t.id, generation=t.generation, station=station, position=position)
            )
    return Round(number=len(rec.rounds) + 1, size=len(draws), draws=draws)


def ballot_id(station: str, position: int) -> str:
    """The sampler's id of a ballot: ``str((station, position))``, as Arlo writes it."""
    return str((station, position))


def _ballot(text: str) -> tuple[str, int]:
    # ids are str((station, k)); station ids never contain "', " (checked in plan_audit)
    inner = text[1:-1]
    station, _, k = inner.rpartition(", ")
    return station[1:-1], int(k)


def plan_audit(
    manifest: BallotManifest,
    rules: ElectoralRules,
    reported: Totals,
    ceremony: DiceCeremony,
    kind: AuditKind,
    risk_limit: float = 0.05,
    *,
    quantile: float = 0.9,
    escalation: float = 2.0,
    full_count_at: float = 0.5,
    max_rounds: int = 5,
) -> AuditRecord:
    """Derive the assertions, estimate the sizes and draw the first round."""
    if ceremony.manifest_hash != manifest.hash():
        raise AuditError(
            f"the dice ceremony names manifest {ceremony.manifest_hash[:16]}…, not this manifest "
            f"{manifest.hash()[:16]}…: the seed must be rolled after the manifest is published"
        )
    if not 0 < risk_limit < 1:
        raise AuditError(f"field 'risk_limit': {risk_limit} is not in (0, 1)")
    if escalation <= 1:
        raise AuditError(f"field 'escalation': {escalation} must exceed 1")
    bad = [b.station for b in manifest.batches if "'" in b.station or ", " in b.station]
    if bad:
        raise AuditError(f"manifest: station id {bad[0]!r} contains a quote or ', '")
    counted = manifest.reported_totals()
    wrong = [o for o in manifest.options if counted[o] != reported.votes.get(o)]
    if wrong:
        raise AuditError(f"the manifest's votes for {wrong[0]!r} differ from the reported national totals")
    decision, assertions = derive_assertions(rules, reported, manifest.options)
    estimates = _estimates(kind, assertions, manifest, risk_limit, quantile, ceremony.seed)
    rec = AuditRecord(
        election_id=manifest.election_id,
        kind=kind,
        risk_limit=risk_limit,
        rules=rules,
        reported=reported,
        manifest=manifest,
        manifest_hash=manifest.hash(),
        ceremony=ceremony,
        reported_decision=decision,
        assertions=assertions,
        estimates=estimates,
        quantile=quantile,
        escalation=escalation,
        full_count_at=full_count_at,
        max_rounds=max_rounds,
    )
    first = max(max(e.values()) for e in estimates.values())
    if first >= full_count_at * rec.population:
        rec.status = "full_hand_count"
        return rec
    rec.rounds.append(draw_round(rec, max(first, 1)))
    return rec


def _earlier(rec: AuditRecord, rnd: Round) -> dict[str, Any]:
    """What earlier rounds read for each ballot or station (a later draw of it must read the same)."""
    seen: dict[str, Any] = {}
    for r in rec.rounds[: rnd.number - 1]:
        seen.update((r.station_tallies if rec.kind == "batch_comparison" else r.ballot_tallies) or {})
    return seen


def _check_tallies(rec: AuditRecord, rnd: Round, tallies: Mapping[str, Any]) -> None:
    earlier = _earlier(rec, rnd)
    for key, value in tallies.items():
        if key not in earlier:
            continue
        before, now = earlier[key], dict(value) if isinstance(value, Mapping) else value
        if (dict(before) if isinstance(before, Mapping) else before) != now:
            raise AuditError(
                f"round {rnd.number}: {key} was read as {before!r} in an earlier round, now {now!r}"
            )
    cats = {*rec.manifest.options, INVALID}
    if rec.kind == "batch_comparison":
        need = {d.station for d in rnd.draws}
        for st in sorted(need - set(tallies)):
            raise AuditError(f"round {rnd.number}: no hand tally for sampled station {st!r}")
        for st, counts in tallies.items():
            if st not in need:
                raise AuditError(f"round {rnd.number}: station {st!r} was not sampled in this round")
            if not isinstance(counts, Mapping) or set(counts) != cats:
                raise AuditError(f"hand tally of station {st!r}: needs a count for each of {sorted(cats)}")
            if any(not isinstance(n, int) or n < 0 for n in counts.values()):
                raise AuditError(f"hand tally of station {st!r}: counts must be non-negative integers")
    else:
        need = {d.id for d in rnd.draws}
        for bid in sorted(need - set(tallies)):
            raise AuditError(f"round {rnd.number}: no hand reading for sampled ballot {bid}")
        for bid, cat in tallies.items():
            if bid not in need:
                raise AuditError(f"round {rnd.number}: ballot {bid} was not sampled in this round")
            if cat not in cats:
                raise AuditError(f"ballot {bid}: {cat!r} is not an option or 'invalid'")


def measure(rec: AuditRecord, upto: int) -> dict[str, float]:
    """The risk of every assertion on the draws of rounds 1…``upto``, in draw order."""
    rounds = rec.rounds[:upto]
    draws = [d for r in rounds for d in r.draws]
    reported = rec.manifest.reported_totals()
    out: dict[str, float] = {}
    if rec.kind == "batch_comparison":
        hand: dict[str, dict[str, int]] = {}
        for r in rounds:
            hand.update(r.station_tallies or {})
        stations = [d.station for d in draws]
        for a in rec.assertions:
            out[a.id] = comparison_risk(a, rec.manifest, stations, hand)
        return out
    readings: dict[str, str] = {}
    for r in rounds:
        readings.update(r.ballot_tallies or {})
    cats = [readings[d.id] for d in draws]
    for a in rec.assertions:
        out[a.id] = (bravo_risk if rec.kind == "bravo" else alpha_polling_risk)(a, reported, cats)
    return out


def next_step(rec: AuditRecord, risks: Mapping[str, float], rounds_done: int, drawn: int) -> tuple[str, int]:
    """``(decision, next round size)`` after a measured round."""
    if max(risks.values()) <= rec.risk_limit:
        return "confirmed", 0
    target = math.ceil(drawn * rec.escalation)
    if rounds_done >= rec.max_rounds or target >= rec.full_count_at * rec.population:
        return "full_hand_count", 0
    return "escalate", target - drawn


def enter_round(rec: AuditRecord, tallies: Mapping[str, Any]) -> AuditRecord:
    """Record the current round's hand tallies, measure, and confirm, escalate or call a full count."""
    if rec.status != "in_progress" or not rec.rounds or rec.rounds[-1].risks is not None:
        raise AuditError(f"audit of {rec.election_id}: no round awaits hand tallies (status {rec.status})")
    rnd = rec.rounds[-1]
    _check_tallies(rec, rnd, tallies)
    if rec.kind == "batch_comparison":
        rnd.station_tallies = {k: dict(v) for k, v in tallies.items()}
    else:
        rnd.ballot_tallies = dict(tallies)
    rnd.risks = measure(rec, len(rec.rounds))
    decision, size = next_step(rec, rnd.risks, len(rec.rounds), rec.drawn)
    rnd.decision = decision  # type: ignore[assignment]
    if decision == "confirmed":
        rec.status = "confirmed"
    elif decision == "full_hand_count":
        rec.status = "full_hand_count"
    else:
        rec.rounds.append(draw_round(rec, size))
    return rec


def full_count_decision(rec: AuditRecord, counts: Mapping[str, Mapping[str, int]]) -> Decision:
    """The rules applied to a full hand count of every station."""
    totals = dict.fromkeys((*rec.manifest.options, INVALID), 0)
    for c in counts.values():
        for k, n in c.items():
            totals[k] += n
    ballots = sum(totals.values())
    valid = ballots - totals[INVALID]
    took_part = rec.reported.took_part - rec.manifest.total + ballots
    return decide(
        rec.rules,
        Totals(
            registered=rec.reported.registered,
            took_part=took_part,
            valid=valid,
            votes={o: totals[o] for o in rec.manifest.options},
            against_all=rec.reported.against_all,
        ),
    )


def enter_full_count(rec: AuditRecord, counts: Mapping[str, Mapping[str, int]]) -> AuditRecord:
    """Record the full hand count; its decision replaces the reported one."""
    if rec.status != "full_hand_count":
        raise AuditError(f"audit of {rec.election_id}: no full hand count was called (status {rec.status})")
    stations = {b.station for b in rec.manifest.batches}
    missing = sorted(stations - set(counts))
    if missing:
        raise AuditError(f"full hand count: {len(missing)} stations have no count, e.g. {missing[0]!r}")
    extra = sorted(set(counts) - stations)
    if extra:
        raise AuditError(f"full hand count: station {extra[0]!r} is not in the manifest")
    cats = {*rec.manifest.options, INVALID}
    for st, c in counts.items():
        if set(c) != cats or any(not isinstance(n, int) or n < 0 for n in c.values()):
            raise AuditError(
                f"full hand count of station {st!r}: needs a non-negative count for each of {sorted(cats)}"
            )
    rec.full_count = {k: dict(v) for k, v in counts.items()}
    rec.full_count_decision = full_count_decision(rec, counts)
    rec.status = "full_count_done"
    return rec
