"""Writing verified cast ballots in groups: one query per table for a whole commit batch.

The group committer hands ``CastWriter`` every cast queued since the last commit (single-ballot requests
arriving together, or one station's batch upload). It locks the board head, then loads with one query
each the ballots already stored under the batch's tracking codes, the voters' credentials and the devices
(``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the write lock), and the cast
ballots of remote voters who are revoting. Each ballot is then checked in memory exactly as before —
election open, credential unused (or a remote revote where allowed), the device (registered at the
caller's station by its commission, or the station's remote channel, and of the credential's channel),
device chain (EG 2.0 §3.4.4: the ballot's previous code must be the device's last code, and its id
must name that position), no other ballot under its code or its ballot id (ids are chosen by the
client; a reused one is a 409 naming it, checked here so that it never reaches the primary key and
fails the whole commit group at flush) — and only after
every check passed are its rows changed. A refused ballot changes nothing and gets its own exception.
The ORM inserts the batch's ballot and board rows with multi-row statements at commit.

``check_revote_tag`` runs before a ballot's proofs are verified: a remote voter's ballot must carry the
voter's revote tag and an in-person ballot none (``docs/record-format.md`` §6), so that the record's
revote links are bound to the tracking codes and not only to the board.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, load_only

from saylau.api.admission import channel_of, remote_device_id
from saylau.api.common import Written, need_phase
from saylau.api.errors import NotFound
from saylau.api.verify_pool import CheckedBallot
from saylau.board import BoardEntry, BulletinBoard
from saylau.board.hashing import canonical_json
from saylau.crypto import DeviceChain
from saylau.election.manifest import Manifest
from saylau.errors import AccessDenied, ElectionStateError, InvalidBallot, SaylauError
from saylau.record.verifier.admission import check_position
from saylau.record.windows import VotingWindows
from saylau.store.accounts import TokenInfo
from saylau.store.ballot_documents import ballot_document
from saylau.store.board_store import read_entries
from saylau.store.idempotency import lookup, remember
from saylau.store.models import Ballot, BoardEntryRow, Device, Election, Token
from saylau.voting.publish import superseded_payload

if TYPE_CHECKING:
    from saylau.api.state import AppState

__all__ = ["CastRequest", "CastWriter", "check_revote_tag", "receipt"]


@dataclass(frozen=True)
class CastRequest:
    """One verified ballot to store: who casts it, from which device and station, and its hashes.

    ``idempotency`` is ``(scope, key, request_hash)`` when the request carried an ``Idempotency-Key``.
    ``kind`` is ``"cast"`` or ``"challenged"``: a challenged (opened) ballot takes its place in the
    device's chain and is published, but uses no credential, supersedes nothing and is never counted.
    """

    election_id: str
    caller: TokenInfo
    device_id: str
    station_id: str
    checked: CheckedBallot
    ballot: dict[str, Any]
    payload: dict[str, Any]
    idempotency: tuple[str, str, str] | None = None
    kind: str = "cast"


def receipt(row: Ballot, device_id: str, entry_hash: str, duplicate: bool) -> dict[str, Any]:
    """What the caster is told about a stored ballot (cast on ``device_id``)."""
    return {
        "ballot_id": row.id,
        "code": row.code,
        "state": row.state,
        "device_id": device_id,
        "sequence": row.sequence,
        "board_position": row.board_position,
        "entry_hash": entry_hash,
        "duplicate": duplicate,
    }


def check_revote_tag(state: AppState, caller: TokenInfo, ballot: dict[str, Any], base_hash: str) -> None:
    """Refuse (``InvalidBallot``) a remote ballot without the caster's tag, or an in-person one with one.

    The tag is the revote service's ``HMAC-SHA-256(k_R, …, H_B, pseudonym)`` (``AppState.revote_tag``);
    the remote voter's device got it with the credential and put it inside the ballot hash.
    """
    given = ballot.get("revote_tag")
    what = f"ballot {str(ballot.get('ballot_id'))[:80]!r}"
    if caller.channel == "remote":
        if given is None:
            raise InvalidBallot(f"{what}: field 'revote_tag' is missing (a remote ballot needs the voter's)")
        expected = state.revote_tag(base_hash, str(caller.voter_id))
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected.encode()):
            raise InvalidBallot(f"{what}: field 'revote_tag' is not the casting voter's revote tag")
    elif given is not None:
        raise InvalidBallot(f"{what}: field 'revote_tag' must be absent on an in-person ballot")


def _check_device(device: Device | None, r: CastRequest, channel: str) -> None:
    """The ballot's device is registered (or is the station's remote channel), of its channel and station.

    A booth device exists only once its station's commission registered it; the remote channel device
    ``<station>-remote`` is created by the server at the station's first remote ballot. Refusals are
    ``AccessDenied`` naming the device, so nothing is stored.
    """
    if device is None:
        if channel == "remote" and r.device_id == remote_device_id(r.station_id):
            return
        raise AccessDenied(
            f"device {r.device_id}: not registered at station {r.station_id!r} (a station's commission "
            "registers its booth devices before they cast)"
        )
    if device.station_id != r.station_id:
        raise AccessDenied(
            f"device {r.device_id} belongs to station {device.station_id!r}, not {r.station_id!r}"
        )
    if device.channel != channel:
        kind = "a remote" if channel == "remote" else "an in-person"
        raise AccessDenied(
            f"device {r.device_id}: a {device.channel} device; {kind} credential may not cast on it"
        )
    if device.closing_code is not None:
        raise ElectionStateError(f"device {r.device_id}: closed, accepts no more ballots")


_ELECTION_COLUMNS = (Election.id, Election.phase, Election.remote_revoting, Election.base_hash)


@dataclass
class _Loaded:
    """The rows one election's share of a batch needs, loaded once and updated as ballots are stored."""

    election: Election
    board: BulletinBoard
    ballots: dict[str, Ballot]
    tokens: dict[str, Token]
    devices: dict[str, Device]
    cast_by_voter: dict[str, list[Ballot]]
    ids: dict[str, Ballot] = field(default_factory=dict)  # ballots stored under the batch's ballot ids
    entries: dict[str, BoardEntry] = field(default_factory=dict)  # the batch's ballot entries, by code


