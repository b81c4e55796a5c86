"""The executor interface, its inline, thread and local-process-pool forms, and the factory the CLI uses.

Two ways in: ``imap_unordered`` streams many items (simulation, verification, tallies), ``submit`` hands
over one task and returns a ``concurrent.futures.Future`` (the server's proof verification, whose
tasks arrive one request at a time and are awaited from the event loop).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from itertools import islice
from typing import Any, Protocol, TypeVar

__all__ = ["Executor", "ProcessExecutor", "SerialExecutor", "ThreadExecutor", "make_executor"]

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")


class Executor(Protocol):
    """Applies a function to independent items somewhere; results in completion order with their index.

    ``fn`` must be a top-level (importable, picklable) function and each item picklable; at most
    ``window`` items are in flight at once (default: twice the workers), so a caller streaming millions
    of items holds only that many inputs and results in memory.
    """

    name: str
    workers: int

    def imap_unordered(
        self, fn: Callable[[T], R], items: Iterable[T], window: int | None = None
    ) -> Iterator[tuple[int, R]]:
        """``(index, fn(item))`` for every item, as each finishes."""
        ...

    def imap_shared(
        self, fn: Callable[[S, T], R], shared: S, items: Iterable[T], window: int | None = None
    ) -> Iterator[tuple[int, R]]:
        """``(index, fn(shared, item))`` for every item; ``shared`` travels to each worker once.

        Not with every item: the context a verification chunk needs (rules, devices, stations).
        """
        ...

    def submit(self, fn: Callable[[T], R], item: T) -> Future[R]:
        """Run ``fn(item)`` somewhere; the future holds its result or its exception."""
        ...

    def close(self) -> None:
        """Release the workers (idempotent)."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class _Closing:
    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(_Closing):
    """Runs every item inline, in order: the reference the parallel executors must match."""

    name = "serial"
    workers = 1

    def imap_unordered(
        self, fn: Callable[[T], R], items: Iterable[T], window: int | None = None
    ) -> Iterator[tuple[int, R]]:
        """``(index, fn(item))`` in item order."""
        del window
        for i, item in enumerate(items):
            yield i, fn(item)

    def imap_shared(
        self, fn: Callable[[S, T], R], shared: S, items: Iterable[T], window: int | None = None
    ) -> Iterator[tuple[int, R]]:
        """``(index, fn(shared, item))`` in item order."""
        del window
        for i, item in enumerate(items):
            yield i, fn(shared, item)

    def submit(self, fn: Callable[[T], R], item: T) -> Future[R]:
        """Run ``fn(item)`` now; the returned future is already done."""
        fut: Future[R] = Future()
        try:
            fut.set_result(fn(item))
        except Exception as exc:  # the task's failure travels in its future, as in a pool
            fut.set_exception(exc)
        return fut


_SHARED: dict[str, Any] = {}
"""A worker process's shared objects, by the file they came from (the last one only)."""


def _call_shared(fn: Callable[[Any, T], R], path: str, item: T) -> R:
    """In a worker: ``fn(shared, item)``, the shared object read from ``path`` on first use."""
    if path not in _SHARED:
        _SHARED.clear()
        with open(path, "rb") as f:
            _SHARED[path] = pickle.load(f)
    return fn(_SHARED[path], item)


