"""A remote voter can revote until their station's polls close, not only for two hours (issue 8, item 8).

The clock is injected: the server's reads of "now" for issuing and checking credentials come from a
clock the test moves, so the election day of the 2022 manifest (07:00-20:00 in Asia/Almaty) is simulated.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from saylau.voting.device import VotingDevice

from .conftest import VOTERS, P, TestClient, setup_election


class Clock:
    """A settable clock (aware UTC datetimes)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(datetime(2022, 11, 20, 4, 0, tzinfo=UTC))  # 10:00 in Almaty (UTC+6)
    monkeypatch.setattr("saylau.store.accounts.utcnow", c)
    monkeypatch.setattr("saylau.api.routes_stations.utcnow", c)
    return c


def _remote(client: TestClient, el: Any, voter: int) -> tuple[dict[str, str], bytes]:
    url = f"{P}/elections/{el.id}/remote-credentials"
    r = client.post(url, json={"iin": VOTERS[voter]}, headers=el.h["cec"])
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['credential']}"}, bytes.fromhex(r.json()["revote_tag"])


def _cast(
    client: TestClient, el: Any, device: VotingDevice, h: dict[str, str], tag: bytes, choice: str
) -> Any:
    pending = device.encrypt({"president": [choice]}, "main", revote_tag=tag)
    body = {"ballot": pending.ballot.to_dict(), "device_id": device.device_id}
    r = client.post(f"{P}/elections/{el.id}/ballots", json=body, headers=h)
    if r.status_code == 201:
        device.cast(pending)
    return r


def test_a_remote_voter_revotes_three_hours_later_and_not_after_the_close(
    client: TestClient, clock: Clock
) -> None:
    el = setup_election(client)
    assert el.params is not None
    device = VotingDevice(el.params, "st-1-remote", "st-1")
    h, tag = _remote(client, el, 6)  # VOTERS[6] is listed at st-1 (Asia/Almaty)
    first = _cast(client, el, device, h, tag, "cand-b")
    assert first.status_code == 201, first.text
    clock.now += timedelta(hours=3)  # 13:00: the old fixed two-hour credential had expired at 12:00
    second = _cast(client, el, device, h, tag, "against-all")
    assert second.status_code == 201, second.text
    assert second.json()["superseded"] == [first.json()["code"]]
    clock.now = datetime(2022, 11, 20, 13, 59, tzinfo=UTC)  # 19:59 local: still open
    third = _cast(client, el, device, h, tag, "cand-a")
    assert third.status_code == 201, third.text
    clock.now = datetime(2022, 11, 20, 14, 0, 1, tzinfo=UTC)  # 20:00:01 local: the station has closed
    late = _cast(client, el, device, h, tag, "cand-b")
    assert late.status_code == 401 and "expired" in late.json()["detail"], late.text


def test_a_remote_credential_issued_before_opening_lasts_until_the_close(
    client: TestClient, clock: Clock
) -> None:
    el = setup_election(client, open_it=False)
    clock.now = datetime(2022, 11, 19, 9, 0, tzinfo=UTC)  # the day before
    h, tag = _remote(client, el, 8)
    assert client.post(f"{P}/elections/{el.id}/open", headers=el.h["cec"]).status_code == 200
    clock.now = datetime(2022, 11, 20, 12, 0, tzinfo=UTC)  # 18:00 local on election day
    assert el.params is not None
    r = _cast(client, el, VotingDevice(el.params, "st-1-remote", "st-1"), h, tag, "cand-a")
    assert r.status_code == 201, r.text
    # a second credential is still refused (409): the voter revotes with the one they hold
    url = f"{P}/elections/{el.id}/remote-credentials"
    r = client.post(url, json={"iin": VOTERS[8]}, headers=el.h["cec"])
    assert r.status_code == 409, r.text
