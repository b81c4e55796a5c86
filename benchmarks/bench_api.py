"""Accepted ballots per second through the HTTP API on loopback, every proof verified by the server.

Starts ``saylau serve`` (uvicorn) in a subprocess on SQLite and on PostgreSQL, runs a key ceremony and a
voter roll through the API, registers one booth device per client thread and station, checks the voters
in at their stations, pre-encrypts the ballots (7 options: the kz-2022 ballot), then casts
them from several client threads with httpx and reports accepted ballots per second. Goal (issue 4): at
least 500 ballots/s on a 2-core machine.

With ``--batch N`` the ballots go up as polling-station devices sync them, N per request
(``POST /ballots/batch``, each ballot still verified and answered on its own).

``--suite`` (what ``make bench`` runs) measures, in one server run per backend: single-ballot requests
(32 connections, lean client), station batches of 100, and single requests offered open-loop at 300/s
(p50/p99 latency from each request's scheduled arrival); ``--prefill N`` first casts N distinct real
ballots so that the phases run on a fuller database.

Usage: python benchmarks/bench_api.py [--ballots N] [--threads T] [--workers W] [--backend B] [--batch N]
       [--lean-client] [--rate R] [--suite] [--prefill N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.progress import Progress

from db_size import database_bytes_per_ballot
from saylau.crypto import ElectionParameters, EncryptedShare, Guardian, GuardianRecord
from saylau.election.voter_roll import make_iin
from saylau.voting.device import VotingDevice

PASSWORD = "bench password"
OPTIONS = ["tokayev", "dairabayev", "abden", "kazhyken", "auesbayev", "tursynbekova", "against-all"]
SAYLAU = str(Path(sys.executable).parent / "saylau")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _manifest() -> dict[str, Any]:
    def n(t: str) -> dict[str, str]:
        return {"kk": t, "ru": t, "en": t}

    sels = [
        {"selection_id": s, "kind": "against_all" if s == "against-all" else "candidate", "name": n(s)}
        for s in OPTIONS
    ]
    stations = [{"station_id": f"st-{i}", "name": n(f"st-{i}"), "time_zone": "Asia/Almaty"} for i in range(2)]
    # the server casts only within a station's voting hours, on its own clock: polls are open now
    now = datetime.now(ZoneInfo("Asia/Almaty")).replace(microsecond=0)
    opens, closes = now - timedelta(hours=2), now + timedelta(hours=10)
    return {
        "election_id": "bench",
        "name": n("bench"),
        "election_date": opens.date().isoformat(),
        "voting_opens": opens.isoformat(),
        "voting_closes": closes.isoformat(),
        "contests": [
            {"contest_id": "president", "name": n("President"), "votes_allowed": 1, "selections": sels}
        ],
        "ballot_styles": [{"style_id": "main", "contest_ids": ["president"]}],
        "regions": [
            {
                "region_id": "r",
                "name": n("r"),
                "districts": [{"district_id": "d", "name": n("d"), "stations": stations}],
            }
        ],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_fresh_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def _tree(pid: int) -> list[int]:
    """``pid`` and every descendant (the verification workers are grandchildren, via the forkserver)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(c for c, pp in parents.items() if pp == p)
    return out


def _cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time (user + system) of ``pid`` and its descendants, per process."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[p] = (int(fields[11]) + int(fields[12])) / tick
    return out


def _start_pyspy(pid: int, out: str) -> subprocess.Popen[bytes]:
    """Sample the server and its verification workers (py-spy, raw folded stacks) until SIGINT."""
    cmd = [str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw", "--subprocesses",
           "--rate", "250", "--pid", str(pid), "-o", out]
    spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach
    return spy


def _cmdline(pid: int) -> str:
    try:
        return f"{pid} " + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return str(pid)


def _saylau(*args: str, env: dict[str, str]) -> None:
    subprocess.run([SAYLAU, *args], check=True, env=env, capture_output=True)


@dataclass(frozen=True)
class Phase:
    """One way of casting, measured on its own voters and devices: closed-loop single or batched
    requests (as fast as the connections go), or single requests arriving open-loop at ``rate``/s."""

    name: str
    ballots: int
    threads: int
    batch: int = 0
    lean: bool = False
    rate: float = 0.0  # > 0: open loop at this offered rate (lean client), latency percentiles


