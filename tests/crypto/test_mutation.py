"""Any change to any character of a published ballot or tally is caught (parse error or failed check)."""

import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saylau.crypto import (
    ElectionParameters,
    EncryptedBallot,
    EncryptedTally,
    Guardian,
    JointPublicKey,
    PlaintextTally,
    combine_decryption,
    encrypt_ballot,
    partial_decrypt,
    verify_ballot,
    verify_plaintext_tally,
)
from saylau.errors import SaylauError

HEX = "0123456789abcdef"


def _mutate(text: str, position: int, replacement: str) -> str | None:
    """Replace one hex digit; None if it is not a hex digit or the result is no longer JSON."""
    if text[position] not in HEX or replacement == text[position]:
        return None
    mutated = text[:position] + replacement + text[position + 1 :]
    try:
        json.loads(mutated)
    except json.JSONDecodeError:
        return None  # a reader rejects it before any check
    return mutated


@pytest.fixture(scope="module")
def ballot_json(params: ElectionParameters) -> str:
    ballot, _ = encrypt_ballot(params, "m-1", "s", {"president": ["cand-5"], "council": ["c"]})
    return json.dumps(ballot.to_dict())


@settings(max_examples=60, deadline=None)
@given(position=st.integers(min_value=0, max_value=10**6), replacement=st.sampled_from(HEX))
def test_any_hex_digit_change_in_a_ballot_is_caught(
    params: ElectionParameters, ballot_json: str, position: int, replacement: str
) -> None:
    mutated = _mutate(ballot_json, position % len(ballot_json), replacement)
    if mutated is None:
        return
    with pytest.raises(SaylauError):
        verify_ballot(params, EncryptedBallot.from_dict(json.loads(mutated)))


@pytest.fixture(scope="module")
def decrypted(params: ElectionParameters, ceremony: tuple[list[Guardian], JointPublicKey]) -> tuple[str, str]:
    tally = EncryptedTally.empty(params.contests)
    for i in range(3):
        tally.add_ballot(encrypt_ballot(params, f"m-t{i}", "s", {"president": [f"cand-{i}"]})[0])
    partials = [partial_decrypt(g, tally, published=params) for g in ceremony[0][:3]]
    plaintext = combine_decryption(params, tally, partials, 3)
    return json.dumps(tally.to_dict()), json.dumps(plaintext.to_dict())


@settings(max_examples=25, deadline=None)
@given(
    position=st.integers(min_value=0, max_value=10**6), replacement=st.sampled_from(HEX), which=st.booleans()
)
def test_any_hex_digit_change_in_a_decryption_is_caught(
    params: ElectionParameters, decrypted: tuple[str, str], position: int, replacement: str, which: bool
) -> None:
    tally_json, plain_json = decrypted
    if which:
        tally_json = _mutate(tally_json, position % len(tally_json), replacement) or ""
    else:
        plain_json = _mutate(plain_json, position % len(plain_json), replacement) or ""
    if not tally_json or not plain_json:
        return
    with pytest.raises(SaylauError):
        verify_plaintext_tally(
            params,
            EncryptedTally.from_dict(json.loads(tally_json)),
            PlaintextTally.from_dict(json.loads(plain_json)),
        )


def test_changed_ballot_count_is_caught(params: ElectionParameters, decrypted: tuple[str, str]) -> None:
    tally = json.loads(decrypted[0])
    tally["contests"][0]["ballot_count"] += 1
    with pytest.raises(SaylauError, match="guardian"):
        verify_plaintext_tally(
            params, EncryptedTally.from_dict(tally), PlaintextTally.from_dict(json.loads(decrypted[1]))
        )


def test_objects_pickle_for_process_pools(params: ElectionParameters, ballot_json: str) -> None:
    ballot = EncryptedBallot.from_dict(json.loads(ballot_json))
    params2, ballot2 = pickle.loads(pickle.dumps((params, ballot)))
    assert params2.extended_base_hash == params.extended_base_hash
    verify_ballot(params2, ballot2)
    assert ballot2 == ballot
