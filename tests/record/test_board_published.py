"""Everything the board carries besides ballots is checked: guardian records, partial decryptions,
protocols, turnout and times. Each mutation below is one a board operator could make (rewriting and
re-signing the whole board); ``saylau verify`` refuses each, naming the object."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from record_tamper import read_board, read_json, write_board
from test_board_in_record import Entry, closing, entries, fails, rebuild_board
from typer.testing import CliRunner

from saylau.board import BoardSigner, format_time, make_entry, parse_time
from saylau.cli import app
from saylau.election.manifest import Manifest
from saylau.election.protocols import ProtocolFigures, SignedProtocol, public_key_hex, sign_protocol
from saylau.record import format as fmt
from saylau.record.demo import DemoResult
from saylau.record.verifier import RecordVerifier
from saylau.record.windows import VotingWindows


def _index(items: list[Entry], kind: str, n: int = 0) -> int:
    return [i for i, e in enumerate(items) if e["kind"] == kind][n]


def test_the_honest_board_carries_every_published_object(small_record: DemoResult) -> None:
    v = RecordVerifier(small_record.out_dir)
    v.run()
    details = {c.name: c.detail for c in v.checks}
    stations = len(small_record.manifest.station_index())
    board = details["bulletin board: hash chain and signed checkpoints"]
    assert f"{stations} station protocols" in board and "turnout snapshots" in board
    matched = details["record matches the board (ballots, closing codes, tallies, results)"]
    assert "3 guardian records, 2 guardians' partial decryptions" in matched
    kinds = [e["kind"] for e in entries(small_record.out_dir)]
    assert kinds.count("guardian") == 3 and kinds.count("partial_decryption") == 2
    assert kinds.count("protocol") == stations and kinds.count("turnout") >= stations


def test_the_demo_board_carries_the_simulated_days_times(small_record: DemoResult) -> None:
    items = entries(small_record.out_dir)
    times = [e["time"] for e in items]
    assert times == sorted(times)
    windows = VotingWindows(small_record.manifest)
    day = small_record.manifest.election_date.isoformat()
    for e in items:
        if e["kind"] == "ballot":
            assert windows.contains(e["payload"]["station_id"], e["time"]) and e["time"].startswith(day)
    close = items[closing(items)]
    stations = small_record.manifest.station_index()
    assert close["time"] == max(format_time(windows.window(s)[1]) for s in stations)


def test_missing_partial_decryption_is_named_by_saylau_verify(record_copy: Path) -> None:
    def drop(items: list[Entry]) -> list[Entry]:
        return [e for i, e in enumerate(items) if i != _index(items, "partial_decryption")]

    rebuild_board(record_copy, drop)
    result = CliRunner().invoke(app, ["verify", str(record_copy), "--quiet"], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert "VERIFICATION FAILED" in result.output
    assert "partial decryption of guardian 1 (tallies.jsonl): not on the board" in result.output


def test_altered_partial_decryption_is_caught(record_copy: Path) -> None:
    def alter(items: list[Entry]) -> list[Entry]:
        partials = items[_index(items, "partial_decryption", 1)]["payload"]["partials"]
        share = partials[0]["partial"]["shares"][0]
        share["proof"]["response"] = "01".rjust(64, "0")
        return items

    rebuild_board(record_copy, alter)
    fails(record_copy, r"partial decryption of guardian 3 \(tallies.jsonl\): differs from the board's "
                       r"'partial_decryption' entry at position \d+")


def test_partial_decryption_of_a_guardian_not_in_the_record_is_caught(record_copy: Path) -> None:
    def extra(items: list[Entry]) -> list[Entry]:
        i = _index(items, "partial_decryption")
        absent = {**items[i], "payload": {**items[i]["payload"], "index": 2}}
        return [*items[: i + 1], absent, *items[i + 1 :]]

    rebuild_board(record_copy, extra)
    fails(record_copy, r"entry at position \d+ \(partial_decryption\): guardian 2's partial decryption "
                       r"is not in the record")


def test_missing_guardian_record_is_caught(record_copy: Path) -> None:
    def drop(items: list[Entry]) -> list[Entry]:
        return [e for i, e in enumerate(items) if i != _index(items, "guardian", 1)]

    rebuild_board(record_copy, drop)
    fails(record_copy, r"guardian record of guardian 2 \(parameters.json\): not on the board")


def test_altered_guardian_record_is_caught(record_copy: Path) -> None:
    def alter(items: list[Entry]) -> list[Entry]:
        record = items[_index(items, "guardian")]["payload"]["record"]
        first, second = record["commitments"][:2]
        record["commitments"][:2] = [second, first]
        return items

    rebuild_board(record_copy, alter)
    fails(record_copy, r"guardian record of guardian 1 \(parameters.json\): differs from the board's")


def test_guardian_record_published_twice_is_caught(record_copy: Path) -> None:
    def twice(items: list[Entry]) -> list[Entry]:
        i = _index(items, "guardian")
        return [*items[: i + 1], items[i], *items[i + 1 :]]

    rebuild_board(record_copy, twice)
    fails(record_copy, r"guardian record of guardian 1: published 2 times")


# --- protocols, station keys and turnout -------------------------------------------------------------


def _protocol_at(items: list[Entry]) -> tuple[int, dict[str, Any]]:
    i = _index(items, "protocol")
    return i, items[i]["payload"]


def test_altered_protocol_is_caught(record_copy: Path) -> None:
    def alter(items: list[Entry]) -> list[Entry]:
        _, doc = _protocol_at(items)
        doc["figures"]["registered"] += 1
        return items

    rebuild_board(record_copy, alter)
    fails(record_copy, r"protocol of station \S+ v1: signature does not verify")


def test_protocol_signed_by_another_key_is_caught(record_copy: Path) -> None:
    def resign(items: list[Entry]) -> list[Entry]:
        _, doc = _protocol_at(items)
        forged = SignedProtocol.model_validate(doc)
        other = sign_protocol(forged.figures, Ed25519PrivateKey.generate(), election_id=forged.election_id,
                              signed_at=forged.signed_at)
        doc.update(other.model_dump(mode="json"))
        return items

    rebuild_board(record_copy, resign)
    fails(record_copy, r"protocol of station \S+ v1: signer is not the station's registered key")


def _rekey(items: list[Entry], sid: str, key: Ed25519PrivateKey) -> None:
    """The operator replaces a station's registered key (so that it can sign protocols for it)."""
    for e in items:
        if e["kind"] == "note" and e["payload"].get("station_key", {}).get("station_id") == sid:
            e["payload"]["station_key"]["public_key"] = public_key_hex(key.public_key())


