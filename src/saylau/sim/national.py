"""The encrypted national election, streamed: ``saylau simulate SCENARIO --scale S`` without ``--paper``.

Phases (each reports through ``progress(task, advance, total)``, the verifier's ``ProgressHook``):

1. **Plan**: the paper simulation at ``scale`` (``sim.paper``, calibrated to the published totals)
   gives every station its registered voters and valid votes per option; those voters vote.
2. **Ceremony**: guardians, joint key and parameters, seeded (``national_decrypt.seeded_ceremony``).
3. **Stations** (the executor): each station votes, challenges, revotes, tallies and signs its protocol
   (``national_station``); each finished station is saved as a chunk and listed in the state file
   (``national_state``), so a killed run continues from its last completed station.
4. **Tally**: station tallies (read back from the chunks, one per station) are multiplied into regions
   and the nation, homomorphically; the generated plaintext counts are summed beside them.
5. **Decryption** by the guardians present (the executor, batches of scopes), with proofs.
6. **Board and record**: the board is built while it is written (``national_board``): ceremony
   entries, then every station's events merged into the day's time order, the close, the protocols,
   tally, partial decryptions, results, final checkpoint; ballots and openings stream from the chunks
   (``record.stream``).
7. **Verification** of the written record by the independent verifier; its hash must be the writer's.

Memory: one chunk per station in flight per worker, and per station its two devices, encrypted tally
and protocol; never the ballots. Same seed, same record hash, whatever the executor and however
often the run was interrupted (``national_rng``).
"""

from __future__ import annotations

import functools
import json
import resource
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saylau.board import BoardSigner, BulletinBoard
from saylau.board.chain import parse_time
from saylau.crypto import ElectionParameters, EncryptedTally
from saylau.election.manifest import Manifest, canonical_json
from saylau.election.protocols import public_key_hex
from saylau.election.scenario import Scenario, load_scenario
from saylau.errors import ElectionError
from saylau.parallel import Executor, SerialExecutor
from saylau.record import format as fmt
from saylau.record.demo_day import SimulatedClock
from saylau.record.stream import write_record_stream
from saylau.record.tally import NATION_ID, Scope, TallyEntry, results_summary
from saylau.record.verifier import ProgressHook, RecordVerifier
from saylau.record.windows import VotingWindows
from saylau.sim.national_board import StreamingBoardStore, merged_events, publish
from saylau.sim.national_decrypt import DecryptTask, decrypt_scopes, seeded_ceremony
from saylau.sim.national_rng import simulation_bytes
from saylau.sim.national_state import WorkDir
from saylau.sim.national_station import StationTask, run_station, station_key
from saylau.sim.paper import PaperSimulation, simulate_paper
from saylau.voting.device import DeviceRecord
from saylau.voting.publish import (
    closed_payload,
    guardian_partials_payload,
    guardian_record_payload,
    manifest_payload,
    open_payload,
    result_payload,
    station_key_payload,
    tally_payload,
)

__all__ = ["NationalOptions", "NationalResult", "run_national"]

DECRYPT_BATCH = 16
"""Tally scopes per decryption task."""


@dataclass(frozen=True)
class NationalOptions:
    """What the simulated election is; all of it is part of the run's identity (resume refuses others)."""

    scale: float = 1.0
    seed: int = 2022
    guardians: int = 5
    quorum: int = 3
    missing: int = 1
    challenge_rate: float = 0.01
    remote_rate: float = 0.05
    revote_rate: float = 0.2
    admit: bool = False
    """Check every ballot's proofs on submission too, as the server does (the verifier checks them anyway)."""
    checkpoint_every: int = 1000


