"""Per-term cost of a sum of scalar multiplications on coincurve from Python (issue 12, batch verification).

A random linear combination of proof equations is one sum ``g·G + Σ s_i·P_i``. coincurve has no
multi-scalar multiplication, so from Python the sum is n ``PublicKey.multiply`` (libsecp256k1's
``ec_pubkey_tweak_mul``), one ``PublicKey.from_secret`` for the generator term and one
``PublicKey.combine_keys`` (``ec_pubkey_combine``). This prints, for n terms, microseconds per term of:

- ``multiply``: one ``PublicKey.multiply`` (a variable-base scalar multiplication);
- ``combine``: ``PublicKey.combine_keys`` of n + 1 keys, per key;
- ``sum``: the whole sum as above, per term (what a batch verifier on coincurve pays);
- ``saylau``: the same sum through saylau's group layer (``Point ** k`` and ``combine``, raw cffi);
- ``weights``: the Python scalar work a batch adds per term (a 128-bit weight, ``r·c mod q``, to bytes);
- ``decode``: ``PublicKey`` of a 33-byte compressed point, per point (commitment-form proofs publish
  their commitments, which a batch verifier must decode).

Every sum is checked against ``from_secret(g + Σ s_i·x_i)``; a wrong one stops the run. CPU time, best of
``--rounds`` rounds, the process pinned to one core. The native figures to compare with (libsecp256k1's
own ``ecmult_multi_var``, which its public API does not expose) come from a C prototype kept outside
this repository, as saylau does no curve arithmetic of its own.

Usage: python benchmarks/bench_coincurve_terms.py [--sizes 1,16,45,...] [--rounds 5] [--min-terms N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import coincurve

from saylau.crypto.hazmat.group import Point, Q, combine, g_pow

SIZES = (1, 16, 45, 64, 256, 1024, 4096)


def _scalar() -> int:
    return secrets.randbelow(Q - 1) + 1


def _b(k: int) -> bytes:
    return k.to_bytes(32, "big")


class Terms:
    """``pool`` random terms (s_i, P_i = x_i·G) as coincurve keys, saylau points and their secrets."""

    def __init__(self, pool: int) -> None:
        self.secrets = [_scalar() for _ in range(pool)]
        self.scalars = [_scalar() for _ in range(pool)]
        self.scalar_bytes = [_b(s) for s in self.scalars]
        self.keys = [coincurve.PublicKey.from_secret(_b(x)) for x in self.secrets]
        self.encoded = [k.format() for k in self.keys]
        self.points = [Point.from_bytes(e) for e in self.encoded]

    def expected(self, lo: int, n: int, g: int) -> bytes:
        """``(g + Σ s_i·x_i)·G`` by the generator multiply: an independent route to the same sum."""
        total = (g + sum(s * x for s, x in zip(self.scalars[lo:lo + n], self.secrets[lo:lo + n],
                                               strict=True))) % Q
        return coincurve.PublicKey.from_secret(_b(total)).format()


def _best(fn: Callable[[int], Any], reps: int, rounds: int, n: int, span: int) -> float:
    """Best CPU seconds over ``rounds`` rounds of ``reps`` calls ``fn(offset)``, offsets in [0, span]."""
    best = float("inf")
    for r in range(rounds):
        t0 = time.process_time()
        for i in range(reps):
            fn((r * 7919 + i * n) % (span + 1))
        best = min(best, time.process_time() - t0)
    return best


def measure(n: int, terms: Terms, rounds: int, min_terms: int) -> dict[str, float]:
    """µs per term of each path for an n-term sum (plus one generator term)."""
    reps = max(1, min_terms // n)
    span = len(terms.keys) - n  # each call takes the n terms from an offset in [0, span]
    g = _scalar()
    gb = _b(g)
    keys, sb, pts, sc = terms.keys, terms.scalar_bytes, terms.points, terms.scalars

    def cc_sum(lo: int) -> bytes:
        prods = [keys[i].multiply(sb[i]) for i in range(lo, lo + n)]
        prods.append(coincurve.PublicKey.from_secret(gb))
        return coincurve.PublicKey.combine_keys(prods).format()

    def saylau_sum(lo: int) -> bytes:
        prods = [pts[i] ** sc[i] for i in range(lo, lo + n)]
        prods.append(g_pow(g))
        return combine(prods).to_bytes()

    for fn in (cc_sum, saylau_sum):  # the checks: each path's sum against the generator route
        for lo in (0, span // 2, span):
            if fn(lo) != terms.expected(lo, n, g):
                raise AssertionError(f"{fn.__name__}: wrong sum for n={n} at offset {lo}")

    def multiply(lo: int) -> None:
        for i in range(lo, lo + n):
            keys[i].multiply(sb[i])

    many = [keys[i].multiply(sb[i]) for i in range(n)] + [coincurve.PublicKey.from_secret(gb)]

    def combine_only(_: int) -> None:
        coincurve.PublicKey.combine_keys(many)

    def weights(lo: int) -> None:
        # what a batch verifier computes per term in Python: a weight r and the weighted scalar r·c mod q
        for i in range(lo, lo + n):
            r = secrets.randbits(128) | 1
            (r * sc[i] % Q).to_bytes(32, "big")

    enc = terms.encoded

    def decode(lo: int) -> None:
        for i in range(lo, lo + n):
            coincurve.PublicKey(enc[i])

    per = 1e6 / (reps * n)
    out = {"n": float(n), "reps": float(reps)}
    for name, fn in (("multiply", multiply), ("combine", combine_only), ("sum", cc_sum),
                     ("saylau", saylau_sum), ("weights", weights), ("decode", decode)):
        t = _best(fn, reps, rounds, n, span)
        out[name] = t * per * n / (n + 1) if name == "combine" else t * per
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="term counts, comma-separated")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--min-terms", type=int, default=4096, help="terms per timed round, at least")
    ap.add_argument("--json", action="store_true", help="print one JSON list only")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if not sizes or min(sizes) < 1:
        ap.error("--sizes: give positive term counts, e.g. 1,16,64")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    terms = Terms(2 * max(sizes))
    rows = [measure(n, terms, args.rounds, args.min_terms) for n in sizes]
    if args.json:
        print(json.dumps(rows))
        return
    print(f"coincurve {version('coincurve')} from Python, µs per term (CPU, best of {args.rounds}); "
          "every sum checked")
    cols = ("multiply", "combine", "sum", "saylau", "weights", "decode")
    print(f"{'n':>6} " + " ".join(f"{c:>9}" for c in cols))
    for row in rows:
        print(f"{int(row['n']):>6} " + " ".join(f"{row[c]:9.2f}" for c in cols))


if __name__ == "__main__":
    main()
