"""Helpers shared by the route modules: loading rows, phase checks, idempotent writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saylau.api.errors import NotFound
from saylau.api.state import AppState
from saylau.election.rules import ElectoralRules
from saylau.election.voter_ids import VoterIdSpec
from saylau.errors import AccessDenied, ElectionStateError
from saylau.store.accounts import TokenInfo
from saylau.store.idempotency import lookup, remember, request_hash
from saylau.store.models import Election

__all__ = [
    "bound_election",
    "bound_station",
    "checked_voter_id",
    "electoral_rules",
    "get_election",
    "idempotency_ref",
    "idempotent",
    "idempotent_write",
    "need_phase",
    "voter_id_spec",
]


def get_election(session: Session, election_id: str, lock: bool = False) -> Election:
    """The election row; ``NotFound`` names it."""
    row = session.get(Election, election_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"election {election_id!r} does not exist")
    return row


def electoral_rules(election: Election) -> ElectoralRules:
    """The result rules the election was defined with (the defaults for one stored before they were kept)."""
    if election.electoral_rules is None:
        return ElectoralRules()
    return ElectoralRules.model_validate(election.electoral_rules)


def need_phase(election: Election, *phases: str) -> None:
    """Refuse an action outside the listed phases (once decrypted, the message names the closed board)."""
    if election.phase not in phases:
        closed = f" (results published, board {election.id} closed)" if election.phase == "decrypted" else ""
        raise ElectionStateError(
            f"election {election.id}: phase is {election.phase!r}{closed}, this needs {' or '.join(phases)}"
        )


def voter_id_spec(election: Election) -> VoterIdSpec:
    """The election's voter identifier (``POST /elections`` ``voter_id``; the generic one if it gave none)."""
    return VoterIdSpec() if election.voter_id is None else VoterIdSpec.model_validate(election.voter_id)


def checked_voter_id(election: Election, value: str, field: str = "voter_id") -> str:
    """``value`` if it is a well-formed identifier of the election's kind, else 422 naming the field."""
    spec = voter_id_spec(election)
    try:
        spec.check_value(value)
    except ValueError as exc:
        raise ValueError(f"field {field!r}: not a valid {spec.name}: {exc}") from None
    return value


def bound_election(caller: TokenInfo, election_id: str) -> None:
    """Roles bound to one election (station, guardian, voter) act only in that election."""
    if caller.role in ("station", "guardian", "voter") and caller.election_id != election_id:
        raise AccessDenied(
            f"{caller.role} credential is for election {caller.election_id!r}, not {election_id!r}"
        )


def bound_station(caller: TokenInfo, election_id: str, station_id: str) -> None:
    """A polling-station commission acts only for its own station."""
    bound_election(caller, election_id)
    if caller.station_id != station_id:
        raise AccessDenied(
            f"station commission of {caller.station_id!r} may not act for station {station_id!r}"
        )


Written = tuple[int, dict[str, Any], dict[str, str]]


def idempotent_write(
    caller: TokenInfo,
    key: str | None,
    endpoint: str,
    payload: Any,
    write: Callable[[Session], tuple[int, dict[str, Any]]],
    secret_fields: Collection[str] = (),
) -> Callable[[Session], Written]:
    """Wrap ``write`` so that it runs at most once per ``Idempotency-Key`` (status, body, headers).

    With a key, the answer is stored in the same transaction as the write, and a repeated request gets
    the stored answer (header ``Idempotent-Replay``) instead of writing again. ``secret_fields`` (a
    voter's one-time credential) are shown once and never stored: the replay names them in
    ``withheld`` instead, and the commission must re-issue what was lost.
    """
    ref = idempotency_ref(caller, key, endpoint, payload)
    if ref is None:

        def plain(session: Session) -> Written:
            status, body = write(session)
            return status, body, {}

        return plain
    scope, ikey, rh = ref

    def keyed(session: Session) -> Written:
        stored = lookup(session, scope, ikey, rh)
        if stored is not None:
            return stored.status_code, stored.body, {"Idempotent-Replay": "true"}
        status, body = write(session)
        remember(session, scope, ikey, rh, status, without_secrets(body, secret_fields))
        return status, body, {}

    return keyed


def without_secrets(body: dict[str, Any], secret_fields: Collection[str]) -> dict[str, Any]:
    """``body`` with ``secret_fields`` removed and listed under ``withheld`` (for storing a reply)."""
    withheld = sorted(f for f in secret_fields if f in body)
    if not withheld:
        return body
    kept = {k: v for k, v in body.items() if k not in withheld}
    return {**kept, "withheld": withheld}


def idempotency_ref(
    caller: TokenInfo, key: str | None, endpoint: str, payload: Any
) -> tuple[str, str, str] | None:
    """``(scope, key, request hash)`` of a request with an ``Idempotency-Key`` (``None`` without one)."""
    if key is None:
        return None
    if not 1 <= len(key) <= 200:
        raise ValueError("header 'Idempotency-Key': 1 to 200 characters")
    scope = caller.token_hash[:32] or "public"
    rh = request_hash("POST", endpoint, json.dumps(payload, sort_keys=True, default=str).encode())
    return scope, key, rh


def idempotent(
    state: AppState,
    caller: TokenInfo,
    key: str | None,
    endpoint: str,
    payload: Any,
    write: Callable[[Session], tuple[int, dict[str, Any]]],
    secret_fields: Collection[str] = (),
) -> JSONResponse:
    """Run ``write`` in one transaction of its own, at most once per ``Idempotency-Key``."""
    wrapped = idempotent_write(caller, key, endpoint, payload, write, secret_fields)
    try:
        with state.transaction() as session:
            status, body, headers = wrapped(session)
    except IntegrityError:
        if key is None:
            raise
        with state.transaction() as session:  # a concurrent request with the same key may have won
            status, body, headers = wrapped(session)
    return JSONResponse(body, status_code=status, headers=headers)
