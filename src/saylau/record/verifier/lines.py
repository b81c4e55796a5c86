"""Every check on a ``ballots.jsonl`` line that needs no other line, run in the workers (§6, §11.2).

The ballot pass (``ballots.check_ballots``) sends raw lines in chunks to an executor
(``saylau.parallel``); ``verify_lines`` does everything that depends on the line alone: its canonical
form, its fields (``entries.BallotLine``), its device and station, the per-ballot admission checks
(``admission.check_ballot_structure``, the server's own), the chain position its id names, its own
tracking code ``H(previous_code, ballot hash)``, the payload hash of the board entry it implies, the
fingerprint of the supersession it implies, every proof (``admission.check_ballot_proofs``) and the
chunk's cast ballots summed per station. The main process keeps what depends on the order of the lines
(each device's chain links, the pairing with the board's entries, revote links, openings of challenged
ballots) and gets back a ``LineFacts`` per line: a few strings, not the ballot. A line that fails a check
ends its chunk's facts with the failure, which the main process raises when it reaches that line, so
failures are reported in file order whatever the executor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from saylau.crypto import EncryptedTally
from saylau.crypto.tracking import tracking_code
from saylau.errors import SaylauError
from saylau.record import format as fmt
from saylau.record.board_check import implied_payload_hash, record_line_fingerprints
from saylau.record.reader import RecordReader
from saylau.record.verifier.admission import (
    BallotRules,
    check_ballot_proofs,
    check_ballot_structure,
    check_position,
)
from saylau.record.verifier.entries import BallotLine

__all__ = ["ChunkResult", "LineContext", "LineFacts", "verify_lines"]


@dataclass
class LineContext:
    """What a worker needs besides the lines: sent to each worker once (``Executor.imap_shared``).

    ``devices``: device id → (station id, channel) from the checked ``devices.json``; ``regions``:
    station id → region id from the checked manifest; ``rules``: ``admission.rules_document``.
    """

    rules: dict[str, Any]
    devices: dict[str, tuple[str, str]]
    regions: dict[str, str]
    _built: list[BallotRules] = field(default_factory=list, repr=False, compare=False)

    def ballot_rules(self) -> BallotRules:
        """The rules, parsed once per worker."""
        if not self._built:
            self._built.append(BallotRules.from_document(self.rules))
        return self._built[0]

    def __getstate__(self) -> dict[str, Any]:
        return {"rules": self.rules, "devices": self.devices, "regions": self.regions}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.rules, self.devices, self.regions = state["rules"], state["devices"], state["regions"]
        self._built = []


@dataclass(frozen=True, slots=True)
class LineFacts:
    """What the order-dependent checks need of one line that passed every check of its own."""

    no: int
    ballot_id: str
    device_id: str
    station_id: str
    sequence: int
    state: str
    superseded_by: str | None
    code: str  # hex
    previous_code: bytes
    code_ok: bool  # code = H(previous_code, ballot hash); reported after the chain link (``chains``)
    revote_tag: str | None  # hex
    payload_hash: str | None  # of the implied ``ballot`` entry (a challenged line's needs its opening)
    superseded_fp: bytes | None
    ballot: dict[str, Any] | None  # the ballot object, for a challenged line only (its opening is checked)


@dataclass
class ChunkResult:
    """A chunk's facts, its first structural failure (which ends it), its first proof failure, its sums.

    ``sums``: station id → (cast ballots, their encrypted sum in record form).
    """

    facts: list[LineFacts]
    failure: tuple[int, str] | None = None
    proof_failure: str | None = None
    proved: int = 0
    sums: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)


def verify_lines(ctx: LineContext, chunk: list[tuple[int, bytes]]) -> ChunkResult:
    """Check each ``(line number, raw line)`` of a chunk by itself (in a worker, or inline)."""
    rules = ctx.ballot_rules()
    out = ChunkResult([])
    tallies: dict[str, tuple[int, EncryptedTally]] = {}
    for no, line in chunk:
        where = f"{fmt.BALLOTS} line {no}"
        try:
            facts, sb = _line_facts(ctx, rules, no, line, where)
            if sb.state == "cast":
                count, tally = tallies.get(sb.station_id) or (0, EncryptedTally.empty(rules.params.contests))
                tallies[sb.station_id] = (count + 1, tally.add_ballot(sb.ballot))
        except _LineFailure as exc:
            out.failure = (no, str(exc))
            break
        except (SaylauError, KeyError, TypeError, ValueError) as exc:
            out.failure = (no, f"{where}: {exc}")
            break
        if out.proof_failure is None:
            try:
                check_ballot_proofs(rules, sb.ballot)
                out.proved += 1
            except SaylauError as exc:
                out.proof_failure = f"{where}: ballot proofs: {exc}"
        out.facts.append(facts)
    out.sums = {sid: (n, t.to_dict()) for sid, (n, t) in tallies.items()}
    return out


class _LineFailure(Exception):
    """A failure whose message already names the ballot and the line."""


def _line_facts(
    ctx: LineContext, rules: BallotRules, no: int, line: bytes, where: str
) -> tuple[LineFacts, BallotLine]:
    d = RecordReader.parse_line(line, fmt.BALLOTS, no)
    sb = BallotLine.parse(d)
    b = sb.ballot
    at = f"ballot {sb.ballot_id} ({where})"
    device = ctx.devices.get(sb.device_id)
    if device is None:
        raise _LineFailure(f"{at}: unknown device {sb.device_id}")
    station, channel = device
    if sb.station_id != station:
        raise _LineFailure(f"{at}: station {sb.station_id} is not its device's {station}")
    sequence = check_ballot_structure(
        rules, b, device_id=sb.device_id, region_id=ctx.regions[sb.station_id], channel=channel,
        state=sb.state,
    )
    check_position(sb.ballot_id, sequence, sb.sequence, sb.device_id)
    challenged = sb.state == "challenged"
    fps = record_line_fingerprints(d)
    facts = LineFacts(
        no=no,
        ballot_id=sb.ballot_id,
        device_id=sb.device_id,
        station_id=sb.station_id,
        sequence=sb.sequence,
        state=sb.state,
        superseded_by=sb.superseded_by,
        code=d["ballot"]["code"],
        previous_code=b.previous_code,
        code_ok=b.code == tracking_code(b.previous_code, b.crypto_hash()),
        revote_tag=d["ballot"].get("revote_tag"),
        payload_hash=None if challenged else implied_payload_hash(d, None),
        superseded_fp=fps[0][1] if fps else None,
        ballot=d["ballot"] if challenged else None,
    )
    return facts, sb
