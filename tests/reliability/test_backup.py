"""``saylau backup`` / ``saylau restore``: an election round-trips mid-way (voting open) and at the end
(published), on SQLite and PostgreSQL and across them; the restored election goes on (more ballots, tally,
decryption, publication) and its exported record passes ``saylau verify``; a wrong archive or wrong keys
are refused, a non-empty target too unless ``--replace``."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.conftest import (
    VOTERS,
    ElectionDayClock,
    P,
    TestClient,
    register_devices,
    setup_election,
    tally_and_share,
    wait_job,
)
from saylau.api import Settings, create_app
from saylau.cli import main
from saylau.store.engine import make_engine
from saylau.store.models import Ballot
from saylau.voting.device import VotingDevice

OTHER = {"sqlite": "postgres", "postgres": "sqlite"}


def _url(db: Any) -> str:
    return db.url if db.schema is None else f"{db.url}?options=-csearch_path%3D{db.schema}"


@contextmanager
def _other_database(kind: str, tmp_path: Path) -> Iterator[Any]:
    """A second, empty database of ``kind`` (a SQLite file or a PostgreSQL schema)."""
    from databases import Database, _postgres_schema

    if kind == "sqlite":
        yield Database("sqlite", f"sqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:6]}.db'}", None)
        return
    gen = _postgres_schema()
    try:
        yield next(gen)
    finally:
        gen.close()


@contextmanager
def _server(db: Any, tmp_path: Path, start: str) -> Iterator[TestClient]:
    """An application on ``db`` with the key files in ``tmp_path`` (as the ``client`` fixture makes them)."""
    settings = Settings(
        database_url=db.url, db_schema=db.schema, board_key_file=tmp_path / "board.pem",
        revote_key_file=tmp_path / "revote.key", checkpoint_every=4, job_poll_seconds=0.05, job_workers=1,
        pool_size=4, verify_processes=0, argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1,
    )
    app = create_app(settings)
    app.state.saylau.clock = ElectionDayClock(datetime.fromisoformat(start))
    try:
        with TestClient(app) as c:
            yield c
    finally:
        app.state.saylau.engine.dispose()


@dataclass
class Run:
    """What a ``saylau`` command did, run through the console script's entry point."""

    exit_code: int
    output: str


def _cli(*args: str) -> Run:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out), pytest.raises(SystemExit) as info:
        main(list(args))
    code = info.value.code
    return Run(code if isinstance(code, int) else 1, out.getvalue())


def _backup(db: Any, tmp_path: Path, name: str = "backup.tar.gz") -> Path:
    out = tmp_path / name
    r = _cli("backup", "--database-url", _url(db), "--out", str(out),
             "--board-key", str(tmp_path / "board.pem"), "--revote-key", str(tmp_path / "revote.key"))
    assert r.exit_code == 0, r.output
    assert "sha256" in r.output and (tmp_path / f"{name}.sha256").exists()
    return out


def _restore(archive: Path, db: Any, tmp_path: Path, *extra: str) -> Any:
    return _cli("restore", str(archive), "--database-url", _url(db),
                "--board-key", str(tmp_path / "board.pem"), "--revote-key", str(tmp_path / "revote.key"),
                "--checkpoint-every", "4", *extra)


def _checkin_cast(client: TestClient, el: Any, kiosk: VotingDevice, voter: int, choice: str) -> None:
    r = client.post(f"{P}/elections/{el.id}/stations/st-1/checkin", json={"iin": VOTERS[voter]},
                    headers=el.h["station1"])
    assert r.status_code == 201, r.text
    pending = kiosk.encrypt({"president": [choice]}, "main")
    kiosk.cast(pending)
    body = {"ballot": pending.ballot.to_dict(), "device_id": kiosk.device_id}
    r = client.post(f"{P}/elections/{el.id}/ballots", json=body,
                    headers={"Authorization": f"Bearer {r.json()['credential']}"})
    assert r.status_code == 201, r.text


