from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_tamper import read_json, read_lines, write_json, write_lines
from test_board_in_record import rebuild_board

from saylau.crypto import ElectionParameters, encrypt_ballot
from saylau.crypto.tracking import DeviceChain
from saylau.errors import RecordError, VerificationFailed
from saylau.record import format as fmt
from saylau.record.demo import DemoResult
from saylau.record.verifier import RecordVerifier, verify_record


def verify_fails(record: Path, match: str) -> str:
    with pytest.raises(VerificationFailed, match=match) as info:
        verify_record(record)
    return str(info.value)


def test_honest_record_verifies(small_record: DemoResult) -> None:
    v = RecordVerifier(small_record.out_dir)
    assert v.run() == small_record.record_hash
    assert all(c.passed for c in v.checks) and len(v.checks) == 15
    counts = {c.name: c.count for c in v.checks}
    total = sum(small_record.states.values())
    assert counts["ballot proofs (range and contest limit)"] == total
    assert small_record.nation_counts() == small_record.expected_nation


def test_verifier_with_a_process_pool(small_record: DemoResult) -> None:
    assert RecordVerifier(small_record.out_dir, workers=2, chunk_size=4).run() == small_record.record_hash


def test_any_byte_change_without_rehash_is_caught(record_copy: Path) -> None:
    p = record_copy / fmt.BALLOTS
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 1
    p.write_bytes(bytes(data))
    verify_fails(record_copy, "SHA-256")


def test_missing_file(record_copy: Path) -> None:
    (record_copy / fmt.CHALLENGED).unlink()
    verify_fails(record_copy, "challenged.jsonl is missing")


def test_non_canonical_json_is_caught(record_copy: Path) -> None:
    p = record_copy / fmt.RESULTS
    p.write_bytes(p.read_bytes().replace(b":", b": ", 1))
    from saylau.record.writer import write_files_manifest

    write_files_manifest(record_copy)
    verify_fails(record_copy, "canonical")


def _ballot_lines(record: Path) -> list[Any]:
    return read_lines(record / fmt.BALLOTS)


def _busiest(lines: list[Any]) -> list[int]:
    """Line indices of the device with the most ballots."""
    devices = {line["device_id"] for line in lines}
    dev = max(sorted(devices), key=lambda d: sum(1 for line in lines if line["device_id"] == d))
    return [i for i, line in enumerate(lines) if line["device_id"] == dev]


def test_ballot_removed_from_the_middle(record_copy: Path) -> None:
    lines = _ballot_lines(record_copy)
    same = _busiest(lines)
    assert len(same) >= 3
    del lines[same[1]]
    write_lines(record_copy / fmt.BALLOTS, lines)
    verify_fails(record_copy, "sequence|previous_code")


def test_ballot_removed_from_the_end_of_a_chain(record_copy: Path) -> None:
    lines = _ballot_lines(record_copy)
    del lines[_busiest(lines)[-1]]
    write_lines(record_copy / fmt.BALLOTS, lines)
    verify_fails(record_copy, "ballots, devices.json says|closing|not this ballot's")


def test_ballot_duplicated(record_copy: Path) -> None:
    lines = _ballot_lines(record_copy)
    lines.insert(1, copy.deepcopy(lines[0]))
    write_lines(record_copy / fmt.BALLOTS, lines)
    verify_fails(record_copy, r"expected \d+ on its device")  # ids follow the chain: none twice


def test_ballots_reordered_within_a_device(record_copy: Path) -> None:
    lines = _ballot_lines(record_copy)
    a, b = _busiest(lines)[:2]
    lines[a], lines[b] = lines[b], lines[a]
    write_lines(record_copy / fmt.BALLOTS, lines)
    verify_fails(record_copy, "sequence")


def test_device_groups_reordered(record_copy: Path) -> None:
    lines = _ballot_lines(record_copy)
    first = lines[0]["device_id"]
    head = [line for line in lines if line["device_id"] == first]
    rest = [line for line in lines if line["device_id"] != first]
    write_lines(record_copy / fmt.BALLOTS, rest + head)
    verify_fails(record_copy, "not this ballot's")  # the lines are in board order


def test_valid_ballot_added_with_chain_and_counts_updated(record_copy: Path) -> None:
    """The strongest forger: a valid new cast ballot, the chain, closing code and count all redone."""
    params = ElectionParameters.from_dict(read_json(record_copy / fmt.PARAMETERS)["election"])
    lines = _ballot_lines(record_copy)
    devices = read_json(record_copy / fmt.DEVICES)
    dev = next(d for d in devices["devices"] if d["channel"] == "booth")
    mine = [line for line in lines if line["device_id"] == dev["device_id"]]
    chain = DeviceChain.resume(dev["device_id"], params.base_hash, bytes.fromhex(mine[-1]["ballot"]["code"]),
                               len(mine))
    style = mine[-1]["ballot"]["style_id"]
    bid = f"{dev['device_id']}-{len(mine):06d}"
    ballot, _ = encrypt_ballot(params, bid, style, {"president": ["abden"]}, chain)
    new_line = {"ballot": ballot.to_dict(), "device_id": dev["device_id"], "sequence": len(mine),
                "state": "cast", "station_id": dev["station_id"], "superseded_by": None}
    at = lines.index(mine[-1]) + 1
    lines.insert(at, new_line)
    dev["ballot_count"] += 1
    dev["closing_code"] = chain.close().hex()
    write_json(record_copy / fmt.DEVICES, devices)
    write_lines(record_copy / fmt.BALLOTS, lines)
    verify_fails(record_copy, "differs from the sum of its cast ballots|ballot_count|not this ballot's")


