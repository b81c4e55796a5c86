"""The voter roll: CSV import with a reason per bad row, deduplication, stations, absentee transfers.

CSV format (UTF-8, comma separated, one header row; column order free, names exact):

=================  ========  ==========================================================================
column             required  content
=================  ========  ==========================================================================
(identifier)       yes       the election's voter identifier (:class:`~saylau.election.voter_ids.VoterIdSpec`:
                             its column, e.g. ``iin`` for kz-2022, and its validator; an identifier that
                             encodes a birth date, as the IIN does, must agree with ``date_of_birth``)
``last_name``      yes       non-empty
``first_name``     yes       non-empty
``patronymic``     no        may be empty
``date_of_birth``  yes       ``YYYY-MM-DD``
``region``         yes       a region id of the election's territory
``station``        no        a station id in that region; empty: assigned to the region's least-loaded
                             station (ties broken by station id), so assignment is deterministic
=================  ========  ==========================================================================

Rows are numbered as a spreadsheet shows them: the header is row 1, the first voter row 2.

Import is atomic by default: when any row is bad, nothing is imported and one :class:`RollImportError`
lists every bad row (row number, field, reason). With ``accept_partial=True`` the good rows are
imported and the bad ones are returned in :attr:`RollImport.rejected`. A row repeated exactly is a
duplicate and is dropped (counted); the same identifier with different data is a bad row.

Published figures (:meth:`VoterRoll.public_counts`) are counts per station and region only; no
personal data leaves this module through them.
"""

from __future__ import annotations

import csv
import heapq
import io
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

# the IIN's helpers are the kz-iin validator's (saylau.election.voter_ids), re-exported for older callers
from saylau.election.voter_ids import (
    VoterIdSpec,
    VoterIdValidator,
    iin_birth_date,
    iin_check_digit,
    make_iin,
    masked,
    validate_iin,
)
from saylau.errors import ElectionError, RollImportError, VoterRollError

__all__ = [
    "AbsenteeCertificate",
    "RollImport",
    "RowProblem",
    "Voter",
    "VoterRoll",
    "csv_rows",
    "iin_birth_date",
    "iin_check_digit",
    "import_roll",
    "make_iin",
    "validate_iin",
]

REQUIRED_COLUMNS = ("last_name", "first_name", "date_of_birth", "region")
"""Besides the voter identifier's column (``VoterIdSpec.column``: ``iin`` for kz-2022)."""
OPTIONAL_COLUMNS = ("patronymic", "station")
_MAX_LISTED = 50
_TICK = 10_000


@dataclass(frozen=True, slots=True)
class Voter:
    """One person on the roll; ``station`` is the station whose list they are on at import."""

    voter_id: str
    last_name: str
    first_name: str
    patronymic: str
    date_of_birth: date
    region: str
    station: str


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row of a roll file was rejected."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, field {self.field!r}: {self.reason}"


@dataclass(frozen=True, slots=True)
class AbsenteeCertificate:
    """An absentee certificate: the voter votes at ``to_station`` and no longer at ``from_station``."""

    certificate_id: str
    voter_id: str
    from_station: str
    to_station: str
    issued_on: date


