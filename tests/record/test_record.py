from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saylau.board import BoardSigner, BulletinBoard, MemoryBoardStore
from saylau.crypto import ElectionParameters, Guardian, run_key_ceremony
from saylau.crypto.hazmat.group import scalar_to_hex
from saylau.record import format as fmt
from saylau.record.reader import RecordReader
from saylau.record.tally import StationSums, TallyEntry, decrypt_tallies, results_summary
from saylau.record.verifier import verify_record
from saylau.record.windows import VotingWindows
from saylau.record.writer import write_record
from saylau.sim.pilot import pilot_election
from saylau.voting.ballot_box import BallotBox
from saylau.voting.device import DeviceRecord, VotingDevice
from saylau.voting.publish import (
    guardian_partials_payload,
    guardian_record_payload,
    result_payload,
    tally_payload,
)
from saylau.voting.submitted import SubmittedBallot

REVOTE_KEY = bytes(range(32))


@pytest.fixture(scope="module")
def election(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    manifest = pilot_election(stations=3, ballots=10).manifest
    STYLE = manifest.ballot_styles[0].style_id
    base = fmt.election_base_hash(manifest.manifest_hash(), 3, 2)
    guardians, key = run_key_ceremony(3, 2, base)
    params = ElectionParameters(base, key, manifest.contest_specs())
    windows = VotingWindows(manifest)
    at = max(windows.window(loc.station.station_id)[0] for loc in manifest.locations())
    assert all(at < windows.window(loc.station.station_id)[1] for loc in manifest.locations())
    board = BulletinBoard(manifest.election_id, MemoryBoardStore(), BoardSigner.generate(), 4, lambda: at)
    for record in key.guardian_records:
        board.append("guardian", guardian_record_payload(record))
    box = BallotBox(params, verify=True, revote_key=REVOTE_KEY, board=board)
    cast_secrets = []
    devices = []
    for loc in manifest.locations():
        sid = loc.station.station_id
        dev = VotingDevice(params, f"{sid}-remote", sid, "remote")  # remote: ballots carry revote tags
        for i, choice in enumerate(["tokayev", "abden", "against_all", "tokayev"]):
            cred = f"voter-credential-{sid}-{i % 3}".encode()
            if i == 1:  # a challenged ballot carries no revote tag
                box.challenge(*dev.challenge(dev.encrypt({"president": [choice]}, STYLE)))
            p = dev.encrypt({"president": [choice]}, STYLE, revote_tag=box.revote_tag(cred))
            cast_secrets.append(p.secret)
            box.cast(dev.cast(p), voter_credential=cred)
        devices.append(dev)
    for dev in devices:
        box.close_device(dev.close())
    box.close_voting()
    sums = StationSums(manifest, params)
    for sb in box.ballots():
        if sb.state == "cast":
            sums.add(sb.station_id, sb.ballot)
    tallies = sums.roll_up()
    scopes = [{"scope": a, "scope_id": b, "ballot_count": n, "encrypted": t.to_dict()}
              for a, b, n, t in tallies]
    board.append("tally", tally_payload(scopes, 9))
    entries = decrypt_tallies(params, tallies, guardians[:2])
    for g in guardians[:2]:
        mine = [next(p for p in e.plaintext.partials if p.guardian_index == g.index) for e in entries]
        scopes_ = [(e.scope, e.scope_id) for e in entries]
        board.append("partial_decryption", guardian_partials_payload(g.index, scopes_, mine))
    board.append("result", result_payload(results_summary(manifest, entries)))
    board.close()
    out = tmp_path_factory.mktemp("rt") / "record"
    record_hash = write_record(
        out, manifest, params, box.devices(), box.ballots(), box.challenged(), entries,
        board_rows=board.export_rows(),
    )
    return {"out": out, "box": box, "guardians": guardians, "secrets": cast_secrets, "entries": entries,
            "hash": record_hash, "manifest": manifest}


def test_round_trip(election: dict[str, object]) -> None:
    out = election["out"]
    box = election["box"]
    assert isinstance(out, Path) and isinstance(box, BallotBox)
    reader = RecordReader(out)
    read_back = [SubmittedBallot.from_dict(d) for _, d in reader.lines(fmt.BALLOTS)]
    def key(d: dict[str, Any]) -> tuple[str, int]:
        return d["device_id"], d["sequence"]

    # the record holds the ballots in board order; the same ballots as the box
    assert sorted((b.to_dict() for b in read_back), key=key) == [b.to_dict() for b in box.ballots()]
    assert [DeviceRecord.from_dict(d) for d in reader.json(fmt.DEVICES)["devices"]] == box.devices()
    entries = [TallyEntry.from_dict(d) for _, d in reader.lines(fmt.TALLIES)]
    assert [e.to_dict() for e in entries] == [e.to_dict() for e in election["entries"]]  # type: ignore[attr-defined]
    assert verify_record(out) == election["hash"]
    nation = entries[-1].counts()["president"]
    # 3 stations x 4 voters; the revote credentials (i % 3) make voter 0's ballot at i=3 supersede i=0
    states = [b.state for b in read_back]
    assert states.count("superseded") == 3 and states.count("challenged") == 3
    assert sum(nation.values()) == states.count("cast") == 9


def test_every_line_is_canonical_and_files_are_listed(election: dict[str, object]) -> None:
    out = election["out"]
    assert isinstance(out, Path)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted((*fmt.DATA_FILES, fmt.FILES))
    for name in fmt.DATA_FILES:
        if name.endswith((".jsonl", ".jsonl.gz")):
            assert sum(1 for _ in RecordReader(out).lines(name)) >= 0
        else:
            RecordReader(out).json(name)


def test_no_secret_in_the_record(election: dict[str, object]) -> None:
    out = election["out"]
    assert isinstance(out, Path)
    blob = b"".join(
        gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes() for p in out.iterdir()
    ).lower()
    guardians = election["guardians"]
    assert isinstance(guardians, list)
    secrets_hex: list[str] = []
    for g in guardians:
        assert isinstance(g, Guardian)
        secrets_hex.append(scalar_to_hex(g.key_share))
        secrets_hex += [scalar_to_hex(a) for a in g._coefficients]  # test-only look at the polynomial
    for s in election["secrets"]:  # type: ignore[attr-defined]
        secrets_hex.append(s.ballot_nonce.hex())
    assert len(secrets_hex) > 10
    for h in secrets_hex:
        assert h.encode() not in blob, "a secret value appears in the election record"
    assert REVOTE_KEY.hex().encode() not in blob
    assert b"voter-credential" not in blob
    box = election["box"]
    assert isinstance(box, BallotBox)
    # the revote tags are published (inside remote ballots), never the key or the credential they come from
    manifest = election["manifest"]
    sid = next(iter(manifest.locations())).station.station_id  # type: ignore[attr-defined]
    assert box.revote_tag(f"voter-credential-{sid}-0".encode()).hex().encode() in blob


def test_record_and_voting_import_no_server_or_cli() -> None:
    """Dependencies point one way: the verifier runs without typer, FastAPI or SQLAlchemy."""
    import subprocess
    import sys

    code = (
        "import sys, saylau.record.verifier, saylau.record.writer, saylau.record.demo;"
        "import saylau.voting.ballot_box;"
        "bad = [m for m in ('typer', 'fastapi', 'sqlalchemy') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def test_integers_beyond_the_safe_range_are_refused() -> None:
    from saylau.errors import RecordError
    from saylau.record.format import parse_canonical

    with pytest.raises(RecordError, match="RFC 8785"):
        parse_canonical(b"[9007199254740993]", "v")


@settings(max_examples=150, deadline=None)
@given(JSON_VALUES)
def test_fast_canonical_check_agrees_with_rfc8785(value: object) -> None:
    import json

    from saylau.errors import RecordError
    from saylau.record.format import canonical_json, parse_canonical

    canonical = canonical_json(value)
    assert parse_canonical(canonical, "v") == value
    for variant in (
        json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(),
        json.dumps(value, sort_keys=False, separators=(", ", ": "), ensure_ascii=False).encode(),
    ):
        if variant != canonical:
            with pytest.raises(RecordError, match="canonical"):
                parse_canonical(variant, "v")
