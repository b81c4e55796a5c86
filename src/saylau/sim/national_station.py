"""One polling station of the simulated national election, start to finish: the unit of parallel work.

A worker gets a :class:`StationTask` (the station, its votes from the paper simulation, and the
election's context as canonical JSON bytes) and returns a :class:`StationOutput`: the station's record
lines and board events already encoded, its two devices, its encrypted tally and its signed protocol.
It needs nothing else (no manifest, no shared disk), so it runs the same in this process, a local pool
or a Dask worker, and its output depends only on the seed and the station (``national_rng``).

Voters behave as in ``saylau demo`` (``record.demo``): each votes at a uniform moment of the station's
hours; a share audit a ballot first (Benaloh challenge); a share vote remotely, and some of those are
coerced first and vote again later (revote tags, the last vote counts).
"""

from __future__ import annotations

import functools
import json
import resource
import time as _time
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saylau.board.chain import format_time, payload_hash
from saylau.board.hashing import TAG_PAYLOAD, canonical_object, tagged_hash_bytes
from saylau.crypto import ElectionParameters, EncryptedTally
from saylau.election.manifest import canonical_json
from saylau.election.protocols import ProtocolFigures, sign_protocol
from saylau.record import format as fmt
from saylau.sim.national_rng import simulation_bytes, simulation_random
from saylau.voting.ballot_box import BallotBox
from saylau.voting.device import VotingDevice
from saylau.voting.publish import published_ballot, published_challenge, superseded_payload, turnout_payload
from saylau.voting.submitted import SubmittedBallot

__all__ = ["StationOutput", "StationTask", "run_station", "station_key"]


@dataclass(frozen=True)
class StationTask:
    """What a worker needs to run one station."""

    context: bytes
    """Canonical JSON: parameters, seed, rates, revote key, contest, options, turnout times."""
    index: int
    station_id: str
    style_id: str
    opens: str
    closes: str
    votes: tuple[int, ...]
    registered: int


@dataclass(frozen=True)
class StationOutput:
    """What a station produced; the bytes fields are the chunk files the client keeps for the record."""

    index: int
    station_id: str
    ballots: bytes
    challenged: bytes
    board: bytes
    devices: list[dict[str, Any]]
    tally: dict[str, Any]
    counts: list[int]
    cast: int
    challenged_count: int
    superseded: int
    encryptions: int
    protocol: dict[str, Any]
    protocol_at: str
    cpu_s: float = 0.0
    """CPU seconds the worker spent on the station (for the benchmark; not part of the record)."""
    rss_mb: float = 0.0
    """The worker process's peak resident memory so far, MB (idem)."""

    def summary(self) -> dict[str, Any]:
        """Everything but the bytes (the chunk's ``.json``)."""
        return {
            "index": self.index,
            "station_id": self.station_id,
            "devices": self.devices,
            "tally": self.tally,
            "counts": self.counts,
            "cast": self.cast,
            "challenged": self.challenged_count,
            "superseded": self.superseded,
            "encryptions": self.encryptions,
            "protocol": self.protocol,
            "protocol_at": self.protocol_at,
            "cpu_s": self.cpu_s,
            "rss_mb": self.rss_mb,
        }


@dataclass(frozen=True)
class _Context:
    params: ElectionParameters
    seed: int
    election_id: str
    contest_id: str
    options: tuple[str, ...]
    turnout_times: tuple[str, ...]
    challenge_rate: float
    remote_rate: float
    revote_rate: float
    admit: bool
    revote_key: bytes


@functools.lru_cache(maxsize=4)
def _context(blob: bytes) -> _Context:
    """Parse (once per worker process) the context the client encoded."""
    d = json.loads(blob)
    return _Context(
        params=ElectionParameters.from_dict(d["params"]),
        seed=d["seed"],
        election_id=d["election_id"],
        contest_id=d["contest_id"],
        options=tuple(d["options"]),
        turnout_times=tuple(d["turnout_times"]),
        challenge_rate=d["challenge_rate"],
        remote_rate=d["remote_rate"],
        revote_rate=d["revote_rate"],
        admit=d["admit"],
        revote_key=bytes.fromhex(d["revote_key"]),
    )


