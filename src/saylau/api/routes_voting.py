"""Casting, challenging and revoting encrypted ballots; the public board and tracking-code lookup.

A ballot's proofs are verified in the verification pool (other processes) before anything is stored;
the write — ballot row, device-chain step, board entry and, for a remote revote, the board entries
marking earlier ballots superseded — then goes to the group committer, and the answer says "accepted"
only after the batch holding it is committed. Each ballot names the device that encrypted it; the
server follows every device's tracking-code chain (EG 2.0 §3.4.4): a ballot must chain to the last
ballot accepted from its device (or to the device's opening code), so the record's device chains
verify and a dropped or reordered ballot is refused at once.
"""

from __future__ import annotations

import asyncio
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.api.auth import StateDep, require
from saylau.api.common import bound_election, get_election, idempotent_write, need_phase
from saylau.api.errors import NotFound
from saylau.api.state import AppState
from saylau.api.verify_pool import CheckedBallot
from saylau.board import write_jsonl
from saylau.crypto import DeviceChain
from saylau.errors import AccessDenied, BoardError, ElectionStateError
from saylau.store.accounts import TokenInfo
from saylau.store.models import Ballot, Device, Token

__all__ = ["router"]

router = APIRouter()
_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


class BallotIn(BaseModel):
    """An encrypted ballot in its record form (``EncryptedBallot.to_dict``) and the device that made it."""

    model_config = ConfigDict(extra="forbid")
    ballot: dict[str, Any]
    device_id: str = Field(pattern=_ID)


class ChallengeIn(BaseModel):
    """An opened, challenged ballot (``ChallengedBallot.to_dict``) and its device: never counted."""

    model_config = ConfigDict(extra="forbid")
    challenged: dict[str, Any]
    device_id: str = Field(pattern=_ID)


def _receipt(row: Ballot, entry_hash: str, duplicate: bool) -> dict[str, Any]:
    return {
        "ballot_id": row.id,
        "code": row.code,
        "state": row.state,
        "device_id": row.device_id,
        "sequence": row.sequence,
        "board_position": row.board_position,
        "entry_hash": entry_hash,
        "duplicate": duplicate,
    }


def _existing(session: Session, election_id: str, checked: CheckedBallot) -> Ballot | None:
    row = session.scalars(
        select(Ballot).where(Ballot.election_id == election_id, Ballot.code == checked.code)
    ).one_or_none()
    if row is not None and row.content_hash != checked.content_hash:
        raise ElectionStateError(
            f"ballot with tracking code {checked.code}: a different ballot already has this code"
        )
    return row


def _chain_step(
    session: Session,
    state: AppState,
    election_id: str,
    device_id: str,
    station_id: str,
    checked: CheckedBallot,
) -> int:
    """Advance the device's chain by this ballot; return its sequence number on the device."""
    locked: set[str] = session.info.setdefault("locked_devices", set())
    device = session.get(Device, (election_id, device_id), with_for_update=device_id not in locked)
    locked.add(device_id)
    if device is None:
        e = get_election(session, election_id)
        opening = DeviceChain(device_id, bytes.fromhex(e.base_hash)).opening_code.hex()
        device = Device(
            election_id=election_id, id=device_id, station_id=station_id, last_code=opening, count=0
        )
        session.add(device)
    if device.closing_code is not None:
        raise ElectionStateError(f"device {device_id}: closed, accepts no more ballots")
    if device.station_id != station_id:
        raise AccessDenied(f"device {device_id} belongs to station {device.station_id!r}, not {station_id!r}")
    if checked.previous_code != device.last_code:
        raise ElectionStateError(
            f"ballot {checked.ballot_id}: previous_code does not chain to device {device_id}'s last code "
            f"{device.last_code} (expected sequence {device.count}; submit a device's ballots in order)"
        )
    sequence = device.count
    device.last_code = checked.code
    device.count = sequence + 1
    return sequence


async def _key_document(state: AppState, election_id: str) -> dict[str, Any]:
    cached = state._keys.get(election_id)
    if cached is not None:
        return cached

    def load() -> dict[str, Any]:
        with state.reading() as session:
            return state.key_document(get_election(session, election_id))

    return await run_in_threadpool(load)


def _station_of(caller: TokenInfo) -> str:
    if caller.station_id is None:
        raise AccessDenied(f"voter {caller.voter_id}: credential has no station")
    return caller.station_id


