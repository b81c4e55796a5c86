"""Database engines: a SQLite file by default (WAL mode), PostgreSQL via psycopg 3 when configured.

``SAYLAU_DATABASE_URL`` selects the database; ``sqlite:///saylau.db`` is the default. On SQLite every
connection uses WAL journaling, ``synchronous=FULL`` (a commit is on disk before the server answers
"accepted"), foreign keys and a busy timeout so concurrent writers wait instead of failing. A new SQLite
database gets 8 KB pages (:data:`SQLITE_PAGE_SIZE`): a ballot's board row (about 1.6 KB, migration 0010)
fits five to a page, where 4 KB pages hold two and waste a fifth of the file.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["DEFAULT_DATABASE_URL", "SQLITE_PAGE_SIZE", "database_url", "make_engine", "make_sessionmaker"]

DEFAULT_DATABASE_URL = "sqlite:///saylau.db"
#: the page size of a new SQLite database (an existing one keeps its own until ``VACUUM``)
SQLITE_PAGE_SIZE = 8192


def database_url(explicit: str | None = None) -> str:
    """The URL to use: ``explicit``, else ``SAYLAU_DATABASE_URL``, else the SQLite default.

    A plain ``postgresql://`` URL is mapped to the psycopg 3 driver.
    """
    url = explicit or os.environ.get("SAYLAU_DATABASE_URL") or DEFAULT_DATABASE_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class _NoRows(logging.Filter):
    """Drop SQLAlchemy's debug lines that print fetched rows (a voter's identifier, names, date of birth)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


def _quiet_personal_data() -> None:
    """Keep personal data out of SQLAlchemy's logging, whatever level an operator sets.

    Engines are made with ``hide_parameters=True`` (no SQL parameters in log lines or in exception
    messages, which a 500 would log), and row lines are filtered out of the engine logger.
    """
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    if not any(isinstance(f, _NoRows) for f in engine_log.filters):
        engine_log.addFilter(_NoRows())


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    del connection_record
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event emit BEGIN itself
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # before WAL: it fixes a new file's page size
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN: a transaction that reads and then writes can otherwise fail with
    # "database is locked" without waiting (SQLite cannot upgrade a stale read snapshot).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(
    url: str | None = None, schema: str | None = None, pool_size: int = 10, for_writing: bool = True
) -> Engine:
    """Create an engine; ``schema`` (PostgreSQL only) sets the search path, e.g. one schema per test.

    On SQLite, ``for_writing`` engines start every transaction with ``BEGIN IMMEDIATE``; a read-only
    engine (``for_writing=False``) uses plain deferred transactions, which WAL lets run beside a writer.
    """
    url = database_url(url)
    _quiet_personal_data()
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate if for_writing else _sqlite_begin_deferred)
        return engine
    connect_args: dict[str, Any] = {}
    if schema is not None:
        if not schema.replace("_", "").isalnum():
            raise ValueError(f"schema name {schema!r} must be alphanumeric with underscores")
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(
        url,
        connect_args=connect_args,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
