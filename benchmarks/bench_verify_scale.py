"""Record size and verification at scale (issue 12): bytes per ballot, verify ms per ballot, peak RSS, batch.

Prints, in one run:
- bytes of record per ballot (``saylau-record/2``, board included): the marginal cost between two record
  sizes (so the fixed files, tallies and manifest do not flatter small records), and the database's
  bytes per ballot as the schema stores them today;
- ``saylau verify`` milliseconds per ballot with 1 and 2 worker processes, and a resumed (``--state``)
  run after the last checkpoint before the close of voting;
- the peak RSS of a verification (a fresh process each) at both sizes: it must not grow with the ballots;
- batch verification: one random linear combination of many Chaum–Pedersen equations against checking
  them one by one, on coincurve (which has no multi-scalar multiplication), and with a native MSM of a
  vetted library as a reference point when one is importable (arkworks' BLS12-381 G1 through
  ``py-arkworks-bls12381``; another curve, so the reference only, not a choice);
- ElectionGuard 1.4.0's verification figure from ``benchmarks/peer_electionguard`` when its environment
  can be built (``--peer-ballots 0`` skips it).

Usage: python benchmarks/bench_verify_scale.py [--small N] [--large N] [--peer-ballots N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import coincurve

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peer_electionguard.run import run_peer  # noqa: E402
from saylau.record import format as fmt  # noqa: E402
from saylau.record.demo import run_demo  # noqa: E402
from saylau.sim.pilot import pilot_election  # noqa: E402

Q = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1's group order

_VERIFY_CHILD = """
import resource, sys, time
from pathlib import Path
from saylau.record.verifier import RecordVerifier
t = time.perf_counter()
v = RecordVerifier(Path(sys.argv[1]), workers=int(sys.argv[2]),
                   resume_from=Path(sys.argv[3]) if sys.argv[3] != "-" else None,
                   save_state=Path(sys.argv[4]) if sys.argv[4] != "-" else None)
v.run()
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, v.resumed_ballots)
"""


def make_record(out: Path, ballots: int, seed: int) -> dict[str, int]:
    """A 7-option pilot election's record; returns its ballot states."""
    pilot = pilot_election(stations=4, ballots=ballots, seed=seed)
    res = run_demo(
        out, pilot.manifest, pilot.plan, guardians=3, quorum=2, missing=1, challenge_rate=0.02,
        remote_rate=0.3, revote_rate=0.2, seed=seed, workers=1, registered=pilot.registered,
        checkpoint_every=64,
    )
    return dict(res.states)


def record_bytes(out: Path) -> dict[str, int]:
    """Bytes of each file of a record."""
    return {p.name: p.stat().st_size for p in sorted(out.iterdir())}


def database_bytes_per_ballot(out: Path) -> float:
    """What today's schema stores per ballot: its JSON in the ballot row and again in its board entry."""
    n, total = 0, 0
    for line in gzip.decompress((out / fmt.BALLOTS).read_bytes()).splitlines():
        ballot = json.loads(line)["ballot"]
        total += 2 * len(json.dumps(ballot, sort_keys=True, separators=(",", ":")))
        n += 1
    return total / n


