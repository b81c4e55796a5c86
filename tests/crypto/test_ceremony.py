import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saylau.crypto import (
    EncryptedShare,
    Guardian,
    GuardianRecord,
    JointPublicKey,
    run_key_ceremony,
    verify_guardian_record,
)
from saylau.crypto.hazmat.group import G, Q, combine, g_pow
from saylau.crypto.hazmat.proofs import prove_schnorr
from saylau.crypto.keys import coefficient_context
from saylau.errors import CeremonyError

BH = bytes(range(32))


def _guardians(n: int = 3, k: int = 2) -> list[Guardian]:
    return [Guardian.generate(i, n, k, BH) for i in range(1, n + 1)]


def test_ceremony_gives_consistent_key_shares() -> None:
    guardians, key = run_key_ceremony(4, 3, BH)
    assert combine(g.public_record().public_key for g in guardians) == key.K
    for g in guardians:
        assert g_pow(g.key_share) == key.verification_key(g.index)
        assert g.joint_key == key
        verify_guardian_record(g.public_record(), BH)
    assert JointPublicKey.from_dict(key.to_dict()) == key
    assert "secret" in repr(guardians[0])


def test_seeded_ceremony_is_reproducible() -> None:
    _, k1 = run_key_ceremony(3, 2, BH, random.Random(5))
    _, k2 = run_key_ceremony(3, 2, BH, random.Random(5))
    assert k1 == k2


def test_bad_share_is_caught_and_names_the_sender() -> None:
    g1, g2, _ = _guardians()
    honest = g2.share_for(1, g1.public_record())
    # guardian 2 sends a share of a different polynomial, correctly encrypted and MACed
    cheat = Guardian(2, 3, 2, BH, [random.randrange(1, Q) for _ in range(2)])
    forged = cheat.share_for(1, g1.public_record())
    with pytest.raises(CeremonyError, match="guardian 2: share for guardian 1 does not match"):
        g1.receive_share(forged, g2.public_record())
    g1.receive_share(honest, g2.public_record())


def test_tampered_share_fails_its_mac() -> None:
    g1, g2, _ = _guardians()
    share = g2.share_for(1, g1.public_record())
    flipped = replace(share, c1=bytes([share.c1[0] ^ 1]) + share.c1[1:])
    with pytest.raises(CeremonyError, match=r"guardian 2: .*MAC"):
        g1.receive_share(flipped, g2.public_record())
    assert EncryptedShare.from_dict(share.to_dict()) == share


def test_share_for_someone_else_is_refused() -> None:
    g1, g2, g3 = _guardians()
    share = g2.share_for(3, g3.public_record())
    with pytest.raises(CeremonyError, match="guardian 2"):
        g1.receive_share(share, g2.public_record())


def test_bad_commitment_proof_is_caught() -> None:
    g1, g2, _ = _guardians()
    rec = g2.public_record()
    bad_proof = replace(rec.proofs[1], response=(rec.proofs[1].response + 1) % Q)
    bad = GuardianRecord(2, rec.commitments, (rec.proofs[0], bad_proof))
    with pytest.raises(CeremonyError, match="guardian 2: commitment 1"):
        verify_guardian_record(bad, BH)
    share = g2.share_for(1, g1.public_record())
    with pytest.raises(CeremonyError, match="guardian 2"):
        g1.receive_share(share, bad)
    # a commitment swapped for another point with a proof for a different guardian index
    a = 12345
    stolen = prove_schnorr(a, g_pow(a), coefficient_context(BH, 3, 0))
    with pytest.raises(CeremonyError, match="guardian 2: commitment 0"):
        verify_guardian_record(GuardianRecord(2, (g_pow(a), rec.commitments[1]), (stolen, rec.proofs[1])), BH)


def test_finish_needs_every_share() -> None:
    g1, g2, _ = _guardians()
    g1.receive_share(g2.share_for(1, g1.public_record()), g2.public_record())
    with pytest.raises(CeremonyError, match=r"no share yet from guardians \[3\]"):
        g1.finish()
    with pytest.raises(CeremonyError):
        _ = g1.key_share


def test_joint_key_checks_its_parts() -> None:
    _, key = run_key_ceremony(3, 2, BH)
    with pytest.raises(CeremonyError, match="product"):
        JointPublicKey(key.K * G, key.guardian_records, 2)
    with pytest.raises(CeremonyError, match="quorum"):
        JointPublicKey(key.K, key.guardian_records, 4)
    with pytest.raises(CeremonyError, match="commitments"):
        JointPublicKey(key.K, key.guardian_records, 3)


def test_joint_key_from_records_checks_proofs() -> None:
    from saylau.crypto import joint_public_key

    guardians, key = run_key_ceremony(3, 2, BH)
    records = [g.public_record() for g in reversed(guardians)]
    assert joint_public_key(records, 2, BH) == key
    assert JointPublicKey.from_records(records, 2) == key
    with pytest.raises(CeremonyError):
        joint_public_key(records, 2, bytes(32))


def test_guardian_key_file_round_trip() -> None:
    guardians, key = run_key_ceremony(3, 2, BH)
    saved = guardians[1].to_private_dict()
    restored = Guardian.from_private_dict(saved)
    assert restored.key_share == guardians[1].key_share
    assert restored.joint_key == key
    saved["coefficients"][0] = saved["coefficients"][1]
    with pytest.raises(CeremonyError, match="does not match"):
        Guardian.from_private_dict(saved)
    unfinished = Guardian.from_private_dict(Guardian.generate(1, 3, 2, BH).to_private_dict())
    with pytest.raises(CeremonyError, match="not finished"):
        _ = unfinished.key_share


@settings(max_examples=6, deadline=None)
@given(st.integers(min_value=1, max_value=5).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n))))
def test_any_ceremony_size_gives_a_key_any_quorum_can_use(nk: tuple[int, int]) -> None:
    n, k = nk
    guardians, key = run_key_ceremony(n, k, BH)
    secret = sum(g._coefficients[0] for g in guardians) % Q
    assert g_pow(secret) == key.K
    from saylau.crypto.decryption import lagrange_coefficient

    for subset in (guardians[:k], guardians[n - k :]):
        indices = [g.index for g in subset]
        recovered = sum(lagrange_coefficient(g.index, indices) * g.key_share for g in subset) % Q
        assert recovered == secret
