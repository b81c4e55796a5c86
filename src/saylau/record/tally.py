"""Homomorphic tallies per polling station, region and nation, their decryption, and the results summary.

The writer builds these from the ballot box; the verifier rebuilds the encrypted ones from the ballots
alone and compares. Every level is decrypted with proofs, so each published number is proven directly
(ElectionGuard 2.0 §3.5 tally, §3.6 verifiable decryption).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from saylau.crypto import (
    ElectionParameters,
    EncryptedBallot,
    EncryptedTally,
    Guardian,
    PlaintextTally,
    combine_decryption,
    partial_decrypt,
)
from saylau.election.manifest import Manifest
from saylau.errors import RecordError
from saylau.record import format as fmt

__all__ = [
    "NATION_ID",
    "Scope",
    "StationSums",
    "TallyEntry",
    "aggregate_tallies",
    "decrypt_tallies",
    "results_summary",
]

Scope = Literal["station", "region", "nation"]
SCOPES: tuple[Scope, ...] = ("station", "region", "nation")
NATION_ID = "nation"


@dataclass(frozen=True)
class TallyEntry:
    """One line of ``tallies.jsonl``: an encrypted tally, how many cast ballots it sums, its decryption."""

    scope: Scope
    scope_id: str
    ballot_count: int
    encrypted: EncryptedTally
    plaintext: PlaintextTally

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the line."""
        return {
            "ballot_count": self.ballot_count,
            "encrypted": self.encrypted.to_dict(),
            "plaintext": self.plaintext.to_dict(),
            "scope": self.scope,
            "scope_id": self.scope_id,
        }

    @classmethod
    def from_dict(cls, d: Any) -> TallyEntry:
        """Parse a line; raises ``RecordError`` naming the bad field."""
        keys = {"ballot_count", "encrypted", "plaintext", "scope", "scope_id"}
        if not isinstance(d, dict) or set(d) != keys:
            raise RecordError(f"tally line: expected fields {sorted(keys)}")
        what = f"tally {d.get('scope')}/{d.get('scope_id')}"
        if d["scope"] not in SCOPES or not isinstance(d["scope_id"], str):
            raise RecordError(f"{what}: bad scope or scope_id")
        n = d["ballot_count"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise RecordError(f"{what}: ballot_count is not a non-negative integer")
        return cls(
            cast(Scope, d["scope"]),
            d["scope_id"],
            n,
            EncryptedTally.from_dict(d["encrypted"]),
            PlaintextTally.from_dict(d["plaintext"]),
        )

    def counts(self) -> dict[str, dict[str, int]]:
        """Contest id → selection id → decrypted count."""
        return {cid: dict(sel) for cid, sel in self.plaintext.counts.items()}


@dataclass
class _Acc:
    tally: EncryptedTally
    count: int = 0


class StationSums:
    """Running encrypted sums of cast ballots per station; ``roll_up()`` adds regions and the nation.

    Memory is one tally per station, whatever the number of ballots (streaming-friendly).
    """

    def __init__(self, manifest: Manifest, params: ElectionParameters) -> None:
        self.manifest = manifest
        self.params = params
        self._stations = {
            sid: _Acc(EncryptedTally.empty(params.contests)) for sid in manifest.station_index()
        }

    def add(self, station_id: str, ballot: EncryptedBallot) -> None:
        """Add one cast ballot to its station's tally."""
        acc = self._stations.get(station_id)
        if acc is None:
            raise RecordError(f"ballot {ballot.ballot_id}: unknown station {station_id}")
        acc.tally = acc.tally.add_ballot(ballot)
        acc.count += 1

    def add_sum(self, station_id: str, count: int, tally: EncryptedTally) -> None:
        """Add the encrypted sum of ``count`` cast ballots of one station (a verification chunk's)."""
        acc = self._stations.get(station_id)
        if acc is None:
            raise RecordError(f"unknown station {station_id}")
        acc.tally = acc.tally + tally
        acc.count += count

    def dump(self) -> dict[str, Any]:
        """JSON form of the running sums (an incremental verification's saved state)."""
        return {sid: [acc.count, acc.tally.to_dict()] for sid, acc in self._stations.items()}

    def restore(self, d: dict[str, Any]) -> None:
        """Take the sums back from ``dump``'s form (the same stations)."""
        if set(d) != set(self._stations):
            raise RecordError("saved station sums name other stations than the manifest's")
        for sid, (count, tally) in d.items():
            self._stations[sid] = _Acc(EncryptedTally.from_dict(tally), int(count))

    def roll_up(self) -> list[tuple[Scope, str, int, EncryptedTally]]:
        """``(scope, id, ballot count, tally)``: every station in manifest order, every region, the nation.

        This is the exact order of ``tallies.jsonl``.
        """
        out: list[tuple[Scope, str, int, EncryptedTally]] = [
            ("station", sid, acc.count, acc.tally) for sid, acc in self._stations.items()
        ]
        regions: list[_Acc] = []
        for region in self.manifest.regions:
            members = [self._stations[st.station_id] for d in region.districts for st in d.stations]
            racc = _Acc(EncryptedTally.sum(m.tally for m in members), sum(m.count for m in members))
            regions.append(racc)
            out.append(("region", region.region_id, racc.count, racc.tally))
        nation = EncryptedTally.sum(r.tally for r in regions)
        out.append(("nation", NATION_ID, sum(r.count for r in regions), nation))
        return out


def aggregate_tallies(
    manifest: Manifest, params: ElectionParameters, cast_ballots: Iterable[tuple[str, EncryptedBallot]]
) -> list[tuple[Scope, str, int, EncryptedTally]]:
    """Sum cast ballots ``(station_id, ballot)`` per station, region and nation (see ``StationSums``)."""
    sums = StationSums(manifest, params)
    for station_id, ballot in cast_ballots:
        sums.add(station_id, ballot)
    return sums.roll_up()


def decrypt_tallies(
    params: ElectionParameters,
    tallies: Sequence[tuple[Scope, str, int, EncryptedTally]],
    present: Sequence[Guardian],
) -> list[TallyEntry]:
    """Decrypt every tally with the guardians present (at least the quorum), with proofs."""
    entries = []
    for scope, sid, count, tally in tallies:
        partials = [partial_decrypt(g, tally, published=params) for g in present]
        plaintext = combine_decryption(params, tally, partials, max_count=max(count, 1))
        entries.append(TallyEntry(scope, sid, count, tally, plaintext))
    return entries


def results_summary(manifest: Manifest, entries: Sequence[TallyEntry]) -> dict[str, Any]:
    """The content of ``results.json``: decrypted counts by nation, region and station, per contest."""
    by_scope: dict[str, dict[str, Any]] = {"station": {}, "region": {}, "nation": {}}
    for e in entries:
        by_scope[e.scope][e.scope_id] = {"ballots": e.ballot_count, "counts": e.counts()}
    nation = by_scope["nation"].get(NATION_ID, {"ballots": 0, "counts": {}})
    return {
        "format": fmt.RECORD_FORMAT,
        "election_id": manifest.election_id,
        "nation": nation,
        "regions": by_scope["region"],
        "stations": by_scope["station"],
    }
