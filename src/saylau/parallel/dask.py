"""The Dask ``distributed`` executor: a remote cluster by scheduler address, or a ``LocalCluster``.

Needs the ``scale`` extra (``pip install 'saylau[scale]'``). Every worker must have saylau installed
at the same version as the client (the functions are sent by reference, as module and name). Tasks
are submitted with unique keys and ``pure=False``, and at most ``window`` are in flight, so the
scheduler never holds a national election's worth of inputs.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["DaskExecutor"]

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")


def _call_shared(fn: Callable[[Any, T], R], shared: Any, item: T) -> R:
    """On a worker: ``fn(shared, item)`` (Dask has resolved the scattered ``shared`` already)."""
    return fn(shared, item)


class DaskExecutor:
    """Runs items on a Dask cluster; ``address=None`` starts a ``LocalCluster`` of ``workers`` processes.

    ``processes=False`` runs the LocalCluster's workers as threads of this process (fast to start, for
    tests; the crypto then shares one core through the GIL).
    """

    name = "dask"

    def __init__(self, address: str | None, workers: int = 2, processes: bool = True) -> None:
        """Connect to ``address``, or start the local cluster."""
        import distributed

        dist: Any = distributed  # untyped library: its calls are checked by the tests
        self._cluster: Any = None
        if address is None:
            self._cluster = dist.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=":0",  # any free port: the scheduler always serves HTTP (8787 may be taken)
                silence_logs=40,  # logging.ERROR: no worker chatter over the progress bars
            )
            self._client: Any = dist.Client(self._cluster)
            self.name = f"dask LocalCluster ({workers} {'processes' if processes else 'threads'})"
        else:
            self._client = dist.Client(address, timeout="10s")
            self.name = f"dask cluster {address}"
        threads = self._client.nthreads()
        self.workers = max(1, sum(threads.values()))

    def imap_unordered(
        self, fn: Callable[[T], R], items: Iterable[T], window: int | None = None
    ) -> Iterator[tuple[int, R]]:
        """Keep ``window`` tasks on the cluster; yield each result as it completes."""
        return self._run(fn.__name__, lambda item, key: self._client.submit(fn, item, key=key, pure=False),
                         items, window)

    def imap_shared(
        self, fn: Callable[[S, T], R], shared: S, items: Iterable[T], window: int | None = None
    ) -> Iterator[tuple[int, R]]:
        """As ``imap_unordered``; ``shared`` is scattered to every worker once (``broadcast``)."""
        ref = self._client.scatter(shared, broadcast=True, hash=False)
        try:
            yield from self._run(
                fn.__name__,
                lambda item, key: self._client.submit(_call_shared, fn, ref, item, key=key, pure=False),
                items,
                window,
            )
        finally:
            ref.release()

    def _run(
        self, name: str, submit_one: Callable[[T, str], Any], items: Iterable[T], window: int | None
    ) -> Iterator[tuple[int, R]]:
        import distributed

        dist: Any = distributed
        limit = max(1, window or 2 * self.workers)
        run = uuid.uuid4().hex[:12]
        source = enumerate(items)
        index: dict[str, int] = {}

        def submit(i: int, item: T) -> Any:
            fut = submit_one(item, f"{name}-{run}-{i}")
            index[fut.key] = i
            return fut

        first = [submit(i, item) for i, item in itertools.islice(source, limit)]
        if not first:
            return
        queue: Any = dist.as_completed(first)
        for fut in queue:
            for j, item in itertools.islice(source, 1):
                queue.add(submit(j, item))
            result = fut.result()
            i = index.pop(fut.key)
            fut.release()
            yield i, result

    def submit(self, fn: Callable[[T], R], item: T) -> Future[R]:
        """Run ``fn(item)`` on the cluster; its result (or exception) arrives in a local future."""
        out: Future[R] = Future()
        remote = self._client.submit(fn, item, key=f"{fn.__name__}-{uuid.uuid4().hex}", pure=False)

        def hand_back(done: Any) -> None:
            try:
                out.set_result(done.result())
            except Exception as exc:  # the task's failure (or a lost worker) travels in the future
                out.set_exception(exc)
            done.release()

        remote.add_done_callback(hand_back)
        return out

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this executor started it."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
