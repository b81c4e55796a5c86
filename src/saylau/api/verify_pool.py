"""Proof verification off the event loop and off the GIL, on the one executor interface (``saylau.parallel``).

A cast ballot costs ~2.4 ms of CPU to verify (every range proof and the contest-limit proof); in the
server's own process, verifying threads fight the GIL with the request handling and the writer. Here
each ballot's JSON goes to a worker process that parses it, verifies it with ``saylau.crypto``
(nothing is weakened: the same ``verify_ballot``), and also computes the hashes the writer needs (the
content hash and the board payload hash), so the server process only moves bytes and rows.

Ballots queue for the pool and go to it in chunks: at most ``2 × workers`` tasks are in flight, and
when one finishes the next task takes every ballot that queued meanwhile (up to ``chunk``). A lone
ballot goes at once; under load, concurrent single-ballot requests share tasks, which saves the
per-task cost of the pool on both sides (measured: ~2.7 ms of worker CPU per ballot sent one per task,
~2.3 ms in chunks), and a station's batch upload shares the same queue, so nobody jumps it.

Every ballot passes the verifier's own per-ballot checks (``saylau.record.verifier.admission``: ballot id,
style and region, contests, no identity ciphertext, the revote-tag rule of its device's channel, every
proof), so nothing the final record's verification would reject is stored. Each task carries the
election's small rules document (parameters and ballot styles, no station list: the caller resolves the
station's region); the parsed ``BallotRules`` are cached in each worker by extended base hash (parsing
re-derives H_E).
The queue is bounded (``max_queue`` ballots waiting for a worker): a request that would queue more is
refused whole with ``Overloaded`` (503 and ``Retry-After``, ``saylau.api.overload``) before any of its
ballots is verified, unless the queue is empty (so that a batch larger than the bound still goes through).
The tasks run on a ``saylau.parallel`` executor (``submit``): a ``ProcessExecutor`` of ``processes``
workers, or a ``ThreadExecutor`` in tests (``processes=0``); this module only decides which ballots go
together. The pool is started and warmed when the server starts (``start``): the forkserver imports
this module once and every worker is forked from it, so no ballot waits for a worker's imports
(measured: ~2 s of CPU per worker, which the first benchmark runs counted as per-ballot cost).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import threading
import time
import weakref
from collections import deque
from concurrent.futures import BrokenExecutor, Future
from dataclasses import dataclass, field
from typing import Any

from saylau.api import orphans
from saylau.api.overload import Overloaded
from saylau.board.hashing import TAG_PAYLOAD, canonical_json, canonical_object, tagged_hash_bytes
from saylau.crypto import ChallengedBallot, ElectionParameters, EncryptedBallot, verify_challenged_ballot
from saylau.parallel import Executor, ProcessExecutor, ThreadExecutor
from saylau.record.verifier.admission import BallotRules, check_admission, check_ballot_structure

__all__ = [
    "Admission",
    "CheckedBallot",
    "VerifyPool",
    "check_ballot",
    "check_ballots",
    "check_challenged",
    "params_for",
    "rules_for",
]

_PARAMS: dict[str, ElectionParameters] = {}
_RULES: dict[str, BallotRules] = {}
_PARAMS_LOCK = threading.Lock()


def params_for(params_doc: dict[str, Any]) -> ElectionParameters:
    """``ElectionParameters`` from their record form, parsed once per process and key."""
    key = str(params_doc.get("extended_base_hash"))
    with _PARAMS_LOCK:
        found = _PARAMS.get(key)
    if found is None:
        found = ElectionParameters.from_dict(params_doc)
        with _PARAMS_LOCK:
            _PARAMS[key] = found
    return found


def rules_for(rules_doc: dict[str, Any]) -> BallotRules:
    """``BallotRules`` from ``admission.rules_document``'s form, parsed once per process and election."""
    key = str(rules_doc["parameters"].get("extended_base_hash"))
    with _PARAMS_LOCK:
        found = _RULES.get(key)
    if found is None:
        found = BallotRules.from_document(rules_doc)
        with _PARAMS_LOCK:
            _RULES[key] = found
    return found


