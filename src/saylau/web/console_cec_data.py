"""What the CEC console shows, read through the API's own endpoint functions.

Every figure on the station-reporting dashboard comes from ``GET /elections/{id}/protocols``,
``GET /elections/{id}/turnout`` and ``GET /elections/{id}/roll`` (the functions, called with the
signed-in caller), so the page and the API cannot disagree; the station list and names are the
manifest's. Sorting and the flag filter are query parameters (``sort``, ``order``, ``flag``), so they
work without JavaScript. The forensic flags are those of the observer console's forensic report
(``saylau.web.observer_forensics``: the ``saylau forensics`` suite on the stored protocols).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from saylau.api.routes_admin import get_election_endpoint
from saylau.api.routes_ceremony import list_guardians
from saylau.api.routes_results import job_view
from saylau.api.routes_stations import list_protocols, list_turnout, roll_counts
from saylau.api.state import AppState
from saylau.election.manifest import LocalizedText
from saylau.forensics.flags import FLAGS
from saylau.store.accounts import TokenInfo
from saylau.store.models import GuardianShare, Job
from saylau.web import observer_forensics

__all__ = [
    "SORT_KEYS", "ForensicFlags", "GuardianProgress", "StationReport", "ceremony", "election_jobs",
    "forensic_flags", "region_summary", "rejected_rows", "sort_reports", "station_reports", "text_in",
]

SORT_KEYS = ("station", "region", "turnout_reports", "voted", "protocol_versions", "status", "failures",
             "flags")
"""The dashboard's sortable columns (``?sort=…&order=asc|desc``)."""

JOB_KINDS = ("tally", "decrypt", "verify", "import_roll")


def text_in(value: dict[str, str], lang: str) -> str:
    """A manifest text in ``lang``, or in its first language."""
    text = LocalizedText(value)
    return text.get(lang) if lang in text.root else text.get(text.languages[0])


@dataclass
class StationReport:
    """One station's line on the dashboard."""

    station: str
    name: str
    region: str
    region_name: str
    registered: int | None
    turnout_reports: int = 0
    voted: int | None = None  # the latest turnout figure
    protocol_versions: int = 0
    status: str = ""  # the latest version's reconciliation: matches / differs / impossible ("" = none)
    failures: list[str] = field(default_factory=list)  # relations the latest version fails
    flags: list[str] = field(default_factory=list)  # forensic flags (saylau.forensics.flags.FLAGS)

    def sort_value(self, key: str) -> Any:
        """The value sorted on (a missing figure sorts first)."""
        value = getattr(self, key)
        if key in ("failures", "flags"):
            return len(value)
        return (value is not None, value if value is not None else 0)


def station_reports(state: AppState, caller: TokenInfo, election_id: str, lang: str) -> list[StationReport]:
    """Every station of the manifest with what the API lists of its turnout and protocols."""
    election = get_election_endpoint(election_id, state, caller)
    counts = roll_counts(election_id, state, caller)["stations"]
    out: dict[str, StationReport] = {}
    for r in election["manifest"]["regions"]:
        for d in r["districts"]:
            for s in d["stations"]:
                sid = s["station_id"]
                out[sid] = StationReport(sid, text_in(s["name"], lang), r["region_id"],
                                         text_in(r["name"], lang), counts.get(sid, {}).get("registered"))
    for row in list_turnout(election_id, state, caller):  # time order: the last one is the latest
        rep = out.get(row["station_id"])
        if rep is not None:
            rep.turnout_reports += 1
            rep.voted = int(row["voted"])
    for p in list_protocols(election_id, state, caller):  # station, then version order
        rep = out.get(p["station_id"])
        if rep is not None:
            rec = p["reconciliation"]
            rep.protocol_versions += 1
            rep.status = rec["status"]
            rep.failures = [d["relation"] for d in rec["differences"]]
            if rec["status"] == "impossible":
                rep.failures = [rec.get("detail", "impossible")]
    return list(out.values())


