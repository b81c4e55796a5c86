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


# --- make bench's "National scale" figures (``--show``) ------------------------------------------

SAYLAU = str(Path(sys.executable).parent / "saylau")
STATIONS = "stations (vote, encrypt, prove, tally, sign)"
MODES = (("1 worker", ["--workers", "1"]), ("2 workers", ["--workers", "2"]),
         ("Dask LocalCluster, 2 workers", ["--local-cluster", "--workers", "2"]))


def _step(console: Console, what: str, steps: list[tuple[str, float]]) -> Any:
    """A context printing what a step cost when it ends."""
    import contextlib

    @contextlib.contextmanager
    def timed() -> Any:
        t = time.perf_counter()
        with console.status(what + " ..."):
            yield
        steps.append((what, time.perf_counter() - t))
        console.print(f"[dim]step: {what}: {time.perf_counter() - t:,.0f} s[/dim]")

    return timed()


def simulate(out: Path, scale: float, mode: list[str], seed: int = 1) -> dict[str, Any]:
    """``saylau simulate kz-2022 --scale S`` without verification, measured; its ``summary.json`` too."""
    from proc_tree import run_measured

    cmd = [SAYLAU, "simulate", "kz-2022", "--scale", f"{scale:g}", "--seed", str(seed), "--out", str(out),
           "--no-verify", "--quiet", "--restart", *mode]
    fig = run_measured(cmd)
    if fig.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{fig.stdout[-2000:]}")
    return {"run": fig.to_dict(), "summary": json.loads((out / "summary.json").read_text())}


def verify(record: Path, mode: list[str]) -> dict[str, Any]:
    """``saylau verify RECORD --quiet`` measured (wall, CPU and peak RSS of the whole process tree)."""
    from proc_tree import run_measured

    devices = json.loads((record / "devices.json").read_text())["devices"]
    ballots = sum(int(d["ballot_count"]) for d in devices)
    fig = run_measured([SAYLAU, "verify", str(record), "--quiet", *mode])
    if fig.returncode != 0 or "record verified" not in fig.stdout:
        raise RuntimeError(f"saylau verify {record} failed:\n{fig.stdout[-2000:]}")
    run = fig.to_dict()
    return {**run, "ballots": ballots, "ballots_per_s": ballots / fig.wall_s,
            "cpu_ms_per_ballot": 1000 * fig.cpu_s / ballots,
            "main_cpu_ms_per_ballot": 1000 * fig.root_cpu_s / ballots}


