import pytest

from saylau.crypto import ContestSpec, ElectionParameters, EncryptedTally, encrypt_ballot
from saylau.crypto.hazmat.group import IDENTITY
from saylau.crypto.tally import _FLUSH
from saylau.errors import InvalidBallot, RecordError


def test_sum_is_homomorphic_and_splits(params: ElectionParameters) -> None:
    ballots = [encrypt_ballot(params, f"x-{i}", "s", {"president": [f"cand-{i % 3}"]})[0] for i in range(6)]
    whole = EncryptedTally.empty(params.contests)
    for b in ballots:
        whole = whole.add_ballot(b)
    left, right = EncryptedTally.empty(params.contests), EncryptedTally.empty(params.contests)
    for b in ballots[:2]:
        left.add_ballot(b)
    for b in ballots[2:]:
        right.add_ballot(b)
    assert left + right == whole
    assert EncryptedTally.sum([left, right, EncryptedTally.empty(params.contests)]) == whole
    with pytest.raises(ValueError):
        EncryptedTally.sum([])
    assert whole.ballot_count("president") == 6
    assert whole.ballot_count("council") == 0
    assert whole.ciphertext("council", "a").alpha == IDENTITY
    expected_alpha = ballots[0].contests[0].selections[0].ciphertext.alpha
    for b in ballots[1:]:
        expected_alpha = expected_alpha * b.contests[0].selections[0].ciphertext.alpha
    assert whole.ciphertext("president", "cand-0").alpha == expected_alpha
    assert EncryptedTally.from_dict(whole.to_dict()) == whole
    assert whole.crypto_hash() != left.crypto_hash()


def test_batched_folding_matches(params: ElectionParameters) -> None:
    ballot, _ = encrypt_ballot(params, "y", "s", {"president": ["cand-1"]})
    tally = EncryptedTally.empty(params.contests)
    for _ in range(_FLUSH + 3):
        tally.add_ballot(ballot)
    ct = ballot.contests[0].selections[1].ciphertext
    assert tally.ciphertext("president", "cand-1").beta == ct.beta ** (_FLUSH + 3)


def test_mismatched_ballot_and_tallies_are_refused(params: ElectionParameters) -> None:
    other = EncryptedTally.empty([ContestSpec("president", ("x", "y"), 1)])
    ballot, _ = encrypt_ballot(params, "z", "s", {"president": ["cand-1"]})
    with pytest.raises(InvalidBallot, match="ballot z"):
        other.add_ballot(ballot)
    with pytest.raises(ValueError):
        _ = other + EncryptedTally.empty(params.contests)


def test_tally_parsing_is_strict(params: ElectionParameters) -> None:
    d = EncryptedTally.empty(params.contests).to_dict()
    d["contests"][0]["selections"].append(d["contests"][0]["selections"][0])
    with pytest.raises(RecordError, match="twice"):
        EncryptedTally.from_dict(d)
    d = EncryptedTally.empty(params.contests).to_dict()
    d["contests"][0]["ballot_count"] = -1
    with pytest.raises(RecordError):
        EncryptedTally.from_dict(d)
