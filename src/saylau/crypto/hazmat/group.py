"""The secp256k1 group, written multiplicatively as in the ElectionGuard 2.0 specification (§3.1).

ElectionGuard 2.0 works in a subgroup of Z_p^* of prime order ``q`` with generator ``g``; saylau moves the
same constructions to the secp256k1 curve (prime order, cofactor 1), where the group operation is point
addition and "exponentiation" ``g^k`` is scalar multiplication. All curve arithmetic is done by
libsecp256k1 through coincurve's cffi layer; this module only wraps it:

* ``Point`` is immutable and hashable and, unlike coincurve, represents the identity (the point at
  infinity) explicitly, so ``P * P.inverse() == IDENTITY`` and ``IDENTITY ** k == IDENTITY`` hold.
* Scalars are plain Python ints reduced mod ``Q``.
* Encoding: a point is 33 bytes, SEC1 compressed (``02``/``03`` prefix and the x coordinate); the identity
  is encoded as 33 zero bytes (SEC1 uses a single zero byte; a fixed length keeps records regular). Decoding
  is strict: wrong length, an unknown prefix, ``x >= p`` or an x with no point on the curve all raise.

Constant-time library calls (``pubkey_create``, ``tweak_mul``) are used for every exponent that may be
secret. ``OPS`` counts library calls so that benchmarks can report group operations per ballot.
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Final

from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

__all__ = [
    "IDENTITY",
    "OPS",
    "POINT_BYTES",
    "SCALAR_BYTES",
    "G",
    "OpCounter",
    "Point",
    "Q",
    "combine",
    "g_pow",
    "random_scalar",
    "scalar_from_hex",
    "scalar_to_bytes",
    "scalar_to_hex",
]

Q: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""Order of the secp256k1 group (the spec's ``q``)."""

POINT_BYTES: Final = 33
SCALAR_BYTES: Final = 32
_IDENTITY_BYTES: Final = bytes(POINT_BYTES)
_SCALAR_HEX: Final = re.compile(r"[0-9a-f]{64}")
_POINT_HEX: Final = re.compile(r"[0-9a-f]{66}")
_CTX = GLOBAL_CONTEXT.ctx
_COMPRESSED = lib.SECP256K1_EC_COMPRESSED


@dataclass
class OpCounter:
    """Counts libsecp256k1 group operations; cheap enough to leave on (read and reset by benchmarks)."""

    base_exp: int = 0
    """fixed-base exponentiations g^k with the constant-time generator multiply"""
    var_exp: int = 0
    """variable-base exponentiations P^k (constant-time ``tweak_mul``)"""
    combine: int = 0
    """multi-point products (one ``pubkey_combine`` call each)"""
    combine_points: int = 0
    """points fed to those products in total"""
    table_exp: int = 0
    """exponentiations done by fixed-base table lookups inside a product"""

    def reset(self) -> None:
        """Set every counter back to zero."""
        self.base_exp = self.var_exp = self.combine = self.combine_points = self.table_exp = 0

    def snapshot(self) -> dict[str, int]:
        """Return the counters as a plain dict."""
        return {
            "base_exp": self.base_exp,
            "var_exp": self.var_exp,
            "combine": self.combine,
            "combine_points": self.combine_points,
            "table_exp": self.table_exp,
        }


OPS: Final = OpCounter()


def scalar_to_bytes(k: int) -> bytes:
    """Return the 32-byte big-endian encoding of ``k mod Q``."""
    return (k % Q).to_bytes(SCALAR_BYTES, "big")


def scalar_to_hex(k: int) -> str:
    """Return the canonical form of a scalar in records: 64 lowercase hex digits."""
    if not 0 <= k < Q:
        raise ValueError(f"scalar out of range [0, q): {k}")
    return k.to_bytes(SCALAR_BYTES, "big").hex()


def scalar_from_hex(text: str, what: str = "scalar") -> int:
    """Parse a canonical scalar (64 lowercase hex digits, value below ``Q``); raise ``ValueError`` if not."""
    if not isinstance(text, str) or _SCALAR_HEX.fullmatch(text) is None:
        raise ValueError(f"{what}: expected 64 lowercase hex digits, got {text!r:.80}")
    k = int(text, 16)
    if k >= Q:
        raise ValueError(f"{what}: value is not below the group order q")
    return k


def random_scalar() -> int:
    """Return a scalar in [1, Q) from the OS CSPRNG (FIPS 186-5 A.2.1: 64 extra bits, bias < 2^-64)."""
    return int.from_bytes(secrets.token_bytes(40), "big") % (Q - 1) + 1


class _Buffers(threading.local):
    """Per-thread output buffers for serialization (cffi releases the GIL during library calls)."""

    def __init__(self) -> None:
        self.out = ffi.new("unsigned char[33]")
        self.size = ffi.new("size_t *", POINT_BYTES)
        self.view = ffi.buffer(self.out, POINT_BYTES)


_TLS = _Buffers()


def _buffers() -> _Buffers:
    return _TLS


