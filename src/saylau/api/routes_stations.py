"""The voter roll and pollbook, turnout snapshots, station protocol keys and signed result protocols.

Roll import, absentee transfers, check-in and remote registration go through
``saylau.election.voter_roll`` and ``saylau.election.pollbook`` on the database-backed roll and
"has voted" set of ``saylau.store.pollbook_store``, so the server applies the library's rules.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Body, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.api.auth import StateDep, require
from saylau.api.common import (
    bound_election,
    bound_station,
    checked_voter_id,
    get_election,
    idempotent,
    need_phase,
)
from saylau.api.errors import NotFound
from saylau.api.roll_import import (
    RollRejected,
    check_roll,
    problem_rows,
    publish_roll,
    queue_roll_import,
    refuse_while_importing,
    rejected_response,
)
from saylau.api.schemas import JobOut, refusals
from saylau.api.schemas_voting import (
    CredentialOut,
    ProtocolOut,
    ProtocolView,
    RemoteCredentialOut,
    RollCountsOut,
    RollImportOut,
    StationKeyOut,
    StationView,
    TransferOut,
    TurnoutOut,
    TurnoutStoredOut,
)
from saylau.api.state import AppState
from saylau.election.pollbook import IssuedCredential, Pollbook
from saylau.election.protocols import ProtocolBook, ProtocolFigures, SignedProtocol, StationFacts, reconcile
from saylau.election.voter_ids import MAX_LENGTH
from saylau.errors import AccessDenied, ElectionStateError, ProtocolRejected
from saylau.store.accounts import TokenInfo, hash_token, token_info
from saylau.store.models import Election, ProtocolRow, Station, Token, TurnoutRow, utcnow
from saylau.store.pollbook_store import (
    SqlPollbookStore,
    SqlVoterRoll,
    refresh_station_counts,
    save_roll,
    station_facts,
)
from saylau.voting.publish import turnout_payload

__all__ = ["csv_text", "router", "station_close", "voter_pseudonym"]

router = APIRouter()


class TurnoutIn(BaseModel):
    """Voters who received a ballot at this station by ``at`` (ISO 8601 date-time with a UTC offset)."""

    model_config = ConfigDict(extra="forbid")
    at: str = Field(min_length=10, max_length=40)
    voted: int = Field(ge=0, le=2**31 - 1)  # an INTEGER column

    @field_validator("at")
    @classmethod
    def _aware(cls, value: str) -> str:
        """The verifier refuses a turnout entry whose time is not a date-time with an offset."""
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 date-time") from None
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("the time needs a UTC offset (e.g. 2022-11-20T12:00:00+06:00)")
        return value


# the voter identifier's field; ``iin``, its name before issue 11, is still accepted
VoterIdField = Annotated[
    str, Field(min_length=1, max_length=MAX_LENGTH, validation_alias=AliasChoices("voter_id", "iin"))
]


class CheckInIn(BaseModel):
    """A voter presenting at a station (or asking for remote voting): their voter identifier.

    Checked by the election's validator (``saylau.election.voter_ids``: the IIN's check digit for
    kz-2022) before the pollbook looks for the voter.
    """

    model_config = ConfigDict(extra="forbid")
    voter_id: VoterIdField


class TransferIn(BaseModel):
    """An absentee certificate: the voter votes at ``to_station`` instead of their listed station."""

    model_config = ConfigDict(extra="forbid")
    voter_id: VoterIdField
    to_station: str = Field(min_length=1, max_length=64)
    issued_on: date | None = None


class StationKeyIn(BaseModel):
    """The station commission's Ed25519 public key (raw 32 bytes, hex), registered by the CEC."""

    model_config = ConfigDict(extra="forbid")
    public_key: str = Field(pattern=r"^[0-9a-f]{64}$")


