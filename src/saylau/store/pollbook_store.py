"""The pollbook and voter roll in the database, under the rules of ``saylau.election.pollbook``.

:class:`SqlPollbookStore` is a durable :class:`~saylau.election.pollbook.PollbookStore`: the national
"has voted" set is the ``checkins`` table, whose unique key on (election, voter id) makes ``add`` atomic
even when two stations check the same voter in at the same instant (the second insert fails inside a
savepoint and is answered with the station of the first). :class:`SqlVoterRoll` is a
:class:`~saylau.election.voter_roll.VoterRoll` whose lookups read the ``voters`` table, so that
:class:`~saylau.election.pollbook.Pollbook` applies the library's rules (station list or transfer,
age on election day) without loading the whole roll. :func:`save_roll` stores an imported roll
(:func:`insert_voters` one batch of it). :func:`station_facts` counts, per station, what a result
protocol is reconciled with (roll, transfers, check-ins).

Messages name voters only through :func:`~saylau.election.pollbook.masked` (an id's last four characters).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saylau.election.pollbook import Channel, CheckIn, masked
from saylau.election.protocols import StationFacts
from saylau.election.voter_roll import AbsenteeCertificate, Voter, VoterRoll
from saylau.errors import PollbookError, VoterRollError
from saylau.store.models import CheckIn as CheckInRow
from saylau.store.models import Station
from saylau.store.models import Voter as VoterRow

__all__ = [
    "SqlPollbookStore",
    "SqlVoterRoll",
    "existing_voter_ids",
    "insert_voters",
    "refresh_station_counts",
    "save_roll",
    "station_facts",
    "station_regions",
]

_CHUNK = 500
_UPSERT: dict[str, Any] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def station_regions(session: Session, election_id: str) -> dict[str, str]:
    """Station id → region id of an election (the map ``voter_roll.import_roll`` needs)."""
    rows = session.execute(
        select(Station.id, Station.region).where(Station.election_id == election_id)
    ).all()
    return {str(s): str(r) for s, r in rows}


def _check_in(row: CheckInRow) -> CheckIn:
    channel: Channel = "remote" if row.channel == "remote" else "station"
    return CheckIn(voter_id=row.voter_id, station_id=row.station_id, channel=channel, at=row.at,
                   credential_hash=row.credential_hash or "")


def _already(record: CheckIn) -> str:
    where = "registered for remote voting" if record.channel == "remote" else "already voted"
    return f"{masked(record.voter_id)} {where} at station {record.station_id!r} at {record.at.isoformat()}"


class SqlPollbookStore:
    """A :class:`~saylau.election.pollbook.PollbookStore` on one election's ``checkins`` rows.

    Works inside the caller's session and transaction: the check-in is durable when the caller commits.
    """

    def __init__(self, session: Session, election_id: str) -> None:
        self.session = session
        self.election_id = election_id

    def _row(self, voter_id: str) -> CheckInRow | None:
        return self.session.scalars(
            select(CheckInRow).where(
                CheckInRow.election_id == self.election_id, CheckInRow.voter_id == voter_id
            )
        ).one_or_none()

    def find(self, voter_id: str) -> CheckIn | None:
        """See :meth:`PollbookStore.find`."""
        row = self._row(voter_id)
        return None if row is None else _check_in(row)

    def add(self, record: CheckIn) -> None:
        """See :meth:`PollbookStore.add`; the unique keys decide a race, not a prior read.

        On SQLite and PostgreSQL one ``INSERT ... ON CONFLICT DO NOTHING`` (no savepoint round trips);
        elsewhere an insert in a savepoint whose ``IntegrityError`` is caught.
        """
        values = {"election_id": self.election_id, "voter_id": record.voter_id,
                  "station_id": record.station_id,
                  "channel": record.channel, "at": record.at, "credential_hash": record.credential_hash}
        dialect = self.session.get_bind().dialect.name
        if dialect in _UPSERT:
            stmt = _UPSERT[dialect](CheckInRow).values(**values).on_conflict_do_nothing()
            if self.session.execute(stmt.returning(CheckInRow.id)).first() is not None:
                return
        else:
            try:
                with self.session.begin_nested():
                    self.session.add(CheckInRow(**values))
                return
            except IntegrityError:
                pass
        earlier = self.find(record.voter_id)
        if earlier is None:
            raise PollbookError("credential collision: refusing to store a credential twice")
        raise PollbookError(_already(earlier))

    def redeem(self, credential_hash: str) -> CheckIn:
        """See :meth:`PollbookStore.redeem`: one conditional UPDATE, so two uses cannot both succeed."""
        done = self.session.execute(
            update(CheckInRow)
            .where(CheckInRow.election_id == self.election_id, CheckInRow.credential_hash == credential_hash,
                   CheckInRow.redeemed.is_(False))
            .values(redeemed=True)
        )
        row = self.session.scalars(
            select(CheckInRow).where(CheckInRow.election_id == self.election_id,
                                     CheckInRow.credential_hash == credential_hash)
        ).one_or_none()
        if row is None:
            raise PollbookError("unknown voter credential")
        if getattr(done, "rowcount", 0) != 1:
            raise PollbookError(f"voter credential of {masked(row.voter_id)} was already used")
        return _check_in(row)

    def count(self, station_id: str, until: datetime | None = None) -> int:
        """See :meth:`PollbookStore.count`."""
        q = select(func.count()).select_from(CheckInRow).where(
            CheckInRow.election_id == self.election_id, CheckInRow.station_id == station_id)
        if until is not None:
            q = q.where(CheckInRow.at <= until)
        return int(self.session.scalar(q) or 0)

    def check_ins(self, station_id: str | None = None) -> Iterator[CheckIn]:
        """See :meth:`PollbookStore.check_ins` (in insertion order)."""
        q = select(CheckInRow).where(CheckInRow.election_id == self.election_id).order_by(CheckInRow.id)
        if station_id is not None:
            q = q.where(CheckInRow.station_id == station_id)
        return (_check_in(r) for r in self.session.scalars(q).all())


def _voter(row: VoterRow) -> Voter:
    if row.date_of_birth is None or row.region is None:
        raise VoterRollError(f"{masked(row.id)}: roll row lacks date of birth or region (old import)")
    return Voter(voter_id=row.id, last_name=row.last_name or "", first_name=row.first_name or "",
                 patronymic=row.patronymic or "", date_of_birth=row.date_of_birth, region=row.region,
                 station=row.station_id)


class SqlVoterRoll(VoterRoll):
    """A :class:`VoterRoll` read from the ``voters`` table one voter at a time (cached per instance).

    Only lookups are served from the database; :meth:`add` is refused (use :func:`save_roll`).
    :meth:`preload` fetches many voters in a few queries, e.g. before checking a signature sheet.
    """

    def __init__(self, session: Session, election_id: str, regions: Mapping[str, str] | None = None) -> None:
        super().__init__(station_regions(session, election_id) if regions is None else regions)
        self.session = session
        self.election_id = election_id
        self._rows: dict[str, VoterRow | None] = {}

    def _get(self, voter_id: str) -> VoterRow | None:
        if voter_id not in self._rows:
            self._rows[voter_id] = self.session.get(VoterRow, (self.election_id, voter_id))
        return self._rows[voter_id]

    def preload(self, voter_ids: Iterable[str]) -> None:
        """Fetch the listed voters in batches (unknown identifiers are remembered as absent)."""
        wanted = [i for i in dict.fromkeys(voter_ids) if i not in self._rows]
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            found = {r.id: r for r in self.session.scalars(
                select(VoterRow).where(VoterRow.election_id == self.election_id, VoterRow.id.in_(chunk)))}
            for voter_id in chunk:
                self._rows[voter_id] = found.get(voter_id)

    def add(self, voter: Voter) -> None:
        """Refused: a database roll grows through :func:`save_roll`."""
        raise TypeError("SqlVoterRoll is read-only; store an imported roll with save_roll")

    def __len__(self) -> int:
        return int(self.session.scalar(
            select(func.count()).select_from(VoterRow).where(VoterRow.election_id == self.election_id)) or 0)

    def __contains__(self, voter_id: object) -> bool:
        return isinstance(voter_id, str) and self._get(voter_id) is not None

    def __iter__(self) -> Iterator[Voter]:
        q = select(VoterRow).where(VoterRow.election_id == self.election_id).order_by(VoterRow.id)
        return (_voter(r) for r in self.session.scalars(q))

    def voter(self, voter_id: str) -> Voter:
        """The voter with this identifier (``VoterRollError`` if not on the roll)."""
        row = self._get(voter_id)
        if row is None:
            raise VoterRollError("voter is not on the roll")
        return _voter(row)

    def station_of(self, voter_id: str) -> str:
        """The station where the voter may vote now: the transfer's station if they hold one."""
        row = self._get(voter_id)
        if row is None:
            raise VoterRollError("voter is not on the roll")
        return row.transfer_to or row.station_id

    def transfer_of(self, voter_id: str) -> AbsenteeCertificate | None:
        """The absentee certificate issued to the voter, if any (absence is not a failure)."""
        row = self._get(voter_id)
        if row is None or row.transfer_to is None or row.certificate_id is None:
            return None
        return AbsenteeCertificate(certificate_id=row.certificate_id, voter_id=voter_id,
                                   from_station=row.station_id,
                                   to_station=row.transfer_to,
                                   issued_on=row.transfer_issued_on or date.min)

    def issue_absentee_certificate(
        self, voter_id: str, to_station: str, issued_on: date
    ) -> AbsenteeCertificate:
        """Issue a certificate by the library's rules (one per voter, known station, not their own)."""
        row = self._get(voter_id)
        if row is None:
            raise VoterRollError("voter is not on the roll")
        earlier = self.transfer_of(voter_id)
        if earlier is not None:
            raise VoterRollError(
                f"an absentee certificate was already issued to this voter "
                f"({earlier.certificate_id}, to {earlier.to_station!r})")
        single = VoterRoll(self.station_regions)  # the library decides; we only persist its answer
        single.add(_voter(row))
        cert = single.issue_absentee_certificate(voter_id, to_station, issued_on)
        row.transfer_to = cert.to_station
        row.certificate_id = cert.certificate_id
        row.transfer_issued_on = cert.issued_on
        return cert

    def counts_per_station(self) -> dict[str, int]:
        """Voters each station's list holds now (transfers moved), every station listed."""
        counts = dict.fromkeys(self.station_regions, 0)
        here = func.coalesce(VoterRow.transfer_to, VoterRow.station_id)
        for station, n in self.session.execute(
            select(here, func.count()).where(VoterRow.election_id == self.election_id).group_by(here)
        ).all():
            counts[str(station)] = int(n)
        return counts

    def public_counts(self) -> dict[str, Any]:
        """Counts per station and region, and transfers in and out; no person."""
        moved = (VoterRow.election_id == self.election_id, VoterRow.transfer_to.is_not(None))
        out_of = {str(s): int(n) for s, n in self.session.execute(
            select(VoterRow.station_id, func.count()).where(*moved).group_by(VoterRow.station_id)).all()}
        into = {str(s): int(n) for s, n in self.session.execute(
            select(VoterRow.transfer_to, func.count()).where(*moved).group_by(VoterRow.transfer_to)).all()}
        stations = self.counts_per_station()
        return {
            "total": sum(stations.values()),
            "regions": self.counts_per_region(),
            "stations": {s: {"region": self.station_regions[s], "registered": n,
                             "transferred_out": out_of.get(s, 0), "transferred_in": into.get(s, 0)}
                         for s, n in sorted(stations.items())},
        }


