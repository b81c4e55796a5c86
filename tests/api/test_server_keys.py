"""The server's key files live in a private data directory; voter pseudonyms are keyed by one of them."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from saylau.api import create_app
from saylau.api.routes_stations import voter_pseudonym
from saylau.errors import SaylauError
from saylau.store.models import Token

from .conftest import VOTERS, P, TestClient, setup_election
from .test_hostile_input import settings_for

KEY_FILES = ("saylau-board.pem", "saylau-revote.key", "saylau-pseudonym.key")


def _unkeyed(election_id: str, iin: str) -> str:
    """The pseudonym as it was: a bare SHA-256 anyone holding the database could recompute."""
    h = hashlib.sha256()
    for part in (b"saylau/voter-pseudonym/v1", election_id.encode(), iin.encode()):
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return "voter-" + h.hexdigest()[:24]


def test_key_files_are_made_in_a_private_data_directory(
    database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("SAYLAU_BOARD_KEY", "SAYLAU_REVOTE_KEY", "SAYLAU_PSEUDONYM_KEY", "SAYLAU_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    cwd = tmp_path / "started-here"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    data = tmp_path / "home" / "saylau"
    settings = settings_for(database, tmp_path, board_key_file=None, data_dir=data)
    app = create_app(settings)
    app.state.saylau.engine.dispose()
    assert list(cwd.iterdir()) == []  # nothing written where the server was started
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in KEY_FILES:
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    # a key file others may read is refused, naming the file and the fix
    (data / "saylau-revote.key").chmod(0o644)
    with pytest.raises(SaylauError, match=r"saylau-revote.key: mode 0644 .*chmod 600"):
        create_app(settings)
    (data / "saylau-revote.key").chmod(0o600)
    (data / "saylau-board.pem").chmod(0o640)
    with pytest.raises(SaylauError, match=r"saylau-board\.pem: mode 0640"):
        create_app(settings)


def test_the_default_data_directory_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from saylau.api.settings import default_data_dir

    monkeypatch.delenv("SAYLAU_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "saylau"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "saylau"
    monkeypatch.setenv("SAYLAU_DATA_DIR", str(tmp_path / "given"))
    assert default_data_dir() == tmp_path / "given"


def test_voter_pseudonyms_are_keyed_and_stable_across_restarts(
    client: TestClient, database: Any, tmp_path: Path
) -> None:
    el = setup_election(client)
    r = client.post(f"{P}/elections/{el.id}/stations/st-1/checkin", json={"iin": VOTERS[0]},
                    headers=el.h["station1"])
    assert r.status_code == 201, r.text
    state = client.app.state.saylau  # type: ignore[attr-defined]
    with state.reading() as s:
        stored = set(s.scalars(select(Token.voter_id).where(Token.role == "voter")))
    key = bytes.fromhex((tmp_path / "saylau-pseudonym.key").read_text().strip())
    assert stored == {voter_pseudonym(key, el.id, VOTERS[0])}
    assert _unkeyed(el.id, VOTERS[0]) not in stored  # not recomputable from the IIN alone
    assert voter_pseudonym(bytes(32), el.id, VOTERS[0]) not in stored
    # a restarted server (same data directory) loads the same key: the same voter, the same pseudonym
    again = create_app(settings_for(database, tmp_path, revote_key_file=tmp_path / "revote.key"))
    assert again.state.saylau.pseudonym_key == key
    again.state.saylau.engine.dispose()


def test_serve_refuses_to_make_new_keys_beside_old_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from saylau.cli import app as cli

    for var in ("SAYLAU_BOARD_KEY", "SAYLAU_REVOTE_KEY", "SAYLAU_PSEUDONYM_KEY", "SAYLAU_DATA_DIR",
                "SAYLAU_DATABASE_URL"):
        monkeypatch.setenv(var, "")  # so that what `serve` sets in the environment is undone after
        monkeypatch.delenv(var)
    monkeypatch.setenv("SAYLAU_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "saylau-board.pem").write_text("an old key\n")
    r = CliRunner().invoke(cli, ["serve", "--data-dir", str(tmp_path / "data")])
    assert r.exit_code == 2 and "move the key files" in r.output and "--board-key" in r.output, r.output
    assert not (tmp_path / "data").exists()  # nothing made
