"""Map saylau's exceptions to HTTP answers whose message names the object or field and the check."""

from __future__ import annotations

import re
from concurrent.futures import BrokenExecutor

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from saylau.api.logins import TooManyLogins
from saylau.api.overload import Overloaded
from saylau.errors import (
    AccessDenied,
    BoardClosed,
    BoardError,
    CryptoError,
    ElectionError,
    ElectionStateError,
    EmbargoError,
    PollbookError,
    PollError,
    RecordError,
    SaylauError,
)
from saylau.store.idempotency import IdempotencyConflict

__all__ = ["MAX_MESSAGE", "MAX_TOKEN", "NotFound", "clip", "install_error_handlers", "status_for"]

MAX_TOKEN = 100
"""Longest run of non-blank characters an error message repeats (a value echoed in it is cut)."""
MAX_MESSAGE = 2000
"""Longest error message answered (the rest is cut, saying how much)."""
_LONG = re.compile(rf"\S{{{MAX_TOKEN + 1},}}")


class NotFound(LookupError):
    """The named object does not exist (HTTP 404)."""


def status_for(exc: BaseException) -> int:
    """The HTTP status for an exception raised by an endpoint."""
    table: list[tuple[type[BaseException], int]] = [
        (TooManyLogins, 429),
        (Overloaded, 503),
        (AccessDenied, 403),
        (EmbargoError, 403),
        (ElectionStateError, 409),
        (PollbookError, 409),
        (IdempotencyConflict, 409),
        (BoardClosed, 409),
        (CryptoError, 422),
        (RecordError, 422),
        (BoardError, 422),
        (ElectionError, 422),
        (PollError, 422),
        (NotFound, 404),
        (ValueError, 422),
        (BrokenExecutor, 503),  # a verification worker died: nothing stored, send again
    ]
    for typ, code in table:
        if isinstance(exc, typ):
            return code
    return 500


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` with every echoed value longer than ``MAX_TOKEN`` cut, and at most ``limit`` characters.

    Error messages name the field and often quote the value refused; a 50 MB value must not come back
    (twice) in the answer, nor fill a log line.
    """
    if len(text) <= MAX_TOKEN:
        return text
    text = _LONG.sub(lambda m: f"{m.group()[:40]}…[{len(m.group())} characters]", text)
    if len(text) > limit:
        text = f"{text[:limit]}…[{len(text) - limit} more characters]"
    return text


def _message(exc: BaseException) -> str:
    return clip(str(exc.args[0]) if exc.args else type(exc).__name__)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers."""

    async def saylau_error(request: Request, exc: Exception) -> JSONResponse:
        del request
        told_to_wait = isinstance(exc, (TooManyLogins, Overloaded))
        headers = {"Retry-After": str(exc.retry_after)} if told_to_wait else None  # type: ignore[attr-defined]
        return JSONResponse(
            {"detail": _message(exc), "error": type(exc).__name__},
            status_code=status_for(exc),
            headers=headers,
        )

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        del request
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        parts = []
        for err in errors:
            loc = [str(p) for p in err.get("loc", ()) if p != "body"]
            parts.append(clip(f"field '{'.'.join(loc) or 'body'}': {err.get('msg', 'invalid')}", 500))
        return JSONResponse(
            {"detail": clip("; ".join(parts)), "error": "ValidationError", "fields": parts[:100]},
            status_code=422,
        )

    for typ in (SaylauError, NotFound, ValueError, IdempotencyConflict, BrokenExecutor):
        app.add_exception_handler(typ, saylau_error)
    app.add_exception_handler(RequestValidationError, validation_error)
