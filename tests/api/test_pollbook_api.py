"""The server's roll import, transfers, check-in and remote registration follow saylau.election's rules."""

from __future__ import annotations

from datetime import date

from saylau.election.voter_roll import make_iin
from saylau.voting.device import VotingDevice

from .conftest import CSV, STATIONS, VOTERS, P, TestClient, register_devices, roll_csv, setup_election

E = "e2022"
MINOR = make_iin(date(2005, 1, 1), False, 7)  # 17 on election day, 20 Nov 2022
BIRTHDAY = make_iin(date(2004, 11, 20), True, 8)  # turns 18 on election day itself


def _checkin(client: TestClient, el, iin: str, station: str):  # type: ignore[no-untyped-def]
    who = "station1" if station == "st-1" else "station2"
    return client.post(f"{P}/elections/{E}/stations/{station}/checkin", json={"iin": iin}, headers=el.h[who])


def _no_personal_data(detail: str, iin: str) -> None:
    assert iin not in detail and iin[:6] not in detail, detail
    assert iin[-4:] in detail, detail  # the voter is named only by the IIN's last four digits


def test_double_vote_at_the_same_and_another_station_is_refused(client: TestClient) -> None:
    el = setup_election(client)
    first = _checkin(client, el, VOTERS[0], "st-1")
    assert first.status_code == 201 and first.json()["channel"] == "station", first.text
    again = _checkin(client, el, VOTERS[0], "st-1")
    assert again.status_code == 409 and "already voted at station 'st-1'" in again.json()["detail"]
    _no_personal_data(again.json()["detail"], VOTERS[0])
    # at another station: first the listing rule refuses, never a second credential
    other = _checkin(client, el, VOTERS[0], "st-2")
    assert other.status_code == 409 and "already voted at station 'st-1'" in other.json()["detail"]
    # a remote registration after voting in person, and an in-person check-in after remote registration
    r = client.post(f"{P}/elections/{E}/remote-credentials", json={"iin": VOTERS[0]}, headers=el.h["cec"])
    assert r.status_code == 409 and "st-1" in r.json()["detail"]
    r = client.post(f"{P}/elections/{E}/remote-credentials", json={"iin": VOTERS[3]}, headers=el.h["cec"])
    assert r.status_code == 201 and r.json()["station_id"] == "st-2", r.text
    r = _checkin(client, el, VOTERS[3], "st-2")
    assert r.status_code == 409 and "registered for remote voting at station 'st-2'" in r.json()["detail"]
    # a voter listed elsewhere, and someone not on the roll
    r = _checkin(client, el, VOTERS[1], "st-1")
    assert r.status_code == 409 and "listed at station 'st-2', not 'st-1'" in r.json()["detail"]
    stranger = make_iin(date(1970, 1, 1), False, 1)
    r = _checkin(client, el, stranger, "st-1")
    assert r.status_code == 409 and "not on the voter roll" in r.json()["detail"]
    r = _checkin(client, el, "12345", "st-1")
    assert r.status_code == 422 and "not a valid IIN: not 12 digits" in r.json()["detail"]
    # turnout counts the check-ins where they happened (remote ones at the voter's station)
    assert client.get(f"{P}/elections/{E}/roll").json()["stations"]["st-1"]["registered"] == 5


