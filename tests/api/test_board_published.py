"""What the server publishes besides ballots is on its board in the documented shapes, and in its record.

Guardian records, partial decryptions, turnout snapshots and signed protocols: the record verifier
compares the record's guardian records and partial decryptions with the board's entries and checks
every turnout and protocol entry, so the server must publish each once, well formed — including a
partial decryption that arrives while the decryption job is computing.
"""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from saylau.api import jobs_handlers
from saylau.crypto import EncryptedTally, partial_decrypt
from saylau.election.protocols import ProtocolFigures, sign_protocol
from saylau.record.verifier import RecordVerifier
from saylau.store.models import PartialDecryptionRow

from .conftest import P, TestClient, setup_election
from .test_board_close import FIGURES, _board, _decrypt, _entries, _tallied


def _record(client: TestClient, eid: str, tmp_path: Path) -> RecordVerifier:
    r = client.get(f"{P}/elections/{eid}/record")
    assert r.status_code == 200, r.text
    with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    verifier = RecordVerifier(tmp_path / "record")
    assert verifier.run().hex() == r.headers["Saylau-Record-Hash"]
    return verifier


def test_turnout_time_must_be_a_date_time_with_offset(client: TestClient) -> None:
    el = setup_election(client)
    url = f"{P}/elections/{el.id}/stations/st-1/turnout"
    for bad in ("noon, Sunday", "2022-11-20T12:00:00"):
        r = client.post(url, json={"at": bad, "voted": 1}, headers=el.h["station1"])
        assert r.status_code == 422 and "at" in r.text, r.text
    r = client.post(url, json={"at": "2022-11-20T12:00:00+06:00", "voted": 1}, headers=el.h["station1"])
    assert r.status_code == 201, r.text
    entry = _entries(_board(client, el.id))[-1]
    assert entry["kind"] == "turnout"
    assert entry["payload"] == {"station_id": "st-1", "at": "2022-11-20T12:00:00+06:00", "voted": 1}


def test_a_partial_decryption_arriving_during_decryption_is_in_the_results_and_the_record(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = _tallied(client)
    eid, state = t.el.id, client.app.state.saylau  # type: ignore[attr-defined]
    # a signed protocol (after the close): the verifier checks its signature, version and relations
    signed = sign_protocol(
        ProtocolFigures.model_validate(FIGURES), t.protocol_key, election_id=eid,
        signed_at=datetime(2022, 11, 20, 15, 0, tzinfo=UTC),
    )
    r = client.post(
        f"{P}/elections/{eid}/stations/st-1/protocols",
        json=signed.model_dump(mode="json"),
        headers=t.el.h["station1"],
    )
    assert r.status_code == 201, r.text

    # guardian 3 posts its partial decryption while the job is combining the other two
    late = t.el.guardians[2]
    scopes = client.get(f"{P}/elections/{eid}/tally").json()["scopes"]
    body = {
        "partials": [
            {
                "scope": s["scope"],
                "scope_id": s["scope_id"],
                "partial": partial_decrypt(
                    late, EncryptedTally.from_dict(s["encrypted"]), published=t.el.params
                ).to_dict(),
            }
            for s in scopes
        ]
    }
    combine = jobs_handlers.combine_decryption
    calls = [0]

    def combine_while_another_arrives(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:  # what the partial-decryption route stores and publishes, meanwhile
            with state.transaction() as session:
                session.add(PartialDecryptionRow(election_id=eid, index=late.index, body=body))
                state.publish(session, eid, "partial_decryption", {"index": late.index, **body})
        return combine(*args, **kwargs)

    monkeypatch.setattr(jobs_handlers, "combine_decryption", combine_while_another_arrives)
    _decrypt(client, t)
    assert calls[0] > len(scopes)  # the decryption was computed again, with the late one
    kinds = [e["kind"] for e in _entries(_board(client, eid))]
    assert kinds.count("guardian") == 3 and kinds.count("partial_decryption") == 3
    assert kinds.count("protocol") == 1

    verifier = _record(client, eid, tmp_path)
    details = {c.name: c.detail for c in verifier.checks}
    assert "1 station protocols" in details["bulletin board: hash chain and signed checkpoints"]
    matched = details["record matches the board (ballots, closing codes, tallies, results)"]
    assert "3 guardian records, 3 guardians' partial decryptions" in matched
