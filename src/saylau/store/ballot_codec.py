"""The compact binary form in which the database stores a ballot's board payload (``board_entries.body``).

A ``ballot`` entry's payload ``{ballot, device_id, station_id, state: "cast"}`` and a ``challenge``
entry's ``{challenged: {ballot, ballot_nonce, choices}, device_id, station_id}`` are about 4 KB of JSON
for a 7-option ballot, almost all of it hex. Here every point is its 33 bytes (the record form already
holds SEC1-compressed secp256k1 points, so nothing is (de)compressed), every scalar, code and nonce its
32 bytes, every string a length-prefixed UTF-8 string, in the payload's own order (contests, selections
and choices as the ballot lists them). ``decode(encode(p)) == p`` exactly, so the board's payload hash
(of the RFC 8785 JSON of ``p``) is recomputed from the decoded payload on every check, and a changed
stored byte either fails to decode or changes the payload, and the hash names the entry.

``encode`` returns ``None`` for a payload not of these exact shapes (an unknown key, a hex string that
is not canonical lowercase, …): such a payload is stored as JSON, unchanged. The layout, byte by byte:

=======================  ==================================================================================
``version``              1 byte, :data:`VERSION`
``flags``                1 byte: bit 0 challenge payload, bit 1 revote tag present, bit 2 ``ballot_id`` is
                         ``device_id + "-" + suffix`` and only the suffix is stored
strings                  ``device_id``, ``station_id``, ``ballot_id`` (or its suffix), ``style_id``
``code``, ``previous``   32 bytes each; then the revote tag (32 bytes) if flagged
contests                 count; per contest its id, its selections' count, per selection its id, ``alpha``
                         and ``beta`` (33 bytes each) and range proof; then the contest's range proof
challenge only           ``ballot_nonce`` (32 bytes); count of choices, per choice its contest id, count
                         and selection ids
=======================  ==================================================================================

A count or string length is a LEB128 unsigned varint; a range proof is its count ``k`` then ``k``
challenges and ``k`` responses of 32 bytes.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["VERSION", "decode", "encode"]

VERSION = 1
_CHALLENGE, _REVOTE, _ID_SUFFIX = 1, 2, 4
_HEX32 = re.compile(r"[0-9a-f]{64}")
_HEX33 = re.compile(r"[0-9a-f]{66}")
_BALLOT_KEYS = frozenset({"ballot_id", "style_id", "contests", "code", "previous_code"})


class _Unfit(Exception):
    """The payload is not of the shape this codec stores (it is kept as JSON)."""


def _varint(out: bytearray, n: int) -> None:
    if not isinstance(n, int) or n < 0:
        raise _Unfit
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _str(out: bytearray, s: Any) -> None:
    if not isinstance(s, str):
        raise _Unfit
    try:
        b = s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        raise _Unfit from None
    _varint(out, len(b))
    out += b


def _hex(out: bytearray, s: Any, pattern: re.Pattern[str]) -> None:
    if not isinstance(s, str) or pattern.fullmatch(s) is None:
        raise _Unfit
    out += bytes.fromhex(s)


def _keys(d: Any, keys: frozenset[str] | set[str]) -> dict[str, Any]:
    if not isinstance(d, dict) or d.keys() != keys:
        raise _Unfit
    return d


def _list(x: Any) -> list[Any]:
    if not isinstance(x, list):
        raise _Unfit
    return x


def _proof(out: bytearray, p: Any) -> None:
    p = _keys(p, {"challenges", "responses"})
    cs, rs = _list(p["challenges"]), _list(p["responses"])
    if len(cs) != len(rs):
        raise _Unfit
    _varint(out, len(cs))
    for s in (*cs, *rs):
        _hex(out, s, _HEX32)


def _ballot(out: bytearray, b: Any, device_id: str, flags: int) -> int:
    tagged = isinstance(b, dict) and "revote_tag" in b
    b = _keys(b, _BALLOT_KEYS | {"revote_tag"} if tagged else _BALLOT_KEYS)
    bid = b["ballot_id"]
    prefix = device_id + "-"
    if isinstance(bid, str) and bid.startswith(prefix):
        flags |= _ID_SUFFIX
        bid = bid[len(prefix) :]
    _str(out, bid)
    _str(out, b["style_id"])
    _hex(out, b["code"], _HEX32)
    _hex(out, b["previous_code"], _HEX32)
    if tagged:
        flags |= _REVOTE
        _hex(out, b["revote_tag"], _HEX32)
    contests = _list(b["contests"])
    _varint(out, len(contests))
    for c in contests:
        c = _keys(c, {"contest_id", "selections", "proof"})
        _str(out, c["contest_id"])
        sels = _list(c["selections"])
        _varint(out, len(sels))
        for s in sels:
            s = _keys(s, {"selection_id", "alpha", "beta", "proof"})
            _str(out, s["selection_id"])
            _hex(out, s["alpha"], _HEX33)
            _hex(out, s["beta"], _HEX33)
            _proof(out, s["proof"])
        _proof(out, c["proof"])
    return flags


def encode(payload: Any) -> bytes | None:
    """The compact form of a ``ballot`` or ``challenge`` entry's payload; ``None`` if it has another shape."""
    try:
        if isinstance(payload, dict) and "challenged" in payload:
            p = _keys(payload, {"challenged", "device_id", "station_id"})
            opened = _keys(p["challenged"], {"ballot", "ballot_nonce", "choices"})
            ballot, flags = opened["ballot"], _CHALLENGE
        else:
            p = _keys(payload, {"ballot", "device_id", "station_id", "state"})
            if p["state"] != "cast":
                raise _Unfit
            ballot, flags, opened = p["ballot"], 0, None
        body = bytearray()
        _str(body, p["device_id"])
        _str(body, p["station_id"])
        flags = _ballot(body, ballot, p["device_id"], flags)
        if opened is not None:
            _hex(body, opened["ballot_nonce"], _HEX32)
            choices = opened["choices"]
            if not isinstance(choices, dict):
                raise _Unfit
            _varint(body, len(choices))
            for contest_id, chosen in choices.items():
                _str(body, contest_id)
                chosen = _list(chosen)
                _varint(body, len(chosen))
                for s in chosen:
                    _str(body, s)
        return bytes((VERSION, flags)) + bytes(body)
    except _Unfit:
        return None


