"""Shared fixtures: one small key ceremony and election parameters per test session."""

from __future__ import annotations

import hashlib

import pytest

from saylau.crypto import ContestSpec, ElectionParameters, Guardian, JointPublicKey, run_key_ceremony

BASE_HASH = hashlib.sha256(b"saylau test election").digest()
PRESIDENT = ContestSpec("president", (*(f"cand-{i}" for i in range(6)), "against-all"), 1)
COUNCIL = ContestSpec("council", ("a", "b", "c", "d"), 2, allow_undervote=True)


@pytest.fixture(scope="session")
def base_hash() -> bytes:
    return BASE_HASH


@pytest.fixture(scope="session")
def ceremony() -> tuple[list[Guardian], JointPublicKey]:
    return run_key_ceremony(5, 3, BASE_HASH)


@pytest.fixture(scope="session")
def params(ceremony: tuple[list[Guardian], JointPublicKey]) -> ElectionParameters:
    return ElectionParameters(BASE_HASH, ceremony[1], (PRESIDENT, COUNCIL))
