import json
from dataclasses import replace

import pytest

from saylau.crypto import (
    BallotSecret,
    ChallengedBallot,
    ElectionParameters,
    encrypt_ballot,
    open_challenged_ballot,
    verify_challenged_ballot,
)
from saylau.errors import InvalidBallot


def test_challenged_ballot_opens_and_round_trips(params: ElectionParameters) -> None:
    ballot, secret = encrypt_ballot(params, "ch-1", "s", {"president": ["cand-4"], "council": ["b", "d"]})
    opened = open_challenged_ballot(params, ballot, secret)
    again = ChallengedBallot.from_dict(json.loads(json.dumps(opened.to_dict())))
    verify_challenged_ballot(params, again)
    assert again.choices == {"president": ("cand-4",), "council": ("b", "d")}
    assert BallotSecret.from_dict(secret.to_dict()) == secret


def test_lie_about_the_plaintext_is_caught(params: ElectionParameters) -> None:
    ballot, secret = encrypt_ballot(params, "ch-2", "s", {"president": ["cand-4"]})
    lie = BallotSecret(secret.ballot_id, secret.ballot_nonce, {"president": ("cand-1",)})
    with pytest.raises(InvalidBallot, match="ch-2: contest president: selection cand-1"):
        open_challenged_ballot(params, ballot, lie)
    opened = open_challenged_ballot(params, ballot, secret)
    with pytest.raises(InvalidBallot, match="ch-2"):
        verify_challenged_ballot(params, replace(opened, choices={"president": ("cand-3",)}))
    with pytest.raises(InvalidBallot, match="ch-2"):
        verify_challenged_ballot(params, replace(opened, ballot_nonce=bytes(32)))
    with pytest.raises(InvalidBallot, match="cover"):
        verify_challenged_ballot(params, replace(opened, choices={}))


def test_secret_of_another_ballot_is_refused(params: ElectionParameters) -> None:
    ballot, _ = encrypt_ballot(params, "ch-3", "s", {"president": ["cand-0"]})
    _, other = encrypt_ballot(params, "ch-4", "s", {"president": ["cand-0"]})
    with pytest.raises(InvalidBallot, match="belongs to ballot ch-4"):
        open_challenged_ballot(params, ballot, other)
