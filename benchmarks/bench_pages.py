"""Election-night load on the public results page: requests/s and latency on loopback, with ``wrk``.

Runs a small election to its decrypted results (``tests/web/public_seed.py``) on a SQLite file (or a
PostgreSQL schema with ``--backend postgres``), serves it with uvicorn (httptools, uvloop) in a
subprocess, and loads it with ``wrk`` (Debian package ``wrk``: ``apt-get install wrk``), a C load
generator, so the client is not the bottleneck. Runs of ``--seconds`` each (``--runs``):

- ``uncached``: the page rendered for every request (a new query string each time, so never from the
  cache): the cost of a miss, as every request cost before there was a cache;
- ``full``: ``GET /elections/{id}/results`` as a browser's first visit (``Accept-Encoding: gzip, br``,
  ``Accept-Language: ru``): every answer a 200 with the whole page;
- ``revalidate``: the same with ``If-None-Match`` (the ETag of the first answer): every answer a 304;
- ``mix``: a browser's first load (the page, its stylesheet) and the results JSON
  (``GET /api/v1/elections/{id}/results``) in turn;
- ``static``, ``api``: the stylesheet alone, the results JSON alone.

Each prints requests/s, p50 and p99 latency, the answers by status, and the CPU the server and
``wrk`` used (seconds of CPU per second of wall clock: 1.0 is one core; and the server's CPU per
request, which a machine shared with other work changes least). Goal: 1,000 req/s for the page on
the 2-core machine. Run: ``.venv/bin/python benchmarks/bench_pages.py``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")

APP = """
import os
from pathlib import Path
from saylau.api import Settings, create_app
tmp = Path(os.environ["BENCH_TMP"])
app = create_app(Settings(database_url=os.environ["BENCH_DB"],
                          db_schema=os.environ.get("BENCH_SCHEMA") or None,
                          board_key_file=tmp / "board.pem", revote_key_file=tmp / "revote.key",
                          job_workers=0, pool_size=8, verify_processes=0))
"""

# wrk's Lua: the paths in turn, the statuses counted per thread and summed at the end
LUA = """
local paths = {%(paths)s}
local unique = %(unique)s
n = 0
local threads = {}
i = 0
counts = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
function init(args) counts = {} end
function request()
  i = i %% #paths + 1
  if unique then
    n = n + 1
    return wrk.format("GET", paths[i] .. "?r=" .. id .. "-" .. n)
  end
  return wrk.format("GET", paths[i])
end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("status %%d %%d\\n", k, v)) end
  io.write(string.format("p50 %%d\\np99 %%d\\n", latency:percentile(50), latency:percentile(99)))
