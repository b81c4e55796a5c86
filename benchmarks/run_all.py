"""``make bench``: saylau's ballot benchmark and ElectionGuard 1.4.0's, in the same run, with the ratios.

Both run pinned to one core, one after the other (never at the same time). The peer runs in its own
Python 3.10 virtual environment (built on first use); without a 3.10 it is skipped with a message.
Goals (issue 2): at least 35x ElectionGuard's encryption throughput, 60x its verification throughput,
and a published ballot at most a tenth of its size. Figures are also written to
``benchmarks/results/latest.json`` (git-ignored).

Then (issues 4 and 12) accepted ballots per second through the server's HTTP API on SQLite and
PostgreSQL (``bench_api.py --suite``: single requests, station batches of 100, and the p50/p99 latency
of single requests offered at 300/s; ``--api-ballots 0`` skips it).

Then (issue 12), under "National scale" (``bench_national.py --show``): encryption and verification
ballots/s on 1 and 2 workers and on a Dask LocalCluster, whole-record verification per ballot per core,
the peak RSS of verifying records of 10 k, 100 k and 1 M ballots, the 1 M-ballot encrypted election end
to end and the extrapolation to the whole country here and on 64 cores, beside ElectionGuard 1.4.0's
per-ballot figures of this run. Long: the 1 M-ballot run takes hours on this shared machine
(``--skip-1m``; ``--national-ballots`` the other sizes; ``--no-national`` skips the section); each step
prints what it cost.

Usage: python benchmarks/run_all.py [--ballots N] [--peer-ballots N] [--api-ballots N] [--skip-1m]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peer_electionguard.run import run_peer  # noqa: E402

GOALS = {"encrypt": 35.0, "verify": 60.0, "size": 10.0}


def run_saylau(ballots: int) -> dict[str, Any]:
    """Run ``bench_ballots.py`` in a fresh process (pinned to one core there)."""
    proc = subprocess.run(
        [sys.executable, str(HERE / "bench_ballots.py"), "--ballots", str(ballots)],
        capture_output=True, text=True, check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


TIMES = ("encrypt_ms_per_ballot", "verify_ms_per_ballot", "tally_decrypt_s", "ceremony_s")


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first run's figures with every time replaced by the best (lowest) over the runs."""
    best = dict(runs[0])
    for key in TIMES:
        values = [r[key] for r in runs if isinstance(r.get(key), float | int)]
        if values:
            best[key] = min(values)
    best["repeats"] = len(runs)
    return best


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return str(v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ballots", type=int, default=300)
    parser.add_argument("--peer-ballots", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of both; best figures kept")
    parser.add_argument("--api-ballots", type=int, default=3200, help="ballots cast through the HTTP API")
    parser.add_argument("--no-national", action="store_true", help="skip the National scale section")
    parser.add_argument("--national-ballots", type=int, nargs="*", default=[10_000, 100_000],
                        help="record sizes whose verification memory is measured (besides 1 M)")
    parser.add_argument("--skip-1m", action="store_true", help="no 1 M-ballot election")
    parser.add_argument("--enc-scale", type=float, default=0.001, help="scale of the throughput runs")
    args = parser.parse_args()
    console = Console()

    ours_runs: list[dict[str, Any]] = []
    peer_runs: list[dict[str, Any]] = []
    for r in range(args.repeats):
        with console.status(f"[{r + 1}/{args.repeats}] saylau: encrypting and verifying on one core ..."):
            ours_runs.append(run_saylau(args.ballots))
        with console.status(f"[{r + 1}/{args.repeats}] ElectionGuard 1.4.0 (own Python 3.10 venv) ..."):
            peer_runs.append(run_peer(args.peer_ballots))
    ours = _best(ours_runs)
    peer = peer_runs[0] if any("skipped" in p for p in peer_runs) else _best(peer_runs)

    table = Table(title="7-option vote-for-one ballot, one core (3 guardians, quorum 2)")
    table.add_column("figure")
    table.add_column("saylau", justify="right")
    table.add_column("ElectionGuard 1.4.0", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("goal", justify="right")
    skipped = "skipped" in peer
    # (label, saylau's key, the peer's key, goal); the size goal compares saylau's whole record line
    # (ballot + station, device, state) with ElectionGuard's submitted ballot, the conservative pairing
    rows = [
        ("encrypt, ms per ballot", "encrypt_ms_per_ballot", "encrypt_ms_per_ballot", "encrypt"),
        ("verify, ms per ballot", "verify_ms_per_ballot", "verify_ms_per_ballot", "verify"),
        ("published ballot (record line), bytes", "record_line_bytes", "ballot_json_bytes", "size"),
        ("bare encrypted ballot, bytes", "ballot_json_bytes", "ballot_json_bytes", None),
        ("tally decryption, s", "tally_decrypt_s", "tally_decrypt_s", None),
        ("key ceremony, s", "ceremony_s", "ceremony_s", None),
    ]
    ratios: dict[str, float] = {}
    for label, key, peer_key, goal_key in rows:
        mine = ours.get(key)
        theirs = None if skipped else peer.get(peer_key)
        both = isinstance(theirs, float | int) and isinstance(mine, float | int) and mine
        ratio = theirs / mine if both else None  # type: ignore[operator]
        if goal_key and ratio is not None:
            ratios[goal_key] = ratio
        goal = f">= {GOALS[goal_key]:.0f}x" if goal_key else ""
        ok = "" if ratio is None or not goal_key else (" ok" if ratio >= GOALS[goal_key] else " MISSED")
        table.add_row(label, _fmt(mine), _fmt(theirs), (f"{ratio:,.1f}x" + ok) if ratio else "-", goal)
    console.print(table)

    ops = Table(title="saylau group operations per ballot (libsecp256k1 calls)")
    ops.add_column("step")
    for k in ("base_exp", "var_exp", "table_exp", "combine", "combine_points"):
        ops.add_column(k, justify="right")
    for step in ("encrypt", "verify"):
        o = ours[f"{step}_ops_per_ballot"]
        keys = ("base_exp", "var_exp", "table_exp", "combine", "combine_points")
        ops.add_row(step, *(_fmt(o[k], 1) for k in keys))
    console.print(ops)

    if skipped:
        console.print(f"[yellow]{peer['skipped']}[/yellow]")
    else:
        console.print(
            f"peer: {peer['implementation']} on {peer['python']} ({peer['base_interpreter']}), "
            f"{peer['ballots']} ballots, log formatting: {peer['log_formatting']}"
        )
    console.print(
        f"saylau: {ours['python']}, {ours['ballots']} ballots; times are the best of {ours['rounds']} rounds "
        f"x {ours['repeats']} alternating runs for both (median-round figures are in the JSON)"
    )
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    figures: dict[str, Any] = {"saylau": ours, "electionguard": peer, "ratios": ratios}
    if args.api_ballots > 0:
        # one server run per backend (bench_api --suite): remote voters' single-ballot requests from 32
        # connections (lean load generator), station devices' batches of 100, and single requests
        # offered open-loop at 300/s for the latency goal
        with console.status(f"server: {args.api_ballots} ballots per phase through HTTP, both backends ..."):
            proc = subprocess.run(
                [sys.executable, str(HERE / "bench_api.py"), "--suite", "--ballots", str(args.api_ballots),
                 "--threads", "32"],
                capture_output=True, text=True, check=True,
            )
        figures["api"] = json.loads(proc.stdout.strip().splitlines()[-1])
        for r in figures["api"]:
            how = {"single": "one ballot per request, 32 connections", "batched": "station devices, 100 per "
                   "request"}.get(r["mode"], f"offered {r['offered_per_second']:.0f}/s open loop")
            latency = (f"; latency p50 {r['latency_ms_p50']} ms, p99 {r['latency_ms_p99']} ms (goal < 100)"
                       if r.get("latency_ms_p50") is not None else "")
            console.print(
                f"server ({r['backend']}, {how}): {r['ballots_per_second']} accepted ballots/s through "
                f"HTTP (goal >= 500){latency}; server CPU {r['server_cpu_ms_per_ballot']} ms per ballot "
                f"({r['server_main_cpu_ms_per_ballot']} in the main process), "
                f"{r['cpu_bound_ballots_per_second_on_2_cores']}/s on 2 free cores; load generator "
                f"{r['client']} ({r['client_cpu_ms_per_ballot']} ms CPU per ballot on the same cores)"
            )
    if not args.no_national:
        national = out / "national.json"
        keys = ("encrypt_ms_per_ballot", "verify_ms_per_ballot")
        peer_figures = {} if skipped else {k: peer.get(k) for k in keys}
        cmd = [sys.executable, str(HERE / "bench_national.py"), "--show", "--enc-scale", str(args.enc_scale),
               "--ballots", *map(str, args.national_ballots), "--peer-json", json.dumps(peer_figures),
               "--json-out", str(national), *(["--skip-1m"] if args.skip_1m else [])]
        subprocess.run(cmd, check=True)  # prints its own section, step by step
        figures["national"] = json.loads(national.read_text())
    (out / "latest.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
