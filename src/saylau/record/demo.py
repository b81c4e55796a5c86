"""A small election end to end: ceremony, voting with challenges and revotes, tally, record, verification.

``run_demo`` is the library entry point behind ``saylau demo`` (and what later issues fold their own
steps into). Voters' choices follow the kz-2022 national shares; everything cryptographic uses the OS
CSPRNG. One guardian (by default) is absent at decryption, so the tally is decrypted by a quorum.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saylau.board import BoardSigner, BulletinBoard, MemoryBoardStore
from saylau.crypto import ElectionParameters, run_key_ceremony
from saylau.election.manifest import Manifest
from saylau.election.protocols import public_key_hex
from saylau.record import format as fmt
from saylau.record.demo_day import (
    DEFAULT_TURNOUT_TIMES,
    SimulatedClock,
    election_day_events,
    station_protocol,
)
from saylau.record.tally import StationSums, TallyEntry, decrypt_tallies, results_summary
from saylau.record.verifier import ProgressHook, RecordVerifier
from saylau.record.windows import VotingWindows
from saylau.record.writer import write_record
from saylau.voting.ballot_box import BallotBox
from saylau.voting.device import VotingDevice
from saylau.voting.publish import (
    guardian_partials_payload,
    guardian_record_payload,
    manifest_payload,
    open_payload,
    result_payload,
    station_key_payload,
    tally_payload,
    turnout_payload,
)

__all__ = ["DemoResult", "run_demo"]

@dataclass
class DemoResult:
    """What the demo produced, for the CLI's tables and for tests."""

    out_dir: Path
    manifest: Manifest
    record_hash: bytes
    entries: list[TallyEntry]
    states: dict[str, int]
    missing_guardians: tuple[int, ...]
    expected_nation: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    checks: list[Any] = field(default_factory=list)
    board_public_key: str = ""

    def nation_counts(self) -> dict[str, int]:
        """Decrypted national counts of the (single) presidential contest."""
        nation = next(e for e in self.entries if e.scope == "nation")
        return nation.counts()[self.manifest.contests[0].contest_id]


def _noop(task: str, advance: int, total: int | None = None) -> None:
    del task, advance, total


