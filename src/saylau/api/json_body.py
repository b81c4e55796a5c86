"""A route's JSON body, parsed once: the input guard's parse is reused, validated as FastAPI would.

``InputGuard`` (``limits.py``) parses every JSON body to check its text and numbers before any route
runs; it leaves the document in the request's scope under ``PARSED_JSON``. The hot routes (casting a
ballot) take the body from there and validate it with the same pydantic model FastAPI would, raising
``RequestValidationError`` with FastAPI's locations (``body``, then the field path), so a refusal reads
exactly as before (``errors.validation_error``) while the body is parsed once instead of twice and
FastAPI's body and dependency machinery is skipped.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

__all__ = ["PARSED_JSON", "bearer_token", "json_body"]

PARSED_JSON = "saylau.parsed_json"
"""The scope key under which ``InputGuard`` leaves a request's parsed JSON body."""

M = TypeVar("M", bound=BaseModel)


def bearer_token(request: Request) -> str | None:
    """The bearer token of the ``Authorization`` header, or ``None`` (as ``HTTPBearer(auto_error=False)``)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def json_body(request: Request, model: type[M]) -> M:
    """The body as ``model``; ``RequestValidationError`` (422) naming the field, as FastAPI's own."""
    doc: Any = request.scope.get(PARSED_JSON, PARSED_JSON)
    if doc is PARSED_JSON:  # not parsed by the guard: empty, not JSON, or another content type
        raw = await request.body()
        if not raw:
            raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            where = getattr(exc, "pos", 0)
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body", where), "msg": "JSON decode error"}]
            ) from None
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None
