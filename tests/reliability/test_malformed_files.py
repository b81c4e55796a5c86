"""Malformed files are refused with the line or the field named: scenario files, station-results and
turnout CSVs (forensics), election records, through the command line (one ``error:`` line, a non-zero
exit, no traceback); voter-roll CSVs and exit-poll interviews through the API where they are uploaded
(4xx naming the row and field, nothing stored). Backup archives: ``test_backup.py``.

Exit-poll interviews have no CSV form: they are uploaded as JSON (``POST …/exit-polls``), refused here
naming the interview's index and field.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import rfc8785

from api.conftest import CSV, VOTERS, P, TestClient, roll_csv, setup_election
from saylau.cli import main
from saylau.errors import ForensicsError
from saylau.forensics.load import read_station_csv, read_turnout_csv

SCENARIO = Path(__file__).parents[1] / "fixtures" / "scenarios" / "alpen"


def run(*argv: str) -> tuple[int, str]:
    """``saylau argv`` through the console script's entry point: exit code, stdout + stderr."""
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out), pytest.raises(SystemExit) as info:
        main(list(argv))
    code = info.value.code
    return (code if isinstance(code, int) else 1), out.getvalue()


def one_line_error(code: int, output: str, *words: str) -> str:
    """The command failed with exactly one ``error:`` line holding ``words``, and no traceback."""
    assert code != 0, output
    assert "Traceback" not in output, output
    errors = [ln for ln in output.splitlines() if "error:" in ln.lower() or "FAILED" in ln]
    assert len(errors) == 1, output
    for w in words:
        assert w in errors[0], (w, errors[0])
    return errors[0]


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # narrow, as in a terminal: an error must not wrap onto two lines
    monkeypatch.delenv("SAYLAU_DEBUG", raising=False)


# -- scenario files ----------------------------------------------------------------------------------------


def _edit(name: str, old: str | None, new: str | bytes) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        p = d / name
        if isinstance(new, bytes):
            p.write_bytes(new)
            return
        text = p.read_text(encoding="utf-8")
        assert old is not None and old in text, (name, old)
        p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return edit


SCENARIO_CASES = {
    "TOML syntax": (_edit("scenario.toml", "format = 1", "format = = 1"), ("scenario.toml", "line 2")),
    "TOML type": (_edit("scenario.toml", "format = 1", 'format = "one"'), ("scenario.toml", "'format'")),
    "TOML pattern": (
        _edit("scenario.toml", 'polls_open_local = "08:00"', 'polls_open_local = "8 o\'clock"'),
        ("scenario.toml", "rules.polls_open_local"),
    ),
    "time zone": (
        _edit("scenario.toml", 'time_zone = "Europe/Zurich"', 'time_zone = "Mars/Olympus"'),
        ("territory.regions.0.time_zone", "Mars/Olympus"),
    ),
    "station size": (
        _edit("stations.csv", "nord-0001,nord-1,400", "nord-0001,nord-1,four hundred"),
        ("stations.csv", "line 2", "expected_size"),
    ),
    "short row": (_edit("stations.csv", "ost-0001,ost-1,300", "ost-0001"), ("stations.csv", "line 3")),
    "missing column": (
        _edit("stations.csv", "id,district,expected_size", "id,district,size"),
        ("stations.csv", "expected_size"),
    ),
    "unknown district": (
        _edit("stations.csv", "ost-0001,ost-1,300", "ost-0001,west-9,300"), ("ost-0001", "west-9"),
    ),
    "not UTF-8": (
        _edit("districts.csv", None, b"id,region\n\xff\xfe\x00garbage\n"), ("districts.csv", "UTF-8"),
    ),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_a_malformed_scenario_is_refused_naming_the_file_and_field(tmp_path: Path, case: str) -> None:
    edit, words = SCENARIO_CASES[case]
    scenario = tmp_path / "alpen"
    shutil.copytree(SCENARIO, scenario)
    edit(scenario)
    code, output = run("simulate", str(scenario), "--paper", "--out", str(tmp_path / "out"))
    one_line_error(code, output, *words)
    assert not (tmp_path / "out" / "results.json").exists()


# -- station results and turnout (forensics input) ----------------------------------------------------------

GOOD = "station,region,registered,voted,a,b\n" + "".join(
    f"s{i},r{i % 3},{1000 + i},{600 + i},{300 + i},250\n" for i in range(30)
)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"station;region;registered;voted;a;b\n1;2;3;4;5;6\n", ("header must start with", "station;region")),
        (b"", ("header must start with",)),
        (b"\xff\xfe\x00\x01garbage", ("not UTF-8", "byte 0")),
        (b"station,region,registered,voted,a,b\ns1,r1,x,5,1,1\ns2,r1,9\n",
         ("no usable station rows", "(line 2)", "(line 3)")),
    ],
    ids=["semicolons", "empty", "binary", "no good row"],
)
def test_a_malformed_station_csv_is_refused_by_forensics(
    tmp_path: Path, content: bytes, words: tuple[str, ...]
) -> None:
    path = tmp_path / "stations.csv"
    path.write_bytes(content)
    code, output = run("forensics", str(path), "--out", str(tmp_path / "report"), "--replications", "5")
    one_line_error(code, output, str(path), *words)


