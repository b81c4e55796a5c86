"""The ballot manifest (where every station's paper is kept, how many ballots) and the reported counts.

The manifest is built from the station protocols: a station's batch holds its ``ballots_in_boxes``
(valid + invalid) and is kept where the scenario's territory says (by default the district election
commission's archive). Its hash (SHA-256 of the RFC 8785 canonical JSON) is published before the
seed is chosen, so the manifest cannot be changed to steer the sample.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from functools import cached_property

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

from saylau.audit.assertions import INVALID
from saylau.election.protocols import ProtocolFigures
from saylau.errors import AuditError

__all__ = ["BallotManifest", "Batch", "manifest_from_protocols"]


class Batch(BaseModel):
    """One station's paper: its reported counts by category (options and ``invalid``) and its place."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    station: str = Field(min_length=1)
    region: str
    storage: str
    ballots: int = Field(ge=0)
    reported: dict[str, int]


class BallotManifest(BaseModel):
    """Every batch of paper ballots of one election, in a fixed order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    election_id: str
    options: tuple[str, ...]
    batches: tuple[Batch, ...]

    def model_post_init(self, _context: object) -> None:
        """Check the reported counts add up to each batch's ballots and the stations are distinct."""
        seen: set[str] = set()
        cats = {*self.options, INVALID}
        for b in self.batches:
            if b.station in seen:
                raise AuditError(f"manifest: station {b.station!r} is listed twice")
            seen.add(b.station)
            if set(b.reported) != cats:
                raise AuditError(
                    f"manifest: station {b.station!r} reports {sorted(b.reported)}, not {sorted(cats)}"
                )
            if sum(b.reported.values()) != b.ballots or min(b.reported.values()) < 0:
                raise AuditError(
                    f"manifest: station {b.station!r}: reported counts sum to {sum(b.reported.values())}, "
                    f"not its {b.ballots} ballots"
                )

    @property
    def total(self) -> int:
        """Ballots in the whole manifest."""
        return sum(b.ballots for b in self.batches)

    def by_station(self) -> dict[str, Batch]:
        """Batches by station id."""
        return {b.station: b for b in self.batches}

    def reported_totals(self) -> dict[str, int]:
        """National reported counts by category."""
        out = dict.fromkeys((*self.options, INVALID), 0)
        for b in self.batches:
            for c, n in b.reported.items():
                out[c] += n
        return out

    def hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the manifest (computed once: the model is frozen)."""
        return self._digest

    @cached_property
    def _digest(self) -> str:
        return hashlib.sha256(rfc8785.dumps(self.model_dump(mode="json"))).hexdigest()

    def ballot_ids(self) -> Iterable[tuple[str, int]]:
        """Every ballot as ``(station, position)``, positions 1…n within the station's batch."""
        for b in self.batches:
            for k in range(1, b.ballots + 1):
                yield (b.station, k)


def manifest_from_protocols(
    election_id: str,
    options: Iterable[str],
    protocols: Iterable[ProtocolFigures],
    regions: Mapping[str, str],
    storage: Mapping[str, str] | None = None,
) -> BallotManifest:
    """A manifest with one batch per protocol (``storage`` maps station to place; default its region's)."""
    opts = tuple(options)
    batches = []
    for p in protocols:
        reported = {o: p.votes[o] for o in opts}
        reported[INVALID] = p.invalid
        region = regions.get(p.station, "")
        place = (storage or {}).get(p.station) or f"archive of the {region} election commission"
        batches.append(
            Batch(
                station=p.station,
                region=region,
                storage=place,
                ballots=p.valid + p.invalid,
                reported=reported,
            )
        )
    return BallotManifest(election_id=election_id, options=opts, batches=tuple(batches))