def run(
    backend: str,
    phases: list[Phase],
    workers: int,
    verifiers: int,
    console: Console,
) -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix=f"saylau-bench-{backend}-"))
    url = f"sqlite:///{tmp / 'bench.db'}" if backend == "sqlite" else _pg_fresh_database("saylau_bench")
    env = {
        **os.environ,
        "SAYLAU_DATABASE_URL": url,
        "SAYLAU_PASSWORD": PASSWORD,
        "SAYLAU_BOARD_KEY": str(tmp / "k.pem"),
        "SAYLAU_REVOTE_KEY": str(tmp / "revote.key"),
    }
    _saylau("user", "add", "cec", "--role", "cec", env=env)
    port = _free_port()
    prof = os.environ.get("SAYLAU_BENCH_PYSPY")  # e.g. build/pyspy: profile the server while casting
    server = subprocess.Popen(
        [
            SAYLAU,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--job-workers",
            "1",
            "--verify-processes",
            str(verifiers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "server.log", "w"),  # noqa: SIM115
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        with httpx.Client(timeout=60) as c:
            deadline = time.monotonic() + 300  # start-up (migrations, check, warm workers) on busy cores
            while True:
                try:
                    if c.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"server did not start; see {tmp / 'server.log'}") from None
                    time.sleep(0.2)
            results = _drive(c, base, backend, phases, workers, console, server.pid, prof)
    finally:
        server.terminate()
        server.wait(60)
    db = database_bytes_per_ballot(url)
    return [{**r, "verify_processes": verifiers, "database": db} for r in results]


def _raw_post(host: str, path: str, credential: str, body: dict[str, Any]) -> bytes:
    """One complete HTTP/1.1 request, serialised before the clock starts (the lean client's load)."""
    data = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {credential}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _lean_connection(port: int, requests: list[bytes]) -> tuple[int, list[str]]:
    """Send ``requests`` one after another on one keep-alive connection; count the 201 answers.

    A load generator that costs the shared 2 cores little: no HTTP library, requests prepared in
    advance, responses read by ``Content-Length`` (the server answers every cast with a JSON body).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    ok, errors = 0, []
    try:
        for req in requests:
            writer.write(req)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            if status_line.split()[1:2] == [b"201"]:
                ok += 1
            else:
                errors.append((status_line + body).decode(errors="replace")[:200])
    finally:
        writer.close()
    return ok, errors


async def _lean_cast(port: int, per_connection: list[list[bytes]]) -> list[tuple[int, list[str]]]:
    return list(await asyncio.gather(*(_lean_connection(port, reqs) for reqs in per_connection)))


async def _open_loop(
    port: int, per_connection: list[list[bytes]], rate: float, count: int
) -> tuple[int, list[str], list[float]]:
    """Offer ``count`` single-ballot requests at ``rate``/s whatever the server answers (open loop).

    Arrivals are scheduled at fixed intervals and queue for a free connection (each connection is one
    device with at most one request out, so its chain stays in order); a request's latency runs from its
    scheduled arrival to its answer, so the wait behind a slow answer is counted (no coordinated
    omission). Returns the 201 count, the other answers, and every accepted request's latency in seconds.
    """
    arrivals: asyncio.Queue[float | None] = asyncio.Queue()
    latencies: list[float] = []
    errors: list[str] = []
    ok = 0

    async def connection(requests: list[bytes]) -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for req in requests:
                arrived = await arrivals.get()
                if arrived is None:
                    return
                writer.write(req)
                status_line = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                if status_line.split()[1:2] == [b"201"]:
                    ok += 1
                    latencies.append(time.perf_counter() - arrived)
                else:
                    errors.append((status_line + body).decode(errors="replace")[:200])
        finally:
            writer.close()

    async def produce() -> None:
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            arrivals.put_nowait(start + i / rate)
        for _ in per_connection:
            arrivals.put_nowait(None)

    await asyncio.gather(produce(), *(connection(reqs) for reqs in per_connection))
    return ok, errors, latencies


def _login(c: httpx.Client, base: str, user: str) -> dict[str, str]:
    r = c.post(f"{base}/auth/login", json={"username": user, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _drive(
    c: httpx.Client,
    base: str,
    backend: str,
    phases: list[Phase],
    workers: int,
    console: Console,
    server_pid: int,
    prof: str | None = None,
) -> list[dict[str, Any]]:
    """Set up one election with voters and devices for every phase, then cast phase after phase."""
    n = sum(ph.ballots for ph in phases)
    cec = _login(c, base, "cec")
    kz_iin = {"name": "IIN", "validator": "kz-iin", "column": "iin"}  # the roll below is of IINs
    body = {"manifest": _manifest(), "guardians": 3, "quorum": 2, "voter_id": kz_iin}
    r = c.post(f"{base}/elections", json=body, headers=cec)
    r.raise_for_status()
    base_hash = bytes.fromhex(r.json()["base_hash"])
    guardians = [Guardian.generate(i, 3, 2, base_hash) for i in (1, 2, 3)]
    hdr = {}
    for g in guardians:
        c.post(
            f"{base}/users",
            headers=cec,
            json={
                "username": f"g{g.index}",
                "password": PASSWORD,
                "role": "guardian",
                "election_id": "bench",
                "guardian_index": g.index,
            },
        ).raise_for_status()
        hdr[g.index] = _login(c, base, f"g{g.index}")
        c.post(
            f"{base}/elections/bench/guardians/{g.index}/record",
            json={"record": g.public_record().to_dict()},
            headers=hdr[g.index],
        ).raise_for_status()
    recs = {g.index: GuardianRecord.from_dict(g.public_record().to_dict()) for g in guardians}
    for g in guardians:
        shares = [{"recipient": o, "share": g.share_for(o, recs[o]).to_dict()} for o in recs if o != g.index]
        c.post(
            f"{base}/elections/bench/guardians/{g.index}/shares",
            json={"shares": shares},
            headers=hdr[g.index],
        ).raise_for_status()
    for g in guardians:
        for item in c.get(f"{base}/elections/bench/guardians/{g.index}/shares", headers=hdr[g.index]).json():
            g.receive_share(EncryptedShare.from_dict(item["share"]), recs[item["sender"]])
        g.finish()
        c.post(f"{base}/elections/bench/guardians/{g.index}/finish", headers=hdr[g.index]).raise_for_status()
    r = c.post(f"{base}/elections/bench/key", headers=cec)
    r.raise_for_status()
    params = ElectionParameters.from_dict(r.json()["parameters"])
    born = [date(1950, 1, 1) + timedelta(days=i) for i in range(n)]  # one birthday each: distinct IINs
    iins = [make_iin(b, i % 2 == 1, 100) for i, b in enumerate(born)]
    roll = ["iin,last_name,first_name,date_of_birth,region,station"]
    roll += [f"{iin},V{i},Bench,{born[i]},r,st-{i % 2}" for i, iin in enumerate(iins)]
    c.post(
        f"{base}/elections/bench/roll", content="\n".join(roll), headers={**cec, "Content-Type": "text/csv"}
    ).raise_for_status()
    c.post(f"{base}/elections/bench/open", headers=cec).raise_for_status()
    station_hdr: dict[int, dict[str, str]] = {}
    for st in range(2):
        c.post(
            f"{base}/users",
            headers=cec,
            json={
                "username": f"station{st}",
                "password": PASSWORD,
                "role": "station",
                "election_id": "bench",
                "station_id": f"st-{st}",
            },
        ).raise_for_status()
        station_hdr[st] = _login(c, base, f"station{st}")
    creds: list[str] = []
    payloads: list[dict[str, Any]] = []
    # per phase, one booth device per client connection and station, registered by the station's
    # commission; each connection submits its devices' ballots in chain order
    devices: dict[tuple[int, int, int], VotingDevice] = {}
    for k, ph in enumerate(phases):
        for t in range(ph.threads):
            for s in range(2):
                devices[(k, t, s)] = VotingDevice(params, f"st-{s}-p{k}-t{t}", f"st-{s}")
    for (_, _, s), device in devices.items():
        c.post(
            f"{base}/elections/bench/stations/st-{s}/devices",
            json={"device_id": device.device_id},
            headers=station_hdr[s],
        ).raise_for_status()
    owner: list[tuple[int, int]] = []  # (phase, connection) of each ballot; ballot i is at station i % 2
    for k, ph in enumerate(phases):
        owner += [(k, j % ph.threads) for j in range(ph.ballots)]
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"{backend}: check-ins and encrypted ballots", total=n)
        for i in range(n):
            r = c.post(
                f"{base}/elections/bench/stations/st-{i % 2}/checkin",
                json={"iin": iins[i]},
                headers=station_hdr[i % 2],
            )
            r.raise_for_status()
            creds.append(r.json()["credential"])  # in person: the ballot carries no revote tag
            device = devices[(*owner[i], i % 2)]
            pending = device.encrypt({"president": [OPTIONS[i % len(OPTIONS)]]}, "main")
            device.cast(pending)
            payloads.append({"ballot": pending.ballot.to_dict(), "device_id": device.device_id})
            progress.advance(task)
    results = []
    first = 0
    for ph in phases:
        mine = list(range(first, first + ph.ballots))
        first += ph.ballots
        profile = f"{prof}-{backend}-{ph.name}.txt" if prof else None
        stored = c.get(f"{base}/elections/bench/board").text.count('"kind":"ballot"')
        out = _cast_phase(
            c, base, backend, ph, mine, owner, creds, payloads, station_hdr, console, server_pid, profile
        )
        results.append({**out, "uvicorn_workers": workers, "ballots_stored_before": stored})
    return results


def _cast_phase(
    c: httpx.Client,
    base: str,
    backend: str,
    ph: Phase,
    mine: list[int],
    owner: list[tuple[int, int]],
    creds: list[str],
    payloads: list[dict[str, Any]],
    station_hdr: dict[int, dict[str, str]],
    console: Console,
    server_pid: int,
    profile: str | None,
) -> dict[str, Any]:
    """Cast one phase's ballots (``mine``) and measure: accepted/s, CPU per ballot, latency if open loop."""
    threads, batch, lean = ph.threads, ph.batch, ph.lean or ph.rate > 0
    by_thread = {t: [i for i in mine if owner[i][1] == t] for t in range(threads)}
    accepted = [0] * threads
    errors: list[str] = []

    def batch_worker(t: int) -> None:
        """Upload this thread's ballots as a station device would: per station, ``batch`` at a time."""
        with httpx.Client(timeout=300) as wc:
            for st in range(2):
                theirs = [i for i in by_thread[t] if i % 2 == st]
                for k in range(0, len(theirs), batch):
                    items = [{**payloads[i], "credential": creds[i]} for i in theirs[k : k + batch]]
                    url = f"{base}/elections/bench/ballots/batch"
                    resp = wc.post(url, json={"ballots": items}, headers=station_hdr[st])
                    if resp.status_code != 200:
                        errors.append(resp.text[:200])
                        continue
                    out = resp.json()
                    accepted[t] += out["accepted"]
                    errors.extend(str(r)[:200] for r in out["results"] if r["status"] != 201)

    def worker(t: int) -> None:
        with httpx.Client(timeout=120) as wc:
            for i in by_thread[t]:
                resp = wc.post(
                    f"{base}/elections/bench/ballots",
                    json=payloads[i],
                    headers={"Authorization": f"Bearer {creds[i]}"},
                )
                if resp.status_code == 201:
                    accepted[t] += 1
                else:
                    errors.append(resp.text[:200])

    raw_requests: list[list[bytes]] = []
    if lean and not batch:
        host = base.split("//", 1)[1].split("/", 1)[0]
        path = "/" + base.split("//", 1)[1].split("/", 1)[1] + "/elections/bench/ballots"
        raw_requests = [
            [_raw_post(host, path, creds[i], payloads[i]) for i in by_thread[t]] for t in range(threads)
        ]

    n = len(mine)
    latencies: list[float] = []
    with console.status(f"{backend}: {ph.name}, casting {n} ballots from {threads} connections ..."):
        spy = _start_pyspy(server_pid, profile) if profile else None
        cpu0 = _cpu_seconds(server_pid)
        client0 = time.process_time()
        start = time.perf_counter()
        port = int(base.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        if ph.rate > 0:
            ok_count, errs, latencies = asyncio.run(_open_loop(port, raw_requests, ph.rate, n))
            accepted[0] += ok_count
            errors.extend(errs)
        elif raw_requests:
            outcome = asyncio.run(_lean_cast(port, raw_requests))
            for t, (ok_count, errs) in enumerate(outcome):
                accepted[t] += ok_count
                errors.extend(errs)
        else:
            target = batch_worker if batch else worker
            ts = [threading.Thread(target=target, args=(t,)) for t in range(threads)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - client0
        cpu1 = _cpu_seconds(server_pid)
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes the profile of the casting phase only
            spy.wait(60)
    main_cpu = cpu1.get(server_pid, 0.0) - cpu0.get(server_pid, 0.0)
    per_process = {
        _cmdline(p)[:60]: round(v - cpu0.get(p, 0.0), 2) for p, v in cpu1.items() if v - cpu0.get(p, 0.0) > 0
    }
    all_cpu = sum(v - cpu0.get(p, 0.0) for p, v in cpu1.items())
    ok = max(sum(accepted), 1)
    board = c.get(f"{base}/elections/bench/board").text.count('"kind":"ballot"')
    latencies.sort()
    return {
        "backend": backend,
        "mode": ph.name,
        "batch": batch,
        "offered_per_second": ph.rate or None,
        "latency_ms_p50": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        "latency_ms_p99": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
        "ballots": n,
        "accepted": sum(accepted),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "seconds": round(elapsed, 3),
        "ballots_per_second": round(sum(accepted) / elapsed, 1),
        # CPU the server spent per accepted ballot: the main process (HTTP, auth, writer) and in all
        # (with the verification workers); 2 cores / cpu_ms is the rate a free 2-core machine allows
        "server_cpu_ms_per_ballot": round(1000 * all_cpu / ok, 2),
        "server_main_cpu_ms_per_ballot": round(1000 * main_cpu / ok, 2),
        "cpu_bound_ballots_per_second_on_2_cores": round(2 * ok / max(all_cpu, 1e-9), 1),
        # the load generator runs on the same 2 cores: its CPU per ballot is taken from the server's share
        "client": "lean" if raw_requests else "httpx",
        "client_cpu_ms_per_ballot": round(1000 * client_cpu / ok, 2),
        "machine_load_average": round(os.getloadavg()[0], 2),
        "server_cpu_seconds_by_process": per_process,
        "threads": threads,
        "board_ballot_entries": board,
        "selections_per_ballot": len(OPTIONS),
    }


def suite(ballots: int, threads: int) -> list[Phase]:
    """What ``make bench`` measures on each backend, in one server run: closed-loop single requests,
    station batches of 100, and single requests offered open-loop at 300/s (latency)."""
    return [
        Phase("single", ballots, threads, lean=True),
        Phase("batched", ballots, threads, batch=100),
        Phase("open-loop 300/s", max(600, ballots // 2), threads, rate=300.0),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ballots", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--verifiers", type=int, default=2, help="proof-verification processes")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--batch", type=int, default=0, help="upload N ballots per request as station devices (0: one each)"
    )
    parser.add_argument(
        "--lean-client",
        dest="lean",
        action="store_true",
        help="one request per ballot from a prepared-bytes asyncio client (little CPU on the shared cores)",
    )
    parser.add_argument(
        "--rate", type=float, default=0.0, help="offer single requests open-loop at this rate (p50/p99)"
    )
    parser.add_argument(
        "--suite",
        action="store_true",
        help="single, batched (100) and open-loop 300/s, in one server run per backend (make bench)",
    )
    parser.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="first cast this many distinct real ballots (batched), so the phases run on a fuller database",
    )
    args = parser.parse_args()
    console = Console(stderr=True)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    a = args
    if a.suite:
        phases = suite(a.ballots, a.threads)
    else:
        name = "open-loop" if a.rate else "batched" if a.batch else "single"
        phases = [Phase(name, a.ballots, a.threads, a.batch, a.lean, a.rate)]
    if a.prefill:
        phases = [Phase("prefill", a.prefill, a.threads, batch=100), *phases]
    results = [r for b in backends for r in run(b, phases, a.workers, a.verifiers, console)]
    for r in results:
        how = f"batches of {r['batch']}" if r["batch"] else f"one per request, {r['client']} client"
        if r["offered_per_second"]:
            how = f"offered {r['offered_per_second']:.0f}/s open loop, one per request"
        latency = (
            f"; latency p50 {r['latency_ms_p50']} ms, p99 {r['latency_ms_p99']} ms (goal < 100 at 300/s)"
            if r["latency_ms_p50"] is not None
            else ""
        )
        console.print(
            f"[bold]{r['backend']}[/] {r['mode']} ({how}; {r['ballots_stored_before']} ballots stored "
            f"before): {r['accepted']}/{r['ballots']} accepted in {r['seconds']} s = "
            f"[bold]{r['ballots_per_second']} ballots/s[/] (goal ≥ 500; {r['errors']} errors); server CPU "
            f"{r['server_cpu_ms_per_ballot']} ms/ballot ({r['server_main_cpu_ms_per_ballot']} in the main "
            f"process) = {r['cpu_bound_ballots_per_second_on_2_cores']}/s on 2 free cores; client CPU "
            f"{r['client_cpu_ms_per_ballot']} ms/ballot; load average {r['machine_load_average']}{latency}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
