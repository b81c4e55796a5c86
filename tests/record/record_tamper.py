"""Helpers that tamper with a copied record the way an adversary who rewrites files.json would."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from saylau.election.manifest import canonical_json
from saylau.record import format as fmt
from saylau.record.board_payloads import ballot_entry, challenge_entry
from saylau.record.writer import write_files_manifest


def read_lines(path: Path) -> list[Any]:
    data = path.read_bytes()
    text = gzip.decompress(data) if path.suffix == ".gz" else data
    return [json.loads(line) for line in text.splitlines()]


def write_lines(path: Path, objs: list[Any], rehash: bool = True) -> None:
    data = b"".join(canonical_json(o) + b"\n" for o in objs)
    path.write_bytes(gzip.compress(data, fmt.GZIP_LEVEL, mtime=0) if path.suffix == ".gz" else data)
    if rehash:
        write_files_manifest(path.parent)


def read_json(path: Path) -> Any:
    return json.loads(path.read_bytes())


def write_json(path: Path, obj: Any, rehash: bool = True) -> None:
    path.write_bytes(canonical_json(obj))
    if rehash:
        write_files_manifest(path.parent)


def read_board(record: Path) -> list[Any]:
    """The record's board rows with the ballot and challenge payloads put back (the full board).

    A ``saylau-record/2`` board leaves those payloads out; the k-th such entry is the k-th line of
    ``ballots.jsonl`` (and a challenge's opening the next line of ``challenged.jsonl``).
    """
    rows = read_lines(record / fmt.BOARD)
    lines = iter(read_lines(record / fmt.BALLOTS))
    openings = iter(read_lines(record / fmt.CHALLENGED))
    for row in rows:
        if row.get("type") == "entry" and row["kind"] in fmt.ELIDED_KINDS:
            d = next(lines)
            if row["kind"] == "ballot":
                row["payload"] = ballot_entry(d["ballot"], d["device_id"], d["station_id"])
            else:
                o = next(openings)
                opened = {"ballot": d["ballot"], "ballot_nonce": o["ballot_nonce"], "choices": o["choices"]}
                row["payload"] = challenge_entry(opened, d["device_id"], d["station_id"])
    return rows


def write_board(record: Path, rows: list[Any], rehash: bool = True) -> None:
    """Write full board rows as the record holds them: ballot and challenge payloads left out."""
    out = [
        {k: v for k, v in r.items() if k != "payload"}
        if r.get("type") == "entry" and r.get("kind") in fmt.ELIDED_KINDS
        else r
        for r in rows
    ]
    write_lines(record / fmt.BOARD, out, rehash)
