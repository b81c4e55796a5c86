"""``saylau backup`` / ``restore`` throughput: rows and megabytes per second, SQLite and PostgreSQL.

A database is filled with ``--voters`` roll rows and ``--ballots`` ballots (a real encrypted ballot's
payload each) with as many board entries, written straight with SQLAlchemy (the archive does not look
at the meaning of rows; ``tests/reliability/test_backup.py`` round-trips real elections). Then the
archive is written from it and restored into an empty database of each backend, timed, and the peak
resident memory of the process is printed beside (streamed: it must not grow with the rows).

Usage: python benchmarks/bench_backup.py [--voters N] [--ballots N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

from saylau.crypto import ContestSpec, ElectionParameters, encrypt_ballot, run_key_ceremony
from saylau.store.backup import restore_database, write_backup
from saylau.store.engine import make_engine
from saylau.store.migrate import upgrade
from saylau.store.models import Ballot, BoardEntryRow, Election, Station, Voter

BATCH = 5000


def _payload() -> dict[str, Any]:
    base = hashlib.sha256(b"bench backup").digest()
    _, joint = run_key_ceremony(3, 2, base)
    contest = ContestSpec("president", ("a", "b", "c", "d", "e", "f", "x"), 1)
    params = ElectionParameters(base, joint, (contest,))
    ballot, _ = encrypt_ballot(params, "st-1-k-000000", "main", {"president": ["a"]})
    return ballot.to_dict()


def fill(engine: Engine, voters: int, ballots: int) -> None:
    upgrade(engine)
    payload = _payload()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(Election), [{"id": "e", "name": "bench", "phase": "open", "manifest": {},
                                         "guardians": 3, "quorum": 2, "base_hash": "00" * 32,
                                         "created_at": now}])
        conn.execute(insert(Station), [{"election_id": "e", "id": "st-1", "region": "r1", "name": "st-1"}])
        for start in range(0, voters, BATCH):
            conn.execute(insert(Voter), [
                {"election_id": "e", "id": hashlib.sha256(str(i).encode()).hexdigest(), "station_id": "st-1",
                 "date_of_birth": date(1970, 1, 1), "region": "r1", "last_name": f"N{i}", "first_name": "A"}
                for i in range(start, min(start + BATCH, voters))
            ])
        for start in range(0, ballots, BATCH):
            rows = range(start, min(start + BATCH, ballots))
            conn.execute(insert(Ballot), [
                {"election_id": "e", "id": f"st-1-k-{i:06d}", "code": f"{i:064x}", "state": "cast",
                 "board_position": i, "received_at": now, "remote": False}
                for i in rows
            ])
            conn.execute(insert(BoardEntryRow), [
                {"election_id": "e", "position": i, "time": now.isoformat(), "kind": "ballot",
                 "code": f"{i:064x}", "payload": {"ballot": payload}, "payload_hash": "00" * 32,
                 "entry_hash": "00" * 32}
                for i in rows
            ])


def _rss() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _pg_schema(url: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return url, schema


def _drop(url: str, schema: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--voters", type=int, default=100_000)
    ap.add_argument("--ballots", type=int, default=20_000)
    ap.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    rows = args.voters + 2 * args.ballots
    results: dict[str, Any] = {"voters": args.voters, "ballots": args.ballots, "rows": rows}
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        engines: dict[str, Engine] = {"sqlite": make_engine(f"sqlite:///{tmp}/source.db")}
        url, schema = _pg_schema(args.postgres)
        schemas.append(schema)
        engines["postgres"] = make_engine(url, schema=schema)
        for name, engine in engines.items():
            fill(engine, args.voters, args.ballots)
            results.setdefault("peak_rss_mb_after_fill", _rss())
            archive = Path(tmp) / f"{name}.tar.gz"
            t = time.perf_counter()
            write_backup(engine, archive)
            seconds = time.perf_counter() - t
            results[f"backup_{name}_s"] = round(seconds, 2)
            results[f"backup_{name}_rows_per_s"] = round(rows / seconds)
            results[f"archive_{name}_mb"] = round(archive.stat().st_size / 1e6, 1)
            for target in ("sqlite", "postgres"):
                if target == "sqlite":
                    dest = make_engine(f"sqlite:///{tmp}/{name}-to-sqlite.db")
                else:
                    _, s2 = _pg_schema(args.postgres)
                    schemas.append(s2)
                    dest = make_engine(url, schema=s2)
                t = time.perf_counter()
                restore_database(archive, dest)
                seconds = time.perf_counter() - t
                results[f"restore_{name}_to_{target}_s"] = round(seconds, 2)
                results[f"restore_{name}_to_{target}_rows_per_s"] = round(rows / seconds)
                dest.dispose()
            engine.dispose()
    for s in schemas:
        _drop(args.postgres, s)
    results["peak_rss_mb_at_end"] = _rss()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
