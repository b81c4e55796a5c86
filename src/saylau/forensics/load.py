"""Read station results from a CSV, a results directory or an election record, cleaning messy rows.

Published station data is messy (missing cells, zero-registered stations, repeated station ids,
more ballots than voters); every row we drop is counted under its reason so the report can say
exactly what was left out and why, instead of silently analysing a different election.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

import numpy as np

from saylau.errors import ForensicsError
from saylau.forensics.data import StationResults, TurnoutSnapshots

__all__ = [
    "CleaningReport",
    "load_input",
    "read_record",
    "read_station_csv",
    "read_turnout_csv",
    "write_station_csv",
]

FIXED = ("station", "region", "registered", "voted")
RESULT_NAMES = ("stations.csv", "station_results.csv", "results.csv")
_MISSING = {"", "na", "n/a", "nan", "null", "none", "-"}
_EXAMPLES = 5


@dataclass
class CleaningReport:
    """What the loader kept and dropped, with reasons and a few example station ids per reason."""

    source: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    lines: dict[str, list[int]] = field(default_factory=dict)

    def drop(self, reason: str, station: str, count: int = 1, line: int | None = None) -> None:
        """Record ``count`` rows dropped for ``reason`` (``line``: the file line of the row, from 1)."""
        self.dropped[reason] += count
        ex = self.examples.setdefault(reason, [])
        if len(ex) < _EXAMPLES:
            ex.append(station)
        if line is not None:
            at = self.lines.setdefault(reason, [])
            if len(at) < _EXAMPLES:
                at.append(line)

    def where(self) -> str:
        """The reasons with the first lines dropped for each: ``reason: 2 (line 3, 7)``; empty if none."""
        parts = []
        for reason, n in self.dropped.items():
            at = self.lines.get(reason)
            parts.append(f"{reason}: {n}" + (f" (line {', '.join(map(str, at))})" if at else ""))
        return "; ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_dropped": int(sum(self.dropped.values())),
            "dropped_by_reason": dict(self.dropped),
            "examples": self.examples,
            "lines": self.lines,
            "notes": self.notes,
        }


def _parse_count(cell: str) -> int | None:
    """A non-negative integer count, ``None`` for a missing cell; raise ValueError on garbage."""
    if cell.isdigit() and cell.isascii():
        return int(cell)
    text = cell.strip().replace("\u00a0", "").replace(" ", "")
    if text.lower() in _MISSING:
        return None
    value = float(text) if re.fullmatch(r"\d+\.0*", text) else int(text)
    if value < 0:
        raise ValueError(text)
    return int(value)


def read_station_csv(path: Path) -> tuple[StationResults, CleaningReport]:
    """Read ``station,region,registered,voted,<option columns>`` and drop rows that cannot be analysed.

    Reasons, checked in this order: a missing cell; a cell that is not a non-negative integer;
    zero registered voters; more ballots issued than registered voters; more valid votes than ballots
    issued; a station id repeated with different figures (all its rows dropped; exact repeats keep one).
    """
    report = CleaningReport(source=str(path))
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ForensicsError(f"{path}: cannot open station results ({exc})") from exc
    try:
        return _read_station_rows(path, handle, report)
    except UnicodeDecodeError as exc:
        raise ForensicsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise ForensicsError(f"{path}: not CSV after data row {report.rows_read} ({exc})") from None


def _read_station_rows(
    path: Path, handle: TextIO, report: CleaningReport
) -> tuple[StationResults, CleaningReport]:
    with handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        if [h.lower() for h in header[:4]] != list(FIXED) or len(header) < 6:
            raise ForensicsError(
                f"{path}: header must start with {','.join(FIXED)} and name at least two options, "
                f"got {header}"
            )
        options = tuple(header[4:])
        width = len(header)
        rows: dict[str, tuple[str, tuple[int, ...]]] = {}
        conflicted: set[str] = set()
        for raw in reader:
            if not raw or all(not c.strip() for c in raw):
                continue
            report.rows_read += 1
            line = reader.line_num
            station = raw[0].strip()
            if len(raw) != width:
                report.drop("wrong number of cells", station, line=line)
                continue
            try:
                parsed = [_parse_count(c) for c in raw[2:]]
            except ValueError:
                report.drop("a count is not a non-negative integer", station, line=line)
                continue
            if not station or any(p is None for p in parsed):
                report.drop("missing value", station or "?", line=line)
                continue
            counts = tuple(int(p) for p in parsed if p is not None)
            reg, voted, valid = counts[0], counts[1], sum(counts[2:])
            if reg == 0:
                report.drop("zero registered voters", station, line=line)
                continue
            if voted > reg:
                report.drop("more ballots issued than registered voters", station, line=line)
                continue
            if valid > voted:
                report.drop("more valid votes than ballots issued", station, line=line)
                continue
            key = (raw[1].strip(), counts)
            if station in conflicted:
                report.drop("station id repeated with different figures", station, line=line)
            elif station in rows:
                if rows[station] == key:
                    report.drop("exact duplicate row", station, line=line)
                else:
                    del rows[station]
                    conflicted.add(station)
                    report.drop("station id repeated with different figures", station, count=2, line=line)
            else:
                rows[station] = key
    if not rows:
        raise ForensicsError(f"{path}: no usable station rows ({report.where() or 'no data rows'})")
    report.rows_kept = len(rows)
    ids = list(rows)
    counts_arr = np.array([rows[s][1] for s in ids], dtype=np.int64)
    results = StationResults(
        stations=np.asarray(ids, dtype=np.str_),
        regions=np.asarray([rows[s][0] for s in ids], dtype=np.str_),
        registered=counts_arr[:, 0],
        voted=counts_arr[:, 1],
        votes=counts_arr[:, 2:],
        options=options,
    )
    return results, report


def _hours(label: str) -> float:
    """Hours since midnight from ``HH:MM``, an ISO timestamp, or a plain number of hours."""
    text = label.strip()
    if re.fullmatch(r"\d{1,2}:\d{2}", text):
        hh, mm = text.split(":")
        return int(hh) + int(mm) / 60
    try:
        return float(text)
    except ValueError:
        stamp = datetime.fromisoformat(text)
        return stamp.hour + stamp.minute / 60 + stamp.second / 3600


def read_turnout_csv(path: Path) -> TurnoutSnapshots:
    """Read turnout snapshots, long (``station,<time>,voted``) or wide (``station,...,<HH:MM>...``).

    Long form: the time column may be named ``time``, ``hour`` or ``at``; values are ``HH:MM``, ISO
    timestamps or hours. Wide form (the results directory of ``saylau simulate``): every ``HH:MM``
    column is a local reporting time. Stations missing a snapshot are carried forward from their
    previous one (0 before the first).
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [h.strip().lower() for h in next(reader, [])]
            numbered = [(reader.line_num, r) for r in reader if r]
    except UnicodeDecodeError as exc:
        raise ForensicsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise ForensicsError(f"{path}: not CSV ({exc})") from None
    body = [r for _, r in numbered]
    line = 0  # the file line of the row being read, for the error message
    if not header or header[0] != "station":
        raise ForensicsError(f"{path}: turnout snapshots need a first column 'station', got {header}")
    time_cols = [i for i, h in enumerate(header) if h in ("time", "hour", "at", "timestamp")]
    try:
        if time_cols and "voted" in header:
            ti, vi = time_cols[0], header.index("voted")
            labels: dict[str, float] = {}  # a handful of distinct times, parsed once each
            values_long: list[int] = []
            for row_line, r in numbered:
                line = row_line
                if r[ti] not in labels:
                    labels[r[ti]] = _hours(r[ti])
                values_long.append(int(float(r[vi])))
            station_col = [r[0].strip() for r in body]
            time_col = np.array([labels[r[ti]] for r in body], dtype=np.float64)
            value_col = np.array(values_long, dtype=np.int64)
        else:
            # wide form; other columns (region, time_zone, ...) are ignored
            cols = [(i, _hours(h)) for i, h in enumerate(header) if re.fullmatch(r"\d{1,2}:\d{2}", h)]
            if not cols:
                raise ForensicsError(f"{path}: no time column (HH:MM or time/hour + voted) in {header}")
            station_col, times, values = [], [], []
            for row_line, r in numbered:
                line = row_line
                for i, t in cols:
                    if i < len(r) and r[i].strip():
                        station_col.append(r[0].strip())
                        times.append(t)
                        values.append(int(float(r[i])))
            time_col = np.array(times, dtype=np.float64)
            value_col = np.array(values, dtype=np.int64)
    except (ValueError, IndexError) as exc:
        where = f"line {line}: " if line else ""
        raise ForensicsError(f"{path}: {where}unreadable turnout snapshot ({exc})") from exc
    # stations keep their order of first appearance
    names = np.asarray(station_col, dtype=np.str_)
    uniq, first, inverse = np.unique(names, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    hours, t_index = np.unique(time_col, return_inverse=True)
    voted = np.zeros((len(uniq), len(hours)), dtype=np.int64)
    voted[rank[inverse], t_index] = value_col
    voted = np.maximum.accumulate(voted, axis=1)
    ids = uniq[order]
    return TurnoutSnapshots(ids, hours.astype(np.float64), voted)


def _find_results_file(directory: Path) -> Path:
    """The station results file inside a results directory or an election record."""
    for name in RESULT_NAMES:
        for candidate in (directory / name, directory / "results" / name):
            if candidate.is_file():
                return candidate
    found = sorted(p for name in RESULT_NAMES for p in directory.rglob(name))
    if found:
        return found[0]
    raise ForensicsError(f"{directory}: no station results file ({', '.join(RESULT_NAMES)}) found")


def read_record(directory: Path, contest: int = 0) -> tuple[StationResults, CleaningReport]:
    """Station counts of one contest from an election record (``manifest.json`` + ``results.json``).

    The record (docs/record-format.md §9) gives each station's cast ballots and decrypted counts per
    selection, but not its registered voters, so the results are marked ``registered_known = False``
    and the turnout-based tests are skipped. Option names are the selections' English names.
    """
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        record = json.loads((directory / "results.json").read_text(encoding="utf-8"))
        spec = manifest["contests"][contest]
        selections = [(s["selection_id"], s["name"]["en"]) for s in spec["selections"]]
        region_of = {
            st["station_id"]: reg["region_id"]
            for reg in manifest["regions"]
            for dist in reg["districts"]
            for st in dist["stations"]
        }
        stations = record["stations"]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ForensicsError(f"{directory}: unreadable election record ({exc!r})") from exc
    report = CleaningReport(source=str(directory))
    ids, regions, ballots, rows = [], [], [], []
    for sid, entry in stations.items():
        report.rows_read += 1
        counts = entry.get("counts", {}).get(spec["contest_id"])
        if counts is None or any(sel not in counts for sel, _ in selections):
            report.drop("missing value", sid)
            continue
        if int(entry.get("ballots", 0)) == 0:
            report.drop("no ballots cast", sid)
            continue
        ids.append(sid)
        regions.append(region_of.get(sid, "?"))
        ballots.append(int(entry["ballots"]))
        rows.append([int(counts[sel]) for sel, _ in selections])
    if not ids:
        raise ForensicsError(f"{directory}: the election record has no station with ballots")
    report.rows_kept = len(ids)
    report.notes.append("registered voters are not in the election record: turnout-based tests are skipped")
    voted = np.asarray(ballots, dtype=np.int64)
    results = StationResults(
        stations=np.asarray(ids, dtype=np.str_),
        regions=np.asarray(regions, dtype=np.str_),
        registered=voted.copy(),
        voted=voted,
        votes=np.asarray(rows, dtype=np.int64),
        options=tuple(name for _, name in selections),
        registered_known=False,
    )
    return results, report


def _is_record(directory: Path) -> bool:
    results = directory / "results.json"
    if not (directory / "manifest.json").is_file() or not results.is_file():
        return False
    try:
        head = json.loads(results.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return isinstance(head, dict) and str(head.get("format", "")).startswith("saylau-record")


def load_input(path: Path) -> tuple[StationResults, CleaningReport]:
    """Station results (with turnout snapshots when a ``turnout.csv`` sits beside them) and the report."""
    if path.is_dir() and _is_record(path):
        return read_record(path)
    if path.is_dir():
        csv_path = _find_results_file(path)
    elif path.is_file():
        csv_path = path
    else:
        raise ForensicsError(f"{path}: no such file or directory")
    results, report = read_station_csv(csv_path)
    turnout = csv_path.parent / "turnout.csv"
    if turnout.is_file():
        snaps = read_turnout_csv(turnout)
        keep = np.isin(snaps.stations, results.stations)
        snaps = TurnoutSnapshots(snaps.stations[keep], snaps.hours, snaps.voted[keep])
        results = StationResults(
            results.stations, results.regions, results.registered, results.voted, results.votes,
            results.options, snaps,
        )
    return results, report


def write_station_csv(results: StationResults, path: Path) -> Path:
    """Write ``station,region,registered,voted,<options>`` (and ``turnout.csv`` beside it, long form)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*FIXED, *results.options])
        for i in range(results.n):
            writer.writerow(
                [results.stations[i], results.regions[i], int(results.registered[i]), int(results.voted[i]),
                 *results.votes[i].tolist()]
            )
    snaps = results.snapshots
    if snaps is not None:
        with (path.parent / "turnout.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["station", "hour", "voted"])
            for i, s in enumerate(snaps.stations.tolist()):
                for h, v in zip(snaps.hours.tolist(), snaps.voted[i].tolist(), strict=True):
                    writer.writerow([s, f"{h:g}", v])
    return path
