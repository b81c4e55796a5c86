"""Shared state reads: a request never gets the answer of a read that started before it arrived."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from saylau.web.page_cache import StateBatches


class _SlowReader:
    """Each read returns its number, once the test lets it finish."""

    def __init__(self) -> None:
        self.started: list[threading.Event] = []
        self.release: list[threading.Event] = []
        self.lock = threading.Lock()

    def read(self, election_id: str, facts: Any) -> tuple[str, int]:
        with self.lock:
            n = len(self.started)
            self.started.append(threading.Event())
            self.release.append(threading.Event())
        self.started[n].set()
        assert self.release[n].wait(10)
        return (election_id, n)


async def _wait(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, 10)


def test_requests_share_the_next_read_never_the_running_one() -> None:
    async def scenario() -> None:
        reader = _SlowReader()
        batches = StateBatches(reader)  # type: ignore[arg-type]
        first = asyncio.ensure_future(batches.read("e", None))  # type: ignore[arg-type]
        while not reader.started:
            await asyncio.sleep(0.001)
        await _wait(reader.started[0])
        # these arrive while read 0 runs: it may predate a commit they must see
        later = [asyncio.ensure_future(batches.read("e", None)) for _ in range(5)]  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        assert len(reader.started) == 1  # one read at a time per election
        reader.release[0].set()
        assert await first == ("e", 0)
        while len(reader.started) < 2:
            await asyncio.sleep(0.001)
        assert not any(t.done() for t in later)
        reader.release[1].set()
        assert [await t for t in later] == [("e", 1)] * 5  # one read for the five
        assert len(reader.started) == 2
        # a waiter that goes away does not cancel the read the others wait for
        c = asyncio.ensure_future(batches.read("e", None))  # type: ignore[arg-type]
        while len(reader.started) < 3:
            await asyncio.sleep(0.001)
        a = asyncio.ensure_future(batches.read("e", None))  # type: ignore[arg-type]
        b = asyncio.ensure_future(batches.read("e", None))  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        a.cancel()
        reader.release[2].set()
        assert await c == ("e", 2)
        while len(reader.started) < 4:
            await asyncio.sleep(0.001)
        reader.release[3].set()
        assert await b == ("e", 3)

    # in a thread of its own: the browser tests' Playwright may hold an event loop in this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()
