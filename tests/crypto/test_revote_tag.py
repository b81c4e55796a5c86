"""A remote ballot's revote tag is part of the ballot hash, so it cannot be changed or removed unseen."""

from __future__ import annotations

import dataclasses
import json

import pytest

from saylau.crypto import ElectionParameters, EncryptedBallot, encrypt_ballot, verify_ballot
from saylau.errors import InvalidBallot

CHOICES = {"president": ["cand-1"]}
TAG = bytes(range(32))


def test_tagged_ballot_verifies_and_round_trips(params: ElectionParameters) -> None:
    ballot, _ = encrypt_ballot(params, "remote-000001", "style", CHOICES, revote_tag=TAG)
    verify_ballot(params, ballot)
    d = ballot.to_dict()
    assert d["revote_tag"] == TAG.hex()
    again = EncryptedBallot.from_dict(json.loads(json.dumps(d)))
    assert again.revote_tag == TAG and again.crypto_hash() == ballot.crypto_hash()


def test_untagged_ballot_has_no_tag_field(params: ElectionParameters) -> None:
    ballot, _ = encrypt_ballot(params, "booth-000001", "style", CHOICES)
    assert "revote_tag" not in ballot.to_dict() and ballot.revote_tag is None


@pytest.mark.parametrize("tag", [bytes(32), None, bytes([1]) + TAG[1:]])
def test_changed_or_removed_tag_breaks_the_code(params: ElectionParameters, tag: bytes | None) -> None:
    ballot, _ = encrypt_ballot(params, "remote-000002", "style", CHOICES, revote_tag=TAG)
    forged = dataclasses.replace(ballot, revote_tag=tag)
    assert forged.crypto_hash() != ballot.crypto_hash()
    with pytest.raises(InvalidBallot, match="tracking code"):
        verify_ballot(params, forged)


def test_tag_must_be_32_lowercase_hex_bytes(params: ElectionParameters) -> None:
    ballot, _ = encrypt_ballot(params, "remote-000003", "style", CHOICES, revote_tag=TAG)
    with pytest.raises(InvalidBallot, match="revote tag"):
        dataclasses.replace(ballot, revote_tag=b"short")
    d = ballot.to_dict()
    for bad in (TAG.hex().upper(), TAG.hex()[:-2], 7):
        with pytest.raises(InvalidBallot, match="revote_tag"):
            EncryptedBallot.from_dict({**d, "revote_tag": bad})
