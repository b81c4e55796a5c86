"""What the verifier's checks establish, handed from one check to the next.

The verifier shares no state with the writer; this is its own: the files it has read and checked (the
manifest, the parameters, the devices), the board index, and what the streaming ballot pass keeps for the
later checks (challenged ballots, revote links, station sums, chain and proof counts, the tallies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from saylau.crypto import ElectionParameters
from saylau.election.manifest import Manifest
from saylau.errors import RecordError
from saylau.parallel import Executor
from saylau.record.board_check import BoardIndex
from saylau.record.reader import RecordReader
from saylau.record.revotes import RevoteLinks
from saylau.record.tally import StationSums, TallyEntry
from saylau.record.verifier.admission import BallotRules
from saylau.record.verifier.entries import DeviceEntry
from saylau.record.verifier.resume import ResumePoint
from saylau.record.verifier.table import ProgressHook

__all__ = ["VerifyState"]


@dataclass
class VerifyState:
    """The record being verified, how to verify it, and what the checks so far have established."""

    reader: RecordReader
    executor: Executor | None = None  # None: inline (``SerialExecutor``)
    chunk_size: int = 256
    progress: ProgressHook | None = None
    board_public_key: str | None = None
    # set by the checks, in order
    record_hash: bytes = b""
    manifest: Manifest | None = None
    params: ElectionParameters | None = None
    devices: dict[str, DeviceEntry] = field(default_factory=dict)
    devices_doc: list[dict[str, Any]] = field(default_factory=list)
    board: BoardIndex | None = None
    states: dict[str, int] = field(default_factory=lambda: {"cast": 0, "challenged": 0, "superseded": 0})
    opened: int = 0  # challenged ballots whose openings verified during the ballot pass
    revotes: RevoteLinks = field(default_factory=RevoteLinks)
    sums: StationSums | None = None
    chains: int = 0  # device chains walked during the ballot pass
    proofs_checked: int = 0  # ballots whose proofs verified during the ballot pass
    proof_failure: str | None = None  # the first proof failure, reported by its own check
    tallies: list[TallyEntry] = field(default_factory=list)
    # incremental verification (``resume``): the state to start from, the one to save, lines skipped
    resume_from: ResumePoint | None = None
    want_state: bool = False
    saved: ResumePoint | None = None
    resumed_lines: int = 0

    def tick(self, task: str, advance: int, total: int | None = None) -> None:
        """Report progress, if anyone listens."""
        if self.progress is not None:
            self.progress(task, advance, total)

    def need_manifest(self) -> Manifest:
        """The manifest; ``RecordError`` if its check has not run."""
        if self.manifest is None:
            raise RecordError("manifest not loaded")
        return self.manifest

    def need_params(self) -> ElectionParameters:
        """The election parameters; ``RecordError`` if their check has not run."""
        if self.params is None:
            raise RecordError("parameters not loaded")
        return self.params

    def rules(self) -> BallotRules:
        """The per-ballot rules (``admission``) of the manifest and parameters checked so far."""
        return BallotRules.from_manifest(self.need_manifest(), self.need_params())

    def need_board(self) -> BoardIndex:
        """The board index; ``RecordError`` if the board has not been read."""
        if self.board is None:
            raise RecordError("board not read")
        return self.board

    def need_sums(self) -> StationSums:
        """The station sums; ``RecordError`` if the ballots have not been read."""
        if self.sums is None:
            raise RecordError("ballots not read")
        return self.sums
