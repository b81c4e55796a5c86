"""Crash safety, measured: cast from concurrent clients, SIGKILL ``saylau serve`` at random moments, restart.

Clients (threads, one ``httpx.Client`` each) cast real encrypted ballots: single-ballot requests under a
voter's credential with an ``Idempotency-Key``, and polling-station batch uploads; each client owns one
booth device, so its ballots go up in chain order. A request that gets no answer (the server died under
it) is sent again, byte for byte and with the same key, once the server is back, until it gets a
definite answer. A ballot counts as *acknowledged* once a 2xx answer said it is stored (201, or 200 for a
ballot already stored by an earlier, unanswered attempt).

The controller lets the server run for a random time, SIGKILLs it (the server process alone, as a
crash would), waits for the clients to notice, restarts the server, and then — before the clients send
anything again — reads the board: every ballot acknowledged so far must be on it exactly once
(*found*; *lost* otherwise), no tracking code or ballot id twice (*duplicated*), and the ballots that
were in flight at the kill are counted as stored or not (*unacknowledged but stored* is allowed: the
server committed, then died before answering). After the last round the clients stop, ``saylau check``
walks the database, the election is closed, tallied and decrypted (the decrypted counts must equal the
choices of the ballots on the board), its record is exported and verified by ``saylau verify``, and the
server is stopped; no process it started may be left.

``run_soak`` returns a ``SoakReport`` (one ``KillRow`` per kill); ``tests/reliability/test_crash_safety.py``
runs a few kills per backend, ``benchmarks/crash_soak.py`` many, printing the table.
"""

from __future__ import annotations

import io
import json
import random
import tarfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api.conftest import tally_and_share, wait_job
from reliability.live_election import LiveElection, P, idempotency_key, open_live_election, random_choice
from reliability.live_server import PASSWORD, LiveServer
from saylau.board import read_jsonl, verify_board
from saylau.crypto import ElectionParameters
from saylau.voting.device import VotingDevice

TRANSPORT_ERRORS = (httpx.TransportError,)


@dataclass
class Sent:
    """A ballot as its client knows it: code, id, the choice it encrypts, how it was sent."""

    code: str
    ballot_id: str
    choice: str
    mode: str  # "single" or "batch"


@dataclass
class KillRow:
    """What one kill did: ballots acknowledged before it, found after the restart, lost, duplicated."""

    kill: int
    up_seconds: float
    acknowledged: int  # acknowledged since the start of the soak, before this kill
    found: int  # of those, on the board after the restart
    lost: int
    duplicated: int  # board entries sharing a tracking code or ballot id with another
    in_flight: int  # ballots of requests the kill left unanswered
    unacknowledged_stored: int  # of those, on the board after the restart
    restart_seconds: float
    leftovers: list[int] = field(default_factory=list)  # processes alive after the kill


@dataclass
class SoakReport:
    """The whole soak: per-kill rows and the final checks."""

    backend: str
    rows: list[KillRow] = field(default_factory=list)
    acknowledged: int = 0
    on_board: int = 0
    lost: int = 0
    duplicated: int = 0
    replays: int = 0  # acknowledged requests sent again on purpose (must not store twice)
    errors: list[str] = field(default_factory=list)
    check_output: str = ""
    tally_matches: bool = False
    record_verified: bool = False
    final_leftovers: list[int] = field(default_factory=list)

    def table(self) -> str:
        """The per-kill table and its totals, as text."""
        head = (
            f"{'kill':>4} {'up s':>6} {'acked':>6} {'found':>6} {'lost':>4} {'dup':>4} {'in flight':>9} "
            f"{'unacked stored':>14} {'restart s':>9} {'left':>4}"
        )
        lines = [head]
        for r in self.rows:
            lines.append(
                f"{r.kill:>4} {r.up_seconds:>6.2f} {r.acknowledged:>6} {r.found:>6} {r.lost:>4} "
                f"{r.duplicated:>4} {r.in_flight:>9} {r.unacknowledged_stored:>14} "
                f"{r.restart_seconds:>9.2f} {len(r.leftovers):>4}"
            )
        return "\n".join(lines)


