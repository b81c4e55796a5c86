"""A group write that breaks a constraint at flush fails its own item only (the rest is committed)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from saylau.api.committer import GroupCommitter

meta = MetaData()
items = Table("items", meta, Column("id", Integer, primary_key=True), Column("name", String(40)))


@pytest.fixture
def committer(tmp_path: Path) -> Iterator[tuple[GroupCommitter, sessionmaker[Session]]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'g.db'}")
    meta.create_all(engine)
    sessions = sessionmaker(engine)
    with sessions() as s, s.begin():
        s.execute(insert(items).values(id=100, name="stored earlier"))

    @contextmanager
    def transaction() -> Iterator[Session]:
        with sessions() as s, s.begin():
            yield s

    c = GroupCommitter(transaction, max_batch=50)
    yield c, sessions
    c.stop()
    engine.dispose()


def test_a_flush_failure_in_a_group_fails_only_its_item(
    committer: tuple[GroupCommitter, sessionmaker[Session]], caplog: pytest.LogCaptureFixture
) -> None:
    c, sessions = committer
    gate = threading.Event()
    calls: list[list[int]] = []

    def hold(session: Session) -> None:
        gate.wait(5)

    def group(session: Session, args: list[int]) -> list[object]:
        calls.append(list(args))
        for i in args:  # no check of its own: item 100 collides with the stored row at flush
            session.execute(insert(items).values(id=i, name=f"secret-{i}"))
        return list(args)

    first = c.submit(hold)
    futures = c.submit_group(group, [1, 100, 3])
    with caplog.at_level(logging.WARNING, logger="saylau.api.committer"):
        gate.set()
        first.result(10)
        assert futures[0].result(10) == 1 and futures[2].result(10) == 3
        with pytest.raises(IntegrityError):
            futures[1].result(10)
    assert calls == [[1, 100, 3], [1], [100], [3]]  # the group once, then each item alone
    with sessions() as s:
        assert sorted(s.scalars(select(items.c.id))) == [1, 3, 100]
        assert s.scalar(select(items.c.name).where(items.c.id == 100)) == "stored earlier"
    assert "secret" not in caplog.text  # no statement parameters in the log