@dataclass(frozen=True)
class Admission:
    """Where a ballot is cast, as the per-ballot checks need it: its device, station's region, channel."""

    device_id: str
    region_id: str
    channel: str  # "booth" or "remote"


@dataclass(frozen=True)
class CheckedBallot:
    """What the writer needs of a verified ballot: ids, codes, chain position and the precomputed hashes.

    ``sequence`` is the position the ballot id names (``<device id>-<sequence>``); the writer admits the
    ballot only at that position of its device's chain.
    """

    ballot_id: str
    code: str
    previous_code: str
    content_hash: str
    board_payload_hash: str
    sequence: int = 0


def _warm(hold: float) -> int:
    """Stay busy ``hold`` seconds, so that each warm-up task reaches (and starts) a different worker."""
    time.sleep(hold)
    return os.getpid()


def _hashes(document: dict[str, Any], board_payload: dict[str, Any]) -> tuple[str, str]:
    """SHA-256 of the document's canonical JSON, and the payload hash of the board payload carrying it.

    The document is canonicalised once and its bytes reused for the payload member that holds it
    (``canonical_object``): the same bytes as canonicalising the payload whole, at half the cost.
    """
    data = canonical_json(document)
    members = {
        k: data if (v is document or v == document) else canonical_json(v) for k, v in board_payload.items()
    }
    return hashlib.sha256(data).hexdigest(), tagged_hash_bytes(TAG_PAYLOAD, canonical_object(members))


def _checked(
    ballot: EncryptedBallot, document: dict[str, Any], board_payload: dict[str, Any], sequence: int
) -> CheckedBallot:
    """The writer's view of a verified ballot whose record form is ``document``."""
    content_hash, board_payload_hash = _hashes(document, board_payload)
    return CheckedBallot(
        ballot_id=str(ballot.ballot_id),
        code=ballot.code.hex(),
        previous_code=ballot.previous_code.hex(),
        content_hash=content_hash,
        board_payload_hash=board_payload_hash,
        sequence=sequence,
    )


def check_ballot(
    rules_doc: dict[str, Any], ballot: dict[str, Any], board_payload: dict[str, Any], where: Admission
) -> CheckedBallot:
    """Parse a cast ballot and run the verifier's per-ballot checks (``InvalidBallot`` naming the fault)."""
    parsed = EncryptedBallot.from_dict(ballot)
    sequence = check_admission(
        rules_for(rules_doc),
        parsed,
        device_id=where.device_id,
        region_id=where.region_id,
        channel=where.channel,
        state="cast",
    )
    return _checked(parsed, ballot, board_payload, sequence)


def check_challenged(
    rules_doc: dict[str, Any], challenged: dict[str, Any], board_payload: dict[str, Any], where: Admission
) -> CheckedBallot:
    """Parse an opened (challenged) ballot: the per-ballot checks, its proofs, that it opens as claimed."""
    opened = ChallengedBallot.from_dict(challenged)
    rules = rules_for(rules_doc)
    sequence = check_ballot_structure(
        rules,
        opened.ballot,
        device_id=where.device_id,
        region_id=where.region_id,
        channel=where.channel,
        state="challenged",
    )
    verify_challenged_ballot(rules.params, opened)  # the ballot's proofs, then the opening
    return _checked(opened.ballot, challenged, board_payload, sequence)


_Item = tuple[dict[str, Any], dict[str, Any], Admission]


def check_ballots(rules_doc: dict[str, Any], items: list[_Item]) -> list[CheckedBallot | Exception]:
    """``check_ballot`` over ``(ballot, board payload, admission)``; a refused ballot gives its exception."""
    out: list[CheckedBallot | Exception] = []
    for ballot, payload, where in items:
        try:
            out.append(check_ballot(rules_doc, ballot, payload, where))
        except Exception as exc:  # refused: reported for this ballot alone
            out.append(exc)
    return out


