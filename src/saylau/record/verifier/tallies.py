"""Tallies, decryptions and results (``docs/record-format.md`` §9–§10).

Every encrypted tally (each station, each region, the nation) is rebuilt from the cast ballots the
ballot pass summed, every decryption's proofs are checked, and ``results.json`` must be what the
verified decryptions say.
"""

from __future__ import annotations

from saylau.crypto import verify_plaintext_tally
from saylau.errors import SaylauError
from saylau.record import format as fmt
from saylau.record.tally import NATION_ID, TallyEntry, results_summary
from saylau.record.verifier.state import VerifyState
from saylau.record.verifier.table import CheckResult, fail

__all__ = ["check_decryptions", "check_results", "check_tallies"]


def check_tallies(s: VerifyState, check: CheckResult) -> None:
    """``tallies.jsonl`` has one line per scope, in order, each equal to the recomputed sum."""
    expected = s.need_sums().roll_up()
    entries: list[TallyEntry] = []
    lines = list(s.reader.lines(fmt.TALLIES))
    if len(lines) != len(expected):
        raise fail(
            check,
            f"{fmt.TALLIES}: {len(lines)} lines, expected {len(expected)} "
            "(every station, every region, the nation)",
        )
    for (no, d), (scope, sid, count, tally) in zip(lines, expected, strict=True):
        entry = TallyEntry.from_dict(d)
        where = f"tally {scope} {sid} ({fmt.TALLIES} line {no})"
        if (entry.scope, entry.scope_id) != (scope, sid):
            raise fail(check, f"{where}: line is {entry.scope} {entry.scope_id}")
        if entry.ballot_count != count:
            raise fail(check, f"{where}: ballot_count {entry.ballot_count}, recounted {count}")
        if entry.encrypted.to_dict() != tally.to_dict():
            raise fail(check, f"{where}: encrypted tally differs from the sum of its cast ballots")
        entries.append(entry)
        check.count += 1
    s.tallies = entries


def check_decryptions(s: VerifyState, check: CheckResult) -> None:
    """Every tally's plaintext carries valid partial-decryption proofs."""
    params = s.need_params()
    s.tick("decryptions", 0, len(s.tallies))
    for e in s.tallies:
        try:
            verify_plaintext_tally(params, e.encrypted, e.plaintext)
        except SaylauError as exc:
            raise fail(check, f"tally {e.scope} {e.scope_id}: decryption: {exc}") from exc
        check.count += 1
        s.tick("decryptions", 1)


def check_results(s: VerifyState, check: CheckResult) -> None:
    """``results.json`` summarises the verified decryptions; the nation counts every cast ballot."""
    m = s.need_manifest()
    doc = s.reader.json(fmt.RESULTS)
    if doc != results_summary(m, s.tallies):
        raise fail(check, f"{fmt.RESULTS}: differs from the verified decryptions")
    nation = next(e for e in s.tallies if e.scope == "nation" and e.scope_id == NATION_ID)
    if nation.ballot_count != s.states["cast"]:
        raise fail(check, "nation tally: ballot count differs from the number of cast ballots")
    check.count = 1
