"""The ballot pass (``docs/record-format.md`` §6–§7, §11.2–§11.3, §11.7).

``check_ballots`` reads ``ballots.jsonl`` once, streaming, in board order, beside a second read of the
board's ``ballot`` and ``challenge`` entries (whose payloads the record's board leaves out) and of
``challenged.jsonl``: line k is the k-th such entry. For each line: its structure, device and station,
the per-ballot admission checks (``admission.check_ballot_structure``, the same the server makes before
accepting a ballot), its device's chain (``DeviceChains``), the board entry it pairs with (kind, code,
and the payload hash of the payload rebuilt from the line: the ballot is on the board exactly as in the
record), a cast ballot's board time within its station's voting hours, the "superseded by" links
(``SupersessionLinks``) and revote tags, the station sums, a challenged ballot's opening, and every
ballot's proofs through a ``ProofRunner``. Memory grows with the devices, stations and remote (tagged)
ballots, never with all ballots.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from saylau.crypto import ChallengedBallot, verify_challenged_ballot
from saylau.errors import InvalidBallot, SaylauError
from saylau.record import format as fmt
from saylau.record.board_check import implied_payload_hash
from saylau.record.reader import RecordReader
from saylau.record.tally import StationSums
from saylau.record.verifier.admission import check_ballot_structure, check_position
from saylau.record.verifier.chains import DeviceChains
from saylau.record.verifier.entries import BallotLine, parse_opening
from saylau.record.verifier.proofs import ProofRunner
from saylau.record.verifier.resume import ResumePoint
from saylau.record.verifier.state import VerifyState
from saylau.record.verifier.supersessions import SupersessionLinks
from saylau.record.verifier.table import CheckResult, fail

__all__ = ["check_ballots", "check_challenged"]


def check_ballots(s: VerifyState, check: CheckResult) -> None:
    """One streaming pass over the ballots, paired with the board's ballot and challenge entries."""
    m, params = s.need_manifest(), s.need_params()
    board = s.need_board()
    rules = s.rules()
    regions = {sid: loc.region_id for sid, loc in m.station_index().items()}
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
    snap_at = board.open_checkpoint if s.want_state else None
    proofs = ProofRunner(params, s.workers, s.chunk_size, s.tick)
    try:
        for no, line in lines:
            row = next(entries, None)
            if snap_at is not None and (row is None or int(row["position"]) > snap_at[0]):
                s.saved, snap_at = _snapshot(s, check, chains, links, snap_at, no - 1), None
            d = RecordReader.parse_line(line, fmt.BALLOTS, no)
            sb = BallotLine.parse(d)
            b = sb.ballot
            where = f"ballot {sb.ballot_id} ({fmt.BALLOTS} line {no})"
            dev = s.devices.get(sb.device_id)
            if dev is None:
                raise fail(check, f"{where}: unknown device {sb.device_id}")
            if sb.station_id != dev.station_id:
                raise fail(check, f"{where}: station {sb.station_id} is not its device's {dev.station_id}")
            try:
                sequence = check_ballot_structure(
                    rules,
                    b,
                    device_id=sb.device_id,
                    region_id=regions[sb.station_id],
                    channel=dev.channel,
                    state=sb.state,
                )
                check_position(sb.ballot_id, sequence, sb.sequence, sb.device_id)
            except InvalidBallot as exc:
                raise fail(check, f"{fmt.BALLOTS} line {no}: {exc}") from exc
            chains.add(sb, where)
            opening = _opening(s, check, openings, sb, where) if sb.state == "challenged" else None
            position = _match_entry(s, check, row, d, opening, where)
            s.states[sb.state] += 1
            links.note(sb)
            board.add_record_line(d)
            s.revotes.add(d)
            if b.revote_tag is not None:
                board.tagged_positions[sb.ballot_id] = position
            if sb.state == "cast":
                sums.add(sb.station_id, b)
            elif sb.state == "superseded":
                links.add(sb, where, chains)
            proofs.feed(no, line, b)
            check.count += 1
            s.tick("ballots", 1)
        _no_more(check, entries, openings)
        if snap_at is not None:
            s.saved = _snapshot(s, check, chains, links, snap_at, check.count + s.resumed_lines)
        proofs.finish()
    except BaseException:
        proofs.close()
        raise
    s.proofs_checked, s.proof_failure = proofs.count, proofs.failure
    s.chains = chains.close_all()
    links.check_links(s.reader)
    check.detail = ", ".join(f"{v} {k}" for k, v in s.states.items())


def _opening(
    s: VerifyState, check: CheckResult, openings: Iterator[tuple[int, Any]], sb: BallotLine, where: str
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
                "ballot": sb.ballot.to_dict(),
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
    d: dict[str, Any],
    opening: dict[str, Any] | None,
    where: str,
) -> int:
    """The next ballot or challenge entry of the board is this line's, with the same payload; its position."""
    kind = "ballot" if opening is None else "challenge"
    if row is None:
        raise fail(check, f"{where}: no board entry '{kind}' with the same content (the board has fewer)")
    pos = int(row["position"])
    at = f"{where}: board entry at position {pos}"
    if row["kind"] != kind or row.get("code") != d["ballot"]["code"]:
        raise fail(
            check,
            f"{at} is a '{row['kind']}' under code {row.get('code')}, not this ballot's '{kind}' (on the "
            "board an entry is missing, added, out of its device's chain order or in another state)",
        )
    if implied_payload_hash(d, opening) != row["payload_hash"]:
        raise fail(check, f"{at}: payload differs from the one this line implies (payload_hash)")
    if kind == "ballot":
        try:
            s.need_board().check_in_voting_hours(at, d["station_id"], str(row["time"]))
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
