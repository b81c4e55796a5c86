"""The staff command line against an in-process server, on SQLite and PostgreSQL.

Three guardians run the whole key ceremony with ``saylau guardian keygen|shares|finish`` (their secrets
only in their key files), voters vote, two of them decrypt with ``saylau guardian decrypt`` (one is
missing), and a station commission signs its protocol and a correction with ``saylau protocol``; the
server accepts what the commands send and the decrypted result is the votes cast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import saylau.cli.staff as staff
from api.conftest import (  # the API tests' server fixture and helpers
    KZ_IIN,
    PASSWORD,
    VOTERS,
    P,
    TestClient,
    client,  # noqa: F401  (a fixture)
    login,
    manifest,
    roll_csv,
    wait_job,
)
from saylau.cli import main
from saylau.crypto import ElectionParameters, Guardian
from saylau.crypto.keyfile import read_secret
from saylau.voting.device import VotingDevice

SERVER = "http://testserver"
PASSPHRASE = "a guardian's long passphrase"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``saylau argv`` as the console script does: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out.out, out.err


def ok(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return out


@pytest.fixture
def staff_env(client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    """The commands' HTTP goes to the in-process server; cheap scrypt; passwords from the environment."""
    monkeypatch.setattr(staff, "client_factory", lambda url: client)
    monkeypatch.setenv("SAYLAU_SCRYPT_LOG_N", "14")
    monkeypatch.setenv("SAYLAU_PASSWORD", PASSWORD)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SAYLAU_PASSPHRASE", raising=False)
    pf = tmp_path / "passphrase.txt"
    pf.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return pf


def _users(client: TestClient, cec: dict[str, str], eid: str, n: int) -> None:  # noqa: F811
    users = [("station1", "station", {"station_id": "st-1"})]
    users += [(f"guardian{i}", "guardian", {"guardian_index": i}) for i in range(1, n + 1)]
    for name, role, extra in users:
        body = {"username": name, "password": PASSWORD, "role": role, "election_id": eid, **extra}
        assert client.post(f"{P}/users", json=body, headers=cec).status_code == 201