def test_bad_rows_of_a_station_csv_are_dropped_naming_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "stations.csv"
    path.write_text(GOOD + "s99,r1,abc,5,1,1\ns98,r1,100\ns97,r1,0,0,0,0\n", encoding="utf-8")
    _, report = read_station_csv(path)
    assert report.lines == {"a count is not a non-negative integer": [32], "wrong number of cells": [33],
                            "zero registered voters": [34]}
    # what `saylau forensics` prints after "N rows dropped:" (a full report run is left to its own tests)
    assert report.where() == ("a count is not a non-negative integer: 1 (line 32); wrong number of cells: 1 "
                              "(line 33); zero registered voters: 1 (line 34)")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("station,time,voted\ns1,10:00,5\ns1,12:00,many\n", ("line 3", "many")),
        ("station,time,voted\ns1,10:00,5\ns2,noon,7\n", ("line 3", "noon")),
        ("station,10:00,12:00\ns1,5,9\ns2,4,x\n", ("line 3",)),
        ("where,10:00\n", ("first column 'station'",)),
    ],
    ids=["long value", "long time", "wide value", "header"],
)
def test_a_malformed_turnout_csv_names_the_line(tmp_path: Path, content: str, words: tuple[str, ...]) -> None:
    path = tmp_path / "turnout.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ForensicsError) as info:
        read_turnout_csv(path)
    for w in words:
        assert w in str(info.value), str(info.value)
    path.write_bytes(b"station,10:00\n\xff\n")
    with pytest.raises(ForensicsError, match="not UTF-8"):
        read_turnout_csv(path)


# -- election records ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from saylau.record.demo import run_demo
    from saylau.sim.pilot import pilot_election

    out = tmp_path_factory.mktemp("record") / "record"
    pilot = pilot_election(stations=2, ballots=6, seed=3)
    run_demo(out, pilot.manifest, pilot.plan, guardians=3, quorum=2, missing=1, challenge_rate=0.25,
             remote_rate=0.5, revote_rate=0.5, seed=3, workers=1, registered=pilot.registered)
    return out


