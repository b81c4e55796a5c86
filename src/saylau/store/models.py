"""SQLAlchemy 2 table models of the saylau server.

The schema is owned by the Alembic migrations in ``migrations/``; these models mirror them (a test checks
that ``alembic upgrade head`` yields exactly these tables). Unique constraints carry invariants the
application must not be trusted with alone: one check-in per voter and election (nobody votes twice, even
under concurrent requests), one board entry per position, one ballot per tracking code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import type_coerce
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ApplicationRow",
    "Ballot",
    "BallotContextRow",
    "Base",
    "Blob",
    "BoardCheckpointRow",
    "BoardEntryRow",
    "BoardHead",
    "CheckIn",
    "DecisionRow",
    "Device",
    "Election",
    "ExitPollDesign",
    "ExitPollInterview",
    "GuardianRow",
    "GuardianShare",
    "HexBytes",
    "IdempotencyKey",
    "Job",
    "PartialDecryptionRow",
    "ProtocolRow",
    "RollUpload",
    "SignatureCheckRow",
    "Station",
    "Token",
    "TurnoutRow",
    "User",
    "UtcDateTime",
    "Voter",
    "id_sequence",
    "is_hex",
    "utcnow",
]


def utcnow() -> datetime:
    """Timezone-aware current UTC time."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC before storing."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to values SQLite returns naive."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _ReadAsBlob:
    """Read a BLOB column as bytes whatever SQLite holds in it (``CAST(… AS BLOB)``).

    SQLite lets a hand-written ``UPDATE`` put text in a BLOB column; cast, it reads back as bytes, so
    ``saylau check`` names the row instead of failing to decode the text.
    """

    def column_expression(self, column: Any) -> Any:
        """On SQLite, ``CAST(column AS BLOB)``."""
        return _as_blob(column)


class Blob(_ReadAsBlob, TypeDecorator[bytes]):
    """Bytes (BLOB / BYTEA)."""

    impl = LargeBinary
    cache_ok = True


class _AsBlob(FunctionElement[bytes]):
    """``CAST(x AS BLOB)`` on SQLite, ``x`` elsewhere (compiled per dialect below)."""

    inherit_cache = True
    type = LargeBinary()


@compiles(_AsBlob)
def _as_blob_default(element: _AsBlob, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(next(iter(element.clauses)), **kw))


@compiles(_AsBlob, "sqlite")
def _as_blob_sqlite(element: _AsBlob, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(next(iter(element.clauses)), **kw)} AS BLOB)"


def _as_blob(column: Any) -> Any:
    return type_coerce(_AsBlob(column), column.type)  # read back through the column's own type


class HexBytes(_ReadAsBlob, TypeDecorator[str]):
    """A hash or code stored as its ``length`` bytes, read and written as lowercase hex (the API's form).

    Only canonical hex (lowercase, ``2 * length`` digits) is stored; anything else is a ``ValueError``
    before it reaches the database, so the hex read back is always the hex written (bytes of another
    length, written by hand, read back as their hex, which no check accepts).
    """

    impl = LargeBinary
    cache_ok = True

    def __init__(self, length: int) -> None:
        """Bytes of ``length``."""
        super().__init__()
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        """Hex to bytes."""
        if value is None:
            return None
        if not is_hex(value, self.length):
            raise ValueError(f"expected {2 * self.length} lowercase hex digits, got {str(value)[:80]!r}")
        return bytes.fromhex(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        """Bytes to hex."""
        return None if value is None else bytes(value).hex()


_HEX = frozenset("0123456789abcdef")


def is_hex(value: Any, length: int) -> bool:
    """Whether ``value`` is the canonical hex of ``length`` bytes (a ``HexBytes(length)`` value)."""
    return isinstance(value, str) and len(value) == 2 * length and _HEX.issuperset(value)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable names for migrations)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, datetime: UtcDateTime}  # noqa: RUF012


class Election(Base):
    """One election: its manifest, phase and cryptographic parameters once the ceremony is done."""

    __tablename__ = "elections"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(20), default="setup")
    manifest: Mapped[dict[str, Any]]
    guardians: Mapped[int] = mapped_column(Integer)
    quorum: Mapped[int] = mapped_column(Integer)
    base_hash: Mapped[str] = mapped_column(String(64))
    joint_key: Mapped[dict[str, Any] | None]
    tally: Mapped[dict[str, Any] | None]
    results: Mapped[dict[str, Any] | None]
    remote_revoting: Mapped[bool] = mapped_column(Boolean, default=True)
    voting_age: Mapped[int] = mapped_column(Integer, default=18, server_default="18")
    candidacy_rules: Mapped[dict[str, Any] | None]
    electoral_rules: Mapped[dict[str, Any] | None]
    registered_at_nomination: Mapped[int | None] = mapped_column(Integer)
    # the voter identifier (saylau.election.voter_ids.VoterIdSpec); NULL: the generic one
    voter_id: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class Station(Base):
    """A polling station of an election (scenario data)."""

    __tablename__ = "stations"
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    registered: Mapped[int] = mapped_column(Integer, default=0)
    public_key: Mapped[str | None] = mapped_column(String(64))


