"""The board's other published objects, checked as the board is streamed (``docs/board-format.md``).

Written from the documentation alone: station protocol keys (``note`` entries with ``station_key``),
turnout snapshots (``turnout``) and signed result protocols (``protocol``) must be well formed, name a
station of the manifest, and (protocols) be signed by the key the station registered earlier on the
board, in a version chain, after the close of voting, with every control relation holding. The
``guardian`` and ``partial_decryption`` entries are indexed by guardian (their payload hashes) so that
the record's guardian records and partial decryptions can be compared with them afterwards.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature

from saylau.board.checkpoint import public_key_from_hex
from saylau.board.hashing import canonical_json
from saylau.errors import BoardError, VerificationFailed
from saylau.record import format as fmt

__all__ = ["PROTOCOL_TAG", "PublishedObjects", "protocol_hash"]

PROTOCOL_TAG = b"saylau/protocol/1\x00"
_FIGURES = (
    "registered",
    "ballots_received",
    "ballots_issued",
    "ballots_unused",
    "ballots_spoiled",
    "ballots_in_boxes",
    "valid",
    "invalid",
)
_PROTOCOL_FIELDS = {
    "election_id", "version", "supersedes", "reason", "signed_at", "figures", "signer", "signature"
}
_TURNOUT_FIELDS = {"station_id", "at", "voted"}


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _aware_time(v: Any) -> bool:
    """An ISO 8601 date-time with a UTC offset (``Z`` or ``±HH:MM``)."""
    if not isinstance(v, str):
        return False
    try:
        t = datetime.fromisoformat(v)
    except ValueError:
        return False
    return t.tzinfo is not None and t.utcoffset() is not None


def protocol_hash(doc: dict[str, Any]) -> str:
    """SHA-256 (hex) of the signed bytes followed by the signature: how a correction names a version."""
    body = {k: v for k, v in doc.items() if k != "signature"}
    return hashlib.sha256(PROTOCOL_TAG + canonical_json(body) + bytes.fromhex(doc["signature"])).hexdigest()


class PublishedObjects:
    """Streams the board's keys, turnout, protocols, guardian records and partial decryptions."""

    def __init__(self, election_id: str, station_ids: set[str], option_ids: list[str]) -> None:
        """``option_ids``: every selection id of the manifest, contest by contest (a protocol's votes)."""
        self.election_id = election_id
        self.station_ids = station_ids
        self.options = sorted(option_ids)
        self.station_keys: dict[str, str] = {}
        self.protocols: dict[str, tuple[int, str]] = {}  # station -> (last version, its protocol hash)
        self.turnout = 0
        self.guardians: dict[int, list[tuple[int, str]]] = {}  # index -> [(position, payload hash)]
        self.partials: dict[int, list[tuple[int, str]]] = {}

    def observe(self, where: str, pos: int, kind: str, payload: dict[str, Any], payload_hash: str,
                closed: bool) -> None:
        """Check or index one entry (``closed``: the close of voting came before it)."""
        if kind == "note" and "station_key" in payload:
            self._station_key(where, payload["station_key"])
        elif kind == "turnout":
            self._turnout(where, payload)
        elif kind == "protocol":
            if not closed:
                raise VerificationFailed(f"{where}: a result protocol published before the close of voting")
            self._protocol(where, payload)
        elif kind in ("guardian", "partial_decryption"):
            index = payload.get("index")
            if not isinstance(index, int) or isinstance(index, bool) or index < 1:
                raise VerificationFailed(f"{where}: no guardian index")
            book = self.guardians if kind == "guardian" else self.partials
            book.setdefault(index, []).append((pos, payload_hash))

    def _station(self, where: str, sid: Any) -> str:
        if not isinstance(sid, str) or sid not in self.station_ids:
            raise VerificationFailed(f"{where}: station {sid!r} is not in {fmt.MANIFEST}")
        return sid

    def _station_key(self, where: str, body: Any) -> None:
        if not isinstance(body, dict) or set(body) != {"station_id", "public_key"}:
            raise VerificationFailed(f"{where}: a station key needs exactly station_id and public_key")
        sid = self._station(where, body["station_id"])
        key = body["public_key"]
        try:
            public_key_from_hex(key if isinstance(key, str) else "")
        except BoardError as exc:
            raise VerificationFailed(f"{where}: station {sid}: key is not a raw Ed25519 key") from exc
        if self.station_keys.setdefault(sid, key) != key:
            raise VerificationFailed(f"{where}: station {sid}: a second, different protocol key")

    def _turnout(self, where: str, p: dict[str, Any]) -> None:
        if set(p) != _TURNOUT_FIELDS:
            raise VerificationFailed(f"{where}: a turnout snapshot has the fields {sorted(_TURNOUT_FIELDS)}")
        sid = self._station(where, p["station_id"])
        if not _count(p["voted"]):
            raise VerificationFailed(f"{where}: turnout of station {sid}: 'voted' is not a count")
        if not _aware_time(p["at"]):
            raise VerificationFailed(f"{where}: turnout of station {sid}: 'at' is not a time with offset")
        self.turnout += 1

    def _protocol(self, where: str, p: dict[str, Any]) -> None:
        if set(p) != _PROTOCOL_FIELDS:
            raise VerificationFailed(f"{where}: a protocol has the fields {sorted(_PROTOCOL_FIELDS)}")
        fig = p["figures"]
        if not isinstance(fig, dict) or set(fig) != {"station", "votes", *_FIGURES}:
            raise VerificationFailed(f"{where}: protocol figures are malformed")
        sid = self._station(where, fig["station"])
        what = f"{where}: protocol of station {sid} v{p['version']}"
        if p["election_id"] != self.election_id:
            raise VerificationFailed(f"{what}: election {p['election_id']!r} is not {self.election_id!r}")
        self._signed(what, sid, p)
        self._version(what, sid, p)
        self._relations(what, fig)

    def _signed(self, what: str, sid: str, p: dict[str, Any]) -> None:
        key = self.station_keys.get(sid)
        if key is None:
            raise VerificationFailed(f"{what}: the station registered no protocol key before it")
        if p["signer"] != key or not isinstance(p["signature"], str):
            raise VerificationFailed(f"{what}: signer is not the station's registered key")
        if not _aware_time(p["signed_at"]):
            raise VerificationFailed(f"{what}: 'signed_at' is not a date-time with offset")
        body = {k: v for k, v in p.items() if k != "signature"}
        message = PROTOCOL_TAG + canonical_json(body)
        try:
            public_key_from_hex(key).verify(bytes.fromhex(p["signature"]), message)
        except (InvalidSignature, ValueError) as exc:
            raise VerificationFailed(f"{what}: signature does not verify") from exc

    def _version(self, what: str, sid: str, p: dict[str, Any]) -> None:
        version, last = p["version"], self.protocols.get(sid)
        expected = 1 if last is None else last[0] + 1
        if not _count(version) or version != expected:
            raise VerificationFailed(f"{what}: expected version {expected}")
        if last is None and p["supersedes"] is not None:
            raise VerificationFailed(f"{what}: a first version supersedes nothing")
        if last is not None:
            if p["supersedes"] != last[1]:
                raise VerificationFailed(f"{what}: does not name the hash of version {last[0]}")
            if not isinstance(p["reason"], str) or not p["reason"].strip():
                raise VerificationFailed(f"{what}: a correction gives no reason")
        self.protocols[sid] = (version, protocol_hash(p))

    def _relations(self, what: str, f: dict[str, Any]) -> None:
        votes = f["votes"]
        if not isinstance(votes, dict) or sorted(votes) != self.options:
            raise VerificationFailed(f"{what}: votes are not given for exactly the manifest's options")
        if not all(_count(f[k]) for k in _FIGURES) or not all(_count(v) for v in votes.values()):
            raise VerificationFailed(f"{what}: a figure is not a non-negative integer")
        relations = (
            ("ballots received = issued + unused + spoiled",
             f["ballots_received"] == f["ballots_issued"] + f["ballots_unused"] + f["ballots_spoiled"]),
            ("valid + invalid = ballots in boxes", f["valid"] + f["invalid"] == f["ballots_in_boxes"]),
            ("sum of options = valid", sum(votes.values()) == f["valid"]),
            ("voted <= registered", f["ballots_issued"] <= f["registered"]),
            ("ballots in boxes <= ballots issued", f["ballots_in_boxes"] <= f["ballots_issued"]),
        )
        for name, holds in relations:
            if not holds:
                raise VerificationFailed(f"{what}: control relation '{name}' fails")

    def check_guardians(self, records: list[dict[str, Any]], expected_hash: Any) -> None:
        """Each guardian record of ``parameters.json`` is on the board once, with the same payload."""
        want = {r["index"]: expected_hash(r) for r in records}
        self._compare("guardian record", "guardian", self.guardians, want, fmt.PARAMETERS)

    def check_partials(self, expected: dict[int, str]) -> None:
        """Each guardian's partial decryptions in the record are on the board once, the same."""
        self._compare("partial decryption", "partial_decryption", self.partials, expected, fmt.TALLIES)

    @staticmethod
    def _compare(what: str, kind: str, board: dict[int, list[tuple[int, str]]], want: dict[int, str],
                 file: str) -> None:
        for index, h in sorted(want.items()):
            found = board.get(index, [])
            if not found:
                raise VerificationFailed(f"{what} of guardian {index} ({file}): not on the board")
            if len(found) > 1:
                positions = ", ".join(str(p) for p, _ in found)
                raise VerificationFailed(f"{what} of guardian {index}: published {len(found)} times "
                                         f"(positions {positions})")
            pos, got = found[0]
            if got != h:
                raise VerificationFailed(f"{what} of guardian {index} ({file}): differs from the board's "
                                         f"'{kind}' entry at position {pos}")
        for index in sorted(set(board) - set(want)):
            pos = board[index][0][0]
            raise VerificationFailed(f"{fmt.BOARD}: entry at position {pos} ({kind}): guardian {index}'s "
                                     f"{what} is not in the record ({file})")
