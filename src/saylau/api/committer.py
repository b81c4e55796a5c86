"""Group commit: one writer thread commits queued writes in batches, one transaction per batch.

Casting a ballot used to be one transaction per request under the board lock, so casts were serialised
at the speed of one fsync each. Here every request hands its write (a function of a session) to the
queue and waits; the writer takes whatever has queued up, runs each write inside its own savepoint
(a refused write rolls back alone and its caller gets the exception), and commits the batch once.
Callers are told "accepted" only after the batch's commit returned, so the durability promise is
unchanged (DESIGN: every accepted ballot is durably stored before the answer). One writer per process
also keeps the board's hash chain single-writer; the database's board-head lock still serialises it
against other writers (other endpoints, other processes).

Grouped writes (``submit_group``): consecutive queued items that share one group writer are handed to it
together, in one savepoint, so it can load every row it needs with one query per table and let the ORM
insert the batch's rows with multi-row statements (casting: ~8 statements per ballot became ~8 per
batch). The group writer returns one outcome per item (a result, or the exception refusing that item)
and must check an item fully before changing anything for it, since refusals are not rolled back.
Should the group's savepoint fail anyway (a write the checks missed breaks a constraint at flush, a bug in
the group writer), everything of the group is rolled back and each item is written again alone in its own
savepoint: only the item that fails alone gets the exception, and the others are committed with the batch.
Nothing is lost silently: every item's caller is told either "accepted" after the commit, or the
exception that refused it (and nothing of it is stored). If the commit itself fails (the database went
away), every caller of the batch gets that error and nothing of the batch is stored; the writes are safe
to send again (ballots are recognised by their tracking code, other writes by their idempotency key).

Lingering: when the queue runs dry but callers have announced writes that are on their way
(``expecting``: ballots whose proofs are being verified right now), the writer waits up to ``linger``
seconds for them before it commits, so concurrent single-ballot requests share one transaction instead
of each paying for the board-head lock, the row loads and the commit (measured: ~2.5 casts per commit
without lingering, with 8 concurrent clients). With nothing on its way the writer commits at once, so a
lone request never waits.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

__all__ = ["GroupCommitter", "GroupWrite"]

T = TypeVar("T")
log = logging.getLogger("saylau.api.committer")


GroupWrite = Callable[[Session, list[Any]], list[Any]]
"""Writes a group of items in one go; returns one outcome per item: its result or an exception."""


@dataclass
class _Item(Generic[T]):
    write: Callable[[Session], T] | None
    future: Future[T]
    group: GroupWrite | None = None
    arg: Any = None


_WAKE = object()
"""Queued when the last announced write is in: a lingering writer stops waiting (no polling)."""


class GroupCommitter:
    """A writer thread draining a queue of writes into batched transactions.

    ``transaction`` opens the batch's transaction (``AppState.transaction``); ``max_batch`` bounds how
    many writes share one commit. ``batches`` and ``committed`` count what was done (for tests and
    the benchmark).
    """

    def __init__(
        self,
        transaction: Callable[[], Any],
        max_batch: int = 256,
        linger: float = 0.0,
    ) -> None:
        """Prepare; ``start`` launches the thread (``linger``: see the module docstring)."""
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if linger < 0:
            raise ValueError("linger must not be negative")
        self._transaction = transaction
        self.max_batch = max_batch
        self.linger = linger
        self._expected = 0
        self._queue: queue.SimpleQueue[_Item[Any] | object | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.committed = 0

    def start(self) -> None:
        """Launch the writer thread (idempotent)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="saylau-writer", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued writes, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    @contextmanager
    def expecting(self, n: int = 1) -> Iterator[None]:
        """Announce ``n`` writes that will be submitted inside this block (the writer may wait for them)."""
        with self._lock:
            self._expected += n
        try:
            yield
        finally:
            with self._lock:
                self._expected -= n
                last = self._expected <= 0
            if last:  # a lingering writer waits for nothing more: wake it to commit now
                self._queue.put(_WAKE)

    def submit(self, write: Callable[[Session], T]) -> Future[T]:
        """Queue ``write``; the future resolves after the batch holding it is committed (or fails)."""
        if self._thread is None:
            self.start()
        fut: Future[T] = Future()
        self._queue.put(_Item(write, fut))
        return fut

    def submit_group(self, group: GroupWrite, args: list[Any]) -> list[Future[Any]]:
        """Queue ``args`` for the group writer ``group``; one future per item, resolved after the commit."""
        if self._thread is None:
            self.start()
        futures: list[Future[Any]] = []
        for arg in args:
            fut: Future[Any] = Future()
            self._queue.put(_Item(None, fut, group, arg))
            futures.append(fut)
        return futures

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            if not isinstance(first, _Item):  # a wake-up with nothing queued
                continue
            batch: list[_Item[Any]] = [first]
            stop = False
            deadline = time.monotonic() + self.linger
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    wait = deadline - time.monotonic()
                    if wait <= 0 or self._expected <= 0:
                        break
                    try:  # blocks until a write arrives, the announced writes are all in (_WAKE), or time
                        nxt = self._queue.get(timeout=wait)
                    except queue.Empty:
                        break
                if nxt is None:
                    stop = True
                    break
                if isinstance(nxt, _Item):
                    batch.append(nxt)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Item[Any]]) -> None:
        outcomes: list[tuple[_Item[Any], Any, BaseException | None]] = []
        try:
            with self._transaction() as session:
                for run in _runs([it for it in batch if it.future.set_running_or_notify_cancel()]):
                    outcomes.extend(_write_run(session, run))
        except Exception as exc:  # the commit itself failed: nothing of the batch was stored
            # the class only: a database error's text carries the statement's parameters (personal data)
            log.warning("batch of %d writes failed to commit (%s)", len(batch), type(exc).__name__)
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        self.batches += 1
        for item, result, error in outcomes:
            if error is None:
                self.committed += 1
                item.future.set_result(result)
            else:
                item.future.set_exception(error)


def _runs(items: list[_Item[Any]]) -> list[list[_Item[Any]]]:
    """Split into runs: each plain write alone, consecutive items of one group writer together."""
    runs: list[list[_Item[Any]]] = []
    for item in items:
        if item.group is not None and runs and runs[-1][-1].group is item.group:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _forget_cached_rows(session: Session) -> None:
    session.info.pop("boards", None)  # cached board heads may have been rolled back


def _write_run(
    session: Session, run: list[_Item[Any]]
) -> list[tuple[_Item[Any], Any, BaseException | None]]:
    """Run one plain write, or one group writer over its items, inside a savepoint."""
    first = run[0]
    try:
        with session.begin_nested():
            if first.group is None:
                assert first.write is not None
                results: list[Any] = [first.write(session)]
            else:
                results = first.group(session, [it.arg for it in run])
                if len(results) != len(run):
                    raise RuntimeError(f"group writer returned {len(results)} outcomes for {len(run)} items")
    except Exception as exc:  # refused (a plain write) or failed (a whole group); the batch goes on
        _forget_cached_rows(session)
        if len(run) > 1:
            # one item broke the group (e.g. a constraint at flush): its savepoint rolled back the whole
            # group, so each item is written again alone and only the culprit fails
            log.warning("group of %d writes failed (%s); writing each alone", len(run), type(exc).__name__)
            return [outcome for it in run for outcome in _write_run(session, [it])]
        return [(it, None, exc) for it in run]
    pairs = zip(run, results, strict=True)
    return [(it, None, r) if isinstance(r, BaseException) else (it, r, None) for it, r in pairs]
