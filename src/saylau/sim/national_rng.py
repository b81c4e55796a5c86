"""Reproducible randomness for the *simulated* national election, derived from its public seed.

Everything random in ``saylau simulate`` without ``--paper`` — voters' behaviour, but also the
encryption and proof nonces, the guardians' polynomials, the station and board signing keys — comes
from here, so that the same seed gives the same record byte for byte whichever executor ran it and
however often the run was interrupted. Each use gets its own stream:
``HKDF-SHA256(ikm = seed as 8 bytes, salt = "saylau/sim/national/v1", info = labels joined by 0x00)``
(RFC 5869, from ``cryptography``), 32 bytes, used directly as a key or as the seed of a
``random.Random`` that the crypto layer's ``rng`` parameters accept (``docs/crypto-api.md``).

**Simulation only.** Anyone who knows the seed can recompute every nonce and key, hence decrypt every
simulated ballot: that is what makes the run reproducible and useless as a real election. Real ballots
never come here: the server, the booth and ``saylau demo`` pass ``rng=None`` and draw from the OS
CSPRNG (``secrets``), and nothing outside ``saylau.sim.national*`` imports this module.
"""

from __future__ import annotations

import random

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["simulation_bytes", "simulation_random"]

_SALT = b"saylau/sim/national/v1"


def simulation_bytes(seed: int, *labels: str | int, length: int = 32) -> bytes:
    """``length`` bytes for the use named by ``labels`` (e.g. ``"nonces", "st-00042"``) under ``seed``."""
    if not 0 <= seed < 2**63:
        raise ValueError(f"simulation seed must be in 0..2^63-1, got {seed}")
    info = b"\x00".join(str(label).encode() for label in labels)
    kdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info)
    return kdf.derive(seed.to_bytes(8, "big"))


def simulation_random(seed: int, *labels: str | int) -> random.Random:
    """A ``random.Random`` seeded from ``simulation_bytes(seed, *labels)`` (not for real ballots)."""
    return random.Random(int.from_bytes(simulation_bytes(seed, *labels), "big"))
