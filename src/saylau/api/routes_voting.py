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

from fastapi import APIRouter, Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from saylau.api.admission import admission_for, election_rules
from saylau.api.auth import StateDep, authorize, get_state, require
from saylau.api.cast_batch import CastRequest, check_revote_tag
from saylau.api.common import bound_election, get_election, idempotency_ref
from saylau.api.errors import NotFound, clip, status_for
from saylau.api.json_body import bearer_token, json_body
from saylau.api.schemas import refusals
from saylau.api.schemas_voting import (
    BatchOut,
    BoardCodeOut,
    ReceiptOut,
)
from saylau.api.verify_pool import Admission
from saylau.board import write_jsonl
from saylau.errors import AccessDenied, BoardError, ElectionStateError, InvalidBallot
from saylau.store.accounts import TokenInfo, resolve_tokens

__all__ = ["MAX_BATCH", "router"]

router = APIRouter()
_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
MAX_BATCH = 1000


class BallotIn(BaseModel):
    """An encrypted ballot in its record form (``EncryptedBallot.to_dict``) and the device that made it."""

    model_config = ConfigDict(extra="forbid")
    ballot: dict[str, Any]
    device_id: str = Field(pattern=_ID)


class BatchItem(BaseModel):
    """One ballot of a station's batch upload, under the credential the pollbook issued to its voter."""

    model_config = ConfigDict(extra="forbid")
    credential: str = Field(min_length=1, max_length=200)
    ballot: dict[str, Any]
    device_id: str = Field(pattern=_ID)


class BatchIn(BaseModel):
    """Up to ``MAX_BATCH`` ballots; a device's ballots in the order it made them."""

    model_config = ConfigDict(extra="forbid")
    ballots: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class ChallengeIn(BaseModel):
    """An opened, challenged ballot (``ChallengedBallot.to_dict``) and its device: never counted."""

    model_config = ConfigDict(extra="forbid")
    challenged: dict[str, Any]
    device_id: str = Field(pattern=_ID)


def _station_of(caller: TokenInfo) -> str:
    if caller.station_id is None:
        raise AccessDenied(f"voter {caller.voter_id}: credential has no station")
    return caller.station_id


_IDEMPOTENCY_HEADER = {
    "name": "idempotency-key", "in": "header", "required": False,
    "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Idempotency-Key"},
}


@router.post(
    "/elections/{election_id}/ballots", status_code=201, tags=["voting"],
    response_model=ReceiptOut,
    responses={**refusals("cast_ballot", 404, 409, 503), 200: {"model": ReceiptOut}},
    openapi_extra={
        "parameters": [_IDEMPOTENCY_HEADER],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BallotIn.model_json_schema()}},
        },
    },
)
async def cast_ballot(election_id: str, request: Request) -> JSONResponse:
    """Cast an encrypted ballot; a remote voter's new ballot supersedes the earlier ones.

    A remote voter's ballot must carry the voter's revote tag (given with the remote credential) and an
    in-person ballot none; otherwise 422 naming ``revote_tag``. The ballot must pass every per-ballot
    check of the verifier (422 naming the field) and be cast on a device of the caller's channel at
    the caller's station (403 naming the device).

    The busiest route: it reads its token, header and body itself (``json_body``: the body the input
    guard parsed, validated as ``BallotIn``) rather than through FastAPI's dependencies, with the same
    checks and refusals.
    """
    state = get_state(request)
    caller = await authorize(state, bearer_token(request), "cast_ballot")
    body = await json_body(request, BallotIn)
    idempotency_key = request.headers.get("idempotency-key")
    bound_election(caller, election_id)
    station_id = _station_of(caller)
    rules = await election_rules(state, election_id)
    check_revote_tag(state, caller, body.ballot, rules.base_hash)
    where = admission_for(rules, caller, station_id, body.device_id)
    payload = {"ballot": body.ballot, "device_id": body.device_id, "station_id": station_id, "state": "cast"}
    with state.committer.expecting(1):  # the writer may wait for this ballot to join its batch
        checked = await state.verifier.ballot(rules.document, body.ballot, payload, where)
        ref = idempotency_ref(
            caller, idempotency_key, f"/elections/{election_id}/ballots", {"c": checked.content_hash}
        )
        cast = CastRequest(
            election_id, caller, body.device_id, station_id, checked, body.ballot, payload, ref
        )
        (fut,) = state.committer.submit_group(state.casts, [cast])
    status, out, headers = await asyncio.wrap_future(fut)
    return JSONResponse(out, status_code=status, headers=headers)


def _voter_for(info: TokenInfo | AccessDenied, election_id: str, station_id: str) -> TokenInfo:
    """The voter a batch item's credential names, if it may cast at this station."""
    if isinstance(info, AccessDenied):
        raise info
    if info.role != "voter":
        raise AccessDenied(f"credential: role {info.role!r} is not a voter credential")
    if info.election_id != election_id:
        raise AccessDenied(f"voter {info.voter_id}: credential is for election {info.election_id!r}")
    if info.station_id != station_id:
        raise AccessDenied(
            f"voter {info.voter_id}: credential is for station {info.station_id!r}, not {station_id!r}"
        )
    return info


def _refusal(index: int, exc: BaseException) -> dict[str, Any]:
    message = clip(str(exc.args[0]) if exc.args else type(exc).__name__)
    return {"index": index, "status": status_for(exc), "error": type(exc).__name__, "detail": message}


