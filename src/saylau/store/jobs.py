"""The jobs table: long operations with progress, heartbeat, failure and resumption.

A job is ``pending`` → ``running`` → ``succeeded`` | ``failed``. A running job whose heartbeat is older
than the timeout is marked ``stalled`` (its worker crashed or hung): it is visible through the API and can
be resumed, which puts it back to ``pending`` with its last checkpoint kept, so no job stays silently
pending or running forever.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from saylau.errors import ElectionStateError
from saylau.store.models import Job, utcnow

__all__ = [
    "JOB_STATES",
    "claim_next",
    "create_job",
    "fail_job",
    "finish_job",
    "heartbeat",
    "mark_stalled",
    "resume_job",
]

JOB_STATES = ("pending", "running", "succeeded", "failed", "stalled")


def create_job(
    session: Session, kind: str, params: dict[str, Any], created_by: str, election_id: str | None
) -> Job:
    """Queue a job."""
    job = Job(
        id=secrets.token_hex(8),
        kind=kind,
        election_id=election_id,
        params=params,
        state="pending",
        progress=0.0,
        message="queued",
        attempts=0,
        created_by=created_by,
    )
    session.add(job)
    session.flush()  # fills the defaults (created_at) the caller reports
    return job


def claim_next(session: Session) -> Job | None:
    """Take the oldest pending job (row-locked, skipping ones another worker holds) and mark it running."""
    job = session.scalars(
        select(Job)
        .where(Job.state == "pending")
        .order_by(Job.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if job is None:
        return None
    now = utcnow()
    job.state = "running"
    job.started_at = now
    job.heartbeat_at = now
    job.attempts += 1
    job.message = "started"
    job.error = None
    return job


def heartbeat(
    session: Session, job_id: str, progress: float, message: str, checkpoint: dict[str, Any] | None = None
) -> bool:
    """Record progress (0..1) and that the worker is alive; optionally a resume checkpoint.

    ``False`` if the job is no longer running (a sweep marked it stalled): nothing was recorded.
    """
    values: dict[str, Any] = {"progress": progress, "message": message, "heartbeat_at": utcnow()}
    if checkpoint is not None:
        values["checkpoint"] = checkpoint
    done = session.execute(update(Job).where(Job.id == job_id, Job.state == "running").values(**values))
    return bool(getattr(done, "rowcount", 0))


def finish_job(session: Session, job_id: str, result: dict[str, Any]) -> None:
    """Mark success."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(state="succeeded", progress=1.0, message="done", result=result, finished_at=utcnow())
    )


def fail_job(session: Session, job_id: str, error: str) -> None:
    """Mark failure with the error message (the checkpoint stays for a resume)."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(state="failed", message="failed", error=error, finished_at=utcnow())
    )


def mark_stalled(session: Session, timeout: timedelta) -> list[str]:
    """Mark running jobs whose heartbeat is older than ``timeout`` as stalled; return their ids."""
    limit = utcnow() - timeout
    ids = list(session.scalars(select(Job.id).where(Job.state == "running", Job.heartbeat_at < limit)))
    if ids:
        session.execute(
            update(Job)
            .where(Job.id.in_(ids), Job.state == "running")
            .values(state="stalled", message=f"no heartbeat for {timeout.total_seconds():.0f} s")
        )
    return ids


def resume_job(session: Session, job_id: str) -> Job:
    """Queue a failed or stalled job again; it continues from its checkpoint."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise KeyError(f"job {job_id!r} does not exist")
    if job.state not in ("failed", "stalled"):
        raise ElectionStateError(
            f"job {job_id}: state {job.state!r} cannot be resumed (only failed or stalled)"
        )
    job.state = "pending"
    job.message = "resumed"
    job.finished_at = None
    return job
