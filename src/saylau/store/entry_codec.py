"""Version 2 of the compact form of a ballot or challenge entry (``board_entries.body``, migration 0010).

Version 1 (``ballot_codec``) holds a ballot's payload on its own. Version 2 holds what differs from one
ballot to the next and nothing the database already has:

- the **context**: device, station, style, and the contests with their selection ids and proof sizes,
  the same for every ballot of one device, is stored once in ``ballot_contexts``, named by its digest
  (the first 8 bytes of its SHA-256, so a digest names one context in every database, and a cache of
  them is never stale). The body carries the digest;
- the **tracking code** is derived, not stored: ``record_tracking_code`` (``H(previous code, ballot
  hash)``, ``saylau.crypto.ballot_types``) gives it from the rest; a payload whose code is not that
  (never stored by the server, which checks it) keeps it in the body (flag ``CODE``);
- the **entry time** (board time, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``) as 7 bytes of microseconds since
  1970 (flag ``TIME``), so the row's ``time`` column is NULL;
- a point as its 32-byte x coordinate, its SEC1 prefix (02 or 03) as one bit of a bit field;
- a ballot id ``<device>-<digits>`` as the digit count and the number.

``decode(encode(p, t).body) == (t, p)`` exactly: the board's payload hash (of the RFC 8785 JSON of
``p``) and entry hash are recomputed from the decoded values on every check, and every encoding is
canonical (minimal varints, zero padding bits), so a changed stored byte fails to decode or changes
what the hashes cover. The layout, byte by byte:

=======================  ==================================================================================
``version``              1 byte, :data:`VERSION`
``flags``                1 byte: ``CHALLENGE`` 1, ``REVOTE`` 2 (revote tag present), ``ID_SUFFIX`` 4
                         (``ballot_id`` is ``device_id + "-" + suffix``), ``ID_NUMBER`` 8 (the suffix is
                         digits: stored as their count and value), ``CODE`` 16 (code stored), ``TIME`` 32
``context``              8 bytes: the digest of the ballot's context
time                     7 bytes big-endian microseconds since 1970-01-01T00:00:00Z, if ``TIME``
ballot id                its suffix's digit count and value (varints) if ``ID_NUMBER``, else a string
``code``                 32 bytes, if ``CODE``
``previous_code``        32 bytes; then the revote tag (32 bytes) if ``REVOTE``
contests                 in the context's order: per selection the x coordinates of ``alpha`` and
                         ``beta`` (32 bytes each), its proof's challenges then responses (32 bytes each,
                         as many as the context says); then the contest's proof
point prefixes           one bit per point (1: prefix 03), least significant bit first, zero-padded
challenge only           ``ballot_nonce`` (32 bytes); count of choices, per choice its contest id, count
                         and selection ids (strings)
=======================  ==================================================================================

A context is ``1`` (its version), the device, station and style ids (strings), the count of contests
and per contest its id, its proof size ``k``, the count of selections and per selection its id and
proof size.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from saylau.board.chain import format_time, parse_time
from saylau.crypto.ballot_types import record_tracking_code
from saylau.store.compact_bytes import (
    HEX32,
    HEX33,
    Reader,
    Unfit,
    put_hex,
    put_str,
    put_varint,
    want_keys,
    want_list,
)

__all__ = ["DIGEST_BYTES", "VERSION", "Compact", "Context", "decode", "encode"]

VERSION = 2
DIGEST_BYTES = 8
CHALLENGE, REVOTE, ID_SUFFIX, ID_NUMBER, CODE, TIME = 1, 2, 4, 8, 16, 32
_FLAGS = CHALLENGE | REVOTE | ID_SUFFIX | ID_NUMBER | CODE | TIME
_CONTEXT_VERSION = 1
_CONTEXT_TAG = b"saylau/ballot-context/1\x00"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME_BYTES = 7
_DIGITS = re.compile(r"[0-9]{1,18}")
_BALLOT_KEYS = frozenset({"ballot_id", "style_id", "contests", "code", "previous_code"})
_WHAT = "compact ballot"

#: per contest: its id, its proof's size, and per selection its id and proof's size
ContestShape = tuple[str, int, tuple[tuple[str, int], ...]]


@dataclass(frozen=True)
class Context:
    """What every ballot of one device and style shares: the ids and the proofs' sizes."""

    device_id: str
    station_id: str
    style_id: str
    contests: tuple[ContestShape, ...]

    def to_bytes(self) -> bytes:
        """The stored form (``ballot_contexts.context``)."""
        out = bytearray((_CONTEXT_VERSION,))
        for s in (self.device_id, self.station_id, self.style_id):
            put_str(out, s)
        put_varint(out, len(self.contests))
        for contest_id, k, sels in self.contests:
            put_str(out, contest_id)
            put_varint(out, k)
            put_varint(out, len(sels))
            for selection_id, ks in sels:
                put_str(out, selection_id)
                put_varint(out, ks)
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Context:
        """Parse the stored form; ``ValueError`` for anything but an exact one."""
        r = Reader(bytes(data), "ballot context")
        (version,) = r.take(1)
        if version != _CONTEXT_VERSION:
            raise r.fail(f"version {version}; this saylau reads version {_CONTEXT_VERSION}")
        device_id, station_id, style_id = r.text(), r.text(), r.text()
        contests = []
        for _ in range(r.varint()):
            contest_id, k = r.text(), r.varint()
            sels = tuple((r.text(), r.varint()) for _ in range(r.varint()))
            contests.append((contest_id, k, sels))
        r.end()
        return cls(device_id, station_id, style_id, tuple(contests))

    def digest(self) -> bytes:
        """The name under which the context is stored: the first bytes of the SHA-256 of its form."""
        return hashlib.sha256(_CONTEXT_TAG + self.to_bytes()).digest()[:DIGEST_BYTES]


