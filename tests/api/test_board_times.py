"""The server's board times are its clock's, and a ballot is cast only within its station's voting hours."""

from __future__ import annotations

from datetime import UTC, datetime

from saylau.board import read_jsonl
from saylau.voting.device import VotingDevice

from .conftest import VOTERS, Election, P, TestClient, register_devices, setup_election


def _entries(client: TestClient, eid: str) -> list[dict[str, object]]:
    rows = read_jsonl(client.get(f"{P}/elections/{eid}/board").text.splitlines())
    return [r for r in rows if r["type"] == "entry"]


class _Voter:
    """A voter checked in at st-1, with one ballot encrypted on ``device`` (sent until it is accepted)."""

    def __init__(self, client: TestClient, el: Election, voter: int, device: VotingDevice) -> None:
        r = client.post(
            f"{P}/elections/{el.id}/stations/st-1/checkin",
            json={"iin": VOTERS[voter]},
            headers=el.h["station1"],
        )
        assert r.status_code == 201, r.text
        self.client, self.el, self.device = client, el, device
        self.headers = {"Authorization": f"Bearer {r.json()['credential']}"}
        self.pending = device.encrypt({"president": ["cand-a"]}, "main")

    def cast(self) -> tuple[int, str]:
        body = {"ballot": self.pending.ballot.to_dict(), "device_id": self.device.device_id}
        r = self.client.post(f"{P}/elections/{self.el.id}/ballots", json=body, headers=self.headers)
        if r.status_code == 201:
            self.device.cast(self.pending)
        return r.status_code, r.text


def test_board_times_are_the_servers_clock(client: TestClient) -> None:
    el = setup_election(client, open_it=False)
    register_devices(client, el, "st-1-d1")
    state = client.app.state.saylau  # type: ignore[attr-defined]
    fixed = datetime(2022, 11, 20, 3, 0, tzinfo=UTC)
    state.clock = lambda: fixed
    assert client.post(f"{P}/elections/{el.id}/open", headers=el.h["cec"]).status_code == 200
    entries = _entries(client, el.id)
    assert entries[-1]["kind"] == "phase" and entries[-1]["time"] == "2022-11-20T03:00:00.000000Z"
    # the clock of the earlier entries (the tests' election day clock) never ran backwards
    times = [str(e["time"]) for e in entries]
    assert times == sorted(times) and times[0].startswith("2022-11-20T02:00:00.")
    # a clock that steps back (NTP) does not make the board go backwards: the board keeps its last time
    state.clock = lambda: datetime(2022, 11, 20, 2, 30, tzinfo=UTC)
    assert el.params is not None
    status, text = _Voter(client, el, 0, VotingDevice(el.params, "st-1-d1", "st-1")).cast()
    assert status == 201, text
    assert [e["time"] for e in _entries(client, el.id)[-1:]] == ["2022-11-20T03:00:00.000000Z"]


def test_cast_outside_the_stations_voting_hours_is_refused(client: TestClient) -> None:
    el = setup_election(client)
    register_devices(client, el, "st-1-d1")
    assert el.params is not None
    state = client.app.state.saylau  # type: ignore[attr-defined]
    device = VotingDevice(el.params, "st-1-d1", "st-1")
    before = len(_entries(client, el.id))
    # 20:00:00.000001 in Almaty (UTC+6) is after the close of st-1's voting hours 07:00–20:00
    state.clock = lambda: datetime(2022, 11, 20, 14, 0, 0, 1, tzinfo=UTC)
    voter = _Voter(client, el, 0, device)
    status, text = voter.cast()
    assert status == 409, text
    assert "station st-1: voting is open 07:00–20:00 Asia/Almaty" in text
    assert "not at 2022-11-20T14:00:00.000001Z" in text
    assert len(_entries(client, el.id)) == before  # nothing was published
    # at the close itself the ballot is accepted, and its board entry carries that time
    state.clock = lambda: datetime(2022, 11, 20, 14, 0, tzinfo=UTC)
    status, text = voter.cast()
    assert status == 201, text
    last = _entries(client, el.id)[-1]
    assert last["kind"] == "ballot" and last["time"] == "2022-11-20T14:00:00.000000Z"
