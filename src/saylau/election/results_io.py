"""Reading and writing a results directory: station protocols, turnout snapshots, summary JSON.

Layout (all UTF-8):

``stations.csv``
    exactly ``station,region,registered,voted,<one column per option, header = its English name>``;
    ``voted`` = voters who received a ballot. Forensics tools read this file; nothing is appended.
``stations_meta.csv``
    ``station,district,abroad,time_zone,settlement,valid,invalid,ballots_received,ballots_issued,
    spoiled,unused,ballots_in_boxes,reported_at_utc``.
``turnout.csv``
    ``station,region,time_zone,<HH:MM>...``: cumulative voters at each local reporting time.
``results.json``
    scenario reference, options, rules, national and regional totals, the rule decision.

:func:`load_results` rebuilds every total from the station files and checks it against
``results.json``, so a results directory cannot claim figures its stations do not add up to.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from saylau.election.aggregation import LevelTable, StationTable, aggregate
from saylau.election.manifest import plain_language
from saylau.election.protocols import ProtocolBook
from saylau.election.rules import Decision, ElectoralRules, decide
from saylau.election.scenario import Option, Scenario
from saylau.errors import ElectionError

__all__ = [
    "RESULTS_FORMAT",
    "LoadedResults",
    "level_dict",
    "load_results",
    "national_json",
    "write_book_results",
    "write_results",
]

RESULTS_FORMAT = "saylau-results/1"
_META = [
    "station", "district", "abroad", "time_zone", "settlement", "valid", "invalid", "ballots_received",
    "ballots_issued", "spoiled", "unused", "ballots_in_boxes", "reported_at_utc",
]  # fmt: skip


def level_dict(lt: LevelTable, names: dict[str, str]) -> dict[str, dict[str, int]]:
    """A level's rows as ``{unit: {registered, took_part, valid, invalid, <option name>: n}}``."""
    out: dict[str, dict[str, int]] = {}
    for i, key in enumerate(lt.keys):
        row = {
            "stations": int(lt.stations[i]),
            "registered": int(lt.registered[i]),
            "took_part": int(lt.voted[i]),
            "valid": int(lt.valid[i]),
            "invalid": int(lt.invalid[i]),
        }
        row.update({names[o]: int(v) for o, v in zip(lt.options, lt.votes[i], strict=True)})
        out[key] = row
    return out