class Caster(threading.Thread):
    """One client: a booth device at a station, casting single ballots or uploading batches of them."""

    def __init__(self, soak: CrashSoak, name: str, station: str, mode: str, batch: int, seed: int) -> None:
        super().__init__(name=name, daemon=True)
        self.soak, self.station, self.mode, self.batch = soak, station, mode, batch
        self.rng = random.Random(seed)
        assert soak.params is not None and soak.live is not None
        self.device = VotingDevice(soak.params, name, station)
        self.station_header = soak.live.election.h[f"station{station.removeprefix('st-')}"]
        self.pending: list[Sent] = []  # the ballots of a request sent and not answered
        self.idle = threading.Event()  # set while waiting for the server to come back
        self.acked: list[Sent] = []
        self.errors: list[str] = []
        self.replays = 0

    def _next_request(self) -> tuple[str, dict[str, Any], dict[str, str], list[Sent]]:
        n = 1 if self.mode == "single" else self.rng.randint(1, self.batch)
        creds = self.soak.take_credentials(self.station, n)
        items, sent = [], []
        for cred in creds:
            choice = random_choice(self.rng)
            pending = self.device.encrypt({"president": [choice]}, "main")
            self.device.cast(pending)
            doc = pending.ballot.to_dict()
            sent.append(Sent(pending.ballot.code.hex(), str(pending.ballot.ballot_id), choice, self.mode))
            items.append({"credential": cred, "ballot": doc, "device_id": self.name})
        if self.mode == "single":
            headers = {"Authorization": f"Bearer {creds[0]}", "Idempotency-Key": idempotency_key(self.rng)}
            body = {"ballot": items[0]["ballot"], "device_id": self.name}
            return f"{P}/elections/{self.soak.election_id}/ballots", body, headers, sent
        return (
            f"{P}/elections/{self.soak.election_id}/ballots/batch",
            {"ballots": items},
            self.station_header,
            sent,
        )

    def run(self) -> None:
        with httpx.Client(base_url=self.soak.server.base, timeout=60) as c:
            while not self.soak.stopping.is_set():
                try:
                    path, body, headers, sent = self._next_request()
                except AssertionError as exc:  # out of credentials: this client is done
                    self.errors.append(str(exc))
                    return
                if not self._send_until_answered(c, path, body, headers, sent):
                    return
                if self.rng.random() < 0.1:  # a client that did not trust its answer sends it once more
                    self.replays += 1
                    self._send_until_answered(c, path, body, headers, sent, replay=True)

    def _wait_for_server(self) -> None:
        self.idle.set()
        self.soak.up.wait()
        self.idle.clear()

    def _send_until_answered(
        self,
        c: httpx.Client,
        path: str,
        body: dict[str, Any],
        headers: dict[str, str],
        sent: list[Sent],
        replay: bool = False,
    ) -> bool:
        data = json.dumps(body).encode()
        hdrs = {**headers, "Content-Type": "application/json"}
        while True:
            if not self.soak.up.is_set():
                self._wait_for_server()
            try:
                r = c.post(path, content=data, headers=hdrs)
            except TRANSPORT_ERRORS:
                if not replay:
                    self.pending = sent
                self._wait_for_server()
                continue
            if r.status_code in (503, 429):  # overloaded or starting: as told
                time.sleep(min(float(r.headers.get("Retry-After", "1")), 2.0))
                continue
            self.pending = []
            return self._answered(r, sent, replay)

    def _answered(self, r: httpx.Response, sent: list[Sent], replay: bool) -> bool:
        if self.mode == "single":
            ok = r.status_code in (200, 201)
            statuses = [r.status_code]
        else:
            ok = r.status_code == 200
            statuses = [x["status"] for x in r.json()["results"]] if ok else [r.status_code]
            ok = ok and all(s in (200, 201) for s in statuses)
        if not ok:
            self.errors.append(f"{self.name}: {r.status_code} {r.text[:300]}")
            return False
        if replay:
            if any(s == 201 for s in statuses) and r.headers.get("Idempotent-Replay") != "true":
                self.errors.append(f"{self.name}: a replayed request was stored again: {r.text[:300]}")
            return True
        self.acked.extend(sent)
        return True


