"""The ballot pass (``docs/record-format.md`` §6–§7, §11.2–§11.3, §11.7).

``check_ballots`` reads ``ballots.jsonl`` once, streaming, in board order, beside a second read of the
board's ``ballot`` and ``challenge`` entries (whose payloads the record's board leaves out) and of
``challenged.jsonl``: line k is the k-th such entry. The raw lines go in chunks to an executor
(``saylau.parallel``: inline, local processes or a Dask cluster), whose workers make every check a line
needs by itself (``lines.verify_lines``: its structure, device and station, the per-ballot admission
checks the server also makes, its own tracking code, the payload hash of the board entry it implies,
its proofs, the chunk's station sums). Here, in line order whatever the executor, each line's facts go
through the checks that depend on the lines before: its device's chain (``DeviceChains``), the board
entry it pairs with (kind, code, payload hash: the ballot is on the board exactly as in the record), a
cast ballot's board time within its station's voting hours, the "superseded by" links
(``SupersessionLinks``) and revote tags, a challenged ballot's opening. At most a few chunks per worker
are in flight, so memory grows with the devices, stations and remote (tagged) ballots, never with all
ballots.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from saylau.crypto import ChallengedBallot, EncryptedTally, verify_challenged_ballot
from saylau.errors import SaylauError
from saylau.parallel import SerialExecutor
from saylau.record import format as fmt
from saylau.record.board_check import implied_payload_hash
from saylau.record.tally import StationSums
from saylau.record.verifier.admission import rules_document
from saylau.record.verifier.chains import DeviceChains
from saylau.record.verifier.entries import parse_opening
from saylau.record.verifier.lines import ChunkResult, LineContext, LineFacts, verify_lines
from saylau.record.verifier.resume import ResumePoint
from saylau.record.verifier.state import VerifyState
from saylau.record.verifier.supersessions import SupersessionLinks
from saylau.record.verifier.table import CheckResult, fail

__all__ = ["check_ballots", "check_challenged"]


def check_ballots(s: VerifyState, check: CheckResult) -> None:
    """One streaming pass over the ballots, paired with the board's ballot and challenge entries."""
    m, params = s.need_manifest(), s.need_params()
    board = s.need_board()
    chains = DeviceChains(s.devices, params.base_hash, check)
    links = SupersessionLinks(check)
    sums = s.sums = StationSums(m, params)
    total = sum(d.ballot_count for d in s.devices.values())
    s.tick("ballots", 0, total)
    s.tick("proofs", 0, total)
    entries = board.elided_entries()
    openings: Iterator[tuple[int, Any]] = s.reader.lines(fmt.CHALLENGED)
    lines = s.reader.raw_lines(fmt.BALLOTS)
    if s.resume_from is not None:
        _resume(s, check, chains, links, lines, entries, openings)
    styles = {"ballot_styles": [b.model_dump(mode="json") for b in m.ballot_styles]}
    ctx = LineContext(
        rules_document(params.to_dict(), styles),
        {d.device_id: (d.station_id, d.channel) for d in s.devices.values()},
        {sid: loc.region_id for sid, loc in m.station_index().items()},
    )
    chunks = _Chunks(lines, entries, s.chunk_size, board.open_checkpoint if s.want_state else None)
    executor = s.executor or SerialExecutor()
    window = 4 * executor.workers
    results = executor.imap_shared(verify_lines, ctx, chunks, window)
    try:
        for chunk_no, result in _in_order(results):
            rows, snapshot = chunks.rows.pop(chunk_no)
            for f, row in zip(result.facts, rows, strict=False):
                _line(s, check, chains, links, f, row, openings)
            if result.failure is not None:
                raise fail(check, result.failure[1])
            if result.proof_failure is not None and s.proof_failure is None:
                s.proof_failure = result.proof_failure
            s.proofs_checked += result.proved
            s.tick("proofs", result.proved)
            for sid, (count, tally) in result.sums.items():
                sums.add_sum(sid, count, EncryptedTally.from_dict(tally))
            if snapshot:
                assert chunks.snap_at is not None
                s.saved = _snapshot(s, check, chains, links, chunks.snap_at, chunks.before_snapshot)
        _no_more(check, entries, openings)
        if chunks.snap_at is not None and not chunks.cut:
            s.saved = _snapshot(s, check, chains, links, chunks.snap_at, check.count + s.resumed_lines)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    s.chains = chains.close_all()
    links.check_links(s.reader)
    check.detail = ", ".join(f"{v} {k}" for k, v in s.states.items())