@router.post(
    "/elections/{election_id}/ballots/batch", tags=["voting"],
    response_model=BatchOut,
    responses=refusals("cast_ballot_batch", 404, 409, 503),
)
async def cast_ballot_batch(
    election_id: str,
    body: BatchIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("cast_ballot_batch"))],
) -> JSONResponse:
    """A polling station's device uploads many cast ballots, each under the credential of its voter.

    Each ballot is verified and accepted or refused on its own (its own status and reason); the answer
    comes only after every accepted ballot is committed. Resending a batch is safe: ballots already
    stored come back as duplicates.
    """
    bound_election(caller, election_id)
    station_id = _station_of(caller)
    rules = await election_rules(state, election_id)

    def resolve() -> list[TokenInfo | AccessDenied]:
        with state.reading() as session:
            return resolve_tokens(session, [item.credential for item in body.ballots])

    infos = await run_in_threadpool(resolve)
    results: list[dict[str, Any] | None] = [None] * len(body.ballots)
    todo: list[tuple[int, TokenInfo, dict[str, Any], Admission]] = []
    for i, (item, info) in enumerate(zip(body.ballots, infos, strict=True)):
        try:
            voter = _voter_for(info, election_id, station_id)
            check_revote_tag(state, voter, item.ballot, rules.base_hash)
            where = admission_for(rules, voter, station_id, item.device_id)
        except (AccessDenied, InvalidBallot, ElectionStateError) as exc:
            results[i] = _refusal(i, exc)
            continue
        payload = {
            "ballot": item.ballot, "device_id": item.device_id, "station_id": station_id, "state": "cast"
        }
        todo.append((i, voter, payload, where))
    requests: list[tuple[int, CastRequest]] = []
    with state.committer.expecting(len(todo)):
        checks = await state.verifier.ballots(
            rules.document, [(body.ballots[i].ballot, p, w) for i, _, p, w in todo]
        )
        for (i, voter, payload, _), checked in zip(todo, checks, strict=True):
            if isinstance(checked, Exception):
                results[i] = _refusal(i, checked)
                continue
            item = body.ballots[i]
            cast = CastRequest(election_id, voter, item.device_id, station_id, checked, item.ballot, payload)
            requests.append((i, cast))
        futures = state.committer.submit_group(state.casts, [r for _, r in requests])
    for (i, _), fut in zip(requests, futures, strict=True):
        try:
            status, out, _headers = await asyncio.wrap_future(fut)
        except Exception as exc:  # refused by the writer (or its batch failed to commit)
            results[i] = _refusal(i, exc)
        else:
            results[i] = {"index": i, "status": status, "receipt": out}
    accepted = sum(1 for r in results if r is not None and r["status"] == 201)
    duplicates = sum(1 for r in results if r is not None and r["status"] == 200)
    return JSONResponse(
        {
            "accepted": accepted,
            "duplicates": duplicates,
            "refused": len(results) - accepted - duplicates,
            "results": results,
        }
    )


@router.post(
    "/elections/{election_id}/challenges", status_code=201, tags=["voting"],
    response_model=ReceiptOut,
    responses={**refusals("challenge_ballot", 404, 409, 503), 200: {"model": ReceiptOut}},
)
async def challenge_ballot(
    election_id: str,
    body: ChallengeIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("challenge_ballot"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Publish a challenged (opened) ballot after checking that it decrypts to what it claims.

    The ballot passes the verifier's per-ballot checks as a challenged ballot: in particular it carries
    no revote tag (422 naming ``revote_tag``), which would link the opened plaintext to the voter's
    counted ballot. Like a cast ballot, it goes on a device of the caller's channel and station.
    """
    bound_election(caller, election_id)
    station_id = _station_of(caller)
    rules = await election_rules(state, election_id)
    where = admission_for(rules, caller, station_id, body.device_id)
    payload = {"challenged": body.challenged, "device_id": body.device_id, "station_id": station_id}
    checked = await state.verifier.challenged(rules.document, body.challenged, payload, where)
    ref = idempotency_ref(
        caller, idempotency_key, f"/elections/{election_id}/challenges", {"c": checked.content_hash}
    )
    request = CastRequest(
        election_id, caller, body.device_id, station_id, checked, body.challenged, payload, ref, "challenged"
    )
    (fut,) = state.committer.submit_group(state.casts, [request])
    status, out, headers = await asyncio.wrap_future(fut)
    return JSONResponse(out, status_code=status, headers=headers)


class JsonLinesResponse(PlainTextResponse):
    """A JSON Lines body (``application/x-ndjson``), so the OpenAPI names the media type sent."""

    media_type = "application/x-ndjson"


@router.get(
    "/elections/{election_id}/board",
    tags=["board"],
    response_class=JsonLinesResponse,
    responses={
        **refusals("download_board", 404, non_json=True),
        200: {"description": "the board, one JSON object a line"},
    },
)
def download_board(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("download_board"))]
) -> JsonLinesResponse:
    """The whole board as JSON Lines (header, entries, checkpoints); see docs/board-format.md."""
    buf = io.StringIO()
    with state.reading() as session:
        get_election(session, election_id)
        write_jsonl(state.board(session, election_id).export_rows(), buf)
    return JsonLinesResponse(buf.getvalue())


@router.get(
    "/elections/{election_id}/board/codes/{code}", tags=["board"],
    response_model=BoardCodeOut,
    responses=refusals("lookup_code", 404),
)
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
