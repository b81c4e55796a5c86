"""Small discrete logarithms by baby-step giant-step, for decrypting tallies (EG 2.0 §3.6.1).

Decryption yields ``B^σ`` for a base ``B`` (the election key ``K`` in ElectionGuard 2.0's exponential
ElGamal, or ``g``) and a count ``σ`` no larger than the number of ballots. A table of ``B^j`` for
``0 ≤ j < m`` (``m = 2^14``) is built once per base with the library's point addition and cached; then at
most ``⌈max/m⌉`` giant steps find ``σ``: a national total of 12 million takes under 750 steps.
"""

from __future__ import annotations

import threading
from typing import Final

from saylau.crypto.hazmat.group import IDENTITY, Point
from saylau.errors import DecryptionError

__all__ = ["BABY_STEPS", "DLOG_LIMIT", "discrete_log"]

BABY_STEPS: Final = 1 << 14
DLOG_LIMIT: Final = 50_000_000
"""The largest ``max_value`` accepted (giant steps stay below ~3,100)."""

_tables: dict[bytes, dict[bytes, int]] = {}
_lock = threading.Lock()


def _baby_table(base: Point) -> dict[bytes, int]:
    key = base.to_bytes()
    table = _tables.get(key)
    if table is None:
        with _lock:
            table = _tables.get(key)
            if table is None:
                table = {}
                p = IDENTITY
                for j in range(BABY_STEPS):
                    table[p.to_bytes()] = j
                    p = p * base
                if len(_tables) >= 4:
                    _tables.pop(next(iter(_tables)))
                _tables[key] = table
    return table


def discrete_log(target: Point, base: Point, max_value: int) -> int:
    """Return ``σ`` in ``[0, max_value]`` with ``base^σ = target``; raise ``DecryptionError`` if none."""
    if base.is_identity:
        raise ValueError("discrete log: the base must not be the identity")
    if not 0 <= max_value <= DLOG_LIMIT:
        raise ValueError(f"discrete log: max_value {max_value} outside [0, {DLOG_LIMIT}]")
    table = _baby_table(base)
    giant = (base**BABY_STEPS).inverse()
    current = target
    for i in range(max_value // BABY_STEPS + 1):
        j = table.get(current.to_bytes())
        if j is not None:
            value = i * BABY_STEPS + j
            if value <= max_value:
                return value
            break
        current = current * giant
    raise DecryptionError(f"discrete log: no value in [0, {max_value}] gives this point")
