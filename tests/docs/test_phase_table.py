"""docs/api.md's table of which action is allowed in which phase is what the server does.

One election is driven through ``setup → open → closed → tallied → decrypted`` on SQLite and
PostgreSQL; in each phase every action of the table is tried with a request that is otherwise valid
enough to reach the phase check. An action the table marks ✓ must not be refused for its phase; one it
marks – must be refused with 409 naming the phase (or, once decrypted, the closed board). The actions
that move the election on (open, close, tally, decrypt) are tried last in their phase.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.conftest import (  # the API tests' server fixture and helpers
    STATIONS,
    VOTERS,
    P,
    TestClient,
    client,  # noqa: F401  (a fixture)
    roll_csv,
    setup_election,
    wait_job,
)
from saylau.crypto import EncryptedTally, partial_decrypt
from saylau.election.protocols import ProtocolFigures, public_key_hex, sign_protocol
from saylau.voting.device import VotingDevice

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
PHASES = ("setup", "open", "closed", "tallied", "decrypted")
TRANSITIONS = {
    "POST .../open": "setup",
    "POST .../close": "open",
    "POST .../tally": "closed",
    "POST .../decrypt": "tallied",
}


def phase_table() -> dict[str, dict[str, bool]]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- phase-table -->", 1)[1].split("<!-- /phase-table -->", 1)[0]
    rows: dict[str, dict[str, bool]] = {}
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 2 + len(PHASES), line
        endpoint = cells[1].strip("`")
        marks = cells[2:]
        assert all(m in ("✓", "–") for m in marks), line
        rows[endpoint] = {p: m == "✓" for p, m in zip(PHASES, marks, strict=True)}
    return rows


def _phase_refusal(r: Any) -> bool:
    if r.status_code != 409:
        return False
    detail = r.json().get("detail", "")
    return "phase is" in detail or "closed by its final checkpoint" in detail


def test_the_phase_table_is_the_servers(client: TestClient) -> None:  # noqa: F811
    table = phase_table()
    el = setup_election(client, open_it=False)
    assert el.params is not None
    e, cec, st, g1 = el.id, el.h["cec"], el.h["station1"], el.h["guardian1"]
    device = VotingDevice(el.params, "st-1-d1", "st-1")
    key = Ed25519PrivateKey.generate()
    assert (
        client.post(
            f"{P}/elections/{e}/stations/st-1/key",
            json={"public_key": public_key_hex(key.public_key())},
            headers=cec,
        ).status_code
        == 200
    )
    state: dict[str, Any] = {"credential": None, "ballot": None, "protocols": []}

    def protocol() -> dict[str, Any]:
        figures = ProtocolFigures(
            station="st-1",
            registered=4,
            ballots_received=1,
            ballots_issued=1,
            ballots_unused=0,
            ballots_spoiled=0,
            ballots_in_boxes=1,
            valid=1,
            invalid=0,
            votes={"cand-a": 1, "cand-b": 0, "against-all": 0},
        )
        done = state["protocols"]
        signed = sign_protocol(
            figures,
            key,
            election_id=e,
            signed_at=datetime.now(UTC),
            version=len(done) + 1,
            supersedes=done[-1].protocol_hash() if done else None,
            reason="recounted" if done else "",
        )
        state["pending"] = signed
        return signed.model_dump(mode="json")

    def checkin() -> Any:
        r = client.post(f"{P}/elections/{e}/stations/st-1/checkin", json={"voter_id": VOTERS[2]}, headers=st)
        if r.status_code == 201:
            state["credential"] = {"Authorization": f"Bearer {r.json()['credential']}"}
        return r

    def cast() -> Any:
        if state["credential"] is None:  # no voter can be checked in before voting opens: a voter token
            return checkin()  # does not exist yet, and the check-in itself is refused for the phase
        if state["ballot"] is None:
            pending = device.encrypt({"president": ["cand-a"]}, "main")
            device.cast(pending)
            state["ballot"] = pending.ballot.to_dict()
        return client.post(
            f"{P}/elections/{e}/ballots",
            json={"ballot": state["ballot"], "device_id": "st-1-d1"},
            headers=state["credential"],
        )

    def submit_protocol() -> Any:
        r = client.post(f"{P}/elections/{e}/stations/st-1/protocols", json=protocol(), headers=st)
        if r.status_code == 201:
            state["protocols"].append(state["pending"])
        return r

    def tally() -> Any:
        r = client.post(f"{P}/elections/{e}/tally", headers=cec)
        if r.status_code == 202:
            assert wait_job(client, cec, r.json()["id"])["state"] == "succeeded"
        return r

    def decrypt() -> Any:
        r = client.post(f"{P}/elections/{e}/decrypt", headers=cec)
        if r.status_code == 202:
            assert wait_job(client, cec, r.json()["id"])["state"] == "succeeded"
        return r

    def partial() -> Any:
        junk = {"partials": [{"scope": "nation", "scope_id": "x", "partial": {}}]}
        r = client.post(f"{P}/elections/{e}/guardians/1/partial-decryption", json=junk, headers=g1)
        if not _phase_refusal(r):  # allowed: now the real ones of a quorum, so the decryption can run
            scopes = client.get(f"{P}/elections/{e}/tally").json()["scopes"]
            for g in el.guardians[:2]:
                body = {
                    "partials": [
                        {
                            "scope": s["scope"],
                            "scope_id": s["scope_id"],
                            "partial": partial_decrypt(
                                g, EncryptedTally.from_dict(s["encrypted"]), published=el.params
                            ).to_dict(),
                        }
                        for s in scopes
                    ]
                }
                ok = client.post(
                    f"{P}/elections/{e}/guardians/{g.index}/partial-decryption",
                    json=body,
                    headers=el.h[f"guardian{g.index}"],
                )
                assert ok.status_code == 201, ok.text
        return r

    design = {"stations": [{"station_id": s, "stratum": "r1", "pi": 1.0} for s in STATIONS]}
    probes: dict[str, Callable[[str], Any]] = {
        "POST .../guardians/{i}/record": lambda ph: client.post(
            f"{P}/elections/{e}/guardians/1/record",
            json={"record": el.guardians[0].public_record().to_dict()},
            headers=g1,
        ),
        "POST .../guardians/{i}/shares": lambda ph: client.post(
            f"{P}/elections/{e}/guardians/1/shares",
            json={"shares": [{"recipient": 2, "share": {}}]},
            headers=g1,
        ),
        "POST .../key": lambda ph: client.post(f"{P}/elections/{e}/key", headers=cec),
        "POST .../roll": lambda ph: client.post(
            f"{P}/elections/{e}/roll", content=roll_csv(), headers={**cec, "Content-Type": "text/csv"}
        ),
        "POST .../transfers": lambda ph: client.post(
            f"{P}/elections/{e}/transfers", json={"voter_id": VOTERS[8], "to_station": "st-2"}, headers=cec
        ),
        "POST .../remote-credentials": lambda ph: client.post(
            f"{P}/elections/{e}/remote-credentials", json={"voter_id": VOTERS[9]}, headers=cec
        ),
        "POST .../stations/{s}/devices": lambda ph: client.post(
            f"{P}/elections/{e}/stations/st-1/devices",
            json={"device_id": "st-1-d1" if ph == "setup" else f"st-1-{ph}"},
            headers=st,
        ),
        "PUT .../exit-polls/design": lambda ph: client.put(
            f"{P}/elections/{e}/exit-polls/design", json=design, headers=el.h["pollster"]
        ),
        "POST .../open": lambda ph: client.post(f"{P}/elections/{e}/open", headers=cec),
        "POST .../stations/{s}/checkin": lambda ph: checkin(),
        "POST .../ballots": lambda ph: cast(),
        "POST .../stations/{s}/turnout": lambda ph: client.post(
            f"{P}/elections/{e}/stations/st-1/turnout",
            json={"at": "2022-11-20T12:00:00+06:00", "voted": 1},
            headers=st,
        ),
        "POST .../exit-polls": lambda ph: client.post(
            f"{P}/elections/{e}/exit-polls",
            json={"interviews": [{"station_id": "st-1", "answer": "cand-a"}]},
            headers=el.h["pollster"],
        ),
        "POST .../close": lambda ph: client.post(f"{P}/elections/{e}/close", headers=cec),
        "POST .../stations/{s}/protocols": lambda ph: submit_protocol(),
        "POST .../tally": lambda ph: tally(),
        "POST .../guardians/{i}/partial-decryption": lambda ph: partial(),
        "POST .../decrypt": lambda ph: decrypt(),
    }
    assert set(table) == set(probes), f"table rows {sorted(set(table) ^ set(probes))} have no probe or no row"
    for phase in PHASES:
        assert client.get(f"{P}/elections/{e}").json()["phase"] == phase
        ordered = sorted(table, key=lambda ep: TRANSITIONS.get(ep) == phase)  # the phase's own move last
        for endpoint in ordered:
            r = probes[endpoint](phase)
            refused = _phase_refusal(r)
            expect = table[endpoint][phase]
            assert refused != expect, (
                f"docs/api.md says {endpoint} is {'allowed' if expect else 'refused'} in phase {phase}; the "
                f"server answered {r.status_code} {r.text[:300]}"
            )
    assert re.search(r"phase is 'decrypted'", client.post(f"{P}/elections/{e}/close", headers=cec).text)