def station_key(seed: int, station_id: str) -> Ed25519PrivateKey:
    """The key that signs the station's protocols in the simulation (derived from the seed)."""
    return Ed25519PrivateKey.from_private_bytes(simulation_bytes(seed, "station-key", station_id))


class _Events:
    """The station's board events in the order they happen, encoded as the chunk's ``board`` bytes.

    Each event is two lines: ``{"t", "k", "c", "h"}`` (board time, kind, tracking code, payload hash),
    then the payload's canonical bytes.
    """

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def add(self, at: datetime, kind: str, payload: dict[str, Any], code: str | None,
            encoded: bytes | None = None) -> None:
        data = encoded if encoded is not None else canonical_json(payload)
        digest = tagged_hash_bytes(TAG_PAYLOAD, data) if encoded is not None else payload_hash(payload)
        head = {"t": format_time(at), "k": kind, "c": code, "h": digest}
        self.parts += [fmt.canonical_line(head), data, b"\n"]


def _ballot_payload_bytes(sb: SubmittedBallot, ballot_bytes: bytes) -> bytes:
    """Canonical bytes of ``published_ballot(sb)``, reusing the ballot's canonical bytes."""
    payload = published_ballot(sb)
    members = {k: canonical_json(v) for k, v in payload.items() if k != "ballot"}
    return canonical_object({**members, "ballot": ballot_bytes})


def _ballot_line(sb: SubmittedBallot, ballot_bytes: bytes) -> bytes:
    """``format.canonical_line(sb.to_dict())``, reusing the ballot's canonical bytes."""
    line = sb.to_dict()
    members = {k: canonical_json(v) for k, v in line.items() if k != "ballot"}
    return canonical_object({**members, "ballot": ballot_bytes}) + b"\n"


def _day(
    ctx: _Context, task: StationTask, voters: int, revoters: set[int], rnd: Any
) -> list[tuple[Any, ...]]:
    """Votes, revotes and turnout snapshots of the station, in time order (as ``record.demo_day``)."""
    start, end = datetime.fromisoformat(task.opens), datetime.fromisoformat(task.closes)
    span = (end - start).total_seconds()
    events: list[tuple[Any, ...]] = []
    for v in range(voters):
        t = start + timedelta(seconds=span * rnd.uniform(0.0, 0.95))
        events.append((t, 0, v))
        if v in revoters:
            events.append((t + timedelta(seconds=(end - t).total_seconds() * rnd.uniform(0.1, 0.9)), 1, v))
    for hhmm in ctx.turnout_times:
        h, m = (int(x) for x in hhmm.split(":"))
        at = datetime.combine(start.date(), time(h, m), start.tzinfo)
        if start < at < end:
            events.append((at, 2, -1))
    events.append((end, 2, -1))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return events


