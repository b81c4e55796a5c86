"""``RecordVerifier``: the verifier's checks, in their documented order (``docs/record-format.md`` §12)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from saylau.parallel import Executor, make_executor
from saylau.record.reader import RecordReader
from saylau.record.verifier import ballots, board, chains, proofs, setup, tallies
from saylau.record.verifier.resume import ResumePoint
from saylau.record.verifier.state import VerifyState
from saylau.record.verifier.table import CheckResult, ProgressHook, Step, run_checks

__all__ = ["RecordVerifier", "verify_record"]


class RecordVerifier:
    """Runs every check over one record directory; ``run()`` returns the record hash or raises."""

    def __init__(
        self,
        record_dir: Path,
        workers: int = 1,
        chunk_size: int = 256,
        progress: ProgressHook | None = None,
        board_public_key: str | None = None,
        resume_from: Path | None = None,
        save_state: Path | None = None,
        executor: Executor | None = None,
    ) -> None:
        """``board_public_key``: the board operator's Ed25519 key as the CEC announced it (hex), to pin.

        ``resume_from``: a state file written by an earlier verification (``save_state``): the ballots
        before its board checkpoint are checked by the hash of their bytes, not again one by one
        (``resume``). ``save_state``: after a successful run, write the state at the last board
        checkpoint before the close of voting there.

        ``executor`` (``saylau.parallel``): where the ballot lines are checked, in chunks of
        ``chunk_size`` (a process pool, a Dask cluster); the caller closes it. Without one, ``workers``
        local processes are started for the run (inline when 1). The verdict, the record hash and the
        table are the same whatever the executor.
        """
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.reader = RecordReader(record_dir)
        self.workers = executor.workers if executor is not None else workers
        self.executor = executor
        self.chunk_size = chunk_size
        self.progress = progress
        self.board_public_key = board_public_key
        self.checks: list[CheckResult] = []
        self._s = VerifyState(self.reader, executor, chunk_size, progress, board_public_key)
        self._s.resume_from = ResumePoint.load(resume_from) if resume_from is not None else None
        self._s.want_state = save_state is not None
        self.save_state = save_state

    def steps(self) -> list[Step]:
        """The checks in the order they run: each a row of the table and the function that fills it."""
        s = self._s
        return [
            ("file hashes (files.json)", partial(setup.check_files, s)),
            ("manifest", partial(setup.check_manifest, s)),
            ("election parameters and base hash", partial(setup.check_parameters, s)),
            ("guardian commitments (Schnorr proofs)", partial(setup.check_guardians, s)),
            ("devices", partial(setup.check_devices, s)),
            ("bulletin board: hash chain and signed checkpoints", partial(board.check_board, s)),
            ("ballots: structure, states, revotes", partial(ballots.check_ballots, s)),
            ("ballot proofs (range and contest limit)", partial(proofs.check_proofs, s)),
            ("tracking-code chains (opening to closing)", partial(chains.check_chains, s)),
            ("challenged ballots opened", partial(ballots.check_challenged, s)),
            ("tallies recomputed (station, region, nation)", partial(tallies.check_tallies, s)),
            ("decryptions (partial decryption proofs)", partial(tallies.check_decryptions, s)),
            ("results.json matches the decryptions", partial(tallies.check_results, s)),
            (
                "record matches the board (ballots, closing codes, tallies, results)",
                partial(board.check_board_match, s),
            ),
            ("revote links (revote tags in board order)", partial(board.check_revote_tags, s)),
        ]

    def run(self) -> bytes:
        """Run all checks in order; return the record hash, or raise ``VerificationFailed``."""
        own = None
        if self._s.executor is None and self.workers > 1:
            own = self._s.executor = make_executor(self.workers)
        try:
            run_checks(self.steps(), self.checks)
        finally:
            if own is not None:
                own.close()
                self._s.executor = None
        if self.save_state is not None and self._s.saved is not None:  # None: no checkpoint before the close
            self._s.saved.seal(self.reader)
            self._s.saved.save(self.save_state)
        return self._s.record_hash

    @property
    def resumed_ballots(self) -> int:
        """Ballots taken as verified from the state file (0 without one)."""
        return self._s.resumed_lines

    @property
    def saved_state(self) -> ResumePoint | None:
        """The state written by ``save_state`` (after ``run``).

        ``None`` if the board had no checkpoint before the close of voting to save it at.
        """
        return self._s.saved


def verify_record(record_dir: Path, workers: int = 1, board_public_key: str | None = None) -> bytes:
    """Verify a record directory; return its record hash or raise ``VerificationFailed``."""
    return RecordVerifier(record_dir, workers=workers, board_public_key=board_public_key).run()
