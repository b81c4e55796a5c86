"""Entries of the hash-chained bulletin board and the rules that link them.

Each entry commits to its position, time, kind, optional tracking code, the hash of its payload and the
hash of the entry before it; the first entry links to a genesis hash derived from the board id. Changing,
removing, inserting or reordering any entry therefore changes every later entry hash (the construction
of a hash chain / linked timestamping log, as in Haber–Stornetta 1991 and ElectionGuard 2.0 §3.4.3's
chained confirmation codes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Self

from saylau.board.hashing import TAG_ENTRY, TAG_GENESIS, TAG_PAYLOAD, tagged_hash
from saylau.errors import BoardError

__all__ = [
    "KINDS",
    "TIME_PATTERN",
    "BoardEntry",
    "Clock",
    "format_time",
    "genesis_hash",
    "make_entry",
    "now_iso",
    "parse_time",
    "payload_hash",
    "system_clock",
]

KINDS = frozenset(
    {
        "election",
        "manifest",
        "application",
        "decision",
        "guardian",
        "joint_key",
        "phase",
        "ballot",
        "challenge",
        "superseded",
        "spoiled",
        "turnout",
        "protocol",
        "tally",
        "partial_decryption",
        "result",
        "exit_poll",
        "note",
    }
)


Clock = Callable[[], datetime]
"""Where a board takes its times from: the server's clock, or a simulated election day's."""

TIME_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$")
"""Board times: UTC, microseconds, ``Z`` (``2022-11-20T01:00:00.000000Z``); they sort as strings."""


def system_clock() -> datetime:
    """The machine's clock (UTC): the server's board time."""
    return datetime.now(UTC)


def format_time(at: datetime) -> str:
    """A board time: ``at`` in UTC with microseconds and a ``Z`` suffix (``ValueError`` if naive)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"board time {at.isoformat()}: needs a UTC offset")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Parse a board time written by ``format_time``; ``ValueError`` for any other form."""
    if not isinstance(text, str) or not TIME_PATTERN.match(text):
        raise ValueError(f"board time {text!r}: not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string with microseconds and a ``Z`` suffix."""
    return format_time(system_clock())


def genesis_hash(board_id: str) -> str:
    """The previous-hash of the first entry: binds the chain to its board (election) id."""
    return tagged_hash(TAG_GENESIS, {"board_id": board_id})


def payload_hash(payload: dict[str, Any]) -> str:
    """Hash of an entry's payload (canonical JSON, payload tag)."""
    return tagged_hash(TAG_PAYLOAD, payload)


@dataclass(frozen=True)
class BoardEntry:
    """One published object on the board, with the links that make the log tamper-evident."""

    position: int
    time: str
    kind: str
    code: str | None
    payload: dict[str, Any] = field(repr=False)
    payload_hash: str
    prev_hash: str
    entry_hash: str

    def header(self) -> dict[str, Any]:
        """The fields the entry hash covers (everything except the payload itself and the entry hash)."""
        return {
            "position": self.position,
            "time": self.time,
            "kind": self.kind,
            "code": self.code,
            "payload_hash": self.payload_hash,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        """Recompute the entry hash from the header."""
        return tagged_hash(TAG_ENTRY, self.header())

    def check(self, expected_position: int, expected_prev: str, *, payload_elided: bool = False) -> None:
        """Raise ``BoardError`` naming the position unless this entry is consistent and links correctly.

        ``payload_elided``: the row came without its payload (an election record's board,
        ``docs/record-format.md`` §11), so ``payload_hash`` is checked by the caller against the payload
        it rebuilds; everything else is checked here.
        """
        if self.position != expected_position:
            raise BoardError(
                f"board entry at position {expected_position}: carries position {self.position} "
                "(an entry was removed, inserted or reordered)"
            )
        if self.kind not in KINDS:
            raise BoardError(f"board entry at position {self.position}: unknown kind {self.kind!r}")
        if not payload_elided and payload_hash(self.payload) != self.payload_hash:
            raise BoardError(f"board entry at position {self.position}: payload does not match payload_hash")
        if self.prev_hash != expected_prev:
            raise BoardError(
                f"board entry at position {self.position}: prev_hash does not match the previous entry "
                "(an entry was changed, removed, inserted or reordered)"
            )
        if self.compute_hash() != self.entry_hash:
            raise BoardError(f"board entry at position {self.position}: entry_hash does not match its header")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (one JSON Lines row of the export, without the ``type`` field)."""
        return {**self.header(), "payload": self.payload, "entry_hash": self.entry_hash}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        """Parse the JSON form; ``BoardError`` names the missing or mistyped field."""
        where = f"board entry {d.get('position', '?')}"
        try:
            position = d["position"]
            code = d.get("code")
            values = {k: d[k] for k in ("time", "kind", "payload_hash", "prev_hash", "entry_hash")}
            payload = d["payload"]
        except KeyError as exc:
            raise BoardError(f"{where}: missing field {exc.args[0]!r}") from exc
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            raise BoardError(f"{where}: field 'position' must be a non-negative integer")
        for k, v in values.items():
            if not isinstance(v, str):
                raise BoardError(f"{where}: field {k!r} must be a string")
        if code is not None and not isinstance(code, str):
            raise BoardError(f"{where}: field 'code' must be a string or null")
        if not isinstance(payload, dict):
            raise BoardError(f"{where}: field 'payload' must be an object")
        return cls(position=position, code=code, payload=payload, **values)


def make_entry(
    prev: BoardEntry | None,
    board_id: str,
    kind: str,
    payload: dict[str, Any],
    code: str | None = None,
    time: str | None = None,
    known_payload_hash: str | None = None,
) -> BoardEntry:
    """Build the entry that follows ``prev`` (or the first entry of board ``board_id``).

    ``known_payload_hash`` is ``payload_hash(payload)`` when the caller computed it already (the server
    does it in its verification workers); the verifier recomputes it from the payload in any case.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown board entry kind {kind!r}; known: {sorted(KINDS)}")
    position = 0 if prev is None else prev.position + 1
    prev_hash = genesis_hash(board_id) if prev is None else prev.entry_hash
    draft = BoardEntry(
        position=position,
        time=time or now_iso(),
        kind=kind,
        code=code,
        payload=payload,
        payload_hash=known_payload_hash or payload_hash(payload),
        prev_hash=prev_hash,
        entry_hash="",
    )
    return replace(draft, entry_hash=tagged_hash(TAG_ENTRY, draft.header()))
