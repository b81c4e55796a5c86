"""Bearer tokens not yet cached, looked up together: concurrent requests share one query per round.

Every remote voter's ballot comes with a token the server has not seen (one credential, one ballot), so
under load each single-ballot request paid a hop to a worker thread and a query of its own. Here the
first uncached token of an event loop starts a lookup at once; tokens asked for while it runs wait for
the next round, which looks all of them up in one query (``resolve_tokens``) and one thread hop. A lone
request waits for nothing; the answer (a grant, or ``AccessDenied`` naming why) is the one
``resolve_token`` would give.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi.concurrency import run_in_threadpool

from saylau.errors import AccessDenied
from saylau.store.accounts import TokenInfo, resolve_tokens

if TYPE_CHECKING:
    from saylau.api.state import AppState

__all__ = ["TokenLookups"]


@dataclass
class _Rounds:
    """One event loop's tokens waiting for the next query (its callbacks all run on that loop)."""

    waiting: dict[str, list[asyncio.Future[TokenInfo]]] = field(default_factory=dict)
    running: bool = False
    queries: int = 0
    task: asyncio.Task[None] | None = None  # held so the running round is not garbage-collected


class TokenLookups:
    """``resolve`` a token through the cache, or through the next shared query (then cached)."""

    def __init__(self) -> None:
        """Start with no loop known."""
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Rounds] = (
            weakref.WeakKeyDictionary()
        )

    def queries(self) -> int:
        """Queries made on the running loop so far (for tests)."""
        found = self._loops.get(asyncio.get_running_loop())
        return 0 if found is None else found.queries

    async def resolve(self, state: AppState, token: str) -> TokenInfo:
        """The grant of ``token``; ``AccessDenied`` ("bearer token: unknown" / "… expired")."""
        info = state.tokens.get(token)
        if info is not None:
            return info
        loop = asyncio.get_running_loop()
        rounds = self._loops.get(loop)
        if rounds is None:
            rounds = self._loops[loop] = _Rounds()
        fut: asyncio.Future[TokenInfo] = loop.create_future()
        rounds.waiting.setdefault(token, []).append(fut)
        if not rounds.running:
            rounds.running = True
            rounds.task = loop.create_task(self._run(state, rounds))
        return await fut

    async def _run(self, state: AppState, rounds: _Rounds) -> None:
        try:
            while rounds.waiting:
                batch, rounds.waiting = rounds.waiting, {}
                tokens = list(batch)
                rounds.queries += 1
                try:
                    infos = await run_in_threadpool(_query, state, tokens)
                except Exception as exc:  # the database failed: every waiting request gets the error
                    for futures in batch.values():
                        for f in futures:
                            if not f.done():
                                f.set_exception(exc)
                    continue
                for token, info in zip(tokens, infos, strict=True):
                    if isinstance(info, TokenInfo):
                        state.tokens.put(info)
                    for f in batch[token]:
                        if f.done():  # its request went away
                            continue
                        if isinstance(info, AccessDenied):
                            f.set_exception(AccessDenied(*info.args))
                        else:
                            f.set_result(info)
        finally:
            rounds.running = False


def _query(state: AppState, tokens: list[str]) -> list[TokenInfo | AccessDenied]:
    with state.reading() as session:
        return resolve_tokens(session, tokens, what="bearer token")
