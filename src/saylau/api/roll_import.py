"""Voter-roll import: one check for both ways in, and the job that imports a large roll in batches.

``POST /elections/{id}/roll`` imports a CSV in its request, in one transaction (small files);
``?background=true`` stores the file in ``roll_uploads`` and queues the ``import_roll`` job, answering
202 with the job. Both validate through :func:`check_roll` (``saylau.election.voter_roll.import_roll``,
then the voters already on the stored roll) and refuse a file with bad rows as a whole unless
``accept_partial``; both publish the same public counts on the board and answer the same summary.

The job runs in three steps, each committed with its checkpoint so that a resumed job goes on where it
stopped and never stores a voter twice:

1. validation of the whole file (nothing is written before every row is checked). A refused file fails
   the job, naming the problems (the rows also go into the job's ``result``), and is deleted: nothing
   is imported. Otherwise the checkpoint keeps the summary and the positions of the voters to skip;
2. insertion of ``Settings.roll_batch`` voters per transaction, the checkpoint counting those stored;
3. station counts refreshed, counts published, the stored file deleted, the summary kept as the
   checkpoint (so a crash before the job is marked done resumes to the same answer), in one transaction.

While a roll import job is unfinished (queued, running, stalled, or failed after it began storing
voters) the election's roll is held by it: another import and opening the election are refused (409).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from saylau.api.common import get_election, need_phase, voter_id_spec
from saylau.api.routes_results import job_view
from saylau.api.state import AppState
from saylau.api.worker import JobContext
from saylau.election.voter_ids import VoterIdSpec
from saylau.election.voter_roll import RollImport, RowProblem, Voter, import_roll
from saylau.errors import ElectionStateError, RollImportError
from saylau.store.accounts import TokenInfo
from saylau.store.jobs import create_job
from saylau.store.models import Job, RollUpload
from saylau.store.pollbook_store import (
    SqlVoterRoll,
    existing_voter_ids,
    insert_voters,
    refresh_station_counts,
    station_regions,
)

__all__ = [
    "JOB_KIND",
    "RollCheck",
    "RollRejected",
    "check_roll",
    "hold_of_roll",
    "import_roll_job",
    "problem_rows",
    "publish_roll",
    "queue_roll_import",
    "refuse_while_importing",
    "rejected_response",
]

JOB_KIND = "import_roll"
_LOOKUP = 50_000  # voters looked up in the stored roll between two progress reports
_LISTED = 20  # problems named in a refusal's message (all of them are in its rows)


@dataclass
class RollCheck:
    """A roll file checked against an election: what to store, what is wrong with it."""

    voters: list[Voter]
    """Every valid voter of the file, in file order, each with their station (assigned if none)."""
    skipped: list[int]
    """Positions in ``voters`` of voters already on the stored roll (bad rows, not stored again)."""
    problems: list[RowProblem]
    """Every bad row's problems, by row number."""
    rows_read: int
    duplicates_removed: int

    def to_store(self) -> list[Voter]:
        """The voters to insert, in file order."""
        return without(self.voters, self.skipped)

    def refusal(self) -> RollRejected:
        """The whole-file refusal naming the problems (the caller raises it unless ``accept_partial``)."""
        rows_bad = len({p.row for p in self.problems})
        return RollRejected(
            f"voter-roll file: {len(self.problems)} problem(s) in {rows_bad} row(s); nothing imported; "
            + "; ".join(str(p) for p in self.problems[:_LISTED]),
            self.problems,
        )


class RollRejected(RollImportError):
    """A roll import refused as a whole; carries the rows (row, field, reason) for the answer."""

    def __init__(self, message: str, problems: list[RowProblem]) -> None:
        super().__init__(message)
        self.problems = problems


def problem_rows(problems: list[RowProblem]) -> list[dict[str, Any]]:
    """One object per problem: ``{"row", "field", "reason"}``."""
    return [{"row": p.row, "field": p.field, "reason": p.reason} for p in problems]


def rejected_response(exc: RollRejected) -> JSONResponse:
    """The 422 answer to a refused roll import: message plus one object per bad row."""
    return JSONResponse(
        {"detail": str(exc), "error": "RollImportError", "rows": problem_rows(exc.problems)}, status_code=422
    )


def without(voters: list[Voter], skipped: list[int]) -> list[Voter]:
    """``voters`` less the positions ``skipped``."""
    skip = set(skipped)
    return [v for i, v in enumerate(voters) if i not in skip]


def _row_numbers(text: str, wanted: set[str], column: str) -> dict[str, int]:
    """Row number (header = 1) of the first row holding each voter identifier of ``wanted``."""
    rows = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(rows, [])]
    col = header.index(column)
    out: dict[str, int] = {}
    for n, fields in enumerate(rows, start=2):
        if len(fields) > col and (voter_id := fields[col].strip()) in wanted:
            out.setdefault(voter_id, n)
    return out


