"""The API's error bodies and the ``responses=`` each route declares, so the OpenAPI tells what comes back.

Every refusal has the body ``ErrorOut`` (``detail`` naming the object or field and the check, ``error``
the exception's class); a request the parser refuses (422) adds ``fields``, a refused voter roll
``rows``. A missing or unknown bearer token (401) is answered by FastAPI's own handler: ``detail`` only.

The response models of the routes are in ``schemas_admin``, ``schemas_voting`` and ``schemas_results``
(one module per area); they describe the wire format as it is, field for field. Routes that build their
answer as a ``JSONResponse`` (the writes, among them the cast path) are not re-validated by FastAPI: their
model documents the answer, and the API fuzz tests (``tests/api/fuzz``) check it against every response.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from saylau.api.roles import ALL_ROLES, ENDPOINT_ROLES, PUBLIC

__all__ = ["AuthErrorOut", "ErrorOut", "JobOut", "RowProblemOut", "ValidationErrorOut", "refusals"]


class ErrorOut(BaseModel):
    """A refusal: what was refused and why, and the kind of refusal (``AccessDenied``, ``NotFound`` …)."""

    detail: str
    error: str


class AuthErrorOut(BaseModel):
    """No usable bearer token (401): the message; ``error`` only when the input guard answered."""

    detail: str
    error: str | None = None


class RowProblemOut(BaseModel):
    """One bad row of an uploaded file: its number (header = 1), the field and the reason."""

    row: int
    field: str
    reason: str


class ValidationErrorOut(ErrorOut):
    """A request refused as malformed (422): ``fields`` lists each bad field; ``rows`` a voter roll's rows."""

    fields: list[str] | None = None
    rows: list[RowProblemOut] | None = None


class JobOut(BaseModel):
    """A background job (tally, decryption, verification, roll import): state, progress, result, failure."""

    id: str
    kind: str
    election_id: str | None
    state: str
    progress: float
    message: str
    error: str | None
    result: dict[str, Any] | None
    attempts: int
    created_at: str
    heartbeat_at: str | None


_WHY: dict[int, str] = {
    400: "the request cannot be read",
    401: "no bearer token, or one that is unknown or expired",
    403: "the caller's role or binding (election, station, guardian) may not do this",
    404: "the election or another object named in the path does not exist",
    409: "not in this phase, or conflicting with what is stored",
    413: "the request body exceeds the route's limit",
    422: "a field, parameter or document is malformed or fails a check (named in the message)",
    429: "too many requests (failed logins); wait for Retry-After seconds",
    503: "the server cannot take it now (nothing stored); send it again after Retry-After seconds",
}

_MODELS: dict[int, type[BaseModel]] = {401: AuthErrorOut, 422: ValidationErrorOut}

_ALWAYS = (413, 422)
"""Every API route: the input guard limits every body and refuses control characters in any URL (422)."""


def refusals(endpoint: str | None, *codes: int, non_json: bool = False) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each error status it can answer, with its body model.

    ``endpoint`` (the ``roles.ENDPOINT_ROLES`` name) adds 401 (any bearer token offered is checked,
    even on public routes) and 403 unless every role may call it; ``codes`` adds the route's own.
    ``non_json``: the route answers success in another media type (FastAPI would file the error bodies
    under it); they are declared as ``application/json`` by reference instead.
    """
    wanted = set(_ALWAYS) | set(codes)
    if endpoint is not None:
        wanted.add(401)
        if not ENDPOINT_ROLES[endpoint] >= ALL_ROLES - {PUBLIC}:  # a signed-in role is refused
            wanted.add(403)
    if non_json:
        return {
            code: {
                "description": _WHY[code],
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{_MODELS.get(code, ErrorOut).__name__}"}
                    }
                },
            }
            for code in sorted(wanted)
        }
    return {
        code: {"model": _MODELS.get(code, ErrorOut), "description": _WHY[code]} for code in sorted(wanted)
    }
