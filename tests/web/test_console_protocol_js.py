"""The station console's protocol code (static/console/protocol.js) against saylau.election.protocols.

node signs protocols with the browser's module; Python must verify them, produce the very same
signature from the same key and body (Ed25519 is deterministic, so equal signatures mean equal signed
bytes), refuse a tampered copy, and agree with the script on which control relation fails first.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saylau.election.protocols import (
    RECONCILIATION,
    ProtocolFigures,
    SignedProtocol,
    StationFacts,
    check_protocol,
    reconcile,
    sign_protocol,
)
from saylau.errors import ProtocolRejected

from .test_booth_js import ROOT, run_node

SCRIPT = ROOT / "tests" / "web" / "js" / "sign_protocol_stdin.mjs"
OPTIONS = ["abden", "tokayev", "against_all", "ақжол-ü"]  # a non-ASCII id: canonical key order


def _figures(rng: random.Random) -> dict[str, Any]:
    """Figures that satisfy every relation, then (often) one or more broken at random."""
    votes = {o: rng.randint(0, 50) for o in OPTIONS}
    valid = sum(votes.values())
    invalid = rng.randint(0, 5)
    in_boxes = valid + invalid
    issued = in_boxes + rng.randint(0, 3)
    unused, spoiled = rng.randint(0, 40), rng.randint(0, 3)
    f = {"station": "st-1", "registered": issued + rng.randint(0, 30),
         "ballots_received": issued + unused + spoiled,
         "ballots_issued": issued, "ballots_unused": unused, "ballots_spoiled": spoiled,
         "ballots_in_boxes": in_boxes, "valid": valid, "invalid": invalid, "votes": votes}
    for _ in range(rng.choice((0, 1, 1, 2))):
        key = rng.choice([k for k in f if k != "station"] + ["votes"])
        if key == "votes":
            votes[rng.choice(OPTIONS)] += rng.choice((-60, 1, 7))
        else:
            f[key] += rng.choice((-200, -1, 1, 13))
    return f


def _signed_fields(figures: dict[str, Any], version: int = 1, supersedes: str | None = None,
                   reason: str = "") -> dict[str, Any]:
    return {"electionId": "e2022", "version": version, "supersedes": supersedes, "reason": reason,
            "signedAt": "2022-11-20T15:04:05Z", "figures": figures}


def test_signatures_from_the_browser_verify_in_python_byte_for_byte() -> None:
    keys = [Ed25519PrivateKey.generate() for _ in range(2)]
    secrets = [k.private_bytes_raw().hex() for k in keys]
    good = {"station": "st-1", "registered": 500, "ballots_received": 450, "ballots_issued": 300,
            "ballots_unused": 140, "ballots_spoiled": 10, "ballots_in_boxes": 298, "valid": 290, "invalid": 8,
            "votes": {"abden": 10, "tokayev": 250, "against_all": 20, "ақжол-ü": 10}}
    reason = 'Қате: "tokayev" 250, not 205 — ошибка ✓ \U0001f5f3'
    out = run_node(SCRIPT, {"sign": [{"secret_key": secrets[0], "fields": _signed_fields(good)},
                                     {"secret_key": secrets[1],
                                      "fields": _signed_fields(good, 2, "ab" * 32, reason)}],
                            "relations": [], "canonical": []})
    for key, doc, pub in zip(keys, out["signed"], out["public_keys"], strict=True):
        p = SignedProtocol.model_validate(doc)
        assert pub == p.signer
        p.verify(key.public_key())  # raises if Python's signed bytes differ from the browser's
        assert p.model_dump(mode="json") == doc  # the server stores what the browser signed, unchanged
        again = sign_protocol(p.figures, key, election_id="e2022", signed_at=p.signed_at, version=p.version,
                              supersedes=p.supersedes, reason=p.reason)
        assert again.signature == doc["signature"]
        tampered = dict(doc, figures=dict(doc["figures"], valid=291))
        with pytest.raises(ProtocolRejected, match="signature does not verify"):
            SignedProtocol.model_validate(tampered).verify(key.public_key())
    signed_at = SignedProtocol.model_validate(out["signed"][1]).signed_at
    assert signed_at == datetime(2022, 11, 20, 15, 4, 5, tzinfo=UTC)


def test_canonical_json_is_rfc8785() -> None:
    values: list[Any] = [
        {"b": 1, "a": [None, True, False, 0, -7, 2**53 - 1], "é": "x", "\U0001f600": "y", "\uff61": "z",
         "": {"nested": "\u2028\u0007\"\\/"}},
        "Сайлау 2022 — «кандидат»",
        [],
        {},
    ]
    out = run_node(SCRIPT, {"sign": [], "relations": [], "canonical": values})
    assert out["canonical"] == [rfc8785.dumps(v).decode() for v in values]


def _python_failure(f: dict[str, Any], facts: StationFacts) -> str | None:
    """The first relation Python refuses, as named in its message (``None``: accepted)."""
    try:
        p = ProtocolFigures.model_validate(f)
        check_protocol(p, OPTIONS)
        reconcile(p, facts)
    except ProtocolRejected as exc:
        return str(exc).split("relation '", 1)[1].split("' fails", 1)[0]
    return None


def test_the_form_flags_the_relation_the_server_refuses() -> None:
    rng = random.Random(20221120)
    cases = []
    for _ in range(300):
        f = _figures(rng)
        facts = StationFacts("st-1", f["registered"] + rng.choice((0, 0, 0, 1)), 0, 0, 0,
                             f["ballots_issued"] + rng.choice((0, 0, 2, -1)), 0)
        cases.append((f, facts))
    out = run_node(SCRIPT, {"sign": [], "canonical": [], "relations": [
        {"figures": f, "options": OPTIONS,
         "facts": {"registered": facts.registered, "checked_in": facts.checked_in}}
        for f, facts in cases]})
    broken = 0
    for (f, facts), failing in zip(cases, out["relations"], strict=True):
        expected = _python_failure(f, facts)
        names = [name for name, _ in failing]
        assert (names[0] if names else None) == expected, (f, facts, failing)
        if expected is not None:
            broken += 1
            if expected not in RECONCILIATION:  # the form shows the server's own numbers
                with pytest.raises(ProtocolRejected) as refused:
                    check_protocol(ProtocolFigures.model_validate(f), OPTIONS)
                assert str(refused.value).endswith(f"fails: {failing[0][1]}")
    assert 50 < broken < 300

