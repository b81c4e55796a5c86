"""Ballots encrypted in Chromium, through to the election record: the server accepts them, the election
is tallied and decrypted through the API, and ``saylau verify`` accepts the exported record.

Kiosk: a voter challenges, then casts. Remote: a voter challenges (the opened ballot goes on the board
without the revote tag: same ciphertexts, its own code), casts, revotes. The record's counts are the
cast choices, the challenged ballots opened in ``challenged.jsonl``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from api.conftest import tally_and_share, wait_job
from saylau.api import API_PREFIX as P

from .booth_server import BoothServer, booth_server
from .test_booth_kiosk import check_in, start_kiosk
from .test_booth_remote import board_states, cast, choose_and_encrypt, sign_in

__all__ = ["booth_server"]

SAYLAU = Path(sys.executable).parent / "saylau"


def _decrypted(server: BoothServer) -> None:
    el, c = server.election, server.http
    cec = el.h["cec"]
    assert el.params is not None
    assert c.post(f"{P}/elections/{el.id}/close", headers=cec).status_code == 200
    tally_and_share(c, el, el.guardians[:2])  # the third guardian is missing
    job = c.post(f"{P}/elections/{el.id}/decrypt", headers=cec).json()
    assert wait_job(c, cec, job["id"])["state"] == "succeeded"  # type: ignore[arg-type]


def _saylau(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SAYLAU), *args], capture_output=True, text=True, timeout=300, check=False)


def _check_opening(server: BoothServer, tmp: Path, opening: dict[str, Any], shown: str, tag: str) -> None:
    """``saylau check-opening`` accepts the downloaded opening and the code the voter saw; not a forgery."""
    params = tmp / "parameters.json"
    params.write_text(server.http.get(f"{P}/elections/{server.eid}").text)
    path = tmp / "opening.json"
    path.write_text(json.dumps(opening))
    done = _saylau(
        "check-opening", str(path), "--parameters", str(params), "--code", shown, "--revote-tag", tag
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "president: abden" in done.stdout and "with your revote tag" in done.stdout
    assert _saylau("check-opening", str(path), "--parameters", str(params), "--code", shown).returncode == 1
    path.write_text(json.dumps({**opening, "choices": {"president": ["tokayev"]}}))
    refused = _saylau("check-opening", str(path), "--parameters", str(params))
    assert refused.returncode == 1 and "REFUSED" in refused.stderr


def test_browser_ballots_verify_in_the_final_record(
    booth_server: BoothServer, page: Any, tmp_path: Path
) -> None:
    # kiosk at st-1: challenge, then cast
    start_kiosk(page, booth_server)
    check_in(page, 0)
    challenged = choose_and_encrypt(page, "tursynbekova")
    page.click("#challenge")
    page.wait_for_selector("#step-challenged:not([hidden])")
    page.click("#again")
    page.wait_for_selector("#step-choose:not([hidden])")
    choose_and_encrypt(page, "tokayev")
    cast(page)
    # a remote voter of st-2: challenge, cast, revote
    credential, tag, _ = booth_server.remote_credential(1)
    remote = page.context.new_page()
    sign_in(remote, booth_server, credential, tag)
    shown = choose_and_encrypt(remote, "abden")
    remote.click("#challenge")
    remote.wait_for_selector("#step-challenged:not([hidden])")
    opening = json.loads(
        remote.evaluate("fetch(document.getElementById('challenged-download').href).then(r => r.text())")
    )
    opened_code = opening["ballot"]["code"]
    _check_opening(booth_server, tmp_path, opening, shown, tag)
    assert opened_code != shown  # the opened form carries no revote tag, so its code differs
    assert shown in remote.inner_text("#challenged-code") and opened_code in remote.inner_text(
        "#challenged-code"
    )
    assert board_states(booth_server, opened_code) == ["challenge"]
    remote.click("#again")
    remote.wait_for_selector("#step-choose:not([hidden])")
    first = choose_and_encrypt(remote, "against_all")
    cast(remote)
    remote.click("#revote")
    remote.wait_for_selector("#step-choose:not([hidden])")
    choose_and_encrypt(remote, "tokayev")
    cast(remote)
    assert board_states(booth_server, first) == ["ballot", "superseded"]
    assert board_states(booth_server, challenged) == ["challenge"]

    _decrypted(booth_server)
    counts = booth_server.http.get(f"{P}/elections/{booth_server.eid}/results").json()["nation"]["counts"]
    assert {k: v for k, v in counts["president"].items() if v} == {"tokayev": 2}
    r = booth_server.http.get(f"{P}/elections/{booth_server.eid}/record")
    assert r.status_code == 200, r.text
    with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    record = tmp_path / "record"
    assert len((record / "challenged.jsonl").read_text().splitlines()) == 2
    done = _saylau("verify", str(record), "--quiet", "--expect-hash", r.headers["Saylau-Record-Hash"])
    assert done.returncode == 0, done.stdout + done.stderr