def existing_voter_ids(session: Session, election_id: str, voter_ids: Iterable[str]) -> set[str]:
    """Which of ``voter_ids`` are already on the election's stored roll."""
    wanted = list(voter_ids)
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        found.update(session.scalars(
            select(VoterRow.id).where(VoterRow.election_id == election_id, VoterRow.id.in_(chunk))))
    return found


def save_roll(session: Session, election_id: str, voters: Iterable[Voter]) -> int:
    """Insert imported voters (bulk, in chunks) and refresh each station's registered count."""
    n = insert_voters(session, election_id, voters)
    refresh_station_counts(session, election_id)
    return n


def insert_voters(session: Session, election_id: str, voters: Iterable[Voter]) -> int:
    """Insert imported voters (bulk, in chunks) without refreshing the station counts.

    For an import in batches, which refreshes the counts once at the end (:func:`refresh_station_counts`
    reads the whole roll). A voter already stored fails the insert (primary key): never stored twice.
    """
    n = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if batch:
            session.execute(insert(VoterRow), batch)
            batch.clear()

    for v in voters:
        batch.append({"election_id": election_id, "id": v.voter_id, "station_id": v.station, "remote": False,
                      "date_of_birth": v.date_of_birth, "region": v.region, "last_name": v.last_name,
                      "first_name": v.first_name, "patronymic": v.patronymic})
        n += 1
        if len(batch) >= _CHUNK:
            flush()
    flush()
    return n