@router.post(
    "/elections/{election_id}/stations/{station_id}/turnout", status_code=201, tags=["stations"],
    response_model=TurnoutStoredOut,
    responses=refusals("submit_turnout", 404, 409),
)
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
        payload = turnout_payload(station_id, body.at, body.voted)
        entry = state.publish(session, election_id, "turnout", payload)
        return 201, {"station_id": station_id, "board_position": entry.position}

    path = f"/elections/{election_id}/stations/{station_id}/turnout"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write)


@router.get(
    "/elections/{election_id}/turnout", tags=["stations"],
    response_model=list[TurnoutOut],
    responses=refusals("list_turnout", 404),
)
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


@router.get(
    "/elections/{election_id}/stations", tags=["stations"],
    response_model=list[StationView],
    responses=refusals("list_stations", 404),
)
def list_stations(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("list_stations"))]
) -> list[dict[str, Any]]:
    """Every station of the election, by id, with its commission's protocol key once registered."""
    with state.reading() as session:
        get_election(session, election_id)
        rows = session.scalars(select(Station).where(Station.election_id == election_id).order_by(Station.id))
        return [{"station_id": s.id, "region": s.region, "name": s.name, "public_key": s.public_key}
                for s in rows]


@router.post(
    "/elections/{election_id}/stations/{station_id}/key", tags=["stations"],
    response_model=StationKeyOut,
    responses=refusals("register_station_key", 404, 409),
)
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


def _decrypted(e: Election, station_id: str) -> dict[str, int] | None:
    """The station's decrypted counts per option (summed over contests), once the tally is decrypted."""
    if e.results is None:
        return None
    counts = e.results.get("stations", {}).get(station_id, {}).get("counts", {})
    out: dict[str, int] = {}
    for selections in counts.values():
        for option, n in selections.items():
            out[option] = out.get(option, 0) + int(n)
    return out


def _reconciliation(figures: ProtocolFigures, facts: StationFacts | None) -> dict[str, Any]:
    """How a protocol compares with the roll, the pollbook and the decrypted tally (published with it)."""
    if facts is None:
        return {"status": "impossible", "against": [], "differences": [],
                "detail": f"station {figures.station!r} is not a station of the election"}
    against = ["roll", "pollbook"] + ([] if facts.decrypted is None else ["decrypted tally"])
    try:
        differences = reconcile(figures, facts)
    except ProtocolRejected as exc:  # accepted before this check existed, or the records changed since
        return {"status": "impossible", "against": against, "differences": [], "detail": str(exc)}
    return {"status": "differs" if differences else "matches", "against": against,
            "differences": [d.to_dict() for d in differences]}


@router.post(
    "/elections/{election_id}/stations/{station_id}/protocols", status_code=201, tags=["stations"],
    response_model=ProtocolOut,
    responses=refusals("submit_protocol", 404, 409),
)
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
    naming the hash of the one it replaces, with a reason. Then the protocol is reconciled with the
    station's records (``saylau.election.protocols.reconcile``): a ``registered`` that is not the roll's
    count, or more ballots issued than voters checked in at the station, is refused (422 naming the
    relation and both numbers); what can be true but differs (fewer ballots issued than check-ins) is
    accepted and listed in ``reconciliation``, here and in ``GET .../protocols``.
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
        facts = replace(station_facts(session, election_id, [station_id])[station_id],
                        decrypted=_decrypted(e, station_id))
        reconcile(body.figures, facts)  # raises ProtocolRejected naming the relation and the numbers
        reconciliation = _reconciliation(body.figures, facts)
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
            "reconciliation": reconciliation,
        }

    path = f"/elections/{election_id}/stations/{station_id}/protocols"
    return idempotent(state, caller, idempotency_key, path, doc, write)