def test_protocol_breaking_a_control_relation_is_caught_even_if_signed(record_copy: Path) -> None:
    def impossible(items: list[Entry]) -> list[Entry]:
        _, doc = _protocol_at(items)
        key = Ed25519PrivateKey.generate()
        _rekey(items, doc["figures"]["station"], key)
        figures = {**doc["figures"], "ballots_issued": doc["figures"]["registered"] + 1}
        signed = SignedProtocol.model_validate(doc)
        fake = sign_protocol(ProtocolFigures.model_construct(**figures), key, election_id=signed.election_id,
                             signed_at=signed.signed_at)
        doc.update(fake.model_dump(mode="json"))
        return items

    rebuild_board(record_copy, impossible)
    fails(record_copy, r"protocol of station \S+ v1: control relation 'ballots received = issued \+ unused")


def test_missing_first_protocol_version_is_caught(record_copy: Path) -> None:
    """The board lacks version 1 of a corrected protocol: version 2 names a version nobody can see."""

    def drop_first(items: list[Entry]) -> list[Entry]:
        i, doc = _protocol_at(items)
        key = Ed25519PrivateKey.generate()
        _rekey(items, doc["figures"]["station"], key)
        first = SignedProtocol.model_validate(doc)
        v1 = sign_protocol(first.figures, key, election_id=first.election_id, signed_at=first.signed_at)
        v2 = sign_protocol(first.figures, key, election_id=first.election_id, signed_at=first.signed_at,
                           version=2, supersedes=v1.protocol_hash(), reason="recount")
        items[i] = {**items[i], "payload": v2.model_dump(mode="json")}
        return items

    rebuild_board(record_copy, drop_first)
    fails(record_copy, r"protocol of station \S+ v2: expected version 1")


def test_protocol_without_a_registered_station_key_is_caught(record_copy: Path) -> None:
    def unkeyed(items: list[Entry]) -> list[Entry]:
        _, doc = _protocol_at(items)
        sid = doc["figures"]["station"]
        return [e for e in items if e["payload"].get("station_key", {}).get("station_id") != sid]

    rebuild_board(record_copy, unkeyed)
    fails(record_copy, r"protocol of station \S+ v1: the station registered no protocol key before it")


