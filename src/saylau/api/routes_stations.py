"""Turnout snapshots, station protocol keys and signed result protocols (versioned)."""

from __future__ import annotations

from typing import Annotated, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.api.auth import StateDep, require
from saylau.api.common import bound_station, get_election, idempotent, need_phase
from saylau.api.errors import NotFound
from saylau.election.protocols import ProtocolBook, SignedProtocol
from saylau.errors import ElectionStateError, ProtocolRejected
from saylau.store.accounts import TokenInfo
from saylau.store.models import Election, ProtocolRow, Station, TurnoutRow

__all__ = ["router"]

router = APIRouter()


class TurnoutIn(BaseModel):
    """Voters who received a ballot at this station by ``at`` (ISO time)."""

    model_config = ConfigDict(extra="forbid")
    at: str = Field(min_length=10, max_length=40)
    voted: int = Field(ge=0)


class StationKeyIn(BaseModel):
    """The station commission's Ed25519 public key (raw 32 bytes, hex), registered by the CEC."""

    model_config = ConfigDict(extra="forbid")
    public_key: str = Field(pattern=r"^[0-9a-f]{64}$")


@router.post("/elections/{election_id}/stations/{station_id}/turnout", status_code=201, tags=["stations"])
def submit_turnout(
    election_id: str,
    station_id: str,
    body: TurnoutIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("submit_turnout"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Record and publish a turnout snapshot of the commission's own station."""
    bound_station(caller, election_id, station_id)

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        need_phase(get_election(session, election_id), "open", "closed")
        session.add(TurnoutRow(election_id=election_id, station_id=station_id, at=body.at, voted=body.voted))
        entry = state.publish(
            session, election_id, "turnout", {"station_id": station_id, **body.model_dump()}
        )
        return 201, {"station_id": station_id, "board_position": entry.position}

    path = f"/elections/{election_id}/stations/{station_id}/turnout"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write)


@router.get("/elections/{election_id}/turnout", tags=["stations"])
def list_turnout(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("list_turnout"))]
) -> list[dict[str, Any]]:
    """Every turnout snapshot, in time order."""
    with state.reading() as session:
        get_election(session, election_id)
        rows = session.scalars(
            select(TurnoutRow).where(TurnoutRow.election_id == election_id).order_by(TurnoutRow.at)
        )
        return [{"station_id": r.station_id, "at": r.at, "voted": r.voted} for r in rows]


@router.post("/elections/{election_id}/stations/{station_id}/key", tags=["stations"])
def register_station_key(
    election_id: str,
    station_id: str,
    body: StationKeyIn,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("register_station_key"))],
) -> dict[str, Any]:
    """Register the key that signs the station's protocols (once; published on the board)."""
    with state.transaction() as session:
        get_election(session, election_id)
        station = session.get(Station, (election_id, station_id), with_for_update=True)
        if station is None:
            raise NotFound(f"station {station_id!r} of election {election_id!r} does not exist")
        if station.public_key is not None and station.public_key != body.public_key:
            raise ElectionStateError(f"station {station_id}: a different protocol key is already registered")
        station.public_key = body.public_key
        entry = state.publish(
            session,
            election_id,
            "note",
            {"station_key": {"station_id": station_id, "public_key": body.public_key}},
        )
        return {"station_id": station_id, "public_key": body.public_key, "board_position": entry.position}


def _book(session: Session, election: Election, station: Station) -> ProtocolBook:
    """A ``ProtocolBook`` holding the station's accepted versions (re-checked as they are replayed)."""
    if station.public_key is None:
        raise ProtocolRejected(f"protocol of station {station.id!r}: no protocol key registered")
    options = [s["selection_id"] for c in election.manifest["contests"] for s in c["selections"]]
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(station.public_key))
    book = ProtocolBook(election.id, options, {station.id: key})
    for row in session.scalars(
        select(ProtocolRow)
        .where(ProtocolRow.election_id == election.id, ProtocolRow.station_id == station.id)
        .order_by(ProtocolRow.version)
    ):
        book.submit(SignedProtocol.model_validate(row.body))
    return book


@router.post("/elections/{election_id}/stations/{station_id}/protocols", status_code=201, tags=["stations"])
def submit_protocol(
    election_id: str,
    station_id: str,
    body: SignedProtocol,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("submit_protocol"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Accept a signed result protocol after ``saylau.election.protocols`` checks it.

    Signature, version chain and every control relation are checked; a correction is a new version
    naming the hash of the one it replaces, with a reason.
    """
    bound_station(caller, election_id, station_id)
    if body.figures.station != station_id:
        raise ValueError(f"field 'figures.station': {body.figures.station!r} is not station {station_id!r}")
    doc = body.model_dump(mode="json")

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id)
        need_phase(e, "closed", "tallied", "decrypted")
        station = session.get(Station, (election_id, station_id))
        if station is None:
            raise NotFound(f"station {station_id!r} of election {election_id!r} does not exist")
        state.board(session, election_id).store.head()  # lock: versions are numbered under the board lock
        _book(session, e, station).submit(body)  # raises ProtocolRejected naming the relation
        session.add(
            ProtocolRow(
                election_id=election_id,
                station_id=station_id,
                version=body.version,
                body=doc,
                submitted_by=caller.username or "station",
            )
        )
        entry = state.publish(session, election_id, "protocol", doc)
        return 201, {
            "station_id": station_id,
            "version": body.version,
            "protocol_hash": body.protocol_hash(),
            "board_position": entry.position,
        }

    path = f"/elections/{election_id}/stations/{station_id}/protocols"
    return idempotent(state, caller, idempotency_key, path, doc, write)


@router.get("/elections/{election_id}/protocols", tags=["stations"])
def list_protocols(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("list_protocols"))]
) -> list[dict[str, Any]]:
    """Every protocol version."""
    with state.reading() as session:
        get_election(session, election_id)
        rows = session.scalars(
            select(ProtocolRow)
            .where(ProtocolRow.election_id == election_id)
            .order_by(ProtocolRow.station_id, ProtocolRow.version)
        )
        return [{"station_id": r.station_id, "version": r.version, "protocol": r.body} for r in rows]
