"""Helpers that tamper with a copied record the way an adversary who rewrites files.json would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from saylau.election.manifest import canonical_json
from saylau.record.writer import write_files_manifest


def read_lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def write_lines(path: Path, objs: list[Any], rehash: bool = True) -> None:
    path.write_bytes(b"".join(canonical_json(o) + b"\n" for o in objs))
    if rehash:
        write_files_manifest(path.parent)


def read_json(path: Path) -> Any:
    return json.loads(path.read_bytes())


def write_json(path: Path, obj: Any, rehash: bool = True) -> None:
    path.write_bytes(canonical_json(obj))
    if rehash:
        write_files_manifest(path.parent)
