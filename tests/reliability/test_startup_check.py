"""``saylau serve`` checks its database before serving: on a tampered one it refuses to start, in one line
with a non-zero exit; ``--skip-integrity-check`` starts anyway (and says so).

(That an intact database passes the check at every restart is shown by the crash soak, whose server
runs it each time it comes back.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.conftest import TestClient
from reliability.live_server import database_url
from reliability.test_integrity import TAMPERS, _cast_some
from saylau.cli import app as cli_app


def _serve(
    monkeypatch: pytest.MonkeyPatch, database: Any, tmp_path: Path, *extra: str
) -> tuple[Any, list[Any]]:
    started: list[Any] = []
    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve exports its settings to the environment
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append((a, k)))
    args = [
        "serve",
        "--database-url",
        database_url(database),
        "--data-dir",
        str(tmp_path / "data"),
        "--board-key",
        str(tmp_path / "board.pem"),
        "--revote-key",
        str(tmp_path / "revote.key"),
        "--checkpoint-every",
        "4",
        *extra,
    ]
    return CliRunner().invoke(cli_app, args), started


def test_serve_starts_on_an_intact_database(
    client: TestClient, database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cast_some(client)
    result, started = _serve(monkeypatch, database, tmp_path)
    assert result.exit_code == 0, result.output
    assert (
        "integrity check of the database: 1 elections" in result.output
        and "4 ballots intact" in result.output
    )
    assert len(started) == 1


@pytest.mark.parametrize("tamper", ["ballot row changed"])
def test_serve_refuses_a_tampered_database_in_one_line(
    client: TestClient, database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: str
) -> None:
    el = _cast_some(client)
    change, table = TAMPERS[tamper]
    with client.app.state.saylau.engine.begin() as conn:  # type: ignore[attr-defined]
        change(conn)
    result, started = _serve(monkeypatch, database, tmp_path)
    assert result.exit_code == 1, result.output
    assert started == []  # never served
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and table in errors[0] and f"election {el.id}" in errors[0], result.output
    assert "Traceback" not in result.output
    skipped, started = _serve(monkeypatch, database, tmp_path, "--skip-integrity-check")
    assert skipped.exit_code == 0 and len(started) == 1, skipped.output
    assert "integrity check of the database: skipped" in skipped.output