class CrashSoak:
    """The controller: one server, its casters, ``kills`` rounds of SIGKILL and restart."""

    def __init__(
        self,
        server: LiveServer,
        backend: str,
        kills: int,
        seed: int = 1,
        singles: int = 3,
        batchers: int = 2,
        batch: int = 8,
        up_seconds: tuple[float, float] = (0.3, 2.5),
        voters: int = 400,
        budget_seconds: float | None = None,
        rows_file: Path | None = None,
    ) -> None:
        self.server, self.kills, self.seed = server, kills, seed
        self.rng = random.Random(seed)
        self.singles, self.batchers, self.batch = singles, batchers, batch
        self.up_seconds, self.voters = up_seconds, voters
        self.budget_seconds, self.rows_file = budget_seconds, rows_file
        self.report = SoakReport(backend)
        self.up = threading.Event()
        self.stopping = threading.Event()
        self.live: LiveElection | None = None
        self.params: ElectionParameters | None = None
        self.election_id = ""
        self._lock = threading.Lock()
        self.casters: list[Caster] = []

    def take_credentials(self, station: str, n: int) -> list[str]:
        """Credentials for a client's next request (shared pool per station)."""
        assert self.live is not None
        with self._lock:
            return self.live.take_credentials(station, n)

    def _board(self, c: httpx.Client) -> list[dict[str, Any]]:
        r = c.get(f"{P}/elections/{self.election_id}/board")
        assert r.status_code == 200, r.text
        return read_jsonl(r.text.splitlines())

    @staticmethod
    def _ballots_on(board: list[dict[str, Any]]) -> tuple[Counter[str], Counter[str]]:
        codes: Counter[str] = Counter()
        ids: Counter[str] = Counter()
        for row in board:
            if row.get("type") == "entry" and row.get("kind") == "ballot":
                codes[row["code"]] += 1
                ids[str(row["payload"]["ballot"]["ballot_id"])] += 1
        return codes, ids

    def _acked(self) -> list[Sent]:
        return [s for caster in self.casters for s in caster.acked]

    def _round(self, c: httpx.Client, k: int) -> None:
        up_for = self.rng.uniform(*self.up_seconds)
        time.sleep(up_for)
        self.up.clear()
        acked = self._acked()  # answered before the kill (clients may still be receiving answers)
        leftovers = self.server.kill()
        deadline = time.monotonic() + 60
        while not all(x.idle.is_set() or not x.is_alive() for x in self.casters):
            assert time.monotonic() < deadline, "a client did not notice the server's death"
            time.sleep(0.02)
        acked = self._acked()  # every answer a client received came before the kill
        in_flight = [s for x in self.casters for s in x.pending]
        restart = self.server.start()
        board = self._board(c)
        verify_board(board)
        codes, ids = self._ballots_on(board)
        found = sum(1 for s in acked if codes[s.code] >= 1)
        duplicated = sum(n - 1 for n in codes.values() if n > 1) + sum(n - 1 for n in ids.values() if n > 1)
        stored = sum(1 for s in in_flight if codes[s.code] >= 1)
        self.report.rows.append(
            KillRow(
                k,
                up_for,
                len(acked),
                found,
                len(acked) - found,
                duplicated,
                len(in_flight),
                stored,
                restart,
                leftovers,
            )
        )
        if self.rows_file is not None:  # a row per kill as it happens (a long soak can be read while it runs)
            with self.rows_file.open("a") as f:
                f.write(json.dumps({"backend": self.report.backend, **self.report.rows[-1].__dict__}) + "\n")
        self.up.set()

    def run(self) -> SoakReport:
        """Set up, soak, then the final checks; the report says what was found."""
        self.server.cli("user", "add", "cec", "--role", "cec", password=PASSWORD)
        self.server.start()
        with httpx.Client(base_url=self.server.base, timeout=120) as c:
            devices = [f"st-{1 + i % 2}-single{i}" for i in range(self.singles)]
            devices += [f"st-{1 + i % 2}-batch{i}" for i in range(self.batchers)]
            self.live = open_live_election(c, self.voters, devices)
            self.election_id = self.live.id
            self.params = self.live.election.params
            for i in range(self.singles):
                self.casters.append(
                    Caster(
                        self, f"st-{1 + i % 2}-single{i}", f"st-{1 + i % 2}", "single", 1, self.seed * 100 + i
                    )
                )
            for i in range(self.batchers):
                self.casters.append(
                    Caster(
                        self,
                        f"st-{1 + i % 2}-batch{i}",
                        f"st-{1 + i % 2}",
                        "batch",
                        self.batch,
                        self.seed * 100 + 50 + i,
                    )
                )
            self.up.set()
            for caster in self.casters:
                caster.start()
            started = time.monotonic()
            for k in range(1, self.kills + 1):
                if self.budget_seconds is not None and time.monotonic() - started > self.budget_seconds:
                    break  # out of time: fewer kills than asked, and the report says how many
                try:
                    self._round(c, k)
                except AssertionError as exc:  # the report so far, with what went wrong
                    self.report.errors.append(f"kill {k}: {exc}")
                    self.stopping.set()
                    self.up.set()
                    return self.report
            time.sleep(self.rng.uniform(*self.up_seconds))
            self.stopping.set()
            for caster in self.casters:
                caster.join(120)
                assert not caster.is_alive(), f"client {caster.name} did not finish"
            self._final(c)
        self.report.final_leftovers = self.server.stop()
        return self.report

    def _final(self, c: httpx.Client) -> None:
        rep = self.report
        for caster in self.casters:
            rep.errors.extend(e for e in caster.errors if "credentials wanted" not in e)
            rep.replays += caster.replays
        acked = self._acked()
        rep.acknowledged = len(acked)
        board = self._board(c)
        verify_board(board)
        codes, ids = self._ballots_on(board)
        rep.on_board = sum(codes.values())
        rep.lost = sum(1 for s in acked if codes[s.code] == 0)
        rep.duplicated = sum(n - 1 for n in codes.values() if n > 1) + sum(
            n - 1 for n in ids.values() if n > 1
        )
        known = {s.code: s for x in self.casters for s in x.acked}
        strangers = [code for code in codes if code not in known]
        if strangers:  # only a ballot that was in flight at the end could be unacknowledged here
            rep.errors.append(f"{len(strangers)} ballots on the board that no client had acknowledged")
        done = self.server.cli("check", "--checkpoint-every", "1000", check=False)
        rep.check_output = (done.stdout + done.stderr).strip()
        if done.returncode != 0:
            rep.errors.append(f"saylau check failed: {rep.check_output}")
        self._tally_and_verify(c, codes, known)

    def _tally_and_verify(self, c: httpx.Client, codes: Counter[str], known: dict[str, Sent]) -> None:
        assert self.live is not None
        el = self.live.election
        cec = el.h["cec"]  # the tokens of the set-up outlive the restarts (they are in the database)
        r = c.post(f"{P}/elections/{el.id}/close", headers=cec)
        assert r.status_code == 200, r.text
        tally_and_share(c, el, el.guardians[:2])  # type: ignore[arg-type]
        job = c.post(f"{P}/elections/{el.id}/decrypt", headers=cec).json()
        done = wait_job(c, cec, job["id"], timeout=300)  # type: ignore[arg-type]
        assert done["state"] == "succeeded", done
        counts = c.get(f"{P}/elections/{el.id}/results").json()["nation"]["counts"]["president"]
        expected = Counter(known[code].choice for code in codes if code in known)
        self.report.tally_matches = all(
            counts.get(k, 0) == expected.get(k, 0) for k in set(counts) | set(expected)
        )
        if not self.report.tally_matches:
            self.report.errors.append(
                f"decrypted tally {counts} differs from the ballots on the board {expected}"
            )
        r = c.get(f"{P}/elections/{el.id}/record", timeout=300)
        assert r.status_code == 200, r.text
        out = self.server.workdir / "record"
        with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:gz") as tar:
            tar.extractall(out, filter="data")
        record = next(p.parent for p in Path(out).rglob("files.json"))
        verified = self.server.cli(
            "verify", str(record), "--quiet", "--expect-hash", r.headers["Saylau-Record-Hash"], check=False
        )
        self.report.record_verified = verified.returncode == 0
        if verified.returncode != 0:
            self.report.errors.append(
                f"saylau verify failed: {verified.stdout[-2000:]} {verified.stderr[-2000:]}"
            )


def run_soak(server: LiveServer, backend: str, kills: int, **options: Any) -> SoakReport:
    """Run a soak of ``kills`` kills against ``server``; always end the processes it started."""
    try:
        return CrashSoak(server, backend, kills, **options).run()
    finally:
        server.cleanup()
