"""Staff sessions for the web consoles: the API's bearer token in a cookie, CSRF tokens, role checks.

Signing in goes through the API's own ``POST /auth/login`` function (argon2 accounts, the failed-login
throttle); the token it issues is kept in the ``saylau_staff`` cookie (``HttpOnly``, ``SameSite=Strict``,
``Path=/``, ``Secure`` when the page is served over https), so a page's script never sees it. Every
console request resolves the cookie with ``saylau.api.auth.authorize`` against ``ENDPOINT_ROLES``, the
same table and check as the API; a form POST must also carry the session's CSRF token, an HMAC of the
session token (so it is per session, needs no server-side store, and reveals nothing of the token), and
come from this origin when the browser names one. The sign-in form itself carries a random token that
must match a ``SameSite=Strict`` cookie set with the form (no login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import Response

from saylau.api.auth import authorize
from saylau.api.state import AppState
from saylau.errors import AccessDenied
from saylau.store.accounts import TokenInfo

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "CsrfRefused",
    "NotSignedIn",
    "StaffSession",
    "check_csrf",
    "check_login_csrf",
    "clear_session",
    "csrf_token",
    "session_token",
    "set_session",
    "staff",
]

SESSION_COOKIE = "saylau_staff"
LOGIN_CSRF_COOKIE = "saylau_login_csrf"
_CSRF_TAG = b"saylau/console-csrf/1"


class NotSignedIn(Exception):
    """No session cookie, or its token is unknown or expired: the console sends the sign-in page."""


class CsrfRefused(AccessDenied):
    """A form POST without the session's CSRF token, or from another origin (HTTP 403)."""


@dataclass(frozen=True)
class StaffSession:
    """A signed-in staff member: what their token grants, and the CSRF token their forms carry."""

    caller: TokenInfo
    csrf: str


def session_token(request: Request) -> str | None:
    """The bearer token of the request's session cookie, if any."""
    token = request.cookies.get(SESSION_COOKIE)
    return token or None


def csrf_token(token: str) -> str:
    """The CSRF token of a session: HMAC-SHA-256 keyed by the session token."""
    return hmac.new(token.encode(), _CSRF_TAG, hashlib.sha256).hexdigest()


async def staff(request: Request, state: AppState, endpoint: str) -> StaffSession:
    """The session's caller if its role may call ``endpoint`` (``AccessDenied`` if not, 403).

    ``NotSignedIn`` without a cookie or with a token the server no longer accepts.
    """
    token = session_token(request)
    if token is None:
        raise NotSignedIn
    try:
        caller = await authorize(state, token, endpoint)
    except HTTPException as exc:  # 401: unknown or expired
        raise NotSignedIn from exc
    return StaffSession(caller, csrf_token(token))


def _same_origin(request: Request) -> bool:
    """Whether the request's ``Origin`` (when the browser sends one) is this server's."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def check_csrf(request: Request, session: StaffSession, form: Mapping[str, Any]) -> None:
    """Refuse a form POST that lacks the session's CSRF token or comes from another origin."""
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf):
        raise CsrfRefused("form: the security token (csrf) is missing or wrong; reload the page")
    if not _same_origin(request):
        raise CsrfRefused("form: sent from another site (Origin does not match)")


def new_login_csrf() -> str:
    """A random token for one sign-in form."""
    return secrets.token_urlsafe(24)


def check_login_csrf(request: Request, form: Mapping[str, Any]) -> None:
    """The sign-in form's token must match its cookie (a third-party site cannot sign anyone in)."""
    sent = form.get("csrf")
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
        raise CsrfRefused("sign-in form: the security token (csrf) is missing or wrong; reload the page")
    if not _same_origin(request):
        raise CsrfRefused("sign-in form: sent from another site (Origin does not match)")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_login_csrf(request: Request, response: Response, token: str) -> None:
    """The sign-in form's cookie."""
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=_secure(request), max_age=3600)


def set_session(request: Request, response: Response, token: str, max_age: int) -> None:
    """Keep the bearer token in the session cookie (HttpOnly, SameSite=Strict, Path=/, Secure on https)."""
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=_secure(request), max_age=max_age)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")


def clear_session(request: Request, response: Response) -> None:
    """Drop the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", secure=_secure(request), httponly=True,
                           samesite="strict")