@router.post("/elections/{election_id}/ballots", status_code=201, tags=["voting"])
async def cast_ballot(
    election_id: str,
    body: BallotIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("cast_ballot"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Cast an encrypted ballot; a remote voter's new ballot supersedes the earlier ones."""
    bound_election(caller, election_id)
    station_id = _station_of(caller)
    key_doc = await _key_document(state, election_id)
    payload = {"ballot": body.ballot, "device_id": body.device_id, "station_id": station_id, "state": "cast"}
    checked = await state.verifier.ballot(key_doc, body.ballot, payload)

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        board = state.board(session, election_id)
        board.store.head()  # lock the board: serialises every writer of this election
        e = get_election(session, election_id)
        need_phase(e, "open")
        dup = _existing(session, election_id, checked)
        if dup is not None:
            if dup.voter_id != caller.voter_id:
                raise ElectionStateError(f"ballot with tracking code {checked.code}: cast by another voter")
            return 200, _receipt(dup, board.store.by_code(checked.code)[0].entry_hash, duplicate=True)
        token = session.get(Token, caller.token_hash, with_for_update=True)
        if token is None:
            raise AccessDenied(f"voter {caller.voter_id}: credential withdrawn")
        earlier: list[Ballot] = []
        if caller.channel == "remote":
            if not e.remote_revoting and token.used:
                raise ElectionStateError(f"voter {caller.voter_id}: this election does not allow revoting")
            earlier = [] if not token.used else list(
                session.scalars(
                    select(Ballot).where(
                        Ballot.election_id == election_id,
                        Ballot.voter_id == caller.voter_id,
                        Ballot.state == "cast",
                    )
                )
            )
        elif token.used:
            raise AccessDenied(
                f"voter {caller.voter_id}: this in-person credential has already cast its ballot"
            )
        sequence = _chain_step(session, state, election_id, body.device_id, station_id, checked)
        token.used = True
        superseded: list[str] = []
        for old in earlier:
            old.state = "superseded"
            old.superseded_by = checked.ballot_id
            superseded.append(old.code)
            board.append(
                "superseded", {"ballot_id": old.id, "code": old.code, "by": checked.ballot_id}, code=old.code
            )
        entry = board.append(
            "ballot", payload, code=checked.code, known_payload_hash=checked.board_payload_hash
        )
        row = Ballot(
            election_id=election_id,
            id=checked.ballot_id,
            voter_id=caller.voter_id,
            station_id=station_id,
            code=checked.code,
            state="cast",
            content_hash=checked.content_hash,
            payload=body.ballot,
            board_position=entry.position,
            device_id=body.device_id,
            sequence=sequence,
        )
        session.add(row)
        return 201, {**_receipt(row, entry.entry_hash, duplicate=False), "superseded": superseded}

    fut = state.committer.submit(
        idempotent_write(
            caller, idempotency_key, f"/elections/{election_id}/ballots", {"c": checked.content_hash}, write
        )
    )
    status, out, headers = await asyncio.wrap_future(fut)
    return JSONResponse(out, status_code=status, headers=headers)


@router.post("/elections/{election_id}/challenges", status_code=201, tags=["voting"])
async def challenge_ballot(
    election_id: str,
    body: ChallengeIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("challenge_ballot"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Publish a challenged (opened) ballot after checking that it decrypts to what it claims."""
    bound_election(caller, election_id)
    station_id = _station_of(caller)
    key_doc = await _key_document(state, election_id)
    payload = {"challenged": body.challenged, "device_id": body.device_id, "station_id": station_id}
    checked = await state.verifier.challenged(key_doc, body.challenged, payload)

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        board = state.board(session, election_id)
        board.store.head()
        need_phase(get_election(session, election_id), "open")
        dup = _existing(session, election_id, checked)
        if dup is not None:
            return 200, _receipt(dup, board.store.by_code(checked.code)[0].entry_hash, duplicate=True)
        sequence = _chain_step(session, state, election_id, body.device_id, station_id, checked)
        entry = board.append(
            "challenge", payload, code=checked.code, known_payload_hash=checked.board_payload_hash
        )
        row = Ballot(
            election_id=election_id,
            id=checked.ballot_id,
            voter_id=caller.voter_id,
            station_id=station_id,
            code=checked.code,
            state="challenged",
            content_hash=checked.content_hash,
            payload=body.challenged,
            board_position=entry.position,
            device_id=body.device_id,
            sequence=sequence,
        )
        session.add(row)
        return 201, _receipt(row, entry.entry_hash, duplicate=False)

    path = f"/elections/{election_id}/challenges"
    fut = state.committer.submit(
        idempotent_write(caller, idempotency_key, path, {"c": checked.content_hash}, write)
    )
    status, out, headers = await asyncio.wrap_future(fut)
    return JSONResponse(out, status_code=status, headers=headers)


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
