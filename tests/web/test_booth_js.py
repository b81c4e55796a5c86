"""The browser booth's JavaScript, checked from Python: its ballots pass saylau's own verifier.

``tests/web/js/`` holds node's tests (``node --test tests/web/js/``, run by ``make test``), which replay
``tests/vectors/booth-v1.json``. Here node encrypts fresh ballots with the CSPRNG, and Python's
``verify_ballot``, ``verify_device_chain`` and ``verify_challenged_ballot`` must accept them, byte for byte
in their canonical form, and refuse a tampered copy.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from saylau.crypto import (
    ChallengedBallot,
    ContestSpec,
    DeviceChain,
    ElectionParameters,
    EncryptedBallot,
    run_key_ceremony,
    verify_ballot,
    verify_challenged_ballot,
    verify_device_chain,
)
from saylau.errors import InvalidBallot

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "web" / "js" / "encrypt_stdin.mjs"
KZ = ("abden", "auesbayev", "dairabayev", "kazhyken", "tokayev", "tursynbekova", "against_all")


def run_node(script: Path, payload: dict[str, Any]) -> Any:
    """Run a node script with ``payload`` on stdin; return its JSON output (fail with its stderr)."""
    node = shutil.which("node")
    assert node, "node is not installed (Debian package nodejs); the booth's JavaScript cannot be tested"
    assert (ROOT / "node_modules" / "@noble" / "curves").is_dir(), "run `make js` (npm ci) first"
    proc = subprocess.run(
        [node, str(script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def election() -> tuple[ElectionParameters, dict[str, Any]]:
    base_hash = hashlib.sha256(b"test_booth_js").digest()
    _, key = run_key_ceremony(3, 2, base_hash, random.Random(7))
    params = ElectionParameters(
        base_hash,
        key,
        (ContestSpec("president", KZ, 1), ContestSpec("council", ("c1", "c2", "c3", "c4"), 2)),
    )
    styles = {
        "ballot": {"style_id": "ballot", "contest_ids": ["president"]},
        "local": {"style_id": "local", "contest_ids": ["president", "council"]},
    }
    return params, styles


@pytest.fixture(scope="module")
def js_ballots(election: tuple[ElectionParameters, dict[str, Any]]) -> tuple[str, Any]:
    params, styles = election
    device_id = "st-0001-booth-1"
    tag = hashlib.sha256(b"a remote voter").hexdigest()
    requests = [
        {"ballot_id": f"{device_id}-000000", "style_id": "ballot", "choices": {"president": ["tokayev"]}},
        {
            "ballot_id": f"{device_id}-000001",
            "style_id": "ballot",
            "choices": {"president": ["against_all"]},
            "challenge": True,
        },
        {
            "ballot_id": f"{device_id}-000002",
            "style_id": "ballot",
            "choices": {"president": ["abden"]},
            "revote_tag": tag,
        },
        {
            "ballot_id": f"{device_id}-000003",
            "style_id": "local",
            "choices": {"president": ["kazhyken"], "council": ["c1", "c4"]},
            "challenge": True,
        },
    ]
    payload = {
        "election": params.to_dict(),
        "styles": styles,
        "device_opening_code": DeviceChain(device_id, params.base_hash).opening_code.hex(),
        "requests": requests,
    }
    return device_id, run_node(SCRIPT, payload)


def test_python_verifies_ballots_encrypted_by_the_booth(
    election: tuple[ElectionParameters, dict[str, Any]], js_ballots: tuple[str, Any]
) -> None:
    params, _ = election
    device_id, out = js_ballots
    ballots = [EncryptedBallot.from_dict(b) for b in out["ballots"]]
    for raw, ballot in zip(out["ballots"], ballots, strict=True):
        verify_ballot(params, ballot)
        assert rfc8785.dumps(ballot.to_dict()) == rfc8785.dumps(raw)
    assert ballots[2].revote_tag == hashlib.sha256(b"a remote voter").digest()
    assert ballots[0].revote_tag is None
    chain = DeviceChain(device_id, params.base_hash)
    for b in ballots:
        chain.next(b.crypto_hash())
    verify_device_chain(device_id, params.base_hash, ballots, chain.close())


def test_python_verifies_the_booths_challenge_openings(
    election: tuple[ElectionParameters, dict[str, Any]], js_ballots: tuple[str, Any]
) -> None:
    params, _ = election
    _, out = js_ballots
    assert len(out["openings"]) == 2
    for raw in out["openings"]:
        opened = ChallengedBallot.from_dict(raw)
        verify_challenged_ballot(params, opened)
        assert rfc8785.dumps(opened.to_dict()) == rfc8785.dumps(raw)
    assert out["openings"][0]["choices"] == {"president": ["against_all"]}
    assert out["openings"][1]["ballot"] == out["ballots"][3]


def test_a_tampered_booth_ballot_or_opening_is_refused(
    election: tuple[ElectionParameters, dict[str, Any]], js_ballots: tuple[str, Any]
) -> None:
    params, _ = election
    _, out = js_ballots
    ballot = json.loads(json.dumps(out["ballots"][0]))
    sel = ballot["contests"][0]["selections"]
    sel[0]["proof"]["responses"][0], sel[1]["proof"]["responses"][0] = (
        sel[1]["proof"]["responses"][0],
        sel[0]["proof"]["responses"][0],
    )
    with pytest.raises(InvalidBallot, match="range proof"):
        verify_ballot(params, EncryptedBallot.from_dict(ballot))
    opening = json.loads(json.dumps(out["openings"][0]))
    opening["choices"] = {"president": ["tokayev"]}
    with pytest.raises(InvalidBallot, match="does not re-encrypt"):
        verify_challenged_ballot(params, ChallengedBallot.from_dict(opening))


def test_booth_vectors_are_what_the_script_writes_today() -> None:
    path = ROOT / "tests" / "vectors" / "make_booth_vectors.py"
    spec = importlib.util.spec_from_file_location("make_booth_vectors", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "tests" / "vectors" / "booth-v1.json").read_text(encoding="utf-8")
    assert module.dumps(module.build()) == committed, "re-run tests/vectors/make_booth_vectors.py on purpose"