def test_changed_tally(record_copy: Path) -> None:
    tallies = read_lines(record_copy / fmt.TALLIES)
    tallies[0]["encrypted"], tallies[1]["encrypted"] = tallies[1]["encrypted"], tallies[0]["encrypted"]
    write_lines(record_copy / fmt.TALLIES, tallies)
    verify_fails(record_copy, "tally station")


def test_changed_count_in_a_decryption(record_copy: Path) -> None:
    tallies = read_lines(record_copy / fmt.TALLIES)
    counts = tallies[-1]["plaintext"]["counts"]["president"]
    counts["tokayev"] -= 1
    counts["abden"] += 1
    write_lines(record_copy / fmt.TALLIES, tallies)
    verify_fails(record_copy, "decryption")


def test_forged_decryption_share(record_copy: Path) -> None:
    tallies = read_lines(record_copy / fmt.TALLIES)
    shares = tallies[-1]["plaintext"]["partials"][0]["shares"]
    other = tallies[0]["plaintext"]["partials"][0]["shares"]
    for key in shares[0]:
        movable = key not in ("contest_id", "selection_id") and isinstance(shares[0][key], str)
        if movable and shares[0][key] != other[1][key]:
            shares[0][key] = other[1][key]
            break
    write_lines(record_copy / fmt.TALLIES, tallies)
    verify_fails(record_copy, "decryption")


def test_challenged_ballot_counted_is_caught(record_copy: Path) -> None:
    lines = _ballot_lines(record_copy)
    i = next(i for i, line in enumerate(lines) if line["state"] == "challenged")
    lines[i]["state"] = "cast"
    write_lines(record_copy / fmt.BALLOTS, lines)
    verify_fails(record_copy, "not a challenged ballot|no opening|differs from the sum|not this ballot's")


def test_superseded_ballot_counted_is_caught(record_copy: Path) -> None:
    lines = _ballot_lines(record_copy)
    i = next(i for i, line in enumerate(lines) if line["state"] == "superseded")
    lines[i]["state"], lines[i]["superseded_by"] = "cast", None
    write_lines(record_copy / fmt.BALLOTS, lines)
    verify_fails(record_copy, "differs from the sum of its cast ballots|ballot_count|not this ballot's")


def test_changed_result(record_copy: Path) -> None:
    results = read_json(record_copy / fmt.RESULTS)
    results["nation"]["counts"]["president"]["tokayev"] += 1
    write_json(record_copy / fmt.RESULTS, results)
    verify_fails(record_copy, "results.json")


def test_unreadable_directory(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="does not exist"):
        verify_record(tmp_path / "nope")


# --- random mutations --------------------------------------------------------------------------

MUTABLE_FILES = fmt.DATA_FILES


