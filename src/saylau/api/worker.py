"""An in-process worker pool that runs queued jobs from the database.

Each worker thread claims the oldest pending job (row lock, ``SKIP LOCKED`` on PostgreSQL), runs its
handler, and records progress, result or failure. Handlers report progress through ``JobContext``, which
also beats the heart; a sweep marks running jobs with an old heartbeat as ``stalled`` (their worker
crashed or hung) so they are visible and can be resumed from their last checkpoint.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from saylau.api.state import AppState
from saylau.errors import ElectionStateError
from saylau.store.jobs import claim_next, fail_job, finish_job, heartbeat, mark_stalled

__all__ = ["HANDLERS", "JobContext", "Worker"]

log = logging.getLogger("saylau.jobs")


@dataclass
class JobContext:
    """What a handler sees of its job."""

    state: AppState
    job_id: str
    kind: str
    election_id: str | None
    params: dict[str, Any]
    checkpoint: dict[str, Any] | None

    def progress(self, fraction: float, message: str, checkpoint: dict[str, Any] | None = None) -> None:
        """Record progress (and a resume point) in its own short transaction."""
        with self.state.transaction() as session:
            heartbeat(session, self.job_id, max(0.0, min(1.0, fraction)), message, checkpoint)
        if checkpoint is not None:
            self.checkpoint = checkpoint

    def record(
        self, session: Session, fraction: float, message: str, checkpoint: dict[str, Any] | None = None
    ) -> None:
        """Record progress and a resume point inside the caller's transaction, committed with its work.

        A batch and the checkpoint that says it is done commit together or not at all. Raises
        ``ElectionStateError`` (rolling the caller's work back) if the job is no longer running here: a
        sweep marked it stalled, and it may be resumed elsewhere.
        """
        if not heartbeat(session, self.job_id, max(0.0, min(1.0, fraction)), message, checkpoint):
            raise ElectionStateError(f"job {self.job_id}: no longer running (stalled?); work not recorded")
        if checkpoint is not None:
            self.checkpoint = checkpoint


Handler = Callable[[JobContext], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


class Worker:
    """``threads`` daemon threads polling the jobs table."""

    def __init__(self, state: AppState, threads: int, poll_seconds: float) -> None:
        """Prepare; ``start`` launches the threads."""
        self.state = state
        self.threads = threads
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Launch the threads."""
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"saylau-job-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the threads to finish their current job and stop."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def sweep(self) -> list[str]:
        """Mark jobs without a recent heartbeat as stalled."""
        with self.state.transaction() as session:
            return mark_stalled(session, self.state.settings.job_stall_after)

    def run_one(self) -> bool:
        """Claim and run one pending job; ``False`` if there was none."""
        with self.state.transaction() as session:
            job = claim_next(session)
            if job is None:
                return False
            ctx = JobContext(self.state, job.id, job.kind, job.election_id, dict(job.params), job.checkpoint)
        log.info("job %s (%s) started", ctx.job_id, ctx.kind)
        try:
            handler = HANDLERS.get(ctx.kind)
            if handler is None:
                raise ValueError(f"job {ctx.job_id}: no handler for kind {ctx.kind!r}")
            result = handler(ctx)
        except Exception as exc:  # a job's failure is data: recorded, reported by the API, resumable
            log.warning("job %s (%s) failed: %s", ctx.job_id, ctx.kind, exc)
            with self.state.transaction() as session:
                fail_job(session, ctx.job_id, f"{type(exc).__name__}: {exc}")
            log.debug("%s", traceback.format_exc())
            return True
        with self.state.transaction() as session:
            finish_job(session, ctx.job_id, result)
        log.info("job %s (%s) succeeded", ctx.job_id, ctx.kind)
        return True

    def _loop(self) -> None:
        # a stall is an old heartbeat (``job_stall_after``, a minute): sweeping a few times within that
        # finds it as soon, without two transactions per poll beside the cast path's writer
        every = max(self.poll_seconds, self.state.settings.job_stall_after.total_seconds() / 4)
        last_sweep = -every
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_sweep >= every:
                    self.sweep()
                    last_sweep = time.monotonic()
                ran = self.run_one()
            except Exception:  # keep the pool alive if the database hiccups
                log.exception("job worker loop")
                ran = False
            if not ran:
                self._stop.wait(self.poll_seconds)
