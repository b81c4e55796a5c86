"""Access control beyond the role × endpoint table (``test_api_guards.py``), on both backends.

- bearer tokens expire (the server's clock moved past their lifetime, no sleeping), logins and voter
  credentials alike, also when the token was cached;
- a station commission cannot write another station's turnout or protocol, nor register, list into or
  cast on another station's device;
- a pollster cannot read another pollster's embargoed exit poll, nor change it;
- no response of any GET route (API and web pages), as any role, with voting open, shows a voter's
  identity (IIN, name, date of birth) — so none shows it next to a ballot or a tracking code.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.store import accounts
from saylau.store.models import utcnow
from saylau.voting.device import VotingDevice

from .conftest import (
    PASSWORD,
    STATIONS,
    VOTERS,
    Election,
    P,
    TestClient,
    login,
    register_devices,
    setup_election,
)

E = "e2022"


def _checkin(client: TestClient, el: Election, voter: int) -> dict[str, str]:
    station = STATIONS[voter % 2]
    r = client.post(f"{P}/elections/{E}/stations/{station}/checkin", json={"iin": VOTERS[voter]},
                    headers=el.h[f"station{station.removeprefix('st-')}"])
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['credential']}"}


def _cast(client: TestClient, device: VotingDevice, voter: dict[str, str], choice: str = "cand-a",
          tag: bytes | None = None) -> Any:
    pending = device.encrypt({"president": [choice]}, "main", revote_tag=tag)
    r = client.post(f"{P}/elections/{E}/ballots",
                    json={"ballot": pending.ballot.to_dict(), "device_id": device.device_id}, headers=voter)
    if r.status_code == 201:
        device.cast(pending)
    return r


def test_tokens_expire_when_the_clock_passes_their_lifetime(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    el = setup_election(client)
    voter = _checkin(client, el, 0)
    cec = el.h["cec"]
    assert client.get(f"{P}/me", headers=cec).status_code == 200  # resolved, and now cached
    assert client.get(f"{P}/me", headers=voter).status_code == 200
    settings = client.app.state.saylau.settings  # type: ignore[attr-defined]
    start = utcnow()

    def travel(by: timedelta) -> None:
        monkeypatch.setattr(accounts, "utcnow", lambda: start + by)

    # a voter credential lives settings.voter_token_ttl (2 h), a login settings.token_ttl (12 h)
    travel(settings.voter_token_ttl - timedelta(minutes=1))
    assert client.get(f"{P}/me", headers=voter).status_code == 200
    travel(settings.voter_token_ttl + timedelta(minutes=1))
    r = client.get(f"{P}/me", headers=voter)
    assert r.status_code == 401 and "expired" in r.json()["detail"], r.text
    kiosk = VotingDevice(el.params, "st-1-k", "st-1")  # type: ignore[arg-type]
    register_devices(client, el, "st-1-k")
    r = _cast(client, kiosk, voter)
    assert r.status_code == 401 and "expired" in r.json()["detail"], r.text
    assert client.get(f"{P}/me", headers=cec).status_code == 200
    travel(settings.token_ttl + timedelta(minutes=1))
    for name in ("cec", "station1", "guardian1", "pollster", "observer"):
        r = client.get(f"{P}/me", headers=el.h[name])
        assert r.status_code == 401 and "expired" in r.json()["detail"], (name, r.text)
    r = client.post(f"{P}/elections/{E}/close", headers=cec)
    assert r.status_code == 401, r.text
    # a fresh login still works at the new time, and lives token_ttl from then
    fresh = login(client, "cec")
    assert client.get(f"{P}/me", headers=fresh).status_code == 200
    travel(2 * settings.token_ttl + timedelta(minutes=2))
    assert client.get(f"{P}/me", headers=fresh).status_code == 401


def test_a_station_commission_acts_only_for_its_own_station(client: TestClient) -> None:
    el = setup_election(client)
    s1, s2 = el.h["station1"], el.h["station2"]
    # turnout and protocols of st-2, written by st-1's commission
    r = client.post(f"{P}/elections/{E}/stations/st-2/turnout",
                    json={"at": "2022-11-20T12:00:00+06:00", "voted": 1}, headers=s1)
    assert r.status_code == 403 and "st-2" in r.json()["detail"], r.text
    # a protocol of st-2 properly signed with st-2's key, but sent by st-1's commission
    key = Ed25519PrivateKey.generate()
    station_key = {"public_key": public_key_hex(key.public_key())}
    r = client.post(f"{P}/elections/{E}/stations/st-2/key", json=station_key, headers=el.h["cec"])
    assert r.status_code == 200, r.text
    figures = ProtocolFigures.model_validate({
        "station": "st-2", "registered": 5, "ballots_received": 5, "ballots_issued": 0, "ballots_unused": 5,
        "ballots_spoiled": 0, "ballots_in_boxes": 0, "valid": 0, "invalid": 0,
        "votes": {"cand-a": 0, "cand-b": 0, "against-all": 0},
    })
    protocol = sign_protocol(figures, key, election_id=E, signed_at=datetime(2022, 11, 20, 21, 0, tzinfo=UTC))
    r = client.post(f"{P}/elections/{E}/stations/st-2/protocols", json=protocol.model_dump(mode="json"),
                    headers=s1)
    assert r.status_code == 403 and "st-2" in r.json()["detail"], r.text
    # nor under its own station's path
    r = client.post(f"{P}/elections/{E}/stations/st-1/protocols", json=protocol.model_dump(mode="json"),
                    headers=s1)
    assert 400 <= r.status_code < 500, r.text
    # devices: st-1 cannot register one at st-2, nor one named for st-2 at its own station
    r = client.post(f"{P}/elections/{E}/stations/st-2/devices", json={"device_id": "st-2-mine"}, headers=s1)
    assert r.status_code == 403 and "st-2" in r.json()["detail"], r.text
    register_devices(client, el, "st-2-booth")
    r = client.post(f"{P}/elections/{E}/stations/st-1/devices", json={"device_id": "st-2-booth"}, headers=s1)
    assert r.status_code in (403, 409, 422) and "st-2-booth" in r.json()["detail"], r.text
    # nor cast on it: not with a voter checked in at st-1, not in st-1's station batch
    assert el.params is not None
    foreign = VotingDevice(el.params, "st-2-booth", "st-2")
    r = _cast(client, foreign, _checkin(client, el, 0))
    assert r.status_code == 403 and "st-2-booth" in r.json()["detail"], r.text
    credential = _checkin(client, el, 2)["Authorization"].removeprefix("Bearer ")
    pending = VotingDevice(el.params, "st-2-booth", "st-2").encrypt({"president": ["cand-b"]}, "main")
    batch = {"ballots": [{"credential": credential, "ballot": pending.ballot.to_dict(),
                          "device_id": "st-2-booth"}]}
    r = client.post(f"{P}/elections/{E}/ballots/batch", json=batch, headers=s1)
    assert r.status_code in (200, 403), r.text
    if r.status_code == 200:
        (result,) = r.json()["results"]
        assert result["status"] == 403 and "st-2-booth" in result["detail"], result
    # nothing of st-2 was touched: no ballot on its device, no turnout, no protocol
    assert client.get(f"{P}/elections/{E}/board").text.count('"kind":"ballot"') == 0
    assert [t for t in client.get(f"{P}/elections/{E}/turnout").json() if t["station_id"] == "st-2"] == []
    assert client.get(f"{P}/elections/{E}/protocols").json() in ([], {}) or all(
        p.get("station_id") != "st-2" for p in client.get(f"{P}/elections/{E}/protocols").json()
    )
    # and st-2's own commission still can
    r = client.post(f"{P}/elections/{E}/stations/st-2/turnout",
                    json={"at": "2022-11-20T12:00:00+06:00", "voted": 0}, headers=s2)
    assert r.status_code == 201, r.text


def test_a_pollster_cannot_read_or_change_another_pollsters_embargoed_poll(client: TestClient) -> None:
    el = setup_election(client)
    cec = el.h["cec"]
    body = {"username": "pollster2", "password": PASSWORD, "role": "pollster", "election_id": E}
    assert client.post(f"{P}/users", json=body, headers=cec).status_code == 201
    a, b = el.h["pollster"], login(client, "pollster2")
    for v in (0, 1, 2):
        _checkin(client, el, v)
    design = {"stations": [{"station_id": s, "stratum": "r1", "pi": 1.0} for s in STATIONS]}
    assert client.put(f"{P}/elections/{E}/exit-polls/design", json=design, headers=a).status_code == 200
    interviews = {"interviews": [{"station_id": "st-1", "answer": "cand-a"},
                                 {"station_id": "st-2", "answer": "cand-b"}]}
    assert client.post(f"{P}/elections/{E}/exit-polls", json=interviews, headers=a).status_code == 201
    # while voting is open nobody reads pollster's estimate: not pollster2, not any other role
    for headers in (b, a, cec, el.h["observer"], el.h["station1"], {}):
        r = client.get(f"{P}/elections/{E}/exit-polls/estimate", params={"pollster": "pollster"},
                       headers=headers)
        assert r.status_code == 403 and "embargoed" in r.json()["detail"], r.text
    # pollster2's uploads go to its own poll, never into pollster's
    other = {"stations": [{"station_id": "st-1", "stratum": "r1", "pi": 0.5}]}
    assert client.put(f"{P}/elections/{E}/exit-polls/design", json=other, headers=b).status_code == 200
    noise = {"interviews": [{"station_id": "st-1", "answer": "against-all"}] * 5}
    assert client.post(f"{P}/elections/{E}/exit-polls", json=noise, headers=b).status_code == 201
    # pollster's design is fixed once its interviews exist; pollster2 cannot reach it either
    r = client.put(f"{P}/elections/{E}/exit-polls/design", json=other, headers=a)
    assert r.status_code == 403 and "fixed" in r.json()["detail"], r.text
    assert client.post(f"{P}/elections/{E}/close", headers=cec).status_code == 200
    est = client.get(f"{P}/elections/{E}/exit-polls/estimate", params={"pollster": "pollster"}).json()
    assert est["respondents"] == 2 and "against-all" not in {k for k, v in est["estimates"].items()
                                                              if v["share"] > 0}, est
    mine = client.get(f"{P}/elections/{E}/exit-polls/estimate", params={"pollster": "pollster2"}).json()
    assert mine["respondents"] == 5


# -- no voter identity in any response -------------------------------------------------------------------


def _get_routes(app: Any) -> list[str]:
    """Every GET route's path template: the API's and the web pages', from the application's routers."""
    paths: set[str] = set()

    def walk(routes: Any, prefix: str) -> None:
        for r in routes:
            methods = getattr(r, "methods", None)
            if methods and "GET" in methods:
                paths.add(prefix + r.path)
            context = getattr(r, "include_context", None)
            if context is not None:
                walk(context.included_router.routes, prefix + context.prefix)

    walk(app.router.routes, "")
    return sorted(p for p in paths if not p.startswith(("/docs", "/redoc")))


def _fill(template: str, values: dict[str, list[str]]) -> list[str]:
    """Concrete paths: every value of each placeholder (first placeholder varied, others their first)."""
    names = re.findall(r"{(\w+)}", template)
    if not names:
        return [template]
    out = []
    for name in names:
        for v in values.get(name, ["x"]):
            path = template
            for other in names:
                path = path.replace(f"{{{other}}}", v if other == name else values.get(other, ["x"])[0])
            out.append(path)
    return sorted(set(out))


def test_no_response_shows_a_voters_identity(client: TestClient) -> None:
    el = setup_election(client)
    assert el.params is not None
    register_devices(client, el, "st-1-kiosk", "st-2-kiosk")
    kiosks = {s: VotingDevice(el.params, f"{s}-kiosk", s) for s in STATIONS}
    codes: list[str] = []
    for v in (0, 1, 2, 3):
        r = _cast(client, kiosks[STATIONS[v % 2]], _checkin(client, el, v), "cand-b")
        assert r.status_code == 201, r.text
        codes.append(r.json()["code"])
    # a remote voter too (its revote tag is tied to its pseudonym), and a challenged ballot
    r = client.post(f"{P}/elections/{E}/remote-credentials", json={"iin": VOTERS[6]}, headers=el.h["cec"])
    assert r.status_code == 201, r.text
    remote = VotingDevice(el.params, "st-1-remote", "st-1")
    remote_voter = {"Authorization": f"Bearer {r.json()['credential']}"}
    r = _cast(client, remote, remote_voter, "against-all", tag=bytes.fromhex(r.json()["revote_tag"]))
    assert r.status_code == 201, r.text
    codes.append(r.json()["code"])
    r = client.post(f"{P}/elections/{E}/stations/st-1/turnout",
                    json={"at": "2022-11-20T12:00:00+06:00", "voted": 3}, headers=el.h["station1"])
    assert r.status_code == 201, r.text
    job = client.post(f"{P}/elections/{E}/verify", headers=el.h["observer"]).json()

    # what identifies a voter: IIN, last name, date of birth (roll_csv: Voter{i}, Test, 1960+i-03-(1+i))
    identities = [*VOTERS, *(f"Voter{i}" for i in range(len(VOTERS)))]
    identities += [date(1960 + i, 3, 1 + i).isoformat() for i in range(len(VOTERS))]
    who = {
        "cec": el.h["cec"], "station": el.h["station1"], "station2": el.h["station2"],
        "guardian": el.h["guardian1"], "pollster": el.h["pollster"], "observer": el.h["observer"],
        "voter": _checkin(client, el, 4), "remote voter": remote_voter, "public": {},
    }
    values = {
        "election_id": [E], "station_id": list(STATIONS), "code": codes, "index": ["1", "2", "3"],
        "job_id": [str(job.get("id", "x"))], "applicant_id": ["x"], "number": ["1"],
    }
    routes = _get_routes(client.app)
    assert len(routes) >= 20, routes
    seen_codes = 0
    checked = 0
    for template in routes:
        for path in _fill(template, values):
            for role, headers in who.items():
                query = {"pollster": "pollster"} if path.endswith("/estimate") else None
                r = client.get(path, headers=headers, params=query)
                assert r.status_code < 500, (path, role, r.status_code, r.text[:300])
                text = r.text
                checked += 1
                seen_codes += any(c in text for c in codes)
                leaked = [i for i in identities if i in text]
                assert not leaked, (path, role, leaked[:3])
    assert checked >= 9 * 30, checked
    assert seen_codes > 0  # the scan did reach the responses that show ballots and codes
