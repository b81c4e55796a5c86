"""The forensic report of an election's station protocols, for the observer's console.

The input is what the stations signed: each station's latest protocol version (registered voters,
ballots issued, votes per option of the first contest) and its turnout reports. It is written as the
CSV ``saylau forensics`` reads (``station,region,registered,voted,<options>`` and ``turnout.csv``), then
``saylau.forensics.load.load_input`` cleans it and ``saylau.forensics.report.write_report`` runs the
suite and draws the plots: the same code and the same p-values as the command line, nothing re-done.

A report is computed once per input (keyed by the SHA-256 of the two CSV files) in a background thread,
so a national election's minutes of Monte-Carlo never hold a request; pages show the latest finished
report and say when a newer one is being computed. Reports live in a temporary directory of this
process (a restart recomputes them). Each report also holds its per-station flags
(``saylau.forensics.flags``), which the CEC's station-reporting dashboard shows.
"""

from __future__ import annotations

import atexit
import csv
import hashlib
import io
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from saylau.api.state import AppState
from saylau.errors import ForensicsError
from saylau.forensics.flags import station_flags
from saylau.forensics.load import load_input
from saylau.forensics.report import DESCRIPTIONS, write_report
from saylau.store.models import Election, ProtocolRow, Station, TurnoutRow

__all__ = ["DESCRIPTIONS", "ForensicReport", "inputs", "report_for"]

log = logging.getLogger("saylau.web.forensics")

REPLICATIONS = 200
FINGERPRINT_REPLICATIONS = 99


@dataclass
class ForensicReport:
    """One computation: ``state`` is ``running``, ``done`` or ``failed`` (``error`` says why)."""

    digest: str
    directory: Path
    state: str = "running"
    summary: dict[str, Any] | None = None
    images: list[str] = field(default_factory=list)
    error: str | None = None
    flags: dict[str, list[str]] = field(default_factory=dict)  # station → its flags (FLAGS order)


@dataclass(frozen=True)
class Inputs:
    """The protocols as the forensics' CSV files, and how many stations have one."""

    stations_csv: str
    turnout_csv: str
    stations: int

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for text in (self.stations_csv, self.turnout_csv):
            h.update(text.encode())
            h.update(b"\0")
        return h.hexdigest()


_LOCK = threading.Lock()


def _scratch() -> Path:
    """A temporary directory for one server's reports, removed when the process exits."""
    path = Path(tempfile.mkdtemp(prefix="saylau-forensics-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@dataclass
class _Reports:
    """One server's reports: by (election, input digest), and the latest finished one per election."""

    by_input: dict[tuple[str, str], ForensicReport] = field(default_factory=dict)
    latest: dict[str, ForensicReport] = field(default_factory=dict)
    root: Path = field(default_factory=_scratch)


def _reports(state: AppState) -> _Reports:
    """The reports kept on this server's state (two servers in one process never share them)."""
    with _LOCK:
        found = vars(state).get("_observer_forensics")
        if found is None:
            found = vars(state)["_observer_forensics"] = _Reports()
        return found


def inputs(state: AppState, election_id: str) -> Inputs:
    """Each station's latest protocol (first contest) and its turnout reports, as the loader's CSV."""
    with state.reading() as session:
        e = session.get(Election, election_id)
        assert e is not None
        manifest = e.manifest
        latest: dict[str, dict[str, Any]] = {}
        for row in session.scalars(
            select(ProtocolRow).where(ProtocolRow.election_id == election_id).order_by(ProtocolRow.version)
        ):
            latest[row.station_id] = row.body["figures"]
        regions = dict(session.execute(
            select(Station.id, Station.region).where(Station.election_id == election_id)).all())
        turnout = session.execute(
            select(TurnoutRow.station_id, TurnoutRow.at, TurnoutRow.voted)
            .where(TurnoutRow.election_id == election_id)
            .order_by(TurnoutRow.station_id, TurnoutRow.at)
        ).all()
    options = [s["selection_id"] for s in manifest["contests"][0]["selections"]]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["station", "region", "registered", "voted", *options])
    for sid in sorted(latest):
        f = latest[sid]
        w.writerow([sid, regions.get(sid, "?"), f["registered"], f["ballots_issued"],
                    *(f["votes"].get(o, "") for o in options)])
    zones = {s["station_id"]: s["time_zone"] for r in manifest["regions"] for d in r["districts"]
             for s in d["stations"]}
    snaps = io.StringIO()
    t = csv.writer(snaps, lineterminator="\n")
    t.writerow(["station", "hour", "voted"])
    for sid, at, voted in turnout:
        if sid not in latest:
            continue
        local = datetime.fromisoformat(at).astimezone(ZoneInfo(zones.get(sid, "UTC")))
        t.writerow([sid, f"{local.hour + local.minute / 60:g}", voted])
    return Inputs(out.getvalue(), snaps.getvalue() if turnout else "", len(latest))


def _compute(report: ForensicReport, given: Inputs) -> None:
    try:
        src = report.directory / "input"
        src.mkdir(parents=True, exist_ok=True)
        (src / "stations.csv").write_text(given.stations_csv, encoding="utf-8")
        if given.turnout_csv:
            (src / "turnout.csv").write_text(given.turnout_csv, encoding="utf-8")
        results, cleaning = load_input(src / "stations.csv")
        cleaning.source = "station protocols"
        report.flags = station_flags(results)  # shown even if the suite fails
        seed = int(report.digest[:8], 16)
        summary = write_report(results, cleaning, report.directory / "report", seed=seed,
                               replications=REPLICATIONS, fingerprint_replications=FINGERPRINT_REPLICATIONS)
        report.images = sorted(p.name for p in (report.directory / "report").glob("*.png"))
        late = summary["tests"].get("late_turnout", {}).get("details") or {}
        report.flags = station_flags(results, late.get("flagged_stations", ()))
        report.summary = summary
        report.state = "done"
    except ForensicsError as exc:
        report.error, report.state = str(exc), "failed"
    except Exception as exc:  # a bug must show on the page, not leave it "running" forever
        log.exception("forensics of %s failed", report.digest)
        report.error, report.state = f"{type(exc).__name__}: {exc}", "failed"


def report_for(state: AppState, election_id: str) -> tuple[ForensicReport | None, ForensicReport | None, int]:
    """(the report of the current protocols, the latest finished one, stations with a protocol).

    Starts computing the current one in the background if nobody has; ``None`` without protocols.
    """
    given = inputs(state, election_id)
    kept = _reports(state)
    if given.stations == 0:
        return None, kept.latest.get(election_id), 0
    key = (election_id, given.digest)
    with _LOCK:
        report = kept.by_input.get(key)
        if report is None:
            folder = hashlib.sha256(election_id.encode()).hexdigest()[:16]
            report = ForensicReport(given.digest, kept.root / folder / given.digest)
            kept.by_input[key] = report
            threading.Thread(target=_run, args=(kept, report, given, election_id), daemon=True,
                             name=f"saylau-forensics-{given.digest[:8]}").start()
    return report, kept.latest.get(election_id), given.stations


def _run(kept: _Reports, report: ForensicReport, given: Inputs, election_id: str) -> None:
    _compute(report, given)
    with _LOCK:
        kept.latest[election_id] = report


def image(state: AppState, election_id: str, digest: str, name: str) -> Path | None:
    """A finished report's PNG, if ``name`` is one of its plots."""
    report = _reports(state).by_input.get((election_id, digest))
    if report is None or report.state != "done" or name not in report.images:
        return None
    return report.directory / "report" / name
