"""Requests per second of the public results page on loopback (election-night load).

Runs a small election to its decrypted results (``tests/web/public_seed.py``) on a SQLite file, serves it
with uvicorn in a subprocess (one worker), and loads ``/elections/{id}/results`` with an asyncio httpx
client (``--concurrency`` connections) for ``--seconds``; prints the figure (goal: 1,000 req/s on the
2-core machine). Run: ``.venv/bin/python benchmarks/bench_pages.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _seed(tmp: Path) -> tuple[str, str]:
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]
    from web.public_seed import Db, serve_decrypted  # the tests' helpers run the election via the API

    url = f"sqlite:///{tmp / 'saylau.db'}"
    gen = serve_decrypted(Db(url, None), tmp)
    live = next(gen)
    gen.close()  # stop the in-process server; the subprocess below serves the same database
    return url, live.election_id


APP = """
import sys
from pathlib import Path
from saylau.api import Settings, create_app
tmp = Path(sys.argv[1])
app = create_app(Settings(database_url=sys.argv[2], board_key_file=tmp / "board.pem",
                          revote_key_file=tmp / "revote.key", job_workers=0, pool_size=8, verify_processes=0))
"""


async def _load(url: str, seconds: float, concurrency: int) -> tuple[int, int]:
    done = errors = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, headers={"Accept-Language": "ru"}) as client:
        async def worker() -> None:
            nonlocal done, errors
            while time.monotonic() < stop:
                r = await client.get(url)
                if r.status_code == 200:
                    done += 1
                else:
                    errors += 1
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--path", default="/elections/{id}/results", help="another page, for comparison")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        db_url, eid = _seed(tmp)
        (tmp / "benchapp.py").write_text(APP)
        env = {**os.environ, "PYTHONPATH": str(tmp)}
        server = subprocess.Popen(
            [sys.executable, "-c",
             f"import sys; sys.argv=['x', {str(tmp)!r}, {db_url!r}]; import uvicorn, benchapp; "
             f"uvicorn.run(benchapp.app, host='127.0.0.1', port={args.port}, log_level='warning', "
             "access_log=False)"],
            env=env,
        )
        try:
            page = f"http://127.0.0.1:{args.port}" + args.path.replace("{id}", eid)
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(page, timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            size = len(httpx.get(page, headers={"Accept-Language": "ru"}).content)
            done, errors = asyncio.run(_load(page, args.seconds, args.concurrency))
        finally:
            server.terminate()
            server.wait(10)
    print(f"{args.path}: {done / args.seconds:,.0f} requests/s over {args.seconds:g} s "
          f"({args.concurrency} connections, {size:,} bytes, {errors} errors; goal 1,000 req/s)")


if __name__ == "__main__":
    main()
