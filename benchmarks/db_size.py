"""Bytes the database spends per ballot: the ballots table, the board's entries and the ballot contexts.

SQLite: the pages of each table and of each of its indexes (``dbstat``); PostgreSQL: the heap, TOAST
and each index of each table (``pg_relation_size``; PostgreSQL compresses large values itself). The
board also holds the election's other entries (manifest, turnout, …), so a small election overstates it
a little; the stored payload bytes of the ballot entries and each column's bytes per ballot are printed
beside it.

Run on its own (``python benchmarks/db_size.py``), it casts ballots through the server as
``bench_api.py`` does, then measures that one database in its storage forms: taken down to migration
0009 (compact version-1 bodies, hex hashes, ``store/ballot_codec.py``) and back up to 0010 (version-2
bodies naming a shared context, binary hashes, no derivable column: ``store/entry_codec.py``),
compacted after each step (``VACUUM``; ``VACUUM FULL`` on PostgreSQL) so that only live rows count. A
SQLite database is measured with 4 KB pages (SQLite's default, the page size of a database made before
0010) and with 8 KB pages (what saylau gives a new database). It also times the codecs on the stored
ballots (one encode per cast ballot, one decode per read).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text

__all__ = ["codec_cost", "compare_revisions", "database_bytes_per_ballot"]

_TABLES = ("ballots", "board_entries", "ballot_contexts")
_BALLOT_ENTRIES = "kind IN ('ballot', 'challenge')"
_PAGE_SIZES = (4096, 8192)


def _engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url)


def _tables(c: Connection) -> list[str]:
    if c.dialect.name == "sqlite":
        names = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    else:
        names = {r[0] for r in c.execute(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"))}
    return [t for t in _TABLES if t in names]


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


def _sqlite_sizes(c: Connection, tables: list[str]) -> dict[str, int]:
    names = ", ".join(f"'{t}'" for t in tables)
    rows = c.execute(text(
        "SELECT s.name, sum(s.pgsize) FROM dbstat s JOIN sqlite_master m ON m.name = s.name "
        f"WHERE m.tbl_name IN ({names}) GROUP BY s.name"
    ))
    return {name: int(n) for name, n in rows}


def _postgres_sizes(c: Connection, tables: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in tables:
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
            tables = _tables(c)
            sqlite = engine.dialect.name == "sqlite"
            sizes = _sqlite_sizes(c, tables) if sqlite else _postgres_sizes(c, tables)
            page = int(c.execute(text("PRAGMA page_size")).scalar_one()) if sqlite else 8192
            revision = c.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            entry_cols = _column_bytes(c, "board_entries", _BALLOT_ENTRIES)
            ballot_cols = _column_bytes(c, "ballots", "1 = 1")
            context_cols, contexts = {}, 0
            if "ballot_contexts" in tables:
                context_cols = _column_bytes(c, "ballot_contexts", "1 = 1")
                contexts = int(c.execute(text("SELECT count(*) FROM ballot_contexts")).scalar_one())
    finally:
        engine.dispose()
    stored = entry_cols.get("payload", 0) + entry_cols.get("body", 0)
    return {
        "revision": revision,
        "page_size": page,
        "ballots": n,
        "contexts": contexts,
        "disk_bytes_per_ballot": round(sum(sizes.values()) / per),
        "payload_bytes_per_ballot": round(stored / per),
        "relations_bytes_per_ballot": {k: round(v / per, 1) for k, v in sorted(sizes.items())},
        "ballot_entry_columns_bytes_per_ballot": {k: round(v / per, 1) for k, v in entry_cols.items()},
        "ballots_columns_bytes_per_ballot": {k: round(v / per, 1) for k, v in ballot_cols.items()},
        "contexts_columns_bytes_per_ballot": {k: round(v / per, 1) for k, v in context_cols.items()},
    }


def _migrate(url: str, revision: str) -> None:
    """Take the database to ``revision`` (down or up)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    from saylau.store.engine import make_engine
    from saylau.store.migrate import alembic_config

    engine = make_engine(url)
    try:
        cfg = alembic_config()
        with engine.begin() as conn:
            current = MigrationContext.configure(conn).get_current_revision() or ""
            cfg.attributes["connection"] = conn
            target = "9999" if revision == "head" else revision
            (command.downgrade if target < current else command.upgrade)(cfg, revision)
    finally:
        engine.dispose()


