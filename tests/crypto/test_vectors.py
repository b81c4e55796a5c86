"""Frozen and external test vectors in ``tests/vectors/`` (one loader, checked against today's code)."""

import json
from pathlib import Path

import pytest

from saylau.crypto import (
    ChallengedBallot,
    ElectionParameters,
    EncryptedBallot,
    EncryptedTally,
    PlaintextTally,
    verify_ballot,
    verify_challenged_ballot,
    verify_device_chain,
    verify_guardian_record,
    verify_plaintext_tally,
)
from saylau.crypto.hazmat.group import Point, g_pow
from saylau.errors import DecryptionError, InvalidBallot

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _load(name: str) -> dict:
    path = VECTORS / name
    assert path.exists(), f"missing test vector file {path}"
    return json.loads(path.read_text())


def test_secp256k1_multiples() -> None:
    data = _load("secp256k1-points.json")
    for case in data["multiples"]:
        assert g_pow(int(case["k"])).hex() == case["point"]
        assert Point.from_hex(case["point"]) == g_pow(int(case["k"]))


def test_secp256k1_invalid_encodings() -> None:
    for case in _load("secp256k1-points.json")["invalid_encodings"]:
        with pytest.raises(ValueError):
            Point.from_hex(case["hex"])


@pytest.fixture(scope="module")
def frozen() -> dict:
    return _load("saylau-v1.json")


def test_frozen_election_still_verifies(frozen: dict) -> None:
    params = ElectionParameters.from_dict(frozen["params"])
    for record in params.joint_key.guardian_records:
        verify_guardian_record(record, params.base_hash)
    ballots = [EncryptedBallot.from_dict(b) for b in frozen["ballots"]]
    for b in ballots:
        verify_ballot(params, b)
    verify_device_chain(frozen["device_id"], params.base_hash, ballots, bytes.fromhex(frozen["closing_code"]))
    verify_challenged_ballot(params, ChallengedBallot.from_dict(frozen["challenged"]))
    tally = EncryptedTally.empty(params.contests)
    for b in ballots:
        if b.ballot_id in frozen["cast"]:
            tally.add_ballot(b)
    assert tally.to_dict() == frozen["tally"]
    plaintext = PlaintextTally.from_dict(frozen["plaintext"])
    verify_plaintext_tally(params, EncryptedTally.from_dict(frozen["tally"]), plaintext)
    assert plaintext.counts == frozen["expected_counts"]


def test_frozen_objects_reencode_identically(frozen: dict) -> None:
    assert ElectionParameters.from_dict(frozen["params"]).to_dict() == frozen["params"]
    for b in frozen["ballots"]:
        assert EncryptedBallot.from_dict(b).to_dict() == b
    assert PlaintextTally.from_dict(frozen["plaintext"]).to_dict() == frozen["plaintext"]


def test_frozen_vectors_catch_a_changed_count(frozen: dict) -> None:
    params = ElectionParameters.from_dict(frozen["params"])
    d = json.loads(json.dumps(frozen["plaintext"]))
    d["counts"]["president"]["tokayev"] = 3
    with pytest.raises(DecryptionError):
        verify_plaintext_tally(params, EncryptedTally.from_dict(frozen["tally"]), PlaintextTally.from_dict(d))
    b = json.loads(json.dumps(frozen["ballots"][0]))
    b["style_id"] = "style-2"
    with pytest.raises(InvalidBallot):
        verify_ballot(params, EncryptedBallot.from_dict(b))
