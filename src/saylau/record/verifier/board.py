"""The record against its bulletin board (``docs/record-format.md`` §11) and the revote tags (§6.7).

``check_board`` streams ``board.jsonl`` once through ``BoardIndex`` (chain, times, checkpoints,
signatures, cast ballots within their station's voting hours, well-formed turnout and protocols, and the
compact index the later comparisons need); ``check_board_match`` compares the ballots, challenges,
closing codes, guardian records, partial decryptions, tallies, results, parameters and manifest with the
board; ``check_revote_tags`` orders each revote-tag group by board position.
"""

from __future__ import annotations

from saylau.record import format as fmt
from saylau.record.board_check import BoardIndex
from saylau.record.verifier.state import VerifyState
from saylau.record.verifier.table import CheckResult

__all__ = ["check_board", "check_board_match", "check_revote_tags"]


def check_board(s: VerifyState, check: CheckResult) -> None:
    """The board's hash chain and signed checkpoints, its id, and (if pinned) its key."""
    index = s.board = BoardIndex(s.reader, s.need_manifest(), s.need_params().base_hash, s.board_public_key)
    summary = index.read_board(lambda n: s.tick("board", n))
    check.count = summary.count
    final = "closed (final checkpoint)" if summary.final else "not closed"
    published = index.published
    check.detail = (
        f"{summary.checkpoints} checkpoints, {final}, key {summary.public_key[:16]}…; "
        f"{len(published.protocols)} station protocols, {published.turnout} turnout snapshots"
    )


def check_board_match(s: VerifyState, check: CheckResult) -> None:
    """Every record object is on the board once and nothing else is; the last published documents match."""
    index = s.need_board()
    check.count = index.elided + index.compare_entries()  # ballot and challenge entries: the ballot pass
    index.check_closing(s.devices_doc)
    scopes = [{k: v for k, v in e.to_dict().items() if k != "plaintext"} for e in s.tallies]
    index.check_published("tally", scopes, "scopes", f"{fmt.TALLIES} (encrypted tallies)")
    index.check_published("result", s.reader.json(fmt.RESULTS), "results", fmt.RESULTS)
    params = s.reader.json(fmt.PARAMETERS)["election"]
    index.check_optional("joint_key", params, "parameters", f"{fmt.PARAMETERS} (election parameters)")
    m = s.need_manifest()
    index.check_optional("manifest", m.manifest_hash().hex(), "manifest_hash", f"{fmt.MANIFEST} hash")
    index.check_guardians(params["joint_key"]["guardians"])
    partials = index.check_partials([d for _, d in s.reader.lines(fmt.TALLIES)])
    check.detail = (
        f"{check.count} ballot/challenge/revote entries, {len(s.devices)} closing codes, "
        f"{len(params['joint_key']['guardians'])} guardian records, {partials} guardians' partial decryptions"
    )


def check_revote_tags(s: VerifyState, check: CheckResult) -> None:
    """In each revote-tag group, ordered by board position, only the last ballot counts."""
    groups, links = s.revotes.check(s.need_board().tagged_positions)
    check.count = links
    untagged = s.revotes.untagged_links
    check.detail = f"{groups} remote voters, {links} tagged links" + (
        f", {untagged} untagged links (bound by the board only)" if untagged else ""
    )
