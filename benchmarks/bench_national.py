"""The encrypted national election at small scales, measured, and extrapolated to the whole country.

``python benchmarks/bench_national.py --scales 0.001 0.01 --workers 2`` runs ``saylau simulate kz-2022
--scale S`` (``saylau.sim.national``) for each scale in a fresh process (so each peak RSS is its own),
then prints per phase the time and ballots per second, the peak memory of the main process and of the
largest worker, the record's bytes per ballot, and an extrapolation to scale 1.0 (7,940,478 valid
ballots, 10,101 stations) on this machine and on a cluster: the parallel phases' core-seconds per
ballot (or per tally scope, for decryption) are measured, the serial phases' seconds per ballot too,
and the whole is ``client + workers / cores`` (Amdahl). Figures also go to
``build/bench-national/results.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench-national"
NATIONAL_BALLOTS = 7_940_478  # kz-2022 valid ballots: the encrypted ballots at scale 1.0
NATIONAL_STATIONS = 10_101
NATIONAL_SCOPES = NATIONAL_STATIONS + 20 + 1  # stations, regions, nation

DECRYPT = "decryption (guardians present, with proofs)"
VERIFY = "independent verification"
PER_STATION = ("plan and key ceremony", "tally roll-up")
"""Client phases whose work grows with the stations, not the ballots."""


def run_one(scale: float, workers: int, seed: int, verify: bool) -> dict[str, Any]:
    """One run in this process; returns its figures (peak RSS of workers after they have exited)."""
    from saylau.parallel import make_executor
    from saylau.sim.national import NationalOptions, run_national

    out = OUT / f"scale-{scale:g}"
    t0 = time.perf_counter()
    with make_executor(workers) as executor:
        result = run_national(
            out, "kz-2022", NationalOptions(scale=scale, seed=seed), executor=executor,
            verify=verify, verify_workers=workers, restart=True,
        )
    wall = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = result.summary()
    return {
        "scale": scale,
        "workers": workers,
        "stations": result.stations,
        "ballots": result.states["cast"],
        "encryptions": result.encryptions,
        "scopes": result.stations + 21,
        "timings": result.timings,
        "cpu": result.cpu_s,
        "wall_s": wall,
        "rss_main_mb": own,
        "rss_worker_mb": max(children, result.peak_rss_mb["largest_worker"]),
        "record_bytes": result.record_bytes,
        "bytes_per_ballot": summary["bytes_per_ballot"],
        "record_hash": summary["record_hash"],
    }


def _national(r: dict[str, Any], phase: str, who: str) -> float:
    """CPU seconds of ``phase`` at scale 1.0 in the client or the workers (``who``), scaled per ballot,
    per tally scope (decryption) or per station (plan, roll-up)."""
    cpu = float(r["cpu"][phase][who])
    if phase == DECRYPT:
        return cpu * NATIONAL_SCOPES / r["scopes"]
    if phase in PER_STATION:
        return cpu * NATIONAL_STATIONS / r["stations"]
    return cpu * NATIONAL_BALLOTS / r["ballots"]


def _phases(runs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Each phase with the run it is extrapolated from: the largest run, or for verification the
    largest run that verified."""
    base = runs[-1]
    out = [(p, base) for p in base["cpu"]]
    verified = [r for r in runs if VERIFY in r["cpu"]]
    if VERIFY not in base["cpu"] and verified:
        out.append((VERIFY, verified[-1]))
    return out


def extrapolate(runs: list[dict[str, Any]], cores: int) -> float:
    """Seconds for scale 1.0 with ``cores`` busy worker cores: the client's CPU seconds run in one
    process, the workers' spread perfectly over the cores (Amdahl's law)."""
    return sum(
        _national(r, p, "client") + _national(r, p, "workers") / cores for p, r in _phases(runs)
    )


def serial_share(runs: list[dict[str, Any]]) -> float:
    """Seconds at scale 1.0 that the one client process spends, whatever the cluster."""
    return sum(_national(r, p, "client") for p, r in _phases(runs))