def _rehash(d: Path) -> None:
    """Recompute files.json after a change, as a careless (or hostile) writer would."""
    doc = json.loads((d / "files.json").read_bytes())
    for f in doc["files"]:
        data = (d / f["name"]).read_bytes()
        f["bytes"], f["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    (d / "files.json").write_bytes(rfc8785.dumps(doc))


def _cut_line(name: str) -> Callable[[Path], None]:
    """Line 2 of a JSON Lines file cut in half (inside the gzip stream for a ``.gz`` file)."""
    def cut(d: Path) -> None:
        raw = (d / name).read_bytes()
        text = gzip.decompress(raw) if name.endswith(".gz") else raw
        lines = text.splitlines(keepends=True)
        lines[1] = lines[1][: len(lines[1]) // 2] + b"\n"
        out = b"".join(lines)
        (d / name).write_bytes(gzip.compress(out, mtime=0) if name.endswith(".gz") else out)
        _rehash(d)
    return cut


def _garble(name: str) -> Callable[[Path], None]:
    def garble(d: Path) -> None:
        data = bytearray((d / name).read_bytes())
        data[len(data) // 2] ^= 0x5A
        (d / name).write_bytes(bytes(data))
    return garble


def _truncate(name: str, rehash: bool) -> Callable[[Path], None]:
    def truncate(d: Path) -> None:
        data = (d / name).read_bytes()
        (d / name).write_bytes(data[: len(data) // 2])
        if rehash:
            _rehash(d)
    return truncate


RECORD_CASES: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "ballot line cut": (_cut_line("ballots.jsonl.gz"), ("ballots.jsonl.gz line 2",)),
    "board line cut": (_cut_line("board.jsonl.gz"), ("board.jsonl.gz line 2",)),
    "tally line cut": (_cut_line("tallies.jsonl"), ("tallies.jsonl line 2",)),
    "ballots truncated": (_truncate("ballots.jsonl.gz", rehash=True), ("ballots.jsonl.gz", "gzip")),
    "manifest truncated": (_truncate("manifest.json", rehash=True), ("manifest.json",)),
    "ballot byte garbled": (_garble("ballots.jsonl.gz"), ("ballots.jsonl.gz", "SHA-256")),
    "files.json truncated": (_truncate("files.json", rehash=False), ("files.json", "not valid JSON")),
    "file missing": (lambda d: (d / "challenged.jsonl").unlink(), ("challenged.jsonl", "missing")),
}


@pytest.mark.parametrize("case", sorted(RECORD_CASES))
def test_a_malformed_record_fails_verification_naming_the_file_and_line(
    record: Path, tmp_path: Path, case: str
) -> None:
    change, words = RECORD_CASES[case]
    d = tmp_path / "record"
    shutil.copytree(record, d)
    change(d)
    code, output = run("verify", str(d), "--quiet")
    one_line_error(code, output, *words)


def test_a_record_archive_or_a_truncated_one_is_named(record: Path, tmp_path: Path) -> None:
    archive = tmp_path / "record.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(record, "record")
    code, output = run("verify", str(archive), "--quiet")
    one_line_error(code, output, str(archive), "is a file, not a record directory", "extract")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[:200])
    code, output = run("verify", str(cut), "--quiet")
    one_line_error(code, output, "not a record directory")


# -- uploads through the API ------------------------------------------------------------------------------


def _roll_cases() -> dict[str, tuple[str | bytes, tuple[str, ...]]]:
    lines = roll_csv().splitlines()
    wrong_digit = VOTERS[2][:-1] + str((int(VOTERS[2][-1]) + 1) % 10)
    return {
        "check digit": ("\n".join([*lines[:3], lines[3].replace(VOTERS[2], wrong_digit)]) + "\n",
                        ("row 4", "field 'iin'", "check digit")),
        "date": ("\n".join([*lines[:3], lines[3].replace("1962-03-03", "1962-13-45")]) + "\n",
                 ("row 4", "field 'date_of_birth'")),
        "station": ("\n".join([*lines[:2], lines[2].replace("st-2", "st-9")]) + "\n",
                    ("row 3", "field 'station'", "st-9")),
        "short row": ("\n".join([*lines[:2], lines[2].rsplit(",", 2)[0]]) + "\n",
                      ("row 3", "expected 6 fields")),
        "missing column": (roll_csv().replace("date_of_birth,", "", 1), ("missing column", "date_of_birth")),
        "semicolons": (roll_csv().replace(",", ";"), ("missing column", "iin")),
        "not UTF-8": (b"iin,last_name\n\xff\xfe\x00\x01\n", ("not UTF-8", "byte")),
    }


def test_malformed_roll_csvs_are_refused_naming_row_and_field_and_nothing_is_stored(
    client: TestClient,
) -> None:
    el = setup_election(client, open_it=False)
    cec = el.h["cec"]
    before = client.get(f"{P}/elections/{el.id}/roll").json()
    board = client.get(f"{P}/elections/{el.id}/board").text
    for case, (body, words) in _roll_cases().items():
        r = client.post(f"{P}/elections/{el.id}/roll", content=body, headers={**cec, **CSV})
        assert r.status_code == 422, (case, r.text)
        for w in words:
            assert w in r.json()["detail"], (case, w, r.json()["detail"])
        assert client.get(f"{P}/elections/{el.id}/roll").json() == before, case
        assert client.get(f"{P}/elections/{el.id}/board").text == board, case


def test_malformed_interviews_are_refused_naming_the_interview_and_field(client: TestClient) -> None:
    el = setup_election(client)
    pollster = el.h["pollster"]
    design = {"stations": [{"station_id": s, "stratum": "r1", "pi": 1.0} for s in ("st-1", "st-2")]}
    url = f"{P}/elections/{el.id}/exit-polls/design"
    assert client.put(url, json=design, headers=pollster).status_code == 200
    ok = {"station_id": "st-1", "answer": "cand-a"}
    cases = [
        ([ok, {"station_id": "st-1", "answer": "nobody"}], ("interviews.1.answer", "nobody")),
        ([{"station_id": "st-7", "answer": "cand-a"}], ("interviews.0.station_id", "st-7")),
        ([ok, ok, {"station_id": "st-2", "answer": 5}], ("interviews.2.answer",)),
        ([{"station_id": "st-2"}], ("interviews.0.answer",)),
        ("st-1,cand-a", ("interviews",)),
    ]
    for body, words in cases:
        r = client.post(f"{P}/elections/{el.id}/exit-polls", json={"interviews": body}, headers=pollster)
        assert r.status_code == 422, r.text
        for w in words:
            assert w in r.json()["detail"], (w, r.json()["detail"])
    # nothing was stored: the design can still be replaced (it is fixed once an interview exists)
    url = f"{P}/elections/{el.id}/exit-polls/design"
    assert client.put(url, json=design, headers=pollster).status_code == 200
