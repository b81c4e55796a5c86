"""Incremental verification: a state saved at a board checkpoint, resumed on a record extended after it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from record_tamper import read_lines, write_lines

from saylau.errors import RecordError, VerificationFailed
from saylau.record import format as fmt
from saylau.record.demo import DemoResult, run_demo
from saylau.record.verifier import RecordVerifier
from saylau.record.writer import JsonLinesWriter, write_files_manifest
from saylau.sim.pilot import pilot_election

PROOFS = "ballot proofs (range and contest limit)"


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """A small record whose board is signed every 8 entries, so checkpoints fall during voting."""
    out = tmp_path_factory.mktemp("incremental") / "record"
    pilot = pilot_election(stations=2, ballots=16, seed=11)
    return run_demo(
        out, pilot.manifest, pilot.plan, guardians=3, quorum=2, missing=1, challenge_rate=0.2,
        remote_rate=0.5, revote_rate=0.5, seed=11, workers=1, registered=pilot.registered, checkpoint_every=8,
    )


@pytest.fixture
def copy(record: DemoResult, tmp_path: Path) -> Path:
    dst = tmp_path / "record"
    shutil.copytree(record.out_dir, dst)
    return dst


def _saved(record: DemoResult, tmp_path: Path) -> tuple[Path, dict[str, int]]:
    state = tmp_path / "state.json"
    v = RecordVerifier(record.out_dir, save_state=state)
    assert v.run() == record.record_hash
    saved = v.saved_state
    assert saved is not None
    return state, saved.lines


def _break_proof(line: dict[str, object]) -> None:
    line["ballot"]["contests"][0]["selections"][0]["proof"]["responses"][0] = "11" * 32  # type: ignore[index]


def test_a_resumed_verification_checks_only_the_ballots_after_the_checkpoint(
    record: DemoResult, tmp_path: Path
) -> None:
    state, lines = _saved(record, tmp_path)
    total = sum(record.states.values())
    before = lines[fmt.BALLOTS]
    assert 0 < before < total
    v = RecordVerifier(record.out_dir, resume_from=state)
    assert v.run() == record.record_hash  # the whole record still passes, tallies and results included
    (proofs,) = [c for c in v.checks if c.name == PROOFS]
    assert v.resumed_ballots == before and proofs.count == total - before
    assert "verified earlier" in proofs.detail


def test_a_change_in_the_earlier_part_is_caught(record: DemoResult, copy: Path, tmp_path: Path) -> None:
    state, lines = _saved(record, tmp_path)
    ballots = read_lines(copy / fmt.BALLOTS)
    _break_proof(ballots[0])  # before the checkpoint: the resumed run neither parses nor proves it again
    write_lines(copy / fmt.BALLOTS, ballots)  # files.json rehashed: a forger's record
    match = rf"{fmt.BALLOTS}: its first {lines[fmt.BALLOTS]} lines, verified earlier .* have changed"
    with pytest.raises(VerificationFailed, match=match):
        RecordVerifier(copy, resume_from=state).run()


def test_a_change_after_the_checkpoint_is_still_checked(
    record: DemoResult, copy: Path, tmp_path: Path
) -> None:
    state, _ = _saved(record, tmp_path)
    ballots = read_lines(copy / fmt.BALLOTS)
    _break_proof(ballots[-1])
    write_lines(copy / fmt.BALLOTS, ballots)
    with pytest.raises(VerificationFailed):
        RecordVerifier(copy, resume_from=state).run()


def test_a_state_of_another_election_or_format_is_refused(record: DemoResult, tmp_path: Path) -> None:
    state, _ = _saved(record, tmp_path)
    doc = json.loads(state.read_text())
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**doc, "election_id": "elsewhere"}))
    with pytest.raises(VerificationFailed, match="written for another election"):
        RecordVerifier(record.out_dir, resume_from=other).run()
    other.write_text(json.dumps({**doc, "format": "something-else"}))
    with pytest.raises(RecordError, match="not a saylau-verify-state/1 file"):
        RecordVerifier(record.out_dir, resume_from=other)


def test_an_old_record_format_is_refused_by_name(copy: Path) -> None:
    files = json.loads((copy / fmt.FILES).read_bytes())
    (copy / fmt.FILES).write_text(json.dumps({**files, "format": "saylau-record/1"}, separators=(",", ":")))
    with pytest.raises(VerificationFailed, match="saylau-record/1 is an older record format"):
        RecordVerifier(copy).run()


def test_a_truncated_compressed_file_is_named(copy: Path) -> None:
    p = copy / fmt.BALLOTS
    p.write_bytes(p.read_bytes()[:-20])
    write_files_manifest(copy)
    with pytest.raises(VerificationFailed, match=r"ballots.jsonl.gz: not a complete gzip file"):
        RecordVerifier(copy).run()


def test_the_record_bytes_are_reproducible(record: DemoResult, copy: Path) -> None:
    """Rewriting the same lines gives the same compressed bytes (fixed gzip header)."""
    for name in (fmt.BALLOTS, fmt.BOARD):
        with JsonLinesWriter(copy / name) as w:
            for obj in read_lines(record.out_dir / name):
                w.write(obj)
        assert (copy / name).read_bytes() == (record.out_dir / name).read_bytes()


def test_saylau_verify_state_resumes(record: DemoResult, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from saylau.cli import app

    state = tmp_path / "verify-state.json"
    first = CliRunner().invoke(app, ["verify", str(record.out_dir), "--quiet", "--state", str(state)])
    assert first.exit_code == 0, first.output
    assert state.exists() and "verification state at board checkpoint" in first.output
    again = CliRunner().invoke(app, ["verify", str(record.out_dir), "--quiet", "--state", str(state)])
    assert again.exit_code == 0, again.output
    assert "ballots verified earlier" in again.output
