"""The API fuzzed with schemathesis: every operation, as every role, with the election in every phase.

No answer may be a 5xx, and each must have a declared status code, content type and body schema
(``saylau.api.schemas*``). The short run (``make test``) sends a few requests per operation, role and
generation mode; the long run (``make test-slow``) many more. Each writes its figures to
``build/fuzz/<phase>-<backend>.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ..conftest import TestClient
from .harness import Report, fuzz
from .world import PHASES, ROLES, build

SHORT_EXAMPLES = int(os.environ.get("SAYLAU_FUZZ_EXAMPLES", "1"))
"""Requests per operation, role and generation mode in ``make test`` (about 770 per phase and backend)."""
LONG_EXAMPLES = 10
FUZZ_ROLES = tuple(r for r in os.environ.get("SAYLAU_FUZZ_ROLES", ",".join(ROLES)).split(",") if r in ROLES)
"""All roles, unless ``SAYLAU_FUZZ_ROLES`` names some (``cec,station``: to chase one failure faster)."""
OUT = Path(__file__).resolve().parents[3] / "build" / "fuzz"


def _run(client: TestClient, database: Any, phase: str, examples: int, tag: str) -> Report:
    world = build(client, phase)
    report = fuzz(client, world, FUZZ_ROLES, examples)
    OUT.mkdir(parents=True, exist_ok=True)
    figures = {
        "phase": phase,
        "backend": database.backend,
        "examples_per_mode": examples,
        "operations_per_role": report.operations,
        "requests_per_role": report.requests,
        "statuses": {str(k): v for k, v in sorted(report.statuses.items())},
        "failures": len(report.failures),
        "failed": [f[:600] for f in report.failures],
        "seconds": round(report.seconds, 1),
    }
    (OUT / f"{tag}-{phase}-{database.backend}.json").write_text(json.dumps(figures, indent=2))
    return report


def _check(report: Report) -> None:
    assert not report.failures, f"{len(report.failures)} failing operation(s):\n\n" + "\n\n".join(
        report.failures
    )


@pytest.mark.parametrize("phase", PHASES)
def test_fuzz_every_operation_and_role(client: TestClient, database: Any, phase: str) -> None:
    _check(_run(client, database, phase, SHORT_EXAMPLES, "short"))


@pytest.mark.slow
@pytest.mark.parametrize("phase", PHASES)
def test_fuzz_every_operation_and_role_long(client: TestClient, database: Any, phase: str) -> None:
    _check(_run(client, database, phase, LONG_EXAMPLES, "long"))
