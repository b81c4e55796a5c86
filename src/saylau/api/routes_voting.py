"""Casting, challenging and revoting encrypted ballots; the public board and tracking-code lookup.

Every proof is verified before anything is stored (outside the database transaction, so verification
runs in parallel); the ballot row, its board entry and — for a remote revote — the board entries marking
earlier ballots superseded are committed in one transaction before the answer says "accepted".
"""

from __future__ import annotations

import hashlib
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.api import crypto_bridge as cb
from saylau.api.auth import StateDep, require
from saylau.api.common import bound_election, get_election, idempotent, need_phase
from saylau.api.errors import NotFound
from saylau.board import write_jsonl
from saylau.board.hashing import canonical_json
from saylau.errors import AccessDenied, BoardError, ElectionStateError
from saylau.store.accounts import TokenInfo
from saylau.store.models import Ballot, Token

__all__ = ["router"]

router = APIRouter()


class BallotIn(BaseModel):
    """An encrypted ballot in its record form (``EncryptedBallot.to_dict``)."""

    model_config = ConfigDict(extra="forbid")
    ballot: dict[str, Any]


class ChallengeIn(BaseModel):
    """An opened, challenged ballot (``ChallengedBallot.to_dict``): never counted."""

    model_config = ConfigDict(extra="forbid")
    challenged: dict[str, Any]


def _code_of(obj: Any) -> str:
    code = obj.code
    return code.hex() if isinstance(code, bytes) else str(code)


def _receipt(row: Ballot, entry_hash: str, duplicate: bool) -> dict[str, Any]:
    return {
        "ballot_id": row.id,
        "code": row.code,
        "state": row.state,
        "board_position": row.board_position,
        "entry_hash": entry_hash,
        "duplicate": duplicate,
    }


def _existing(session: Session, election_id: str, code: str, content_hash: str) -> Ballot | None:
    row = session.scalars(
        select(Ballot).where(Ballot.election_id == election_id, Ballot.code == code)
    ).one_or_none()
    if row is not None and row.content_hash != content_hash:
        raise ElectionStateError(
            f"ballot with tracking code {code}: a different ballot already has this code"
        )
    return row


@router.post("/elections/{election_id}/ballots", status_code=201, tags=["voting"])
def cast_ballot(
    election_id: str,
    body: BallotIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("cast_ballot"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Cast an encrypted ballot; a remote voter's new ballot supersedes the earlier ones."""
    bound_election(caller, election_id)
    with state.reading() as session:
        params = state.election_params(get_election(session, election_id))
    ballot = cb.parse_ballot(body.ballot)
    cb.verify_ballot(params, ballot)  # raises InvalidBallot / InvalidProof naming the selection
    code = _code_of(ballot)
    content_hash = hashlib.sha256(canonical_json(body.ballot)).hexdigest()

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        board = state.board(session, election_id)
        board.store.head()  # lock the board: serialises casts of this election
        e = get_election(session, election_id)
        need_phase(e, "open")
        dup = _existing(session, election_id, code, content_hash)
        if dup is not None:
            if dup.voter_id != caller.voter_id:
                raise ElectionStateError(f"ballot with tracking code {code}: cast by another voter")
            head = board.store.by_code(code)
            return 200, _receipt(dup, head[0].entry_hash, duplicate=True)
        token = session.get(Token, caller.token_hash, with_for_update=True)
        assert token is not None
        superseded: list[str] = []
        if caller.channel == "remote":
            if not e.remote_revoting and token.used:
                raise ElectionStateError(f"voter {caller.voter_id}: this election does not allow revoting")
            for old in session.scalars(
                select(Ballot).where(
                    Ballot.election_id == election_id,
                    Ballot.voter_id == caller.voter_id,
                    Ballot.state == "cast",
                )
            ):
                old.state = "superseded"
                superseded.append(old.code)
                board.append("superseded", {"ballot_id": old.id, "code": old.code, "by": code}, code=old.code)
        elif token.used:
            raise AccessDenied(
                f"voter {caller.voter_id}: this in-person credential has already cast its ballot"
            )
        token.used = True
        entry = board.append(
            "ballot", {"ballot": body.ballot, "station_id": caller.station_id, "state": "cast"}, code=code
        )
        row = Ballot(
            election_id=election_id,
            id=str(ballot.ballot_id),
            voter_id=caller.voter_id,
            station_id=caller.station_id or "remote",
            code=code,
            state="cast",
            content_hash=content_hash,
            payload=body.ballot,
            board_position=entry.position,
        )
        session.add(row)
        session.flush()
        return 201, {**_receipt(row, entry.entry_hash, duplicate=False), "superseded": superseded}

    return idempotent(
        state, caller, idempotency_key, f"/elections/{election_id}/ballots", {"c": content_hash}, write
    )


@router.post("/elections/{election_id}/challenges", status_code=201, tags=["voting"])
def challenge_ballot(
    election_id: str,
    body: ChallengeIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("challenge_ballot"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Publish a challenged (opened) ballot after checking that it decrypts to what it claims."""
    bound_election(caller, election_id)
    with state.reading() as session:
        params = state.election_params(get_election(session, election_id))
    challenged = cb.verify_challenged(params, body.challenged)
    code = _code_of(challenged.ballot) if hasattr(challenged, "ballot") else _code_of(challenged)
    content_hash = hashlib.sha256(canonical_json(body.challenged)).hexdigest()

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        board = state.board(session, election_id)
        board.store.head()
        need_phase(get_election(session, election_id), "open")
        dup = _existing(session, election_id, code, content_hash)
        if dup is not None:
            return 200, _receipt(dup, board.store.by_code(code)[0].entry_hash, duplicate=True)
        entry = board.append("challenge", {"challenged": body.challenged}, code=code)
        row = Ballot(
            election_id=election_id,
            id=f"challenged:{code}",
            voter_id=caller.voter_id,
            station_id=caller.station_id or "remote",
            code=code,
            state="challenged",
            content_hash=content_hash,
            payload=body.challenged,
            board_position=entry.position,
        )
        session.add(row)
        session.flush()
        return 201, _receipt(row, entry.entry_hash, duplicate=False)

    path = f"/elections/{election_id}/challenges"
    return idempotent(state, caller, idempotency_key, path, {"c": content_hash}, write)


@router.get("/elections/{election_id}/board", tags=["board"], response_class=PlainTextResponse)
def download_board(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("download_board"))]
) -> PlainTextResponse:
    """The whole board as JSON Lines (header, entries, checkpoints); see docs/board-format.md."""
    buf = io.StringIO()
    with state.reading() as session:
        get_election(session, election_id)
        write_jsonl(state.board(session, election_id).export_rows(), buf)
    return PlainTextResponse(buf.getvalue(), media_type="application/x-ndjson")


@router.get("/elections/{election_id}/board/codes/{code}", tags=["board"])
def lookup_code(
    election_id: str, code: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("lookup_code"))]
) -> dict[str, Any]:
    """The board entries published under a tracking code (cast, superseded or challenged)."""
    with state.reading() as session:
        get_election(session, election_id)
        try:
            entries = state.board(session, election_id).lookup(code)
        except BoardError as exc:
            raise NotFound(str(exc)) from exc
    return {"code": code, "entries": [e.to_dict() for e in entries]}