@dataclass
class NationalResult:
    """What the run produced and measured."""

    out: Path
    record_hash: bytes
    stations: int
    voters: int
    encryptions: int
    states: dict[str, int]
    generated: dict[str, int]
    decrypted: dict[str, int]
    resumed_stations: int
    executor: str
    record_bytes: int
    timings: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds per phase."""
    cpu_s: dict[str, dict[str, float]] = field(default_factory=dict)
    """CPU seconds per phase: ``client`` (this process) and ``workers`` (the executor's or verifier's)."""
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    checks: list[Any] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """JSON-able digest (``summary.json``)."""
        d = asdict(self)
        d["out"] = str(self.out)
        d["record_hash"] = self.record_hash.hex()
        d["checks"] = [c.name for c in self.checks]
        d["bytes_per_ballot"] = round(self.record_bytes / max(self.states["cast"], 1), 1)
        return d


def _noop(task: str, advance: int, total: int | None = None) -> None:
    del task, advance, total


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return float(r.ru_utime + r.ru_stime)


def _children_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class _Phases:
    """Wall and CPU seconds of each phase; CPU of this process and of reaped children (the verifier's)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, dict[str, float]] = {}
        self._start = (0.0, 0.0, 0.0)

    def start(self) -> None:
        self._start = (time.perf_counter(), _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN))

    def stop(self, phase: str, worker_cpu: float = 0.0) -> None:
        wall, own, children = self._start
        self.wall[phase] = time.perf_counter() - wall
        self.cpu[phase] = {
            "client": round(_cpu(resource.RUSAGE_SELF) - own, 3),
            "workers": round(_cpu(resource.RUSAGE_CHILDREN) - children + worker_cpu, 3),
        }


def _context(sc: Scenario, manifest: Manifest, params: ElectionParameters, opts: NationalOptions) -> bytes:
    """What every station task shares (``national_station._Context``), as canonical JSON."""
    contest = manifest.contests[0]
    return canonical_json({
        "params": params.to_dict(),
        "seed": opts.seed,
        "election_id": manifest.election_id,
        "contest_id": contest.contest_id,
        "options": [s.selection_id for s in contest.selections],
        "turnout_times": list(sc.rules.turnout_reports_local),
        "challenge_rate": opts.challenge_rate,
        "remote_rate": opts.remote_rate,
        "revote_rate": opts.revote_rate,
        "admit": opts.admit,
        "revote_key": simulation_bytes(opts.seed, "revote-key").hex(),
    })


def _station_tasks(paper: PaperSimulation, manifest: Manifest, context: bytes) -> list[StationTask]:
    """One task per station, in manifest order, with the paper simulation's roll and valid votes."""
    t = paper.table
    row = {sid: i for i, sid in enumerate(t.station)}
    windows = VotingWindows(manifest)
    tasks = []
    for i, loc in enumerate(manifest.locations()):
        sid = loc.station.station_id
        opens, closes = windows.window(sid)
        r = row[sid]
        style = manifest.style_for_region(loc.region_id).style_id
        votes = tuple(int(x) for x in t.votes[r])
        roll = int(t.registered[r])
        tasks.append(StationTask(context, i, sid, style, opens.isoformat(), closes.isoformat(), votes, roll))
    return tasks


def _roll_up(
    manifest: Manifest, params: ElectionParameters, tallies: list[EncryptedTally], counts: list[int]
) -> list[tuple[Scope, str, int, EncryptedTally]]:
    """Stations in manifest order, then regions, then the nation: ``tallies.jsonl``'s order."""
    out: list[tuple[Scope, str, int, EncryptedTally]] = []
    index = {sid: i for i, sid in enumerate(manifest.station_index())}
    for sid, i in index.items():
        out.append(("station", sid, counts[i], tallies[i]))
    regions: list[tuple[EncryptedTally, int]] = []
    for region in manifest.regions:
        members = [index[st.station_id] for d in region.districts for st in d.stations]
        total = EncryptedTally.sum(tallies[i] for i in members)
        n = sum(counts[i] for i in members)
        regions.append((total, n))
        out.append(("region", region.region_id, n, total))
    nation = EncryptedTally.sum(t for t, _ in regions) if regions else EncryptedTally.empty(params.contests)
    out.append(("nation", NATION_ID, sum(n for _, n in regions), nation))
    return out


