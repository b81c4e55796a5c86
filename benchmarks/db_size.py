"""Bytes the database spends per ballot: the ballots table and the board's ballot entries, measured.

SQLite: the pages of the two tables and of each of their indexes (``dbstat``); PostgreSQL: the heap,
TOAST and each index of the two tables (``pg_relation_size``; PostgreSQL compresses large values
itself). The board also holds the election's other entries (manifest, turnout, …), so a small election
overstates it a little; the stored payload bytes of the ballot entries (JSON or compact body) and each
column's bytes per ballot are printed beside it.

Run on its own (``python benchmarks/db_size.py``), it casts ballots through the server as
``bench_api.py`` does, then measures that one database in both storage forms: taken down to migration
0008 (each ballot's payload as JSON) and back up to 0009 (compact bodies, ``store/ballot_codec.py``),
compacted after each step (``VACUUM``; ``VACUUM FULL`` on PostgreSQL) so that only live rows count. It
also times the codec on the stored ballots (it runs once per cast ballot and once per read).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text

__all__ = ["codec_cost", "compare_revisions", "database_bytes_per_ballot"]

_TABLES = ("ballots", "board_entries")
_BALLOT_ENTRIES = "kind IN ('ballot', 'challenge')"


def _engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url)


def _columns(c: Connection, table: str) -> list[str]:
    if c.dialect.name == "sqlite":
        return [r[1] for r in c.execute(text(f"PRAGMA table_info({table})"))]
    rows = c.execute(
        text("SELECT column_name FROM information_schema.columns WHERE table_name = :t "
             "AND table_schema = current_schema() ORDER BY ordinal_position"),
        {"t": table},
    )
    return [r[0] for r in rows]


def _column_bytes(c: Connection, table: str, where: str) -> dict[str, int]:
    """Bytes of each column's values (SQLite: ``length`` of text/blob; PostgreSQL: ``pg_column_size``)."""
    size = "length(CAST({0} AS BLOB))" if c.dialect.name == "sqlite" else "pg_column_size({0})"
    out = {}
    for col in _columns(c, table):
        q = f"SELECT coalesce(sum({size.format(col)}), 0) FROM {table} WHERE {where}"
        out[col] = int(c.execute(text(q)).scalar_one())
    return out


def _sqlite_sizes(c: Connection) -> dict[str, int]:
    rows = c.execute(text(
        "SELECT s.name, sum(s.pgsize) FROM dbstat s JOIN sqlite_master m ON m.name = s.name "
        "WHERE m.tbl_name IN ('ballots', 'board_entries') GROUP BY s.name"
    ))
    return {name: int(n) for name, n in rows}


def _postgres_sizes(c: Connection) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in _TABLES:
        heap = int(c.execute(text(f"SELECT pg_relation_size('{t}')")).scalar_one())
        total = int(c.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one())
        indexes = c.execute(text(
            "SELECT i.relname, pg_relation_size(i.oid) FROM pg_index x "
            f"JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = '{t}'::regclass"
        )).all()
        out[t] = heap
        out[f"{t} (TOAST)"] = total - heap - sum(int(n) for _, n in indexes)
        out.update({name: int(n) for name, n in indexes})
    return out


def database_bytes_per_ballot(url: str) -> dict[str, Any]:
    """Per ballot: on disk in all (``disk_bytes_per_ballot``), per table and index, payloads and columns."""
    engine = _engine(url)
    try:
        with engine.connect() as c:
            n = int(c.execute(text("SELECT count(*) FROM ballots")).scalar_one())
            per = max(n, 1)
            sizes = _sqlite_sizes(c) if engine.dialect.name == "sqlite" else _postgres_sizes(c)
            entry_cols = _column_bytes(c, "board_entries", _BALLOT_ENTRIES)
            ballot_cols = _column_bytes(c, "ballots", "1 = 1")
    finally:
        engine.dispose()
    stored = entry_cols.get("payload", 0) + entry_cols.get("body", 0)
    return {
        "ballots": n,
        "disk_bytes_per_ballot": round(sum(sizes.values()) / per),
        "payload_bytes_per_ballot": round(stored / per),
        "relations_bytes_per_ballot": {k: round(v / per) for k, v in sorted(sizes.items())},
        "ballot_entry_columns_bytes_per_ballot": {k: round(v / per) for k, v in entry_cols.items()},
        "ballots_columns_bytes_per_ballot": {k: round(v / per) for k, v in ballot_cols.items()},
    }