def _compact(url: str, page_size: int | None = None) -> None:
    """``VACUUM`` (SQLite: with ``page_size``, if given) or ``VACUUM FULL ANALYZE``: only live rows count."""
    plain = _engine(url).execution_options(isolation_level="AUTOCOMMIT")  # VACUUM: outside a transaction
    try:
        with plain.connect() as conn:
            if plain.dialect.name != "sqlite":
                conn.execute(text("VACUUM FULL ANALYZE"))
                return
            if page_size is not None:  # a WAL database keeps its page size: leave WAL for the VACUUM
                conn.execute(text("PRAGMA journal_mode=DELETE"))
                conn.execute(text(f"PRAGMA page_size={page_size}"))
            conn.execute(text("VACUUM"))
            if page_size is not None:
                conn.execute(text("PRAGMA journal_mode=WAL"))
    finally:
        plain.engine.dispose()


def _contexts(c: Connection) -> Any:
    from saylau.store.entry_codec import Context

    if "ballot_contexts" not in _tables(c):
        return {}.__getitem__
    rows = c.execute(text("SELECT digest, context FROM ballot_contexts"))
    known = {bytes(d): Context.from_bytes(bytes(b)) for d, b in rows}
    return known.__getitem__


def codec_cost(url: str) -> dict[str, Any]:
    """CPU microseconds per stored ballot: encode and decode of its compact form, beside the JSON's work."""
    from saylau.board.hashing import canonical_json
    from saylau.store import ballot_codec, entry_codec

    engine = _engine(url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT body, time FROM board_entries WHERE body IS NOT NULL")).all()
        context_of = _contexts(c)
    engine.dispose()
    bodies = [(bytes(b), t) for b, t in rows]
    version = bodies[0][0][0] if bodies else 0
    t0 = time.process_time()
    if version == entry_codec.VERSION:
        decoded = [entry_codec.decode(b, context_of) for b, _ in bodies]
        payloads = [p for _, p in decoded]
    else:
        decoded = [(t, ballot_codec.decode(b)) for b, t in bodies]
        payloads = [p for _, p in decoded]
    t1 = time.process_time()
    if version == entry_codec.VERSION:
        again = [c.body if (c := entry_codec.encode(p, t)) else None for t, p in decoded]
    else:
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
    assert again == [b for b, _ in bodies], "the codec does not round-trip the stored bodies"
    n = max(len(bodies), 1)
    return {
        "ballots": len(bodies),
        "version": version,
        "decode_us": round((t1 - t0) / n * 1e6, 1),
        "encode_us": round((t2 - t1) / n * 1e6, 1),
        "json_dumps_us": round((t3 - t2) / n * 1e6, 1),
        "json_loads_us": round((t4 - t3) / n * 1e6, 1),
        "canonical_json_us": round((t5 - t4) / max(min(n, 200), 1) * 1e6, 1),
    }


def _forms(url: str, revision: str) -> dict[str, Any]:
    """The database at ``revision``, measured (on SQLite at each page size of :data:`_PAGE_SIZES`)."""
    _migrate(url, revision)
    if not url.startswith("sqlite"):
        _compact(url)
        return {"postgres": database_bytes_per_ballot(url), "codec": codec_cost(url)}
    out: dict[str, Any] = {}
    for size in _PAGE_SIZES:
        _compact(url, size)
        out[f"page_{size}"] = database_bytes_per_ballot(url)
    out["codec"] = codec_cost(url)
    return out


def compare_revisions(url: str) -> dict[str, Any]:
    """The same ballots as 0009 stored them (down to 0009) and as 0010 does (back up to head)."""
    return {"0009": _forms(url, "0009"), "head": _forms(url, "head")}


def _summary(m: dict[str, Any]) -> str:
    return (f"{m['disk_bytes_per_ballot']} B/ballot (revision {m['revision']}, pages {m['page_size']} B, "
            f"{m['ballots']} ballots, {m['contexts']} contexts; payload {m['payload_bytes_per_ballot']} B) "
            f"{m['relations_bytes_per_ballot']}")


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
        head: dict[str, Any] = seen[url]["head"]
        return head

    bench_api.database_bytes_per_ballot = measure  # type: ignore[attr-defined]
    fresh = bench_api._pg_fresh_database  # a database of its own, beside a bench_api run of its own
    bench_api._pg_fresh_database = lambda name: fresh(f"{name}_db_size")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    out = {}
    for b in backends:
        phase = bench_api.Phase("db_size", args.ballots, 8, batch=args.batch)
        bench_api.run(b, [phase], 1, 2, console)
        out[b] = seen.popitem()[1]
        for rev in ("0009", "head"):
            for form, m in out[b][rev].items():
                if form != "codec":
                    console.print(f"[bold]{b} {rev} {form}[/]: {_summary(m)}")
            console.print(f"[bold]{b} {rev}[/] codec per ballot: {out[b][rev]['codec']}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
