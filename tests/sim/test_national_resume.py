"""A national run killed mid-way (SIGKILL) continues from its last completed station to the same record."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from saylau.cli import app

MINI = Path(__file__).parent / "fixtures" / "mini"
ARGS = [str(MINI), "--scale", "0.03", "--seed", "5", "--workers", "1", "--quiet"]


def _saylau(out: Path, *extra: str) -> list[str]:
    main = "import sys; from saylau.cli import main; main(sys.argv[1:])"
    return [sys.executable, "-c", main, "simulate", *ARGS, "--out", str(out), *extra]


def _done(out: Path) -> list[str]:
    log = out / "work" / "done.jsonl"
    return log.read_text().splitlines() if log.exists() else []


def _record_hash(out: Path) -> str:
    return json.loads((out / "summary.json").read_text())["record_hash"]


def test_killed_run_resumes_to_the_same_record(tmp_path: Path) -> None:
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_saylau(killed), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(_done(killed)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)  # the whole run, mid-way: no cleanup of any kind
    finally:
        _, err = proc.communicate()
    stderr = err.decode()
    assert proc.returncode == -signal.SIGKILL, stderr
    done = _done(killed)
    assert len(done) == 2, "the kill should land after the second station and before the last"
    assert not (killed / "summary.json").exists()
    # damage one completed chunk: the resumed run must notice it and run that station again
    first = json.loads(done[0])["index"]
    chunk = killed / "work" / "stations" / f"{first:05d}.ballots.jsonl"
    chunk.write_bytes(chunk.read_bytes()[:-10])

    runner = CliRunner()
    resumed = runner.invoke(app, ["simulate", *ARGS, "--out", str(killed), "--no-verify"])
    assert resumed.exit_code == 0, resumed.output
    assert "resumed 1 stations" in resumed.output
    fresh = runner.invoke(app, ["simulate", *ARGS, "--out", str(tmp_path / "fresh")])
    assert fresh.exit_code == 0, fresh.output
    assert "record written and verified" in fresh.output
    assert _record_hash(killed) == _record_hash(tmp_path / "fresh")
    for name in os.listdir(tmp_path / "fresh" / "record"):
        assert (killed / "record" / name).read_bytes() == (tmp_path / "fresh" / "record" / name).read_bytes()


@pytest.mark.slow
def test_cli_on_a_local_cluster_writes_the_serial_record(tmp_path: Path) -> None:
    runner = CliRunner()
    small = [str(MINI), "--scale", "0.005", "--seed", "5", "--quiet", "--no-verify"]
    serial = runner.invoke(app, ["simulate", *small, "--workers", "1", "--out", str(tmp_path / "a")])
    assert serial.exit_code == 0, serial.output
    dask = runner.invoke(
        app, ["simulate", *small, "--local-cluster", "--workers", "2", "--out", str(tmp_path / "b")]
    )
    assert dask.exit_code == 0, dask.output
    assert "dask LocalCluster" in dask.output
    assert _record_hash(tmp_path / "a") == _record_hash(tmp_path / "b")