@router.get(
    "/elections/{election_id}/protocols", tags=["stations"],
    response_model=list[ProtocolView],
    response_model_exclude_unset=True,  # `detail` only where a reconciliation was impossible
    responses=refusals("list_protocols", 404),
)
def list_protocols(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("list_protocols"))]
) -> list[dict[str, Any]]:
    """Every protocol version, each with its ``reconciliation`` against the station's records.

    ``reconciliation``: ``status`` ``matches`` / ``differs`` / ``impossible``, ``against`` (what it was
    compared with: ``roll``, ``pollbook`` and, once decrypted, ``decrypted tally``) and ``differences``
    (relation, detail, the protocol's and the server's numbers). Computed when listed, so a protocol
    entered before the decryption is compared with the decrypted tally as soon as there is one.
    """
    with state.reading() as session:
        e = get_election(session, election_id)
        rows = session.scalars(
            select(ProtocolRow)
            .where(ProtocolRow.election_id == election_id)
            .order_by(ProtocolRow.station_id, ProtocolRow.version)
        ).all()
        facts = station_facts(session, election_id, {r.station_id for r in rows})
        out = []
        for r in rows:
            figures = ProtocolFigures.model_validate(r.body["figures"])
            known = facts.get(r.station_id)
            if known is not None:
                known = replace(known, decrypted=_decrypted(e, r.station_id))
            out.append({"station_id": r.station_id, "version": r.version, "protocol": r.body,
                        "reconciliation": _reconciliation(figures, known)})
        return out


def csv_text(raw: bytes, what: str) -> str:
    """A request body as UTF-8 text (a byte-order mark is dropped); ``ValueError`` names the body."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"field 'body': {what} is not UTF-8 ({exc.reason} at byte {exc.start})") from None


@router.post(
    "/elections/{election_id}/roll",
    status_code=201,
    tags=["pollbook"],
    response_model=RollImportOut,
    responses={**refusals("import_roll", 404, 409), 202: {"model": JobOut}},
)
def import_voter_roll(
    election_id: str,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("import_roll"))],
    body: Annotated[bytes, Body(media_type="text/csv")],
    accept_partial: bool = False,
    background: bool = False,
) -> JSONResponse:
    """Import a voter-roll CSV through ``saylau.election.voter_roll.import_roll`` (setup phase only).

    Every bad row is reported (row, field, reason) in a 422 and nothing is stored, unless
    ``accept_partial=true``: then the good rows are stored and the bad ones listed. A voter already on
    the stored roll (an earlier import) is a bad row. Public counts are published on the board.

    With ``background=true`` (large files) the file is stored and imported by a job: 202 with the job
    (``GET /jobs/{id}``), whose result is the same summary, or which fails naming the bad rows
    (``saylau.api.roll_import``). While that job is unfinished, other imports are refused (409).
    """
    text = csv_text(body, "the voter-roll CSV")
    if background:
        job = queue_roll_import(state, caller, election_id, text, accept_partial)
        return JSONResponse(job, status_code=202)
    try:
        return _import(state, election_id, text, accept_partial)
    except RollRejected as exc:
        return rejected_response(exc)


def _import(state: AppState, election_id: str, text: str, accept_partial: bool) -> JSONResponse:
    with state.transaction() as session:
        need_phase(get_election(session, election_id, lock=True), "setup")
        refuse_while_importing(session, election_id, "voter-roll import")
        check = check_roll(session, election_id, text)
        if check.problems and not accept_partial:
            raise check.refusal()
        n = save_roll(session, election_id, check.to_store())
        summary = publish_roll(state, session, election_id, n, check.rows_read, check.duplicates_removed,
                               problem_rows(check.problems))
        return JSONResponse(summary, status_code=201)


@router.get(
    "/elections/{election_id}/roll", tags=["pollbook"],
    response_model=RollCountsOut,
    responses=refusals("roll_counts", 404),
)
def roll_counts(
    election_id: str, state: StateDep, _: Annotated[TokenInfo, Depends(require("roll_counts"))]
) -> dict[str, Any]:
    """Published roll figures: voters per station and region, transfers in and out; no person."""
    with state.reading() as session:
        get_election(session, election_id)
        return SqlVoterRoll(session, election_id).public_counts()


@router.post(
    "/elections/{election_id}/transfers", status_code=201, tags=["pollbook"],
    response_model=TransferOut,
    responses=refusals("issue_transfer", 404, 409),
)
def issue_transfer(
    election_id: str,
    body: TransferIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("issue_transfer"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Issue an absentee certificate (``VoterRoll.issue_absentee_certificate``'s rules), before close.

    A station commission issues certificates only to voters on its own list.
    """
    bound_election(caller, election_id)

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id)
        need_phase(e, "setup", "open")
        voter_id = checked_voter_id(e, body.voter_id)
        roll = SqlVoterRoll(session, election_id)
        if caller.role == "station" and roll.station_of(voter_id) != caller.station_id:
            raise AccessDenied(f"station {caller.station_id!r} may transfer only its own voters")
        cert = roll.issue_absentee_certificate(voter_id, body.to_station, body.issued_on or utcnow().date())
        refresh_station_counts(session, election_id)
        entry = state.publish(session, election_id, "note", {"absentee_certificate": {
            "from_station": cert.from_station, "to_station": cert.to_station,
            "issued_on": cert.issued_on.isoformat()}})
        return 201, {"certificate_id": cert.certificate_id, "from_station": cert.from_station,
                     "to_station": cert.to_station, "issued_on": cert.issued_on.isoformat(),
                     "board_position": entry.position}

    path = f"/elections/{election_id}/transfers"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(mode="json"), write)


