"""The executor interface, its inline and local-process-pool forms, and the factory the CLI uses."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import islice
from typing import Any, Protocol, TypeVar

__all__ = ["Executor", "ProcessExecutor", "SerialExecutor", "make_executor"]

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


_SHARED: dict[str, Any] = {}
"""A worker process's shared objects, by the file they came from (the last one only)."""


def _call_shared(fn: Callable[[Any, T], R], path: str, item: T) -> R:
    """In a worker: ``fn(shared, item)``, the shared object read from ``path`` on first use."""
    if path not in _SHARED:
        _SHARED.clear()
        with open(path, "rb") as f:
            _SHARED[path] = pickle.load(f)
    return fn(_SHARED[path], item)


class ProcessExecutor(_Closing):
    """A local pool of ``workers`` processes (started by forkserver: safe beside progress-bar threads)."""

    name = "process pool"

    def __init__(self, workers: int) -> None:
        """Start lazily: the pool is created on first use."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("forkserver")
            )
        return self._pool

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

    def close(self) -> None:
        """Shut the pool down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


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
