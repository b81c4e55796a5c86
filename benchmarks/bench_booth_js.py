"""The voter's booth in JavaScript beside Python: ms to encrypt a 7-option ballot with all proofs.

One election (3 guardians, quorum 2; the kz-2022 race: vote for one of seven options, "against all"
included). Times, in the same run:

* Python's ``encrypt_ballot`` and ``verify_ballot`` (coincurve / libsecp256k1);
* the booth's ``encryptBallot`` in node (``bench_booth_js.mjs``): encryption, every proof, and the
  self-check (full verification and re-encryption) each ballot gets before it is sent; and its
  ``verifyBallot``; also what a page pays once when it loads (``prepareElection``: parameters checked,
  window tables for g and K built) and its first ballot (JIT cold);
* the same in headless Chromium (Debian's ``chromium``; skipped with a message if it is not installed),
  from ``booth_bench_page.html`` served on 127.0.0.1 with the vendored modules (``make js`` first).

Prints a table and one JSON line. The issue's goal: ≤ 300 ms per ballot in Chromium on this machine.

Usage: python benchmarks/bench_booth_js.py [--ballots N] [--rounds R] [--no-chromium]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from saylau.crypto import (
    ContestSpec,
    ElectionParameters,
    EncryptedBallot,
    encrypt_ballot,
    run_key_ceremony,
    verify_ballot,
)

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
STATIC = ROOT / "src" / "saylau" / "web" / "static"
KZ = ("abden", "auesbayev", "dairabayev", "kazhyken", "tokayev", "tursynbekova", "against_all")
STYLE = {"style_id": "ballot", "contest_ids": ["president"]}
CHOICES = {"president": ["tokayev"]}


def election() -> ElectionParameters:
    """The benchmark's election parameters."""
    base = hashlib.sha256(b"bench_booth_js").digest()
    _, key = run_key_ceremony(3, 2, base, random.Random(1))
    return ElectionParameters(base, key, (ContestSpec("president", KZ, 1),))


def bench_python(params: ElectionParameters, ballots: int, rounds: int) -> dict[str, Any]:
    """Best and median round of Python's encryption and verification, ms per ballot."""
    encrypt_ballot(params, "warm-0", "ballot", CHOICES)
    enc: list[float] = []
    ver: list[float] = []
    for _ in range(rounds):
        t = time.perf_counter()
        made = [encrypt_ballot(params, f"py-{i:06d}", "ballot", CHOICES)[0] for i in range(ballots)]
        enc.append((time.perf_counter() - t) * 1000 / ballots)
        t = time.perf_counter()
        for b in made:
            verify_ballot(params, b)
        ver.append((time.perf_counter() - t) * 1000 / ballots)
    return {
        "runtime": "Python (coincurve)",
        "encrypt_ms_per_ballot": min(enc),
        "encrypt_ms_median": sorted(enc)[len(enc) // 2],
        "verify_ms_per_ballot": min(ver),
        "verify_ms_median": sorted(ver)[len(ver) // 2],
    }


def bench_node(payload: dict[str, Any]) -> dict[str, Any]:
    """Run ``bench_booth_js.mjs`` in node."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed")
    proc = subprocess.run(
        [node, str(HERE / "bench_booth_js.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


class _Handler(SimpleHTTPRequestHandler):
    """Serves the repository's static booth files and benchmarks; takes the page's result by POST."""

    extensions_map = {  # noqa: RUF012
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
    }
    page = b""
    results: list[dict[str, Any]] = []  # noqa: RUF012 (set per server below)
    done = threading.Event()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(ROOT), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/bench":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(self.page)
            return
        allowed = ("/src/saylau/web/static/", "/benchmarks/booth_bench_core.mjs")
        if not self.path.startswith(allowed) or ".." in self.path:
            self.send_error(404)
            return
        super().do_GET()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).results.append(json.loads(body))
        self.send_response(204)
        self.end_headers()
        type(self).done.set()


def bench_chromium(payload: dict[str, Any], timeout: float = 300.0) -> dict[str, Any] | str:
    """Run the same loop in headless Chromium; return its figures, or why it could not run."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return "chromium is not installed (apt-get install -y chromium)"
    importmap_file = STATIC / "vendor" / "importmap.json"
    if not importmap_file.exists():
        return "the vendored modules are missing: run `make js`"
    imports = json.loads(importmap_file.read_text())["imports"]
    importmap = {"imports": {k: f"/src/saylau/web/static/{v}" for k, v in imports.items()}}
    template = (HERE / "booth_bench_page.html").read_text(encoding="utf-8")
    page = template.replace("__IMPORTMAP__", json.dumps(importmap))
    page = page.replace("__PAYLOAD__", json.dumps(payload))

    class Handler(_Handler):
        pass

    Handler.page = page.encode()
    Handler.results = []
    Handler.done = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bench"
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [
                browser,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={profile}",
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            finished = Handler.done.wait(timeout)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            server.shutdown()
            server.server_close()
    if not finished:
        return f"chromium did not report within {timeout:.0f} s"
    result = Handler.results[0]
    if "error" in result:
        return f"the page failed: {result['error']}"
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ballots", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-chromium", action="store_true")
    args = ap.parse_args()
    params = election()
    payload = {
        "election": params.to_dict(),
        "style": STYLE,
        "choices": CHOICES,
        "ballots": args.ballots,
        "rounds": args.rounds,
    }
    rows: list[dict[str, Any]] = [bench_python(params, args.ballots, args.rounds), bench_node(payload)]
    chromium = "skipped (--no-chromium)" if args.no_chromium else bench_chromium(payload)
    if isinstance(chromium, dict):
        rows.append(chromium)
    for r in rows[1:]:
        verify_ballot(params, EncryptedBallot.from_dict(r.pop("sample")))  # raises if the JS ballot is bad
    table = Table(title="7-option ballot (vote for one), 3 guardians: ms per ballot, best round (median)")
    for col in ("runtime", "page load: prepare", "first ballot", "encrypt + all proofs", "verify"):
        table.add_column(col)
    for r in rows:
        js = r["runtime"] != "Python (coincurve)"
        table.add_row(
            r["runtime"],
            f"{r['prepare_ms']:.1f}" if js else "",
            f"{r['first_ballot_ms']:.1f}" if js else "",
            f"{r['encrypt_ms_per_ballot']:.1f} ({r['encrypt_ms_median']:.1f})" + (" + self-check" * js),
            f"{r['verify_ms_per_ballot']:.1f} ({r['verify_ms_median']:.1f})",
        )
    console = Console(width=120)
    console.print(table)
    if isinstance(chromium, str):
        console.print(f"Chromium: {chromium}")
    print(json.dumps({"ballots": args.ballots, "rounds": args.rounds, "results": rows}))


if __name__ == "__main__":
    main()