class Point:
    """An element of the secp256k1 group, written multiplicatively (``*`` is the group operation).

    ``P * R`` adds points, ``P ** k`` multiplies by a scalar, ``P.inverse()`` negates, ``P / R`` is
    ``P * R.inverse()``. Instances never change after construction; the identity has ``_c is None``.
    """

    __slots__ = ("_c", "_enc")

    _c: Any
    _enc: bytes | None

    def __init__(self) -> None:
        raise TypeError("build points with Point.from_bytes, Point.from_hex, G ** k or group operations")

    @classmethod
    def _wrap(cls, c: Any, enc: bytes | None = None) -> Point:
        p = object.__new__(cls)
        object.__setattr__(p, "_c", c)
        object.__setattr__(p, "_enc", enc)
        return p

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Point is immutable")

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (Point.from_bytes, (self.to_bytes(),))

    # -- encoding ---------------------------------------------------------------------------------------
    @classmethod
    def from_bytes(cls, data: bytes) -> Point:
        """Decode 33 bytes strictly; raise ``ValueError`` naming the fault for a non-element."""
        if not isinstance(data, bytes | bytearray) or len(data) != POINT_BYTES:
            raise ValueError(f"point: expected {POINT_BYTES} bytes, got {len(data)}")
        data = bytes(data)
        if data == _IDENTITY_BYTES:
            return IDENTITY
        if data[0] not in (2, 3):
            raise ValueError(f"point: bad prefix byte 0x{data[0]:02x} (expected 02 or 03)")
        c = ffi.new("secp256k1_pubkey *")
        if not lib.secp256k1_ec_pubkey_parse(_CTX, c, data, POINT_BYTES):
            raise ValueError("point: x coordinate is not on secp256k1 (or not below p)")
        return cls._wrap(c, data)

    @classmethod
    def from_hex(cls, text: str, what: str = "point") -> Point:
        """Decode the canonical record form: 66 lowercase hex digits."""
        if not isinstance(text, str) or _POINT_HEX.fullmatch(text) is None:
            raise ValueError(f"{what}: expected 66 lowercase hex digits, got {text!r:.80}")
        try:
            return cls.from_bytes(bytes.fromhex(text))
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from exc

    def to_bytes(self) -> bytes:
        """Return the 33-byte canonical encoding (cached)."""
        enc = self._enc
        if enc is None:
            if self._c is None:
                enc = _IDENTITY_BYTES
            else:
                bufs = _buffers()
                bufs.size[0] = POINT_BYTES
                lib.secp256k1_ec_pubkey_serialize(_CTX, bufs.out, bufs.size, self._c, _COMPRESSED)
                enc = bufs.view[:]
            object.__setattr__(self, "_enc", enc)
        return enc

    def hex(self) -> str:
        """Return the canonical record form (66 lowercase hex digits)."""
        return self.to_bytes().hex()

    # -- group law --------------------------------------------------------------------------------------
    @property
    def is_identity(self) -> bool:
        """True for the identity element (the point at infinity)."""
        return self._c is None

    def __mul__(self, other: Point) -> Point:
        if not isinstance(other, Point):
            return NotImplemented
        return combine((self, other))

    def __truediv__(self, other: Point) -> Point:
        if not isinstance(other, Point):
            return NotImplemented
        return combine((self, other.inverse()))

    def inverse(self) -> Point:
        """Return the group inverse (the negated point)."""
        if self._c is None:
            return self
        c = ffi.new("secp256k1_pubkey *")
        ffi.memmove(c, self._c, 64)
        lib.secp256k1_ec_pubkey_negate(_CTX, c)
        return Point._wrap(c)

    def __pow__(self, k: int) -> Point:
        """Return ``self^k`` with libsecp256k1's constant-time multiply (safe for secret ``k``)."""
        if not isinstance(k, int):
            return NotImplemented
        k %= Q
        if k == 0 or self._c is None:
            return IDENTITY
        c = ffi.new("secp256k1_pubkey *")
        ffi.memmove(c, self._c, 64)
        OPS.var_exp += 1
        if not lib.secp256k1_ec_pubkey_tweak_mul(_CTX, c, k.to_bytes(32, "big")):  # pragma: no cover
            raise ValueError("tweak_mul rejected a scalar in [1, q)")
        return Point._wrap(c)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Point):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return "Point(identity)" if self._c is None else f"Point({self.hex()})"


IDENTITY: Final = Point._wrap(None, _IDENTITY_BYTES)
"""The identity element: ``P * IDENTITY == P``; encoded as 33 zero bytes."""


def g_pow(k: int) -> Point:
    """Return ``g^k`` with the constant-time generator multiply (safe for secret ``k``)."""
    k %= Q
    if k == 0:
        return IDENTITY
    c = ffi.new("secp256k1_pubkey *")
    OPS.base_exp += 1
    if not lib.secp256k1_ec_pubkey_create(_CTX, c, k.to_bytes(32, "big")):  # pragma: no cover
        raise ValueError("pubkey_create rejected a scalar in [1, q)")
    return Point._wrap(c)


def _combine_raw(ptrs: list[Any]) -> Point:
    """Sum raw ``secp256k1_pubkey *`` values in one library call; an empty or zero sum is the identity.

    ``None`` entries (identity elements, zero table digits) are skipped.
    """
    if None in ptrs:
        ptrs = [p for p in ptrs if p is not None]
    n = len(ptrs)
    if n == 0:
        return IDENTITY
    if n == 1:
        c = ffi.new("secp256k1_pubkey *")
        ffi.memmove(c, ptrs[0], 64)
        return Point._wrap(c)
    out = ffi.new("secp256k1_pubkey *")
    OPS.combine += 1
    OPS.combine_points += n
    if lib.secp256k1_ec_pubkey_combine(_CTX, out, ffi.new("secp256k1_pubkey *[]", ptrs), n):
        return Point._wrap(out)
    return IDENTITY  # libsecp256k1 reports a sum equal to the point at infinity as failure


def combine(points: Any) -> Point:
    """Return the product of an iterable of points in one library call (identities are skipped)."""
    return _combine_raw([p._c for p in points if p._c is not None])


G: Final = g_pow(1)
"""The generator ``g`` of secp256k1."""
OPS.reset()
