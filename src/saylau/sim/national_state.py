"""The national run's work directory: per-station chunks on disk and the state file that resumes a run.

Layout of ``<out>/work/``::

    config.json          what the run is (scenario, scale, seed, rates, manifest and key hashes)
    done.jsonl           one line per completed station: index, id, SHA-256 of its summary file
    stations/NNNNN.*     the station's chunk: .ballots.jsonl, .challenged.jsonl, .board.jsonl, .json

A chunk is written to temporary names, fsync'ed and renamed, and only then is its line appended (and
fsync'ed) to ``done.jsonl``; the summary ``.json`` lists the SHA-256 of the three data files. So a run
killed at any moment leaves only complete stations listed, and a resumed run checks every listed
station's files against their hashes before it trusts them (a damaged one is simply run again).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from saylau.errors import SaylauError
from saylau.sim.national_station import StationOutput

__all__ = ["DATA_PARTS", "WorkDir"]

DATA_PARTS = ("ballots", "challenged", "board")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class WorkDir:
    """The work directory of one run (created if needed); refuses one left by a different run."""

    def __init__(self, root: Path, config: dict[str, Any]) -> None:
        """Open ``root`` for the run described by ``config`` (``SaylauError`` if it holds another run)."""
        self.root = root
        self.stations = root / "stations"
        self.stations.mkdir(parents=True, exist_ok=True)
        cfg = root / "config.json"
        wanted = json.dumps(config, sort_keys=True, indent=1)
        if cfg.exists():
            if cfg.read_text(encoding="utf-8") != wanted:
                raise SaylauError(
                    f"{root} holds an unfinished run with other parameters (scenario, scale, seed or "
                    "options); rerun it with the same ones, or pass --restart to discard it"
                )
        else:
            _write_atomic(cfg, wanted.encode())
        self.done_log = root / "done.jsonl"

    def path(self, index: int, part: str) -> Path:
        """The file of ``part``: ``ballots``, ``challenged``, ``board`` (JSON Lines) or ``summary``."""
        suffix = ".json" if part == "summary" else f".{part}.jsonl"
        return self.stations / f"{index:05d}{suffix}"

    def save(self, out: StationOutput) -> str:
        """Write a station's chunk durably, then list it as done; return its summary hash."""
        summary = out.summary()
        for part in DATA_PARTS:
            data: bytes = getattr(out, part)
            _write_atomic(self.path(out.index, part), data)
            summary[f"{part}_sha256"] = _sha256(data)
        blob = json.dumps(summary, sort_keys=True).encode()
        _write_atomic(self.path(out.index, "summary"), blob)
        digest = _sha256(blob)
        line = json.dumps({"index": out.index, "station_id": out.station_id, "summary_sha256": digest})
        with open(self.done_log, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        return digest

    def _intact(self, index: int, digest: str) -> bool:
        try:
            blob = self.path(index, "summary").read_bytes()
            if _sha256(blob) != digest:
                return False
            summary = json.loads(blob)
            return all(
                _sha256(self.path(index, part).read_bytes()) == summary[f"{part}_sha256"]
                for part in DATA_PARTS
            )
        except (OSError, ValueError, KeyError):
            return False

    def completed(self) -> dict[int, str]:
        """Stations already done (index → station id) whose files are intact; a torn last line is ignored."""
        if not self.done_log.exists():
            return {}
        done: dict[int, str] = {}
        for raw in self.done_log.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:  # a line cut by the kill
                continue
            if self._intact(entry["index"], entry["summary_sha256"]):
                done[entry["index"]] = entry["station_id"]
        return done

    def summary(self, index: int) -> dict[str, Any]:
        """A completed station's summary."""
        result: dict[str, Any] = json.loads(self.path(index, "summary").read_bytes())
        return result

    def lines(self, index: int, part: str) -> Iterator[bytes]:
        """The lines of a station's data file, streamed."""
        with open(self.path(index, part), "rb") as f:
            yield from f