def _line(
    s: VerifyState,
    check: CheckResult,
    chains: DeviceChains,
    links: SupersessionLinks,
    f: LineFacts,
    row: dict[str, Any] | None,
    openings: Iterator[tuple[int, Any]],
) -> None:
    """The checks of one line that depend on the lines before it (its own were made by ``lines``)."""
    board = s.need_board()
    where = f"ballot {f.ballot_id} ({fmt.BALLOTS} line {f.no})"
    chains.add(f, where)
    opening = _opening(s, check, openings, f, where) if f.state == "challenged" else None
    position = _match_entry(s, check, row, f, opening, where)
    s.states[f.state] += 1
    links.note(f)
    if f.superseded_fp is not None:
        board.record_fps += f.superseded_fp
    s.revotes.add_line(f.ballot_id, f.state, f.revote_tag, f.superseded_by, f.station_id)
    if f.revote_tag is not None:
        board.tagged_positions[f.ballot_id] = position
    if f.state == "superseded":
        links.add(f, where, chains)
    check.count += 1
    s.tick("ballots", 1)


class _Chunks:
    """The raw lines of ``ballots.jsonl`` in chunks, each line's board entry kept here for ``_line``.

    A chunk ends early before the first line whose board entry comes after ``snap_at`` (the last
    checkpoint before the close of voting), so that the state saved there (``_snapshot``) is taken
    between two chunks, when every line before the checkpoint has been checked and summed.
    """

    def __init__(
        self,
        lines: Iterator[tuple[int, bytes]],
        entries: Iterator[dict[str, Any]],
        size: int,
        snap_at: tuple[int, str, int] | None,
    ) -> None:
        self.lines, self.entries, self.size, self.snap_at = lines, entries, max(1, size), snap_at
        self.rows: dict[int, tuple[list[dict[str, Any] | None], bool]] = {}
        self.before_snapshot = 0  # ballot lines before the checkpoint (its state's line count)
        self.cut = snap_at is None

    def __iter__(self) -> Iterator[list[tuple[int, bytes]]]:
        chunk: list[tuple[int, bytes]] = []
        rows: list[dict[str, Any] | None] = []
        n = 0
        for no, line in self.lines:
            row = next(self.entries, None)
            if not self.cut and self.snap_at is not None and (
                row is None or int(row["position"]) > self.snap_at[0]
            ):
                self.cut, self.before_snapshot = True, no - 1
                self.rows[n] = (rows, True)
                yield chunk
                chunk, rows, n = [], [], n + 1
            chunk.append((no, line))
            rows.append(row)
            if len(chunk) >= self.size:
                self.rows[n] = (rows, False)
                yield chunk
                chunk, rows, n = [], [], n + 1
        if chunk:
            self.rows[n] = (rows, False)
            yield chunk


def _in_order(results: Iterator[tuple[int, ChunkResult]]) -> Iterator[tuple[int, ChunkResult]]:
    """Results in chunk order (the executor yields them as they complete)."""
    waiting: dict[int, ChunkResult] = {}
    nxt = 0
    for i, r in results:
        waiting[i] = r
        while nxt in waiting:
            yield nxt, waiting.pop(nxt)
            nxt += 1


def _opening(
    s: VerifyState, check: CheckResult, openings: Iterator[tuple[int, Any]], sb: LineFacts, where: str
) -> dict[str, Any]:
    """The next line of ``challenged.jsonl`` opens this challenged ballot, correctly (§7)."""
    nxt = next(openings, None)
    if nxt is None:
        raise fail(check, f"challenged ballot {sb.ballot_id}: no opening in {fmt.CHALLENGED}")
    no, d = nxt
    at = f"challenged ballot {sb.ballot_id} ({fmt.CHALLENGED} line {no})"
    try:
        opening = parse_opening(d, sb.ballot_id)
        cb = ChallengedBallot.from_dict(
            {
                "ballot": sb.ballot,
                "ballot_nonce": opening["ballot_nonce"],
                "choices": opening["choices"],
            }
        )
        verify_challenged_ballot(s.need_params(), cb)
    except SaylauError as exc:
        raise fail(check, f"{at}: {exc}") from exc
    s.opened += 1
    return opening