def run_demo(
    out_dir: Path,
    manifest: Manifest,
    plan: Mapping[str, Mapping[str, int]],
    *,
    guardians: int = 5,
    quorum: int = 3,
    missing: int = 1,
    challenge_rate: float = 0.03,
    remote_rate: float = 0.1,
    revote_rate: float = 0.3,
    seed: int | None = 2022,
    workers: int = 1,
    verify_on_submit: bool = True,
    progress: ProgressHook | None = None,
    checkpoint_every: int = 64,
    registered: Mapping[str, int] | None = None,
    turnout_times: Sequence[str] = DEFAULT_TURNOUT_TIMES,
) -> DemoResult:
    """Run the whole small election into ``out_dir``; raises if anything (verification included) fails.

    ``plan`` gives, per station of ``manifest``, how many voters choose each option of its (single)
    contest; challenged ballots and earlier, coerced remote votes come on top. ``seed`` fixes the
    simulated voters' behaviour only, never a cryptographic nonce. The ballot box checks every
    ballot's proofs on submission (``verify_on_submit``), as the server does, before the record is
    written and verified again independently. Everything is published on a bulletin board as it happens
    (manifest, guardian records, joint key, station protocol keys, the opening, each ballot, challenge and
    revote, turnout snapshots at ``turnout_times`` local and at each station's close, the closing codes,
    the stations' signed protocols, tallies, every present guardian's partial decryptions, results),
    signed every ``checkpoint_every`` entries and closed with a final checkpoint; the board goes into the
    record. Its times are the simulated election day's (``saylau.record.demo_day``), each ballot within
    its station's voting hours. ``registered`` gives the voters on each station's roll for its protocol
    (default: the station's voters). Remote voters' ballots carry their revote tag.
    """
    if not 0 <= missing <= guardians - quorum:
        raise ValueError(f"missing guardians must be in 0..{guardians - quorum}")
    tick: ProgressHook = progress or _noop
    rnd = random.Random(seed)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    base_hash = fmt.election_base_hash(manifest.manifest_hash(), guardians, quorum)
    all_guardians, joint_key = run_key_ceremony(guardians, quorum, base_hash)
    params = ElectionParameters(base_hash, joint_key, manifest.contest_specs())
    timings["key ceremony"] = time.perf_counter() - t0

    # the board carries the simulated day's times (demo_day): the ceremony the day before voting
    windows = VotingWindows(manifest)
    stations = list(manifest.station_index())
    opens = min(windows.window(s)[0] for s in stations)  # the first station opens
    closes = max(windows.window(s)[1] for s in stations)  # the last station has closed
    clock = SimulatedClock(opens - timedelta(days=1))
    signer = BoardSigner.generate()
    board = BulletinBoard(manifest.election_id, MemoryBoardStore(), signer, checkpoint_every, clock)
    board.append(
        "manifest",
        manifest_payload(
            manifest.to_json_obj(), manifest.manifest_hash().hex(), base_hash.hex(), guardians, quorum
        ),
    )
    for record in joint_key.guardian_records:
        clock.set(clock() + timedelta(minutes=10))
        board.append("guardian", guardian_record_payload(record))
    clock.set(clock() + timedelta(minutes=10))
    board.append("joint_key", {"parameters": params.to_dict()})
    station_keys = {sid: Ed25519PrivateKey.generate() for sid in stations}
    for sid, key in station_keys.items():
        board.append("note", station_key_payload(sid, public_key_hex(key.public_key())))
    clock.set(opens)
    board.append("phase", open_payload(opens))

    contest = manifest.contests[0]
    options = [s.selection_id for s in contest.selections]
    locations = list(manifest.locations())
    where = {loc.station.station_id: loc for loc in locations}
    for sid, votes in plan.items():
        if sid not in where:
            raise ValueError(f"vote plan names station {sid!r}, which is not in the manifest")
        if unknown := set(votes) - set(options):
            raise ValueError(f"vote plan of station {sid!r} names unknown options {sorted(unknown)}")
    voters = [
        (where[sid], option)
        for sid, votes in plan.items()
        for option, n in votes.items()
        for _ in range(n)
    ]
    rnd.shuffle(voters)
    ballots = len(voters)
    box = BallotBox(params, verify=verify_on_submit, board=board)
    booths = {
        loc.station.station_id: VotingDevice(params, f"{loc.station.station_id}-d1", loc.station.station_id)
        for loc in locations
    }
    remotes = {
        loc.station.station_id: VotingDevice(
            params, f"{loc.station.station_id}-remote", loc.station.station_id, "remote"
        )
        for loc in locations
    }
    expected = dict.fromkeys(options, 0)
    remote = [rnd.random() < remote_rate for _ in voters]
    revoters = {v for v in range(ballots) if remote[v] and rnd.random() < revote_rate}
    events = election_day_events(
        rnd, windows, [loc.station.station_id for loc, _ in voters], revoters, turnout_times
    )
    voted = dict.fromkeys(stations, 0)

    t0 = time.perf_counter()
    tick("voting", 0, ballots)
    for event in events:
        clock.set(event.at)
        if event.kind == "turnout":  # voters who received a ballot so far
            sid = event.station_id
            board.append("turnout", turnout_payload(sid, event.at.isoformat(), voted[sid]))
            continue
        loc, choice = voters[event.voter]
        sid = loc.station.station_id
        style = manifest.style_for_region(loc.region_id).style_id
        device = remotes[sid] if remote[event.voter] else booths[sid]
        credential = f"voter-{event.voter}".encode() if remote[event.voter] else None
        tag = None if credential is None else box.revote_tag(credential)
        if event.kind == "revote":  # the voter's own choice, replacing the vote shown under pressure
            pending = device.encrypt({contest.contest_id: [choice]}, style, revote_tag=tag)
            box.cast(device.cast(pending), voter_credential=credential)
            expected[choice] += 1
            continue
        voted[sid] += 1
        if rnd.random() < challenge_rate:  # Benaloh: audit a ballot first, then vote for real
            audit = device.encrypt({contest.contest_id: [rnd.choice(options)]}, style)
            box.challenge(*device.challenge(audit))
        # a voter who revotes later first casts the vote shown under pressure
        shown = options[0] if event.voter in revoters else choice
        pending = device.encrypt({contest.contest_id: [shown]}, style, revote_tag=tag)
        box.cast(device.cast(pending), voter_credential=credential)
        if event.voter not in revoters:
            expected[choice] += 1
        tick("voting", 1)
    clock.set(closes)
    for device in (*booths.values(), *remotes.values()):
        box.close_device(device.close())
    box.close_voting()  # the closing codes go on the board
    timings["voting (encrypt, cast, challenge)"] = time.perf_counter() - t0

    # the stations' signed result protocols arrive after their close, in order
    arrivals = sorted(
        (windows.window(sid)[1] + timedelta(minutes=rnd.uniform(20, 120)), sid) for sid in stations
    )
    for at, sid in arrivals:
        clock.set(at)
        votes = plan.get(sid, {})
        counted = registered.get(sid, 0) if registered is not None else sum(votes.values())
        doc = station_protocol(manifest, sid, votes, counted, station_keys[sid], at)
        board.append("protocol", doc.model_dump(mode="json"))

    t0 = time.perf_counter()
    clock.set(max(closes, clock()) + timedelta(hours=1))
    sums = StationSums(manifest, params)
    states = {"cast": 0, "challenged": 0, "superseded": 0}
    for sb in box.ballots():
        states[sb.state] += 1
        if sb.state == "cast":
            sums.add(sb.station_id, sb.ballot)
    tallies = sums.roll_up()
    scopes = [
        {"scope": sc, "scope_id": sid, "ballot_count": n, "encrypted": t.to_dict()}
        for sc, sid, n, t in tallies
    ]
    board.append("tally", tally_payload(scopes, states["cast"]))
    absent = tuple(range(2, 2 + missing))  # guardian 2 (and up) stays home
    present = [g for g in all_guardians if g.index not in absent]
    tick("decrypting", 0, len(tallies))
    entries = decrypt_tallies(params, tallies, present)
    tick("decrypting", len(tallies))
    scope_ids = [(e.scope, e.scope_id) for e in entries]
    for g in present:  # each guardian present publishes its partial decryption of every scope
        clock.set(clock() + timedelta(minutes=15))
        mine = [next(p for p in e.plaintext.partials if p.guardian_index == g.index) for e in entries]
        board.append("partial_decryption", guardian_partials_payload(g.index, scope_ids, mine))
    timings["tally and threshold decryption"] = time.perf_counter() - t0
    clock.set(clock() + timedelta(minutes=15))
    board.append("result", result_payload(results_summary(manifest, entries)))
    board.close()

    t0 = time.perf_counter()
    tick("writing record", 0, len(box))
    record_hash = write_record(
        out_dir,
        manifest,
        params,
        box.devices(),
        box.ballots(),
        box.challenged(),
        entries,
        on_ballot=lambda: tick("writing record", 1),
        board_rows=board.export_rows(),
    )
    timings["writing the record"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    verifier = RecordVerifier(
        out_dir, workers=workers, progress=progress, board_public_key=signer.public_key_hex
    )
    verified_hash = verifier.run()
    timings["independent verification"] = time.perf_counter() - t0
    if verified_hash != record_hash:
        raise RuntimeError("verifier computed a different record hash than the writer")
    return DemoResult(
        out_dir,
        manifest,
        record_hash,
        entries,
        states,
        absent,
        expected,
        timings,
        verifier.checks,
        signer.public_key_hex,
    )
