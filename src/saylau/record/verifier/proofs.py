"""Every ballot's proofs (range and contest limit), checked during the ballot pass: inline or in a pool.

The ballot pass feeds each ballot to a ``ProofRunner``. With one worker the proofs are checked in
process; with more, chunks of raw lines go to a process pool that keeps a bounded window of chunks in
flight, so memory stays flat however large ``ballots.jsonl`` is. The first failure is kept, not raised,
so that the checks report in their documented order: ``check_proofs`` reports it after the structural
checks of the ballot pass.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import json
from typing import Any

from saylau.crypto import ElectionParameters, EncryptedBallot
from saylau.errors import SaylauError
from saylau.record import format as fmt
from saylau.record.verifier.admission import BallotRules, check_ballot_proofs
from saylau.record.verifier.state import VerifyState
from saylau.record.verifier.table import CheckResult, ProgressHook, fail

__all__ = ["ProofRunner", "check_proofs"]

# --- worker side: proofs of a chunk of ballot lines ------------------------------------------------

_WORKER_RULES: list[BallotRules] = []


def _init_worker(params_dict: dict[str, Any]) -> None:
    _WORKER_RULES[:] = [BallotRules(ElectionParameters.from_dict(params_dict), {})]


def _verify_chunk(chunk: list[tuple[int, bytes]]) -> str | None:
    """Verify the proofs of a chunk; return the first failure's message (the caller raises)."""
    rules = _WORKER_RULES[0]
    for no, line in chunk:
        try:  # the main process checks each line's canonical form and structure; here only the proofs
            check_ballot_proofs(rules, EncryptedBallot.from_dict(json.loads(line)["ballot"]))
        except (SaylauError, KeyError, TypeError, ValueError) as exc:
            return f"{fmt.BALLOTS} line {no}: ballot proofs: {exc}"
    return None


# --- main side -------------------------------------------------------------------------------------


class ProofRunner:
    """Checks every ballot's proofs during the ballot pass: inline, or in a process pool.

    The first failure is kept, not raised, so that the checks report in their documented order; the pool
    keeps a bounded window of chunks in flight so memory stays flat however large the file.
    """

    def __init__(self, params: ElectionParameters, workers: int, chunk_size: int, tick: ProgressHook) -> None:
        """Start the pool when ``workers > 1``; ``tick`` reports each checked ballot under ``proofs``."""
        self.params, self.workers, self.chunk_size, self.tick = params, workers, chunk_size, tick
        self._rules = BallotRules(params, {})  # the proofs need no ballot styles
        self.failure: str | None = None
        self.count = 0
        self._chunk: list[tuple[int, bytes]] = []
        self._window: collections.deque[tuple[cf.Future[str | None], int]] = collections.deque()
        self._pool: cf.ProcessPoolExecutor | None = None
        if workers > 1:
            self._pool = cf.ProcessPoolExecutor(
                workers, initializer=_init_worker, initargs=(params.to_dict(),)
            )

    def feed(self, no: int, line: bytes, ballot: EncryptedBallot) -> None:
        """Check one ballot (inline) or queue its line for a worker."""
        if self.failure is not None:
            return
        if self._pool is None:
            try:
                check_ballot_proofs(self._rules, ballot)
            except SaylauError as exc:
                self.failure = f"{fmt.BALLOTS} line {no}: ballot proofs: {exc}"
                return
            self.count += 1
            self.tick("proofs", 1)
            return
        self._chunk.append((no, line))
        if len(self._chunk) >= self.chunk_size:
            self._submit()

    def _submit(self) -> None:
        assert self._pool is not None
        if self._chunk:
            self._window.append((self._pool.submit(_verify_chunk, self._chunk), len(self._chunk)))
            self._chunk = []
        while len(self._window) >= 4 * self.workers:
            self._settle()

    def _settle(self) -> None:
        fut, size = self._window.popleft()
        message = fut.result()
        if message is not None and self.failure is None:
            self.failure = message
        if message is None:
            self.count += size
            self.tick("proofs", size)

    def finish(self) -> None:
        """Wait for the pool's outstanding chunks."""
        if self._pool is not None and self.failure is None:
            self._submit()
            while self._window:
                self._settle()
        self.close()

    def close(self) -> None:
        """Shut the pool down (cancelling what is still queued)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def check_proofs(s: VerifyState, check: CheckResult) -> None:
    """Report the proofs the ballot pass checked, or the first that failed."""
    if s.proof_failure is not None:
        raise fail(check, s.proof_failure)
    check.count = s.proofs_checked
    check.detail = f"{s.workers} worker processes" if s.workers > 1 else "in process"
    if s.resumed_lines:
        check.detail += f"; {s.resumed_lines} ballots verified earlier (state file, unchanged by hash)"
