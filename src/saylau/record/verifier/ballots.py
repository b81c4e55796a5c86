"""The ballot pass and the challenged openings (``docs/record-format.md`` §6–§8).

``check_ballots`` reads ``ballots.jsonl`` once, streaming: each line's structure, its unique id, device
and station, the per-ballot admission checks (``admission.check_ballot_structure``, the same the server
makes before accepting a ballot: id and sequence, style and region, contests, no identity ciphertext,
revote-tag rule by channel and state), its state; it walks the device chains (``DeviceChains``), collects the
"superseded by" links (``SupersessionLinks``) and the revote tags, adds cast ballots to the station sums,
adds the entries the line implies to the board index, and feeds every ballot's proofs to a
``ProofRunner``. ``check_challenged`` then matches every challenged ballot with its opening.
"""

from __future__ import annotations

from saylau.crypto import ChallengedBallot, verify_challenged_ballot
from saylau.errors import InvalidBallot
from saylau.record import format as fmt
from saylau.record.reader import RecordReader
from saylau.record.tally import StationSums
from saylau.record.verifier.admission import check_ballot_structure, check_position
from saylau.record.verifier.chains import DeviceChains
from saylau.record.verifier.entries import BallotLine
from saylau.record.verifier.proofs import ProofRunner
from saylau.record.verifier.state import VerifyState
from saylau.record.verifier.supersessions import SupersessionLinks
from saylau.record.verifier.table import CheckResult, fail

__all__ = ["check_ballots", "check_challenged"]


def check_ballots(s: VerifyState, check: CheckResult) -> None:
    """One streaming pass: structure, grouping and sequence, the admission checks, states, chains, sums."""
    m, params = s.need_manifest(), s.need_params()
    board = s.need_board()
    rules = s.rules()
    regions = {sid: loc.region_id for sid, loc in m.station_index().items()}
    seen: set[str] = set()
    chains = DeviceChains(s.devices, params.base_hash, check)
    links = SupersessionLinks(check)
    sums = s.sums = StationSums(m, params)
    total = sum(d.ballot_count for d in s.devices.values())
    s.tick("ballots", 0, total)
    s.tick("proofs", 0, total)
    proofs = ProofRunner(params, s.workers, s.chunk_size, s.tick)
    try:
        for no, line in s.reader.raw_lines(fmt.BALLOTS):
            d = RecordReader.parse_line(line, fmt.BALLOTS, no)
            sb = BallotLine.parse(d)
            b = sb.ballot
            where = f"ballot {sb.ballot_id} ({fmt.BALLOTS} line {no})"
            if sb.ballot_id in seen:
                raise fail(check, f"{where}: ballot id appears twice")
            seen.add(sb.ballot_id)
            dev = s.devices.get(sb.device_id)
            if dev is None:
                raise fail(check, f"{where}: unknown device {sb.device_id}")
            if sb.station_id != dev.station_id:
                raise fail(check, f"{where}: station {sb.station_id} is not its device's {dev.station_id}")
            chains.add(sb, where)
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
            s.states[sb.state] += 1
            links.note(sb)
            if sb.state == "challenged":
                s.challenged_ids[sb.ballot_id] = b
                s.challenged_where[sb.ballot_id] = (sb.device_id, sb.station_id)
            board.add_record_line(d)
            s.revotes.add(d)
            if sb.state == "cast":
                sums.add(sb.station_id, b)
            else:
                links.add(sb, where, seen)
            proofs.feed(no, line, b)
            check.count += 1
            s.tick("ballots", 1)
        chains.close_device()
        proofs.finish()
    except BaseException:
        proofs.close()
        raise
    s.proofs_checked, s.proof_failure = proofs.count, proofs.failure
    chains.walk_devices_without_ballots()
    s.chains = chains.walked
    links.check_links(s.reader)
    check.detail = ", ".join(f"{v} {k}" for k, v in s.states.items())


def check_challenged(s: VerifyState, check: CheckResult) -> None:
    """Every challenged ballot is opened once in ``challenged.jsonl``, as it was cast, with valid proofs."""
    params = s.need_params()
    opened: set[str] = set()
    for no, d in s.reader.lines(fmt.CHALLENGED):
        cb = ChallengedBallot.from_dict(d)
        bid = cb.ballot.ballot_id
        where = f"challenged ballot {bid} ({fmt.CHALLENGED} line {no})"
        original = s.challenged_ids.get(bid)
        if original is None:
            raise fail(check, f"{where}: not a challenged ballot in {fmt.BALLOTS}")
        if bid in opened:
            raise fail(check, f"{where}: opened twice")
        if cb.ballot.to_dict() != original.to_dict():
            raise fail(check, f"{where}: differs from the ballot in {fmt.BALLOTS}")
        verify_challenged_ballot(params, cb)
        s.need_board().add_challenge(d, *s.challenged_where[bid])
        opened.add(bid)
        check.count += 1
    missing = set(s.challenged_ids) - opened
    if missing:
        raise fail(check, f"challenged ballot {sorted(missing)[0]}: no opening in {fmt.CHALLENGED}")
