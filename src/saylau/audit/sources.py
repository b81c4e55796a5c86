"""Audit inputs from a station table: the manifest, the reported totals, and hand counts from paper."""

from __future__ import annotations

from pathlib import Path

from saylau.audit.assertions import INVALID
from saylau.audit.manifest import BallotManifest, Batch
from saylau.election.aggregation import StationTable, aggregate
from saylau.election.results_io import LoadedResults, load_results
from saylau.election.rules import Totals

__all__ = ["manifest_from_table", "reported_totals", "results_inputs", "station_counts"]


def station_counts(table: StationTable, i: int) -> dict[str, int]:
    """Row ``i`` as category counts (options and ``invalid``)."""
    out = {o: int(v) for o, v in zip(table.options, table.votes[i], strict=True)}
    out[INVALID] = int(table.invalid[i])
    return out


def manifest_from_table(election_id: str, table: StationTable) -> BallotManifest:
    """One batch per station: its ballots in the box (valid + invalid), kept by its district commission."""
    batches = tuple(
        Batch(
            station=table.station[i],
            region=table.region[i],
            storage=f"district election commission {table.district[i]}",
            ballots=int(table.valid[i] + table.invalid[i]),
            reported=station_counts(table, i),
        )
        for i in range(len(table))
    )
    return BallotManifest(election_id=election_id, options=table.options, batches=batches)


def reported_totals(table: StationTable, against_all: str | None) -> Totals:
    """The national totals the reported decision was made from."""
    return aggregate(table, "country", ("country",)).totals("country", against_all)


def results_inputs(directory: Path) -> tuple[LoadedResults, BallotManifest, Totals]:
    """A results directory's loaded results, its manifest and its reported totals."""
    res = load_results(directory)
    election_id = str(res.summary.get("scenario", {}).get("election_id") or directory.name)
    return res, manifest_from_table(election_id, res.table), reported_totals(res.table, res.against_all)