class _PoolExecutor(_Closing):
    """What the thread and process pools share: lazy start, windowed streaming, submit, close."""

    name = "pool"
    workers = 1
    _pool: ThreadPoolExecutor | ProcessPoolExecutor | None = None

    def _get(self) -> ThreadPoolExecutor | ProcessPoolExecutor:
        raise NotImplementedError

    def imap_unordered(
        self, fn: Callable[[T], R], items: Iterable[T], window: int | None = None
    ) -> Iterator[tuple[int, R]]:
        """Keep ``window`` items in flight; yield each result as it completes."""
        pool = self._get()
        return self._run(lambda item: pool.submit(fn, item), items, window)

    def imap_shared(
        self, fn: Callable[[S, T], R], shared: S, items: Iterable[T], window: int | None = None
    ) -> Iterator[tuple[int, R]]:
        """As ``imap_unordered``; ``shared`` goes to the workers as a temporary file each reads once."""
        pool = self._get()
        with tempfile.TemporaryDirectory(prefix="saylau-shared-") as tmp:
            path = os.path.join(tmp, "shared.pickle")
            with open(path, "wb") as f:
                pickle.dump(shared, f, protocol=pickle.HIGHEST_PROTOCOL)
            yield from self._run(lambda item: pool.submit(_call_shared, fn, path, item), items, window)

    def _run(
        self, submit: Callable[[T], Future[R]], items: Iterable[T], window: int | None
    ) -> Iterator[tuple[int, R]]:
        limit = max(1, window or 2 * self.workers)
        source = enumerate(items)
        pending: dict[Future[R], int] = {submit(item): i for i, item in islice(source, limit)}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=pending.__getitem__):
                    i = pending.pop(fut)
                    for j, item in islice(source, 1):
                        pending[submit(item)] = j
                    yield i, fut.result()
        finally:
            for fut in pending:
                fut.cancel()

    def submit(self, fn: Callable[[T], R], item: T) -> Future[R]:
        """Queue ``fn(item)`` for the pool (``BrokenExecutor`` at once if a worker died: ``close`` it)."""
        return self._get().submit(fn, item)

    def close(self) -> None:
        """Shut the pool down (waiting for running tasks; queued ones are cancelled)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class ThreadExecutor(_PoolExecutor):
    """``workers`` threads of this process: no pickling, one core (the GIL); for tests and I/O."""

    name = "threads"

    def __init__(self, workers: int) -> None:
        """Start lazily."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers

    def _get(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="saylau-executor")
        assert isinstance(self._pool, ThreadPoolExecutor)
        return self._pool


class ProcessExecutor(_PoolExecutor):
    """A local pool of ``workers`` processes (started by forkserver: safe beside progress-bar threads).

    ``preload``: modules the forkserver imports once, so that every worker forked from it starts with
    them (no task waits for a worker's imports); ``initializer(*initargs)`` runs in each worker first
    (the server's uses it to make its workers exit with it, ``saylau.api.orphans``).
    """

    name = "process pool"

    def __init__(
        self,
        workers: int,
        preload: Sequence[str] = (),
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        """Start lazily: the pool is created on first use."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self._preload = list(preload)
        self._initializer = initializer
        self._initargs = initargs

    def _get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("forkserver")
            if self._preload:
                ctx.set_forkserver_preload(self._preload)
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=self._initializer, initargs=self._initargs
            )
        assert isinstance(self._pool, ProcessPoolExecutor)
        return self._pool


def default_workers() -> int:
    """The machine's cores (at least 1)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def make_executor(
    workers: int | None = None,
    scheduler: str | None = None,
    local_cluster: bool = False,
    local_processes: bool = True,
) -> Executor:
    """The executor the options ask for.

    ``scheduler`` (a Dask scheduler address such as ``tcp://10.0.0.5:8786``): that cluster;
    ``local_cluster``: a Dask ``LocalCluster`` of ``workers`` processes on this machine (the distributed
    path, testable without a cluster; ``local_processes=False`` makes them threads); otherwise
    ``workers`` local processes, or inline when 1.
    """
    if scheduler is not None and local_cluster:
        raise ValueError("give either a scheduler address or --local-cluster, not both")
    n = workers if workers is not None else default_workers()
    if n < 1:
        raise ValueError(f"workers must be at least 1, got {n}")
    if scheduler is not None or local_cluster:
        from saylau.parallel.dask import DaskExecutor

        return DaskExecutor(scheduler, workers=n, processes=local_processes)
    return SerialExecutor() if n == 1 else ProcessExecutor(n)
