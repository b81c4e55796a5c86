"""The guardians' key ceremony and partial decryptions through the server.

Each guardian's secret stays on the guardian's side: the server stores public records (commitments and
Schnorr proofs, verified on arrival), encrypted shares addressed to one guardian each (only that guardian
may fetch them), and partial decryptions with their proofs. Each record and each partial decryption is
published on the board (``guardian``, ``partial_decryption``; ``docs/board-format.md``) in the form the
election record carries it, so the record verifier can compare the two.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.api.auth import StateDep, require
from saylau.api.common import bound_election, get_election, idempotent, need_phase
from saylau.api.errors import NotFound
from saylau.api.schemas import refusals
from saylau.api.schemas_voting import (
    CeremonyOut,
    GuardianFinishedOut,
    GuardianOut,
    GuardianPublishedOut,
    GuardianRecordDuplicateOut,
    JointKeyOut,
    PartialDecryptionOut,
    ShareOut,
    SharesStoredOut,
)
from saylau.crypto import (
    ElectionParameters,
    EncryptedTally,
    GuardianRecord,
    PartialDecryption,
    joint_public_key,
    verify_guardian_record,
    verify_partial_decryption,
)
from saylau.election.manifest import Manifest
from saylau.errors import AccessDenied, CeremonyError, ElectionStateError
from saylau.store.accounts import TokenInfo
from saylau.store.models import GuardianRow, GuardianShare, PartialDecryptionRow
from saylau.voting.publish import guardian_record_payload, partial_decryption_payload

__all__ = ["router"]

router = APIRouter()
MAX_GUARDIANS = 100  # as ElectionIn.guardians
GuardianIndex = Annotated[int, Path(ge=1, le=MAX_GUARDIANS)]


class RecordIn(BaseModel):
    """A guardian's public record (``GuardianRecord.to_dict``)."""

    model_config = ConfigDict(extra="forbid")
    record: dict[str, Any]


class ShareIn(BaseModel):
    """One encrypted share for one recipient."""

    model_config = ConfigDict(extra="forbid")
    recipient: int = Field(ge=1, le=MAX_GUARDIANS)
    share: dict[str, Any]


class SharesIn(BaseModel):
    """Shares for the other guardians."""

    model_config = ConfigDict(extra="forbid")
    shares: list[ShareIn] = Field(min_length=1)


class ScopePartial(BaseModel):
    """A partial decryption of one scope's tally (station, region or nation)."""

    model_config = ConfigDict(extra="forbid")
    scope: str
    scope_id: str
    partial: dict[str, Any]


class PartialIn(BaseModel):
    """A guardian's partial decryptions of every scope's tally, in the order ``GET /tally`` lists them."""

    model_config = ConfigDict(extra="forbid")
    partials: list[ScopePartial] = Field(min_length=1)


def _as_guardian(caller: TokenInfo, election_id: str, index: int) -> None:
    bound_election(caller, election_id)
    if caller.guardian_index != index:
        raise AccessDenied(f"guardian {caller.guardian_index} may not act as guardian {index}")


@router.post(
    "/elections/{election_id}/guardians/{index}/record", status_code=201, tags=["ceremony"],
    response_model=GuardianPublishedOut,
    responses={**refusals("post_guardian_record", 404, 409), 200: {"model": GuardianRecordDuplicateOut}},
)
def post_guardian_record(
    election_id: str,
    index: GuardianIndex,
    body: RecordIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("post_guardian_record"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Publish a guardian's commitments after verifying each Schnorr proof."""
    _as_guardian(caller, election_id, index)
    with state.reading() as session:
        e = get_election(session, election_id)
        need_phase(e, "setup")
        if not 1 <= index <= e.guardians:
            raise ValueError(f"field 'index': guardian {index} not in 1..{e.guardians}")
        base_hash = bytes.fromhex(e.base_hash)
    rec = GuardianRecord.from_dict(body.record)
    verify_guardian_record(rec, base_hash)
    if rec.index != index:
        raise ValueError(f"field 'record.index': {rec.index} is not guardian {index}")

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        row = session.get(GuardianRow, (election_id, index), with_for_update=True)
        if row is not None and row.record is not None:
            if row.record == body.record:
                return 200, {"index": index, "duplicate": True}
            raise ElectionStateError(f"guardian {index}: record already published")
        session.add(
            GuardianRow(election_id=election_id, index=index, user_id=caller.user_id, record=body.record)
        )
        # published in its parsed form: the record verifier compares it with parameters.json's
        entry = state.publish(session, election_id, "guardian", guardian_record_payload(rec))
        return 201, {"index": index, "board_position": entry.position}

    path = f"/elections/{election_id}/guardians/{index}/record"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write)


@router.get(
    "/elections/{election_id}/guardians", tags=["ceremony"],
    response_model=list[GuardianOut],
    responses=refusals("list_guardians", 404),
)
def list_guardians(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("list_guardians"))]
) -> list[dict[str, Any]]:
    """Public records published so far."""
    with state.reading() as session:
        get_election(session, election_id)
        rows = session.scalars(
            select(GuardianRow).where(GuardianRow.election_id == election_id).order_by(GuardianRow.index)
        )
        return [{"index": r.index, "record": r.record, "finished": r.finished} for r in rows]


