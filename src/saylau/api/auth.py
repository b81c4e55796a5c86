"""Bearer-token authentication and the role check every endpoint goes through.

Resolved tokens are kept in a bounded in-process cache until they expire: a token row is never changed
after it is issued (only a voter credential's ``used`` flag, which is not part of ``TokenInfo`` and
which the cast writer reads from the database under lock), so a cached answer is the answer the database
would give. The one withdrawal is a staff member signing out of the web consoles
(``saylau.web.console_session``): the row expires (``expire_token``) and this process's cache forgets it
(``TokenCache.forget``); another uvicorn worker process that had cached the token still honours it
until its own expiry (``token_ttl``). A cache hit costs neither a database read nor a hop to a worker
thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from saylau.api.roles import ENDPOINT_ROLES, PUBLIC
from saylau.api.state import AppState
from saylau.errors import AccessDenied
from saylau.store.accounts import TokenInfo

__all__ = ["Caller", "StateDep", "authorize", "get_state", "require"]

_bearer = HTTPBearer(auto_error=False)

Caller = TokenInfo


def get_state(request: Request) -> AppState:
    """The application state."""
    state: AppState = request.app.state.saylau
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def _public() -> TokenInfo:
    return TokenInfo(PUBLIC, None, None, None, None, None, None, None, "")


async def authorize(state: AppState, token: str | None, endpoint: str) -> TokenInfo:
    """The caller of ``endpoint`` holding ``token`` (``None``: no token), if its role may call it.

    Raises ``HTTPException`` 401 for a missing or unknown token and ``AccessDenied`` (403) for a role
    ``ENDPOINT_ROLES[endpoint]`` does not list. The API's dependency and the web consoles (whose token
    is in a session cookie) both go through here.
    """
    allowed = ENDPOINT_ROLES[endpoint]
    if token is None:
        if PUBLIC in allowed:
            return _public()
        raise HTTPException(401, f"{endpoint}: a bearer token is required", {"WWW-Authenticate": "Bearer"})
    try:
        info = await state.token_lookups.resolve(state, token)  # cached, or one query for many callers
    except AccessDenied as exc:
        raise HTTPException(401, str(exc), {"WWW-Authenticate": "Bearer"}) from exc
    if info.role not in allowed:
        raise AccessDenied(f"{endpoint}: role {info.role!r} may not do this")
    return info


def require(endpoint: str) -> Callable[..., Awaitable[TokenInfo]]:
    """A dependency that admits only the roles ``ENDPOINT_ROLES[endpoint]`` lists."""
    ENDPOINT_ROLES[endpoint]  # an unknown endpoint fails when the route is defined

    async def check(
        state: StateDep, cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> TokenInfo:
        return await authorize(state, None if cred is None else cred.credentials, endpoint)

    return check
