"""A board entry to its ``board_entries`` row and back (migration 0010's layout).

A ballot or challenge entry whose code is its ballot's is stored compact (``entry_codec``, version 2):
the body carries the payload and, when it is a board time, the time; ``code`` and ``time`` are NULL. An
entry of such a shape that version 2 cannot hold keeps the version-1 body (``ballot_codec``), any other
its JSON payload. No row stores its previous hash: it is the entry hash of the row before, so a reader
of one row also reads that hash (:func:`prev_hashes`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.board import BoardEntry
from saylau.board.chain import genesis_hash
from saylau.store import ballot_codec, entry_codec
from saylau.store.ballot_contexts import Contexts
from saylau.store.ballot_documents import ballot_document
from saylau.store.entry_codec import Context
from saylau.store.models import BoardEntryRow

__all__ = ["board_entry", "entry_row", "prev_hashes", "row_fields", "stored_columns", "stored_payload"]


def stored_columns(
    kind: str, time: str, code: str | None, payload: dict[str, Any], put: Callable[[Context], bool]
) -> dict[str, Any]:
    """The ``time``, ``code``, ``payload`` and ``body`` columns of an entry's row.

    ``put`` stores a compact entry's context (``False``: another context has its digest, so the entry
    is stored in version 1 instead).
    """
    doc = ballot_document(kind, payload)
    inner = doc.get("ballot") if doc is not None and "ballot_nonce" in doc else doc
    compact = entry_codec.encode(payload, time) if isinstance(inner, dict) else None
    if compact is not None and isinstance(inner, dict) and code == inner.get("code") and put(compact.context):
        return {
            "time": None if compact.has_time else time,
            "code": None,
            "payload": None,
            "body": compact.body,
        }
    body = ballot_codec.encode(payload)
    return {"time": time, "code": code, "payload": payload if body is None else None, "body": body}


def entry_row(election_id: str, entry: BoardEntry, contexts: Contexts) -> BoardEntryRow:
    """The row that stores ``entry`` (adding its ballot context to the session if it is new)."""
    c = stored_columns(entry.kind, entry.time, entry.code, entry.payload, contexts.put)
    return BoardEntryRow(
        election_id=election_id,
        position=entry.position,
        time=c["time"],
        kind=entry.kind,
        code=c["code"],
        payload_json=c["payload"],
        body=c["body"],
        payload_hash=entry.payload_hash,
        entry_hash=entry.entry_hash,
    )


def stored_payload(payload_json: Any, body: bytes | None, contexts: Contexts) -> dict[str, Any]:
    """The payload of a row's ``payload`` and ``body`` columns (``ValueError`` if they are broken)."""
    if body is not None and body[:1] == bytes((entry_codec.VERSION,)):
        return entry_codec.decode(bytes(body), contexts.get)[1]
    return row_fields("", None, payload_json, body, contexts.get)[2]


def row_fields(
    time: str | None,
    code: str | None,
    payload_json: Any,
    body: bytes | None,
    context_of: Callable[[bytes], Context],
) -> tuple[str, str | None, dict[str, Any]]:
    """An entry's ``(time, code, payload)`` from its stored columns; ``ValueError`` for a broken row.

    ``time`` and ``code`` are the columns' values; for a version-2 body they must be NULL where the body
    holds them (the time, if it carries one; the code always), so nothing is stored twice.
    """
    if body is not None and payload_json is not None:
        raise ValueError("board entry: both a compact body and a JSON payload")
    if body is None:
        if not isinstance(payload_json, dict):
            raise ValueError("board entry: neither a compact body nor a JSON object payload")
        payload = payload_json
    elif body[:1] == bytes((entry_codec.VERSION,)):
        in_body, payload = entry_codec.decode(bytes(body), context_of)
        if code is not None:
            raise ValueError("compact ballot: the code column is set beside a compact body")
        doc = ballot_document("challenge" if "challenged" in payload else "ballot", payload)
        assert doc is not None  # the codec's shapes
        code = str((doc["ballot"] if "ballot_nonce" in doc else doc)["code"])
        if (in_body is None) == (time is None):
            raise ValueError("compact ballot: the time is stored twice or not at all")
        time = in_body if time is None else time
    else:
        payload = ballot_codec.decode(bytes(body))
    if time is None:
        raise ValueError("board entry: no time")
    return time, code, payload


def board_entry(row: BoardEntryRow, prev_hash: str, contexts: Contexts) -> BoardEntry:
    """The entry a row stores, given the entry hash before it (``ValueError`` for a broken row)."""
    time, code, payload = row_fields(row.time, row.code, row.payload_json, row.body, contexts.get)
    return BoardEntry(
        position=row.position,
        time=time,
        kind=row.kind,
        code=code,
        payload=payload,
        payload_hash=row.payload_hash,
        prev_hash=prev_hash,
        entry_hash=row.entry_hash,
    )


def prev_hashes(session: Session, election_id: str, positions: Iterable[int]) -> Mapping[int, str]:
    """The previous hash of the entries at ``positions``: the genesis hash or the entry hash before.

    A position whose predecessor is missing is left out (the caller names the gap).
    """
    at = set(positions)
    wanted = {p - 1 for p in at if p > 0}
    out: dict[int, str] = {0: genesis_hash(election_id)} if 0 in at else {}
    if wanted:
        rows = session.execute(
            select(BoardEntryRow.position, BoardEntryRow.entry_hash).where(
                BoardEntryRow.election_id == election_id, BoardEntryRow.position.in_(sorted(wanted))
            )
        )
        out.update({int(p) + 1: str(h) for p, h in rows})
    return out