def _match_entry(
    s: VerifyState,
    check: CheckResult,
    row: dict[str, Any] | None,
    f: LineFacts,
    opening: dict[str, Any] | None,
    where: str,
) -> int:
    """The next ballot or challenge entry of the board is this line's, with the same payload; its position."""
    kind = "ballot" if opening is None else "challenge"
    if row is None:
        raise fail(check, f"{where}: no board entry '{kind}' with the same content (the board has fewer)")
    pos = int(row["position"])
    at = f"{where}: board entry at position {pos}"
    if row["kind"] != kind or row.get("code") != f.code:
        raise fail(
            check,
            f"{at} is a '{row['kind']}' under code {row.get('code')}, not this ballot's '{kind}' (on the "
            "board an entry is missing, added, out of its device's chain order or in another state)",
        )
    if opening is None:
        implied = f.payload_hash
    else:
        assert f.ballot is not None  # a challenged line's facts carry its ballot
        d = {"ballot": f.ballot, "device_id": f.device_id, "station_id": f.station_id}
        implied = implied_payload_hash(d, opening)
    if implied != row["payload_hash"]:
        raise fail(check, f"{at}: payload differs from the one this line implies (payload_hash)")
    if kind == "ballot":
        try:
            s.need_board().check_in_voting_hours(at, f.station_id, str(row["time"]))
        except SaylauError as exc:
            raise fail(check, str(exc)) from exc
    return pos


def _no_more(
    check: CheckResult, entries: Iterator[dict[str, Any]], openings: Iterator[tuple[int, Any]]
) -> None:
    row = next(entries, None)
    if row is not None:
        raise fail(
            check,
            f"{fmt.BOARD}: entry at position {row['position']} ({row['kind']}, code {row.get('code')}) has "
            "no "
            f"counterpart in the record ({fmt.BALLOTS} ends before it)",
        )
    extra = next(openings, None)
    if extra is not None:
        raise fail(check, f"{fmt.CHALLENGED} line {extra[0]}: opens no challenged ballot of {fmt.BALLOTS}")


def _state(
    s: VerifyState, check: CheckResult, chains: DeviceChains, links: SupersessionLinks
) -> dict[str, Any]:
    board = s.need_board()
    return {
        "chains": chains.dump(),
        "sums": s.need_sums().dump(),
        "links": links.dump(),
        "revotes": s.revotes.dump(),
        "tagged_positions": board.tagged_positions,
        "superseded_fingerprints": bytes(board.record_fps).hex(),
        "states": s.states,
        "opened": s.opened,
        "ballots": check.count + s.resumed_lines,
    }


def _snapshot(
    s: VerifyState,
    check: CheckResult,
    chains: DeviceChains,
    links: SupersessionLinks,
    at: tuple[int, str, int],
    ballot_lines: int,
) -> ResumePoint:
    """The ballot pass's state now, with ``ballot_lines`` lines read: just before the checkpoint ``at``."""
    m = s.need_manifest()
    state = json.loads(json.dumps(_state(s, check, chains, links)))  # a copy, not live objects
    lines = {fmt.BOARD: at[2], fmt.BALLOTS: ballot_lines, fmt.CHALLENGED: s.opened}
    return ResumePoint(m.election_id, s.need_params().base_hash.hex(), at[0], at[1], lines, state=state)


def _resume(
    s: VerifyState,
    check: CheckResult,
    chains: DeviceChains,
    links: SupersessionLinks,
    lines: Iterator[tuple[int, bytes]],
    entries: Iterator[dict[str, Any]],
    openings: Iterator[tuple[int, Any]],
) -> None:
    """Start after the checkpoint of a state file: the earlier part unchanged by its hash, state restored."""
    rp = s.resume_from
    assert rp is not None
    board = s.need_board()
    if (rp.election_id, rp.base_hash) != (s.need_manifest().election_id, s.need_params().base_hash.hex()):
        raise fail(check, "verification state: written for another election")
    try:
        rp.check_unchanged(s.reader)
        st = rp.state
        chains.restore(st["chains"])
        s.need_sums().restore(st["sums"])
        links.restore(st["links"])
        s.revotes.restore(st["revotes"])
        board.tagged_positions.update({str(k): int(v) for k, v in st["tagged_positions"].items()})
        board.record_fps += bytes.fromhex(st["superseded_fingerprints"])
        s.states.update({k: int(st["states"][k]) for k in s.states})
        s.opened = int(st["opened"])
        s.resumed_lines = int(st["ballots"])
    except (SaylauError, KeyError, TypeError, ValueError) as exc:
        raise fail(check, f"verification state: {exc}") from exc
    for _ in range(s.resumed_lines):  # hashed above; neither parsed nor proved again
        next(lines)
        next(entries)
    for _ in range(s.opened):
        next(openings)
    s.tick("ballots", s.resumed_lines)
    s.tick("proofs", s.resumed_lines)


def check_challenged(s: VerifyState, check: CheckResult) -> None:
    """Report the openings the ballot pass checked: every challenged ballot opened once, as it was cast."""
    check.count = s.opened
    check.detail = "re-encrypted from the published nonce and choices"
