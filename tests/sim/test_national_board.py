"""The streaming board store writes exactly the rows of the in-memory board's export."""

from __future__ import annotations

import resource
from datetime import UTC, datetime, timedelta

import pytest

from saylau.board import BoardSigner, BulletinBoard, MemoryBoardStore
from saylau.board.chain import payload_hash
from saylau.election.manifest import canonical_json
from saylau.errors import BoardError
from saylau.record import format as fmt
from saylau.sim.national_board import StreamingBoardStore, allow_open_files, merged_events, publish

START = datetime(2022, 11, 20, 1, 0, tzinfo=UTC)


def test_streaming_rows_equal_the_memory_export() -> None:
    signer = BoardSigner.generate()
    memory = BulletinBoard("e-1", MemoryBoardStore(), signer, 3, lambda: START)
    store = StreamingBoardStore()
    streaming = BulletinBoard("e-1", store, signer, 3, lambda: START)
    rows = [fmt.canonical_line(streaming.header())]
    for i in range(8):
        payload = {"ballot": {"ballot_id": f"b-{i}", "x": [1, 2, {"é": "ü"}]}, "state": "cast"}
        at = (START + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        memory.append("ballot", payload, code=f"{i:064x}", time=at)
        raw = canonical_json(payload) if i % 2 else None  # half with the payload's bytes given
        rows += publish(streaming, store, "ballot", payload, f"{i:064x}", time=at,
                        payload_hash=payload_hash(payload), raw=raw)
    memory.close()
    streaming.close()
    rows += store.drain()
    assert rows == [fmt.canonical_line(r) for r in memory.export_rows()]
    with pytest.raises(BoardError, match="written out"):
        list(store.entries())


def test_events_merge_in_time_then_station_order() -> None:
    def chunk(events):
        out = []
        for t, kind in events:
            out += [fmt.canonical_line({"t": t, "k": kind, "c": None, "h": "0" * 64}), b"{}\n"]
        return out

    a = chunk([("2022-11-20T01:00:00.000000Z", "ballot"), ("2022-11-20T03:00:00.000000Z", "turnout")])
    b = chunk([("2022-11-20T01:00:00.000000Z", "challenge"), ("2022-11-20T02:00:00.000000Z", "ballot")])
    got = [(e.time[11:13], e.station, e.kind) for e in merged_events([(0, a), (1, b)])]
    assert got == [("01", 0, "ballot"), ("01", 1, "challenge"), ("02", 1, "ballot"), ("03", 0, "turnout")]


def test_open_files_limit() -> None:
    allow_open_files(10)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        with pytest.raises(BoardError, match="ulimit -n"):
            allow_open_files(hard)
