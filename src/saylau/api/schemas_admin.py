"""Response models of login, users, elections and candidate registration (``routes_admin``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = [
    "ApplicationOut",
    "ApplicationView",
    "DecisionOut",
    "ElectionDetailOut",
    "ElectionOut",
    "LoginOut",
    "MeOut",
    "PhaseChangeOut",
    "SignatureCheckOut",
    "UserOut",
    "UserView",
]


class LoginOut(BaseModel):
    """A bearer token and what it is bound to."""

    token: str
    role: str
    election_id: str | None
    station_id: str | None


class MeOut(BaseModel):
    """Who a token belongs to (``voter_id`` is a pseudonym, never the IIN)."""

    role: str
    username: str | None
    election_id: str | None
    station_id: str | None
    guardian_index: int | None
    voter_id: str | None


class UserOut(BaseModel):
    """A login created (never its password)."""

    id: int
    username: str
    role: str


class UserView(UserOut):
    """A login as ``GET /users`` lists it: what it is bound to (never its password or hash)."""

    election_id: str | None
    station_id: str | None
    guardian_index: int | None
    created_at: str


class ElectionOut(BaseModel):
    """The public view of an election."""

    id: str
    name: str
    phase: str
    guardians: int
    quorum: int
    base_hash: str
    remote_revoting: bool
    voting_age: int
    candidacy_rules: dict[str, Any] | None
    electoral_rules: dict[str, Any]
    registered_at_nomination: int | None
    voter_id: dict[str, Any]
    key_ready: bool
    opened_at: str | None
    closed_at: str | None


class ElectionDetailOut(ElectionOut):
    """An election with its manifest and, once the ceremony is done, its parameters (joint key)."""

    manifest: dict[str, Any]
    parameters: dict[str, Any] | None


class PhaseChangeOut(ElectionOut):
    """The election after opening or closing, and the board position of the ``phase`` entry."""

    board_position: int


class ApplicationOut(BaseModel):
    """A candidate's application recorded and published."""

    application_id: str
    status: str
    board_position: int


class SignatureProblemOut(BaseModel):
    """A signature line that does not count: its row, the reason and what was found."""

    row: int
    reason: str
    detail: str


class SignatureReportOut(BaseModel):
    """A signature sheet's check (``saylau.election.signatures.SignatureReport.to_dict``)."""

    applicant_id: str
    lines_read: int
    valid_total: int
    per_reason: dict[str, int]
    per_region: dict[str, dict[str, int]]
    rejected: list[SignatureProblemOut]


class SignatureCheckOut(SignatureReportOut):
    """The published report and its board position."""

    board_position: int


class DecisionVersionOut(BaseModel):
    """One version of a registration decision (``Decision.to_dict`` with its ``digest``)."""

    applicant_id: str
    version: int
    status: str
    decided_on: str
    decided_by: str
    reason: str
    applicant: dict[str, Any]
    context: dict[str, Any]
    outcomes: list[dict[str, Any]]
    appeal: dict[str, Any] | None
    previous_hash: str | None
    digest: str


class DecisionOut(DecisionVersionOut):
    """A decision (or an appeal's) as published, with its board position."""

    board_position: int


class ApplicationView(BaseModel):
    """An application with every decision version, oldest first, and its signature check if any."""

    applicant: dict[str, Any]
    status: str
    decisions: list[DecisionVersionOut]
    signature_check: SignatureReportOut | None