class VoterRoll:
    """Voters by identifier, the station each is listed at, and the transfers issued."""

    def __init__(self, station_regions: Mapping[str, str]) -> None:
        self.station_regions = dict(station_regions)
        self._voters: dict[str, Voter] = {}
        self._transfers: dict[str, AbsenteeCertificate] = {}

    def add(self, voter: Voter) -> None:
        """Add one voter (import has already checked the row); a second entry for an identifier is refused."""
        if voter.voter_id in self._voters:
            raise VoterRollError(f"{masked(voter.voter_id)} is already on the roll")
        if self.station_regions.get(voter.station) != voter.region:
            raise VoterRollError(f"station {voter.station!r} is not a station of region {voter.region!r}")
        self._voters[voter.voter_id] = voter

    def __len__(self) -> int:
        return len(self._voters)

    def __contains__(self, voter_id: object) -> bool:
        return voter_id in self._voters

    def __iter__(self) -> Iterator[Voter]:
        return iter(self._voters.values())

    def voter(self, voter_id: str) -> Voter:
        """The voter with this identifier (``VoterRollError`` if not on the roll)."""
        try:
            return self._voters[voter_id]
        except KeyError:
            raise VoterRollError("voter is not on the roll") from None

    def station_of(self, voter_id: str) -> str:
        """The station where the voter may vote now: the transfer's station if they hold one."""
        cert = self._transfers.get(voter_id)
        return cert.to_station if cert else self.voter(voter_id).station

    def transfer_of(self, voter_id: str) -> AbsenteeCertificate | None:
        """The absentee certificate issued to the voter, if any (absence is not a failure)."""
        return self._transfers.get(voter_id)

    def issue_absentee_certificate(
        self, voter_id: str, to_station: str, issued_on: date
    ) -> AbsenteeCertificate:
        """Move a voter to another station for this election; one certificate per voter."""
        voter = self.voter(voter_id)
        if to_station not in self.station_regions:
            raise VoterRollError(f"absentee certificate to unknown station {to_station!r}")
        earlier = self._transfers.get(voter_id)
        if earlier is not None:
            raise VoterRollError(
                f"an absentee certificate was already issued to this voter "
                f"({earlier.certificate_id}, to {earlier.to_station!r})")
        if to_station == voter.station:
            raise VoterRollError(f"voter is already listed at station {to_station!r}")
        cert = AbsenteeCertificate(certificate_id=secrets.token_hex(8), voter_id=voter_id,
                                   from_station=voter.station, to_station=to_station, issued_on=issued_on)
        self._transfers[voter_id] = cert
        return cert

    def counts_per_station(self) -> dict[str, int]:
        """Voters each station's list holds now (transfers moved), every station listed."""
        counts = dict.fromkeys(self.station_regions, 0)
        for v in self._voters.values():
            counts[v.station] += 1
        for cert in self._transfers.values():
            counts[cert.from_station] -= 1
            counts[cert.to_station] += 1
        return counts

    def counts_per_region(self) -> dict[str, int]:
        """Voters per region, by the region of the station they are listed at now."""
        out: dict[str, int] = dict.fromkeys(sorted(set(self.station_regions.values())), 0)
        for station, n in self.counts_per_station().items():
            out[self.station_regions[station]] += n
        return out

    def public_counts(self) -> dict[str, Any]:
        """The publishable summary: counts per station and region, transfers in and out; no person."""
        out_of: Counter[str] = Counter(c.from_station for c in self._transfers.values())
        into: Counter[str] = Counter(c.to_station for c in self._transfers.values())
        return {
            "total": len(self._voters),
            "regions": self.counts_per_region(),
            "stations": {s: {"region": self.station_regions[s], "registered": n,
                             "transferred_out": out_of[s], "transferred_in": into[s]}
                         for s, n in sorted(self.counts_per_station().items())},
        }


@dataclass
class RollImport:
    """The outcome of an import: the roll, the rejected rows (partial import only), duplicates dropped."""

    roll: VoterRoll
    rejected: list[RowProblem]
    duplicates_removed: int
    rows_read: int


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _shown(value: str) -> str:
    """A value quoted in a row problem: cut to 40 characters (a refusal must not echo a huge field)."""
    return repr(value[:40] + ("…" if len(value) > 40 else ""))


def _control_problems(row: Mapping[str, str], n: int) -> list[RowProblem]:
    """Every field holding a control character (NUL cannot be stored on PostgreSQL; none is a name)."""
    out = []
    for name, value in row.items():
        found = _CONTROL.search(value)
        if found is not None:
            out.append(RowProblem(n, name, f"control character U+{ord(found.group()):04X} at character "
                                           f"{found.start() + 1}; control characters are refused"))
    return out


def _check_row(row: Mapping[str, str], n: int, station_regions: Mapping[str, str], regions: set[str],
               column: str, check: VoterIdValidator) -> tuple[Voter | None, list[RowProblem]]:
    problems = _control_problems(row, n)
    if problems:
        return None, problems
    voter_id = row[column].strip()
    encoded: date | None = None
    try:
        encoded = check.check(voter_id)
    except ValueError as exc:
        problems.append(RowProblem(n, column, str(exc)))
    for name in ("last_name", "first_name"):
        if not row[name].strip():
            problems.append(RowProblem(n, name, "empty"))
    dob: date | None = None
    try:
        dob = date.fromisoformat(row["date_of_birth"].strip())
    except ValueError:
        problems.append(RowProblem(n, "date_of_birth", "not a date YYYY-MM-DD"))
    if dob is not None and encoded is not None and encoded != dob:
        # neither date is quoted: a refusal is logged with a failed job, and a birth date is personal
        problems.append(RowProblem(n, "date_of_birth", f"differs from the date encoded in the {column}"))
    region = row["region"].strip()
    if region not in regions:
        problems.append(RowProblem(n, "region", f"unknown region {_shown(region)}"))
    station = (row.get("station") or "").strip()
    if station:
        if station not in station_regions:
            problems.append(RowProblem(n, "station", f"unknown station {_shown(station)}"))
        elif region in regions and station_regions[station] != region:
            problems.append(RowProblem(n, "station", f"station {station!r} is in region "
                                       f"{station_regions[station]!r}, not {region!r}"))
    if problems or dob is None:
        return None, problems
    return Voter(voter_id=voter_id, last_name=row["last_name"].strip(),
                 first_name=row["first_name"].strip(),
                 patronymic=(row.get("patronymic") or "").strip(), date_of_birth=dob, region=region,
                 station=station), []


