"""A guardian checks the joint key the server publishes against its ceremony before it decrypts."""

from __future__ import annotations

import pytest

from saylau.crypto import ElectionParameters, EncryptedTally, partial_decrypt, run_key_ceremony
from saylau.errors import CeremonyError
from saylau.store.models import Election as ElectionRow

from .conftest import P, TestClient, setup_election


def _published(client: TestClient, election_id: str) -> ElectionParameters:
    """What a guardian reads from the server: the election's published parameters."""
    r = client.get(f"{P}/elections/{election_id}")
    assert r.status_code == 200, r.text
    return ElectionParameters.from_dict(r.json()["parameters"])


def test_a_guardian_refuses_a_joint_key_the_server_swapped(client: TestClient) -> None:
    el = setup_election(client, open_it=False)
    honest = _published(client, el.id)
    for g in el.guardians:  # the key the server published is the ceremony's: every guardian accepts it
        g.check_published(honest)
    # the server replaces the published key by one of a ceremony it ran alone (it knows that secret)
    _, own_key = run_key_ceremony(3, 2, honest.base_hash)
    forged = ElectionParameters(honest.base_hash, own_key, honest.contests)
    state = client.app.state.saylau  # type: ignore[attr-defined]
    with state.transaction() as session:
        session.get(ElectionRow, el.id).joint_key = forged.to_dict()
    published = _published(client, el.id)
    assert published.joint_key.K == own_key.K
    tally = EncryptedTally.empty(published.contests)
    for g in el.guardians:
        with pytest.raises(CeremonyError, match=f"guardian {g.index}: refusing the published"):
            partial_decrypt(g, tally, published=published)