def verify_child(
    record: Path, workers: int, resume: Path | None = None, save: Path | None = None
) -> tuple[float, int, int]:
    """Seconds, peak RSS (KiB) and resumed ballots of one verification in a fresh process."""
    args = [str(record), str(workers), str(resume) if resume else "-", str(save) if save else "-"]
    cmd = [sys.executable, "-c", _VERIFY_CHILD, *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    secs, rss, resumed = out.stdout.split()
    return float(secs), int(rss), int(resumed)


# --- batch verification -----------------------------------------------------------------------------


def _equations(n: int) -> list[tuple[coincurve.PublicKey, int, int, coincurve.PublicKey]]:
    """``n`` true Chaum–Pedersen-style equations ``g^v = a · α^c`` as (α, c, v, a), random."""
    out = []
    for _ in range(n):
        x, w, c = (secrets.randbelow(Q - 1) + 1 for _ in range(3))
        alpha = coincurve.PublicKey.from_secret(x.to_bytes(32, "big"))  # α = g^x
        a = coincurve.PublicKey.from_secret(w.to_bytes(32, "big"))  # commitment a = g^w
        v = (w + c * x) % Q  # response: g^v = a · α^c
        out.append((alpha, c, v, a))
    return out


def single(eqs: list[tuple[coincurve.PublicKey, int, int, coincurve.PublicKey]]) -> None:
    """One by one, as saylau verifies today (a = g^v · α^(−c) recomputed per proof, then compared)."""
    for alpha, c, v, a in eqs:
        lhs = coincurve.PublicKey.from_secret(v.to_bytes(32, "big"))
        rhs = coincurve.PublicKey.combine_keys([a, alpha.multiply(c.to_bytes(32, "big"))])
        if lhs.format() != rhs.format():
            raise AssertionError("equation fails")


def batch(eqs: list[tuple[coincurve.PublicKey, int, int, coincurve.PublicKey]]) -> None:
    """Random 128-bit weights r_i: g^(Σ r_i v_i) = Π a_i^(r_i) · α_i^(r_i c_i), with coincurve's multiply.

    coincurve offers no multi-scalar multiplication, so each term is its own scalar multiplication.
    """
    weights = [secrets.randbits(128) | 1 for _ in eqs]
    s = sum(r * v for r, (_, _, v, _) in zip(weights, eqs, strict=True)) % Q
    terms = []
    for r, (alpha, c, _, a) in zip(weights, eqs, strict=True):
        terms.append(a.multiply(r.to_bytes(32, "big")))
        terms.append(alpha.multiply((r * c % Q).to_bytes(32, "big")))
    rhs = coincurve.PublicKey.combine_keys(terms)
    if coincurve.PublicKey.from_secret(s.to_bytes(32, "big")).format() != rhs.format():
        raise AssertionError("batch fails")


def arkworks_msm(n: int) -> dict[str, float] | None:
    """µs per term of a native MSM (arkworks, BLS12-381 G1) against n single scalar multiplications."""
    try:
        from py_arkworks_bls12381 import G1Point, Scalar  # type: ignore[import-not-found]
    except ImportError:
        return None
    g = G1Point()
    points = [g * Scalar(secrets.randbelow(2**250)) for _ in range(2 * n)]
    scalars = [Scalar(secrets.randbelow(2**250)) for _ in range(2 * n)]
    t0 = time.perf_counter()
    for p, s in zip(points, scalars, strict=True):
        _ = p * s
    singles = time.perf_counter() - t0
    t0 = time.perf_counter()
    G1Point.multiexp_unchecked(points, scalars)
    msm = time.perf_counter() - t0
    return {"single_us_per_mult": 1e6 * singles / (2 * n), "msm_us_per_term": 1e6 * msm / (2 * n)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", type=int, default=150)
    ap.add_argument("--large", type=int, default=600)
    ap.add_argument("--batch", type=int, default=2000, help="equations in the batch-verification measure")
    ap.add_argument("--peer-ballots", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="saylau-bench-verify-") as tmp:
        root = Path(tmp)
        sizes: dict[str, Any] = {}
        for label, n, seed in (("small", args.small, 3), ("large", args.large, 4)):
            states = make_record(root / label, n, seed)
            files = record_bytes(root / label)
            sizes[label] = {"ballots": sum(states.values()), "files": files, "total": sum(files.values())}
        s, big = sizes["small"], sizes["large"]
        marginal = (big["total"] - s["total"]) / (big["ballots"] - s["ballots"])
        big_record = root / "large"
        print(f"record ({fmt.RECORD_FORMAT}, 7 options): {big['total'] / big['ballots']:.0f} B per ballot "
              f"over {big['ballots']} ballots, {marginal:.0f} B per additional ballot (board included)")
        for name in (fmt.BALLOTS, fmt.BOARD):
            per = (big["files"][name] - s["files"][name]) / (big["ballots"] - s["ballots"])
            print(f"  {name}: {per:.0f} B per additional ballot")
        db = database_bytes_per_ballot(big_record)
        print(f"database (schema unchanged): {db:.0f} B of ballot JSON per ballot (ballot row + board entry)")
        for workers in (1, 2):
            secs, rss, _ = verify_child(big_record, workers)
            print(f"verify, {workers} worker(s): {1000 * secs / big['ballots']:.2f} ms per ballot "
                  f"(whole record, {big['ballots']} ballots), peak RSS {rss / 1024:.0f} MiB")
        state = root / "state.json"
        verify_child(big_record, 1, save=state)
        secs, _, resumed = verify_child(big_record, 1, resume=state)
        print(f"verify resumed from its state file: {resumed} of {big['ballots']} ballots taken as verified, "
              f"{secs:.2f} s ({1000 * secs / big['ballots']:.2f} ms per ballot of the record)")
        for label in ("small", "large"):
            _, rss, _ = verify_child(root / label, 1)
            print(f"peak RSS verifying {sizes[label]['ballots']} ballots: {rss / 1024:.0f} MiB")
    eqs = _equations(args.batch)
    t0 = time.perf_counter()
    single(eqs)
    t_single = time.perf_counter() - t0
    t0 = time.perf_counter()
    batch(eqs)
    t_batch = time.perf_counter() - t0
    n = args.batch
    print(f"batch verification on coincurve, {n} equations: one by one {1e6 * t_single / n:.1f} "
          f"µs each, random linear combination {1e6 * t_batch / n:.1f} µs each "
          f"({'pays' if t_batch < t_single else 'does not pay'}: {t_single / t_batch:.2f}x)")
    ark = arkworks_msm(args.batch)
    if ark is None:
        print("native MSM reference: py-arkworks-bls12381 not importable (pip install it to measure)")
    else:
        print(f"native MSM reference (arkworks, BLS12-381 G1, {2 * args.batch} terms): "
              f"{ark['msm_us_per_term']:.1f} µs per term against {ark['single_us_per_mult']:.1f} µs per "
              f"single multiplication ({ark['single_us_per_mult'] / ark['msm_us_per_term']:.1f}x)")
    if args.peer_ballots:
        peer = run_peer(args.peer_ballots)
        if "skipped" in peer:
            print(peer["skipped"])
        else:
            eg = peer["verify_ms_per_ballot"]
            print(f"ElectionGuard 1.4.0: verify {eg:.1f} ms per ballot (proofs only, same run)")


if __name__ == "__main__":
    main()