end
"""


def _seed(tmp: Path, backend: str, stack: ExitStack) -> tuple[str, str | None, str]:
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]
    from web.public_seed import databases, serve_decrypted  # the tests' helpers run the election via the API

    db = stack.enter_context(contextmanager(databases)(backend, tmp))
    gen = serve_decrypted(db, tmp)
    live = next(gen)
    gen.close()  # stop the in-process server; the subprocess below serves the same database
    return db.url, db.schema, live.election_id


def _cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) of the processes and their children still counted in /proc."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def _server_pids(root: int) -> list[int]:
    """The server process and its children (uvicorn's workers)."""
    ps = ["ps", "-o", "pid=", "--ppid", str(root)]
    out = subprocess.run(ps, check=False, capture_output=True, text=True).stdout
    return [root, *(int(p) for p in out.split())]


@dataclass
class Run:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    server_cpu: float
    wrk_cpu: float
    errors: str

    def line(self) -> str:
        answers = ", ".join(f"{n:,} × {s}" for s, n in sorted(self.statuses.items()))
        per_request = self.server_cpu / self.rate * 1e6 if self.rate else 0.0
        return (f"{self.name:<11} {self.rate:>8,.0f} req/s  p50 {self.p50_ms:6.2f} ms"
                f"  p99 {self.p99_ms:6.2f} ms  [{answers}]  CPU: server {self.server_cpu:.2f}"
                f" ({per_request:,.0f} µs a request), wrk {self.wrk_cpu:.2f}{self.errors}")


def _wrk(name: str, base: str, paths: list[str], headers: dict[str, str], unique: bool,
         args: argparse.Namespace, server: int, tmp: Path) -> Run:
    script = tmp / f"{name}.lua"
    script.write_text(LUA % {"paths": ", ".join(f'"{p}"' for p in paths), "unique": str(unique).lower()})
    cmd = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.seconds:g}s",
           "--latency", "-s", str(script)]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    pids = _server_pids(server)
    before = _cpu(pids)
    start = time.monotonic()
    proc = subprocess.Popen([*cmd, base], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    out = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"wrk failed: {out} {proc.stderr.read() if proc.stderr else ''}")
    server_cpu = (_cpu(pids) - before) / wall
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    statuses = {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", out, re.M)}
    p50 = int(re.search(r"^p50 (\d+)$", out, re.M).group(1)) / 1000  # type: ignore[union-attr]
    p99 = int(re.search(r"^p99 (\d+)$", out, re.M).group(1)) / 1000  # type: ignore[union-attr]
    errors = re.search(r"Socket errors:.*", out)
    return Run(name, rate, p50, p99, statuses, server_cpu, (usage.ru_utime + usage.ru_stime) / wall,
               f"  ({errors.group(0)})" if errors else "")


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1,
                    help="wrk threads (one keeps wrk off the server's core)")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--runs", default="uncached,full,revalidate,mix", help="which runs, comma-separated")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as d, ExitStack() as stack:
        tmp = Path(d)
        db_url, schema, eid = _seed(tmp, args.backend, stack)
        (tmp / "benchapp.py").write_text(APP)
        path = os.pathsep.join(p for p in (str(tmp), os.environ.get("PYTHONPATH", "")) if p)
        env = {**os.environ, "PYTHONPATH": path, "BENCH_TMP": str(tmp), "BENCH_DB": db_url,
               "BENCH_SCHEMA": schema or ""}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "benchapp:app", "--host", "127.0.0.1", "--port", str(args.port),
             "--workers", str(args.workers), "--loop", "uvloop", "--http", "httptools", "--log-level",
             "warning", "--no-access-log"],
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{args.port}"
            page = f"/elections/{eid}/results"
            _wait_up(base + page)
            browser = {"Accept-Language": "ru", "Accept-Encoding": "gzip, deflate, br"}
            first = httpx.get(base + page, headers={"Accept-Language": "ru"})
            css = httpx.get(base + "/static/css/site.css")
            zipped = httpx.get(base + page, headers=browser)
            print(f"{page}: {len(first.content):,} bytes of HTML ({zipped.num_bytes_downloaded:,} gzip), "
                  f"stylesheet {len(css.content):,} bytes; {args.workers} worker(s), {args.backend}, "
                  f"wrk {args.threads} thread(s) × {args.connections} connections")
            api = f"/api/v1/elections/{eid}/results"
            plan: dict[str, tuple[list[str], dict[str, str], bool]] = {
                "full": ([page], browser, False),
                "revalidate": ([page], {**browser, "If-None-Match": zipped.headers["etag"]}, False),
                "mix": ([page, "/static/css/site.css", api], browser, False),
                "static": (["/static/css/site.css"], browser, False),
                "api": ([api], browser, False),
                "uncached": ([page], browser, True),
            }
            for name in args.runs.split(","):
                paths, headers, unique = plan[name]
                print(_wrk(name, base, paths, headers, unique, args, server.pid, tmp).line(), flush=True)
        finally:
            server.terminate()
            server.wait(10)
    print("goal: 1,000 req/s for the results page")


if __name__ == "__main__":
    main()
