import json

import pytest

from saylau.crypto import (
    DeviceChain,
    ElectionParameters,
    EncryptedBallot,
    encrypt_ballot,
    verify_ballot,
)
from saylau.errors import InvalidBallot


def test_honest_ballot_verifies_and_round_trips(params: ElectionParameters) -> None:
    ballot, secret = encrypt_ballot(params, "b-1", "style-1", {"president": ["cand-2"], "council": ["a"]})
    verify_ballot(params, ballot)
    again = EncryptedBallot.from_dict(json.loads(json.dumps(ballot.to_dict())))
    assert again == ballot
    verify_ballot(params, again)
    assert secret.choices == {"president": ("cand-2",), "council": ("a",)}
    assert "nonce" not in repr(secret)


@pytest.mark.parametrize(
    "choices",
    [
        {"president": []},
        {"president": ["cand-1", "cand-2"]},
        {"president": ["nobody"]},
        {"president": ["cand-1", "cand-1"]},
        {"council": ["a", "b", "c"]},
        {"mayor": ["x"]},
        {},
    ],
)
def test_malformed_choices_are_refused(params: ElectionParameters, choices: dict[str, list[str]]) -> None:
    with pytest.raises(InvalidBallot):
        encrypt_ballot(params, "b-bad", "s", choices)


def test_undervote_allowed_only_where_declared(params: ElectionParameters) -> None:
    ballot, _ = encrypt_ballot(params, "b-u", "s", {"council": []})
    verify_ballot(params, ballot)


def _swap_selections(d: dict, i: int, j: int) -> None:
    sels = d["contests"][0]["selections"]
    for key in ("alpha", "beta", "proof"):
        sels[i][key], sels[j][key] = sels[j][key], sels[i][key]


def test_any_swapped_or_copied_field_is_caught(params: ElectionParameters) -> None:
    ballot, _ = encrypt_ballot(params, "b-2", "s", {"president": ["cand-0"]})
    base = ballot.to_dict()
    mutations = []
    d = json.loads(json.dumps(base))
    _swap_selections(d, 0, 1)
    mutations.append(d)
    for key in ("alpha", "beta"):
        d = json.loads(json.dumps(base))
        d["contests"][0]["selections"][3][key] = base["contests"][0]["selections"][4][key]
        mutations.append(d)
    d = json.loads(json.dumps(base))
    d["ballot_id"] = "b-3"
    mutations.append(d)
    d = json.loads(json.dumps(base))
    d["contests"][0]["proof"] = base["contests"][0]["selections"][0]["proof"]
    mutations.append(d)
    d = json.loads(json.dumps(base))
    d["code"] = "00" * 32
    mutations.append(d)
    for m in mutations:
        with pytest.raises(InvalidBallot):
            verify_ballot(params, EncryptedBallot.from_dict(m))


def test_ballot_from_another_election_fails(params: ElectionParameters) -> None:
    other = ElectionParameters(bytes(32), params.joint_key, params.contests)
    ballot, _ = encrypt_ballot(other, "b-4", "s", {"president": ["cand-0"]})
    with pytest.raises(InvalidBallot, match="b-4"):
        verify_ballot(params, ballot)


def test_device_chain_links_codes(params: ElectionParameters, base_hash: bytes) -> None:
    chain = DeviceChain("dev-1", base_hash)
    b1, _ = encrypt_ballot(params, "b-5", "s", {"president": ["cand-0"]}, chain)
    b2, _ = encrypt_ballot(params, "b-6", "s", {"president": ["cand-1"]}, chain)
    assert b1.previous_code == chain.opening_code
    assert b2.previous_code == b1.code
    assert chain.last_code == b2.code
