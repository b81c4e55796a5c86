"""The pollbook: check voters in at their station, once in the whole country, and issue a credential.

A check-in needs the voter on the station's list (or holding an absentee certificate to it), of
voting age on election day, and absent from the national "has voted" set — kept by a
:class:`PollbookStore`, so that a second check-in anywhere raises :class:`PollbookError` naming the
station of the first. Registering for remote voting enters the same set (channel ``"remote"``,
at the voter's station), so nobody both votes remotely and at a station.

Each check-in issues a one-time voter credential for the encrypted ballot: 32 random bytes from
``secrets``, given to the caller once; the store keeps only its domain-separated SHA-256 hash, and
:meth:`Pollbook.redeem` accepts it exactly once. Credentials never appear in errors or records.

The store is a small protocol so that a database (a unique key on the voter identifier, a transaction around
``add``) can replace :class:`InMemoryPollbookStore` without touching the rules here.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol, runtime_checkable

from saylau.election.eligibility import age_on
from saylau.election.voter_ids import masked
from saylau.election.voter_roll import VoterRoll
from saylau.errors import PollbookError, VoterRollError

__all__ = [
    "Channel",
    "CheckIn",
    "InMemoryPollbookStore",
    "IssuedCredential",
    "Pollbook",
    "PollbookStore",
    "credential_hash",
    "masked",
]

Channel = Literal["station", "remote"]
_CREDENTIAL_TAG = b"saylau/voter-credential/v1"


def credential_hash(credential: str) -> str:
    """Domain-separated SHA-256 of a credential (tag and value length-prefixed), lowercase hex."""
    value = credential.encode("utf-8")
    h = hashlib.sha256()
    for part in (_CREDENTIAL_TAG, value):
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class CheckIn:
    """One entry of the national "has voted" set."""

    voter_id: str
    station_id: str
    channel: Channel
    at: datetime
    credential_hash: str


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """What a check-in hands back: the secret credential (shown once) and the stored record."""

    credential: str
    check_in: CheckIn

    def __repr__(self) -> str:
        return f"IssuedCredential(credential='<secret>', check_in={self.check_in!r})"


@runtime_checkable
class PollbookStore(Protocol):
    """Where check-ins live; ``add`` must be atomic: a second entry for one voter raises."""

    def find(self, voter_id: str) -> CheckIn | None:
        """The voter's check-in, or ``None`` if they have not voted (a lookup, not a failure)."""
        ...

    def add(self, record: CheckIn) -> None:
        """Store a check-in; raise ``PollbookError`` naming the earlier station if the voter is there."""
        ...

    def redeem(self, credential_hash: str) -> CheckIn:
        """Mark a credential used; raise ``PollbookError`` if it is unknown or already used."""
        ...

    def count(self, station_id: str, until: datetime | None = None) -> int:
        """Check-ins recorded at a station (all channels), optionally only those at or before ``until``."""
        ...

    def check_ins(self, station_id: str | None = None) -> Iterator[CheckIn]:
        """Every check-in, or a station's, in the order recorded."""
        ...


def _already(record: CheckIn) -> str:
    where = "registered for remote voting" if record.channel == "remote" else "already voted"
    return f"{masked(record.voter_id)} {where} at station {record.station_id!r} at {record.at.isoformat()}"


