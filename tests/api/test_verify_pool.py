"""The verification queue: concurrent ballots share pool tasks, each keeps its own outcome."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from saylau.api.errors import status_for
from saylau.api.verify_pool import Admission, CheckedBallot, VerifyPool
from saylau.crypto import ContestSpec, ElectionParameters, run_key_ceremony
from saylau.errors import InvalidBallot
from saylau.record.verifier.admission import rules_document
from saylau.voting.device import VotingDevice

STYLES = {"ballot_styles": [{"style_id": "main", "contest_ids": ["president"], "region_ids": []}]}
AT = Admission("d1", "r1", "booth")  # where the test ballots are cast


def _election(n: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    base_hash = bytes(range(32))
    _, key = run_key_ceremony(3, 2, base_hash)
    params = ElectionParameters(base_hash, key, (ContestSpec("president", ("a", "b", "c"), 1, False),))
    device = VotingDevice(params, "d1", "st-1")
    ballots = []
    for i in range(n):
        pending = device.encrypt({"president": ["abc"[i % 3]]}, "main")
        device.cast(pending)
        ballots.append(pending.ballot.to_dict())
    return rules_document(params.to_dict(), STYLES), ballots


def test_concurrent_ballots_share_tasks_and_a_forged_one_is_refused_alone() -> None:
    params, ballots = _election(40)
    forged = {**ballots[17], "ballot_id": "d1-999999"}  # breaks the proofs' binding
    sent = [*ballots[:17], forged, *ballots[18:]]
    pool = VerifyPool(0, chunk=8)  # threads: 2 tasks in flight at most

    async def run() -> list[CheckedBallot | BaseException]:
        return await asyncio.gather(
            *(pool.ballot(params, b, {"ballot": b}, AT) for b in sent), return_exceptions=True
        )

    try:
        out = asyncio.run(run())
    finally:
        pool.shutdown()
    assert isinstance(out[17], InvalidBallot)
    for i, r in enumerate(out):
        if i != 17:
            assert isinstance(r, CheckedBallot) and r.ballot_id == sent[i]["ballot_id"], (i, r)
    # two tasks go at once; the other 38 ballots queue and leave in chunks of 8
    assert pool.tasks == 2 + 5


def test_a_lone_ballot_goes_at_once_and_a_batch_shares_the_queue() -> None:
    params, ballots = _election(20)
    pool = VerifyPool(0, chunk=16)

    async def run() -> tuple[CheckedBallot, list[CheckedBallot | Exception]]:
        one = await pool.ballot(params, ballots[0], {"ballot": ballots[0]}, AT)
        many = await pool.ballots(params, [(b, {"ballot": b}, AT) for b in ballots[1:]])
        return one, many

    try:
        one, many = asyncio.run(run())
    finally:
        pool.shutdown()
    assert one.ballot_id == ballots[0]["ballot_id"]
    ids = [c.ballot_id for c in many if isinstance(c, CheckedBallot)]
    assert ids == [b["ballot_id"] for b in ballots[1:]]
    assert pool.tasks == 1 + 2  # the lone ballot alone, then 19 ballots in chunks of 16


def test_a_chunk_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="chunk"):
        VerifyPool(0, chunk=0)


def test_a_dead_worker_fails_its_ballots_and_the_next_ballot_gets_a_new_pool() -> None:
    import os
    import signal
    import time
    from concurrent.futures import BrokenExecutor

    from saylau.parallel import ProcessExecutor

    params, ballots = _election(3)
    pool = VerifyPool(1)
    try:
        pool.start()
        executor = pool._pool()
        assert isinstance(executor, ProcessExecutor)  # the one executor interface (saylau.parallel)
        for pid in list(executor._get()._processes):  # the worker is killed (as by the kernel's OOM killer)
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)

        async def run() -> tuple[CheckedBallot | BaseException, CheckedBallot]:
            (lost,) = await asyncio.gather(
                pool.ballot(params, ballots[0], {"ballot": ballots[0]}, AT), return_exceptions=True
            )
            again = await pool.ballot(params, ballots[1], {"ballot": ballots[1]}, AT)
            return lost, again

        lost, again = asyncio.run(asyncio.wait_for(run(), 60))
        assert isinstance(lost, BrokenExecutor)  # refused with the reason, never left hanging
        assert status_for(lost) == 503  # the caller is told to send it again
        assert again.ballot_id == ballots[1]["ballot_id"] and pool._pool() is not executor
    finally:
        pool.shutdown()
