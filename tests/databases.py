"""Test databases: a SQLite file or a PostgreSQL schema of its own (used by ``conftest.database``).

A module of its own so that tests can import ``Database`` by a name no other ``conftest`` shadows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

POSTGRES_URL = os.environ.get("SAYLAU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Database:
    """A database for one test: URL and, on PostgreSQL, its own schema."""

    backend: str
    url: str
    schema: str | None


def _postgres_schema() -> Iterator[Database]:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    dsn = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {dsn} is unreachable ({exc}); start it with scripts/ensure-services.sh")
    with conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            yield Database("postgres", POSTGRES_URL, schema)
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
