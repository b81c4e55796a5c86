"""Crash safety, measured: SIGKILL ``saylau serve`` N times while clients cast; print what was lost.

Runs the soak of ``tests/reliability/crash_soak.py`` (the same code as the test): single-ballot clients
with idempotency keys and polling-station batch uploads of real encrypted ballots, the server SIGKILLed
after a random time each round and restarted (its start-up integrity check runs every time); after the
rounds, ``saylau check``, the tally decrypted against the ballots on the board, and the exported record
through ``saylau verify``. Prints one row per kill and the table the README quotes:
kills, acknowledged, found, lost, duplicated (and unacknowledged-but-stored, which is allowed).

Usage: python benchmarks/crash_soak.py [--kills 50] [--backend sqlite|postgres|both] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the soak and its set-up live beside the tests that use them

from reliability.crash_soak import SoakReport, run_soak  # noqa: E402
from reliability.live_server import LiveServer  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_schema() -> tuple[str, str]:
    import psycopg

    schema = f"soak_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{PG_URL}?options=-csearch_path%3D{schema}", schema


def _drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def soak(
    backend: str, kills: int, seed: int, voters: int, verifiers: int, budget: float | None = None
) -> SoakReport:
    """One soak on ``backend`` in a fresh database."""
    work = Path(tempfile.mkdtemp(prefix=f"saylau-soak-{backend}-"))
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{work / 'saylau.db'}"
    else:
        url, schema = _postgres_schema()
    try:
        server = LiveServer(url, work / "server", verify_processes=verifiers)
        rows = ROOT / "build" / f"crash_soak_{backend}.jsonl"
        rows.parent.mkdir(exist_ok=True)
        rows.unlink(missing_ok=True)
        return run_soak(
            server,
            backend,
            kills,
            seed=seed,
            voters=voters,
            up_seconds=(0.2, 3.0),
            budget_seconds=budget,
            rows_file=rows,
        )
    finally:
        if schema is not None:
            _drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--voters", type=int, default=0, help="voters on the roll (default: 40 per kill)")
    parser.add_argument("--verifiers", type=int, default=2, help="proof-verification processes")
    parser.add_argument(
        "--budget-minutes",
        type=float,
        default=None,
        help="stop killing after this long (then the final checks)",
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    voters = args.voters or 40 * (args.kills + 2)
    reports = []
    for backend in backends:
        budget = None if args.budget_minutes is None else 60 * args.budget_minutes
        report = soak(backend, args.kills, args.seed, voters, args.verifiers, budget)
        print(f"\n{backend}: one row per kill\n{report.table()}", flush=True)
        reports.append(report)
    print(
        "\n| backend | kills | acknowledged | found | lost | duplicated | unacknowledged but stored | "
        "processes left | saylau check | tally = board | record verifies |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in reports:
        unacked = sum(x.unacknowledged_stored for x in r.rows)
        left = sum(len(x.leftovers) for x in r.rows) + len(r.final_leftovers)
        intact = "intact" if "intact" in r.check_output and not r.errors else "BROKEN"
        print(
            f"| {r.backend} | {len(r.rows)} | {r.acknowledged} | {r.acknowledged - r.lost} | {r.lost} | "
            f"{r.duplicated} | {unacked} | {left} | {intact} | {r.tally_matches} | {r.record_verified} |"
        )
    print(
        json.dumps(
            [
                {
                    "backend": r.backend,
                    "kills": len(r.rows),
                    "acknowledged": r.acknowledged,
                    "lost": r.lost,
                    "duplicated": r.duplicated,
                    "on_board": r.on_board,
                    "replays": r.replays,
                    "errors": r.errors,
                    "unacknowledged_stored": sum(x.unacknowledged_stored for x in r.rows),
                    "mean_restart_seconds": round(
                        sum(x.restart_seconds for x in r.rows) / max(len(r.rows), 1), 2
                    ),
                }
                for r in reports
            ]
        )
    )
    if any(r.errors or r.lost or r.duplicated for r in reports):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
