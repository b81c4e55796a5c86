"""Response models of the key ceremony, casting, the board, devices, the pollbook and stations.

Documents in the record's own formats (guardian records, shares, partial decryptions, ballots, signed
protocols; ``docs/record-format.md``) are ``dict[str, Any]`` here: their readers in ``saylau.crypto`` and
``saylau.election`` check them, and the record verifier is their standard.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from saylau.api.schemas import RowProblemOut

__all__ = [
    "BatchOut",
    "BoardCodeOut",
    "CeremonyOut",
    "CredentialOut",
    "DeviceOut",
    "GuardianFinishedOut",
    "GuardianOut",
    "GuardianPublishedOut",
    "GuardianRecordDuplicateOut",
    "GuardianStepsOut",
    "JointKeyOut",
    "PartialDecryptionOut",
    "ProtocolOut",
    "ProtocolView",
    "ReceiptOut",
    "RemoteCredentialOut",
    "RollCountsOut",
    "RollImportOut",
    "ShareOut",
    "SharesStoredOut",
    "StationKeyOut",
    "StationView",
    "TransferOut",
    "TurnoutOut",
    "TurnoutStoredOut",
]


# --- the key ceremony and partial decryptions -------------------------------------------------------


class GuardianPublishedOut(BaseModel):
    """A guardian's record (or partial decryption) published at ``board_position``."""

    index: int
    board_position: int


class GuardianRecordDuplicateOut(BaseModel):
    """The same record sent again: nothing new stored."""

    index: int
    duplicate: bool


class GuardianOut(BaseModel):
    """A guardian's public record, once published, and whether it finished the ceremony."""

    index: int
    record: dict[str, Any] | None
    finished: bool


class SharesStoredOut(BaseModel):
    """Encrypted shares deposited by ``sender``."""

    sender: int
    stored: int


class ShareOut(BaseModel):
    """An encrypted share addressed to the caller."""

    sender: int
    share: dict[str, Any]


class GuardianFinishedOut(BaseModel):
    """A guardian done with the ceremony."""

    index: int
    finished: bool


class GuardianStepsOut(BaseModel):
    """One guardian's steps so far: its record, the shares it sent and received, done, its decryption."""

    index: int
    record: bool
    shares_sent: list[int]
    shares_received: list[int]
    finished: bool
    partial_decryption: bool


class CeremonyOut(BaseModel):
    """The key ceremony's and the decryption's progress, guardian by guardian (nothing secret)."""

    election_id: str
    phase: str
    guardians: int
    quorum: int
    joint_key: bool
    progress: list[GuardianStepsOut]


class PartialDecryptionOut(BaseModel):
    """A guardian's published partial decryptions of every scope's tally, as it sent them."""

    index: int
    partials: list[dict[str, Any]]


class JointKeyOut(BaseModel):
    """The election parameters with the joint key, as published."""

    parameters: dict[str, Any]
    board_position: int


# --- ballots and the board --------------------------------------------------------------------------


class ReceiptOut(BaseModel):
    """What a caster is told about a stored ballot: its tracking code and where it is on the board.

    ``superseded``: the tracking codes of the voter's earlier ballots a remote revote replaced (a new
    cast ballot only; absent on a challenged ballot and on a duplicate).
    """

    ballot_id: str
    code: str
    state: str
    device_id: str
    sequence: int
    board_position: int
    entry_hash: str
    duplicate: bool
    superseded: list[str] | None = None


class BatchResultOut(BaseModel):
    """One ballot of a batch: accepted (201), a duplicate (200) with its receipt, or refused with why."""

    index: int
    status: int
    receipt: ReceiptOut | None = None
    error: str | None = None
    detail: str | None = None


class BatchOut(BaseModel):
    """A station's batch: how many were accepted, duplicates or refused, and each ballot's outcome."""

    accepted: int
    duplicates: int
    refused: int
    results: list[BatchResultOut]


class BoardEntryOut(BaseModel):
    """A board entry (``docs/board-format.md``)."""

    position: int
    time: str
    kind: str
    code: str | None
    payload_hash: str
    prev_hash: str
    payload: dict[str, Any]
    entry_hash: str


class BoardCodeOut(BaseModel):
    """The entries published under one tracking code."""

    code: str
    entries: list[BoardEntryOut]


class DeviceOut(BaseModel):
    """A device as the server knows it: its station, channel and chain head."""

    device_id: str
    station_id: str
    channel: str
    opening_code: str
    last_code: str
    ballot_count: int
    closed: bool


# --- the roll and the pollbook ------------------------------------------------------------------------


class RollImportOut(BaseModel):
    """A voter-roll import: rows read, imported, duplicates removed, rows rejected; the roll's total."""

    imported: int
    rows_read: int
    duplicates_removed: int
    rejected: list[RowProblemOut]
    total: int
    board_position: int


class StationCountsOut(BaseModel):
    """A station's published roll figures."""

    region: str
    registered: int
    transferred_out: int
    transferred_in: int


class RollCountsOut(BaseModel):
    """Voters per region and station, transfers in and out; no person."""

    total: int
    regions: dict[str, int]
    stations: dict[str, StationCountsOut]


class TransferOut(BaseModel):
    """An absentee certificate issued (the voter is not named on the board)."""

    certificate_id: str
    from_station: str
    to_station: str
    issued_on: str
    board_position: int


class CredentialOut(BaseModel):
    """A one-time ballot credential, shown once.

    Replayed under the same ``Idempotency-Key``, the answer withholds it (``withheld`` names it): no
    credential is stored.
    """

    credential: str | None = None
    channel: str
    station_id: str
    withheld: list[str] | None = None


class RemoteCredentialOut(CredentialOut):
    """A remote voter's credential and revote tag (hex), both shown once."""

    revote_tag: str | None = None


# --- stations: turnout, protocol keys, protocols -------------------------------------------------------


class TurnoutStoredOut(BaseModel):
    """A turnout snapshot published."""

    station_id: str
    board_position: int


class TurnoutOut(BaseModel):
    """A turnout snapshot: voters who received a ballot at the station by ``at``."""

    station_id: str
    at: str
    voted: int


class StationKeyOut(BaseModel):
    """A station's protocol key, registered and published."""

    station_id: str
    public_key: str
    board_position: int


class StationView(BaseModel):
    """A station as ``GET .../stations`` lists it (``public_key``: null until the CEC registers one)."""

    station_id: str
    region: str
    name: str
    public_key: str | None


class DifferenceOut(BaseModel):
    """A relation between a protocol and the server's records that does not hold."""

    relation: str
    detail: str
    protocol: dict[str, int]
    server: dict[str, int]


class ReconciliationOut(BaseModel):
    """How a protocol compares with the roll, the pollbook and (once decrypted) the tally."""

    status: str
    against: list[str]
    differences: list[DifferenceOut]
    detail: str | None = None


class ProtocolOut(BaseModel):
    """A protocol version accepted and published, with its reconciliation."""

    station_id: str
    version: int
    protocol_hash: str
    board_position: int
    reconciliation: ReconciliationOut


class ProtocolView(BaseModel):
    """A stored protocol version (the signed document as submitted) and its reconciliation now."""

    station_id: str
    version: int
    protocol: dict[str, Any]
    reconciliation: ReconciliationOut
