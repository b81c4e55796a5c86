"""Proof verification off the event loop and off the GIL: a process pool (or threads in tests).

A cast ballot costs ~2.4 ms of CPU to verify (every range proof and the contest-limit proof); in the
server's own process, verifying threads fight the GIL with the request handling and the writer. Here
each ballot's JSON goes to a worker process that parses it, verifies it with ``saylau.crypto``
(nothing is weakened: the same ``verify_ballot``), and also computes the hashes the writer needs (the
content hash and the board payload hash), so the server process only moves bytes and rows.

Parsed ``ElectionParameters`` are cached in each worker by extended base hash (parsing re-derives H_E).
The pool is started and warmed when the server starts (``start``): the forkserver imports this module
once and every worker is forked from it, so no ballot waits for a worker's imports (measured: ~2 s of CPU
per worker, which the first benchmark runs counted as per-ballot cost).
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from saylau.board.hashing import TAG_PAYLOAD, canonical_json, canonical_object, tagged_hash_bytes
from saylau.crypto import (
    ChallengedBallot,
    ElectionParameters,
    EncryptedBallot,
    verify_ballot,
    verify_challenged_ballot,
)

__all__ = ["CheckedBallot", "VerifyPool", "check_ballot", "check_ballots", "check_challenged", "params_for"]

_PARAMS: dict[str, ElectionParameters] = {}
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


@dataclass(frozen=True)
class CheckedBallot:
    """What the writer needs of a verified ballot: ids, codes and the precomputed hashes."""

    ballot_id: str
    code: str
    previous_code: str
    content_hash: str
    board_payload_hash: str


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


def _hex(v: Any) -> str:
    return v.hex() if isinstance(v, bytes) else str(v)


def check_ballot(
    params_doc: dict[str, Any], ballot: dict[str, Any], board_payload: dict[str, Any]
) -> CheckedBallot:
    """Parse and verify an encrypted ballot (raises ``InvalidBallot``/``RecordError`` naming the fault)."""
    params = params_for(params_doc)
    parsed = EncryptedBallot.from_dict(ballot)
    verify_ballot(params, parsed)
    content_hash, board_payload_hash = _hashes(ballot, board_payload)
    return CheckedBallot(
        ballot_id=str(parsed.ballot_id),
        code=_hex(parsed.code),
        previous_code=_hex(parsed.previous_code),
        content_hash=content_hash,
        board_payload_hash=board_payload_hash,
    )


def check_challenged(
    params_doc: dict[str, Any], challenged: dict[str, Any], board_payload: dict[str, Any]
) -> CheckedBallot:
    """Parse and verify an opened (challenged) ballot: proofs, and that it decrypts to its choices."""
    params = params_for(params_doc)
    opened = ChallengedBallot.from_dict(challenged)
    verify_challenged_ballot(params, opened)
    content_hash, board_payload_hash = _hashes(challenged, board_payload)
    return CheckedBallot(
        ballot_id=str(opened.ballot.ballot_id),
        code=_hex(opened.ballot.code),
        previous_code=_hex(opened.ballot.previous_code),
        content_hash=content_hash,
        board_payload_hash=board_payload_hash,
    )


def check_ballots(
    params_doc: dict[str, Any], items: list[tuple[dict[str, Any], dict[str, Any]]]
) -> list[CheckedBallot | Exception]:
    """``check_ballot`` over ``(ballot, board payload)`` pairs; a refused ballot gives its exception."""
    out: list[CheckedBallot | Exception] = []
    for ballot, payload in items:
        try:
            out.append(check_ballot(params_doc, ballot, payload))
        except Exception as exc:  # refused: reported for this ballot alone
            out.append(exc)
    return out


class VerifyPool:
    """``processes`` worker processes (``0``: a small thread pool in this process, for tests)."""

    def __init__(self, processes: int) -> None:
        """Create the executor lazily (forking is deferred until the first ballot)."""
        self.processes = processes
        self._executor: Executor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> Executor:
        with self._lock:
            if self._executor is None:
                if self.processes > 0:
                    ctx = multiprocessing.get_context("forkserver")
                    ctx.set_forkserver_preload([__name__])
                    self._executor = ProcessPoolExecutor(self.processes, mp_context=ctx)
                else:
                    self._executor = ThreadPoolExecutor(2, thread_name_prefix="saylau-verify")
            return self._executor

    def start(self, timeout: float = 120.0) -> int:
        """Start every worker now and wait until each has run a task; return the number of workers."""
        pool = self._pool()
        n = max(self.processes, 1)
        futures = [pool.submit(_warm, 0.05) for _ in range(n)]
        return len({f.result(timeout) for f in futures})

    async def ballot(
        self, params_doc: dict[str, Any], ballot: dict[str, Any], board_payload: dict[str, Any]
    ) -> CheckedBallot:
        """Verify a ballot in the pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), check_ballot, params_doc, ballot, board_payload)

    async def ballots(
        self, params_doc: dict[str, Any], items: list[tuple[dict[str, Any], dict[str, Any]]], chunk: int = 16
    ) -> list[CheckedBallot | Exception]:
        """Verify many ballots in the pool, ``chunk`` per task (fewer round trips than one per ballot)."""
        loop = asyncio.get_running_loop()
        pool = self._pool()
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(pool, check_ballots, params_doc, items[i : i + chunk])
                for i in range(0, len(items), chunk)
            )
        )
        return [c for part in parts for c in part]

    async def challenged(
        self, params_doc: dict[str, Any], challenged: dict[str, Any], board_payload: dict[str, Any]
    ) -> CheckedBallot:
        """Verify an opened ballot in the pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._pool(), check_challenged, params_doc, challenged, board_payload
        )

    def shutdown(self) -> None:
        """Stop the workers."""
        with self._lock:
            ex, self._executor = self._executor, None
        if ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)
