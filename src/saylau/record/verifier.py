"""The independent verifier: re-derives every published number of an election record from the record alone.

It shares no state with the writer: it reads the files listed in ``docs/record-format.md``, recomputes
the hashes, checks every proof with the crypto layer's ``verify_*`` functions, walks every device's
tracking-code chain, rebuilds every tally from the ballots and checks every decryption. The first
failure stops it with ``VerificationFailed`` naming the object and the check; ``checks`` then holds the
checks that passed and the one that failed, for the CLI's table.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from saylau.crypto import (
    ChallengedBallot,
    ElectionParameters,
    EncryptedBallot,
    verify_ballot,
    verify_challenged_ballot,
    verify_device_chain,
    verify_guardian_record,
    verify_plaintext_tally,
)
from saylau.crypto.tracking import opening_code
from saylau.election.manifest import Manifest
from saylau.errors import RecordError, SaylauError, VerificationFailed
from saylau.record import format as fmt
from saylau.record.board_check import BoardIndex
from saylau.record.reader import RecordReader
from saylau.record.revotes import RevoteLinks
from saylau.record.tally import NATION_ID, StationSums, TallyEntry, results_summary
from saylau.voting.device import DeviceRecord
from saylau.voting.submitted import SubmittedBallot

__all__ = ["CheckResult", "ProgressHook", "RecordVerifier", "verify_record"]


class ProgressHook(Protocol):
    """``hook(task, advance, total)``: called with ``advance=0`` and a total to start a task."""

    def __call__(self, task: str, advance: int, total: int | None = None) -> None:
        """Report progress on ``task``."""


@dataclass
class CheckResult:
    """One row of the verifier's table."""

    name: str
    count: int = 0
    passed: bool = False
    detail: str = ""


@dataclass
class _State:
    manifest: Manifest | None = None
    params: ElectionParameters | None = None
    devices: dict[str, DeviceRecord] = field(default_factory=dict)
    challenged_ids: dict[str, EncryptedBallot] = field(default_factory=dict)
    challenged_where: dict[str, tuple[str, str]] = field(default_factory=dict)
    devices_doc: list[dict[str, Any]] = field(default_factory=list)
    board: BoardIndex | None = None
    revotes: RevoteLinks = field(default_factory=RevoteLinks)
    sums: StationSums | None = None
    states: dict[str, int] = field(default_factory=lambda: {"cast": 0, "challenged": 0, "superseded": 0})
    record_hash: bytes = b""


# --- worker side: proofs of a chunk of ballot lines ------------------------------------------------

_WORKER_PARAMS: list[ElectionParameters] = []


def _init_worker(params_dict: dict[str, Any]) -> None:
    _WORKER_PARAMS[:] = [ElectionParameters.from_dict(params_dict)]


def _verify_chunk(chunk: list[tuple[int, bytes]]) -> str | None:
    """Verify the proofs of a chunk; return the first failure's message (the caller raises)."""
    params = _WORKER_PARAMS[0]
    for no, line in chunk:
        try:  # the main process checks each line's canonical form; here only the proofs matter
            verify_ballot(params, EncryptedBallot.from_dict(json.loads(line)["ballot"]))
        except (SaylauError, KeyError, TypeError, ValueError) as exc:
            return f"{fmt.BALLOTS} line {no}: ballot proofs: {exc}"
    return None


