"""Load and overload: ``saylau serve`` on loopback offered increasing rates of ballots, then a normal rate.

The server runs as its own process (``saylau serve``, 2 verification processes, its default admission
bounds unless told otherwise) with an election open for voting (the reliability tests' set-up: voters
checked in beforehand, booth devices registered). The load client is open-loop: requests arrive at the
offered rate whatever the server answers (asyncio, prepared HTTP/1.1 bytes on one keep-alive connection
per device, so the client costs the shared cores little). Each device casts its ballots in chain order
and has at most one request outstanding; a ballot refused with 503 is sent again at the device's next
turn. An arrival that finds every device busy is counted as ``no device`` (the clients' own backlog).
An eighth of the devices is kept back for the last (recovery) phase, so it has ballots left to cast.

Per offered rate, for a fixed time each: accepted ballots per second, p50 / p99 latency of accepted
casts and of all answers, and the answers by status (201, 503 with ``Retry-After``, 5xx, other) —
then the last phase drops back to a normal rate, which must succeed again. After the run the board must
hold every acknowledged ballot exactly once.

Usage: python benchmarks/bench_load.py [--backend sqlite|postgres|both] [--rates 20,50,100,200,400,800]
       [--seconds 4] [--recovery-rate 20] [--max-cast-requests N] [--max-verify-queue N] [--plot]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the live server and election set-up beside the tests using them

from reliability.live_election import P, open_live_election  # noqa: E402
from reliability.live_server import PASSWORD, LiveServer  # noqa: E402
from saylau.board import read_jsonl  # noqa: E402
from saylau.voting.device import VotingDevice  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SELECTIONS = ("cand-a", "cand-b", "against-all")


@dataclass
class Device:
    """A booth device's ballots (prepared request bodies with their credentials), cast in order."""

    device_id: str
    ballots: deque[tuple[bytes, str]]  # (request bytes, tracking code)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None


@dataclass
class Phase:
    """What one offered rate gave."""

    rate: float
    seconds: float
    offered: int = 0
    no_device: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    retry_after_missing: int = 0
    accepted_latency: list[float] = field(default_factory=list)
    all_latency: list[float] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        """The phase's figures."""

        def pct(xs: list[float], q: float) -> float | None:
            if not xs:
                return None
            xs = sorted(xs)
            return round(1000 * xs[min(len(xs) - 1, int(q * len(xs)))], 1)

        five = sum(n for s, n in self.statuses.items() if s >= 500 and s != 503)
        other = sum(n for s, n in self.statuses.items() if s not in (201, 503) and s < 500)
        return {
            "offered_per_s": self.rate,
            "seconds": self.seconds,
            "offered": self.offered,
            "accepted_per_s": round(self.statuses[201] / self.seconds, 1),
            "p50_ms": pct(self.accepted_latency, 0.5),
            "p99_ms": pct(self.accepted_latency, 0.99),
            "p99_all_ms": pct(self.all_latency, 0.99),
            "201": self.statuses[201],
            "503": self.statuses[503],
            "5xx": five,
            "other": other,
            "transport": self.transport_errors,
            "no_device": self.no_device,
            "retry_after_missing": self.retry_after_missing,
        }