def run_national(
    out: Path,
    scenario: str | Path | Scenario = "kz-2022",
    options: NationalOptions | None = None,
    *,
    executor: Executor | None = None,
    progress: ProgressHook | None = None,
    verify: bool = True,
    verify_workers: int = 1,
    keep_work: bool = False,
    restart: bool = False,
) -> NationalResult:
    """Run the encrypted election into ``out`` (``record/``, ``summary.json``; ``work/`` while running)."""
    opts = options or NationalOptions()
    if not 0 <= opts.missing <= opts.guardians - opts.quorum:
        raise ValueError(f"missing guardians must be in 0..{opts.guardians - opts.quorum}")
    pool = executor or SerialExecutor()
    tick: ProgressHook = progress or _noop
    phases = _Phases()
    phases.start()
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    seed = opts.seed
    paper = simulate_paper(sc, scale=opts.scale, seed=seed)
    manifest: Manifest = sc.to_manifest(station_ids=paper.table.station)
    base_hash = fmt.election_base_hash(manifest.manifest_hash(), opts.guardians, opts.quorum)
    guardians, joint = seeded_ceremony(opts.guardians, opts.quorum, base_hash, seed)
    params = ElectionParameters(base_hash, joint, manifest.contest_specs())
    tasks = _station_tasks(paper, manifest, _context(sc, manifest, params, opts))
    stations = [task.station_id for task in tasks]
    options_ids = [s.selection_id for s in manifest.contests[0].selections]
    phases.stop("plan and key ceremony")

    # 3. stations
    work_root = out / "work"
    if restart and work_root.exists():
        shutil.rmtree(work_root)
    config = {
        "format": "saylau-national-work/1",
        "election_id": manifest.election_id,
        "manifest_hash": manifest.manifest_hash().hex(),
        "extended_base_hash": params.extended_base_hash.hex(),
        "options": asdict(opts),
    }
    work = WorkDir(work_root, config)
    done = work.completed()
    voters = sum(sum(task.votes) for task in tasks)
    tick("encrypting", 0, voters)
    tick("encrypting", sum(sum(tasks[i].votes) for i in done))
    todo = (task for task in tasks if task.index not in done)
    phases.start()
    station_cpu, worker_rss = 0.0, 0.0
    for _, station in pool.imap_unordered(run_station, todo):
        station_cpu += station.cpu_s
        worker_rss = max(worker_rss, station.rss_mb)
        work.save(station)
        tick("encrypting", sum(tasks[station.index].votes))
    inline = isinstance(pool, SerialExecutor)  # then the tasks' CPU is already the client's
    phases.stop("stations (vote, encrypt, prove, tally, sign)", 0.0 if inline else station_cpu)

    # 4. tally
    phases.start()
    devices: list[DeviceRecord] = []
    tallies: list[EncryptedTally] = []
    cast_counts: list[int] = []
    generated_by_station: list[list[int]] = []
    protocols: list[tuple[str, int, dict[str, Any]]] = []
    states = {"cast": 0, "challenged": 0, "superseded": 0}
    encryptions = 0
    for i in range(len(tasks)):
        s = work.summary(i)
        devices += [DeviceRecord.from_dict(d) for d in s["devices"]]
        tallies.append(EncryptedTally.from_dict(s["tally"]))
        cast_counts.append(s["cast"])
        generated_by_station.append(s["counts"])
        protocols.append((s["protocol_at"], i, s["protocol"]))
        for k in states:
            states[k] += s[k]
        encryptions += s["encryptions"]
    scopes = _roll_up(manifest, params, tallies, cast_counts)
    del tallies
    phases.stop("tally roll-up")

    # 5. decryption
    phases.start()
    absent = set(range(2, 2 + opts.missing))  # guardian 2 (and up) stays home, as in the demo
    present = [g for g in guardians if g.index not in absent]
    dctx = canonical_json({
        "params": params.to_dict(), "seed": seed, "guardians": [g.to_private_dict() for g in present]
    })
    batches = [
        DecryptTask(dctx, tuple((s_, sid, n, t.to_dict()) for s_, sid, n, t in scopes[b : b + DECRYPT_BATCH]))
        for b in range(0, len(scopes), DECRYPT_BATCH)
    ]
    entries: list[TallyEntry | None] = [None] * len(scopes)
    tick("decrypting", 0, len(scopes))
    decrypt_cpu = 0.0
    for b, (decrypted_lines, cpu) in pool.imap_unordered(decrypt_scopes, batches):
        decrypt_cpu += cpu
        for j, line in enumerate(decrypted_lines):
            entries[b * DECRYPT_BATCH + j] = TallyEntry.from_dict(line)
        tick("decrypting", len(decrypted_lines))
    del batches
    final = [e for e in entries if e is not None]
    phases.stop("decryption (guardians present, with proofs)", 0.0 if inline else decrypt_cpu)

    generated = dict.fromkeys(options_ids, 0)
    contest_id = manifest.contests[0].contest_id
    for counts in generated_by_station:
        for o, c in zip(options_ids, counts, strict=True):
            generated[o] += c
    for e, counts in zip(final[: len(stations)], generated_by_station, strict=True):
        if e.counts()[contest_id] != dict(zip(options_ids, counts, strict=True)):
            raise ElectionError(f"station {e.scope_id}: decrypted tally differs from the votes cast there")
    decrypted = final[-1].counts()[contest_id]
    if decrypted != generated:
        raise ElectionError(f"decrypted national tally {decrypted} differs from the votes cast {generated}")

    # 6. board and record
    phases.start()
    signer = BoardSigner(Ed25519PrivateKey.from_private_bytes(simulation_bytes(seed, "board-key")))
    record_dir = out / "record"
    ballots_on_board = states["cast"] + states["challenged"] + states["superseded"]
    tick("writing record", 0, ballots_on_board)

    def board_rows() -> Iterator[bytes]:
        windows = VotingWindows(manifest)
        opens = min(windows.window(s)[0] for s in stations)
        closes = max(windows.window(s)[1] for s in stations)
        clock = SimulatedClock(opens - timedelta(days=1))
        store = StreamingBoardStore()
        board = BulletinBoard(manifest.election_id, store, signer, opts.checkpoint_every, clock)
        pub = functools.partial(publish, board, store)
        yield fmt.canonical_line(board.header())
        yield from pub("manifest", manifest_payload(
            manifest.to_json_obj(), manifest.manifest_hash().hex(), params.base_hash.hex(),
            opts.guardians, opts.quorum,
        ))
        for record in params.joint_key.guardian_records:
            clock.set(clock() + timedelta(minutes=10))
            yield from pub("guardian", guardian_record_payload(record))
        clock.set(clock() + timedelta(minutes=10))
        yield from pub("joint_key", {"parameters": params.to_dict()})
        for sid in stations:
            key = station_key(seed, sid).public_key()
            yield from pub("note", station_key_payload(sid, public_key_hex(key)))
        clock.set(opens)
        yield from pub("phase", open_payload(opens))
        streams = ((i, work.lines(i, "board")) for i in range(len(stations)))
        for ev in merged_events(streams):
            yield from pub(ev.kind, json.loads(ev.raw), ev.code, time=ev.time, payload_hash=ev.payload_hash,
                           raw=ev.raw)
            if ev.kind != "turnout":
                tick("writing record", 1)
        clock.set(closes)
        yield from pub("phase", closed_payload(devices, clock().isoformat()))
        for at, _, payload in sorted(protocols, key=lambda p: (p[0], p[1])):
            clock.set(parse_time(at))
            yield from pub("protocol", payload)
        clock.set(max(closes, clock()) + timedelta(hours=1))
        yield from pub("tally", tally_payload(
            ({"scope": e.scope, "scope_id": e.scope_id, "ballot_count": e.ballot_count,
              "encrypted": e.encrypted.to_dict()} for e in final),
            states["cast"],
        ))
        scope_ids = [(e.scope, e.scope_id) for e in final]
        for g in present:
            clock.set(clock() + timedelta(minutes=15))
            mine = [next(p for p in e.plaintext.partials if p.guardian_index == g.index) for e in final]
            yield from pub("partial_decryption", guardian_partials_payload(g.index, scope_ids, mine))
        clock.set(clock() + timedelta(minutes=15))
        yield from pub("result", result_payload(results_summary(manifest, final)))
        board.close()
        yield from store.drain()

    record_hash = write_record_stream(record_dir, manifest, params, devices, final, board_rows())
    phases.stop("board and record")
    record_bytes = sum(p.stat().st_size for p in record_dir.iterdir())

    # 7. verification
    checks: list[Any] = []
    if verify:
        phases.start()
        verifier = RecordVerifier(
            record_dir, workers=verify_workers, progress=progress, board_public_key=signer.public_key_hex
        )
        if verifier.run() != record_hash:
            raise ElectionError("the verifier computed a different record hash than the writer")
        checks = verifier.checks
        phases.stop("independent verification")
    if not keep_work:
        shutil.rmtree(work_root)
    result = NationalResult(
        out=out,
        record_hash=record_hash,
        stations=len(stations),
        voters=voters,
        encryptions=encryptions,
        states=states,
        generated=generated,
        decrypted=decrypted,
        resumed_stations=len(done),
        executor=pool.name,
        record_bytes=record_bytes,
        timings=phases.wall,
        cpu_s=phases.cpu,
        peak_rss_mb={
            "main": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "largest_worker": round(max(worker_rss, _children_rss_mb()), 1),
        },
        checks=checks,
    )
    (out / "summary.json").write_text(json.dumps(result.summary(), indent=1, ensure_ascii=False))
    return result