class InMemoryPollbookStore:
    """A :class:`PollbookStore` in a dict, safe across threads (one lock around each change)."""

    def __init__(self) -> None:
        self._by_voter: dict[str, CheckIn] = {}
        self._by_station: dict[str, list[CheckIn]] = {}
        self._by_credential: dict[str, str] = {}
        self._redeemed: set[str] = set()
        self._lock = threading.Lock()

    def find(self, voter_id: str) -> CheckIn | None:
        """See :meth:`PollbookStore.find`."""
        return self._by_voter.get(voter_id)

    def add(self, record: CheckIn) -> None:
        """See :meth:`PollbookStore.add`."""
        with self._lock:
            earlier = self._by_voter.get(record.voter_id)
            if earlier is not None:
                raise PollbookError(_already(earlier))
            if record.credential_hash in self._by_credential:
                raise PollbookError("credential collision: refusing to store a credential twice")
            self._by_voter[record.voter_id] = record
            self._by_station.setdefault(record.station_id, []).append(record)
            self._by_credential[record.credential_hash] = record.voter_id

    def redeem(self, credential_hash: str) -> CheckIn:
        """See :meth:`PollbookStore.redeem`."""
        with self._lock:
            voter_id = self._by_credential.get(credential_hash)
            if voter_id is None:
                raise PollbookError("unknown voter credential")
            if credential_hash in self._redeemed:
                raise PollbookError(f"voter credential of {masked(voter_id)} was already used")
            self._redeemed.add(credential_hash)
            return self._by_voter[voter_id]

    def count(self, station_id: str, until: datetime | None = None) -> int:
        """See :meth:`PollbookStore.count`."""
        records = self._by_station.get(station_id, [])
        if until is None:
            return len(records)
        return sum(1 for r in records if r.at <= until)

    def check_ins(self, station_id: str | None = None) -> Iterator[CheckIn]:
        """See :meth:`PollbookStore.check_ins`."""
        if station_id is None:
            return iter(list(self._by_voter.values()))
        return iter(list(self._by_station.get(station_id, [])))


class Pollbook:
    """The rules of check-in over a roll and a store."""

    def __init__(self, roll: VoterRoll, store: PollbookStore, election_day: date, voting_age: int) -> None:
        self.roll = roll
        self.store = store
        self.election_day = election_day
        self.voting_age = voting_age

    def _eligible(self, voter_id: str, at: datetime) -> None:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("check-in time must carry its time zone")
        try:
            voter = self.roll.voter(voter_id)
        except VoterRollError:
            raise PollbookError(f"{masked(voter_id)} is not on the voter roll") from None
        born = voter.date_of_birth
        age = age_on(born, self.election_day) if born <= self.election_day else 0
        if age < self.voting_age:
            raise PollbookError(
                f"{masked(voter_id)} is {age} on election day {self.election_day}, under the voting age "
                f"of {self.voting_age}")
        earlier = self.store.find(voter_id)
        if earlier is not None:
            raise PollbookError(_already(earlier))

    def check_in(self, voter_id: str, station_id: str, at: datetime) -> IssuedCredential:
        """Check a voter in at ``station_id`` at ``at`` (time-zone aware) and issue their credential."""
        self._eligible(voter_id, at)
        listed = self.roll.station_of(voter_id)
        if listed != station_id:
            cert = self.roll.transfer_of(voter_id)
            if cert is not None and cert.from_station == station_id:
                raise PollbookError(
                    f"{masked(voter_id)} holds absentee certificate {cert.certificate_id} to station "
                    f"{cert.to_station!r}; station {station_id!r} can no longer check them in")
            raise PollbookError(f"{masked(voter_id)} is listed at station {listed!r}, not {station_id!r}")
        return self._issue(voter_id, station_id, "station", at)

    def register_remote(self, voter_id: str, at: datetime) -> IssuedCredential:
        """Register a voter for remote voting: the same checks, counted at their listed station."""
        self._eligible(voter_id, at)
        return self._issue(voter_id, self.roll.station_of(voter_id), "remote", at)

    def _issue(self, voter_id: str, station_id: str, channel: Channel, at: datetime) -> IssuedCredential:
        credential = secrets.token_urlsafe(32)
        record = CheckIn(voter_id=voter_id, station_id=station_id, channel=channel, at=at,
                         credential_hash=credential_hash(credential))
        self.store.add(record)
        return IssuedCredential(credential=credential, check_in=record)

    def redeem(self, credential: str) -> CheckIn:
        """Accept a credential for casting a ballot, once; the second use raises ``PollbookError``."""
        return self.store.redeem(credential_hash(credential))

    def turnout(self, station_id: str, until: datetime | None = None) -> int:
        """Voters checked in (or registered remotely) at a station, optionally up to a moment."""
        return self.store.count(station_id, until)
