"""What the server needs to admit a ballot as the verifier will: the election's rules, devices, channels.

``election_rules`` loads (once per election and process) the small rules document the verification
workers run the verifier's per-ballot checks with (``saylau.record.verifier.admission``) and the map
from station to region, which stays in this process. ``admission_for`` says where a ballot is cast:
its device, its station's region, and the channel the caller's credential belongs to.

Devices (``docs/api.md``, "Devices"): a station's commission registers its booth devices
(``POST /elections/{id}/stations/{station}/devices``); each station has one remote-voting channel
device, ``<station id>-remote`` (``remote_device_id``), which the server creates at the first remote
ballot of that station.
Ids ending in ``-remote`` are reserved for it. A station (in-person) credential casts only on a booth
device of its own station, a remote credential only on its station's remote channel device.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from fastapi.concurrency import run_in_threadpool

from saylau.api.common import get_election
from saylau.api.state import AppState
from saylau.api.verify_pool import Admission
from saylau.errors import AccessDenied, ElectionStateError
from saylau.record.verifier.admission import rules_document
from saylau.store.accounts import TokenInfo

__all__ = [
    "REMOTE_SUFFIX",
    "ElectionRules",
    "admission_for",
    "channel_of",
    "election_rules",
    "remote_device_id",
]

REMOTE_SUFFIX = "-remote"
DEVICE_ID_MAX = 64  # the ``devices.id`` column and the API's device-id pattern


def remote_device_id(station_id: str) -> str:
    """The id of a station's remote-voting channel device (created by the server): ``<station>-remote``.

    A station id too long for that (over 57 characters) is cut to 40 and followed by 16 hex digits of
    its SHA-256, so the id still fits the 64 characters a device id may have and stays unique.
    """
    plain = f"{station_id}{REMOTE_SUFFIX}"
    if len(plain) <= DEVICE_ID_MAX:
        return plain
    digest = hashlib.sha256(station_id.encode()).hexdigest()[:16]
    return f"{station_id[:40]}-{digest}{REMOTE_SUFFIX}"


def channel_of(caller: TokenInfo) -> str:
    """The device channel a voter credential casts on: ``remote`` for a remote credential, else ``booth``."""
    return "remote" if caller.channel == "remote" else "booth"


@dataclass(frozen=True)
class ElectionRules:
    """One election's admission rules: the workers' document, station regions, the base hash."""

    document: dict[str, Any]
    regions: dict[str, str]
    base_hash: str


def _load(state: AppState, election_id: str) -> ElectionRules:
    with state.reading() as session:
        e = get_election(session, election_id)
        params_doc = state.key_document(e)
        manifest = e.manifest
        regions = {
            s["station_id"]: r["region_id"]
            for r in manifest["regions"]
            for d in r["districts"]
            for s in d["stations"]
        }
        return ElectionRules(rules_document(params_doc, manifest), regions, e.base_hash)


async def election_rules(state: AppState, election_id: str) -> ElectionRules:
    """The election's rules, cached once its key ceremony is complete (neither manifest nor key changes)."""
    found = state.admission_rules.get(election_id)
    if found is None:
        found = await run_in_threadpool(_load, state, election_id)
        state.admission_rules[election_id] = found
    assert isinstance(found, ElectionRules)
    return found


def admission_for(rules: ElectionRules, caller: TokenInfo, station_id: str, device_id: str) -> Admission:
    """Where the caller's ballot is cast; refuses a device id that cannot be the caller's channel's.

    A remote credential casts only on its station's remote channel device, and a booth device's id may
    not end in ``-remote``; whether the booth device is registered at the station is the writer's check.
    """
    region = rules.regions.get(station_id)
    if region is None:
        raise ElectionStateError(f"station {station_id!r} is not a station of this election's manifest")
    channel = channel_of(caller)
    if channel == "remote" and device_id != remote_device_id(station_id):
        raise AccessDenied(
            f"device {device_id}: a remote credential casts only on its station's remote channel device "
            f"{remote_device_id(station_id)}"
        )
    if channel == "booth" and device_id.endswith(REMOTE_SUFFIX):
        raise AccessDenied(
            f"device {device_id}: a remote channel device; an in-person credential casts on a booth "
            "device of its station"
        )
    return Admission(device_id, region, channel)