class CastWriter:
    """The group writer for cast ballots (``GroupCommitter.submit_group``)."""

    def __init__(self, state: AppState) -> None:
        """Bind to the application (board signer and settings)."""
        self.state = state
        self._windows: dict[str, VotingWindows] = {}  # election id -> its stations' voting hours

    def _voting_time(self, loaded: _Loaded, r: CastRequest) -> str:
        """The board time the ballot will carry; ``ElectionStateError`` outside its station's hours.

        The verifier refuses a cast ballot whose board time lies outside its station's voting hours
        (``docs/record-format.md`` §11), so the server refuses to publish one.
        """
        e = loaded.election
        windows = self._windows.get(e.id)
        if windows is None:
            windows = self._windows[e.id] = VotingWindows(Manifest.from_json_obj(e.manifest))
        at = loaded.board.next_time(loaded.board.store.head())
        if r.station_id in windows and not windows.contains(r.station_id, at):
            raise ElectionStateError(
                f"station {r.station_id}: voting is open {windows.describe(r.station_id)}, not at {at}"
            )
        return at

    def __call__(self, session: Session, requests: list[CastRequest]) -> list[Any]:
        """Store what passes its checks; one outcome (``Written`` or the refusing exception) per request."""
        out: list[Any] = [None] * len(requests)
        by_election: dict[str, list[int]] = {}
        for i, r in enumerate(requests):
            by_election.setdefault(r.election_id, []).append(i)
        for election_id, idx in by_election.items():
            reqs = [requests[i] for i in idx]
            try:
                loaded = self._load(session, election_id, reqs)
            except (SaylauError, LookupError) as exc:
                for i in idx:
                    out[i] = exc
                continue
            for i, r in zip(idx, reqs, strict=True):
                try:
                    out[i] = self._one(session, loaded, r)
                except (SaylauError, ValueError) as exc:
                    out[i] = exc
        return out

    def _load(self, session: Session, election_id: str, reqs: list[CastRequest]) -> _Loaded:
        board = self.state.board(session, election_id)
        board.store.head()  # lock the board: serialises every writer of this election
        # only the columns the checks read: the manifest (national: 10,101 stations), the tally and the
        # results are not parsed again at every commit (the stations' hours are cached in _windows)
        election = session.get(Election, election_id, options=[load_only(*_ELECTION_COLUMNS)])
        if election is None:
            raise NotFound(f"election {election_id!r} does not exist")
        need_phase(election, "open")
        codes = {r.checked.code for r in reqs}
        wanted_ids = {r.checked.ballot_id for r in reqs}
        ballots: dict[str, Ballot] = {}
        ids: dict[str, Ballot] = {}
        for b in session.scalars(  # stored under a code or an id of the batch: one query for both
            select(Ballot).where(
                Ballot.election_id == election_id, or_(Ballot.code.in_(codes), Ballot.id.in_(wanted_ids))
            )
        ):
            if b.code in codes:
                ballots[b.code] = b
            if b.id in wanted_ids:
                ids[b.id] = b
        hashes = {r.caller.token_hash for r in reqs}
        tokens = {
            t.token_hash: t
            for t in session.scalars(select(Token).where(Token.token_hash.in_(hashes)).with_for_update())
        }
        device_ids = {r.device_id for r in reqs}
        devices = {
            d.id: d
            for d in session.scalars(
                select(Device)
                .where(Device.election_id == election_id, Device.id.in_(device_ids))
                .with_for_update()
            )
        }
        revoters = {
            r.caller.voter_id
            for r in reqs
            if r.caller.channel == "remote"
            and r.caller.token_hash in tokens
            and tokens[r.caller.token_hash].used
        }
        cast_by_voter: dict[str, list[Ballot]] = {}
        if revoters:
            for b in session.scalars(
                select(Ballot).where(
                    Ballot.election_id == election_id,
                    Ballot.remote,  # the partial index ix_ballots_voter holds remote ballots only
                    Ballot.voter_id.in_(revoters),
                    Ballot.state == "cast",
                )
            ):
                cast_by_voter.setdefault(str(b.voter_id), []).append(b)
        return _Loaded(election, board, ballots, tokens, devices, cast_by_voter, ids)

    def _entry(self, session: Session, loaded: _Loaded, row: Ballot) -> BoardEntry:
        """The board entry of a stored ballot (written by this batch, or read at its position)."""
        found = loaded.entries.get(row.code)
        if found is None:
            entry_row = session.get(BoardEntryRow, (row.election_id, row.board_position))
            if entry_row is None:
                raise ElectionStateError(f"ballot with tracking code {row.code}: its board entry is missing")
            found = read_entries(session, row.election_id, [entry_row])[0]
        return found

    def _one(self, session: Session, loaded: _Loaded, r: CastRequest) -> Written:
        """Check one ballot against the loaded rows, then store it (nothing changes if a check fails)."""
        if r.idempotency is not None:
            stored = lookup(session, *r.idempotency)
            if stored is not None:
                return stored.status_code, stored.body, {"Idempotent-Replay": "true"}
        status, body = self._cast(session, loaded, r)
        if r.idempotency is not None:
            remember(session, *r.idempotency, status, body)
        return status, body, {}

    def _cast(self, session: Session, loaded: _Loaded, r: CastRequest) -> tuple[int, dict[str, Any]]:
        ck, caller, e = r.checked, r.caller, loaded.election
        dup = loaded.ballots.get(ck.code)
        if dup is not None:
            stored = self._entry(session, loaded, dup)
            doc = ballot_document(stored.kind, stored.payload)
            if doc is None or hashlib.sha256(canonical_json(doc)).hexdigest() != ck.content_hash:
                raise ElectionStateError(
                    f"ballot with tracking code {ck.code}: a different ballot already has this code"
                )
            if dup.voter_id != caller.voter_id:
                raise ElectionStateError(f"ballot with tracking code {ck.code}: cast by another voter")
            device_id = str(stored.payload.get("device_id"))
            return 200, receipt(dup, device_id, stored.entry_hash, duplicate=True)
        taken = loaded.ids.get(ck.ballot_id)
        if taken is not None:  # ids are the client's choice: a reused one must not reach the primary key
            raise ElectionStateError(
                f"ballot id {ck.ballot_id!r}: already used by another ballot (tracking code {taken.code})"
            )
        voter = str(caller.voter_id)
        earlier: list[Ballot] = []
        token = loaded.tokens.get(caller.token_hash)
        if r.kind == "cast":
            if token is None:
                raise AccessDenied(f"voter {caller.voter_id}: credential withdrawn")
            if caller.channel == "remote":
                if not e.remote_revoting and token.used:
                    raise ElectionStateError(f"voter {voter}: this election does not allow revoting")
                earlier = loaded.cast_by_voter.get(voter, []) if token.used else []
            elif token.used:
                raise AccessDenied(f"voter {voter}: this in-person credential has already cast its ballot")
        device = loaded.devices.get(r.device_id)
        channel = channel_of(caller)
        _check_device(device, r, channel)
        last_code = (
            DeviceChain(r.device_id, bytes.fromhex(e.base_hash)).opening_code.hex()
            if device is None
            else device.last_code
        )
        position = 0 if device is None else device.count
        if ck.previous_code != last_code:
            raise ElectionStateError(
                f"ballot {ck.ballot_id}: previous_code does not chain to device {r.device_id}'s last code "
                f"{last_code} (expected sequence {position}; submit a device's ballots in order)"
            )
        check_position(ck.ballot_id, ck.sequence, position, r.device_id)  # the verifier's check
        if loaded.board.is_closed():
            raise ElectionStateError(f"board {e.id}: closed, accepts no more ballots")
        at = self._voting_time(loaded, r) if r.kind == "cast" else None
        # every check passed: change the rows
        if device is None:  # the station's remote channel device, created at its first ballot
            device = Device(
                election_id=e.id,
                id=r.device_id,
                station_id=r.station_id,
                last_code=last_code,
                count=0,
                channel="remote",
            )
            session.add(device)
            loaded.devices[r.device_id] = device
        sequence = device.count
        device.last_code = ck.code
        device.count = sequence + 1
        if r.kind == "challenged":
            return self._store(session, loaded, r, "challenge")
        assert token is not None  # checked above for a cast
        token.used = True
        superseded: list[str] = []
        for old in earlier:
            old.state = "superseded"  # by ck.ballot_id: the board's superseded entry names it
            superseded.append(old.code)
            loaded.board.append(
                "superseded", superseded_payload(old.id, old.code, ck.ballot_id), code=old.code, time=at
            )
        status, out = self._store(session, loaded, r, "ballot", at)
        loaded.cast_by_voter[voter] = [loaded.ballots[ck.code]]
        return status, {**out, "superseded": superseded}

    def _store(
        self,
        session: Session,
        loaded: _Loaded,
        r: CastRequest,
        board_kind: str,
        at: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Publish the ballot on the board (at board time ``at``, if given) and add its row."""
        ck = r.checked
        entry = loaded.board.append(
            board_kind, r.payload, code=ck.code, known_payload_hash=ck.board_payload_hash, time=at
        )
        row = Ballot(  # the ballot, its device and station are its board entry's payload
            election_id=loaded.election.id,
            id=ck.ballot_id,
            voter_id=r.caller.voter_id,
            code=ck.code,
            state=r.kind,
            board_position=entry.position,  # its sequence is the number its id ends with (check_position)
            remote=channel_of(r.caller) == "remote",
        )
        session.add(row)
        loaded.ballots[ck.code] = row
        loaded.ids[ck.ballot_id] = row
        loaded.entries[ck.code] = entry
        return 201, receipt(row, r.device_id, entry.entry_hash, duplicate=False)