def refresh_station_counts(session: Session, election_id: str) -> dict[str, int]:
    """Set ``stations.registered`` from the stored roll (transfers counted where the voter votes now)."""
    counts = SqlVoterRoll(session, election_id).counts_per_station()
    for st in session.scalars(select(Station).where(Station.election_id == election_id)):
        st.registered = counts.get(st.id, 0)
    return counts


def station_facts(
    session: Session, election_id: str, station_ids: Iterable[str] | None = None
) -> dict[str, StationFacts]:
    """Roll and pollbook counts of the election's stations (or of ``station_ids``), a few grouped queries.

    ``registered`` is the station's count on the roll now (``stations.registered``, refreshed by every
    import and transfer); ``listed`` and ``transferred_out`` are read from the voters imported to the
    station (indexed by station), so ``transferred_in = registered - listed + transferred_out``.
    ``decrypted`` is left ``None``: the caller adds the tally.
    """
    wanted = None if station_ids is None else list(dict.fromkeys(station_ids))

    def only(column: Any) -> list[Any]:
        return [] if wanted is None else [column.in_(wanted)]

    registered = {
        str(sid): int(n)
        for sid, n in session.execute(
            select(Station.id, Station.registered).where(
                Station.election_id == election_id, *only(Station.id)
            )
        ).all()
    }
    mine = (VoterRow.election_id == election_id, *only(VoterRow.station_id))
    listed = {str(sid): int(n) for sid, n in session.execute(
        select(VoterRow.station_id, func.count()).where(*mine).group_by(VoterRow.station_id)).all()}
    moved = {str(sid): int(n) for sid, n in session.execute(
        select(VoterRow.station_id, func.count()).where(*mine, VoterRow.transfer_to.is_not(None))
        .group_by(VoterRow.station_id)).all()}
    in_person: dict[str, int] = {}
    remote: dict[str, int] = {}
    for sid, ch, n in session.execute(
        select(CheckInRow.station_id, CheckInRow.channel, func.count())
        .where(CheckInRow.election_id == election_id, *only(CheckInRow.station_id))
        .group_by(CheckInRow.station_id, CheckInRow.channel)
    ).all():
        counts = remote if ch == "remote" else in_person
        counts[str(sid)] = counts.get(str(sid), 0) + int(n)
    out: dict[str, StationFacts] = {}
    for sid, reg in registered.items():
        here, gone = listed.get(sid, 0), moved.get(sid, 0)
        out[sid] = StationFacts(
            station=sid, registered=reg, listed=here, transferred_out=gone, transferred_in=reg - here + gone,
            checked_in=in_person.get(sid, 0), remote=remote.get(sid, 0),
        )
    return out
