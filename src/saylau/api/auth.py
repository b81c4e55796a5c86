"""Bearer-token authentication and the role check every endpoint goes through.

Resolved tokens are kept in a bounded in-process cache until they expire: a token row is never changed
after it is issued (only a voter credential's ``used`` flag, which is not part of ``TokenInfo`` and
which the cast writer reads from the database under lock), and no endpoint withdraws tokens, so a cached
answer is the answer the database would give. Anything that comes to revoke tokens must call
``TokenCache.forget`` (``saylau.store.accounts``). A cache hit costs neither a database read nor a hop
to a worker thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from saylau.api.roles import ENDPOINT_ROLES, PUBLIC
from saylau.api.state import AppState
from saylau.errors import AccessDenied
from saylau.store.accounts import TokenInfo, resolve_token

__all__ = ["Caller", "StateDep", "get_state", "require"]

_bearer = HTTPBearer(auto_error=False)

Caller = TokenInfo


def get_state(request: Request) -> AppState:
    """The application state."""
    state: AppState = request.app.state.saylau
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def _public() -> TokenInfo:
    return TokenInfo(PUBLIC, None, None, None, None, None, None, None, "")


def require(endpoint: str) -> Callable[..., Awaitable[TokenInfo]]:
    """A dependency that admits only the roles ``ENDPOINT_ROLES[endpoint]`` lists."""
    allowed = ENDPOINT_ROLES[endpoint]

    async def check(
        state: StateDep, cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> TokenInfo:
        if cred is None:
            if PUBLIC in allowed:
                return _public()
            raise HTTPException(
                401, f"{endpoint}: a bearer token is required", {"WWW-Authenticate": "Bearer"}
            )
        info = state.tokens.get(cred.credentials)
        if info is None:

            def resolve() -> TokenInfo:
                with state.reading() as session:
                    return resolve_token(session, cred.credentials)

            try:
                info = await run_in_threadpool(resolve)
            except AccessDenied as exc:
                raise HTTPException(401, str(exc), {"WWW-Authenticate": "Bearer"}) from exc
            state.tokens.put(info)
        if info.role not in allowed:
            raise AccessDenied(f"{endpoint}: role {info.role!r} may not do this")
        return info

    return check
