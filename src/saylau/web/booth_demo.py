"""``saylau demo --serve``: a saylau server with an open election for a newcomer to try in a browser.

After the demo's election day, a fresh server (SQLite and keys in ``<out>/serve/``) defines the
scenario's election on a few stations, runs the guardians' key ceremony through the API (the guardians
live in this process), imports a small roll, opens voting, and issues a few remote credentials. It
prints the pages' addresses, the remote credentials, a station commission's login for the kiosk and
the voter identifiers it can check in, then serves until interrupted. The board's clock runs on election day
(from noon at the first station, at real speed), since the server accepts ballots only within a
station's voting hours.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from saylau.crypto import EncryptedShare, Guardian, GuardianRecord
from saylau.election.scenario import load_scenario
from saylau.election.voter_ids import VoterIdSpec

__all__ = ["DemoElection", "election_day_clock", "serve_demo"]

P = "/api/v1"
STATIONS = 3
VOTERS_PER_STATION = 4
REMOTE = 3


@dataclass
class DemoElection:
    """What a newcomer needs to try the booth: addresses, credentials, a commission login."""

    url: str
    election_id: str
    remote: list[tuple[str, str]]  # (credential, revote tag)
    station_id: str
    station_login: tuple[str, str]
    kiosk_voters: list[str]
    voter_id_name: str = "voter number"


def election_day_clock(manifest: dict[str, Any]) -> Callable[[], datetime]:
    """A clock from noon of election day at the first station, running at real speed."""
    zone = manifest["regions"][0]["districts"][0]["stations"][0]["time_zone"]
    day = date.fromisoformat(manifest["election_date"])
    start = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(zone))
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def _manifest(scenario: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scenario's manifest on its first stations, and the rest of its definition (rules, voter id)."""
    sc = load_scenario(scenario)
    ids = [s.id for s in sc.territory_index.stations[:STATIONS]]
    doc: dict[str, Any] = sc.to_manifest(station_ids=ids).to_json_obj()
    rules: dict[str, Any] = {
        "electoral_rules": sc.rules.model_dump(mode="json"),
        "voter_id": sc.voter_id.model_dump(mode="json"),
    }
    if sc.candidacy is not None:
        rules["candidacy_rules"] = sc.candidacy.model_dump(mode="json")
    return doc, rules


def _ok(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:300]}")
    return r.json()


def _setup(c: httpx.Client, manifest: dict[str, Any], rules: dict[str, Any], password: str) -> DemoElection:
    """Define, key, fill and open the election through the API; issue the credentials."""
    voter_id = VoterIdSpec.model_validate(rules["voter_id"])
    eid = manifest["election_id"]
    cec = {
        "Authorization": "Bearer "
        + _ok(c.post(f"{P}/auth/login", json={"username": "cec", "password": password}))["token"]
    }
    base = bytes.fromhex(
        _ok(c.post(f"{P}/elections", json={"manifest": manifest, "guardians": 3, "quorum": 2, **rules},
                   headers=cec))[
            "base_hash"
        ]
    )
    guardians = [Guardian.generate(i, 3, 2, base) for i in (1, 2, 3)]
    heads: dict[int, dict[str, str]] = {}
    for g in guardians:
        _ok(
            c.post(
                f"{P}/users",
                headers=cec,
                json={
                    "username": f"guardian{g.index}",
                    "password": password,
                    "role": "guardian",
                    "election_id": eid,
                    "guardian_index": g.index,
                },
            )
        )
        token = _ok(c.post(f"{P}/auth/login", json={"username": f"guardian{g.index}", "password": password}))
        heads[g.index] = {"Authorization": f"Bearer {token['token']}"}
        _ok(
            c.post(
                f"{P}/elections/{eid}/guardians/{g.index}/record",
                json={"record": g.public_record().to_dict()},
                headers=heads[g.index],
            )
        )
    records = {g.index: GuardianRecord.from_dict(g.public_record().to_dict()) for g in guardians}
    for g in guardians:
        shares = [
            {"recipient": o, "share": g.share_for(o, records[o]).to_dict()} for o in records if o != g.index
        ]
        _ok(
            c.post(
                f"{P}/elections/{eid}/guardians/{g.index}/shares",
                json={"shares": shares},
                headers=heads[g.index],
            )
        )
    for g in guardians:
        for item in _ok(c.get(f"{P}/elections/{eid}/guardians/{g.index}/shares", headers=heads[g.index])):
            g.receive_share(EncryptedShare.from_dict(item["share"]), records[item["sender"]])
        g.finish()
        _ok(c.post(f"{P}/elections/{eid}/guardians/{g.index}/finish", headers=heads[g.index]))
    _ok(c.post(f"{P}/elections/{eid}/key", headers=cec))
    rows = [f"{voter_id.column},last_name,first_name,date_of_birth,region,station"]
    by_station: dict[str, list[str]] = {}
    n = 0
    for region in manifest["regions"]:
        for district in region["districts"]:
            for st in district["stations"]:
                for _ in range(VOTERS_PER_STATION):
                    born = date(1970, 1, 1) + timedelta(days=97 * n)
                    vid = voter_id.example(n, born)
                    rows.append(
                        f"{vid},Voter{n},Demo,{born.isoformat()},{region['region_id']},{st['station_id']}"
                    )
                    by_station.setdefault(st["station_id"], []).append(vid)
                    n += 1
    _ok(
        c.post(
            f"{P}/elections/{eid}/roll",
            content="\n".join(rows) + "\n",
            headers={**cec, "Content-Type": "text/csv"},
        )
    )
    _ok(c.post(f"{P}/elections/{eid}/open", headers=cec))
    stations = list(by_station)
    remote: list[tuple[str, str]] = []
    for station in stations[1:]:  # remote voters of the other stations
        for vid in by_station[station][:2]:
            if len(remote) < REMOTE:
                path = f"{P}/elections/{eid}/remote-credentials"
                out = _ok(c.post(path, json={"voter_id": vid}, headers=cec))
                remote.append((out["credential"], out["revote_tag"]))
    kiosk_station = stations[0]
    _ok(
        c.post(
            f"{P}/users",
            headers=cec,
            json={
                "username": "commission",
                "password": password,
                "role": "station",
                "election_id": eid,
                "station_id": kiosk_station,
            },
        )
    )
    return DemoElection(
        str(c.base_url).rstrip("/"),
        eid,
        remote,
        kiosk_station,
        ("commission", password),
        by_station[kiosk_station],
        voter_id.name,
    )