def _spec(session: Session, election_id: str) -> VoterIdSpec:
    return voter_id_spec(get_election(session, election_id))


def _parse(
    text: str, regions: dict[str, str], report: Callable[[float, str], None] | None, spec: VoterIdSpec
) -> RollImport:
    """``voter_roll.import_roll`` keeping every good row (``RollImportError`` for a bad header)."""
    if report is None:
        return import_roll(text, regions, accept_partial=True, voter_id=spec)
    lines = max(text.count("\n"), 1)
    seen = 0

    def tick(task: str, advance: int, total: int | None) -> None:
        del task, total
        nonlocal seen
        seen += advance
        report(0.8 * min(seen / lines, 1.0), f"{seen} rows checked")

    return import_roll(text, regions, accept_partial=True, progress=tick, voter_id=spec)


def check_roll(
    session: Session, election_id: str, text: str, report: Callable[[float, str], None] | None = None
) -> RollCheck:
    """Validate a roll CSV for an election: every row by ``voter_roll.import_roll``, then the stored roll.

    A voter already on the election's stored roll (an earlier import) is a bad row, reported at the
    first row holding their identifier. Raises ``RollImportError`` only for a file that cannot be read as a
    roll (a missing column); bad rows are returned, for the caller to refuse or to skip.
    ``report(fraction, message)`` hears progress (for a job's heartbeat).
    """
    spec = _spec(session, election_id)
    imported = _parse(text, station_regions(session, election_id), report, spec)
    voters = list(imported.roll)
    taken: set[str] = set()
    for start in range(0, len(voters), _LOOKUP):
        chunk = (v.voter_id for v in voters[start : start + _LOOKUP])
        taken |= existing_voter_ids(session, election_id, chunk)
        if report is not None:
            done = min(start + _LOOKUP, len(voters))
            report(0.8 + 0.2 * done / len(voters), f"{done} of {len(voters)} voters looked up in the roll")
    problems = list(imported.rejected)
    if taken:
        rows = _row_numbers(text, taken, spec.column)
        problems += [
            RowProblem(rows.get(i, 0), spec.column, "already on the stored roll of this election")
            for i in sorted(taken, key=lambda i: rows.get(i, 0))
        ]
    problems.sort(key=lambda p: p.row)
    return RollCheck(
        voters=voters,
        skipped=[i for i, v in enumerate(voters) if v.voter_id in taken],
        problems=problems,
        rows_read=imported.rows_read,
        duplicates_removed=imported.duplicates_removed,
    )


def publish_roll(
    state: AppState,
    session: Session,
    election_id: str,
    imported: int,
    rows_read: int,
    duplicates_removed: int,
    problems: list[dict[str, Any]],
) -> dict[str, Any]:
    """Publish an import's public counts on the board (no person) and return the import's summary."""
    counts = SqlVoterRoll(session, election_id).public_counts()
    entry = state.publish(
        session,
        election_id,
        "note",
        {
            "voter_roll": {
                "imported": imported,
                "rows_read": rows_read,
                "rows_rejected": len({p["row"] for p in problems}),
                "duplicates_removed": duplicates_removed,
                "total": counts["total"],
                "regions": counts["regions"],
            }
        },
    )
    return {
        "imported": imported,
        "rows_read": rows_read,
        "duplicates_removed": duplicates_removed,
        "rejected": problems,
        "total": counts["total"],
        "board_position": entry.position,
    }


def hold_of_roll(session: Session, election_id: str) -> Job | None:
    """The unfinished roll import job of an election, if any (it holds the roll until it is done).

    Unfinished: queued, running or stalled, or failed after it began storing voters (it must be resumed).
    """
    jobs = session.scalars(
        select(Job)
        .where(
            Job.election_id == election_id,
            Job.kind == JOB_KIND,
            Job.state.in_(("pending", "running", "stalled", "failed")),
        )
        .order_by(Job.created_at)
    ).all()
    for job in jobs:
        if job.state != "failed" or (job.checkpoint or {}).get("step") in ("insert", "done"):
            return job
    return None


def refuse_while_importing(session: Session, election_id: str, action: str) -> None:
    """Refuse ``action`` while a roll import job of the election is unfinished (409 naming the job)."""
    job = hold_of_roll(session, election_id)
    if job is not None:
        how = "resume it" if job.state in ("failed", "stalled") else "wait for it"
        raise ElectionStateError(
            f"election {election_id}: {action} refused: voter-roll import job {job.id} is {job.state} "
            f"({job.message}); {how} (GET/POST /jobs/{job.id})"
        )


def queue_roll_import(
    state: AppState, caller: TokenInfo, election_id: str, text: str, accept_partial: bool
) -> dict[str, Any]:
    """Store the file and queue its import (setup phase, no other roll import unfinished); one commit.

    Returns the job's public view (``routes_results.job_view``).
    """
    with state.transaction() as session:
        need_phase(get_election(session, election_id, lock=True), "setup")
        refuse_while_importing(session, election_id, "another voter-roll import")
        job = create_job(
            session, JOB_KIND, {"accept_partial": accept_partial}, caller.username or caller.role, election_id
        )
        session.add(RollUpload(job_id=job.id, election_id=election_id, body=text))
        return job_view(job)