def _pollbook(session: Session, e: Election) -> Pollbook:
    # check-in reads single voters only: no need to load the station map (10,101 rows nationally)
    roll = SqlVoterRoll(session, e.id, regions={})
    return Pollbook(roll, SqlPollbookStore(session, e.id), date.fromisoformat(e.manifest["election_date"]),
                    e.voting_age)


def voter_pseudonym(key: bytes, election_id: str, voter_id: str) -> str:
    """The id ballots and voter tokens carry instead of the voter identifier (an IIN encodes a birth date).

    Stable per voter and election (a remote revote finds the earlier ballots by it), and keyed: an
    HMAC-SHA-256 under the server's pseudonym key (``AppState.pseudonym_key``, a file in the data
    directory) of the length-prefixed election id and voter identifier, so that a leaked database's
    pseudonyms cannot be recomputed from the few million possible identifiers (an unkeyed hash could).
    """
    if len(key) < 16:
        raise ValueError("voter pseudonym: the key must have at least 16 bytes")
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in (b"saylau/voter-pseudonym/v2", election_id.encode(), voter_id.encode()):
        mac.update(len(part).to_bytes(4, "big"))
        mac.update(part)
    return "voter-" + mac.hexdigest()[:24]


def station_close(manifest: dict[str, Any], station_id: str) -> datetime:
    """When the station's polls close (its local closing time on election day).

    The manifest's closing wall-clock time, in the station's time zone, as the exit-poll embargo reads
    it: 20:00 local in every zone for kz-2022.
    """
    closes = datetime.fromisoformat(manifest["voting_closes"])
    zone = next(
        (
            s["time_zone"]
            for r in manifest["regions"]
            for d in r["districts"]
            for s in d["stations"]
            if s["station_id"] == station_id
        ),
        None,
    )
    if zone is None:  # not a station of the manifest (the roll's stations are): the manifest's own close
        return closes
    day = date.fromisoformat(manifest["election_date"])
    return datetime.combine(day, time(closes.hour, closes.minute, closes.second), ZoneInfo(zone))


def _expiry(state: AppState, e: Election, issued: IssuedCredential, now: datetime) -> datetime:
    """A credential's expiry: in person ``voter_token_ttl`` (2 h); remote, the close of the voter's station.

    A remote voter revotes until the polls close (the last vote counts), so the credential lasts until
    their station's closing time, however early it was issued. Only when that time has already passed by
    the server's clock (a past election replayed, as tests and demos do) does it get ``voter_token_ttl``.
    Casting also needs the election open, so nothing is cast after the CEC closes it in any case.
    """
    if issued.check_in.channel == "remote":
        close = station_close(e.manifest, issued.check_in.station_id)
        if close > now:
            return close
    return now + state.settings.voter_token_ttl