def _request(host: str, path: str, credential: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {credential}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _exchange(port: int, device: Device, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one request on the device's connection (opened again if the server closed it)."""
    for attempt in (0, 1):
        if device.writer is None or device.writer.is_closing():
            device.reader, device.writer = await asyncio.open_connection("127.0.0.1", port)
        assert device.reader is not None
        try:
            device.writer.write(request)
            await device.writer.drain()
            status_line = await device.reader.readline()
            if not status_line:
                raise ConnectionError("closed")
            headers: dict[str, str] = {}
            while True:
                line = await device.reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await device.reader.readexactly(int(headers.get("content-length", "0")))
            if headers.get("connection") == "close":
                device.writer.close()
                device.writer = None
            return int(status_line.split()[1]), headers, body
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            device.writer = None
            if attempt:
                raise
    raise AssertionError("unreachable")


async def _phase(port: int, idle: deque[Device], phase: Phase, acked: list[str], done: list[int]) -> None:
    """Offer ``phase.rate`` requests per second for ``phase.seconds``; wait for the answers."""
    tasks: set[asyncio.Task[None]] = set()

    async def cast(device: Device) -> None:
        request, code = device.ballots[0]
        t0 = time.perf_counter()
        try:
            status, headers, _body = await _exchange(port, device, request)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            phase.transport_errors += 1
            idle.append(device)
            return
        latency = time.perf_counter() - t0
        phase.statuses[status] += 1
        phase.all_latency.append(latency)
        if status in (200, 201):
            device.ballots.popleft()
            acked.append(code)
            if status == 201:
                phase.accepted_latency.append(latency)
        elif status == 503 and "retry-after" not in headers:
            phase.retry_after_missing += 1
        if device.ballots and status in (200, 201, 503, 429):
            idle.append(device)  # otherwise the device is out of ballots, or its chain is broken: retired
        else:
            done[0] += 1

    start = time.perf_counter()
    n = int(phase.rate * phase.seconds)
    for i in range(n):
        delay = start + i / phase.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        phase.offered += 1
        if not idle:
            phase.no_device += 1
            continue
        task = asyncio.create_task(cast(idle.popleft()))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks)


def _prepare(live: Any, server: LiveServer, devices: list[str], per_device: int) -> list[Device]:
    params = live.election.params
    host, path = f"127.0.0.1:{server.port}", f"{P}/elections/{live.id}/ballots"
    out = []
    for k, device_id in enumerate(devices):
        station = device_id[:4]
        device = VotingDevice(params, device_id, station)
        queue: deque[tuple[bytes, str]] = deque()
        for i, credential in enumerate(live.take_credentials(station, per_device)):
            pending = device.encrypt({"president": [SELECTIONS[(k + i) % 3]]}, "main")
            device.cast(pending)
            body = {"ballot": pending.ballot.to_dict(), "device_id": device_id}
            queue.append((_request(host, path, credential, body), pending.ballot.code.hex()))
        out.append(Device(device_id, queue))
    return out


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """One backend: start the server, set up the election, offer every rate, check the board."""
    work = Path(tempfile.mkdtemp(prefix=f"saylau-load-{backend}-"))
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{work / 'saylau.db'}"
    else:
        import psycopg

        schema = f"load_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    limits = (
        "--max-cast-requests",
        str(args.max_cast_requests),
        "--max-verify-queue",
        str(args.max_verify_queue),
    )
    server = LiveServer(url, work / "server", verify_processes=args.verifiers, extra_args=limits)
    rates = [float(r) for r in args.rates.split(",")]
    phases = [Phase(r, args.seconds) for r in rates] + [Phase(args.recovery_rate, args.seconds)]
    per_device = args.ballots_per_device
    devices = [f"st-{1 + k % 2}-load{k}" for k in range(args.devices)]
    try:
        server.cli("user", "add", "cec", "--role", "cec", password=PASSWORD)
        server.start()
        with httpx.Client(base_url=server.base, timeout=120) as c:
            print(
                f"{backend}: setting up {len(devices) * per_device} voters and ballots ...", file=sys.stderr
            )
            live = open_live_election(c, len(devices) * per_device, devices)
            prepared = _prepare(live, server, devices, per_device)
            reserve = max(1, len(prepared) // 8)  # devices kept for the recovery phase: ballots left to cast
            idle: deque[Device] = deque(prepared[:-reserve])
            acked: list[str] = []
            retired = [0]

            async def all_phases() -> None:
                for k, phase in enumerate(phases):
                    if k == len(phases) - 1:
                        idle.extend(prepared[-reserve:])
                    await _phase(server.port, idle, phase, acked, retired)
                    print(f"{backend}: {phase.row()}", file=sys.stderr)
                for d in prepared:
                    if d.writer is not None:
                        d.writer.close()

            asyncio.run(all_phases())
            board = read_jsonl(c.get(f"{P}/elections/{live.id}/board").text.splitlines())
        codes = Counter(r["code"] for r in board if r.get("type") == "entry" and r.get("kind") == "ballot")
        return {
            "backend": backend,
            "max_cast_requests": args.max_cast_requests,
            "max_verify_queue": args.max_verify_queue,
            "phases": [p.row() for p in phases],
            "acknowledged": len(acked),
            "on_board": sum(codes.values()),
            "missing": sum(1 for code in acked if codes[code] == 0),
            "duplicated": sum(n - 1 for n in codes.values() if n > 1),
            "leftovers": server.stop(),
        }
    finally:
        server.cleanup()
        if schema is not None:
            import psycopg

            with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['backend']} (max cast requests {result['max_cast_requests']}, max verify queue "
        f"{result['max_verify_queue']}): {result['acknowledged']} acknowledged, {result['on_board']} on the "
        f"board, {result['missing']} missing, {result['duplicated']} duplicated",
        "| offered/s | accepted/s | p50 ms | p99 ms | p99 all answers ms | 201 | 503 | 5xx | other | "
        "transport | no device |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in result["phases"]:
        lines.append(
            f"| {p['offered_per_s']:g} | {p['accepted_per_s']} | {p['p50_ms']} | {p['p99_ms']} | "
            f"{p['p99_all_ms']} | {p['201']} | {p['503']} | {p['5xx']} | {p['other']} | {p['transport']} | "
            f"{p['no_device']} |"
        )
    return "\n".join(lines)


def _plot(results: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for r in results:
        xs = [f"{p['offered_per_s']:g}" for p in r["phases"]]
        axes[0].plot(
            xs, [p["accepted_per_s"] for p in r["phases"]], marker="o", label=f"{r['backend']} accepted"
        )
        axes[0].plot(
            xs, [p["503"] / p["seconds"] for p in r["phases"]], ls="--", label=f"{r['backend']} 503/s"
        )
        axes[1].plot(xs, [p["p99_ms"] or 0 for p in r["phases"]], marker="o", label=f"{r['backend']} p99")
    axes[0].set(xlabel="offered ballots/s (last: recovery)", ylabel="per second")
    axes[1].set(xlabel="offered ballots/s (last: recovery)", ylabel="ms")
    for ax in axes:
        ax.legend()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rates", default="20,50,100,200,400,800")
    parser.add_argument("--recovery-rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--devices", type=int, default=128)
    parser.add_argument("--ballots-per-device", type=int, default=30)
    parser.add_argument("--verifiers", type=int, default=2)
    parser.add_argument("--max-cast-requests", type=int, default=256)
    parser.add_argument("--max-verify-queue", type=int, default=2048)
    parser.add_argument("--plot", action="store_true", help="write build/bench_load.png")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = [run(b, args) for b in backends]
    for r in results:
        print(_table(r))
    if args.plot:
        _plot(results, ROOT / "build" / "bench_load.png")
    print(json.dumps(results))
    bad = any(
        r["missing"] or r["duplicated"] or any(p["5xx"] or p["retry_after_missing"] for p in r["phases"])
        for r in results
    )
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
