"""Shared fixtures: a fresh database on each backend (SQLite file, PostgreSQL schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from databases import POSTGRES_URL, Database, _postgres_schema

__all__ = ["POSTGRES_URL", "Database", "database"]

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The same test on SQLite (a file in tmp_path) and on the local PostgreSQL server."""
    if request.param == "sqlite":
        yield Database("sqlite", f"sqlite:///{tmp_path / 'saylau.db'}", None)
    else:
        yield from _postgres_schema()