@router.post(
    "/elections/{election_id}/guardians/{index}/shares", status_code=201, tags=["ceremony"],
    response_model=SharesStoredOut,
    responses=refusals("post_shares", 404, 409),
)
def post_shares(
    election_id: str,
    index: GuardianIndex,
    body: SharesIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("post_shares"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Deposit encrypted shares, each readable only by its recipient."""
    _as_guardian(caller, election_id, index)

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id)
        need_phase(e, "setup")
        for i, s in enumerate(body.shares):
            if s.recipient == index or s.recipient > e.guardians:
                raise ValueError(f"field 'shares.{i}.recipient': {s.recipient} is not another guardian")
            if session.get(GuardianShare, (election_id, index, s.recipient)) is None:
                session.add(
                    GuardianShare(election_id=election_id, sender=index, recipient=s.recipient, share=s.share)
                )
        return 201, {"sender": index, "stored": len(body.shares)}

    path = f"/elections/{election_id}/guardians/{index}/shares"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write)


@router.get(
    "/elections/{election_id}/guardians/{index}/shares", tags=["ceremony"],
    response_model=list[ShareOut],
    responses=refusals("get_shares"),
)
def get_shares(
    election_id: str,
    index: GuardianIndex,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("get_shares"))],
) -> list[dict[str, Any]]:
    """The shares addressed to this guardian (and to no one else)."""
    _as_guardian(caller, election_id, index)
    with state.reading() as session:
        rows = session.scalars(
            select(GuardianShare)
            .where(GuardianShare.election_id == election_id, GuardianShare.recipient == index)
            .order_by(GuardianShare.sender)
        )
        return [{"sender": r.sender, "share": r.share} for r in rows]


@router.post(
    "/elections/{election_id}/guardians/{index}/finish", tags=["ceremony"],
    response_model=GuardianFinishedOut,
    responses=refusals("finish_guardian", 409),
)
def finish_guardian(
    election_id: str,
    index: GuardianIndex,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("finish_guardian"))],
) -> dict[str, Any]:
    """A guardian reports that every share it received verified and its key share is ready."""
    _as_guardian(caller, election_id, index)
    with state.transaction() as session:
        row = session.get(GuardianRow, (election_id, index), with_for_update=True)
        if row is None or row.record is None:
            raise ElectionStateError(f"guardian {index}: publish the record before finishing")
        row.finished = True
        return {"index": index, "finished": True}


@router.post(
    "/elections/{election_id}/key", tags=["ceremony"],
    response_model=JointKeyOut,
    responses=refusals("make_joint_key", 404, 409),
)
def make_joint_key(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("make_joint_key"))]
) -> dict[str, Any]:
    """Combine every guardian's record into the joint key once all have finished; publish the parameters."""
    with state.transaction() as session:
        e = get_election(session, election_id, lock=True)
        need_phase(e, "setup")
        if e.joint_key is not None:
            raise ElectionStateError(f"election {election_id}: joint key already made")
        rows = list(
            session.scalars(
                select(GuardianRow).where(GuardianRow.election_id == election_id).order_by(GuardianRow.index)
            )
        )
        missing = sorted(set(range(1, e.guardians + 1)) - {r.index for r in rows if r.finished})
        if missing:
            raise CeremonyError(f"election {election_id}: guardians {missing} have not finished the ceremony")
        base_hash = bytes.fromhex(e.base_hash)
        records = tuple(GuardianRecord.from_dict(r.record) for r in rows if r.record is not None)
        key = joint_public_key(records, e.quorum, base_hash)  # re-checks every Schnorr proof
        params = ElectionParameters(base_hash, key, Manifest.from_json_obj(e.manifest).contest_specs())
        e.joint_key = params.to_dict()
        entry = state.publish(session, election_id, "joint_key", {"parameters": e.joint_key})
        return {"parameters": e.joint_key, "board_position": entry.position}


@router.post(
    "/elections/{election_id}/guardians/{index}/partial-decryption", status_code=201, tags=["decryption"],
    response_model=GuardianPublishedOut,
    responses=refusals("post_partial_decryption", 404, 409),
)
def post_partial_decryption(
    election_id: str,
    index: GuardianIndex,
    body: PartialIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("post_partial_decryption"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Accept a guardian's partial decryptions of every tally after checking their proofs."""
    _as_guardian(caller, election_id, index)
    with state.reading() as session:
        e = get_election(session, election_id)
        need_phase(e, "tallied")
        params = state.election_params(e)
        assert e.tally is not None
        scopes = e.tally["scopes"]
    if len(body.partials) != len(scopes):
        raise ValueError(f"field 'partials': {len(body.partials)} given, the tally has {len(scopes)} scopes")
    parsed: list[tuple[str, str, dict[str, Any]]] = []
    for i, (given, scope) in enumerate(zip(body.partials, scopes, strict=True)):
        if (given.scope, given.scope_id) != (scope["scope"], scope["scope_id"]):
            want = f"{scope['scope']}/{scope['scope_id']}"
            raise ValueError(f"field 'partials.{i}': {given.scope}/{given.scope_id} is not {want}")
        partial = PartialDecryption.from_dict(given.partial)
        if partial.guardian_index != index:
            raise ValueError(f"field 'partials.{i}.partial.guardian_index': not guardian {index}")
        verify_partial_decryption(params, EncryptedTally.from_dict(scope["encrypted"]), partial)
        parsed.append((given.scope, given.scope_id, partial.to_dict()))

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        if session.get(PartialDecryptionRow, (election_id, index)) is not None:
            raise ElectionStateError(f"guardian {index}: partial decryption already submitted")
        stored = body.model_dump()
        session.add(PartialDecryptionRow(election_id=election_id, index=index, body=stored))
        # published in its parsed form: the record verifier compares it with the record's tallies
        payload = partial_decryption_payload(index, parsed)
        entry = state.publish(session, election_id, "partial_decryption", payload)
        return 201, {"index": index, "board_position": entry.position}

    path = f"/elections/{election_id}/guardians/{index}/partial-decryption"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write)


@router.get(
    "/elections/{election_id}/ceremony", tags=["ceremony"],
    response_model=CeremonyOut,
    responses=refusals("ceremony_progress", 404),
)
def ceremony_progress(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("ceremony_progress"))]
) -> dict[str, Any]:
    """Each guardian's steps: record published, shares sent (to whom) and received, finished, decrypted.

    Only who did what: the shares themselves stay readable by their recipient alone.
    """
    with state.reading() as session:
        e = get_election(session, election_id)
        rows = {
            r.index: r
            for r in session.scalars(select(GuardianRow).where(GuardianRow.election_id == election_id))
        }
        pairs = session.execute(
            select(GuardianShare.sender, GuardianShare.recipient)
            .where(GuardianShare.election_id == election_id)
            .order_by(GuardianShare.sender, GuardianShare.recipient)
        ).all()
        decrypted = set(
            session.scalars(
                select(PartialDecryptionRow.index).where(PartialDecryptionRow.election_id == election_id)
            )
        )
        progress = []
        for i in range(1, e.guardians + 1):
            row = rows.get(i)
            progress.append({
                "index": i,
                "record": row is not None and row.record is not None,
                "shares_sent": [r for s, r in pairs if s == i],
                "shares_received": [s for s, r in pairs if r == i],
                "finished": row is not None and row.finished,
                "partial_decryption": i in decrypted,
            })
        return {
            "election_id": e.id, "phase": e.phase, "guardians": e.guardians, "quorum": e.quorum,
            "joint_key": e.joint_key is not None, "progress": progress,
        }


@router.get(
    "/elections/{election_id}/guardians/{index}/partial-decryption", tags=["decryption"],
    response_model=PartialDecryptionOut,
    responses=refusals("get_partial_decryption", 404),
)
def get_partial_decryption(
    election_id: str,
    index: GuardianIndex,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("get_partial_decryption"))],
) -> dict[str, Any]:
    """A guardian's partial decryptions as accepted (public: the board carries them too)."""
    with state.reading() as session:
        get_election(session, election_id)
        row = session.get(PartialDecryptionRow, (election_id, index))
        if row is None:
            raise NotFound(f"guardian {index}: no partial decryption of election {election_id} yet")
        return {"index": index, "partials": row.body["partials"]}
