"""An election open for voting on a live server (``LiveServer``), set up through its HTTP API.

The API tests' own set-up (``api.conftest.setup_election``: definition, key ceremony with the guardians'
secrets kept here, the voter roll, logins) runs unchanged against the live server through an
``httpx.Client``; what differs from the in-process tests is the clock: a separate process casts only
within its stations' voting hours on the real clock, so the manifest's polls are open now. More voters
join the roll (``voters``), every voter is checked in at their station beforehand (so a cast is the only
write a crash can interrupt), and booth devices are registered for the casting clients.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from api.conftest import (
    CSV,
    SELECTIONS,
    STATIONS,
    Election,
    manifest,
    register_devices,
    roll_csv,
    setup_election,
)
from saylau.election.voter_roll import make_iin

P = "/api/v1"


def open_now_manifest() -> dict[str, Any]:
    """The API tests' manifest with its polls open now (and for the next ten hours) in Almaty."""
    doc = manifest()
    now = datetime.now(ZoneInfo("Asia/Almaty")).replace(microsecond=0)
    opens, closes = now - timedelta(hours=2), now + timedelta(hours=10)
    doc.update(
        election_date=opens.date().isoformat(),
        voting_opens=opens.isoformat(),
        voting_closes=closes.isoformat(),
    )
    return doc


@dataclass
class LiveElection:
    """The election, its checked-in voters' credentials per station, and the devices registered."""

    election: Election
    credentials: dict[str, list[str]] = field(default_factory=dict)  # station -> unused credentials
    devices: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The election's id."""
        return self.election.id

    def take_credentials(self, station: str, n: int) -> list[str]:
        """``n`` unused credentials of ``station`` (each used by one ballot only)."""
        pool = self.credentials[station]
        if len(pool) < n:
            raise AssertionError(f"station {station}: {n} credentials wanted, {len(pool)} left")
        out, self.credentials[station] = pool[:n], pool[n:]
        return out


def _extra_voters(n: int) -> list[tuple[str, str, str, str, str]]:
    """``n`` adult voters besides the API tests' ten, alternating between the two stations."""
    rows = []
    for i in range(n):
        born = date(1940, 1, 1) + timedelta(days=i)
        rows.append(
            (make_iin(born, i % 2 == 1, 300 + i % 500), f"Extra{i}", born.isoformat(), "r1", STATIONS[i % 2])
        )
    return rows


def open_live_election(client: httpx.Client, voters: int, devices: list[str]) -> LiveElection:
    """Set up and open the election on the live server behind ``client``; check every voter in.

    ``client`` is an ``httpx.Client`` whose ``base_url`` is the server; ``devices`` are booth device
    ids (``st-1-…`` or ``st-2-…``) registered at their stations.
    """
    el = setup_election(client, open_it=False, manifest_doc=open_now_manifest())  # type: ignore[arg-type]
    extra = _extra_voters(voters)
    r = client.post(f"{P}/elections/{el.id}/roll", content=roll_csv(extra), headers={**el.h["cec"], **CSV})
    assert r.status_code == 201, r.text
    r = client.post(f"{P}/elections/{el.id}/open", headers=el.h["cec"])
    assert r.status_code == 200, r.text
    register_devices(client, el, *devices)  # type: ignore[arg-type]
    live = LiveElection(el, {s: [] for s in STATIONS}, list(devices))
    for iin, *_rest, station in extra:
        header = el.h[f"station{station.removeprefix('st-')}"]
        r = client.post(
            f"{P}/elections/{el.id}/stations/{station}/checkin", json={"iin": iin}, headers=header
        )
        assert r.status_code == 201, r.text
        live.credentials[station].append(r.json()["credential"])
    return live


def random_choice(rng: random.Random) -> str:
    """One of the contest's three options."""
    return rng.choice(SELECTIONS)


def idempotency_key(rng: random.Random) -> str:
    """A fresh ``Idempotency-Key``."""
    return "k-" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=24))
