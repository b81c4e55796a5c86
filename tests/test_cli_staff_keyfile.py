"""The staff commands' secret files (``saylau-secret/1``): what opens them and what each failure says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from saylau.crypto.keyfile import FORMAT, read_public, read_secret, write_secret
from saylau.errors import KeyFileError

WORD = "seven long words of passphrase"


def _write(path: Path, **public: object) -> None:
    write_secret(path, "guardian", {"election_id": "e1", **public}, {"secret": [1, 2, 3]}, WORD, log_n=14)


def test_round_trip_mode_and_fresh_salt(tmp_path: Path) -> None:
    path = tmp_path / "g.key"
    _write(path)
    assert path.stat().st_mode & 0o777 == 0o600
    doc = json.loads(path.read_text())
    assert doc["format"] == FORMAT and doc["kdf"]["log_n"] == 14 and "secret" not in doc["ciphertext"]
    opened = read_secret(path, "guardian", WORD)
    assert opened.secret == {"secret": [1, 2, 3]} and opened.public == {"election_id": "e1"}
    assert read_public(path, "guardian") == {"election_id": "e1"}
    _write(path)
    again = json.loads(path.read_text())
    assert again["kdf"]["salt"] != doc["kdf"]["salt"] and again["nonce"] != doc["nonce"]
    assert [p.name for p in tmp_path.iterdir()] == ["g.key"]  # no temporary file left behind


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["public"].update(election_id="e2"), "altered after it was written"),
        (lambda d: d.update(kind="guardian", nonce="00" * 12), "altered after it was written"),
        (lambda d: d["kdf"].update(log_n=15), "wrong passphrase"),  # another cost derives another key
        (lambda d: d["kdf"].update(log_n=10), "damaged secret file"),  # below the floor: refused unread
        (lambda d: d.update(ciphertext="!!"), "damaged secret file"),
        (lambda d: d.pop("check"), "damaged secret file"),
        (lambda d: d.update(format="saylau-secret/9"), "not a saylau secret file"),
        (lambda d: d.update(kind="protocol-key"), "a station commission's protocol key, not a guardian's"),
    ],
)
def test_every_failure_is_named(tmp_path: Path, change: object, message: str) -> None:
    path = tmp_path / "g.key"
    _write(path)
    doc = json.loads(path.read_text())
    change(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyFileError, match=message):
        read_secret(path, "guardian", WORD)


def test_wrong_passphrase_and_bad_cost_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "g.key"
    _write(path)
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        read_secret(path, "guardian", WORD + "!")
    monkeypatch.setenv("SAYLAU_SCRYPT_LOG_N", "9")
    with pytest.raises(KeyFileError, match="SAYLAU_SCRYPT_LOG_N='9'"):
        write_secret(tmp_path / "h.key", "guardian", {}, {}, WORD)
