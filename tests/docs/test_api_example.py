"""docs/api.md's example session runs as it stands, against a ``saylau serve`` started as the page says.

The block between ``<!-- example-session -->`` and ``<!-- /example-session -->`` is given to bash
unchanged (it uses curl and jq, as a commission would); the server is started with the commands of the
page's "Start it" section, in a temporary directory, on SQLite and on PostgreSQL. The session defines
kz-2022 on two stations, runs the ceremony with ``saylau guardian``, imports a roll, checks a voter in,
signs a protocol and its correction with ``saylau protocol``, tallies, decrypts with two of three
guardians, and verifies the downloaded record with ``saylau verify``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ADMIN_PASSWORD = "a long passphrase"


def example_session() -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- example-session -->\n```sh\n(.*?)```\n<!-- /example-session -->", text, re.S)
    assert found, "docs/api.md has no example session block"
    return found.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _db_url(database: Any) -> str:
    url: str = database.url
    if database.schema is not None:
        url += f"?options=-csearch_path%3D{database.schema}"
    return url


@pytest.fixture
def served(database: Any, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``saylau serve`` as "Start it" says (db upgrade, an admin, serve), in ``tmp_path``."""
    start = DOC.read_text(encoding="utf-8").split("## Start it", 1)[1].split("## ", 1)[0]
    for line in (
        "saylau db upgrade",
        f"SAYLAU_PASSWORD='{ADMIN_PASSWORD}' saylau user add admin --role cec",
        "saylau serve",
    ):
        assert line in start, f"docs/api.md 'Start it' no longer says {line!r}"
    bindir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAYLAU_DATABASE_URL": _db_url(database),
        "SAYLAU_DATA_DIR": str(tmp_path / "data"),
        "SAYLAU_SCRYPT_LOG_N": "14",
        "COLUMNS": "200",
    }
    for key in ("SAYLAU_PASSWORD", "SAYLAU_PASSPHRASE", "SAYLAU_DEBUG"):
        env.pop(key, None)
    subprocess.run(["saylau", "db", "upgrade"], cwd=tmp_path, env=env, check=True, capture_output=True)
    subprocess.run(["saylau", "user", "add", "admin", "--role", "cec"], cwd=tmp_path, check=True,
                   env={**env, "SAYLAU_PASSWORD": ADMIN_PASSWORD}, capture_output=True)
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        ["saylau", "serve", "--port", str(port), "--verify-processes", "1"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a loaded 2-core machine: the server starts a process pool
        while True:
            try:
                if httpx.get(f"{url}/api/v1/elections", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "saylau serve did not start"
            time.sleep(0.2)
        yield url, env
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.mark.slow  # ~40 s on a quiet machine (each `saylau` command starts Python); make test-slow
@pytest.mark.skipif(shutil.which("jq") is None or shutil.which("curl") is None, reason="needs curl and jq")
def test_the_example_session_runs_as_written(served: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, env = served
    trace = os.environ.get("SAYLAU_DOC_TRACE") == "1"  # a timed bash trace in trace.txt, for slowness
    script = ("PS4='+ $(date +%T.%N) '; set -x\n" if trace else "") + example_session()
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env={**env, "SERVER": url},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if trace:
        (tmp_path.parent / "trace.txt").write_text(done.stderr)
    assert done.returncode == 0, f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
    out = done.stdout
    assert "election kz-2022-presidential" in out
    assert '{"imported":4,"rejected":[]}' in out
    assert "already voted at station 'abai-0001'" in out
    assert '{"version":1,' in out and '{"version":2,' in out
    assert "record verified" in out, out[-3000:]


def test_the_example_names_what_the_scenario_and_the_commands_really_have() -> None:
    """Fast (every run): ids, identifiers, options and command lines of the block are the real ones."""
    import csv
    import io
    import json

    from typer.main import get_command

    from saylau.cli import app
    from saylau.election.scenario import load_scenario

    block = example_session()
    sc = load_scenario("kz-2022")
    terr = sc.territory_index
    assert (
        "E=$(curl" in block
        and sc.election_id == "kz-2022-presidential"
        and sc.election_id in DOC.read_text()
    )
    stations = set(re.findall(r"\babai-\d{4}\b", block))
    assert stations == {"abai-0001", "abai-0002"} and all(terr.region_of(s).id == "abai" for s in stations)
    roll = block.split("<<'CSV'\n", 1)[1].split("\nCSV\n", 1)[0]
    rows = list(csv.DictReader(io.StringIO(roll)))
    assert sc.voter_id.column in rows[0]
    for row in rows:
        assert sc.voter_id.check_value(row["iin"]).isoformat() == row["date_of_birth"]
    figures = json.loads(block.split("<<'JSON'\n", 1)[1].split("\nJSON\n", 1)[0])
    assert sorted(figures["votes"]) == sorted(o.id for o in sc.options)
    assert (
        figures["registered"] == sum(r["station"] in ("abai-0001", "") for r in rows) - 1
    )  # one goes to -0002
    group = get_command(app)
    for line in re.findall(r"^\s*(saylau [^\n]*?)\s*(?:\\)?$", block, re.M):
        words = [w for w in line.split() if not w.startswith("$")]
        command = group
        for w in words[1:]:
            sub = getattr(command, "commands", {}).get(w)
            if sub is None:
                break
            command = sub
        options = {o for p in command.params for o in p.opts}  # type: ignore[attr-defined]
        for w in words:
            if w.startswith("--"):
                assert w in options, f"docs/api.md: {line!r}: {command.name} has no option {w}"