def serve_demo(
    out: Path,
    scenario: str,
    port: int,
    echo: Callable[[str], None],
    host: str = "127.0.0.1",
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> DemoElection:
    """Serve the demo election until interrupted (or until ``stop`` is set); returns what it printed."""
    import uvicorn

    from saylau.api import Settings, create_app
    from saylau.store.accounts import create_user

    where = out / "serve"
    shutil.rmtree(where, ignore_errors=True)  # a fresh election each time
    where.mkdir(parents=True)
    password = secrets.token_urlsafe(12)
    settings = Settings(
        database_url=f"sqlite:///{where / 'saylau.db'}",
        data_dir=where / "keys",
        board_key_file=where / "keys" / "board.pem",
        revote_key_file=where / "keys" / "revote.key",
        pseudonym_key_file=where / "keys" / "pseudonym.key",
        verify_processes=0,
        job_workers=1,
    )
    app = create_app(settings)
    state = app.state.saylau
    manifest, rules = _manifest(scenario)
    state.clock = election_day_clock(manifest)
    with state.transaction() as s:
        create_user(s, "cec", password, "cec", hasher=state.hasher)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the demo server did not start on {host}:{port}")
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://{host}:{port}", timeout=120) as c:
            demo = _setup(c, manifest, rules, password)
        _print(demo, echo)
        if ready is not None:
            ready.set()
        while thread.is_alive() and not (stop is not None and stop.is_set()):
            thread.join(0.5)
    except KeyboardInterrupt:
        echo("stopping the demo server")
    finally:
        server.should_exit = True
        thread.join(30)
        state.engine.dispose()
    return demo


def _print(d: DemoElection, echo: Callable[[str], None]) -> None:
    echo("")
    echo(f"saylau demo server: {d.url}/  (Ctrl-C stops it)")
    echo(f"  election status:   {d.url}/elections/{d.election_id}")
    echo(f"  vote remotely:     {d.url}/elections/{d.election_id}/vote")
    for credential, tag in d.remote:
        echo(f"    credential {credential}  revote tag {tag}")
    echo(f"  polling-station kiosk: {d.url}/elections/{d.election_id}/kiosk")
    echo(
        f"    commission login {d.station_login[0]} / {d.station_login[1]}, booth device id "
        f"{d.station_id}-kiosk-1, voters to check in ({d.voter_id_name}): {', '.join(d.kiosk_voters)}"
    )
    echo(f"  API documentation: {d.url}/docs")
