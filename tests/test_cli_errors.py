"""A user's mistake on the command line is one line and a non-zero exit, never a Python traceback.

Each mistake runs through the console script's entry point ``saylau.cli:main`` (the central handler),
in-process with the output captured; a bug still shows its traceback, with a line saying it is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from saylau.cli import app, main

GOOD_PASSWORD = "vermilion tractor quietly hums"
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run ``saylau argv`` as the console script does: the exit code and stdout + stderr."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out.out + out.err


def assert_one_line_error(code: int, output: str, *words: str) -> None:
    assert code != 0, output
    assert "Traceback" not in output, output
    for word in words:
        assert word in output, output


@pytest.fixture(autouse=True)
def _quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAYLAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SAYLAU_DEBUG", raising=False)
    monkeypatch.delenv("SAYLAU_DATABASE_URL", raising=False)


def _db_url(database: Any) -> str:
    url: str = database.url
    if database.schema is not None:
        url += f"?options=-csearch_path%3D{database.schema}"
    return url


def test_short_password(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAYLAU_PASSWORD", "short")
    code, out = run(capsys, "user", "add", "bob", "--role", "cec", "--database-url", UNREACHABLE)
    assert_one_line_error(code, out, "at least 12 characters")


def test_missing_option(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAYLAU_PASSWORD", GOOD_PASSWORD)
    code, out = run(capsys, "user", "add", "bob")
    assert_one_line_error(code, out, "Missing option '--role'")


def test_existing_user_and_unknown_role(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database: Any
) -> None:
    monkeypatch.setenv("SAYLAU_PASSWORD", GOOD_PASSWORD)
    url = _db_url(database)
    code, out = run(capsys, "user", "add", "bob", "--role", "cec", "--database-url", url)
    assert code == 0 and "user bob (cec) created" in out, out
    code, out = run(capsys, "user", "add", "bob", "--role", "cec", "--database-url", url)
    assert_one_line_error(code, out, "'bob' already exists")
    code, out = run(capsys, "user", "add", "carol", "--role", "king", "--database-url", url)
    assert_one_line_error(code, out, "'king' is not a login role")


@pytest.mark.parametrize(
    "argv",
    [
        ["db", "upgrade", "--database-url", UNREACHABLE],
        ["serve", "--database-url", UNREACHABLE],
        ["user", "add", "bob", "--role", "cec", "--database-url", UNREACHABLE],
    ],
    ids=["db-upgrade", "serve", "user-add"],
)
def test_unreachable_database(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setenv("SAYLAU_PASSWORD", GOOD_PASSWORD)
    code, out = run(capsys, *argv)
    assert_one_line_error(code, out, "error: cannot use the database", "Connection refused")
    assert len(out.strip().splitlines()) == 1, out


def test_database_in_a_missing_dir_and_bad_url(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = run(capsys, "db", "upgrade", "--database-url", f"sqlite:///{tmp_path}/no/such/dir/x.db")
    assert_one_line_error(code, out, "cannot use the database", "unable to open database file")
    code, out = run(capsys, "db", "upgrade", "--database-url", "nosuch://x")
    assert_one_line_error(code, out, "bad database URL", "nosuch")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["verify", "no-such-record"], ["no-such-record", "does not exist"]),
        (["results", "no-such-results"], ["no-such-results"]),
        (["forensics", "no-such.csv", "--out", "f"], ["no-such.csv"]),
        (["exitpoll", "no-such.csv", "--out", "e"], ["no-such.csv"]),
        (["demo", "--scenario", "atlantis-1999", "--out", "d"], ["'atlantis-1999' not found"]),
        (["simulate", "atlantis-1999", "--paper", "--out", "s"], ["'atlantis-1999' not found"]),
        (["exitpoll", "x.csv", "--out", "e", "--scenario", "atlantis-1999"], ["'atlantis-1999' not found"]),
        (["verify"], ["Missing argument"]),
        (["no-such-command"], ["No such command"]),
    ],
    ids=["verify", "results", "forensics", "exitpoll", "demo-scenario", "simulate-scenario",
         "exitpoll-scenario", "missing-argument", "unknown-command"],
)
def test_missing_files_and_names(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]) -> None:
    code, out = run(capsys, *argv)
    assert_one_line_error(code, out, *words)


def test_a_file_the_command_cannot_write(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a directory", encoding="utf-8")
    code, out = run(capsys, "demo", "--out", "taken/out", "--scale", "0.001", "--pilot-stations", "1",
                    "--pilot-ballots", "2", "--guardians", "2", "--quorum", "1", "--missing", "0")
    assert_one_line_error(code, out, "taken")


def _boom() -> None:
    raise RuntimeError("an internal invariant broke")


def _bad_input() -> None:
    raise ValueError("the count must be positive\nsecond line of detail")


@pytest.fixture
def extra_commands() -> Any:
    """Two throwaway commands on the real application: a bug and a user's mistake."""
    app.command("boom-for-test")(_boom)
    app.command("bad-input-for-test")(_bad_input)
    yield
    app.registered_commands[:] = [
        c for c in app.registered_commands if c.name not in ("boom-for-test", "bad-input-for-test")
    ]


@pytest.mark.usefixtures("extra_commands")
def test_a_bug_shows_its_traceback_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "boom-for-test")
    assert code == 70
    assert "Traceback" in out and "RuntimeError: an internal invariant broke" in out
    assert "this is a bug in saylau" in out


@pytest.mark.usefixtures("extra_commands")
def test_debug_shows_the_traceback_of_a_mistake(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = run(capsys, "bad-input-for-test")
    assert code == 1 and out.strip() == "error: the count must be positive", out
    code, out = run(capsys, "--debug", "bad-input-for-test")
    assert code == 1 and "Traceback" in out and out.strip().endswith("error: the count must be positive")
    monkeypatch.setenv("SAYLAU_DEBUG", "1")
    code, out = run(capsys, "bad-input-for-test")
    assert code == 1 and "Traceback" in out


def test_help_and_success_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--help")
    assert code == 0 and "verify" in out