def test_absentee_transfer_is_honoured(client: TestClient) -> None:
    el = setup_election(client)
    moved = VOTERS[2]  # listed at st-1
    r = client.post(f"{P}/elections/{E}/transfers", json={"iin": moved, "to_station": "st-2"},
                    headers=el.h["station2"])
    assert r.status_code == 403 and "own voters" in r.json()["detail"]
    r = client.post(f"{P}/elections/{E}/transfers", json={"iin": moved, "to_station": "st-2"},
                    headers=el.h["station1"])
    assert r.status_code == 201, r.text
    cert = r.json()
    assert (cert["from_station"], cert["to_station"]) == ("st-1", "st-2")
    again = client.post(f"{P}/elections/{E}/transfers", json={"iin": moved, "to_station": "st-2"},
                        headers=el.h["cec"])
    assert again.status_code == 422 and cert["certificate_id"] in again.json()["detail"]
    r = client.post(f"{P}/elections/{E}/transfers", json={"iin": VOTERS[4], "to_station": "st-9"},
                    headers=el.h["cec"])
    assert r.status_code == 422 and "st-9" in r.json()["detail"]
    counts = client.get(f"{P}/elections/{E}/roll").json()["stations"]
    assert counts["st-1"]["transferred_out"] == 1 and counts["st-2"]["transferred_in"] == 1
    assert (counts["st-1"]["registered"], counts["st-2"]["registered"]) == (4, 6)
    refused = _checkin(client, el, moved, "st-1")
    assert refused.status_code == 409 and cert["certificate_id"] in refused.json()["detail"]
    assert _checkin(client, el, moved, "st-2").status_code == 201
    board = client.get(f"{P}/elections/{E}/board").text
    assert moved not in board and cert["certificate_id"] not in board  # no person on the public board


def test_under_age_voter_is_refused_and_an_eighteenth_birthday_counts(client: TestClient) -> None:
    el = setup_election(client, open_it=False)
    rows = [(MINOR, "Young", "2005-01-01", "r1", "st-1"), (BIRTHDAY, "Birthday", "2004-11-20", "r1", "st-2")]
    r = client.post(f"{P}/elections/{E}/roll", content=roll_csv(rows), headers={**el.h["cec"], **CSV})
    assert r.status_code == 201 and r.json()["imported"] == 2, r.text
    assert client.post(f"{P}/elections/{E}/open", headers=el.h["cec"]).status_code == 200
    r = _checkin(client, el, MINOR, "st-1")
    assert r.status_code == 409, r.text
    assert "is 17 on election day 2022-11-20, under the voting age of 18" in r.json()["detail"]
    _no_personal_data(r.json()["detail"], MINOR)
    r = client.post(f"{P}/elections/{E}/remote-credentials", json={"iin": MINOR}, headers=el.h["cec"])
    assert r.status_code == 409 and "under the voting age" in r.json()["detail"]
    assert _checkin(client, el, BIRTHDAY, "st-2").status_code == 201


def test_a_credential_casts_once(client: TestClient) -> None:
    el = setup_election(client)
    r = _checkin(client, el, VOTERS[0], "st-1")
    voter = {"Authorization": f"Bearer {r.json()['credential']}"}
    assert el.params is not None
    register_devices(client, el, "st-1-d1")
    device = VotingDevice(el.params, "st-1-d1", "st-1")

    def ballot(choice: str) -> dict[str, object]:
        pending = device.encrypt({"president": [choice]}, "main")
        device.cast(pending)
        return {"ballot": pending.ballot.to_dict(), "device_id": "st-1-d1"}

    assert client.post(f"{P}/elections/{E}/ballots", json=ballot("cand-a"), headers=voter).status_code == 201
    second = client.post(f"{P}/elections/{E}/ballots", json=ballot("cand-b"), headers=voter)
    assert second.status_code == 403 and "already cast" in second.json()["detail"], second.text
    # the pollbook stored only the credential's hash
    state = client.app.state.saylau  # type: ignore[attr-defined]
    from sqlalchemy import select

    from saylau.election.pollbook import credential_hash
    from saylau.store.models import CheckIn

    with state.reading() as s:
        stored = s.scalars(select(CheckIn.credential_hash).where(CheckIn.voter_id == VOTERS[0])).one()
    assert stored == credential_hash(r.json()["credential"]) and r.json()["credential"] not in stored
    # the ballot and the voter's token carry a pseudonym, never the IIN
    from saylau.api.routes_stations import voter_pseudonym
    from saylau.store.models import Ballot

    with state.reading() as s:
        owners = set(s.scalars(select(Ballot.voter_id)))
    assert owners == {voter_pseudonym(state.pseudonym_key, E, VOTERS[0])}
    me = client.get(f"{P}/me", headers=voter).json()
    assert me["voter_id"] == voter_pseudonym(state.pseudonym_key, E, VOTERS[0]) and VOTERS[0] not in str(me)


