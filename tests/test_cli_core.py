from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from saylau.cli import app
from saylau.election.manifest import canonical_json
from saylau.record import format as fmt
from saylau.record.writer import write_files_manifest

runner = CliRunner()


def flat(text: str) -> str:
    """Rich wraps long lines; compare on single-spaced text."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "demo"
    result = runner.invoke(
        app,
        ["demo", "--out", str(out), "--pilot-ballots", "20", "--pilot-stations", "3", "--guardians", "3",
         "--quorum", "2", "--missing", "1", "--workers", "1", "--scale", "0.05"],
    )
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert "refused" in text and "min_age" in text
    assert "Kassym-Jomart Tokayev" in text and "decision:" in text
    assert "guardians absent at decryption: [2]" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pilot"]["matches_paper_protocols"] is True
    return out / "record"


def test_verify_accepts_the_demo_record(demo_dir: Path) -> None:
    result = runner.invoke(app, ["verify", str(demo_dir), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "record verified" in result.output
    assert "tracking-code chains" in result.output
    assert "national result (verified)" in flat(result.output)


def test_verify_checks_the_published_record_hash(demo_dir: Path) -> None:
    from saylau.record.verifier import verify_record

    good = verify_record(demo_dir).hex()
    ok = runner.invoke(app, ["verify", str(demo_dir), "--quiet", "--expect-hash", good])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["verify", str(demo_dir), "--quiet", "--expect-hash", "00" * 32])
    assert bad.exit_code == 1
    assert "is not the published" in flat(bad.output)


def test_verify_with_workers_and_progress(demo_dir: Path) -> None:
    result = runner.invoke(app, ["verify", str(demo_dir), "--workers", "2"])
    assert result.exit_code == 0, result.output


def test_verify_on_a_local_cluster_prints_the_serial_verdict(demo_dir: Path) -> None:
    serial = runner.invoke(app, ["verify", str(demo_dir), "--quiet"])
    dask = runner.invoke(app, ["verify", str(demo_dir), "--quiet", "--local-cluster", "--workers", "2"])
    assert dask.exit_code == 0, dask.output
    assert "dask LocalCluster (2 processes)" in flat(dask.output)
    # the same table, results and record hash: only the line naming the executor differs
    def _table(text: str) -> list[str]:
        return [line for line in text.splitlines() if "checked by" not in line]

    assert _table(dask.output) == _table(serial.output)
    both = runner.invoke(
        app, ["verify", str(demo_dir), "--scheduler", "tcp://127.0.0.1:1", "--local-cluster"]
    )
    assert both.exit_code != 0 and "not both" in flat(both.output)


def test_verify_names_the_failing_object_and_check(demo_dir: Path, tmp_path: Path) -> None:
    import shutil

    rec = tmp_path / "r"
    shutil.copytree(demo_dir, rec)
    lines = [json.loads(x) for x in gzip.decompress((rec / fmt.BALLOTS).read_bytes()).splitlines()]
    victim = next(x for x in lines if x["state"] == "cast")
    victim["ballot"]["contests"][0]["selections"][0]["proof"]["responses"][0] = "11" * 32
    data = b"".join(canonical_json(x) + b"\n" for x in lines)
    (rec / fmt.BALLOTS).write_bytes(gzip.compress(data, mtime=0))
    write_files_manifest(rec)
    result = runner.invoke(app, ["verify", str(rec), "--quiet"])
    assert result.exit_code == 1
    assert "VERIFICATION FAILED" in result.output
    out = flat(result.output)
    assert f"ballot {victim['ballot']['ballot_id']}" in out
    assert "[check: ballots: structure, states, revotes]" in out
    assert "FAIL" in result.output


def test_verify_missing_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(tmp_path / "absent"), "--quiet"])
    assert result.exit_code == 1
    assert "does not exist" in flat(result.output)


def test_verify_shows_the_board_checks(demo_dir: Path) -> None:
    result = runner.invoke(app, ["verify", str(demo_dir), "--quiet"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "bulletin board" in out and "closed (final checkpoint)" in out
    assert "record matches the board" in out and "revote links" in out


def test_verify_refuses_a_record_without_its_board(demo_dir: Path, tmp_path: Path) -> None:
    import shutil

    rec = tmp_path / "r"
    shutil.copytree(demo_dir, rec)
    (rec / fmt.BOARD).unlink()
    result = runner.invoke(app, ["verify", str(rec), "--quiet"])
    assert result.exit_code == 1
    assert "board.jsonl" in flat(result.output)


def test_verify_pins_the_announced_board_key(demo_dir: Path) -> None:
    header = json.loads(gzip.decompress((demo_dir / fmt.BOARD).read_bytes()).splitlines()[0])
    key = header["public_key"]
    ok = runner.invoke(app, ["verify", str(demo_dir), "--quiet", "--board-key", key])
    assert ok.exit_code == 0, ok.output
    other = "00" * 32 if key != "00" * 32 else "11" * 32
    bad = runner.invoke(app, ["verify", str(demo_dir), "--quiet", "--board-key", other])
    assert bad.exit_code == 1
    assert "public key differs" in flat(bad.output)