class _Proofs:
    """Checks every ballot's proofs during the ballot pass: inline, or in a process pool.

    The first failure is kept, not raised, so that the checks report in their documented order; the pool
    keeps a bounded window of chunks in flight so memory stays flat however large the file.
    """

    def __init__(self, params: ElectionParameters, workers: int, chunk_size: int, tick: Any) -> None:
        self.params, self.workers, self.chunk_size, self.tick = params, workers, chunk_size, tick
        self.failure: str | None = None
        self.count = 0
        self._chunk: list[tuple[int, bytes]] = []
        self._window: collections.deque[tuple[cf.Future[str | None], int]] = collections.deque()
        self._pool: cf.ProcessPoolExecutor | None = None
        if workers > 1:
            self._pool = cf.ProcessPoolExecutor(
                workers, initializer=_init_worker, initargs=(params.to_dict(),)
            )

    def feed(self, no: int, line: bytes, ballot: EncryptedBallot) -> None:
        """Check one ballot (inline) or queue its line for a worker."""
        if self.failure is not None:
            return
        if self._pool is None:
            try:
                verify_ballot(self.params, ballot)
            except SaylauError as exc:
                self.failure = f"{fmt.BALLOTS} line {no}: ballot proofs: {exc}"
                return
            self.count += 1
            self.tick("proofs", 1)
            return
        self._chunk.append((no, line))
        if len(self._chunk) >= self.chunk_size:
            self._submit()

    def _submit(self) -> None:
        assert self._pool is not None
        if self._chunk:
            self._window.append((self._pool.submit(_verify_chunk, self._chunk), len(self._chunk)))
            self._chunk = []
        while len(self._window) >= 4 * self.workers:
            self._settle()

    def _settle(self) -> None:
        fut, size = self._window.popleft()
        message = fut.result()
        if message is not None and self.failure is None:
            self.failure = message
        if message is None:
            self.count += size
            self.tick("proofs", size)

    def finish(self) -> None:
        """Wait for the pool's outstanding chunks."""
        if self._pool is not None and self.failure is None:
            self._submit()
            while self._window:
                self._settle()
        self.close()

    def close(self) -> None:
        """Shut the pool down (cancelling what is still queued)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class RecordVerifier:
    """Runs every check over one record directory; ``run()`` returns the record hash or raises."""

    def __init__(
        self,
        record_dir: Path,
        workers: int = 1,
        chunk_size: int = 64,
        progress: ProgressHook | None = None,
        board_public_key: str | None = None,
    ) -> None:
        """``board_public_key``: the board operator's Ed25519 key as the CEC announced it (hex), to pin."""
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.reader = RecordReader(record_dir)
        self.workers = workers
        self.chunk_size = chunk_size
        self.progress = progress
        self.board_public_key = board_public_key
        self.checks: list[CheckResult] = []
        self._s = _State()

    # --- plumbing ------------------------------------------------------------------------------

    def _check(self, name: str) -> CheckResult:
        c = CheckResult(name)
        self.checks.append(c)
        return c

    def _fail(self, check: CheckResult, message: str) -> VerificationFailed:
        check.detail = message
        return VerificationFailed(f"{message} [check: {check.name}]")

    def _tick(self, task: str, advance: int, total: int | None = None) -> None:
        if self.progress is not None:
            self.progress(task, advance, total)

    def run(self) -> bytes:
        """Run all checks in order; return the record hash, or raise ``VerificationFailed``."""
        steps: list[tuple[str, Callable[[CheckResult], None]]] = [
            ("file hashes (files.json)", self._files),
            ("manifest", self._manifest),
            ("election parameters and base hash", self._parameters),
            ("guardian commitments (Schnorr proofs)", self._guardians),
            ("devices", self._devices),
            ("bulletin board: hash chain and signed checkpoints", self._board),
            ("ballots: structure, states, revotes", self._ballots),
            ("ballot proofs (range and contest limit)", self._proofs),
            ("tracking-code chains (opening to closing)", self._chains_summary),
            ("challenged ballots opened", self._challenged),
            ("tallies recomputed (station, region, nation)", self._tallies),
            ("decryptions (partial decryption proofs)", self._decryptions),
            ("results.json matches the decryptions", self._results),
            ("record matches the board (ballots, closing codes, tallies, results)", self._board_match),
            ("revote links (revote tags in board order)", self._revote_tags),
        ]
        for name, step in steps:
            check = self._check(name)
            try:
                step(check)
            except VerificationFailed as exc:
                if not check.detail:
                    check.detail = str(exc)
                raise
            except (SaylauError, KeyError, TypeError, ValueError) as exc:
                raise self._fail(check, str(exc)) from exc
            check.passed = True
        return self._s.record_hash

    # --- checks ----------------------------------------------------------------------------------

    def _files(self, check: CheckResult) -> None:
        raw = self.reader.raw(fmt.FILES)
        doc = fmt.parse_canonical(raw, fmt.FILES)
        if (
            not isinstance(doc, dict)
            or doc.get("format") != fmt.RECORD_FORMAT
            or set(doc) != {"format", "files"}
        ):
            raise self._fail(check, f"{fmt.FILES}: not a {fmt.RECORD_FORMAT} manifest of files")
        names = [f.get("name") for f in doc["files"]] if isinstance(doc["files"], list) else None
        if names != list(fmt.DATA_FILES):
            raise self._fail(check, f"{fmt.FILES}: lists {names}, expected {list(fmt.DATA_FILES)}")
        for entry in doc["files"]:
            if set(entry) != {"name", "sha256", "bytes"}:
                raise self._fail(check, f"{fmt.FILES}: entry {entry.get('name')} has unexpected fields")
            digest, size = fmt.file_sha256(self.reader.path(entry["name"]))
            if digest != entry["sha256"] or size != entry["bytes"]:
                raise self._fail(check, f"file {entry['name']}: SHA-256 or size differs from {fmt.FILES}")
            check.count += 1
        self._s.record_hash = fmt.record_hash(raw)

    def _manifest(self, check: CheckResult) -> None:
        self._s.manifest = Manifest.from_json_obj(self.reader.json(fmt.MANIFEST))
        check.count = sum(1 for _ in self._s.manifest.locations())
        check.detail = f"{check.count} stations"

    def _parameters(self, check: CheckResult) -> None:
        m = self._need_manifest()
        doc = self.reader.json(fmt.PARAMETERS)
        keys = {"format", "group", "manifest_hash", "guardians", "quorum", "election"}
        if not isinstance(doc, dict) or set(doc) != keys:
            raise self._fail(check, f"{fmt.PARAMETERS}: expected fields {sorted(keys)}")
        if doc["format"] != fmt.RECORD_FORMAT or doc["group"] != fmt.GROUP_NAME:
            raise self._fail(
                check, f"{fmt.PARAMETERS}: format or group is not {fmt.RECORD_FORMAT}/{fmt.GROUP_NAME}"
            )
        if doc["manifest_hash"] != m.manifest_hash().hex():
            raise self._fail(
                check, f"{fmt.PARAMETERS}: manifest_hash is not SHA-256 of the canonical manifest"
            )
        params = ElectionParameters.from_dict(doc["election"])
        n, k = params.joint_key.n, params.joint_key.quorum
        if (doc["guardians"], doc["quorum"]) != (n, k):
            raise self._fail(check, f"{fmt.PARAMETERS}: guardians/quorum differ from the joint key's")
        if params.base_hash != fmt.election_base_hash(m.manifest_hash(), n, k):
            raise self._fail(check, f"{fmt.PARAMETERS}: base_hash is not H(group, n, k, manifest hash)")
        if params.contests != m.contest_specs():
            raise self._fail(check, f"{fmt.PARAMETERS}: contests differ from the manifest's")
        self._s.params = params
        check.count = 1
        check.detail = f"n={n}, k={k}"

    def _guardians(self, check: CheckResult) -> None:
        params = self._need_params()
        for rec in params.joint_key.guardian_records:
            verify_guardian_record(rec, params.base_hash)
            check.count += 1
        check.detail = "joint key K = product of K_i0"

    def _devices(self, check: CheckResult) -> None:
        index = self._need_manifest().station_index()
        base_hash = self._need_params().base_hash
        doc = self.reader.json(fmt.DEVICES)
        if (
            not isinstance(doc, dict)
            or set(doc) != {"format", "devices"}
            or doc["format"] != fmt.RECORD_FORMAT
        ):
            raise self._fail(check, f"{fmt.DEVICES}: not a {fmt.RECORD_FORMAT} device list")
        for d in doc["devices"]:
            rec = DeviceRecord.from_dict(d)
            if rec.device_id in self._s.devices:
                raise self._fail(check, f"device {rec.device_id}: listed twice")
            if rec.station_id not in index:
                raise self._fail(check, f"device {rec.device_id}: unknown station {rec.station_id}")
            if rec.opening_code != opening_code(rec.device_id, base_hash).hex():
                raise self._fail(check, f"device {rec.device_id}: opening_code is not H(base hash, id)")
            self._s.devices[rec.device_id] = rec
            self._s.devices_doc.append(d)
            check.count += 1

    def _board(self, check: CheckResult) -> None:
        index = self._s.board = BoardIndex(
            self.reader,
            self._need_manifest().election_id,
            self._need_params().base_hash,
            self.board_public_key,
        )
        summary = index.read_board(lambda n: self._tick("board", n))
        check.count = summary.count
        final = "closed (final checkpoint)" if summary.final else "not closed"
        check.detail = f"{summary.checkpoints} checkpoints, {final}, key {summary.public_key[:16]}…"

    def _board_match(self, check: CheckResult) -> None:
        index = self._need_board()
        check.count = index.compare_entries()
        index.check_closing(self._s.devices_doc)
        scopes = [
            {k: v for k, v in e.to_dict().items() if k != "plaintext"} for e in self._entries
        ]
        index.check_published("tally", scopes, "scopes", f"{fmt.TALLIES} (encrypted tallies)")
        index.check_published("result", self.reader.json(fmt.RESULTS), "results", fmt.RESULTS)
        params = self.reader.json(fmt.PARAMETERS)["election"]
        index.check_optional("joint_key", params, "parameters", f"{fmt.PARAMETERS} (election parameters)")
        m = self._need_manifest()
        index.check_optional("manifest", m.manifest_hash().hex(), "manifest_hash", f"{fmt.MANIFEST} hash")
        check.detail = f"{check.count} ballot/challenge/revote entries, {len(self._s.devices)} closing codes"

    def _revote_tags(self, check: CheckResult) -> None:
        groups, links = self._s.revotes.check(self._need_board().tagged_positions)
        check.count = links
        untagged = self._s.revotes.untagged_links
        check.detail = f"{groups} remote voters, {links} tagged links" + (
            f", {untagged} untagged links (bound by the board only)" if untagged else ""
        )

    def _ballots(self, check: CheckResult) -> None:
        """One streaming pass: structure, grouping and sequence, style, states, chains, sums, proofs."""
        m, params = self._need_manifest(), self._need_params()
        s = self._s
        seen: set[str] = set()
        done_devices: set[str] = set()
        order = {dev_id: i for i, dev_id in enumerate(s.devices)}
        last_order = -1
        current: str | None = None
        group: list[EncryptedBallot] = []
        supersedes: dict[str, str] = {}  # successor -> predecessor
        successor_of: dict[str, tuple[str, str]] = {}  # predecessor -> (successor, station)
        # (state, station) of ballots named as successors; kept only for those, so memory stays small
        info: dict[str, tuple[str, str]] = {}
        backward: set[str] = set()  # successors that came earlier in the file than their predecessor
        self._chains = 0
        sums = s.sums = StationSums(m, params)
        total = sum(d.ballot_count for d in s.devices.values())
        self._tick("ballots", 0, total)
        self._tick("proofs", 0, total)
        board = self._need_board()
        proofs = self._proof_runner = _Proofs(params, self.workers, self.chunk_size, self._tick)

        def close_group() -> None:
            if current is not None:
                dev = s.devices[current]
                if len(group) != dev.ballot_count:
                    raise self._fail(
                        check, f"device {current}: {len(group)} ballots, devices.json says {dev.ballot_count}"
                    )
                verify_device_chain(current, params.base_hash, group, bytes.fromhex(dev.closing_code))
                self._chains += 1

        try:
            for no, line in self.reader.raw_lines(fmt.BALLOTS):
                d = RecordReader.parse_line(line, fmt.BALLOTS, no)
                sb = SubmittedBallot.from_dict(d)
                b = sb.ballot
                where = f"ballot {sb.ballot_id} ({fmt.BALLOTS} line {no})"
                if sb.ballot_id in seen:
                    raise self._fail(check, f"{where}: ballot id appears twice")
                seen.add(sb.ballot_id)
                dev = s.devices.get(sb.device_id)
                if dev is None:
                    raise self._fail(check, f"{where}: unknown device {sb.device_id}")
                if sb.station_id != dev.station_id:
                    raise self._fail(
                        check, f"{where}: station {sb.station_id} is not its device's {dev.station_id}"
                    )
                if sb.device_id != current:
                    close_group()
                    if sb.device_id in done_devices:
                        raise self._fail(check, f"{where}: its device's ballots are not contiguous")
                    if order[sb.device_id] < last_order:
                        raise self._fail(check, f"{where}: its device is out of {fmt.DEVICES} order")
                    last_order = order[sb.device_id]
                    done_devices.add(sb.device_id)
                    current, group = sb.device_id, []
                if sb.sequence != len(group):
                    raise self._fail(
                        check, f"{where}: sequence {sb.sequence}, expected {len(group)} on its device"
                    )
                group.append(b)
                self._check_style(m, b, where)
                s.states[sb.state] += 1
                if sb.ballot_id in supersedes:
                    info[sb.ballot_id] = (sb.state, sb.station_id)
                if sb.state == "challenged":
                    s.challenged_ids[sb.ballot_id] = b
                    s.challenged_where[sb.ballot_id] = (sb.device_id, sb.station_id)
                board.add_record_line(d)
                s.revotes.add(d)
                if sb.state == "cast":
                    sums.add(sb.station_id, b)
                elif sb.superseded_by is not None:
                    if sb.superseded_by in supersedes:
                        raise self._fail(
                            check, f"{where}: its successor {sb.superseded_by} supersedes two ballots"
                        )
                    supersedes[sb.superseded_by] = sb.ballot_id
                    successor_of[sb.ballot_id] = (sb.superseded_by, sb.station_id)
                    if sb.superseded_by in seen:
                        backward.add(sb.superseded_by)
                proofs.feed(no, line, b)
                check.count += 1
                self._tick("ballots", 1)
            close_group()
            proofs.finish()
        except BaseException:
            proofs.close()
            raise
        for dev_id, dev in s.devices.items():
            if dev_id not in done_devices:
                if dev.ballot_count != 0:
                    raise self._fail(
                        check,
                        f"device {dev_id}: no ballots in {fmt.BALLOTS}, devices.json says {dev.ballot_count}",
                    )
                verify_device_chain(dev_id, params.base_hash, [], bytes.fromhex(dev.closing_code))
                self._chains += 1
        if backward:
            for no, line in self.reader.raw_lines(fmt.BALLOTS):
                d = RecordReader.parse_line(line, fmt.BALLOTS, no)
                bid = d["ballot"]["ballot_id"]
                if bid in backward:
                    info[bid] = (d["state"], d["station_id"])
        for pred, (succ, station) in successor_of.items():
            if succ not in info or info[succ][0] == "challenged":
                raise self._fail(check, f"ballot {pred}: superseded by {succ}, which is not a cast ballot")
            if info[succ][1] != station:
                raise self._fail(check, f"ballot {pred}: superseded by {succ} of another station")
            # following successors must end in a cast ballot (no cycles)
            hops, cur = 0, succ
            while cur in successor_of:
                cur = successor_of[cur][0]
                hops += 1
                if hops > len(successor_of):
                    raise self._fail(check, f"ballot {pred}: its chain of revotes is a cycle")
        check.detail = ", ".join(f"{v} {k}" for k, v in s.states.items())

    @staticmethod
    def _check_style(m: Manifest, b: EncryptedBallot, where: str) -> None:
        try:
            style = m.ballot_style(b.style_id)
        except KeyError as exc:
            raise VerificationFailed(f"{where}: unknown ballot style {b.style_id}") from exc
        if tuple(c.contest_id for c in b.contests) != style.contest_ids:
            raise VerificationFailed(f"{where}: contests differ from ballot style {b.style_id}")
        for c in b.contests:
            expected = tuple(s.selection_id for s in m.contest(c.contest_id).selections)
            if tuple(s.selection_id for s in c.selections) != expected:
                raise VerificationFailed(
                    f"{where}: selections of contest {c.contest_id} differ from the manifest"
                )

    def _proofs(self, check: CheckResult) -> None:
        runner = self._proof_runner  # the proofs were checked during the ballot pass
        if runner.failure is not None:
            raise self._fail(check, runner.failure)
        check.count = runner.count
        check.detail = f"{self.workers} worker processes" if self.workers > 1 else "in process"

    def _chains_summary(self, check: CheckResult) -> None:
        check.count = self._chains  # walked during the ballot pass
        check.detail = "closing codes match"

    def _challenged(self, check: CheckResult) -> None:
        params = self._need_params()
        opened: set[str] = set()
        for no, d in self.reader.lines(fmt.CHALLENGED):
            cb = ChallengedBallot.from_dict(d)
            bid = cb.ballot.ballot_id
            where = f"challenged ballot {bid} ({fmt.CHALLENGED} line {no})"
            original = self._s.challenged_ids.get(bid)
            if original is None:
                raise self._fail(check, f"{where}: not a challenged ballot in {fmt.BALLOTS}")
            if bid in opened:
                raise self._fail(check, f"{where}: opened twice")
            if cb.ballot.to_dict() != original.to_dict():
                raise self._fail(check, f"{where}: differs from the ballot in {fmt.BALLOTS}")
            verify_challenged_ballot(params, cb)
            self._need_board().add_challenge(d, *self._s.challenged_where[bid])
            opened.add(bid)
            check.count += 1
        missing = set(self._s.challenged_ids) - opened
        if missing:
            raise self._fail(check, f"challenged ballot {sorted(missing)[0]}: no opening in {fmt.CHALLENGED}")

    def _tallies(self, check: CheckResult) -> None:
        if self._s.sums is None:
            raise RecordError("ballots not read")
        expected = self._s.sums.roll_up()
        entries: list[TallyEntry] = []
        lines = list(self.reader.lines(fmt.TALLIES))
        if len(lines) != len(expected):
            raise self._fail(
                check,
                f"{fmt.TALLIES}: {len(lines)} lines, expected {len(expected)} "
                "(every station, every region, the nation)",
            )
        for (no, d), (scope, sid, count, tally) in zip(lines, expected, strict=True):
            entry = TallyEntry.from_dict(d)
            where = f"tally {scope} {sid} ({fmt.TALLIES} line {no})"
            if (entry.scope, entry.scope_id) != (scope, sid):
                raise self._fail(check, f"{where}: line is {entry.scope} {entry.scope_id}")
            if entry.ballot_count != count:
                raise self._fail(check, f"{where}: ballot_count {entry.ballot_count}, recounted {count}")
            if entry.encrypted.to_dict() != tally.to_dict():
                raise self._fail(check, f"{where}: encrypted tally differs from the sum of its cast ballots")
            entries.append(entry)
            check.count += 1
        self._entries = entries

    def _decryptions(self, check: CheckResult) -> None:
        params = self._need_params()
        self._tick("decryptions", 0, len(self._entries))
        for e in self._entries:
            try:
                verify_plaintext_tally(params, e.encrypted, e.plaintext)
            except SaylauError as exc:
                raise self._fail(check, f"tally {e.scope} {e.scope_id}: decryption: {exc}") from exc
            check.count += 1
            self._tick("decryptions", 1)

    def _results(self, check: CheckResult) -> None:
        m = self._need_manifest()
        doc = self.reader.json(fmt.RESULTS)
        if doc != results_summary(m, self._entries):
            raise self._fail(check, f"{fmt.RESULTS}: differs from the verified decryptions")
        nation = next(e for e in self._entries if e.scope == "nation" and e.scope_id == NATION_ID)
        if nation.ballot_count != self._s.states["cast"]:
            raise self._fail(check, "nation tally: ballot count differs from the number of cast ballots")
        check.count = 1

    # --- helpers ---------------------------------------------------------------------------------

    def _need_manifest(self) -> Manifest:
        if self._s.manifest is None:
            raise RecordError("manifest not loaded")
        return self._s.manifest

    def _need_board(self) -> BoardIndex:
        if self._s.board is None:
            raise RecordError("board not read")
        return self._s.board

    def _need_params(self) -> ElectionParameters:
        if self._s.params is None:
            raise RecordError("parameters not loaded")
        return self._s.params


def verify_record(record_dir: Path, workers: int = 1, board_public_key: str | None = None) -> bytes:
    """Verify a record directory; return its record hash or raise ``VerificationFailed``."""
    return RecordVerifier(record_dir, workers=workers, board_public_key=board_public_key).run()
