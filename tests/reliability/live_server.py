"""``saylau serve`` as a real process on loopback: start, SIGKILL, restart, and find what it left behind.

The reliability tests and benchmarks (crash safety, overload, load) drive the server exactly as an
operator runs it: the ``saylau`` command, its data directory, a database URL in the environment. Every
process this module starts is tracked by pid (the server and its descendants: the verification
forkserver, its workers, the resource tracker), so a test can assert that none outlives a SIGKILL of the
server, and can clean up only what it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

SAYLAU = str(Path(sys.executable).parent / "saylau")
PASSWORD = "correct horse battery"  # the API tests' password (tests/api/conftest.py)


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _parents() -> dict[int, int]:
    out: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        out[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def descendants(pid: int) -> set[int]:
    """Every living descendant of ``pid`` (children, grandchildren, …)."""
    parents = _parents()
    tree: dict[int, list[int]] = {}
    for child, parent in parents.items():
        tree.setdefault(parent, []).append(child)
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not exited (zombies count as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def database_url(database: Any) -> str:
    """The URL a separate process needs for the ``database`` fixture (its schema as the search path)."""
    url = str(database.url)
    if database.schema is not None:
        url += f"?options=-csearch_path%3D{database.schema}"
    return url


@dataclass
class LiveServer:
    """One ``saylau serve`` on ``port``, restartable on the same database and data directory.

    ``family`` accumulates every pid the server ever had as a descendant, so that ``leftovers`` can name
    any of them still alive after the server is gone, and ``cleanup`` can end exactly those.
    """

    url: str
    workdir: Path
    verify_processes: int = 1
    extra_args: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    family: set[int] = field(default_factory=set)
    starts: int = 0

    @property
    def data_dir(self) -> Path:
        """The server's key files (``--data-dir``)."""
        return self.workdir / "data"

    @property
    def base(self) -> str:
        """The server's address."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The environment of the server and of the CLI commands run against its database."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAYLAU_")}
        env["SAYLAU_DATABASE_URL"] = self.url
        env["SAYLAU_DATA_DIR"] = str(self.data_dir)
        env["PYTHONFAULTHANDLER"] = "1"  # SIGABRT dumps every thread's stack (``start``'s diagnosis)
        env.update(self.extra_env)
        return env

    def cli(
        self, *args: str, password: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``saylau ARGS`` against the server's database and data directory."""
        env = self.env()
        if password is not None:
            env["SAYLAU_PASSWORD"] = password
        done = subprocess.run(
            [SAYLAU, *args], env=env, capture_output=True, text=True, timeout=600, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"saylau {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    def command(self) -> list[str]:
        """The ``saylau serve`` command line."""
        return [
            SAYLAU,
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--verify-processes",
            str(self.verify_processes),
            "--job-workers",
            "1",
            "--log-level",
            "info",
            *self.extra_args,
        ]

    def start(self, timeout: float = 300.0) -> float:
        """Start the server and wait until ``/health`` answers; return the seconds it took."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / f"server-{self.starts}.log", "wb")  # noqa: SIM115 (the child holds it)
        self.starts += 1
        t0 = time.monotonic()
        self.process = subprocess.Popen(
            self.command(), cwd=self.workdir, env=self.env(), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = t0 + timeout
        with httpx.Client(timeout=2) as c:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"the server exited ({self.process.returncode}): {self.last_log()}")
                try:
                    if c.get(f"{self.base}/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    self.process.send_signal(signal.SIGABRT)  # faulthandler writes where each thread is
                    self.process.wait(30)
                    raise AssertionError(
                        f"the server did not answer /health in {timeout} s: {self.last_log()}"
                    )
                time.sleep(0.05)
        self.family |= descendants(self.process.pid)
        return time.monotonic() - t0

    def last_log(self) -> str:
        """The end of the latest server log (for assertion messages)."""
        path = self.workdir / f"server-{self.starts - 1}.log"
        if not path.exists():
            return ""
        lines = [x for x in path.read_text(errors="replace").splitlines() if '"POST /api' not in x]
        return "\n".join(lines)[-20000:]

    def kill(self, grace: float = 60.0) -> list[int]:
        """SIGKILL the server process alone (as a crash would); return the descendants still alive after
        ``grace`` seconds (none, if the verification processes exit with their server)."""
        assert self.process is not None
        self.family |= descendants(self.process.pid)
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        return self.wait_family_gone(grace)

    def stop(self, grace: float = 30.0) -> list[int]:
        """Stop the server as an operator does (SIGTERM); return any descendant still alive after it."""
        if self.process is None or self.process.poll() is not None:
            return self.wait_family_gone(grace)
        self.family |= descendants(self.process.pid)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"the server did not stop within {grace} s of SIGTERM") from None
        return self.wait_family_gone(grace)

    def wait_family_gone(self, grace: float) -> list[int]:
        """Wait up to ``grace`` seconds for every process the server ever had; return those still alive."""
        deadline = time.monotonic() + grace
        while (left := sorted(p for p in self.family if alive(p))) and time.monotonic() < deadline:
            time.sleep(0.05)
        return left

    def cleanup(self) -> None:
        """End whatever this server left running (only the pids it started)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        for pid in self.family:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
