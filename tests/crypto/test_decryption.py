import random
from collections import Counter
from dataclasses import replace
from itertools import combinations

import pytest

from saylau.crypto import (
    ElectionParameters,
    EncryptedTally,
    Guardian,
    JointPublicKey,
    PartialDecryption,
    PlaintextTally,
    combine_decryption,
    encrypt_ballot,
    partial_decrypt,
    verify_partial_decryption,
    verify_plaintext_tally,
)
from saylau.crypto.decryption import lagrange_coefficient
from saylau.crypto.hazmat.group import G, Q
from saylau.errors import DecryptionError


@pytest.fixture(scope="module")
def tallied(params: ElectionParameters) -> tuple[EncryptedTally, Counter]:
    rng = random.Random(3)
    president = params.contest("president")
    truth: Counter = Counter()
    tally = EncryptedTally.empty(params.contests)
    for i in range(40):
        choice = rng.choice(president.selection_ids)
        council = rng.sample(["a", "b", "c", "d"], rng.choice([0, 1, 2]))
        truth[("president", choice)] += 1
        for c in council:
            truth[("council", c)] += 1
        ballot, _ = encrypt_ballot(params, f"t-{i}", "s", {"president": [choice], "council": council})
        tally.add_ballot(ballot)
    return tally, truth


def _expected(params: ElectionParameters, truth: Counter) -> dict[str, dict[str, int]]:
    return {c.contest_id: {s: truth[(c.contest_id, s)] for s in c.selection_ids} for c in params.contests}


@pytest.mark.parametrize("missing", [(), (2,), (1, 4)])
def test_decryption_with_guardians_missing(
    params: ElectionParameters,
    ceremony: tuple[list[Guardian], JointPublicKey],
    tallied: tuple[EncryptedTally, Counter],
    missing: tuple[int, ...],
) -> None:
    guardians, _ = ceremony
    tally, truth = tallied
    present = [g for g in guardians if g.index not in missing]
    partials = [partial_decrypt(g, tally, published=params) for g in present]
    plaintext = combine_decryption(params, tally, partials, max_count=40)
    assert plaintext.counts == _expected(params, truth)
    assert plaintext.guardians == tuple(g.index for g in present)
    verify_plaintext_tally(params, tally, plaintext)
    again = PlaintextTally.from_dict(plaintext.to_dict())
    verify_plaintext_tally(params, EncryptedTally.from_dict(tally.to_dict()), again)


def test_too_few_guardians(params, ceremony, tallied) -> None:
    guardians, _ = ceremony
    tally, _ = tallied
    partials = [partial_decrypt(g, tally, published=params) for g in guardians[:2]]
    with pytest.raises(DecryptionError, match="quorum is 3"):
        combine_decryption(params, tally, partials, 40)
    with pytest.raises(DecryptionError, match="twice"):
        combine_decryption(params, tally, [partials[0], partials[0], partials[1]], 40)


def test_forged_share_is_caught(params, ceremony, tallied) -> None:
    guardians, _ = ceremony
    tally, _ = tallied
    good = partial_decrypt(guardians[0], tally, published=params)
    first = good.shares[0]
    forged = replace(good, shares=(replace(first, share=first.share * G), *good.shares[1:]))
    with pytest.raises(DecryptionError, match="guardian 1: share for president/cand-0"):
        verify_partial_decryption(params, tally, forged)
    wrong_index = PartialDecryption(2, good.shares)
    with pytest.raises(DecryptionError, match="guardian 2"):
        verify_partial_decryption(params, tally, wrong_index)
    bad_proof = replace(first, proof=replace(first.proof, response=(first.proof.response + 1) % Q))
    with pytest.raises(DecryptionError):
        verify_partial_decryption(params, tally, replace(good, shares=(bad_proof, *good.shares[1:])))


def test_lied_count_is_caught(params, ceremony, tallied) -> None:
    guardians, _ = ceremony
    tally, _ = tallied
    partials = [partial_decrypt(g, tally, published=params) for g in guardians[:3]]
    plaintext = combine_decryption(params, tally, partials, 40)
    counts = {c: dict(s) for c, s in plaintext.counts.items()}
    counts["president"]["cand-0"] += 1
    with pytest.raises(DecryptionError, match="president/cand-0"):
        verify_plaintext_tally(params, tally, replace(plaintext, counts=counts))
    counts = {c: dict(s) for c, s in plaintext.counts.items()}
    del counts["council"]["a"]
    with pytest.raises(DecryptionError):
        verify_plaintext_tally(params, tally, replace(plaintext, counts=counts))


def test_max_count_too_small_fails(params, ceremony, tallied) -> None:
    guardians, _ = ceremony
    tally, truth = tallied
    partials = [partial_decrypt(g, tally, published=params) for g in guardians[:3]]
    with pytest.raises(DecryptionError, match="discrete log"):
        combine_decryption(params, tally, partials, max_count=max(truth.values()) - 1)


def test_lagrange_coefficients_interpolate_at_zero() -> None:
    coefficients = [random.randrange(Q) for _ in range(3)]

    def poly(x: int) -> int:
        return sum(a * x**j for j, a in enumerate(coefficients)) % Q

    for subset in combinations(range(1, 6), 3):
        total = sum(lagrange_coefficient(i, subset) * poly(i) for i in subset) % Q
        assert total == coefficients[0]


def test_national_tally_decrypts_well_under_a_second(params, ceremony) -> None:
    """8.3 million ballots (kz-2022 scale): synthetic counts, one ciphertext per selection."""
    import time

    from saylau.crypto.hazmat.elgamal import encrypt

    guardians, _ = ceremony
    president = params.contest("president")
    counts = [6_456_392, 280_451, 214_196, 176_116, 218_134, 0, 455_823]
    counts[5] = 8_300_000 - sum(counts)
    layout = EncryptedTally.empty(params.contests).to_dict()
    layout["contests"][0]["ballot_count"] = 8_300_000
    for sel, count in zip(layout["contests"][0]["selections"], counts, strict=True):
        ct = encrypt(params.joint_key.K, count, random.randrange(1, Q)).to_dict()
        sel["alpha"], sel["beta"] = ct["alpha"], ct["beta"]
    tally = EncryptedTally.from_dict(layout)
    partials = [partial_decrypt(g, tally, published=params) for g in guardians[2:]]
    combine_decryption(params, tally, partials, 12_000_000)  # first use builds the baby-step table
    start = time.perf_counter()
    plaintext = combine_decryption(params, tally, partials, 12_000_000)
    elapsed = time.perf_counter() - start
    assert [plaintext.counts["president"][s] for s in president.selection_ids] == counts
    assert elapsed < 1.0, elapsed


def test_empty_tally_decrypts_to_zeros(params, ceremony) -> None:
    guardians, _ = ceremony
    tally = EncryptedTally.empty(params.contests)
    partials = [partial_decrypt(g, tally, published=params) for g in guardians[:3]]
    plaintext = combine_decryption(params, tally, partials, max_count=1)
    assert all(v == 0 for sel in plaintext.counts.values() for v in sel.values())
    verify_plaintext_tally(params, tally, plaintext)


def test_every_quorum_subset_decrypts_the_same(params, ceremony, tallied) -> None:
    guardians, _ = ceremony
    tally, truth = tallied
    partials = {g.index: partial_decrypt(g, tally, published=params) for g in guardians}
    for size in (3, 4, 5):
        for subset in combinations(sorted(partials), size):
            plaintext = combine_decryption(params, tally, [partials[i] for i in subset], 40)
            assert plaintext.counts == _expected(params, truth), subset