@dataclass(frozen=True)
class Compact:
    """An entry in compact form: the body, and the context it names (stored once, by digest)."""

    body: bytes
    context: Context
    #: whether the body carries the entry's time (the ``time`` column is then NULL)
    has_time: bool


def _proof_size(p: Any) -> int:
    p = want_keys(p, {"challenges", "responses"})
    cs, rs = want_list(p["challenges"]), want_list(p["responses"])
    if len(cs) != len(rs):
        raise Unfit
    return len(cs)


def _put_proof(out: bytearray, p: dict[str, Any]) -> None:
    for s in (*p["challenges"], *p["responses"]):
        put_hex(out, s, HEX32)


def _context(ballot: dict[str, Any], device_id: Any, station_id: Any) -> Context:
    if not isinstance(device_id, str) or not isinstance(station_id, str):
        raise Unfit
    contests: list[ContestShape] = []
    for c in want_list(ballot["contests"]):
        c = want_keys(c, {"contest_id", "selections", "proof"})
        sels = []
        for s in want_list(c["selections"]):
            s = want_keys(s, {"selection_id", "alpha", "beta", "proof"})
            if not isinstance(s["selection_id"], str):
                raise Unfit
            sels.append((s["selection_id"], _proof_size(s["proof"])))
        if not isinstance(c["contest_id"], str):
            raise Unfit
        contests.append((c["contest_id"], _proof_size(c["proof"]), tuple(sels)))
    if not isinstance(ballot["style_id"], str):
        raise Unfit
    ctx = Context(device_id, station_id, ballot["style_id"], tuple(contests))
    ctx.to_bytes()  # Unfit for a string UTF-8 cannot hold
    return ctx


def _put_time(out: bytearray, time: str | None) -> bool:
    """Append the time's microseconds if it is a board time this form holds exactly."""
    if time is None:
        return False
    try:
        at = parse_time(time)
    except (TypeError, ValueError):
        return False
    us = (at - _EPOCH) // timedelta(microseconds=1)
    if format_time(at) != time or not 0 <= us < 1 << (8 * _TIME_BYTES):
        return False
    out += us.to_bytes(_TIME_BYTES, "big")
    return True


