"""The election record against its bulletin board (``docs/record-format.md`` §11).

The board's own chain, times and checkpoint signatures are checked by ``saylau.board.verify_board``,
which also requires the final checkpoint (the board is closed when the results are published); this
module streams ``board.jsonl`` through it once and keeps only what the cross-check needs: a 32-byte
fingerprint per supersession entry, the closing codes, the guardian records' and partial decryptions'
payload hashes, and the last tally, result, manifest and joint-key entries; turnout snapshots and
protocols must be well formed (``saylau.record.board_published``). The board's ``ballot`` and
``challenge`` entries come without their payloads (each ballot is held once, in ``ballots.jsonl``):
the ballot pass reads them a second time (``elided_entries``), paired one to one with the lines of
``ballots.jsonl``, and checks each entry's payload hash against the payload it rebuilds from its line
(``saylau.record.board_payloads``), its voting hours and the tagged (remote) ballots' positions. The
record side adds the fingerprint of each supersession its lines imply; the two multisets must be equal
(sorted with numpy). On a mismatch a second pass over the files names the first object without its
counterpart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from saylau.board import BoardSummary, payload_hash, verify_board
from saylau.board.hashing import TAG_PAYLOAD, tagged_hash_bytes
from saylau.election.manifest import Manifest
from saylau.errors import BoardError, VerificationFailed
from saylau.record import format as fmt
from saylau.record.board_payloads import (
    ballot_entry,
    challenge_entry,
    guardian_entry,
    partial_decryption_entry,
    superseded_entry,
)
from saylau.record.board_published import PublishedObjects
from saylau.record.reader import RecordReader
from saylau.record.windows import VotingWindows

__all__ = ["BoardIndex", "entry_fingerprint", "implied_payload_hash", "record_line_fingerprints"]


def entry_fingerprint(kind: str, code: str | None, payload: Any) -> bytes:
    """SHA-256 over kind, code and the payload's JSON (sorted keys): equal iff the entries say the same."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(f"{kind}\x00{code}\x00".encode() + body).digest()