class ApplicationRow(Base):
    """A candidate's application for registration."""

    __tablename__ = "applications"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), index=True)
    applicant: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class DecisionRow(Base):
    """One version of a registration decision (``saylau.election.registration.Decision.to_dict``).

    Versions of one application are numbered 1, 2, ... (an appeal adds one); the unique key keeps two
    concurrent appeals from forking the hash chain.
    """

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("application_id", "version", name="uq_decisions_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]]
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignatureCheckRow(Base):
    """The latest check of an applicant's signature sheets against the roll (a publishable report)."""

    __tablename__ = "signature_checks"
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    valid_per_region: Mapped[dict[str, Any]]
    report: Mapped[dict[str, Any]]
    checked_by: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class Voter(Base):
    """A voter-roll row keyed by the voter identifier (``saylau.election.voter_roll.Voter``); never published.

    ``station_id`` is the station whose list the voter was imported to; an absentee certificate moves
    them to ``transfer_to`` (``certificate_id``, ``transfer_issued_on``).
    """

    __tablename__ = "voters"
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64), index=True)
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    transfer_to: Mapped[str | None] = mapped_column(String(64))
    certificate_id: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(200))
    patronymic: Mapped[str | None] = mapped_column(String(200))
    transfer_issued_on: Mapped[date | None] = mapped_column(Date)


class CheckIn(Base):
    """The pollbook: at most one check-in per voter and election, enforced by the database."""

    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("election_id", "voter_id", name="uq_checkins_voter"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"))
    voter_id: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    credential_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    redeemed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Ballot(Base):
    """A cast or challenged encrypted ballot as received (proofs verified before insertion).

    The row indexes the ballot; the ballot itself, with its device and station, is its board entry's
    payload (``store/ballot_documents.py``). Columns are in the order that packs a PostgreSQL row
    tightest (fixed-width first; no NULL in a usual row, so no null bitmap): migration 0010. The
    ballot's sequence on its device is the number its id ends with (``check_position``).
    """

    __tablename__ = "ballots"
    __table_args__ = (
        PrimaryKeyConstraint("election_id", "id", name="pk_ballots"),
        UniqueConstraint("election_id", "code", name="uq_ballots_code"),
        # a remote voter's cast ballots, found when they vote again; in-person ballots never are
        Index("ix_ballots_voter", "election_id", "voter_id", sqlite_where=text("remote = 1"),
              postgresql_where=text("remote")),
        # SQLite: the rows are the primary key's b-tree (no rowid and no second copy of the key)
        {"sqlite_with_rowid": False},
    )
    board_position: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: cast through the remote channel (so a later ballot of the voter may supersede it)
    remote: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"))
    id: Mapped[str] = mapped_column(String(100))
    voter_id: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(HexBytes(32))
    state: Mapped[str] = mapped_column(String(20))

    @property
    def sequence(self) -> int | None:
        """The ballot's position in its device's chain: the number its id ends with (``<device>-<n>``)."""
        return id_sequence(self.id)


def id_sequence(ballot_id: str) -> int | None:
    """The sequence a ballot id ``<device id>-<digits>`` names (the server admits no other id); or None."""
    _, sep, digits = ballot_id.rpartition("-")
    return int(digits) if sep and digits.isascii() and digits.isdigit() else None


class Device(Base):
    """A voting device's tracking-code chain as the server has accepted it (EG 2.0 §3.4.4)."""

    __tablename__ = "devices"
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    last_code: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    closing_code: Mapped[str | None] = mapped_column(String(64))
    # "booth": registered by its station's commission; "remote": the server's channel for remote voters
    channel: Mapped[str] = mapped_column(String(16), default="booth", server_default="booth")


class BoardHead(Base):
    """The head of one election's board; its row is locked while an entry is appended."""

    __tablename__ = "board_heads"
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=-1)
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class BoardEntryRow(Base):
    """One bulletin-board entry (see ``saylau.board.chain``), as stored; ``store/board_rows.py`` reads it.

    A ballot or challenge entry is its compact ``body`` (``store/entry_codec.py``, migration 0010),
    which carries the payload, usually the time (``time`` is then NULL) and whose ballot's tracking code
    is the entry's (``code`` is NULL; the entry is found by code through ``ballots.code``). Any other
    entry has its JSON ``payload``, ``time`` and ``code``. The previous hash is not stored: it is the
    entry hash of the entry before (the genesis hash at position 0).
    """

    __tablename__ = "board_entries"
    __table_args__ = (
        PrimaryKeyConstraint("election_id", "position", name="pk_board_entries"),
        # the entries with a code of their own (superseded, audit); a ballot's is found by ballots.code
        Index("ix_board_entries_code", "election_id", "code", sqlite_where=text("code IS NOT NULL"),
              postgresql_where=text("code IS NOT NULL")),
    )
    position: Mapped[int] = mapped_column(BigInteger)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"))
    kind: Mapped[str] = mapped_column(String(40))
    #: NULL when ``body`` carries it
    time: Mapped[str | None] = mapped_column(String(40))
    #: NULL for a compact ballot or challenge entry (its ballot's code) and for an entry without one
    code: Mapped[str | None] = mapped_column(String(128))
    #: the payload as JSON; NULL when ``body`` holds it
    payload_json: Mapped[dict[str, Any] | None] = mapped_column("payload", JSON(none_as_null=True))
    #: a ballot or challenge entry in compact form (version 2 or 1); NULL otherwise
    body: Mapped[bytes | None] = mapped_column(Blob)
    payload_hash: Mapped[str] = mapped_column(HexBytes(32))
    entry_hash: Mapped[str] = mapped_column(HexBytes(32))


