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

from typing import Any

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

__all__ = ["VERSION", "decode", "encode"]

VERSION = 1
_CHALLENGE, _REVOTE, _ID_SUFFIX = 1, 2, 4
_BALLOT_KEYS = frozenset({"ballot_id", "style_id", "contests", "code", "previous_code"})


def _proof(out: bytearray, p: Any) -> None:
    p = want_keys(p, {"challenges", "responses"})
    cs, rs = want_list(p["challenges"]), want_list(p["responses"])
    if len(cs) != len(rs):
        raise Unfit
    put_varint(out, len(cs))
    for s in (*cs, *rs):
        put_hex(out, s, HEX32)


def _ballot(out: bytearray, b: Any, device_id: str, flags: int) -> int:
    tagged = isinstance(b, dict) and "revote_tag" in b
    b = want_keys(b, _BALLOT_KEYS | {"revote_tag"} if tagged else _BALLOT_KEYS)
    bid = b["ballot_id"]
    prefix = device_id + "-"
    if isinstance(bid, str) and bid.startswith(prefix):
        flags |= _ID_SUFFIX
        bid = bid[len(prefix) :]
    put_str(out, bid)
    put_str(out, b["style_id"])
    put_hex(out, b["code"], HEX32)
    put_hex(out, b["previous_code"], HEX32)
    if tagged:
        flags |= _REVOTE
        put_hex(out, b["revote_tag"], HEX32)
    contests = want_list(b["contests"])
    put_varint(out, len(contests))
    for c in contests:
        c = want_keys(c, {"contest_id", "selections", "proof"})
        put_str(out, c["contest_id"])
        sels = want_list(c["selections"])
        put_varint(out, len(sels))
        for s in sels:
            s = want_keys(s, {"selection_id", "alpha", "beta", "proof"})
            put_str(out, s["selection_id"])
            put_hex(out, s["alpha"], HEX33)
            put_hex(out, s["beta"], HEX33)
            _proof(out, s["proof"])
        _proof(out, c["proof"])
    return flags


def encode(payload: Any) -> bytes | None:
    """The compact form of a ``ballot`` or ``challenge`` entry's payload; ``None`` if it has another shape."""
    try:
        if isinstance(payload, dict) and "challenged" in payload:
            p = want_keys(payload, {"challenged", "device_id", "station_id"})
            opened = want_keys(p["challenged"], {"ballot", "ballot_nonce", "choices"})
            ballot, flags = opened["ballot"], _CHALLENGE
        else:
            p = want_keys(payload, {"ballot", "device_id", "station_id", "state"})
            if p["state"] != "cast":
                raise Unfit
            ballot, flags, opened = p["ballot"], 0, None
        body = bytearray()
        put_str(body, p["device_id"])
        put_str(body, p["station_id"])
        flags = _ballot(body, ballot, p["device_id"], flags)
        if opened is not None:
            put_hex(body, opened["ballot_nonce"], HEX32)
            choices = opened["choices"]
            if not isinstance(choices, dict):
                raise Unfit
            put_varint(body, len(choices))
            for contest_id, chosen in choices.items():
                put_str(body, contest_id)
                chosen = want_list(chosen)
                put_varint(body, len(chosen))
                for s in chosen:
                    put_str(body, s)
        return bytes((VERSION, flags)) + bytes(body)
    except Unfit:
        return None


class _Reader(Reader):
    """A :class:`Reader` of version-1 bodies, with the range proofs' layout."""

    __slots__ = ()

    def proof(self) -> dict[str, Any]:
        k = self.varint()
        return {"challenges": [self.hex(32) for _ in range(k)], "responses": [self.hex(32) for _ in range(k)]}


def decode(data: bytes) -> dict[str, Any]:
    """The payload ``encode`` was given, exactly; ``ValueError`` naming the fault for any other bytes."""
    r = _Reader(bytes(data), "compact ballot")
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
    r.end()
    return payload