def _migrate(url: str, revision: str) -> None:
    from alembic import command

    from saylau.store.engine import make_engine
    from saylau.store.migrate import alembic_config

    engine = make_engine(url)
    try:
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            (command.downgrade if revision == "0008" else command.upgrade)(cfg, revision)
    finally:
        engine.dispose()
    plain = _engine(url).execution_options(isolation_level="AUTOCOMMIT")  # VACUUM: outside a transaction
    try:
        with plain.connect() as conn:
            conn.execute(text("VACUUM" if plain.dialect.name == "sqlite" else "VACUUM FULL ANALYZE"))
    finally:
        plain.engine.dispose()


def codec_cost(url: str) -> dict[str, float]:
    """CPU microseconds per stored ballot: encode and decode of the compact form, against the JSON's work."""
    from saylau.board.hashing import canonical_json
    from saylau.store import ballot_codec

    engine = _engine(url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT body FROM board_entries WHERE body IS NOT NULL"))
        bodies = [bytes(b) for (b,) in rows]
    engine.dispose()
    t0 = time.process_time()
    payloads = [ballot_codec.decode(b) for b in bodies]
    t1 = time.process_time()
    again = [ballot_codec.encode(p) for p in payloads]
    t2 = time.process_time()
    texts = [json.dumps(p) for p in payloads]
    t3 = time.process_time()
    for t in texts:
        json.loads(t)
    t4 = time.process_time()
    for p in payloads[:200]:
        canonical_json(p)
    t5 = time.process_time()
    assert again == bodies, "the codec does not round-trip the stored bodies"
    n = max(len(bodies), 1)
    return {
        "ballots": len(bodies),
        "decode_us": round((t1 - t0) / n * 1e6, 1),
        "encode_us": round((t2 - t1) / n * 1e6, 1),
        "json_dumps_us": round((t3 - t2) / n * 1e6, 1),
        "json_loads_us": round((t4 - t3) / n * 1e6, 1),
        "canonical_json_us": round((t5 - t4) / max(min(n, 200), 1) * 1e6, 1),
    }


def compare_revisions(url: str) -> dict[str, Any]:
    """The same ballots as JSON (down to 0008) and compact (back up to 0009); the codec's cost."""
    _migrate(url, "0008")
    before = database_bytes_per_ballot(url)
    _migrate(url, "head")
    after = database_bytes_per_ballot(url)
    return {"before_0008_json": before, "after_0009_compact": after, "codec": codec_cost(url)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ballots", type=int, default=2000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--batch", type=int, default=100, help="ballots per upload (0: one per request)")
    parser.add_argument("--url", help="measure this existing saylau database instead of casting ballots")
    args = parser.parse_args()
    if args.url:
        print(json.dumps(compare_revisions(args.url)))
        return

    from rich.console import Console

    import bench_api

    console = Console(stderr=True)
    seen: dict[str, Any] = {}

    def measure(url: str) -> dict[str, Any]:  # bench_api.run measures its database with this at its end
        seen[url] = compare_revisions(url)
        after: dict[str, Any] = seen[url]["after_0009_compact"]
        return after

    bench_api.database_bytes_per_ballot = measure  # type: ignore[attr-defined]
    fresh = bench_api._pg_fresh_database  # a database of its own, beside a bench_api run of its own
    bench_api._pg_fresh_database = lambda name: fresh(f"{name}_db_size")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    out = {}
    for b in backends:
        phase = bench_api.Phase("db_size", args.ballots, 8, batch=args.batch)
        bench_api.run(b, [phase], 1, 2, console)
        out[b] = seen.popitem()[1]
        for label, key in (("0008 JSON", "before_0008_json"), ("0009 compact", "after_0009_compact")):
            m = out[b][key]
            console.print(
                f"[bold]{b}[/] {label}: {m['ballots']} ballots, "
                f"[bold]{m['disk_bytes_per_ballot']} B/ballot[/] "
                f"on disk (payload {m['payload_bytes_per_ballot']} B); {m['relations_bytes_per_ballot']}"
            )
        console.print(f"[bold]{b}[/] codec per ballot: {out[b]['codec']}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
