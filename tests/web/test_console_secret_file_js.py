"""The browser's secret files (static/console/secret_file.js) against saylau.crypto.keyfile and the CLI.

A protocol key made by ``saylau protocol keygen`` (at the command line's own scrypt cost) opens in the
browser's code and signs a protocol Python verifies; a key made by the browser's code opens with
``read_secret`` and ``saylau protocol sign``; and each way a file can be wrong (a wrong passphrase, a
file altered after it was written, a damaged or foreign one) is told apart the same way on both sides.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from saylau.crypto.keyfile import DEFAULT_LOG_N, read_secret, write_secret
from saylau.election.protocols import SignedProtocol
from saylau.errors import KeyFileError
from test_cli_staff_ceremony import ok, run

from .test_booth_js import ROOT, run_node

SCRIPT = ROOT / "tests" / "web" / "js" / "secret_file_stdin.mjs"
WORD = "Сайлау: a commission's passphrase ✓"
FIGURES = {"station": "st-1", "registered": 5, "ballots_received": 3, "ballots_issued": 3,
           "ballots_unused": 0, "ballots_spoiled": 0, "ballots_in_boxes": 3, "valid": 3, "invalid": 0,
           "votes": {"a": 2, "b": 1}}
FIELDS = {"electionId": "e2022", "version": 1, "supersedes": None, "reason": "",
          "signedAt": "2022-11-20T15:04:05Z", "figures": FIGURES}


def _public_key(hex_key: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))


def test_a_key_from_the_command_line_signs_in_the_browser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAYLAU_SCRYPT_LOG_N", raising=False)  # the command line's own cost, 2^17
    pf = tmp_path / "pass.txt"
    pf.write_text(WORD + "\n", encoding="utf-8")
    key = tmp_path / "st-1.key"
    public = ok(capsys, "protocol", "keygen", str(key), "--election", "e2022", "--station", "st-1",
                "--passphrase-file", str(pf)).strip()
    text = key.read_text(encoding="utf-8")
    assert json.loads(text)["kdf"]["log_n"] == DEFAULT_LOG_N == 17
    out = run_node(SCRIPT, {
        "open": [{"text": text, "kind": "protocol-key", "passphrase": WORD},
                 {"text": text, "kind": "protocol-key", "passphrase": WORD + " "}],
        "sign": [{"text": text, "passphrase": WORD, "election": "e2022", "station": st, "fields": FIELDS}
                 for st in ("st-1", "st-2")],
    })
    opened = read_secret(key, "protocol-key", WORD)
    assert out["open"][0] == {"public": opened.public, "secret": opened.secret}
    assert out["open"][1]["error"] == "wrong-passphrase"
    signed = SignedProtocol.model_validate(out["sign"][0])
    assert signed.signer == public
    signed.verify(_public_key(public))
    assert out["sign"][1]["error"] == "wrong-station"


def test_a_key_from_the_browser_opens_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAYLAU_SCRYPT_LOG_N", raising=False)
    out = run_node(SCRIPT, {"keys": [{"election": "e2022", "station": "st-1", "passphrase": WORD,
                                      "log_n": DEFAULT_LOG_N}]})
    made = out["keys"][0]
    key = tmp_path / "browser.key"
    key.write_text(made["text"], encoding="utf-8")
    opened = read_secret(key, "protocol-key", WORD)
    assert opened.public == {"election_id": "e2022", "station_id": "st-1", "public_key": made["public_key"]}
    assert json.loads(made["text"])["kdf"]["log_n"] == 17
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        read_secret(key, "protocol-key", "another passphrase")
    pf, fig = tmp_path / "pass.txt", tmp_path / "figures.json"
    pf.write_text(WORD + "\n", encoding="utf-8")
    fig.write_text(json.dumps(FIGURES), encoding="utf-8")
    signed = SignedProtocol.model_validate_json(
        ok(capsys, "protocol", "sign", str(key), str(fig), "--passphrase-file", str(pf)))
    signed.verify(_public_key(made["public_key"]))
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase at all\n", encoding="utf-8")
    code, _, err = run(capsys, "protocol", "sign", str(key), str(fig), "--passphrase-file", str(wrong))
    assert code != 0 and "wrong passphrase" in err


def test_any_secret_round_trips_both_ways(tmp_path: Path) -> None:
    public = {"election_id": "é-2030", "index": 3,
              "nested": {"z": [1, None, True], "a": "«кандидат» \U0001f5f3"}}
    secret = {"polynomial": ["ab" * 32, "cd" * 32], "shares": {"2": "x"}, "note": "\u2028\u0007\"\\/"}
    path = tmp_path / "python.key"
    write_secret(path, "guardian", public, secret, WORD, log_n=14)
    out = run_node(SCRIPT, {
        "open": [{"text": path.read_text(encoding="utf-8"), "kind": "guardian", "passphrase": WORD}],
        "write": [{"kind": "guardian", "public": public, "secret": secret, "passphrase": WORD, "log_n": 14}],
    })
    assert out["open"][0] == {"public": public, "secret": secret}
    browser = tmp_path / "browser.key"
    browser.write_text(out["write"][0], encoding="utf-8")
    opened = read_secret(browser, "guardian", WORD)
    assert (opened.public, opened.secret) == (public, secret)


CHANGES: list[tuple[Callable[[dict[str, Any]], Any], str, str]] = [
    (lambda d: d["public"].update(station_id="st-2"), "altered", "altered after it was written"),
    (lambda d: d.update(nonce="00" * 12), "altered", "altered after it was written"),
    (lambda d: d["kdf"].update(log_n=15), "wrong-passphrase", "wrong passphrase"),
    (lambda d: d["kdf"].update(log_n=10), "damaged", "damaged secret file"),
    (lambda d: d.update(ciphertext="!!"), "damaged", "damaged secret file"),
    (lambda d: d.pop("check"), "damaged", "damaged secret file"),
    (lambda d: d.update(extra=1), "damaged", "damaged secret file"),
    (lambda d: d.update(format="saylau-secret/9"), "not-secret-file", "not a saylau secret file"),
    (lambda d: d.update(kind="guardian"), "wrong-kind", "a guardian's key file, not a station commission's"),
]


def test_each_fault_is_told_apart_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    public = {"election_id": "e2022", "station_id": "st-1", "public_key": "00" * 32}
    write_secret(path, "protocol-key", public, {"ed25519_private_key": "11" * 32}, WORD, log_n=14)
    texts = []
    for change, _, _ in CHANGES:
        doc = json.loads(path.read_text(encoding="utf-8"))
        change(doc)
        texts.append(json.dumps(doc))
    out = run_node(SCRIPT, {"open": [{"text": t, "kind": "protocol-key", "passphrase": WORD} for t in texts]})
    for (_, code, message), text, got in zip(CHANGES, texts, out["open"], strict=True):
        assert got.get("error") == code, (code, got)
        path.write_text(text, encoding="utf-8")
        with pytest.raises(KeyFileError, match=message):
            read_secret(path, "protocol-key", WORD)