def _voter_token(session: Session, state: AppState, e: Election, issued: IssuedCredential) -> None:
    """Make the pollbook's one-time credential the voter's bearer token for casting (hash stored only).

    The grant also goes into the server's token cache, so the voter's cast needs no database read to
    authenticate. Should this transaction roll back, the cached grant names a token nobody was told
    (the credential is only ever sent in the reply to a committed check-in), and the cast writer, which
    reads the token row under lock, would refuse it anyway.
    """
    rec = issued.check_in
    row = Token(token_hash=hash_token(issued.credential), user_id=None, role="voter",
                election_id=e.id, voter_id=voter_pseudonym(state.pseudonym_key, e.id, rec.voter_id),
                station_id=rec.station_id, channel=rec.channel,
                expires_at=_expiry(state, e, issued, utcnow()))
    session.add(row)
    state.tokens.put(token_info(row, None))


CREDENTIAL_FIELDS = ("credential", "revote_tag")
"""Reply fields shown once and never stored with an idempotent reply (DESIGN: no credential is stored;
a stored revote tag next to a request would link the voter to their public ballots)."""


@router.post(
    "/elections/{election_id}/stations/{station_id}/checkin", status_code=201, tags=["pollbook"],
    response_model=CredentialOut,
    responses=refusals("check_in", 404, 409),
)
def check_in(
    election_id: str,
    station_id: str,
    body: CheckInIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("check_in"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Check a voter in by ``Pollbook.check_in``; returns their one-time ballot credential.

    Refused with 409 if the voter is not on this station's list (nor transferred to it), under the
    voting age on election day, or already checked in or registered remotely anywhere (the message
    names that station and shows only the identifier's last four characters).
    """
    bound_station(caller, election_id, station_id)

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id)
        need_phase(e, "open")
        issued = _pollbook(session, e).check_in(checked_voter_id(e, body.voter_id), station_id, utcnow())
        _voter_token(session, state, e, issued)
        return 201, {"credential": issued.credential, "channel": "station", "station_id": station_id}

    path = f"/elections/{election_id}/stations/{station_id}/checkin"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write, CREDENTIAL_FIELDS)


@router.post(
    "/elections/{election_id}/remote-credentials", status_code=201, tags=["pollbook"],
    response_model=RemoteCredentialOut,
    responses=refusals("remote_credential", 404, 409),
)
def remote_credential(
    election_id: str,
    body: CheckInIn,
    state: StateDep,
    caller: Annotated[TokenInfo, Depends(require("remote_credential"))],
    idempotency_key: str | None = Header(default=None),
) -> JSONResponse:
    """Register a voter for remote voting by ``Pollbook.register_remote`` and issue the credential.

    The voter enters the national "has voted" set at their station, so they cannot also check in.
    ``revote_tag`` (hex) is the voter's revote tag, derived from their pseudonym (never the voter identifier):
    the voter's device puts it into every ballot it encrypts (``encrypt_ballot(..., revote_tag=)``).

    The credential lasts until the voter's station closes (``_expiry``), so the voter can revote until
    then and the last ballot counts: a ballot cast under pressure proves nothing about the counted one.
    It does not hide that a revote happened: whoever noted the earlier tracking code sees it superseded
    on the public board. A second credential for the same voter is refused (409).
    """

    def write(session: Session) -> tuple[int, dict[str, Any]]:
        e = get_election(session, election_id)
        need_phase(e, "setup", "open")
        issued = _pollbook(session, e).register_remote(checked_voter_id(e, body.voter_id), utcnow())
        _voter_token(session, state, e, issued)
        pseudonym = voter_pseudonym(state.pseudonym_key, election_id, issued.check_in.voter_id)
        tag = state.revote_tag(e.base_hash, pseudonym)
        return 201, {"credential": issued.credential, "channel": "remote",
                     "station_id": issued.check_in.station_id, "revote_tag": tag}

    path = f"/elections/{election_id}/remote-credentials"
    return idempotent(state, caller, idempotency_key, path, body.model_dump(), write, CREDENTIAL_FIELDS)