def write_results(
    out: Path,
    scenario: Scenario,
    table: StationTable,
    meta: dict[str, list[Any]],
    turnout_times: tuple[str, ...],
    turnout_counts: np.ndarray[Any, np.dtype[np.int64]],
    extra: dict[str, Any] | None = None,
) -> Decision:
    """Write the four files; ``meta`` holds the ``stations_meta.csv`` columns other than station."""
    out.mkdir(parents=True, exist_ok=True)
    names = {o.id: o.name.get(scenario.column_language) for o in scenario.options}
    with (out / "stations.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["station", "region", "registered", "voted", *(names[o] for o in table.options)])
        for i, sid in enumerate(table.station):
            w.writerow(
                [
                    sid,
                    table.region[i],
                    int(table.registered[i]),
                    int(table.voted[i]),
                    *table.votes[i].tolist(),
                ]
            )
    with (out / "stations_meta.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(_META)
        cols = [meta[c] for c in _META[1:]]
        for i, sid in enumerate(table.station):
            w.writerow([sid, *(c[i] for c in cols)])
    with (out / "turnout.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["station", "region", "time_zone", *turnout_times])
        for i, sid in enumerate(table.station):
            w.writerow([sid, table.region[i], meta["time_zone"][i], *turnout_counts[i].tolist()])
    regions = tuple(r.id for r in scenario.territory_index.regions)
    nat = aggregate(table, "country", ("country",))
    decision = decide(scenario.rules, nat.totals("country", scenario.against_all))
    summary = {
        "format": RESULTS_FORMAT,
        "scenario": {
            "name": scenario.path.name,
            "election_id": scenario.election_id,
            "date": str(scenario.date),
        },
        "options": [o.model_dump(mode="json") for o in scenario.options],
        "regions": {r.id: r.name.model_dump() for r in scenario.territory_index.regions},
        "rules": scenario.rules.model_dump(mode="json"),
        "national": level_dict(nat, names)["country"],
        "by_region": level_dict(
            aggregate(table, "region", tuple(r for r in regions if r in set(table.region))), names
        ),
        "turnout_national": dict(
            zip(turnout_times, (int(x) for x in turnout_counts.sum(axis=0)), strict=True)
        ),
        "decision": decision.model_dump(mode="json"),
        **(extra or {}),
    }
    (out / "results.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return decision


def write_book_results(out: Path, scenario: Scenario, book: ProtocolBook) -> Decision:
    """Write a results directory from the accepted protocols of a :class:`ProtocolBook`.

    Turnout snapshots are not part of a protocol, so ``turnout.csv`` holds the closing count only;
    ``reported_at_utc`` is the signing time of each station's latest accepted version.
    """
    terr = scenario.territory_index
    parents = {s: terr.parent_chain(s)[1:] for s in book.stations_reported()}
    table = book.table(parents)
    current = [book.current(s) for s in table.station]
    meta: dict[str, list[Any]] = {
        "district": list(table.district),
        "abroad": [int(terr.region_by_id[r].kind == "abroad") for r in table.region],
        "time_zone": [terr.time_zone(s) for s in table.station],
        "settlement": [terr.station_by_id[s].settlement for s in table.station],
        "valid": table.valid.tolist(),
        "invalid": table.invalid.tolist(),
        "ballots_received": [p.figures.ballots_received for p in current],
        "ballots_issued": [p.figures.ballots_issued for p in current],
        "spoiled": [p.figures.ballots_spoiled for p in current],
        "unused": [p.figures.ballots_unused for p in current],
        "ballots_in_boxes": [p.figures.ballots_in_boxes for p in current],
        "reported_at_utc": [p.signed_at.astimezone(UTC).isoformat(timespec="seconds") for p in current],
    }
    close = (scenario.rules.polls_close_local,)
    extra = {
        "protocol_versions": {s: len(book.history(s)) for s in table.station if len(book.history(s)) > 1}
    }
    return write_results(out, scenario, table, meta, close, table.voted[:, None], extra=extra)


@dataclass(frozen=True)
class LoadedResults:
    """A results directory read back and re-aggregated from its station files."""

    table: StationTable
    options: tuple[Option, ...]
    rules: ElectoralRules
    against_all: str | None
    region_names: dict[str, dict[str, str]]
    summary: dict[str, Any]
    reported_at: tuple[datetime | None, ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the option names are given in (the scenario's)."""
        return self.options[0].name.languages

    def names(self, lang: str | None = None) -> dict[str, str]:
        """Option id → display name in ``lang`` (default: English where given, else the first language)."""
        lang = lang or plain_language(self.languages)
        return {o.id: o.name.get(lang) for o in self.options}

    def decision(self) -> Decision:
        """The rule decision recomputed from the station files."""
        return decide(
            self.rules, aggregate(self.table, "country", ("country",)).totals("country", self.against_all)
        )

    def national_json(self) -> dict[str, Any]:
        """National totals, every option by name, and the decision (the ``results --json`` output)."""
        return national_json(self)


def national_json(res: LoadedResults) -> dict[str, Any]:
    """See :meth:`LoadedResults.national_json`."""
    nat = level_dict(aggregate(res.table, "country", ("country",)), res.names())["country"]
    d = res.decision()
    names = res.names()
    return {
        "election_id": res.summary.get("scenario", {}).get("election_id"),
        "registered": nat["registered"],
        "took_part": nat["took_part"],
        "valid": nat["valid"],
        "invalid": nat["invalid"],
        "stations": nat["stations"],
        "options": {names[o]: nat[names[o]] for o in res.table.options},
        "decision": {
            "outcome": d.outcome,
            "winner": names.get(d.winner) if d.winner else None,
            "runoff": [names[o] for o in d.runoff],
            "tied": [names[o] for o in d.tied],
            "explanation": d.explain("en", names),
        },
    }


def _int(row: dict[str, str], col: str, where: str) -> int:
    try:
        return int(row[col])
    except (KeyError, TypeError, ValueError):
        raise ElectionError(f"{where}: column {col!r} is missing or not an integer") from None


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ElectionError(f"stations_meta.csv: reported_at_utc {text!r} is not an ISO date-time") from None


def load_results(directory: Path) -> LoadedResults:
    """Read a results directory and check ``results.json`` against the station files."""
    try:
        summary: dict[str, Any] = json.loads((directory / "results.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ElectionError(f"{directory}: results.json not found (is this a results directory?)") from None
    if summary.get("format") != RESULTS_FORMAT:
        raise ElectionError(
            f"{directory}/results.json: format {summary.get('format')!r} != {RESULTS_FORMAT!r}"
        )
    options = tuple(Option.model_validate(o) for o in summary["options"])
    rules = ElectoralRules.model_validate(summary["rules"])
    lang = plain_language(options[0].name.languages)
    header_names = [o.name.get(lang) for o in options]
    with (directory / "stations.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        expected = ["station", "region", "registered", "voted", *header_names]
        if reader.fieldnames != expected:
            raise ElectionError(f"{directory}/stations.csv: header {reader.fieldnames} != {expected}")
        rows = list(reader)
    with (directory / "stations_meta.csv").open(newline="", encoding="utf-8") as fh:
        meta = {r["station"]: r for r in csv.DictReader(fh)}
    n = len(rows)
    station = tuple(r["station"] for r in rows)
    missing = [s for s in station if s not in meta]
    if missing:
        raise ElectionError(f"{directory}/stations_meta.csv: no row for station {missing[0]!r}")
    where = f"{directory}/stations.csv"
    votes = np.array(
        [[_int(r, h, f"{where} station {r['station']}") for h in header_names] for r in rows], dtype=np.int64
    ).reshape(n, len(options))
    table = StationTable(
        station=station,
        district=tuple(meta[s]["district"] for s in station),
        region=tuple(r["region"] for r in rows),
        options=tuple(o.id for o in options),
        registered=np.array([_int(r, "registered", where) for r in rows], dtype=np.int64),
        voted=np.array([_int(r, "voted", where) for r in rows], dtype=np.int64),
        valid=votes.sum(axis=1),
        invalid=np.array([_int(meta[s], "invalid", f"{where} meta {s}") for s in station], dtype=np.int64),
        votes=votes,
    )
    res = LoadedResults(
        table=table,
        options=options,
        rules=rules,
        against_all=next((o.id for o in options if o.kind == "against_all"), None),
        region_names=summary.get("regions", {}),
        summary=summary,
        reported_at=tuple(_when(meta[s].get("reported_at_utc")) for s in station),
    )
    recomputed = level_dict(aggregate(table, "country", ("country",)), res.names())["country"]
    if recomputed != summary.get("national"):
        raise ElectionError(f"{directory}/results.json: national totals differ from the sum of stations.csv")
    return res