def csv_rows(source: Path | str | Iterable[str], what: str = "voter-roll file",
             error: type[ElectionError] = RollImportError) -> Iterator[list[str]]:
    """CSV rows of a file path, a whole CSV text, or lines already read (the roll and signature sheets).

    Text the CSV reader cannot read (a field over its 128 KiB limit, a NUL byte) raises ``error``
    naming ``what`` and the line, instead of the reader's bare ``csv.Error``.
    """
    def read(lines: Iterable[str]) -> Iterator[list[str]]:
        reader = csv.reader(lines)
        try:
            yield from reader
        except csv.Error as exc:
            raise error(f"{what}: line {reader.line_num}: not readable as CSV ({exc})") from None

    if isinstance(source, Path):
        with source.open(newline="", encoding="utf-8") as fh:
            yield from read(fh)
    elif isinstance(source, str):
        yield from read(io.StringIO(source))
    else:
        yield from read(source)


def import_roll(source: Path | str | Iterable[str], station_regions: Mapping[str, str],
                accept_partial: bool = False,
                progress: Callable[[str, int, int | None], None] | None = None,
                voter_id: VoterIdSpec | None = None) -> RollImport:
    """Read a roll CSV (a path, the CSV text, or lines), validate every row, build the roll.

    ``station_regions`` maps each station id to its region id. ``voter_id`` is the election's voter
    identifier (its column and validator; default: the generic ``VoterIdSpec()``, column ``voter_id``).
    Raises :class:`RollImportError` listing every bad row unless ``accept_partial``; a missing column
    fails the whole file either way. ``progress(task, advance, total)`` (the CLI's progress-bar hook)
    hears every 10,000 rows.
    """
    spec = VoterIdSpec() if voter_id is None else voter_id
    column, check = spec.column, spec.validator_for()
    regions = set(station_regions.values())
    rows = csv_rows(source)
    header = [h.strip() for h in next(rows, [])]
    missing = [c for c in (column, *REQUIRED_COLUMNS) if c not in header]
    if missing:
        raise RollImportError(f"voter-roll file: missing column(s) {', '.join(missing)} in the header row")
    problems: list[RowProblem] = []
    accepted: dict[str, tuple[int, Voter]] = {}
    duplicates = 0
    n = 1
    for n, fields in enumerate(rows, start=2):
        if progress is not None and n % _TICK == 0:
            progress("voter roll", _TICK, None)
        if len(fields) != len(header):
            problems.append(RowProblem(n, "*", f"expected {len(header)} fields, found {len(fields)}"))
            continue
        line = dict(zip(header, fields, strict=True))
        voter, bad = _check_row(line, n, station_regions, regions, column, check)
        if voter is None:
            problems.extend(bad)
            continue
        first = accepted.get(voter.voter_id)
        if first is None:
            accepted[voter.voter_id] = (n, voter)
        elif first[1] == voter:
            duplicates += 1
        else:
            why = f"the same {spec.name} is on row {first[0]} with other data"
            problems.append(RowProblem(n, column, why))
    if problems and not accept_partial:
        listed = "\n".join(f"  {p}" for p in problems[:_MAX_LISTED])
        more = f"\n  ... and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
        raise RollImportError(
            f"voter-roll file: {len(problems)} problem(s) in {len({p.row for p in problems})} row(s); "
            f"nothing imported\n{listed}{more}")
    roll = VoterRoll(station_regions)
    _assign_and_add(roll, [v for _, v in accepted.values()])
    return RollImport(roll=roll, rejected=problems, duplicates_removed=duplicates, rows_read=n - 1)


def _assign_and_add(roll: VoterRoll, voters: list[Voter]) -> None:
    """Give voters without a station the least-loaded station of their region, then add all."""
    load: Counter[str] = Counter(v.station for v in voters if v.station)
    heaps: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for s, r in roll.station_regions.items():
        heaps[r].append((load[s], s))
    for h in heaps.values():
        heapq.heapify(h)
    for v in voters:
        if not v.station:
            # Import has checked that the region exists, so it has at least one station.
            n, station = heapq.heappop(heaps[v.region])
            heapq.heappush(heaps[v.region], (n + 1, station))
            v = Voter(v.voter_id, v.last_name, v.first_name, v.patronymic, v.date_of_birth, v.region, station)
        roll.add(v)
