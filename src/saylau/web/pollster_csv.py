"""Read a pollster's CSV files (sample design, interviews) into the API's bodies, naming every bad row.

The API takes JSON (``DesignIn``, ``InterviewsIn``); a pollster's field teams keep spreadsheets. The
console reads the file here and sends it through the API's own function only when every row is good,
so a file with one bad row stores nothing, and the refusal names each bad row by its line in the file,
its field and the reason (the first ``MAX_ERRORS`` of them).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection

from saylau.api.routes_polls import REFUSED

__all__ = ["MAX_BYTES", "MAX_ERRORS", "CsvRefused", "parse_design", "parse_interviews"]

MAX_ERRORS = 20
MAX_BYTES = 20 * 1024 * 1024


class CsvRefused(ValueError):
    """A CSV file the console will not send: each problem as ``line N, field 'f': reason``."""

    def __init__(self, problems: list[str], rows: int) -> None:
        """Keep every problem; the message names the first ``MAX_ERRORS``."""
        self.problems = problems
        shown = "; ".join(problems[:MAX_ERRORS])
        more = f"; and {len(problems) - MAX_ERRORS} more" if len(problems) > MAX_ERRORS else ""
        super().__init__(f"{len(problems)} problem(s) in {rows} row(s), nothing was stored: {shown}{more}")


Rows = list[tuple[int, dict[str, str]]]


def _rows(data: bytes, required: tuple[str, ...], aliases: dict[str, str]) -> tuple[Rows, int]:
    """The file's rows as (line, field → cell), the header checked; raise ``CsvRefused`` if unreadable."""
    if len(data) > MAX_BYTES:
        raise CsvRefused([f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB"], 0)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvRefused([f"the file is not UTF-8 text (byte {exc.start})"], 0) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [aliases.get(h.strip().lower(), h.strip().lower()) for h in next(reader, [])]
        missing = [f for f in required if f not in header]
        if not header or missing:
            raise CsvRefused([f"line 1: the header must name the columns {', '.join(required)}"
                              f" (missing: {', '.join(missing)})"], 0)
        out = []
        for raw in reader:
            if not raw or all(not c.strip() for c in raw):
                continue
            line = reader.line_num
            if len(raw) != len(header):
                out.append((line, {"": f"{len(raw)} cells, the header has {len(header)}"}))
                continue
            out.append((line, {h: c.strip() for h, c in zip(header, raw, strict=True)}))
    except csv.Error as exc:
        raise CsvRefused([f"line {reader.line_num}: not CSV ({exc})"], 0) from None
    if not out:
        raise CsvRefused(["the file has no data rows"], 0)
    return out, len(out)


def parse_interviews(data: bytes, sampled: Collection[str], options: Collection[str]) -> list[dict[str, str]]:
    """``station_id,answer`` rows (``answer``: an option id or ``refused``) → the API's interviews."""
    rows, count = _rows(data, ("station_id", "answer"), {"station": "station_id", "choice": "answer"})
    problems, out = [], []
    for line, row in rows:
        if "" in row:
            problems.append(f"line {line}: {row['']}")
            continue
        station, answer = row["station_id"], row["answer"]
        bad = False
        if not station:
            problems.append(f"line {line}, field 'station_id': empty")
            bad = True
        elif station not in sampled:
            problems.append(f"line {line}, field 'station_id': {station!r} is not in your sample")
            bad = True
        if not answer:
            problems.append(f"line {line}, field 'answer': empty")
            bad = True
        elif answer not in options and answer != REFUSED:
            problems.append(f"line {line}, field 'answer': {answer!r} is not an option or '{REFUSED}'")
            bad = True
        if not bad:
            out.append({"station_id": station, "answer": answer})
    if problems:
        raise CsvRefused(problems, count)
    return out


def parse_design(data: bytes, stations: Collection[str]) -> list[dict[str, object]]:
    """``station_id,stratum,pi`` rows (π in (0, 1]) → the API's sample design."""
    rows, count = _rows(data, ("station_id", "stratum", "pi"), {"station": "station_id", "region": "stratum"})
    problems: list[str] = []
    out: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if "" in row:
            problems.append(f"line {line}: {row['']}")
            continue
        station, stratum, raw_pi = row["station_id"], row["stratum"], row["pi"]
        bad = False
        if station not in stations:
            problems.append(f"line {line}, field 'station_id': no station {station!r} in this election")
            bad = True
        elif station in seen:
            problems.append(f"line {line}, field 'station_id': {station!r} repeats line {seen[station]}")
            bad = True
        else:
            seen[station] = line
        if not stratum:
            problems.append(f"line {line}, field 'stratum': empty")
            bad = True
        try:
            pi = float(raw_pi)
            if not 0 < pi <= 1:
                raise ValueError
        except ValueError:
            problems.append(f"line {line}, field 'pi': {raw_pi!r} is not a probability in (0, 1]")
            bad = True
        if not bad:
            out.append({"station_id": station, "stratum": stratum, "pi": pi})
    if problems:
        raise CsvRefused(problems, count)
    return out