def _finish(client: TestClient, el: Any) -> None:
    cec = el.h["cec"]
    assert client.post(f"{P}/elections/{el.id}/close", headers=cec).status_code == 200
    tally_and_share(client, el, [el.guardians[0], el.guardians[2]])
    job = client.post(f"{P}/elections/{el.id}/decrypt", headers=cec).json()
    assert wait_job(client, cec, job["id"])["state"] == "succeeded"


def _verify_record(client: TestClient, el: Any, where: Path) -> str:
    r = client.get(f"{P}/elections/{el.id}/record")
    assert r.status_code == 200, r.text
    with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:gz") as tar:
        tar.extractall(where, filter="data")
    record_hash = str(r.headers["Saylau-Record-Hash"])
    verified = _cli("verify", str(where / "record"), "--quiet", "--expect-hash", record_hash)
    assert verified.exit_code == 0, verified.output
    return record_hash


@pytest.mark.parametrize("target", ["same", "other"])
def test_mid_election_round_trip_continues_and_verifies(
    client: TestClient, database: Any, tmp_path: Path, target: str
) -> None:
    el = setup_election(client)
    assert el.params is not None
    register_devices(client, el, "st-1-kiosk")
    kiosk = VotingDevice(el.params, "st-1-kiosk", "st-1")
    for voter, choice in ((0, "cand-a"), (2, "cand-b")):
        _checkin_cast(client, el, kiosk, voter, choice)
    archive = _backup(database, tmp_path)

    kind = database.backend if target == "same" else OTHER[database.backend]
    with _other_database(kind, tmp_path) as restored:
        r = _restore(archive, restored, tmp_path)
        assert r.exit_code == 0, r.output
        assert "intact" in r.output
        # a second restore into the now filled database is refused, and changes nothing
        again = _restore(archive, restored, tmp_path)
        assert again.exit_code == 1 and "not empty" in again.output and "--replace" in again.output
        with _server(restored, tmp_path, "2022-11-20T14:00:00+06:00") as c2:
            # the restored server knows the voters, logins, devices and chains: two more ballots, then the end
            _checkin_cast(c2, el, kiosk, 4, "cand-a")
            _checkin_cast(c2, el, kiosk, 6, "against-all")
            r = c2.post(f"{P}/elections/{el.id}/stations/st-1/checkin", json={"iin": VOTERS[0]},
                        headers=el.h["station1"])
            assert r.status_code == 409, r.text  # the pollbook came back too: nobody votes twice
            _finish(c2, el)
            results = c2.get(f"{P}/elections/{el.id}/results").json()
            assert results["nation"]["counts"]["president"] == {"cand-a": 2, "cand-b": 1, "against-all": 1}
            _verify_record(c2, el, tmp_path / "verified")
        # --replace restores the mid-way state over the finished one
        r = _restore(archive, restored, tmp_path, "--replace")
        assert r.exit_code == 0, r.output
        engine = make_engine(restored.url, schema=restored.schema)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Ballot)).scalar_one() == 2
        engine.dispose()


def test_published_election_round_trips_with_the_same_record(
    client: TestClient, database: Any, tmp_path: Path
) -> None:
    el = setup_election(client)
    assert el.params is not None
    register_devices(client, el, "st-1-kiosk")
    kiosk = VotingDevice(el.params, "st-1-kiosk", "st-1")
    for voter, choice in ((0, "cand-a"), (2, "cand-b"), (4, "cand-b")):
        _checkin_cast(client, el, kiosk, voter, choice)
    _finish(client, el)
    before = _verify_record(client, el, tmp_path / "before")
    archive = _backup(database, tmp_path)
    with _other_database(OTHER[database.backend], tmp_path) as restored:
        r = _restore(archive, restored, tmp_path)
        assert r.exit_code == 0, r.output
        with _server(restored, tmp_path, "2022-11-20T21:00:00+06:00") as c2:
            assert _verify_record(c2, el, tmp_path / "after") == before