def sort_reports(reports: list[StationReport], key: str, order: str) -> list[StationReport]:
    """The reports sorted by ``key`` (station id breaks ties)."""
    if key not in SORT_KEYS:
        key = "station"
    by_station = sorted(reports, key=lambda r: r.station)
    return sorted(by_station, key=lambda r: r.sort_value(key), reverse=order == "desc")


def region_summary(reports: list[StationReport]) -> list[dict[str, Any]]:
    """Per region: stations, how many reported turnout and a protocol, and how many differ."""
    regions: dict[str, dict[str, Any]] = {}
    for r in reports:
        g = regions.setdefault(r.region, {"region": r.region, "name": r.region_name, "stations": 0,
                                          "turnout": 0, "protocols": 0, "differs": 0})
        g["stations"] += 1
        g["turnout"] += r.turnout_reports > 0
        g["protocols"] += r.protocol_versions > 0
        g["differs"] += r.status in ("differs", "impossible")
    for g in regions.values():
        g["share"] = g["protocols"] / g["stations"] if g["stations"] else 0.0
    return sorted(regions.values(), key=lambda g: g["region"])


@dataclass
class ForensicFlags:
    """The flags shown, and the report's ``state``: ``none``, ``running``, ``done`` or ``failed``.

    ``none``: no protocol yet; ``running``: no report finished yet; ``newer``: protocols arrived since
    the report shown, and a new one is being computed.
    """

    state: str
    newer: bool = False
    by_station: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)  # the suite's tests with p below its level
    error: str | None = None

    @property
    def flagged(self) -> int:
        """Stations with at least one flag."""
        return len(self.by_station)


def forensic_flags(state: AppState, election_id: str) -> ForensicFlags:
    """The flags of the latest finished forensic report (starting the current one if nobody has)."""
    current, latest, stations = observer_forensics.report_for(state, election_id)
    if stations == 0:
        return ForensicFlags("none")
    shown = current if current is not None and current.state != "running" else latest
    if shown is None:
        return ForensicFlags("running")
    counts = {f: sum(f in fl for fl in shown.flags.values()) for f in FLAGS}
    anomalies = list((shown.summary or {}).get("anomalies", []))
    return ForensicFlags(shown.state, shown is not current, dict(shown.flags), counts, anomalies, shown.error)


@dataclass(frozen=True)
class GuardianProgress:
    """One guardian's steps of the key ceremony."""

    index: int
    record: bool
    shares_sent: int  # of guardians - 1
    finished: bool


def ceremony(state: AppState, caller: TokenInfo, election_id: str, guardians: int) -> list[GuardianProgress]:
    """Which guardians have published their record, sent their shares, and finished."""
    published = {g["index"]: g for g in list_guardians(election_id, state, caller)}
    with state.reading() as session:
        sent = {int(s): int(n) for s, n in session.execute(
            select(GuardianShare.sender, func.count()).where(GuardianShare.election_id == election_id)
            .group_by(GuardianShare.sender)).all()}
    return [GuardianProgress(i, i in published, sent.get(i, 0), bool(published.get(i, {}).get("finished")))
            for i in range(1, guardians + 1)]


def election_jobs(state: AppState, election_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The election's latest jobs as ``GET /jobs/{id}`` shows each (newest first)."""
    with state.reading() as session:
        rows = session.scalars(select(Job).where(Job.election_id == election_id, Job.kind.in_(JOB_KINDS))
                               .order_by(Job.created_at.desc()).limit(limit)).all()
        return [job_view(j) for j in rows]


def rejected_rows(job: dict[str, Any]) -> list[dict[str, Any]]:
    """A roll import's rejected rows (row, field, reason): kept ones skipped, or a refused file's."""
    result = job.get("result") or {}
    return list(result.get("rejected") or result.get("rows") or [])
