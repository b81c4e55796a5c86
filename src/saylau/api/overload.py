"""Admission control: past a bounded amount of casting work, refuse at once with 503 and ``Retry-After``.

Without a bound, a server offered more ballots than it can verify queues them all: every request's
latency grows without limit, memory with it, and clients time out on ballots that may still be stored
later. Past saturation saylau refuses instead, cheaply and before any work is done, so that the ballots
it does take are answered in bounded time and a client knows to send again:

1. ``CastAdmission`` (ASGI middleware, outermost): at most ``max_cast_requests`` requests of the cast
   path (``POST …/ballots``, ``…/ballots/batch``, ``…/challenges``) are in the server at once; one more
   is answered 503 before its body is read;
2. the verification pool's queue (``VerifyPool``) holds at most ``max_verify_queue`` ballots waiting for
   a worker; a request that would queue more is refused as a whole with ``Overloaded`` (503), before
   anything of it is verified or stored. A batch larger than the bound is still taken when the queue is
   empty, so no legitimate upload can be refused forever.

A refusal stores nothing (it happens before the write is queued), so sending the same request again
later is safe: ballots are recognised by their tracking code, other writes by their idempotency key.
The answer is JSON like every error (``{"detail": …, "error": "Overloaded"}``) with ``Retry-After`` in
whole seconds. ``refused`` counts refusals (for tests and the load benchmark).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from saylau.errors import SaylauError

__all__ = ["CastAdmission", "Overloaded", "overloaded_body"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Overloaded(SaylauError):
    """The server has as much casting work as it takes; nothing was stored, send again after a while."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        """``retry_after``: the seconds the client is told to wait (``Retry-After``)."""
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


def overloaded_body(message: str) -> bytes:
    """The JSON body of a 503 refusal."""
    return json.dumps({"detail": message, "error": "Overloaded"}).encode()


class CastAdmission:
    """Bound the cast requests in the server at once; refuse the one past ``limit`` with 503.

    The count goes down when the answer has been sent (or the request failed), whatever happened.
    """

    def __init__(self, app: ASGIApp, prefix: str, limit: int, retry_after: int = 1) -> None:
        """``prefix``: the API prefix; ``limit`` < 1 turns the bound off."""
        self.app = app
        self.limit = limit
        self.retry_after = max(1, retry_after)
        self.in_flight = 0
        self.refused = 0
        self._cast = re.compile(rf"^{re.escape(prefix)}/elections/[^/]+/(ballots|ballots/batch|challenges)$")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count (or refuse) a cast request; pass everything else through untouched."""
        if scope["type"] != "http" or scope["method"] != "POST" or not self._cast.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self.limit >= 1 and self.in_flight >= self.limit:
            self.refused += 1
            await self._refuse(send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _refuse(self, send: Send) -> None:
        body = overloaded_body(
            f"server overloaded: {self.in_flight} cast requests in progress (limit {self.limit}); nothing "
            f"was stored, send the request again after {self.retry_after} s"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(self.retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