class _Reader:
    """Reads the fields back from a buffer; ``ValueError`` for anything but an exact, complete form."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise ValueError(f"compact ballot: ends at byte {len(self.data)}, {end - len(self.data)} short")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def varint(self) -> int:
        n, shift = 0, 0
        while True:
            (byte,) = self.take(1)
            n |= (byte & 0x7F) << shift
            if byte < 0x80:
                return n
            shift += 7
            if shift > 63:
                raise ValueError(f"compact ballot: count at byte {self.pos} is too long")

    def text(self) -> str:
        raw = self.take(self.varint())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"compact ballot: string before byte {self.pos} is not UTF-8 ({exc})") from None

    def hex(self, n: int) -> str:
        return self.take(n).hex()

    def proof(self) -> dict[str, Any]:
        k = self.varint()
        return {"challenges": [self.hex(32) for _ in range(k)], "responses": [self.hex(32) for _ in range(k)]}


def decode(data: bytes) -> dict[str, Any]:
    """The payload ``encode`` was given, exactly; ``ValueError`` naming the fault for any other bytes."""
    r = _Reader(bytes(data))
    version, flags = r.take(2)
    if version != VERSION:
        raise ValueError(f"compact ballot: version {version}; this saylau reads version {VERSION}")
    if flags & ~(_CHALLENGE | _REVOTE | _ID_SUFFIX):
        raise ValueError(f"compact ballot: unknown flags 0x{flags:02x}")
    device_id, station_id = r.text(), r.text()
    bid = r.text()
    ballot: dict[str, Any] = {
        "ballot_id": f"{device_id}-{bid}" if flags & _ID_SUFFIX else bid,
        "style_id": r.text(),
        "code": r.hex(32),
        "previous_code": r.hex(32),
    }
    if flags & _REVOTE:
        ballot["revote_tag"] = r.hex(32)
    contests = []
    for _ in range(r.varint()):
        contest_id = r.text()
        sels = [
            {"selection_id": r.text(), "alpha": r.hex(33), "beta": r.hex(33), "proof": r.proof()}
            for _ in range(r.varint())
        ]
        contests.append({"contest_id": contest_id, "selections": sels, "proof": r.proof()})
    ballot["contests"] = contests
    payload: dict[str, Any]
    if flags & _CHALLENGE:
        nonce = r.hex(32)
        choices: dict[str, list[str]] = {}
        for _ in range(r.varint()):
            contest_id = r.text()
            if contest_id in choices:
                raise ValueError(f"compact ballot: contest {contest_id!r} chosen twice")
            choices[contest_id] = [r.text() for _ in range(r.varint())]
        opened = {"ballot": ballot, "ballot_nonce": nonce, "choices": choices}
        payload = {"challenged": opened, "device_id": device_id, "station_id": station_id}
    else:
        payload = {"ballot": ballot, "device_id": device_id, "station_id": station_id, "state": "cast"}
    if r.pos != len(r.data):
        raise ValueError(f"compact ballot: {len(r.data) - r.pos} bytes after the end")
    return payload
