"""After a SIGKILL of ``saylau serve``, no verification worker or forkserver lives on as an orphan.

Before, the forkserver and both workers stayed alive (each holds the others' pipes, so none sees
end-of-file), holding memory; now they watch the server and exit with it (``saylau.api.orphans``).
The server is started as a user would start it, with ``--data-dir``: its key files go there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

SAYLAU = str(Path(sys.executable).parent / "saylau")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> set[int]:
    tree, out, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_verification_processes_exit_when_the_server_is_killed(database: Any, tmp_path: Path) -> None:
    url = database.url
    if database.schema is not None:
        url += f"?options=-csearch_path%3D{database.schema}"
    cwd, data = tmp_path / "cwd", tmp_path / "data"
    cwd.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAYLAU_")}
    env["SAYLAU_DATABASE_URL"] = url
    cmd = [SAYLAU, "serve", "--port", str(port), "--verify-processes", "2", "--job-workers", "1",
           "--data-dir", str(data), "--log-level", "warning"]
    server = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    family: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        family = _descendants(server.pid)
        assert len(family) >= 3, family  # the forkserver and two workers (and the resource tracker)
        assert sorted(p.name for p in data.iterdir()) == [
            "saylau-board.pem", "saylau-pseudonym.key", "saylau-revote.key"
        ] and list(cwd.iterdir()) == []
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        deadline = time.monotonic() + 20
        while (left := {p for p in family if _alive(p)}) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not left, f"orphans left after SIGKILL of the server: {sorted(left)}"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
        for pid in family:  # only the processes this test started
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if server.stdout is not None:
            server.stdout.close()