def show(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of ``make bench``'s "National scale" section; printed, and returned for the JSON."""
    console = Console()
    console.rule("National scale")
    steps: list[tuple[str, float]] = []
    out: dict[str, Any] = {"encrypt": {}, "verify": {}, "rss": {}, "steps": steps}
    if args.only_1m:  # the 1 M-ballot run only (e.g. verifying a run that was started earlier)
        out["rss"]["1M"] = verify(args.one_million / "record", ["--workers", "2"])
        out["one_million"] = json.loads((args.one_million / "summary.json").read_text())
        console.print(json.dumps(out["rss"]["1M"]))
        _print_million(console, out, args)
        return out
    # 1. encryption and verification throughput on 1 and 2 workers and a LocalCluster, same election
    hashes = set()
    for label, mode in MODES:
        with _step(console, f"encrypted election at scale {args.enc_scale:g} on {label}", steps):
            r = simulate(OUT / f"enc-{mode[-1]}-{mode[0].strip('-')}", args.enc_scale, mode)
        sm = r["summary"]
        hashes.add(sm["record_hash"])
        out["encrypt"][label] = {"encryptions": sm["encryptions"], "wall_s": sm["timings"][STATIONS],
                                 "ballots_per_s": sm["encryptions"] / sm["timings"][STATIONS]}
    record = OUT / "enc-1-workers" / "record"
    for label, mode in MODES:
        with _step(console, f"saylau verify of that record on {label}", steps):
            out["verify"][label] = verify(record, mode)
    out["identical_records"] = len(hashes) == 1
    # 2. peak RSS of verifying records of growing size (2 workers)
    sizes = [n for n in args.ballots if n]
    for n in sizes:
        where = OUT / f"rss-{n}"
        scale = n / NATIONAL_BALLOTS
        summary = where / "summary.json"
        # an earlier run of about this size is reused (its record is verified again below)
        reuse = summary.exists() and abs(json.loads(summary.read_text())["states"]["cast"] - n) <= n // 20
        if not reuse:
            what = f"encrypted election of ~{n:,} ballots (scale {scale:.5f}, 2 workers)"
            with _step(console, what, steps):
                simulate(where, scale, ["--workers", "2"])
        with _step(console, f"saylau verify of the ~{n:,}-ballot record (2 workers), RSS sampled", steps):
            out["rss"][n] = verify(where / "record", ["--workers", "2"])
    if not args.skip_1m:
        big = args.one_million
        if not (big / "summary.json").exists():
            with _step(console, "the 1 M-ballot encrypted election (scale 0.126, 2 workers)", steps):
                simulate(big, 0.126, ["--workers", "2"])
        with _step(console, "saylau verify of the 1 M-ballot record (2 workers), RSS sampled", steps):
            out["rss"]["1M"] = verify(big / "record", ["--workers", "2"])
        out["one_million"] = json.loads((big / "summary.json").read_text())
    elif sizes:  # no 1 M run: the largest election measured end to end stands in for it
        n = max(sizes)
        out["largest"] = {"summary": json.loads((OUT / f"rss-{n}" / "summary.json").read_text()),
                          "verify": out["rss"][n]}
    _print_show(console, out, args)
    return out


def _print_show(console: Console, out: dict[str, Any], args: argparse.Namespace) -> None:
    enc, ver = out["encrypt"], out["verify"]
    t = Table(title=f"throughput, kz-2022 at scale {args.enc_scale:g} (the same election on each executor)")
    for col in ("executor", "encryption ballots/s", "efficiency", "verification ballots/s", "efficiency",
                "verify CPU ms/ballot (all processes)", "of which main process"):
        t.add_column(col, justify="right")
    e1, v1 = enc["1 worker"]["ballots_per_s"], ver["1 worker"]["ballots_per_s"]
    for label, _ in MODES:
        n = 1 if label == "1 worker" else 2
        e, v = enc[label]["ballots_per_s"], ver[label]["ballots_per_s"]
        t.add_row(label, f"{e:,.0f}", f"{100 * e / (n * e1):.0f} %", f"{v:,.0f}",
                  f"{100 * v / (n * v1):.0f} %", f"{ver[label]['cpu_ms_per_ballot']:.2f}",
                  f"{ver[label]['main_cpu_ms_per_ballot']:.2f}")
    console.print(t)
    console.print(f"records byte-identical across the three executors: {out['identical_records']}")
    per_core = ver["1 worker"]["cpu_ms_per_ballot"]
    console.print(f"whole-record verification, one process (record checks included): {per_core:.2f} ms CPU "
                  f"per ballot per core (goal <= 1.5 ms; the proofs alone are ~1.7 ms on coincurve)")
    r = Table(title="peak RSS of saylau verify --workers 2 (process tree, sampled every 0.2 s)")
    for col in ("record", "ballots", "wall s", "peak RSS summed", "largest process"):
        r.add_column(col, justify="right")
    for n, f in out["rss"].items():
        r.add_row(str(n), f"{f['ballots']:,}", f"{f['wall_s']:,.0f}", f"{f['peak_rss_sum_mb']:,.0f} MB",
                  f"{f['peak_rss_max_mb']:,.0f} MB")
    console.print(r)
    if "one_million" in out:
        _print_million(console, out, args)
    elif "largest" in out:
        _print_end_to_end(console, out["largest"]["summary"], out["largest"]["verify"], args)


def _print_million(console: Console, out: dict[str, Any], args: argparse.Namespace) -> None:
    _print_end_to_end(console, out["one_million"], out["rss"]["1M"], args)


def _print_end_to_end(
    console: Console, sm: dict[str, Any], ver: dict[str, Any], args: argparse.Namespace
) -> None:
    """One encrypted election's time end to end (election, then ``saylau verify``), and extrapolated."""
    gen = sum(sm["timings"].values())
    cast, enc = sm["states"]["cast"], sm["encryptions"]
    console.print(f"encrypted election end to end ({cast:,} counted ballots, {enc:,} encryptions, "
                  f"{sm['stations']:,} stations): {_hours(gen + ver['wall_s'])} ({_hours(gen)} election, "
                  f"{_hours(ver['wall_s'])} verification) on this 2-core machine; by phase: "
                  + ", ".join(f"{k} {v:,.0f} s" for k, v in sm["timings"].items()))
    # extrapolation: the client's CPU runs in one process, the workers' spreads over the cores
    client = sum(float(c["client"]) for c in sm["cpu_s"].values()) + ver["root_cpu_s"]
    workers = sum(float(c["workers"]) for c in sm["cpu_s"].values()) + ver["cpu_s"] - ver["root_cpu_s"]
    k = NATIONAL_BALLOTS / cast
    ext = Table(title=f"extrapolated to scale 1.0 ({NATIONAL_BALLOTS:,} counted ballots) from this run")
    for col in ("where", "saylau", "ElectionGuard 1.4.0 (encrypt + verify only)", "ratio"):
        ext.add_column(col, justify="right")
    peer = json.loads(args.peer_json) if args.peer_json else {}
    for label, cores in (("this machine (2 cores)", 2), ("64-core cluster", 64)):
        ours = k * (client + workers / cores)
        row = [label, _hours(ours), "-", "-"]
        if peer.get("encrypt_ms_per_ballot") and peer.get("verify_ms_per_ballot"):
            work = enc * peer["encrypt_ms_per_ballot"] + cast * peer["verify_ms_per_ballot"]
            theirs = k * work / 1000 / cores
            row[2:] = [_hours(theirs), f"{theirs / ours:,.1f}x"]
        ext.add_row(*row)
    console.print(ext)
    console.print(f"serial share (one client process, any cluster): {_hours(k * client)}; ElectionGuard's "
                  "figure is its per-ballot encryption and verification times from this run, spread "
                  "perfectly over the cores (its board, tally, decryption and record are not counted: "
                  "generous to it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.001, 0.01])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verify-up-to", type=float, default=0.001,
                        help="verify the record of scales up to this one (verification is extrapolated)")
    parser.add_argument("--report", type=Path, help="print the tables of a saved results.json, run nothing")
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--show", action="store_true", help="make bench's National scale section")
    parser.add_argument("--enc-scale", type=float, default=0.001, help="--show: throughput runs' scale")
    parser.add_argument("--ballots", type=int, nargs="*", default=[10_000, 100_000],
                        help="--show: record sizes whose verification RSS is measured (besides 1 M)")
    parser.add_argument("--skip-1m", action="store_true", help="--show: no 1 M-ballot run")
    parser.add_argument("--only-1m", action="store_true", help="--show: verify the 1 M run's record only")
    parser.add_argument("--one-million", type=Path, default=ROOT / "build" / "n1m",
                        help="--show: the 1 M-ballot run's directory (run unless it has a summary.json)")
    parser.add_argument("--peer-json", help="--show: ElectionGuard's per-ballot figures (JSON)")
    parser.add_argument("--json-out", type=Path, help="--show: write the figures here")
    args = parser.parse_args()
    if args.show:
        figures = show(args)
        if args.json_out:
            args.json_out.write_text(json.dumps(figures, indent=1, default=str))
        return
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