def test_a_check_in_caches_the_same_grant_the_database_holds(client: TestClient) -> None:
    from saylau.store.accounts import resolve_token

    el = setup_election(client)
    credential = _checkin(client, el, VOTERS[1], "st-2").json()["credential"]
    state = client.app.state.saylau  # type: ignore[attr-defined]
    cached = state.tokens.get(credential)
    with state.reading() as s:
        stored = resolve_token(s, credential)
    assert cached is not None and cached.role == "voter" and cached.station_id == "st-2"
    for name in ("role", "election_id", "station_id", "voter_id", "channel", "token_hash", "user_id"):
        assert getattr(cached, name) == getattr(stored, name), name
    assert abs((cached.expires_at - stored.expires_at).total_seconds()) < 1


def test_bad_roll_rows_are_reported_and_nothing_is_imported(client: TestClient) -> None:
    el = setup_election(client, open_it=False)
    cec = {**el.h["cec"], **CSV}
    good = make_iin(date(1980, 5, 5), False, 11)
    broken = good[:11] + str((int(good[11]) + 1) % 10)
    rows = [
        (good, "Good", "1980-05-05", "r1", ""),  # row 2: assigned to the least-loaded station
        (broken, "Broken", "1980-05-05", "r1", "st-1"),  # row 3: check digit
        (make_iin(date(1981, 1, 1), True, 12), "Elsewhere", "1981-01-01", "r9", ""),  # row 4: region
        (make_iin(date(1982, 2, 2), True, 13), "Wrong", "1982-02-03", "r1", "st-2"),  # row 5: date of birth
        (VOTERS[0], "Voter0", "1960-03-01", "r1", "st-1"),  # row 6: already on the stored roll
    ]
    before = client.get(f"{P}/elections/{E}/roll").json()["total"]
    r = client.post(f"{P}/elections/{E}/roll", content=roll_csv(rows), headers=cec)
    assert r.status_code == 422, r.text
    problems = {(p["row"], p["field"]) for p in r.json()["rows"]}
    assert problems == {(3, "iin"), (4, "region"), (5, "date_of_birth"), (6, "iin")}, r.json()
    reasons = {p["row"]: p["reason"] for p in r.json()["rows"]}
    assert "check digit" in reasons[3] and "'r9'" in reasons[4] and "already on the stored roll" in reasons[6]
    assert "nothing imported" in r.json()["detail"]
    assert client.get(f"{P}/elections/{E}/roll").json()["total"] == before
    r = client.post(f"{P}/elections/{E}/roll", content="iin,last_name\n1,x\n", headers=cec)
    assert r.status_code == 422 and "missing column(s) first_name" in r.json()["detail"]
    # partial import: the good row is stored, the bad ones listed
    r = client.post(f"{P}/elections/{E}/roll?accept_partial=true", content=roll_csv(rows), headers=cec)
    assert r.status_code == 201 and r.json()["imported"] == 1 and len(r.json()["rejected"]) == 4, r.text
    assert client.get(f"{P}/elections/{E}/roll").json()["total"] == before + 1
    assert client.post(f"{P}/elections/{E}/open", headers=el.h["cec"]).status_code == 200
    late = client.post(f"{P}/elections/{E}/roll", content=roll_csv(rows[:1]), headers=cec)
    assert late.status_code == 409 and "setup" in late.json()["detail"]
    station = next(s for s in STATIONS if _checkin(client, el, good, s).status_code == 201)
    assert station in STATIONS
