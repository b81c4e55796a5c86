"""Signature sheets checked against the voter roll, feeding the threshold and regional-spread rules.

Sheet format (UTF-8 CSV, one header row, column order free):

==================  =====================================================================
column              content
==================  =====================================================================
``applicant_id``    the applicant the signature supports
(identifier)        the signer's voter identifier, in the election's column (``VoterIdSpec.column``:
                    ``iin`` for kz-2022), checked by its validator
``last_name``       as on the roll (compared case-insensitively)
``first_name``      as on the roll
``region``          the region id of the sheet (signatures are collected per region)
``signed_on``       ``YYYY-MM-DD``
==================  =====================================================================

Each line gets one verdict, the first failed check in this order: ``malformed`` (bad field count,
identifier, date or unknown region), ``wrong_applicant``, ``not_on_roll``, ``duplicate`` (the same voter
earlier on this applicant's sheets), ``name_mismatch``, ``not_eligible`` (under voting age on the day
of signing), ``out_of_window`` (signed outside the collection period), ``wrong_region`` (the voter's
roll region differs from the sheet's). The report counts per reason and per region and carries no
personal data, so it can be published beside the registration decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from saylau.election.eligibility import age_on
from saylau.election.voter_ids import VoterIdSpec, VoterIdValidator
from saylau.election.voter_roll import VoterRoll, csv_rows
from saylau.errors import RegistrationError

__all__ = ["REASONS", "SignatureProblem", "SignatureReport", "check_signatures"]

COLUMNS = ("applicant_id", "last_name", "first_name", "region", "signed_on")
"""Besides the voter identifier's column."""
REASONS = ("malformed", "wrong_applicant", "not_on_roll", "duplicate", "name_mismatch", "not_eligible",
           "out_of_window", "wrong_region")
"""Every reason a signature is not counted, in the order the checks run."""


@dataclass(frozen=True, slots=True)
class SignatureProblem:
    """One rejected line: its row number (header = 1), the reason id, details without personal data."""

    row: int
    reason: str
    region: str
    detail: str


@dataclass
class SignatureReport:
    """The outcome of checking one applicant's sheets."""

    applicant_id: str
    lines_read: int = 0
    valid_per_region: Counter[str] = field(default_factory=Counter)
    rejected: list[SignatureProblem] = field(default_factory=list)

    @property
    def valid_total(self) -> int:
        """Signatures that count."""
        return sum(self.valid_per_region.values())

    def per_reason(self) -> dict[str, int]:
        """Rejected lines per reason, every reason listed."""
        counts = Counter(p.reason for p in self.rejected)
        return {r: counts[r] for r in REASONS}

    def per_region(self) -> dict[str, dict[str, int]]:
        """Per sheet region: valid count and rejected count per reason (reasons with zero omitted)."""
        out: dict[str, dict[str, int]] = {}
        for region, n in self.valid_per_region.items():
            out.setdefault(region, {})["valid"] = n
        for p in self.rejected:
            bucket = out.setdefault(p.region, {})
            bucket[p.reason] = bucket.get(p.reason, 0) + 1
        return {r: {"valid": v.get("valid", 0)} | {k: n for k, n in v.items() if k != "valid"}
                for r, v in sorted(out.items())}

    def to_dict(self) -> dict[str, Any]:
        """The publishable report (counts, and rejected row numbers with reasons)."""
        return {"applicant_id": self.applicant_id, "lines_read": self.lines_read,
                "valid_total": self.valid_total, "per_reason": self.per_reason(),
                "per_region": self.per_region(),
                "rejected": [{"row": p.row, "reason": p.reason, "detail": p.detail} for p in self.rejected]}


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def check_signatures(source: Path | str | Iterable[str], applicant_id: str, roll: VoterRoll,
                     voting_age: int, window: tuple[date, date] | None = None,
                     voter_id: VoterIdSpec | None = None) -> SignatureReport:
    """Check every line of an applicant's sheet(s) against the roll; see the module for the checks.

    ``source`` is a path, the CSV text or its lines. ``window`` is the collection period (both ends
    included); ``None`` skips that check. ``voter_id`` is the election's identifier (default: the
    generic ``VoterIdSpec()``). A header without the required columns raises
    ``RegistrationError``: the sheet cannot be processed at all.
    """
    spec = VoterIdSpec() if voter_id is None else voter_id
    column, check = spec.column, spec.validator_for()
    regions = set(roll.station_regions.values())
    rows = csv_rows(source, "signature sheet", RegistrationError)
    header = [h.strip() for h in next(rows, [])]
    missing = [c for c in (column, *COLUMNS) if c not in header]
    if missing:
        raise RegistrationError(
            f"signature sheet for {applicant_id!r}: missing column(s) {', '.join(missing)}")
    report = SignatureReport(applicant_id)
    seen: dict[str, int] = {}
    for n, fields in enumerate(rows, start=2):
        report.lines_read += 1
        if len(fields) != len(header):
            report.rejected.append(SignatureProblem(n, "malformed", "?",
                                                    f"expected {len(header)} fields, found {len(fields)}"))
            continue
        line = {k: v.strip() for k, v in zip(header, fields, strict=True)}
        problem = _judge(line, n, applicant_id, roll, regions, voting_age, window, seen, column, check)
        if problem is None:
            report.valid_per_region[line["region"]] += 1
        else:
            report.rejected.append(problem)
    return report


def _judge(line: dict[str, str], n: int, applicant_id: str, roll: VoterRoll, regions: set[str],
           voting_age: int, window: tuple[date, date] | None, seen: dict[str, int], column: str,
           check: VoterIdValidator) -> SignatureProblem | None:
    """The first failed check of one line, or ``None`` when the signature counts."""
    region, voter_id = line["region"], line[column]

    def bad(reason: str, detail: str) -> SignatureProblem:
        return SignatureProblem(n, reason, region, detail)

    try:
        check.check(voter_id)
    except ValueError as exc:
        return bad("malformed", f"{column}: {exc}")
    try:
        signed_on = date.fromisoformat(line["signed_on"])
    except ValueError:
        return bad("malformed", f"signed_on {line['signed_on']!r} is not a date YYYY-MM-DD")
    if region not in regions:
        return bad("malformed", f"unknown region {region!r}")
    if not line["last_name"] or not line["first_name"]:
        return bad("malformed", "name missing")
    if line["applicant_id"] != applicant_id:
        return bad("wrong_applicant", f"line supports {line['applicant_id']!r}")
    if voter_id not in roll:
        return bad("not_on_roll", "signer is not on the voter roll")
    if voter_id in seen:
        return bad("duplicate", f"same voter as row {seen[voter_id]}")
    seen[voter_id] = n
    voter = roll.voter(voter_id)
    if not (_same(voter.last_name, line["last_name"]) and _same(voter.first_name, line["first_name"])):
        return bad("name_mismatch", "name differs from the voter roll")
    if signed_on < voter.date_of_birth or age_on(voter.date_of_birth, signed_on) < voting_age:
        return bad("not_eligible", f"signer was under {voting_age} on {signed_on}")
    if window is not None and not window[0] <= signed_on <= window[1]:
        return bad("out_of_window", f"signed on {signed_on}, outside {window[0]}..{window[1]}")
    if voter.region != region:
        return bad("wrong_region",
                   f"signer is registered in region {voter.region!r}, sheet is for {region!r}")
    return None