def _check_task(task: tuple[dict[str, Any], list[_Item]]) -> list[CheckedBallot | Exception]:
    """``check_ballots`` as one executor task (``Executor.submit`` passes one item)."""
    return check_ballots(*task)


def _challenged_task(task: tuple[dict[str, Any], dict[str, Any], dict[str, Any], Admission]) -> CheckedBallot:
    """``check_challenged`` as one executor task."""
    return check_challenged(*task)


@dataclass
class _Queued:
    """Ballots of one election waiting for the pool, each with the future its request awaits."""

    rules_doc: dict[str, Any]
    items: deque[tuple[_Item, asyncio.Future[CheckedBallot]]] = field(default_factory=deque)


@dataclass
class _LoopQueue:
    """The verification queue of one event loop (all its callbacks run on that loop: no locking)."""

    by_election: dict[str, _Queued] = field(default_factory=dict)
    in_flight: int = 0


class VerifyPool:
    """``processes`` worker processes (``0``: a small thread pool in this process, for tests)."""

    def __init__(self, processes: int, chunk: int = 16, max_queue: int = 0, retry_after: int = 1) -> None:
        """Create the executor lazily (forking is deferred until the first ballot).

        ``max_queue``: the most ballots waiting for a worker (``0``: no bound); ``retry_after``: the
        seconds a refused client is told to wait.
        """
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        self.processes = processes
        self.chunk = chunk
        self.max_queue = max_queue
        self.retry_after = retry_after
        self.refused = 0  # requests refused because the queue was full
        self.max_in_flight = 2 * max(processes, 1)
        self.tasks = 0  # tasks sent to the pool (for tests and the benchmark)
        self._executor: Executor | None = None
        self._lock = threading.Lock()
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = (
            weakref.WeakKeyDictionary()
        )

    def _pool(self) -> Executor:
        with self._lock:
            if self._executor is None:
                if self.processes > 0:
                    os.environ[orphans.SERVER_PID_ENV] = str(os.getpid())  # the forkserver exits with us
                    self._executor = ProcessExecutor(
                        self.processes,
                        preload=[orphans.__name__, __name__],
                        initializer=orphans.exit_with_server,  # so do the workers, even after SIGKILL
                        initargs=(os.getpid(),),
                    )
                else:
                    self._executor = ThreadExecutor(2)
            return self._executor

    def start(self, timeout: float = 120.0) -> int:
        """Start every worker now and wait until each has run a task; return the number of workers."""
        pool = self._pool()
        n = max(self.processes, 1)
        futures = [pool.submit(_warm, 0.05) for _ in range(n)]
        return len({f.result(timeout) for f in futures})

    async def ballot(
        self,
        rules_doc: dict[str, Any],
        ballot: dict[str, Any],
        board_payload: dict[str, Any],
        where: Admission,
    ) -> CheckedBallot:
        """Check a ballot in the pool (raises what ``check_ballot`` raises).

        ``rules_doc``: ``admission.rules_document`` of the election; ``where``: the ballot's device,
        its station's region and the device's channel.
        """
        (fut,) = self._enqueue(rules_doc, [(ballot, board_payload, where)])
        return await fut

    async def ballots(self, rules_doc: dict[str, Any], items: list[_Item]) -> list[CheckedBallot | Exception]:
        """Check many ``(ballot, board payload, admission)`` in the pool; a refused one gives its error."""
        out: list[CheckedBallot | Exception] = []
        for r in await asyncio.gather(*self._enqueue(rules_doc, items), return_exceptions=True):
            if isinstance(r, BaseException) and not isinstance(r, Exception):
                raise r  # cancellation and the like are not a ballot's refusal
            out.append(r)
        return out

    def _enqueue(self, rules_doc: dict[str, Any], items: list[_Item]) -> list[asyncio.Future[CheckedBallot]]:
        loop = asyncio.get_running_loop()
        q = self._queues.get(loop)
        if q is None:
            q = self._queues[loop] = _LoopQueue()
        if self.max_queue > 0:
            waiting = sum(len(x.items) for x in q.by_election.values())
            if waiting and waiting + len(items) > self.max_queue:
                self.refused += 1
                raise Overloaded(
                    f"server overloaded: {waiting} ballots wait for proof verification (limit "
                    f"{self.max_queue}); none of the {len(items)} ballots of this request was stored, send "
                    f"them again after {self.retry_after} s",
                    self.retry_after,
                )
        key = str(rules_doc["parameters"].get("extended_base_hash"))
        queued = q.by_election.get(key)
        if queued is None:
            queued = q.by_election[key] = _Queued(rules_doc)
        futures = []
        for item in items:
            fut: asyncio.Future[CheckedBallot] = loop.create_future()
            queued.items.append((item, fut))
            futures.append(fut)
        self._pump(loop, q)
        return futures

    def _pump(self, loop: asyncio.AbstractEventLoop, q: _LoopQueue) -> None:
        """Send queued ballots while fewer than ``max_in_flight`` tasks are running."""
        while q.in_flight < self.max_in_flight and q.by_election:
            key, queued = next(iter(q.by_election.items()))
            take = [queued.items.popleft() for _ in range(min(self.chunk, len(queued.items)))]
            if not queued.items:
                del q.by_election[key]
            else:  # round robin between elections
                q.by_election[key] = q.by_election.pop(key)
            take = [t for t in take if not t[1].cancelled()]
            if not take:
                continue
            q.in_flight += 1
            self.tasks += 1
            pool = self._pool()
            try:
                task = pool.submit(_check_task, (queued.rules_doc, [item for item, _ in take]))
            except Exception as exc:  # a broken pool refuses work at once: these ballots fail, not hang
                failed: Future[list[CheckedBallot | Exception]] = Future()
                failed.set_exception(exc)
                self._finish(loop, q, failed, take, pool)
                return
            task.add_done_callback(functools.partial(self._hand_back, loop, q, take, pool))

    def _hand_back(
        self,
        loop: asyncio.AbstractEventLoop,
        q: _LoopQueue,
        take: list[tuple[_Item, asyncio.Future[CheckedBallot]]],
        pool: Executor,
        done: Future[list[CheckedBallot | Exception]],
    ) -> None:
        """(In the pool's thread) give a finished task back to the loop that sent it."""
        if not loop.is_closed():
            loop.call_soon_threadsafe(self._finish, loop, q, done, take, pool)

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        q: _LoopQueue,
        done: Future[list[CheckedBallot | Exception]],
        take: list[tuple[_Item, asyncio.Future[CheckedBallot]]],
        pool: Executor,
    ) -> None:
        q.in_flight -= 1
        results: list[CheckedBallot | BaseException]
        try:
            results = list(done.result())
        except BaseException as exc:  # the task failed (a worker died, the pool shut down): all its ballots
            results = [exc] * len(take)
            if isinstance(exc, BrokenExecutor):
                self._replace_broken(pool)
        for (_, fut), r in zip(take, results, strict=True):
            if fut.done():
                continue
            if isinstance(r, BaseException):
                fut.set_exception(r)
            else:
                fut.set_result(r)
        self._pump(loop, q)

    def _replace_broken(self, pool: Executor) -> None:
        """Drop a pool whose worker died (e.g. killed for memory): the next ballot starts a new one."""
        with self._lock:
            if self._executor is pool:
                self._executor = None
        threading.Thread(target=pool.close, name="saylau-verify-close", daemon=True).start()

    async def challenged(
        self,
        rules_doc: dict[str, Any],
        challenged: dict[str, Any],
        board_payload: dict[str, Any],
        where: Admission,
    ) -> CheckedBallot:
        """Check an opened ballot in the pool (a dead worker's pool is replaced, as for cast ballots)."""
        pool = self._pool()
        try:
            return await asyncio.wrap_future(
                pool.submit(_challenged_task, (rules_doc, challenged, board_payload, where))
            )
        except BrokenExecutor:
            self._replace_broken(pool)
            raise

    def shutdown(self) -> None:
        """Stop the workers."""
        with self._lock:
            ex, self._executor = self._executor, None
        if ex is not None:
            ex.close()
