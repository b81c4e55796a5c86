"""Bytes the database spends per ballot: the ballots table and the board's ballot entries, measured.

SQLite: the pages of the two tables and their indexes (``dbstat``); PostgreSQL: ``pg_total_relation_size``
of the two tables (heap, TOAST — PostgreSQL compresses large values itself — and indexes). The board
also holds the election's other entries (manifest, turnout, …), so a small election overstates it a
little; the JSON payload bytes of the ballot rows and the ballot entries are printed beside it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text

__all__ = ["database_bytes_per_ballot"]

_TABLES = ("ballots", "board_entries")


def database_bytes_per_ballot(url: str) -> dict[str, Any]:
    """``{"ballots", "disk_bytes_per_ballot", "payload_bytes_per_ballot"}`` of the database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            n = int(c.execute(text("SELECT count(*) FROM ballots")).scalar_one())
            if engine.dialect.name == "sqlite":
                disk = int(
                    c.execute(
                        text(
                            "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN "
                            "(SELECT name FROM sqlite_master WHERE tbl_name IN ('ballots', 'board_entries'))"
                        )
                    ).scalar_one()
                )
                as_text = "CAST(payload AS TEXT)"
            else:
                disk = sum(
                    int(c.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one())
                    for t in _TABLES
                )
                as_text = "payload::text"
            payload = int(
                c.execute(text(f"SELECT coalesce(sum(length({as_text})), 0) FROM ballots")).scalar_one()
            ) + int(
                c.execute(
                    text(
                        f"SELECT coalesce(sum(length({as_text})), 0) FROM board_entries "
                        "WHERE kind IN ('ballot', 'challenge')"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()
    per = max(n, 1)
    return {
        "ballots": n,
        "disk_bytes_per_ballot": round(disk / per),
        "payload_bytes_per_ballot": round(payload / per),
    }