def _put_ballot_id(out: bytearray, bid: Any, device_id: str) -> int:
    """Append the ballot id in its shortest form; return its flags."""
    if not isinstance(bid, str):
        raise Unfit
    prefix = device_id + "-"
    if not bid.startswith(prefix):
        put_str(out, bid)
        return 0
    suffix = bid[len(prefix) :]
    if _DIGITS.fullmatch(suffix) is None:
        put_str(out, suffix)
        return ID_SUFFIX
    put_varint(out, len(suffix))
    put_varint(out, int(suffix))
    return ID_SUFFIX | ID_NUMBER


def _put_choices(out: bytearray, choices: Any) -> None:
    if not isinstance(choices, dict):
        raise Unfit
    put_varint(out, len(choices))
    for contest_id, chosen in choices.items():
        put_str(out, contest_id)
        chosen = want_list(chosen)
        put_varint(out, len(chosen))
        for s in chosen:
            put_str(out, s)


def _put_points_and_proofs(out: bytearray, ballot: dict[str, Any]) -> list[bool]:
    """Append every selection's x coordinates and proofs and each contest's proof; return the prefixes."""
    odd: list[bool] = []
    for c in ballot["contests"]:
        for s in c["selections"]:
            for point in (s["alpha"], s["beta"]):
                if (
                    not isinstance(point, str)
                    or HEX33.fullmatch(point) is None
                    or point[:2] not in ("02", "03")
                ):
                    raise Unfit
                odd.append(point[:2] == "03")
                out += bytes.fromhex(point[2:])
            _put_proof(out, s["proof"])
        _put_proof(out, c["proof"])
    return odd