def _leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaves(v, (*path, k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaves(v, (*path, i))]
    return [path]


def _mutate(value: Any, pick: int) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1 + pick % 3
    if value is None:
        return "x"
    if isinstance(value, str):
        if value and all(c in "0123456789abcdef" for c in value):
            i = pick % len(value)
            return value[:i] + ("0" if value[i] != "0" else "1") + value[i + 1:]
        return value + "x"
    raise AssertionError(f"unexpected leaf {value!r}")


# superseded_by pointers are the one value an adversary who rewrites files.json may redirect among
# same-station cast ballots unnoticed (docs/record-format.md, "What the record cannot prove").
UNBOUND = {"superseded_by"}


@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(MUTABLE_FILES), st.integers(0, 10**9), st.integers(0, 10**9))
def test_random_value_mutations_are_caught(small_record: DemoResult, tmp_path_factory: pytest.TempPathFactory,
                                           name: str, where: int, pick: int) -> None:
    record = tmp_path_factory.mktemp("mut") / "r"
    shutil.copytree(small_record.out_dir, record)
    path = record / name
    jsonl = name.endswith((".jsonl", ".jsonl.gz"))
    objs = read_lines(path) if jsonl else [read_json(path)]
    line = objs[where % len(objs)]
    leaves = [p for p in _leaves(line) if not (set(map(str, p)) & UNBOUND)]
    leaf = leaves[(where // len(objs)) % len(leaves)]
    parent = line
    for key in leaf[:-1]:
        parent = parent[key]
    parent[leaf[-1]] = _mutate(parent[leaf[-1]], pick)
    if jsonl:
        write_lines(path, objs)
    else:
        write_json(path, objs[0])
    with pytest.raises(VerificationFailed):
        verify_record(record)


def test_bad_proof_with_chain_recomputed_is_caught_by_the_proof_check(record_copy: Path) -> None:
    """A forger who rewrites a proof and redoes the (public) chain still fails the proof check."""
    from saylau.crypto import EncryptedBallot
    from saylau.crypto.ballot_types import tracking_code
    from saylau.crypto.tracking import closing_code

    params = ElectionParameters.from_dict(read_json(record_copy / fmt.PARAMETERS)["election"])
    lines = _ballot_lines(record_copy)
    idx = _busiest(lines)
    lines[idx[0]]["ballot"]["contests"][0]["selections"][0]["proof"]["responses"][0] = "22" * 32
    prev = bytes.fromhex(lines[idx[0]]["ballot"]["previous_code"])
    for i in idx:
        lines[i]["ballot"]["previous_code"] = prev.hex()
        b = EncryptedBallot.from_dict(lines[i]["ballot"])
        prev = tracking_code(prev, b.crypto_hash())
        lines[i]["ballot"]["code"] = prev.hex()
    devices = read_json(record_copy / fmt.DEVICES)
    dev = next(d for d in devices["devices"] if d["device_id"] == lines[idx[0]]["device_id"])
    dev["closing_code"] = closing_code(dev["device_id"], params.base_hash, prev, len(idx)).hex()
    write_json(record_copy / fmt.DEVICES, devices)
    write_lines(record_copy / fmt.BALLOTS, lines)

    def recode(items: list[dict[str, Any]]) -> list[dict[str, Any]]:  # the board operator follows suit
        for e in items:
            if e["kind"] in ("ballot", "challenge"):
                p = e["payload"]
                e["code"] = (p["ballot"] if e["kind"] == "ballot" else p["challenged"]["ballot"])["code"]
        return items

    rebuild_board(record_copy, recode)
    message = verify_fails(record_copy, "ballot proofs")
    assert "line" in message


@pytest.mark.slow
def test_demo_sized_election_end_to_end(tmp_path: Path) -> None:
    """The default demo size (3,000 voters, 20 stations, 5 guardians, one missing) verifies."""
    from saylau.record.demo import run_demo
    from saylau.sim.pilot import pilot_election

    pilot = pilot_election(stations=20, ballots=3000)
    result = run_demo(tmp_path / "demo", pilot.manifest, pilot.plan, workers=2)
    assert result.nation_counts() == result.expected_nation
    assert sum(result.nation_counts().values()) == 3000
    assert result.missing_guardians == (2,)


def _superseded_pair(lines: list[Any]) -> tuple[int, int]:
    i = next(i for i, line in enumerate(lines) if line["state"] == "superseded")
    j = next(j for j, line in enumerate(lines) if line["ballot"]["ballot_id"] == lines[i]["superseded_by"])
    return i, j


def test_revote_pointing_to_a_challenged_ballot_is_caught(record_copy: Path) -> None:
    lines = _ballot_lines(record_copy)
    i, _ = _superseded_pair(lines)
    challenged = next(line for line in lines if line["state"] == "challenged")
    lines[i]["superseded_by"] = challenged["ballot"]["ballot_id"]
    write_lines(record_copy / fmt.BALLOTS, lines)
    verify_fails(record_copy, "not a cast ballot")


def test_revote_pointing_to_a_missing_ballot_is_caught(record_copy: Path) -> None:
    lines = _ballot_lines(record_copy)
    i, _ = _superseded_pair(lines)
    lines[i]["superseded_by"] = "no-such-ballot"
    write_lines(record_copy / fmt.BALLOTS, lines)
    verify_fails(record_copy, "not a cast ballot")


def test_two_ballots_superseded_by_one_is_caught(record_copy: Path) -> None:
    lines = _ballot_lines(record_copy)
    i, j = _superseded_pair(lines)
    station = lines[i]["station_id"]
    other = next(k for k, line in enumerate(lines)
                 if line["state"] == "cast" and k != j and line["station_id"] == station
                 and "revote_tag" in line["ballot"])
    lines[other]["state"], lines[other]["superseded_by"] = "superseded", lines[i]["superseded_by"]
    write_lines(record_copy / fmt.BALLOTS, lines)
    verify_fails(record_copy, "supersedes two ballots")


def test_revote_pointing_backward_to_a_challenged_ballot_is_caught(record_copy: Path) -> None:
    """The successor may come earlier in the file than its predecessor; the verifier looks it up."""
    lines = _ballot_lines(record_copy)
    i, _ = _superseded_pair(lines)
    earlier = [line for line in lines[:i] if line["state"] == "challenged"] or [
        line for line in lines if line["state"] == "challenged"
    ]
    lines[i]["superseded_by"] = earlier[0]["ballot"]["ballot_id"]
    write_lines(record_copy / fmt.BALLOTS, lines)
    verify_fails(record_copy, "not a cast ballot")
