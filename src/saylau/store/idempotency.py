"""Idempotency keys: a repeated request returns the stored response instead of acting twice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from saylau.store.models import IdempotencyKey

__all__ = ["IdempotencyConflict", "StoredResponse", "lookup", "remember", "request_hash"]


class IdempotencyConflict(ValueError):
    """The same key was used before for a different request."""


@dataclass(frozen=True)
class StoredResponse:
    """The status and JSON body sent the first time."""

    status_code: int
    body: dict[str, Any]


def request_hash(method: str, path: str, body: bytes) -> str:
    """Digest identifying a request."""
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def lookup(session: Session, scope: str, key: str, req_hash: str) -> StoredResponse | None:
    """The stored response for ``key`` in ``scope``, ``None`` if the key is new."""
    row = session.get(IdempotencyKey, (scope, key))
    if row is None:
        return None
    if row.request_hash != req_hash:
        raise IdempotencyConflict(
            f"header 'Idempotency-Key': {key!r} was already used for a different request"
        )
    return StoredResponse(row.status_code, row.response)


def remember(
    session: Session, scope: str, key: str, req_hash: str, status_code: int, body: dict[str, Any]
) -> None:
    """Store the response in the same transaction as the write it reports."""
    session.add(
        IdempotencyKey(scope=scope, key=key, request_hash=req_hash, status_code=status_code, response=body)
    )
