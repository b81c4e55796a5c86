"""A stored ballot's document is its board entry's: the database holds each ballot once.

The ``ballots`` table indexes the ballots (id, voter, sequence, state, tracking code, board position);
the ballot itself — ciphertexts and proofs, or a challenged ballot's opening, with its device and
station — is the payload of its ``ballot`` or ``challenge`` entry on the hash-chained board, where
every byte is covered by the entry hash, stored in its compact binary form (``board_entries.body``,
``store/entry_codec.py``, since migration 0010; ``store/ballot_codec.py`` from 0009).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, and_, select

from saylau.store.models import Ballot, BoardEntryRow

__all__ = ["BALLOT_KINDS", "ballot_document", "with_documents"]

#: board entry kinds that carry a ballot, and the payload key holding it
BALLOT_KINDS: Mapping[str, str] = {"ballot": "ballot", "challenge": "challenged"}


def ballot_document(kind: str, payload: Any) -> dict[str, Any] | None:
    """The ballot (kind ``ballot``) or challenged ballot (kind ``challenge``) an entry's payload carries."""
    key = BALLOT_KINDS.get(kind)
    doc = payload.get(key) if key is not None and isinstance(payload, Mapping) else None
    return doc if isinstance(doc, dict) else None


def with_documents(*columns: Any) -> Select[Any]:
    """``SELECT columns…, entry kind, entry payload, entry body FROM ballots JOIN`` each ballot's board entry.

    ``stored_payload(payload, body, contexts)`` (``store.board_rows``) is the entry's payload object.
    """
    same_entry = and_(
        BoardEntryRow.election_id == Ballot.election_id, BoardEntryRow.position == Ballot.board_position
    )
    return select(*columns, BoardEntryRow.kind, BoardEntryRow.payload_json, BoardEntryRow.body).join(
        BoardEntryRow, same_entry
    )
