"""Map saylau's exceptions to HTTP answers whose message names the object or field and the check."""

from __future__ import annotations

from concurrent.futures import BrokenExecutor

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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

__all__ = ["NotFound", "install_error_handlers", "status_for"]


class NotFound(LookupError):
    """The named object does not exist (HTTP 404)."""


def status_for(exc: BaseException) -> int:
    """The HTTP status for an exception raised by an endpoint."""
    table: list[tuple[type[BaseException], int]] = [
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


def _message(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args else type(exc).__name__


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers."""

    async def saylau_error(request: Request, exc: Exception) -> JSONResponse:
        del request
        return JSONResponse(
            {"detail": _message(exc), "error": type(exc).__name__}, status_code=status_for(exc)
        )

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        del request
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        parts = []
        for err in errors:
            loc = [str(p) for p in err.get("loc", ()) if p != "body"]
            parts.append(f"field '{'.'.join(loc) or 'body'}': {err.get('msg', 'invalid')}")
        return JSONResponse(
            {"detail": "; ".join(parts), "error": "ValidationError", "fields": [p for p in parts]},
            status_code=422,
        )

    for typ in (SaylauError, NotFound, ValueError, IdempotencyConflict, BrokenExecutor):
        app.add_exception_handler(typ, saylau_error)
    app.add_exception_handler(RequestValidationError, validation_error)
