"""The verifier on every executor: inline, a process pool, a Dask LocalCluster give the same verdict.

Same record hash and the same table for an honest record; the same failure, naming the same object
and check, for each tampered one (a changed sequence, a changed proof, a reordered pair of lines), and
a state saved on one executor resumes on another. Small chunks make every record span many chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from record_tamper import read_lines, write_lines

from saylau.errors import VerificationFailed
from saylau.parallel import Executor, ProcessExecutor, SerialExecutor
from saylau.parallel.dask import DaskExecutor
from saylau.record import format as fmt
from saylau.record.demo import DemoResult
from saylau.record.verifier import RecordVerifier

KINDS = ("serial", "process", "dask")


@pytest.fixture(scope="module")
def executors() -> Iterator[dict[str, Executor]]:
    made: dict[str, Executor] = {
        "serial": SerialExecutor(),
        "process": ProcessExecutor(2),
        "dask": DaskExecutor(None, workers=2, processes=True),
    }
    yield made
    for ex in made.values():
        ex.close()


def _verdict(record: Path, executor: Executor, **kw: object) -> tuple[str, list[tuple[str, int, bool, str]]]:
    """The record hash (or the failure's message) and the table, as the CLI would print them."""
    v = RecordVerifier(record, executor=executor, chunk_size=3, **kw)  # type: ignore[arg-type]
    try:
        outcome = v.run().hex()
    except VerificationFailed as exc:
        outcome = f"FAILED: {exc}"
    return outcome, [(c.name, c.count, c.passed, c.detail) for c in v.checks]


def _same_everywhere(record: Path, executors: dict[str, Executor], **kw: object) -> str:
    verdicts = {k: _verdict(record, executors[k], **kw) for k in KINDS}
    assert verdicts["process"] == verdicts["serial"]
    assert verdicts["dask"] == verdicts["serial"]
    return verdicts["serial"][0]


def _rewrite(record: Path, change) -> None:  # type: ignore[no-untyped-def]
    lines = read_lines(record / fmt.BALLOTS)
    change(lines)
    write_lines(record / fmt.BALLOTS, lines)  # files.json rehashed: the tampering is caught further in


def test_an_honest_record_verifies_alike(
    small_record: DemoResult, executors: dict[str, Executor]
) -> None:
    assert _same_everywhere(small_record.out_dir, executors) == small_record.record_hash.hex()


def test_a_broken_proof_fails_alike(record_copy: Path, executors: dict[str, Executor]) -> None:
    def change(lines: list[dict]) -> None:  # type: ignore[type-arg]
        lines[-2]["ballot"]["contests"][0]["selections"][1]["proof"]["responses"][0] = "11" * 32

    _rewrite(record_copy, change)
    outcome = _same_everywhere(record_copy, executors)
    last = len(read_lines(record_copy / fmt.BALLOTS))  # the proof is hashed: the tracking code fails first
    assert outcome.startswith("FAILED") and f"line {last - 1})" in outcome


def test_a_changed_sequence_fails_alike(record_copy: Path, executors: dict[str, Executor]) -> None:
    def change(lines: list[dict]) -> None:  # type: ignore[type-arg]
        lines[5]["sequence"] += 1

    _rewrite(record_copy, change)
    outcome = _same_everywhere(record_copy, executors)
    assert outcome.startswith("FAILED") and "line 6" in outcome


def test_two_lines_swapped_fail_alike(record_copy: Path, executors: dict[str, Executor]) -> None:
    def change(lines: list[dict]) -> None:  # type: ignore[type-arg]
        lines[7], lines[8] = lines[8], lines[7]

    _rewrite(record_copy, change)
    outcome = _same_everywhere(record_copy, executors)
    assert outcome.startswith("FAILED") and "line 8" in outcome


def test_a_state_saved_inline_resumes_on_a_cluster(
    small_record: DemoResult, executors: dict[str, Executor], tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    first = RecordVerifier(small_record.out_dir, save_state=state, chunk_size=3)
    assert first.run() == small_record.record_hash
    for kind in KINDS:
        again = RecordVerifier(
            small_record.out_dir, executor=executors[kind], resume_from=state, chunk_size=5
        )
        assert again.run() == small_record.record_hash
        assert again.resumed_ballots == first.saved_state.lines[fmt.BALLOTS]  # type: ignore[union-attr]