def run_station(task: StationTask) -> StationOutput:
    """Vote, challenge, revote, tally and sign the protocol of one station."""
    started = _time.process_time()
    ctx = _context(task.context)
    params, sid = ctx.params, task.station_id
    rnd = simulation_random(ctx.seed, "voters", sid)
    nonces = simulation_random(ctx.seed, "nonces", sid)  # simulation only: see national_rng
    voters = [opt for opt, n in zip(ctx.options, task.votes, strict=True) for _ in range(n)]
    rnd.shuffle(voters)
    remote = [rnd.random() < ctx.remote_rate for _ in voters]
    revoters = {v for v in range(len(voters)) if remote[v] and rnd.random() < ctx.revote_rate}
    box = BallotBox(params, verify=ctx.admit, revote_key=ctx.revote_key)
    booth = VotingDevice(params, f"{sid}-d1", sid)
    online = VotingDevice(params, f"{sid}-remote", sid, "remote")
    board = _Events()
    codes: dict[str, str] = {}
    counts = dict.fromkeys(ctx.options, 0)
    voted = encryptions = 0
    contest, options = ctx.contest_id, list(ctx.options)

    def cast(device: VotingDevice, choice: str, credential: bytes | None, at: datetime) -> None:
        nonlocal encryptions
        tag = None if credential is None else box.revote_tag(credential)
        pending = device.encrypt({contest: [choice]}, task.style_id, rng=nonces, revote_tag=tag)
        encryptions += 1
        sb = device.cast(pending)
        previous = box.cast(sb, voter_credential=credential)
        code = sb.ballot.code.hex()
        if previous is not None:
            old = codes[previous]
            board.add(at, "superseded", superseded_payload(previous, old, sb.ballot_id), old)
        if credential is not None:
            codes[sb.ballot_id] = code
        ballot_bytes = canonical_json(sb.ballot.to_dict())
        board.add(at, "ballot", {}, code, _ballot_payload_bytes(sb, ballot_bytes))

    for at, kind, v in _day(ctx, task, len(voters), revoters, rnd):
        if kind == 2:
            board.add(at, "turnout", turnout_payload(sid, at.isoformat(), voted), None)
            continue
        choice = voters[v]
        device = online if remote[v] else booth
        credential = f"voter-{sid}-{v}".encode() if remote[v] else None
        if kind == 1:  # the voter's own choice, replacing the vote shown under pressure
            cast(device, choice, credential, at)
            counts[choice] += 1
            continue
        voted += 1
        if rnd.random() < ctx.challenge_rate:  # Benaloh: audit a ballot first, then vote for real
            audit = device.encrypt({contest: [rnd.choice(options)]}, task.style_id, rng=nonces)
            encryptions += 1
            sb, opened = device.challenge(audit)
            box.challenge(sb, opened)
            board.add(at, "challenge", published_challenge(opened, sb), sb.ballot.code.hex())
        cast(device, options[0] if v in revoters else choice, credential, at)
        if v not in revoters:
            counts[choice] += 1
    box.close_device(booth.close())
    box.close_device(online.close())

    tally = EncryptedTally.empty(params.contests)
    lines: list[bytes] = []
    states = {"cast": 0, "challenged": 0, "superseded": 0}
    for sb in box.ballots():
        states[sb.state] += 1
        if sb.state == "cast":
            tally.add_ballot(sb.ballot)
        lines.append(_ballot_line(sb, canonical_json(sb.ballot.to_dict())))
    opened_lines = [fmt.canonical_line(c.to_dict()) for c in box.challenged()]

    close = datetime.fromisoformat(task.closes)
    arrival = close + timedelta(minutes=rnd.uniform(20, 120))
    total = sum(counts.values())
    figures = ProtocolFigures(
        station=sid,
        registered=max(task.registered, total),
        ballots_received=max(task.registered, total),
        ballots_issued=total,
        ballots_unused=max(task.registered, total) - total,
        ballots_spoiled=0,
        ballots_in_boxes=total,
        valid=total,
        invalid=0,
        votes=counts,
    )
    protocol = sign_protocol(figures, station_key(ctx.seed, sid), election_id=ctx.election_id,
                             signed_at=arrival)
    return StationOutput(
        index=task.index,
        station_id=sid,
        ballots=b"".join(lines),
        challenged=b"".join(opened_lines),
        board=b"".join(board.parts),
        devices=[d.to_dict() for d in box.devices()],
        tally=tally.to_dict(),
        counts=[counts[o] for o in ctx.options],
        cast=states["cast"],
        challenged_count=states["challenged"],
        superseded=states["superseded"],
        encryptions=encryptions,
        protocol=protocol.model_dump(mode="json"),
        protocol_at=format_time(arrival),
        cpu_s=_time.process_time() - started,
        rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
