"""Fixed-base tables and multi-exponentiation for verification (public values only).

Verifying an ElectionGuard 2.0 proof (§3.3.5, §3.6.3) recomputes commitments such as ``g^v · α^c`` and
``K^w · β^c``. This module is an *exponentiation schedule* on top of libsecp256k1's own group operation, not
field or curve arithmetic: for a base ``B`` it stores the 32 × 255 points ``d · 256^i · B``, built once with
the library's point addition and cached, so that ``B^v`` is the product of at most 32 stored points. A whole
expression ``g^v · K^w · P_1 · … · P_m`` then costs one ``secp256k1_ec_pubkey_combine`` call.

Table lookups depend on the exponent, so these routines are **variable-time** and must only see public
exponents (verification, public derivations). Anything involving a secret uses ``group.g_pow`` or
``Point.__pow__``, which are constant-time library calls.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from coincurve._libsecp256k1 import ffi, lib

from saylau.crypto.hazmat.group import _CTX, OPS, G, Point, Q, _combine_raw

__all__ = ["FixedBaseTable", "g_table", "multi_exp", "table_for"]

_WINDOWS: Final = 32
_DIGITS: Final = 256
_CACHE_SIZE: Final = 24  # g, K and up to ~20 guardian verification keys (≈1 MB each)


class FixedBaseTable:
    """Precomputed multiples ``d · 256^i · base`` (i < 32, 1 ≤ d < 256) of one base point."""

    __slots__ = ("_array", "_rows", "base")

    def __init__(self, base: Point) -> None:
        if base.is_identity:
            raise ValueError("fixed-base table: the base must not be the identity")
        self.base = base
        size = _WINDOWS * _DIGITS
        self._array = ffi.new("secp256k1_pubkey[]", size)
        arr = self._array
        ins = ffi.new("secp256k1_pubkey *[2]")
        step = arr + 1
        ffi.memmove(step, base._c, 64)
        rows: list[list[Any]] = []
        for i in range(_WINDOWS):
            row: list[Any] = [None]
            first = arr + (i * _DIGITS + 1)
            if i:
                ffi.memmove(first, step, 64)
            row.append(first)
            for d in range(2, _DIGITS):
                slot = arr + (i * _DIGITS + d)
                ins[0] = row[-1]
                ins[1] = first
                if not lib.secp256k1_ec_pubkey_combine(_CTX, slot, ins, 2):  # pragma: no cover
                    raise ArithmeticError("fixed-base table: unexpected point at infinity")
                row.append(slot)
            # 256^(i+1) · base = 255 · 256^i · base + 256^i · base
            if i + 1 < _WINDOWS:
                step = arr + ((i + 1) * _DIGITS + 1)
                ins[0] = row[-1]
                ins[1] = first
                if not lib.secp256k1_ec_pubkey_combine(_CTX, step, ins, 2):  # pragma: no cover
                    raise ArithmeticError("fixed-base table: unexpected point at infinity")
            rows.append(row)
        self._rows = rows

    def pointers(self, k: int, out: list[Any]) -> None:
        """Append the table entries whose product is ``base^k`` to ``out`` (``k`` public).

        A zero digit selects ``None`` (row entry 0), which ``_combine_raw`` drops.
        """
        OPS.table_exp += 1
        out.extend(map(list.__getitem__, self._rows, (k % Q).to_bytes(32, "little")))

    def pow_mul(self, k: int, other: Point) -> Point:
        """Return ``base^k · other`` in one combine call (``k`` public)."""
        out: list[Any] = []
        self.pointers(k, out)
        out.append(other._c)
        return _combine_raw(out)

    def pow(self, k: int) -> Point:
        """Return ``base^k`` from the table (variable-time: public ``k`` only)."""
        out: list[Any] = []
        self.pointers(k, out)
        return _combine_raw(out)


_cache: dict[bytes, FixedBaseTable] = {}
_lock = threading.Lock()


def table_for(base: Point) -> FixedBaseTable:
    """Return the cached table for ``base``, building it (≈ 60 ms) on first use."""
    key = base.to_bytes()
    table = _cache.get(key)
    if table is None:
        with _lock:
            table = _cache.get(key)
            if table is None:
                table = FixedBaseTable(base)
                if len(_cache) >= _CACHE_SIZE:
                    _cache.pop(next(iter(_cache)))
                _cache[key] = table
    return table


_G_TABLE: FixedBaseTable | None = None


def g_table() -> FixedBaseTable:
    """The table for the generator ``g`` (built on first use)."""
    global _G_TABLE  # noqa: PLW0603 - one lazily built table for the generator
    if _G_TABLE is None:
        _G_TABLE = table_for(G)
    return _G_TABLE


def multi_exp(
    fixed: tuple[tuple[Point, int], ...] | list[tuple[Point, int]],
    extra: tuple[Point, ...] | list[Point] = (),
) -> Point:
    """Return ``Π base^k · Π extra`` with one combine call; bases come from cached tables.

    Variable-time: every exponent must be public. ``extra`` points are multiplied in as they are (use
    ``Point.__pow__`` for variable bases beforehand).
    """
    ptrs: list[Any] = []
    for base, k in fixed:
        table = g_table() if base is G else table_for(base)
        table.pointers(k, ptrs)
    for p in extra:
        if p._c is not None:
            ptrs.append(p._c)
    return _combine_raw(ptrs)
