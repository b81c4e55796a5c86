"""Users, argon2 password hashes and bearer tokens (stored only as SHA-256 digests)."""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saylau.errors import AccessDenied
from saylau.store.models import Election, Station, Token, User, utcnow
from saylau.store.passwords import check_password

__all__ = [
    "DEFAULT_HASHER",
    "ROLES",
    "TokenCache",
    "TokenInfo",
    "authenticate",
    "check_bindings",
    "create_user",
    "expire_token",
    "hash_token",
    "issue_token",
    "password_hasher",
    "resolve_token",
    "resolve_tokens",
    "token_info",
]

ROLES = ("cec", "station", "guardian", "pollster", "observer", "voter")
DEFAULT_HASHER = PasswordHasher()  # argon2id with argon2-cffi's (RFC 9106 low-memory) defaults


def password_hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    """An argon2id hasher with explicit cost; tests use a cheap one, production keeps the defaults."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


@dataclass(frozen=True)
class TokenInfo:
    """What a bearer token grants."""

    role: str
    user_id: int | None
    username: str | None
    election_id: str | None
    station_id: str | None
    guardian_index: int | None
    voter_id: str | None
    channel: str | None
    token_hash: str
    expires_at: datetime | None = None


def hash_token(token: str) -> str:
    """SHA-256 hex of a bearer token: the database never holds the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    election_id: str | None = None,
    station_id: str | None = None,
    guardian_index: int | None = None,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> User:
    """Add a login; a station commission must name its station, a guardian its index.

    Every binding must exist (``check_bindings``), so no login is created for a station, guardian index
    or election that is not there.
    """
    if role not in ROLES or role == "voter":
        raise ValueError(f"field 'role': {role!r} is not a login role (one of cec, station, guardian, ...)")
    check_bindings(session, role, election_id, station_id, guardian_index)
    check_password(password, username)
    user = User(
        username=username,
        password_hash=hasher.hash(password),
        role=role,
        election_id=election_id,
        station_id=station_id,
        guardian_index=guardian_index,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ValueError(f"field 'username': {username!r} already exists") from exc
    return user


def check_bindings(
    session: Session,
    role: str,
    election_id: str | None,
    station_id: str | None,
    guardian_index: int | None,
) -> None:
    """Refuse (``ValueError`` naming the field) a binding the role does not take or that does not exist.

    A station commission is bound to one station of one election, a guardian to one index ``1..n`` of one
    election; other roles take no station or index, and any election named must exist.
    """
    if role == "station" and not (election_id and station_id):
        raise ValueError("field 'station_id': a station commission is bound to one election and station")
    if role == "guardian" and (guardian_index is None or not election_id):
        raise ValueError("field 'guardian_index': a guardian is bound to one election and index")
    if role != "station" and station_id is not None:
        raise ValueError(f"field 'station_id': a {role} login is not bound to a station")
    if role != "guardian" and guardian_index is not None:
        raise ValueError(f"field 'guardian_index': a {role} login is not bound to a guardian index")
    if election_id is None:
        return
    election = session.get(Election, election_id)
    if election is None:
        raise ValueError(f"field 'election_id': election {election_id!r} does not exist")
    if station_id is not None and session.get(Station, (election_id, station_id)) is None:
        raise ValueError(
            f"field 'station_id': station {station_id!r} does not exist in election {election_id!r}"
        )
    if guardian_index is not None and not 1 <= guardian_index <= election.guardians:
        raise ValueError(
            f"field 'guardian_index': election {election_id!r} has guardians 1..{election.guardians}, "
            f"not {guardian_index}"
        )


def authenticate(
    session: Session, username: str, password: str, hasher: PasswordHasher = DEFAULT_HASHER
) -> User:
    """The user with these credentials; ``AccessDenied`` (same message either way) otherwise."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        hasher.hash(password)  # spend the same time as a real check
        raise AccessDenied("login: unknown user or wrong password")
    try:
        hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError) as exc:
        raise AccessDenied("login: unknown user or wrong password") from exc
    return user


def issue_token(
    session: Session,
    role: str,
    ttl: timedelta,
    user: User | None = None,
    election_id: str | None = None,
    voter_id: str | None = None,
    station_id: str | None = None,
    channel: str | None = None,
) -> str:
    """Create a random bearer token (256 bits from ``secrets``) and store its hash."""
    token = secrets.token_urlsafe(32)
    session.add(
        Token(
            token_hash=hash_token(token),
            user_id=None if user is None else user.id,
            role=role,
            election_id=election_id if user is None else user.election_id,
            voter_id=voter_id,
            station_id=station_id if user is None else user.station_id,
            channel=channel,
            expires_at=utcnow() + ttl,
        )
    )
    return token


def resolve_token(session: Session, token: str) -> TokenInfo:
    """What the token grants; ``AccessDenied`` if it is unknown or expired."""
    th = hash_token(token)
    row = session.get(Token, th)
    if row is None:
        raise AccessDenied("bearer token: unknown")
    if row.expires_at <= utcnow():
        raise AccessDenied("bearer token: expired")
    return token_info(row, None if row.user_id is None else session.get(User, row.user_id))


def expire_token(session: Session, token: str) -> str:
    """End a token now (a staff member signs out): its row expires; returns its hash for the caches.

    The row is kept (expired), so nothing that names the token hash loses its referent.
    """
    th = hash_token(token)
    row = session.get(Token, th, with_for_update=True)
    if row is not None and row.expires_at > utcnow():
        row.expires_at = utcnow()
    return th


def token_info(row: Token, user: User | None) -> TokenInfo:
    """What a stored token row grants (``user``: its login, if it has one)."""
    return TokenInfo(
        role=row.role,
        user_id=row.user_id,
        username=None if user is None else user.username,
        election_id=row.election_id,
        station_id=row.station_id,
        guardian_index=None if user is None else user.guardian_index,
        voter_id=row.voter_id,
        channel=row.channel,
        token_hash=row.token_hash,
        expires_at=row.expires_at,
    )


def resolve_tokens(
    session: Session, tokens: list[str], what: str = "credential"
) -> list[TokenInfo | AccessDenied]:
    """``resolve_token`` for many tokens in one query; an unknown or expired one gives ``AccessDenied``.

    ``what`` names the token in the refusal (``"credential: unknown"``, ``"bearer token: expired"``).
    """
    hashes = [hash_token(t) for t in tokens]
    rows = {r.token_hash: r for r in session.scalars(select(Token).where(Token.token_hash.in_(set(hashes))))}
    users = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({r.user_id for r in rows.values() if r.user_id is not None}))
        )
    }
    now = utcnow()
    out: list[TokenInfo | AccessDenied] = []
    for th in hashes:
        row = rows.get(th)
        if row is None:
            out.append(AccessDenied(f"{what}: unknown"))
            continue
        if row.expires_at <= now:
            out.append(AccessDenied(f"{what}: expired"))
            continue
        out.append(token_info(row, None if row.user_id is None else users.get(row.user_id)))
    return out


class TokenCache:
    """Resolved bearer tokens by token hash, each until its expiry; at most ``size`` (oldest dropped)."""

    def __init__(self, size: int = 65536) -> None:
        """Start empty."""
        self.size = size
        self._infos: dict[str, TokenInfo] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> TokenInfo | None:
        """The cached grant of ``token`` if it is known and not expired."""
        info = self._infos.get(hash_token(token))
        if info is None or info.expires_at is None or info.expires_at <= utcnow():
            return None
        return info

    def put(self, info: TokenInfo) -> None:
        """Remember a resolved token."""
        with self._lock:
            if len(self._infos) >= self.size:
                self._infos.pop(next(iter(self._infos)))
            self._infos[info.token_hash] = info

    def forget(self, token_hash: str) -> None:
        """Drop a token (for a future revocation)."""
        with self._lock:
            self._infos.pop(token_hash, None)