def record_line_fingerprints(d: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The non-elided entry one ``ballots.jsonl`` line implies: ``superseded`` for a superseded ballot.

    (Its ``ballot`` or ``challenge`` entry is matched directly, position by position, in the ballot pass.)
    """
    if d["state"] != "superseded":
        return []
    ballot = d["ballot"]
    payload = superseded_entry(ballot["ballot_id"], ballot["code"], d["superseded_by"])
    return [("superseded", entry_fingerprint("superseded", ballot["code"], payload))]


def implied_payload_hash(d: dict[str, Any], opening: dict[str, Any] | None) -> str:
    """The payload hash of the ``ballot`` (or, with its ``opening``, ``challenge``) entry a line implies."""
    if opening is None:
        payload = ballot_entry(d["ballot"], d["device_id"], d["station_id"])
    else:
        opened = {
            "ballot": d["ballot"],
            "ballot_nonce": opening["ballot_nonce"],
            "choices": opening["choices"],
        }
        payload = challenge_entry(opened, d["device_id"], d["station_id"])
    return tagged_hash_bytes(TAG_PAYLOAD, fmt.fast_canonical(payload))


class BoardIndex:
    """One streaming pass over the record's board, and the comparisons with the rest of the record."""

    def __init__(
        self,
        reader: RecordReader,
        manifest: Manifest,
        base_hash: bytes,
        public_key: str | None = None,
        require_final: bool = True,
    ) -> None:
        """``public_key``: the board key the CEC announced (hex), if the caller wants it pinned.

        ``require_final``: the board must end with its final checkpoint (a record is written once the
        results are published, which closes the board); a removed final checkpoint is then caught.
        """
        self.reader = reader
        self.election_id = manifest.election_id
        self.windows = VotingWindows(manifest)
        options = [s.selection_id for c in manifest.contests for s in c.selections]
        self.published = PublishedObjects(manifest.election_id, set(manifest.station_index()), options)
        self.base_hash = base_hash
        self.public_key = public_key
        self.require_final = require_final
        self.board_fps = bytearray()
        self.record_fps = bytearray()
        self.tagged_positions: dict[str, int] = {}  # ballot id -> board position, remote ballots only
        self.closed: list[tuple[int, list[Any]]] = []
        self.last: dict[str, tuple[int, dict[str, Any]]] = {}  # kind -> (position, payload)
        self.summary: BoardSummary | None = None
        self.elided = 0  # ballot and challenge entries (payload left out)
        #: the last checkpoint before the close of voting: (position, entry hash, its line in board.jsonl)
        self.open_checkpoint: tuple[int, str, int] | None = None

    # --- the board pass ----------------------------------------------------------------------------

    def read_board(self, tick: Callable[[int], None] | None = None) -> BoardSummary:
        """Verify the chain and checkpoints (``verify_board``) while indexing the entries."""
        try:
            self.summary = verify_board(
                self._rows(tick),
                expected_public_key=self.public_key,
                require_final=self.require_final,
                elided_kinds=fmt.ELIDED_KINDS,
            )
        except BoardError as exc:
            raise VerificationFailed(f"{fmt.BOARD}: {exc}") from exc
        if self.summary.board_id != self.election_id:
            raise VerificationFailed(
                f"{fmt.BOARD}: board id {self.summary.board_id!r} is not the election id {self.election_id!r}"
            )
        return self.summary

    def _rows(self, tick: Callable[[int], None] | None) -> Iterator[dict[str, Any]]:
        for no, row in self.reader.lines(fmt.BOARD):
            if not isinstance(row, dict):
                raise VerificationFailed(f"{fmt.BOARD} line {no}: not a JSON object")
            yield row  # verify_board checks it before asking for the next one; then it is indexed
            if row.get("type") == "entry":
                self._observe(row)
            elif row.get("type") == "checkpoint" and not self.closed:
                self.open_checkpoint = (int(row["position"]), str(row["entry_hash"]), no)
            if tick is not None:
                tick(1)

    def _observe(self, row: dict[str, Any]) -> None:
        pos, kind = row.get("position"), row.get("kind")
        where = f"{fmt.BOARD}: entry at position {pos} ({kind})"
        if kind in fmt.ELIDED_KINDS:  # payload left out (verify_board made sure), matched in the ballot pass
            if self.closed:
                raise VerificationFailed(f"{where}: published after the close of voting")
            self.elided += 1
            return
        payload = row.get("payload")
        if not isinstance(payload, dict) or not isinstance(kind, str):
            raise VerificationFailed(f"{where}: no payload object")
        if kind == "superseded":
            if self.closed:
                raise VerificationFailed(f"{where}: published after the close of voting")
            self.board_fps += entry_fingerprint(kind, row.get("code"), payload)
        elif kind == "phase" and payload.get("phase") == "closed":
            devices = payload.get("devices")
            if not isinstance(devices, list):
                raise VerificationFailed(f"{where}: the close of voting lists no devices")
            self.closed.append((int(pos or 0), devices))
        elif kind in ("tally", "result", "joint_key", "manifest"):
            self.last[kind] = (int(pos or 0), payload)
        else:
            closed = bool(self.closed)
            self.published.observe(where, int(pos or 0), kind, payload, str(row.get("payload_hash")), closed)

    def elided_entries(self) -> Iterator[dict[str, Any]]:
        """The board's ``ballot`` and ``challenge`` entries again, in order (a second read of the file)."""
        for _, row in self.reader.lines(fmt.BOARD):
            if row.get("type") == "entry" and row.get("kind") in fmt.ELIDED_KINDS:
                yield row

    def check_in_voting_hours(self, where: str, station: str, time: str) -> None:
        """A cast ballot's board time lies within its station's voting hours (``VotingWindows``)."""
        if station not in self.windows:
            raise VerificationFailed(f"{where}: station {station!r} is not in {fmt.MANIFEST}")
        if not self.windows.contains(station, time):
            raise VerificationFailed(
                f"{where}: cast at {time}, outside the voting hours of station {station} "
                f"({self.windows.describe(station)})"
            )

    # --- what the record implies ---------------------------------------------------------------------

    def add_record_line(self, d: dict[str, Any]) -> None:
        """Add the entries a ``ballots.jsonl`` line implies."""
        for _, fp in record_line_fingerprints(d):
            self.record_fps += fp

    # --- comparisons ---------------------------------------------------------------------------------

    def compare_entries(self) -> int:
        """Every supersession is on the board once, nothing else is (ballots: matched by the ballot pass)."""
        rec = np.sort(np.frombuffer(bytes(self.record_fps), dtype="S32"))
        brd = np.sort(np.frombuffer(bytes(self.board_fps), dtype="S32"))
        if rec.shape == brd.shape and bool(np.all(rec == brd)):
            return int(rec.shape[0])
        only_record = np.setdiff1d(rec, brd)
        only_board = np.setdiff1d(brd, rec)
        if only_record.size:
            raise VerificationFailed(self._name_record_object(bytes(only_record[0]).ljust(32, b"\0")))
        if only_board.size:
            raise VerificationFailed(self._name_board_entry(bytes(only_board[0]).ljust(32, b"\0")))
        dup = brd[1:][brd[1:] == brd[:-1]] if brd.shape[0] > rec.shape[0] else rec[1:][rec[1:] == rec[:-1]]
        where = "on the board" if brd.shape[0] > rec.shape[0] else "in the record"
        target = bytes(dup[0]).ljust(32, b"\0")
        name = self._name_board_entry(target) if where == "on the board" else self._name_record_object(target)
        raise VerificationFailed(f"{name} (published twice {where})")

    def _name_record_object(self, fp: bytes) -> str:
        for no, d in self.reader.lines(fmt.BALLOTS):
            for kind, f in record_line_fingerprints(d):
                if f == fp:
                    return (
                        f"ballot {d['ballot']['ballot_id']} ({fmt.BALLOTS} line {no}): no board entry "
                        f"'{kind}' with the same content (state {d['state']})"
                    )
        return "a record object has no matching board entry"

    def _name_board_entry(self, fp: bytes) -> str:
        for _, row in self.reader.lines(fmt.BOARD):
            matched = row.get("type") == "entry" and row.get("kind") == "superseded"
            if matched and entry_fingerprint(row["kind"], row.get("code"), row["payload"]) == fp:
                return (
                    f"{fmt.BOARD}: entry at position {row['position']} ({row['kind']}, code "
                    f"{row.get('code')}) has no counterpart in the record"
                )
        return "a board entry has no counterpart in the record"

    def check_closing(self, devices: list[dict[str, Any]]) -> None:
        """The one close-of-voting entry lists exactly the record's devices, counts and closing codes."""
        if len(self.closed) != 1:
            raise VerificationFailed(f"{fmt.BOARD}: {len(self.closed)} close-of-voting entries, expected one")
        pos, listed = self.closed[0]
        on_board: dict[str, Any] = {}
        for d in listed:
            if not isinstance(d, dict) or not isinstance(d.get("device_id"), str):
                raise VerificationFailed(f"{fmt.BOARD}: entry at position {pos}: malformed device")
            on_board[d["device_id"]] = d
        for dev in devices:
            want = {k: dev[k] for k in ("device_id", "station_id", "ballot_count", "closing_code")}
            got = on_board.pop(dev["device_id"], None)
            if got is None:
                raise VerificationFailed(f"device {dev['device_id']}: its closing code is not on the board")
            if got != want:
                raise VerificationFailed(
                    f"device {dev['device_id']}: closing code, count or station differ from the board's "
                    f"close-of-voting entry (position {pos})"
                )
        if on_board:
            raise VerificationFailed(
                f"device {sorted(on_board)[0]}: closed on the board, not in {fmt.DEVICES}"
            )

    def check_guardians(self, records: list[dict[str, Any]]) -> None:
        """``parameters.json``'s guardian records are the board's ``guardian`` entries (payload hashes)."""
        self.published.check_guardians(records, lambda r: payload_hash(guardian_entry(r)))

    def check_partials(self, lines: list[dict[str, Any]]) -> int:
        """Every guardian's partial decryptions in ``tallies.jsonl`` are its ``partial_decryption`` entry.

        Returns the number of guardians whose partial decryptions were compared.
        """
        by_guardian: dict[int, list[tuple[str, str, dict[str, Any]]]] = {}
        for line in lines:
            for partial in line["plaintext"]["partials"]:
                by_guardian.setdefault(partial["guardian_index"], []).append(
                    (line["scope"], line["scope_id"], partial)
                )
        want = {i: payload_hash(partial_decryption_entry(i, scopes)) for i, scopes in by_guardian.items()}
        self.published.check_partials(want)
        return len(want)

    def check_published(self, kind: str, expected: Any, field: str, what: str) -> None:
        """The board's last ``kind`` entry carries ``expected`` under ``field`` (it must be on the board)."""
        if kind not in self.last:
            raise VerificationFailed(f"{fmt.BOARD}: no '{kind}' entry ({what} was never published)")
        pos, payload = self.last[kind]
        if payload.get(field) != expected:
            raise VerificationFailed(f"{what}: differs from the board's '{kind}' entry at position {pos}")

    def check_optional(self, kind: str, expected: Any, field: str, what: str) -> None:
        """As ``check_published``, where the board need not carry ``kind``."""
        if kind in self.last:
            self.check_published(kind, expected, field, what)
