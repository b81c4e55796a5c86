"""A guardian refuses to decrypt for published parameters that are not those of its ceremony."""

from __future__ import annotations

import pytest

from saylau.crypto import (
    ElectionParameters,
    EncryptedTally,
    JointPublicKey,
    partial_decrypt,
    run_key_ceremony,
)
from saylau.errors import CeremonyError

from .conftest import BASE_HASH, COUNCIL, PRESIDENT

CONTESTS = (PRESIDENT, COUNCIL)


def test_a_guardian_decrypts_only_for_its_own_ceremonys_key() -> None:
    guardians, key = run_key_ceremony(3, 2, BASE_HASH)
    honest = ElectionParameters(BASE_HASH, key, CONTESTS)
    tally = EncryptedTally.empty(honest.contests)
    g = guardians[0]
    g.check_published(honest)
    assert partial_decrypt(g, tally, published=honest).guardian_index == 1
    # the server publishes a key from a ceremony it ran itself (same manifest, same n and k)
    _, other = run_key_ceremony(3, 2, BASE_HASH)
    forged = ElectionParameters(BASE_HASH, other, CONTESTS)
    refused = r"guardian 1: refusing the published .* joint key, its own commitments are not the ones it"
    with pytest.raises(CeremonyError, match=refused):
        partial_decrypt(g, tally, published=forged)
    # only guardian 2's record replaced: K changes, and guardian 1 names guardian 2
    swapped = JointPublicKey.from_records(
        [key.guardian_records[0], other.guardian_records[1], key.guardian_records[2]], 2
    )
    with pytest.raises(CeremonyError, match="guardian 2's commitments are not the ones it sent"):
        g.check_published(ElectionParameters(BASE_HASH, swapped, CONTESTS))
    # parameters for another manifest or ceremony size
    with pytest.raises(CeremonyError, match="base hash"):
        g.check_published(ElectionParameters(bytes(32), key, CONTESTS))
