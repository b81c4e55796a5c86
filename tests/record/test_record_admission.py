"""The verifier's per-ballot checks (``record/verifier/admission.py``) on records written honestly by the
library, with one rule broken each time: every such record is rejected, naming the ballot and the rule.

The builder runs a tiny election (stations st-1 in region r1 and st-2 in r2) through the ballot box
without its proof check, so that ballots the server now refuses can still reach a record, as they could
before the server and the verifier shared these checks.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from record_tamper import read_json, read_lines, write_json

from saylau.board import BoardSigner, BulletinBoard, MemoryBoardStore
from saylau.crypto import (
    DeviceChain,
    ElectionParameters,
    encrypt_ballot,
    open_challenged_ballot,
    run_key_ceremony,
)
from saylau.election.manifest import Manifest
from saylau.errors import VerificationFailed
from saylau.record import format as fmt
from saylau.record.tally import StationSums, decrypt_tallies, results_summary
from saylau.record.verifier import admission, lines, verify_record
from saylau.record.writer import write_record
from saylau.voting.ballot_box import BallotBox
from saylau.voting.device import Channel, DeviceRecord
from saylau.voting.publish import (
    guardian_partials_payload,
    guardian_record_payload,
    result_payload,
    tally_payload,
)
from saylau.voting.submitted import SubmittedBallot


def _manifest() -> Manifest:
    name = {"kk": "x", "ru": "x", "en": "x"}

    def region(rid: str, sid: str) -> dict[str, object]:
        station = {"station_id": sid, "name": name, "time_zone": "Asia/Almaty"}
        return {
            "region_id": rid,
            "name": name,
            "districts": [{"district_id": f"d-{rid}", "name": name, "stations": [station]}],
        }

    sels = [{"selection_id": s, "kind": "candidate", "name": name} for s in ("cand-a", "cand-b", "cand-c")]
    return Manifest.from_json_obj(
        {
            "election_id": "tiny",
            "name": name,
            "election_date": "2022-11-20",
            "voting_opens": "2022-11-20T07:00:00+06:00",
            "voting_closes": "2022-11-20T20:00:00+06:00",
            "contests": [{"contest_id": "president", "name": name, "votes_allowed": 1, "selections": sels}],
            "ballot_styles": [
                {"style_id": "main", "contest_ids": ["president"], "region_ids": []},
                {"style_id": "r2-only", "contest_ids": ["president"], "region_ids": ["r2"]},
            ],
            "regions": [region("r1", "st-1"), region("r2", "st-2")],
        }
    )


MANIFEST = _manifest()
BASE = fmt.election_base_hash(MANIFEST.manifest_hash(), 3, 2)
GUARDIANS, KEY = run_key_ceremony(3, 2, BASE)
PARAMS = ElectionParameters(BASE, KEY, MANIFEST.contest_specs())


@dataclass
class _Device:
    device_id: str
    station_id: str
    channel: Channel
    chain: DeviceChain = field(init=False)
    count: int = 0

    def __post_init__(self) -> None:
        self.chain = DeviceChain(self.device_id, BASE)

    def record(self) -> DeviceRecord:
        opening = DeviceChain(self.device_id, BASE).opening_code.hex()
        return DeviceRecord(
            self.device_id, self.station_id, opening, self.chain.close().hex(), self.count, self.channel
        )


class Tiny:
    """A small election written into a record, one call per ballot."""

    def __init__(self) -> None:
        ticks = itertools.count()
        # on election day inside st-1's and st-2's voting hours (the verifier checks every ballot's time)
        start = datetime(2022, 11, 20, 3, 0, tzinfo=UTC)
        clock = lambda: start + timedelta(milliseconds=next(ticks))  # noqa: E731
        self.board = BulletinBoard("tiny", MemoryBoardStore(), BoardSigner.generate(), 8, clock=clock)
        for record in PARAMS.joint_key.guardian_records:  # the ceremony's records are on the board
            self.board.append("guardian", guardian_record_payload(record))
        self.box = BallotBox(PARAMS, verify=False, revote_key=bytes(32), board=self.board)
        self.devices: dict[str, _Device] = {}

    def _next(
        self, device_id: str, choice: str, style: str, tag: bytes | None, bid: str | None, state: str
    ) -> tuple[SubmittedBallot, object]:
        dev = self.devices.setdefault(
            device_id,
            _Device(device_id, device_id[:4], "remote" if device_id.endswith("-remote") else "booth"),
        )
        bid = bid or f"{device_id}-{dev.count:06d}"
        ballot, secret = encrypt_ballot(
            PARAMS, bid, style, {"president": [choice]}, dev.chain, revote_tag=tag
        )
        sb = SubmittedBallot(
            ballot, dev.station_id, device_id, dev.count, "cast" if state == "cast" else "challenged"
        )
        dev.count += 1
        return sb, secret

    def cast(
        self,
        device_id: str,
        choice: str = "cand-a",
        *,
        style: str = "main",
        voter: str | None = None,
        tagged: bool = True,
        bid: str | None = None,
    ) -> None:
        cred = None if voter is None else voter.encode()
        tag = self.box.revote_tag(cred) if cred is not None and tagged else None
        sb, _ = self._next(device_id, choice, style, tag, bid, "cast")
        self.box.cast(sb, voter_credential=cred)

    def challenge(self, device_id: str, tag: bytes | None = None) -> None:
        sb, secret = self._next(device_id, "cand-b", "main", tag, None, "challenged")
        self.box.challenge(sb, open_challenged_ballot(PARAMS, sb.ballot, secret))  # type: ignore[arg-type]

    def write(self, out: Path) -> Path:
        for dev in self.devices.values():
            self.box.close_device(dev.record())
        self.box.close_voting()
        sums = StationSums(MANIFEST, PARAMS)
        cast = 0
        for sb in self.box.ballots():
            if sb.state == "cast":
                sums.add(sb.station_id, sb.ballot)
                cast += 1
        tallies = sums.roll_up()
        scopes = [
            {"scope": a, "scope_id": b, "ballot_count": n, "encrypted": t.to_dict()} for a, b, n, t in tallies
        ]
        self.board.append("tally", tally_payload(scopes, cast))
        entries = decrypt_tallies(PARAMS, tallies, GUARDIANS[:2])
        scope_ids = [(e.scope, e.scope_id) for e in entries]
        for g in GUARDIANS[:2]:  # each present guardian's shares are on the board
            mine = [next(p for p in e.plaintext.partials if p.guardian_index == g.index) for e in entries]
            self.board.append("partial_decryption", guardian_partials_payload(g.index, scope_ids, mine))
        self.board.append("result", result_payload(results_summary(MANIFEST, entries)))
        self.board.close()
        write_record(
            out,
            MANIFEST,
            PARAMS,
            self.box.devices(),
            self.box.ballots(),
            self.box.challenged(),
            entries,
            board_rows=self.board.export_rows(),
        )
        return out


def _honest() -> Tiny:
    t = Tiny()
    t.cast("st-1-d1", "cand-a")
    t.cast("st-1-d1", "cand-b")
    t.challenge("st-2-remote")  # a remote challenge carries no tag
    t.cast("st-2-remote", "cand-a", voter="v1", style="r2-only")
    t.cast("st-2-remote", "cand-c", voter="v1")  # the revote supersedes the first
    return t


def _fails(t: Tiny, tmp_path: Path, *words: str) -> str:
    out = t.write(tmp_path / "record")
    with pytest.raises(VerificationFailed) as info:
        verify_record(out)
    for w in words:
        assert w in str(info.value), str(info.value)
    return str(info.value)


def test_the_honest_tiny_record_verifies(tmp_path: Path) -> None:
    out = _honest().write(tmp_path / "record")
    verify_record(out)
    states = [
        line["state"] for line in read_lines(out / fmt.BALLOTS)
    ]
    assert sorted(states) == ["cast", "cast", "cast", "challenged", "superseded"]
    channels = {d["device_id"]: d["channel"] for d in read_json(out / fmt.DEVICES)["devices"]}
    assert channels == {"st-1-d1": "booth", "st-2-remote": "remote"}


def test_a_superseded_booth_ballot_is_rejected(tmp_path: Path) -> None:
    """An untagged "superseded" link on a booth would let the board operator discard in-person ballots."""
    t = Tiny()
    t.cast("st-1-d1", "cand-a", voter="v0", tagged=False)
    t.cast("st-1-d1", "cand-b", voter="v0", tagged=False)
    _fails(t, tmp_path, "st-1-d1-000000", "in-person (booth) ballots can never be superseded")


def test_an_untagged_remote_revote_is_rejected(tmp_path: Path) -> None:
    t = Tiny()
    t.cast("st-2-remote", "cand-a", voter="v1", tagged=False)
    t.cast("st-2-remote", "cand-b", voter="v1", tagged=False)
    _fails(t, tmp_path, "st-2-remote-000000", "revote_tag' is missing")


def test_a_booth_ballot_with_a_revote_tag_is_rejected(tmp_path: Path) -> None:
    t = Tiny()
    t.cast("st-1-d1", "cand-a", voter="v0")
    _fails(t, tmp_path, "st-1-d1-000000", "absent on an in-person")


def test_a_challenged_ballot_with_a_revote_tag_is_rejected(tmp_path: Path) -> None:
    t = Tiny()
    t.challenge("st-2-remote", tag=t.box.revote_tag(b"v1"))
    t.cast("st-2-remote", "cand-a", voter="v1")
    _fails(t, tmp_path, "st-2-remote-000000", "absent on a challenged ballot")


def test_a_style_of_another_region_is_rejected(tmp_path: Path) -> None:
    t = _honest()
    t.cast("st-1-d1", "cand-a", style="r2-only")
    _fails(t, tmp_path, "st-1-d1-000002", "not used in region r1")


def test_an_unknown_style_is_rejected(tmp_path: Path) -> None:
    t = Tiny()
    t.cast("st-1-d1", "cand-a", style="nowhere")
    _fails(t, tmp_path, "style_id", "nowhere")


def test_an_identity_ciphertext_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t = Tiny()
    with monkeypatch.context() as m:
        m.setattr("saylau.crypto.ballot.selection_nonce", lambda *args: 0)
        t.cast("st-1-d1", "cand-a")
    _fails(t, tmp_path, "st-1-d1-000000", "alpha is the identity")


@pytest.mark.parametrize(
    ("bid", "words"),
    [
        ("st-1-d1-000001", ("names sequence 1", "at position 0 of device st-1-d1")),
        ("st-1-d2-000000", ("ballot_id",)),
        ("st-1-d1-0", ("ballot_id",)),
    ],
)
def test_a_ballot_id_that_is_not_its_device_and_sequence_is_rejected(
    tmp_path: Path, bid: str, words: tuple[str, ...]
) -> None:
    t = Tiny()
    t.cast("st-1-d1", "cand-a", bid=bid)
    _fails(t, tmp_path, *words)


def test_a_file_that_is_not_in_the_format_is_rejected(tmp_path: Path) -> None:
    out = _honest().write(tmp_path / "record")
    (out / "notes.txt").write_text("an extra file\n")
    with pytest.raises(VerificationFailed, match=r"'notes\.txt' is not a file of saylau-record/2"):
        verify_record(out)
    (out / "notes.txt").unlink()
    (out / "extra").mkdir()
    with pytest.raises(VerificationFailed, match="'extra' is not a file"):
        verify_record(out)


@pytest.mark.parametrize("channel", [None, "kiosk", 1])
def test_a_device_entry_without_a_valid_channel_is_rejected(tmp_path: Path, channel: object) -> None:
    out = _honest().write(tmp_path / "record")
    doc = read_json(out / fmt.DEVICES)
    if channel is None:
        del doc["devices"][0]["channel"]
    else:
        doc["devices"][0]["channel"] = channel
    write_json(out / fmt.DEVICES, doc)
    with pytest.raises(VerificationFailed, match="channel"):
        verify_record(out)


def test_remote_and_booth_flipped_in_devices_json_is_rejected(tmp_path: Path) -> None:
    """The channel is bound by the tags inside the tracking codes: flipping it breaks the tag rule."""
    out = _honest().write(tmp_path / "record")
    doc = read_json(out / fmt.DEVICES)
    for d in doc["devices"]:
        d["channel"] = "remote" if d["channel"] == "booth" else "booth"
    write_json(out / fmt.DEVICES, doc)
    with pytest.raises(VerificationFailed, match="revote_tag"):
        verify_record(out)


def test_the_verifier_and_the_server_run_the_same_checks() -> None:
    from saylau.api import cast_batch, verify_pool

    assert lines.check_ballot_structure is admission.check_ballot_structure
    assert lines.check_ballot_proofs is admission.check_ballot_proofs
    assert verify_pool.check_admission is admission.check_admission
    assert verify_pool.check_ballot_structure is admission.check_ballot_structure
    assert lines.check_position is cast_batch.check_position is admission.check_position


def test_the_verifier_imports_nothing_of_the_writing_side() -> None:
    import ast

    root = Path(admission.__file__).parent
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            for name in names:
                assert not name.startswith(("saylau.voting", "saylau.api", "saylau.store", "saylau.sim")), (
                    path.name,
                    name,
                )