def _rewrite(archive: Path, out: Path, change: Any) -> None:
    """Copy the archive member by member, ``change(name, data) -> data | None`` (None drops the member)."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            handle = src.extractfile(member)
            assert handle is not None
            data = change(member.name, handle.read())
            if data is None:
                continue
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))


def _manifest_edit(key: str, value: Any) -> Any:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        doc = json.loads(data)
        doc[key] = value
        return json.dumps(doc).encode()
    return change


def _first_ballot_changed(name: str, data: bytes) -> bytes:
    if name != "tables/ballots.jsonl":
        return data
    return data.replace(b"st-1-kiosk-000000", b"st-1-kiosk-000009", 1)


BAD_ARCHIVES = {
    "version": (_manifest_edit("version", 99), "format version 99"),
    "format": (_manifest_edit("format", "tarball"), "not a saylau backup"),
    "row changed": (_first_ballot_changed, "tables/ballots.jsonl: SHA-256"),
    "table dropped": (lambda n, d: None if n == "tables/voters.jsonl" else d, "tables/voters.jsonl missing"),
}


def test_a_wrong_archive_is_refused_and_nothing_is_written(
    client: TestClient, database: Any, tmp_path: Path
) -> None:
    el = setup_election(client)
    assert el.params is not None
    register_devices(client, el, "st-1-kiosk")
    _checkin_cast(client, el, VotingDevice(el.params, "st-1-kiosk", "st-1"), 0, "cand-a")
    archive = _backup(database, tmp_path)
    from databases import Database

    db = Database("sqlite", f"sqlite:///{tmp_path / 'target.db'}", None)
    for case, (change, message) in BAD_ARCHIVES.items():
        tampered = tmp_path / f"{case.replace(' ', '-')}.tar.gz"
        _rewrite(archive, tampered, change)
        sidecar = tampered.with_name(tampered.name + ".sha256")
        # the archive's own hash catches any change first
        shutil.copy(tmp_path / "backup.tar.gz.sha256", sidecar)
        r = _restore(tampered, db, tmp_path)
        assert r.exit_code == 1 and "differs from the expected" in r.output, (case, r.output)
        # without the sidecar, the manifest's own checks name the problem
        sidecar.unlink()
        r = _restore(tampered, db, tmp_path)
        assert r.exit_code == 1 and message in r.output, (case, r.output)
        errors = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
        assert "Traceback" not in r.output and len(errors) == 1, (case, r.output)
        assert _no_rows(db), case


def _no_rows(db: Any) -> bool:
    engine = make_engine(db.url)
    try:
        with engine.connect() as conn:
            from sqlalchemy import inspect

            return "ballots" not in inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_truncated_archive_and_wrong_keys_are_refused(
    client: TestClient, database: Any, tmp_path: Path
) -> None:
    setup_election(client, open_it=False)
    archive = _backup(database, tmp_path)
    truncated = tmp_path / "cut.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    from databases import Database

    db = Database("sqlite", f"sqlite:///{tmp_path / 'target.db'}", None)
    r = _restore(truncated, db, tmp_path)
    assert r.exit_code == 1 and "truncated" in r.output, r.output  # garbled stream, or members missing
    not_gzip = tmp_path / "plain.tar.gz"
    not_gzip.write_bytes(gzip.decompress(archive.read_bytes())[:100])
    r = _restore(not_gzip, db, tmp_path)
    assert r.exit_code == 1 and "not a saylau backup archive" in r.output, r.output
    # another server's keys: refused, naming which keys differ
    other = tmp_path / "other"
    other.mkdir(mode=0o700)
    r = _cli("restore", str(archive), "--database-url", db.url, "--data-dir", str(other))
    assert r.exit_code == 1 and "board key file" in r.output and "does not exist" in r.output, r.output
    from saylau.api.state import load_board_signer, load_pseudonym_key, load_revote_key

    load_board_signer(other / "saylau-board.pem")
    load_revote_key(other / "saylau-revote.key")
    load_pseudonym_key(other / "saylau-pseudonym.key")
    r = _cli("restore", str(archive), "--database-url", db.url, "--data-dir", str(other))
    assert r.exit_code == 1 and "do not match" in r.output, r.output
    assert "board_public_key" in r.output and "pseudonym_key" in r.output and "revote_key" in r.output
    assert _no_rows(db)