def test_ceremony_decryption_and_protocol_through_the_commands(
    client: TestClient,  # noqa: F811
    staff_env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pf, n, eid = str(staff_env), 3, "e2022"
    cec = login(client, "cec")
    r = client.post(
        f"{P}/elections",
        json={"manifest": manifest(), "guardians": n, "quorum": 2, "voter_id": KZ_IIN},
        headers=cec,
    )
    assert r.status_code == 201, r.text
    _users(client, cec, eid, n)
    keys = [tmp_path / f"guardian-{i}.key" for i in range(1, n + 1)]
    for i, key in enumerate(keys, start=1):
        ok(
            capsys,
            "guardian",
            "keygen",
            str(key),
            "--server",
            SERVER,
            "--election",
            eid,
            "--index",
            str(i),
            "--user",
            f"guardian{i}",
            "--passphrase-file",
            pf,
        )
        assert key.stat().st_mode & 0o077 == 0
        assert "coefficients" not in key.read_text()  # the secret is encrypted
    # the CEC cannot make the key before the guardians finished
    r = client.post(f"{P}/elections/{eid}/key", headers=cec)
    assert r.status_code == 422 and "have not finished" in r.text, r.text
    for key in keys:
        ok(capsys, "guardian", "shares", str(key), "--passphrase-file", pf)
    for key in keys:
        ok(capsys, "guardian", "finish", str(key), "--passphrase-file", pf)
    r = client.post(f"{P}/elections/{eid}/key", headers=cec)
    assert r.status_code == 200, r.text
    params = ElectionParameters.from_dict(r.json()["parameters"])
    for key in keys:  # each key file now holds a finished guardian of the published key
        g = Guardian.from_private_dict(read_secret(key, "guardian", PASSPHRASE).secret)
        g.check_published(params)

    # voting: three voters at st-1
    assert (
        client.post(
            f"{P}/elections/{eid}/roll", content=roll_csv(), headers={**cec, "Content-Type": "text/csv"}
        ).status_code
        == 201
    )
    assert client.post(f"{P}/elections/{eid}/open", headers=cec).status_code == 200
    st = login(client, "station1")
    assert (
        client.post(
            f"{P}/elections/{eid}/stations/st-1/devices", json={"device_id": "st-1-d1"}, headers=st
        ).status_code
        == 201
    )
    device = VotingDevice(params, "st-1-d1", "st-1")
    for voter, choice in ((0, "cand-a"), (2, "cand-b"), (4, "cand-a")):
        r = client.post(f"{P}/elections/{eid}/stations/st-1/checkin", json={"iin": VOTERS[voter]}, headers=st)
        assert r.status_code == 201, r.text
        pending = device.encrypt({"president": [choice]}, "main")
        device.cast(pending)
        r = client.post(
            f"{P}/elections/{eid}/ballots",
            json={"ballot": pending.ballot.to_dict(), "device_id": "st-1-d1"},
            headers={"Authorization": f"Bearer {r.json()['credential']}"},
        )
        assert r.status_code == 201, r.text
    assert client.post(f"{P}/elections/{eid}/close", headers=cec).status_code == 200

    # the commission's protocol: key, registration by the CEC, signed, submitted, corrected
    pkey = tmp_path / "st-1-protocol.key"
    public_hex = ok(
        capsys,
        "protocol",
        "keygen",
        str(pkey),
        "--election",
        eid,
        "--station",
        "st-1",
        "--passphrase-file",
        pf,
    ).strip()
    r = client.post(f"{P}/elections/{eid}/stations/st-1/key", json={"public_key": public_hex}, headers=cec)
    assert r.status_code == 200, r.text
    figures = {
        "station": "st-1",
        "registered": 5,
        "ballots_received": 10,
        "ballots_issued": 3,
        "ballots_unused": 7,
        "ballots_spoiled": 0,
        "ballots_in_boxes": 3,
        "valid": 3,
        "invalid": 0,
        "votes": {"cand-a": 1, "cand-b": 2, "against-all": 0},
    }  # a miscount, corrected below
    fig = tmp_path / "figures.json"
    fig.write_text(json.dumps(figures), encoding="utf-8")
    v1 = tmp_path / "protocol-v1.json"
    ok(
        capsys,
        "protocol",
        "sign",
        str(pkey),
        str(fig),
        "--out",
        str(v1),
        "--server",
        SERVER,
        "--user",
        "station1",
        "--submit",
        "--passphrase-file",
        pf,
    )
    figures["votes"] = {"cand-a": 2, "cand-b": 1, "against-all": 0}
    fig.write_text(json.dumps(figures), encoding="utf-8")
    ok(
        capsys,
        "protocol",
        "sign",
        str(pkey),
        str(fig),
        "--out",
        str(tmp_path / "protocol-v2.json"),
        "--corrects",
        str(v1),
        "--reason",
        "recount: two bundles swapped",
        "--server",
        SERVER,
        "--user",
        "station1",
        "--submit",
        "--passphrase-file",
        pf,
    )
    listed = client.get(f"{P}/elections/{eid}/protocols").json()
    assert [p["version"] for p in listed] == [1, 2]
    assert listed[1]["protocol"]["reason"] == "recount: two bundles swapped"
    assert listed[1]["protocol"]["supersedes"] is not None

    # tally; guardians 1 and 3 decrypt (guardian 2 is missing), the result is the votes cast
    job = client.post(f"{P}/elections/{eid}/tally", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"
    for key in (keys[0], keys[2]):
        ok(capsys, "guardian", "decrypt", str(key), "--passphrase-file", pf)
    job = client.post(f"{P}/elections/{eid}/decrypt", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded", job
    results = client.get(f"{P}/elections/{eid}/results").json()
    assert results["nation"]["counts"]["president"] == {"cand-a": 2, "cand-b": 1, "against-all": 0}


def test_guardian_refuses_a_published_key_of_another_ceremony(
    client: TestClient,  # noqa: F811
    staff_env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Offline, with files: a guardian whose ceremony made one key refuses to decrypt for another."""
    pf = str(staff_env)
    cec = login(client, "cec")
    r = client.post(f"{P}/elections", json={"manifest": manifest(), "guardians": 2, "quorum": 2}, headers=cec)
    info = tmp_path / "election.json"
    info.write_text(json.dumps(client.get(f"{P}/elections/e2022").json()), encoding="utf-8")
    keys, recs = [tmp_path / f"g{i}.key" for i in (1, 2)], [tmp_path / f"g{i}.json" for i in (1, 2)]
    for i in (1, 2):
        ok(
            capsys,
            "guardian",
            "keygen",
            str(keys[i - 1]),
            "--election-file",
            str(info),
            "--index",
            str(i),
            "--record-out",
            str(recs[i - 1]),
            "--passphrase-file",
            pf,
        )
    shares = [tmp_path / f"shares-{i}.json" for i in (1, 2)]
    for i in (1, 2):
        ok(
            capsys,
            "guardian",
            "shares",
            str(keys[i - 1]),
            "--records",
            str(recs[2 - i]),
            "--out",
            str(shares[i - 1]),
            "--passphrase-file",
            pf,
        )
    for i in (1, 2):
        ok(
            capsys,
            "guardian",
            "finish",
            str(keys[i - 1]),
            "--records",
            str(recs[0]),
            "--records",
            str(recs[1]),
            "--shares",
            str(shares[2 - i]),
            "--passphrase-file",
            pf,
        )
    g1 = Guardian.from_private_dict(read_secret(keys[0], "guardian", PASSPHRASE).secret)
    base_hash = bytes.fromhex(r.json()["base_hash"])
    # another ceremony's key for the same election (say, a server that swapped the key)
    from saylau.crypto import run_key_ceremony
    from saylau.election.manifest import Manifest

    _, other = run_key_ceremony(2, 2, base_hash)
    forged = ElectionParameters(base_hash, other, Manifest.from_json_obj(manifest()).contest_specs())
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"parameters": forged.to_dict()}), encoding="utf-8")
    tally = tmp_path / "tally.json"
    tally.write_text(json.dumps({"scopes": []}), encoding="utf-8")
    code, _, err = run(
        capsys,
        "guardian",
        "decrypt",
        str(keys[0]),
        "--tally",
        str(tally),
        "--parameters",
        str(params),
        "--passphrase-file",
        pf,
    )
    assert code == 1 and "Traceback" not in err
    assert "refusing the published election parameters" in err and len(err.strip().splitlines()) == 1
    assert g1.joint_key.K.hex() in err


def _one_line(code: int, err: str, *words: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err


def test_wrong_passphrase_tampered_file_and_wrong_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAYLAU_SCRYPT_LOG_N", "14")
    pf, wrong = tmp_path / "pass.txt", tmp_path / "wrong.txt"
    pf.write_text(PASSPHRASE + "\n", encoding="utf-8")
    wrong.write_text("not the passphrase at all\n", encoding="utf-8")
    key = tmp_path / "st.key"
    ok(
        capsys,
        "protocol",
        "keygen",
        str(key),
        "--election",
        "e2022",
        "--station",
        "st-1",
        "--passphrase-file",
        str(pf),
    )
    fig = tmp_path / "fig.json"
    fig.write_text(
        json.dumps(
            {
                "station": "st-1",
                "registered": 5,
                "ballots_received": 3,
                "ballots_issued": 3,
                "ballots_unused": 0,
                "ballots_spoiled": 0,
                "ballots_in_boxes": 3,
                "valid": 3,
                "invalid": 0,
                "votes": {"a": 2, "b": 1},
            }
        ),
        encoding="utf-8",
    )
    out = ok(capsys, "protocol", "sign", str(key), str(fig), "--passphrase-file", str(pf))
    assert json.loads(out)["version"] == 1
    # wrong passphrase
    _one_line(
        *_ce(run(capsys, "protocol", "sign", str(key), str(fig), "--passphrase-file", str(wrong))),
        "wrong passphrase",
    )
    # tampered: the public part changed (another station), or the ciphertext
    doc = json.loads(key.read_text())
    doc["public"]["station_id"] = "st-2"
    key.write_text(json.dumps(doc))
    fig2 = tmp_path / "fig2.json"
    fig2.write_text(fig.read_text().replace('"st-1"', '"st-2"'))
    _one_line(
        *_ce(run(capsys, "protocol", "sign", str(key), str(fig2), "--passphrase-file", str(pf))), "altered"
    )
    doc["public"]["station_id"] = "st-1"
    doc["ciphertext"] = ("A" if doc["ciphertext"][0] != "A" else "B") + doc["ciphertext"][1:]
    key.write_text(json.dumps(doc))
    _one_line(
        *_ce(run(capsys, "protocol", "sign", str(key), str(fig), "--passphrase-file", str(pf))), "altered"
    )
    key.write_text("{not json")
    _one_line(
        *_ce(run(capsys, "protocol", "sign", str(key), str(fig), "--passphrase-file", str(pf))),
        "not a saylau secret file",
    )
    # the wrong role's file: a protocol key given to a guardian command, and back
    key2 = tmp_path / "st2.key"
    ok(
        capsys,
        "protocol",
        "keygen",
        str(key2),
        "--election",
        "e2022",
        "--station",
        "st-1",
        "--passphrase-file",
        str(pf),
    )
    _one_line(
        *_ce(run(capsys, "guardian", "shares", str(key2), "--passphrase-file", str(pf))),
        "station commission's protocol key",
        "not a guardian's key file",
    )
    # a broken control relation is refused before signing
    bad = json.loads(fig.read_text())
    bad["valid"] = 4
    fig.write_text(json.dumps(bad))
    _one_line(
        *_ce(run(capsys, "protocol", "sign", str(key2), str(fig), "--passphrase-file", str(pf))),
        "valid + invalid = ballots in boxes",
    )
    # never overwrites a key file
    _one_line(
        *_ce(
            run(
                capsys,
                "protocol",
                "keygen",
                str(key2),
                "--election",
                "e2022",
                "--station",
                "st-1",
                "--passphrase-file",
                str(pf),
            )
        ),
        "already exists",
    )


def _ce(result: tuple[int, str, str]) -> tuple[int, str]:
    code, _, err = result
    return code, err


def test_manifest_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.json"
    ok(capsys, "manifest", "kz-2022", "--stations", "abai-0001,abai-0002", "--out", str(out))
    doc: dict[str, Any] = json.loads(out.read_text())
    assert doc["election_id"] == "kz-2022-presidential"
    stations = [s["station_id"] for r in doc["regions"] for d in r["districts"] for s in d["stations"]]
    assert stations == ["abai-0001", "abai-0002"]
    code, _, err = run(capsys, "manifest", "kz-2022", "--stations", "nowhere-1")
    _one_line(code, err, "unknown station ids", "nowhere-1")
