"""Response models of the tally, results, exit polls, the risk-limiting audit and the health probe."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from saylau.audit.assertions import Assertion
from saylau.audit.ceremony import DiceCeremony
from saylau.audit.engine import AuditKind, Round, Status
from saylau.election.rules import Decision, ElectoralRules, Totals

__all__ = [
    "AuditManifestOut",
    "AuditOut",
    "DesignOut",
    "EstimateOut",
    "HealthOut",
    "InterviewsStoredOut",
    "ResultsOut",
    "TallyOut",
]


class HealthOut(BaseModel):
    """Liveness: ``ok`` and the server's version."""

    status: str
    version: str


# --- tally and results --------------------------------------------------------------------------------


class TallyScopeOut(BaseModel):
    """The encrypted tally of one scope (station, region or the nation) and how many ballots it sums."""

    scope: str
    scope_id: str
    ballot_count: int
    encrypted: dict[str, Any]


class TallyOut(BaseModel):
    """The encrypted tally of every scope; once decrypted, ``entries`` with the plaintexts and proofs."""

    scopes: list[TallyScopeOut]
    ballots: int
    entries: list[dict[str, Any]] | None = None


class ScopeCountsOut(BaseModel):
    """A scope's decrypted counts: ballots and, per contest, votes per option."""

    ballots: int
    counts: dict[str, dict[str, int]]


class TurnoutFiguresOut(BaseModel):
    """Registered voters, ballots counted and their share (``None`` with nobody registered)."""

    registered: int
    took_part: int
    share: float | None


class TurnoutSummaryOut(BaseModel):
    """Turnout of the nation, each region and each station."""

    nation: TurnoutFiguresOut
    regions: dict[str, TurnoutFiguresOut]
    stations: dict[str, TurnoutFiguresOut]


class ContestDecidedOut(Decision):
    """A contest's decision under the rules (``saylau.election.rules.decide``)."""

    error: None


class ContestUndecidedOut(BaseModel):
    """A contest whose totals allow no decision: why."""

    outcome: None
    error: str


class ResultsOut(BaseModel):
    """The decrypted results as on the board, with turnout, the rules applied and each contest's decision."""

    format: str
    election_id: str
    nation: ScopeCountsOut
    regions: dict[str, ScopeCountsOut]
    stations: dict[str, ScopeCountsOut]
    turnout: TurnoutSummaryOut
    rules: ElectoralRules
    decision: dict[str, ContestDecidedOut | ContestUndecidedOut]


# --- exit polls ----------------------------------------------------------------------------------------


class DesignOut(BaseModel):
    """A pollster's sample design stored."""

    pollster: str
    stations: int


class InterviewsStoredOut(BaseModel):
    """Interviews stored."""

    stored: int


class ShareEstimateOut(BaseModel):
    """An option's estimated share, standard error, confidence interval and design effect.

    ``None`` where the sample leaves a figure undefined: the design effect when every respondent gave
    the same answer (no variance to compare), the interval with no degree of freedom left.
    """

    share: float
    se: float | None
    low: float | None
    high: float | None
    deff: float | None


class EstimateOut(BaseModel):
    """A pollster's estimate, released after the embargo."""

    pollster: str
    respondents: int
    refusals: int
    confidence: float
    estimates: dict[str, ShareEstimateOut]


class OwnExitPollOut(BaseModel):
    """The calling pollster's own design, interview count and estimate, under the embargo or not."""

    pollster: str
    design: dict[str, Any] | None
    interviews: int
    embargoed: bool
    embargo_until: str
    estimate: EstimateOut | None
    estimate_error: str | None


# --- the risk-limiting audit ------------------------------------------------------------------------------


class AuditManifestOut(BaseModel):
    """The ballot manifest published: its hash, stations and ballots."""

    manifest_hash: str
    stations: int
    ballots: int
    board_position: int


class AuditOut(BaseModel):
    """The audit as its board entries say (``AuditRecord`` less the manifest, which is summarised)."""

    format: Literal["saylau-audit/1"]
    election_id: str
    kind: AuditKind
    risk_limit: float
    rules: ElectoralRules
    reported: Totals
    manifest_hash: str
    ceremony: DiceCeremony
    reported_decision: Decision
    assertions: list[Assertion]
    estimates: dict[str, dict[str, int]]
    quantile: float
    escalation: float
    full_count_at: float
    max_rounds: int
    rounds: list[Round]
    status: Status
    full_count: dict[str, dict[str, int]] | None
    full_count_decision: Decision | None
    manifest_stations: int
    manifest_ballots: int
    max_risk: float | None