def _upload(ctx: JobContext) -> str:
    with ctx.state.reading() as session:
        text = session.scalar(select(RollUpload.body).where(RollUpload.job_id == ctx.job_id))
    if text is None:
        raise RollImportError(
            f"job {ctx.job_id}: its voter-roll file is no longer stored (a refused file is deleted); "
            "upload a corrected file"
        )
    return text


def _forget_upload(session: Session, job_id: str) -> None:
    session.execute(delete(RollUpload).where(RollUpload.job_id == job_id))


def _validate(
    ctx: JobContext, election_id: str, text: str, accept_partial: bool
) -> tuple[list[Voter], dict[str, Any]]:
    """Step 1: the whole file checked; refused (and deleted), or the insert step's checkpoint recorded."""
    ctx.progress(0.0, "checking the voter-roll file")

    def report(fraction: float, message: str) -> None:
        ctx.progress(0.3 * fraction, message)

    try:
        with ctx.state.reading() as session:
            check = check_roll(session, election_id, text, report)
        if check.problems and not accept_partial:
            raise check.refusal()
    except RollImportError as exc:  # the file is refused as a whole: nothing stored, the file deleted
        rows = problem_rows(exc.problems) if isinstance(exc, RollRejected) else []
        with ctx.state.transaction() as session:
            _forget_upload(session, ctx.job_id)
            session.execute(update(Job).where(Job.id == ctx.job_id).values(result={"rows": rows}))
        raise RollImportError(str(exc)) from None
    voters = check.to_store()
    checkpoint = {
        "step": "insert",
        "stored": 0,
        "voters": len(voters),
        "skipped": check.skipped,
        "rows_read": check.rows_read,
        "duplicates_removed": check.duplicates_removed,
        "rejected": problem_rows(check.problems),
    }
    with ctx.state.transaction() as session:
        need_phase(get_election(session, election_id, lock=True), "setup")
        ctx.record(session, 0.3, f"file checked: {len(voters)} voters to store", checkpoint)
    return voters, checkpoint


def _reparse(ctx: JobContext, election_id: str, text: str, checkpoint: dict[str, Any]) -> list[Voter]:
    """The voters of a file validated before a crash: parsed again (deterministic), less those skipped."""
    with ctx.state.reading() as session:
        regions = station_regions(session, election_id)
        spec = _spec(session, election_id)

    at = 0.3 + 0.7 * int(checkpoint["stored"]) / max(int(checkpoint["voters"]), 1)

    def report(fraction: float, message: str) -> None:
        del fraction  # the progress stays where the job stopped while the file is read again
        ctx.progress(at, f"resuming: {message}")

    voters = without(list(_parse(text, regions, report, spec).roll), checkpoint["skipped"])
    if len(voters) != checkpoint["voters"]:
        raise RollImportError(
            f"job {ctx.job_id}: the file now gives {len(voters)} voters to store, not "
            f"{checkpoint['voters']} as when it was checked; refusing to continue"
        )
    return voters


def import_roll_job(ctx: JobContext) -> dict[str, Any]:
    """Job ``import_roll``: the stored file validated, then stored in batches, each with its checkpoint."""
    if ctx.election_id is None:
        raise ValueError(f"job {ctx.job_id}: no election")
    eid = ctx.election_id
    checkpoint = dict(ctx.checkpoint or {})
    if checkpoint.get("step") == "done":  # finished before a crash: the same answer again
        return dict(checkpoint["result"])
    text = _upload(ctx)
    if checkpoint.get("step") == "insert":
        voters = _reparse(ctx, eid, text, checkpoint)
    else:
        voters, checkpoint = _validate(ctx, eid, text, bool(ctx.params.get("accept_partial", False)))
    stored = int(checkpoint["stored"])
    batch = max(1, ctx.state.settings.roll_batch)
    while stored < len(voters):
        with ctx.state.transaction() as session:
            need_phase(get_election(session, eid, lock=True), "setup")
            stored += insert_voters(session, eid, voters[stored : stored + batch])
            checkpoint = {**checkpoint, "stored": stored}
            fraction = 0.3 + 0.7 * stored / len(voters)
            ctx.record(session, fraction, f"{stored} of {len(voters)} voters stored", checkpoint)
    with ctx.state.transaction() as session:
        need_phase(get_election(session, eid, lock=True), "setup")
        refresh_station_counts(session, eid)
        result = publish_roll(
            ctx.state,
            session,
            eid,
            stored,
            checkpoint["rows_read"],
            checkpoint["duplicates_removed"],
            checkpoint["rejected"],
        )
        _forget_upload(session, ctx.job_id)
        ctx.record(session, 1.0, f"{stored} voters imported", {"step": "done", "result": result})
    return result