def test_protocol_before_the_close_of_voting_is_caught(record_copy: Path) -> None:
    def early(items: list[Entry]) -> list[Entry]:
        i, j = _index(items, "protocol"), closing(items)
        return [*items[:j], items[i], *[e for k, e in enumerate(items[j:], j) if k != i]]

    rebuild_board(record_copy, early)
    fails(record_copy, r"entry at position \d+ \(protocol\): a result protocol published before the close")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"voted": -1}, "'voted' is not a count"),
        ({"station_id": "nowhere"}, "station 'nowhere' is not in manifest.json"),
        ({"at": "noon"}, "'at' is not a time with offset"),
        ({"extra": 1}, "a turnout snapshot has the fields"),
    ],
)
def test_malformed_turnout_is_caught(record_copy: Path, change: dict[str, Any], match: str) -> None:
    def alter(items: list[Entry]) -> list[Entry]:
        items[_index(items, "turnout")]["payload"].update(change)
        return items

    rebuild_board(record_copy, alter)
    fails(record_copy, rf"entry at position \d+ \(turnout\).*{match}")


# --- times -------------------------------------------------------------------------------------------


def _ballot_late(record: Path, delta: timedelta) -> tuple[str, str]:
    """Rebuild the board with the last ballot entry at ``delta`` after its station's close."""
    manifest = Manifest.from_json_obj(read_json(record / fmt.MANIFEST))
    windows = VotingWindows(manifest)
    named: list[str] = []

    def late(items: list[Entry]) -> list[Entry]:
        j = closing(items)
        i = max(k for k, e in enumerate(items[:j]) if e["kind"] == "ballot")
        sid = items[i]["payload"]["station_id"]
        items[i]["time"] = format_time(windows.window(sid)[1] + delta)
        for e in items[i + 1 :]:  # the board's times stay in order
            e["time"] = max(e["time"], items[i]["time"])
        named.extend([items[i]["payload"]["ballot"]["ballot_id"], sid])
        return items

    rebuild_board(record, late)
    return named[0], named[1]


def test_ballot_cast_after_its_stations_close_is_named(record_copy: Path) -> None:
    bid, sid = _ballot_late(record_copy, timedelta(microseconds=1))
    message = fails(
        record_copy,
        rf"ballot {bid} \(ballots.jsonl.gz line \d+\): board entry at position \d+: cast at .*, "
        rf"outside the voting hours of station {sid}",
    )
    assert "07:00–20:00" in message


def test_ballot_at_its_stations_close_is_accepted(record_copy: Path) -> None:
    _ballot_late(record_copy, timedelta(0))
    RecordVerifier(record_copy).run()


def test_ballot_before_its_station_opens_is_named(record_copy: Path) -> None:
    manifest = Manifest.from_json_obj(read_json(record_copy / fmt.MANIFEST))
    windows = VotingWindows(manifest)

    def early(items: list[Entry]) -> list[Entry]:
        i = _index(items, "ballot")
        sid = items[i]["payload"]["station_id"]
        opens = windows.window(sid)[0].astimezone(UTC)
        for e in items[: i + 1]:
            e["time"] = format_time(min(parse_time(e["time"]), opens - timedelta(seconds=1)))
        return items

    rebuild_board(record_copy, early)
    fails(
        record_copy,
        r"ballot \S+ \(ballots.jsonl.gz line \d+\): board entry at position \d+: cast at "
        r".*outside the voting hours",
    )


def test_board_times_going_backwards_are_caught(record_copy: Path) -> None:
    """A row whose time is earlier than the row before it (the chain re-hashed and re-signed)."""
    rows = read_board(record_copy)
    header = rows[0]
    signer = BoardSigner.generate()
    out: list[dict[str, Any]] = [{**header, "public_key": signer.public_key_hex}]
    prev = None
    items = [r for r in rows if r["type"] == "entry"]
    back = _index(items, "tally")
    for k, e in enumerate(items):
        when = e["time"] if k != back else format_time(parse_time(e["time"]) - timedelta(days=2))
        prev = make_entry(prev, header["board_id"], e["kind"], e["payload"], code=e["code"], time=when)
        out.append({"type": "entry", **prev.to_dict()})
        if (prev.position + 1) % header["checkpoint_every"] == 0:
            cp = signer.sign(header["board_id"], prev.position, prev.entry_hash, prev.time, final=False)
            out.append({"type": "checkpoint", **cp.to_dict()})
    assert prev is not None
    final = signer.sign(header["board_id"], prev.position, prev.entry_hash, prev.time, final=True)
    write_board(record_copy, [*out, {"type": "checkpoint", **final.to_dict()}])
    fails(record_copy, rf"board entry at position {back}: time \S+ is before the previous row's")
