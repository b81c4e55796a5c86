"""Bearer-token authentication and the role check every endpoint goes through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
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


def require(endpoint: str) -> Callable[..., TokenInfo]:
    """A dependency that admits only the roles ``ENDPOINT_ROLES[endpoint]`` lists."""
    allowed = ENDPOINT_ROLES[endpoint]

    def check(
        state: StateDep, cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> TokenInfo:
        if cred is None:
            if PUBLIC in allowed:
                return _public()
            raise HTTPException(
                401, f"{endpoint}: a bearer token is required", {"WWW-Authenticate": "Bearer"}
            )
        try:
            with state.reading() as session:
                info = resolve_token(session, cred.credentials)
        except AccessDenied as exc:
            raise HTTPException(401, str(exc), {"WWW-Authenticate": "Bearer"}) from exc
        if info.role not in allowed:
            raise AccessDenied(f"{endpoint}: role {info.role!r} may not do this")
        return info

    return check
