"""Voting devices: a station's commission registers its booth devices; anyone can list a station's devices.

Only a registered booth device accepts in-person ballots of its station, and only the station's remote
channel device (``<station id>-remote``, created by the server at the station's first remote ballot)
accepts its remote voters' ballots (``saylau.api.admission``), so a remote voter cannot append to a
booth's public chain and nobody can squat another station's predictable device id. The list shows each
device's chain head (last tracking code and ballot count), which a device resuming its chain needs; all
of it is public on the board anyway.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saylau.api.admission import REMOTE_SUFFIX
from saylau.api.auth import StateDep, require
from saylau.api.common import bound_station, get_election, idempotent, need_phase
from saylau.api.errors import NotFound
from saylau.api.schemas import refusals
from saylau.api.schemas_voting import (
    DeviceOut,
)
from saylau.crypto import DeviceChain
from saylau.errors import ElectionStateError
from saylau.store.accounts import TokenInfo
from saylau.store.models import Device, Election

__all__ = ["router"]

router = APIRouter()
_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


class DeviceIn(BaseModel):
    """A booth device to register at the commission's station."""

    model_config = ConfigDict(extra="forbid")
    device_id: str = Field(pattern=_ID)



def _station_in_manifest(e: Election, station_id: str) -> None:
    stations = {s["station_id"] for r in e.manifest["regions"] for d in r["districts"] for s in d["stations"]}
    if station_id not in stations:
        raise NotFound(f"station {station_id!r} is not a station of election {e.id}")


def _out(d: Device, base_hash: bytes) -> dict[str, Any]:
    return DeviceOut(
        device_id=d.id,
        station_id=d.station_id,
        channel=d.channel,
        opening_code=DeviceChain(d.id, base_hash).opening_code.hex(),
        last_code=d.last_code,
        ballot_count=d.count,
        closed=d.closing_code is not None,
    ).model_dump()


@router.post(
    "/elections/{election_id}/stations/{station_id}/devices",
    status_code=201,
    tags=["voting"],
    response_model=DeviceOut,
    responses=refusals("register_device", 404, 409),
)
def register_device(
    election_id: str,
    station_id: str,
    body: DeviceIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("register_device"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Register a booth device of this station (before or during voting); its chain starts empty.

    The id must start with ``<station id>-`` (so no station can take another's device ids) and must not
    end in ``-remote`` (reserved for the stations' remote channel devices): 422 naming ``device_id``;
    409 if it is already registered.
    """
    bound_station(caller, election_id, station_id)
    if not body.device_id.startswith(f"{station_id}-"):
        raise ValueError(
            f"field 'device_id': {body.device_id!r} does not start with the station id {station_id + '-'!r}"
        )
    if body.device_id.endswith(REMOTE_SUFFIX):
        raise ValueError(
            f"field 'device_id': {body.device_id!r} ends in {REMOTE_SUFFIX!r}, which is reserved for the "
            "stations' remote channel devices"
        )

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id)
        need_phase(e, "setup", "open")
        _station_in_manifest(e, station_id)
        taken = ElectionStateError(f"device {body.device_id}: already registered in election {election_id}")
        if session.get(Device, (election_id, body.device_id)) is not None:
            raise taken
        base_hash = bytes.fromhex(e.base_hash)
        device = Device(
            election_id=election_id,
            id=body.device_id,
            station_id=station_id,
            last_code=DeviceChain(body.device_id, base_hash).opening_code.hex(),
            count=0,
            channel="booth",
        )
        session.add(device)
        try:
            session.flush()
        except IntegrityError as exc:  # registered concurrently by another request
            raise taken from exc
        return 201, _out(device, base_hash)

    path = f"/elections/{election_id}/stations/{station_id}/devices"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write)


@router.get(
    "/elections/{election_id}/stations/{station_id}/devices", tags=["voting"],
    response_model=list[DeviceOut],
    responses=refusals("list_devices", 404),
)
def list_devices(
    election_id: str,
    station_id: str,
    state: StateDep,
    _: Annotated[TokenInfo, Depends(require("list_devices"))],
) -> list[dict[str, Any]]:
    """The station's devices (booths and, once it has a ballot, its remote channel) with their chain heads."""
    with state.reading() as session:
        e = get_election(session, election_id)
        _station_in_manifest(e, station_id)
        base_hash = bytes.fromhex(e.base_hash)
        rows = session.scalars(
            select(Device)
            .where(Device.election_id == election_id, Device.station_id == station_id)
            .order_by(Device.id)
        )
        return [_out(d, base_hash) for d in rows]