def encode(payload: Any, time: str | None) -> Compact | None:
    """The compact form of a ballot or challenge entry's payload (and time); ``None`` for another shape."""
    try:
        if isinstance(payload, dict) and "challenged" in payload:
            p = want_keys(payload, {"challenged", "device_id", "station_id"})
            opened = want_keys(p["challenged"], {"ballot", "ballot_nonce", "choices"})
            ballot, flags = opened["ballot"], CHALLENGE
        else:
            p = want_keys(payload, {"ballot", "device_id", "station_id", "state"})
            if p["state"] != "cast":
                raise Unfit
            ballot, flags, opened = p["ballot"], 0, None
        tagged = isinstance(ballot, dict) and "revote_tag" in ballot
        b = want_keys(ballot, _BALLOT_KEYS | {"revote_tag"} if tagged else _BALLOT_KEYS)
        ctx = _context(b, p["device_id"], p["station_id"])
        head, codes, points = bytearray(ctx.digest()), bytearray(), bytearray()
        if _put_time(head, time):
            flags |= TIME
        flags |= _put_ballot_id(head, b["ballot_id"], ctx.device_id)
        put_hex(codes, b["previous_code"], HEX32)
        if tagged:
            flags |= REVOTE
            put_hex(codes, b["revote_tag"], HEX32)
        odd = _put_points_and_proofs(points, b)
        if not isinstance(b["code"], str) or record_tracking_code(b) != b["code"]:
            flags |= CODE
            put_hex(head, b["code"], HEX32)
        bits = sum(1 << i for i, o in enumerate(odd) if o).to_bytes((len(odd) + 7) // 8, "little")
        body = bytes((VERSION, flags)) + head + codes + points + bits
        if opened is not None:
            tail = bytearray()
            put_hex(tail, opened["ballot_nonce"], HEX32)
            _put_choices(tail, opened["choices"])
            body += tail
        return Compact(body, ctx, bool(flags & TIME))
    except Unfit:
        return None


def _proof(r: Reader, k: int) -> dict[str, Any]:
    return {"challenges": [r.hex(32) for _ in range(k)], "responses": [r.hex(32) for _ in range(k)]}


def _time(r: Reader) -> str:
    us = int.from_bytes(r.take(_TIME_BYTES), "big")
    return format_time(_EPOCH + timedelta(microseconds=us))


def _ballot_id(r: Reader, flags: int, device_id: str) -> str:
    """The ballot id, refusing any form but the one ``encode`` writes for it."""
    if flags & ID_NUMBER:
        if not flags & ID_SUFFIX:
            raise r.fail("a numbered ballot id without its device prefix")
        width, n = r.varint(), r.varint()
        digits = str(n).zfill(width)
        if len(digits) != width or width > 18:
            raise r.fail(f"ballot id number {n} does not have {width} digits")
        return f"{device_id}-{digits}"
    bid = r.text()
    if flags & ID_SUFFIX:
        if _DIGITS.fullmatch(bid) is not None:
            raise r.fail("a ballot id of digits stored as a string")
        return f"{device_id}-{bid}"
    if bid.startswith(device_id + "-"):
        raise r.fail("a ballot id stored with its device prefix")
    return bid


def _contests(r: Reader, ctx: Context) -> list[dict[str, Any]]:
    raw = []
    for contest_id, k, shapes in ctx.contests:
        sels = [(sid, r.take(32), r.take(32), _proof(r, ks)) for sid, ks in shapes]
        raw.append((contest_id, sels, _proof(r, k)))
    n = 2 * sum(len(sels) for _, sels, _ in raw)
    bits = int.from_bytes(r.take((n + 7) // 8), "little")
    if bits >> n:
        raise r.fail("point prefix padding bits are not zero")
    i, contests = 0, []
    for contest_id, sels, proof in raw:
        out = []
        for sid, alpha, beta, sproof in sels:
            a = ("03" if bits >> i & 1 else "02") + alpha.hex()
            b = ("03" if bits >> (i + 1) & 1 else "02") + beta.hex()
            out.append({"selection_id": sid, "alpha": a, "beta": b, "proof": sproof})
            i += 2
        contests.append({"contest_id": contest_id, "selections": out, "proof": proof})
    return contests


def _choices(r: Reader) -> dict[str, list[str]]:
    choices: dict[str, list[str]] = {}
    for _ in range(r.varint()):
        contest_id = r.text()
        if contest_id in choices:
            raise r.fail(f"contest {contest_id!r} chosen twice")
        choices[contest_id] = [r.text() for _ in range(r.varint())]
    return choices


def decode(data: bytes, context_of: Callable[[bytes], Context]) -> tuple[str | None, dict[str, Any]]:
    """``(time, payload)`` as given to ``encode`` (time ``None`` if not in the body); ``ValueError`` else.

    ``context_of`` maps a digest to its context (``ValueError`` if there is none).
    """
    r = Reader(bytes(data), _WHAT)
    version, flags = r.take(2)
    if version != VERSION:
        raise r.fail(f"version {version}; expected version {VERSION}")
    if flags & ~_FLAGS:
        raise r.fail(f"unknown flags 0x{flags:02x}")
    ctx = context_of(r.take(DIGEST_BYTES))
    time = _time(r) if flags & TIME else None
    bid = _ballot_id(r, flags, ctx.device_id)
    code = r.hex(32) if flags & CODE else None
    ballot: dict[str, Any] = {
        "ballot_id": bid,
        "style_id": ctx.style_id,
        "code": code,
        "previous_code": r.hex(32),
    }
    if flags & REVOTE:
        ballot["revote_tag"] = r.hex(32)
    ballot["contests"] = _contests(r, ctx)
    if code is None:
        ballot["code"] = record_tracking_code(ballot)
    elif record_tracking_code(ballot) == code:
        raise r.fail("the code is stored but is the derived one")
    payload: dict[str, Any]
    if flags & CHALLENGE:
        nonce = r.hex(32)
        opened = {"ballot": ballot, "ballot_nonce": nonce, "choices": _choices(r)}
        payload = {"challenged": opened, "device_id": ctx.device_id, "station_id": ctx.station_id}
    else:
        payload = {
            "ballot": ballot,
            "device_id": ctx.device_id,
            "station_id": ctx.station_id,
            "state": "cast",
        }
    r.end()
    return time, payload