def _cpu(r: dict[str, Any], phase: str) -> float:
    c = r["cpu"][phase]
    return float(c["client"] + c["workers"])


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h" if seconds >= 3600 else f"{seconds / 60:,.1f} min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.001, 0.01])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verify-up-to", type=float, default=0.001,
                        help="verify the record of scales up to this one (verification is extrapolated)")
    parser.add_argument("--report", type=Path, help="print the tables of a saved results.json, run nothing")
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.workers, args.seed, args.one <= args.verify_up_to)))
        return
    console = Console()
    runs = json.loads(args.report.read_text())["runs"] if args.report else []
    for scale in [] if args.report else args.scales:
        with console.status(f"scale {scale:g}: the encrypted election end to end on {args.workers} workers"):
            proc = subprocess.run(
                [sys.executable, __file__, "--one", str(scale), "--workers", str(args.workers),
                 "--seed", str(args.seed), "--verify-up-to", str(args.verify_up_to)],
                capture_output=True, text=True, check=True,
            )
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    table = Table(title=f"encrypted national election (kz-2022), {runs[0]['workers']} worker processes")
    table.add_column("phase")
    for r in runs:
        table.add_column(f"scale {r['scale']:g}: s", justify="right")
        table.add_column("ballots/s", justify="right")
    for phase in runs[0]["timings"]:
        row = [phase]
        for r in runs:
            s = r["timings"].get(phase, 0.0)
            row += [f"{s:,.1f}", f"{r['ballots'] / s:,.0f}" if s else "-"]
        table.add_row(phase, *row[1:])
    for phase in runs[0]["cpu"]:
        row = []
        for r in runs:
            c = _cpu(r, phase) if phase in r["cpu"] else 0.0
            per = 1000 * c / r["ballots"]
            row += [f"{c:,.1f}", f"{per:,.2f} ms" if c else "-"]
        table.add_row(f"  CPU s, CPU per ballot: {phase}", *row)
    whole = [x for r in runs for x in (f"{r['wall_s']:,.1f}", f"{r['ballots'] / r['wall_s']:,.0f}")]
    table.add_row("whole run", *whole)
    console.print(table)

    facts = Table(title="size and memory")
    for col in ("scale", "stations", "ballots", "encryptions", "peak RSS main", "peak RSS worker",
                "record", "bytes/ballot"):
        facts.add_column(col, justify="right")
    for r in runs:
        facts.add_row(
            f"{r['scale']:g}", f"{r['stations']:,}", f"{r['ballots']:,}", f"{r['encryptions']:,}",
            f"{r['rss_main_mb']:,.0f} MB", f"{r['rss_worker_mb']:,.0f} MB",
            f"{r['record_bytes'] / 1e6:,.1f} MB", f"{r['bytes_per_ballot']:,.0f}",
        )
    console.print(facts)

    base = runs[-1]
    title = f"extrapolation to scale 1.0 ({NATIONAL_BALLOTS:,} ballots) from scale {base['scale']:g}"
    ext = Table(title=title)
    ext.add_column("where")
    ext.add_column("time", justify="right")
    for label, cores in (("this machine (2 cores)", 2), ("8 machines x 8 cores (64)", 64),
                         ("32 machines x 8 cores (256)", 256)):
        ext.add_row(label, _hours(extrapolate(runs, cores)))
    ext.add_row("of which the serial client (any cluster)", _hours(serial_share(runs)))
    for phase, r in _phases(runs):
        client, workers = _national(r, phase, "client"), _national(r, phase, "workers")
        ext.add_row(f"  {phase}: client {client:,.0f} + workers {workers:,.0f} CPU s; on 2 cores",
                    _hours(client + workers / 2))
    ext.add_row("record size", f"{base['bytes_per_ballot'] * NATIONAL_BALLOTS / 1e9:,.0f} GB")
    console.print(ext)
    if args.report:
        return
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(
        {"runs": runs, "extrapolation_s": {c: extrapolate(runs, c) for c in (2, 64, 256)},
         "serial_s": serial_share(runs)}, indent=1))


if __name__ == "__main__":
    main()