class BallotContextRow(Base):
    """What the ballots of one device and style share (``entry_codec.Context``), named by its digest."""

    __tablename__ = "ballot_contexts"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012
    digest: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    context: Mapped[bytes] = mapped_column(Blob)


class BoardCheckpointRow(Base):
    """A signed board checkpoint."""

    __tablename__ = "board_checkpoints"
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    final: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    body: Mapped[dict[str, Any]]


class GuardianRow(Base):
    """A guardian's public record (commitments and proofs); the secret stays with the guardian."""

    __tablename__ = "guardians"
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    record: Mapped[dict[str, Any] | None]
    finished: Mapped[bool] = mapped_column(Boolean, default=False)


class GuardianShare(Base):
    """An encrypted share from one guardian addressed to another; only the recipient may fetch it."""

    __tablename__ = "guardian_shares"
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    sender: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[int] = mapped_column(Integer, primary_key=True)
    share: Mapped[dict[str, Any]]


class PartialDecryptionRow(Base):
    """A guardian's partial decryption of the tally, with its proofs."""

    __tablename__ = "partial_decryptions"
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[dict[str, Any]]


class ProtocolRow(Base):
    """A polling-station result protocol; corrections are new versions, never overwrites."""

    __tablename__ = "protocols"
    __table_args__ = (UniqueConstraint("election_id", "station_id", "version", name="uq_protocols_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"))
    station_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]]
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class TurnoutRow(Base):
    """A turnout snapshot of one station at one time."""

    __tablename__ = "turnout"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), index=True)
    station_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(40))
    voted: Mapped[int] = mapped_column(Integer)


class ExitPollInterview(Base):
    """One exit-poll interview uploaded by a pollster."""

    __tablename__ = "exit_poll_interviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), index=True)
    pollster: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(String(64))
    extra: Mapped[dict[str, Any]]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExitPollDesign(Base):
    """A pollster's sample: stations, strata and inclusion probabilities, fixed before interviews."""

    __tablename__ = "exit_poll_designs"
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    pollster: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[dict[str, Any]]


class User(Base):
    """A login: CEC administrator, station commission, guardian, pollster or observer."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    election_id: Mapped[str | None] = mapped_column(String(64))
    station_id: Mapped[str | None] = mapped_column(String(64))
    guardian_index: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Token(Base):
    """A bearer token, stored as its SHA-256 only; voters' credentials are tokens with role ``voter``."""

    __tablename__ = "tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(20))
    election_id: Mapped[str | None] = mapped_column(String(64))
    voter_id: Mapped[str | None] = mapped_column(String(64))
    station_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(20))
    expires_at: Mapped[datetime]
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class Job(Base):
    """A long operation run by the worker pool; its heartbeat shows it is alive."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    election_id: Mapped[str | None] = mapped_column(String(64), index=True)
    params: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]
    checkpoint: Mapped[dict[str, Any] | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class RollUpload(Base):
    """A voter-roll CSV queued for a background import (job ``import_roll``); personal data.

    Stored before the request is answered, so the job survives a restart; deleted in the transaction
    that completes the import, or when the file is refused. Never published, never in the record.
    """

    __tablename__ = "roll_uploads"
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyKey(Base):
    """The stored response to a request sent with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_keys"
    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
