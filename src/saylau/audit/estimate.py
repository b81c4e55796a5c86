"""Initial sample sizes, per audit type and risk limit, if the reported results are right.

* BRAVO's average sample number (ASN), Wald's approximation with the overshoot term as in Lindeman,
  Stark & Yates (2012) eq. (3): ``(ln(1/α) + ln(s/t)/2) / (p_s ln(s/t) + p_a ln((1−s)/(1−t)))``, with
  ``p_s``, ``p_a`` the reported shares of ``support`` and ``against`` among all ballots.
* BRAVO's size for a chance ``q`` of finishing in one round: the smallest ``n`` with
  ``P(T_n ≥ 1/α) ≥ q``, computed exactly from the binomials (``m ~ Bin(n, p_s + p_a)`` ballots for
  either side, ``k ~ Bin(m, s)`` of them for ``support``), ``T`` checked at the round's end.
* ALPHA ballot polling: the ``q``-quantile of the stopping time in simulated audits drawing ballots from
  the reported distribution (seeded, so the estimate is reproducible).
* Batch comparison: with every sampled protocol matching its paper, every ``B_p`` equals its no-error
  value, so the size is ``⌈ln(1/α) / ln(term)⌉`` exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import stats

from saylau.audit.assertions import Assertion
from saylau.audit.manifest import BallotManifest
from saylau.audit.risk import COMPARISON_BET, MU, alpha_martingale, comparison_scale
from saylau.errors import AuditError

__all__ = [
    "alpha_polling_quantile",
    "bravo_asn",
    "bravo_quantile",
    "comparison_size",
]


def _p(a: Assertion, reported: Mapping[str, int]) -> tuple[float, float, float]:
    total = sum(reported.values())
    ps = sum(reported.get(c, 0) for c in a.support) / total
    pa = sum(reported.get(c, 0) for c in a.against) / total
    s = ps / (ps + pa) if ps + pa else 0.0
    if s <= a.threshold:
        raise AuditError(f"assertion {a.id}: reported share {s:.6f} does not exceed {a.threshold}")
    return ps, pa, s


def bravo_asn(a: Assertion, reported: Mapping[str, int], alpha: float) -> int:
    """BRAVO's average sample number for ``a`` at risk limit ``alpha``."""
    ps, pa, s = _p(a, reported)
    up = math.log(s / a.threshold)
    # unanimous (pa = 0, s = 1): no ballot against is expected, its term vanishes
    drift = ps * up + (pa * math.log((1 - s) / (1 - a.threshold)) if pa else 0.0)
    return math.ceil((math.log(1 / alpha) + up / 2) / drift)


def _bravo_stop_probability(n: int, ps: float, pa: float, s: float, t: float, need: float) -> float:
    up = math.log(s / t)
    m = np.arange(n + 1)
    if s >= 1:  # unanimous: every relevant ballot is for support, T = (s/t)^m
        return float(np.sum(stats.binom.pmf(m, n, ps + pa) * (m * up >= need - 1e-12)))
    down = math.log((1 - s) / (1 - t))
    # smallest k with k·up + (m−k)·down ≥ need, for each m
    kmin = np.ceil((need - m * down) / (up - down) - 1e-12)
    tail = stats.binom.sf(kmin - 1, m, s)
    return float(np.sum(stats.binom.pmf(m, n, ps + pa) * np.clip(tail, 0.0, 1.0)))


def bravo_quantile(
    a: Assertion, reported: Mapping[str, int], alpha: float, q: float, already: float = 0.0, cap: int = 10**6
) -> int:
    """Smallest round size with chance ``q`` that BRAVO confirms ``a`` in it (``already`` = log T so far)."""
    ps, pa, s = _p(a, reported)
    need = math.log(1 / alpha) - already
    if need <= 0:
        return 0
    lo, hi = 1, max(2, bravo_asn(a, reported, alpha))
    while _bravo_stop_probability(hi, ps, pa, s, a.threshold, need) < q:
        lo, hi = hi, hi * 2
        if hi > cap:
            return cap
    while lo < hi:  # the probability rises with n except for lattice wiggles; take the first crossing
        mid = (lo + hi) // 2
        if _bravo_stop_probability(mid, ps, pa, s, a.threshold, need) >= q:
            hi = mid
        else:
            lo = mid + 1
    return lo


def alpha_polling_quantile(
    a: Assertion,
    reported: Mapping[str, int],
    alpha: float,
    q: float,
    rng: np.random.Generator,
    reps: int = 200,
    cap: int = 10**5,
) -> int:
    """``q``-quantile of ALPHA's stopping time over ``reps`` simulated polling audits."""
    _p(a, reported)
    cats = list(reported)
    total = sum(reported.values())
    probs = np.array([reported[c] / total for c in cats])
    values = np.array([a.value(c) for c in cats])
    eta0 = float(probs @ values)
    stops = np.empty(reps)
    size = 256
    for r in range(reps):
        while True:
            x = values[rng.choice(len(cats), size=size, p=probs)]
            hit = np.flatnonzero(alpha_martingale(x, a.upper, eta0) >= math.log(1 / alpha))
            if hit.size or size >= cap:
                stops[r] = hit[0] + 1 if hit.size else cap
                break
            size *= 2
    return int(np.ceil(np.quantile(stops, q)))


def comparison_size(a: Assertion, manifest: BallotManifest, alpha: float) -> int:
    """Stations to sample if every sampled protocol matches its paper."""
    sc = comparison_scale(a, manifest)
    u, x = sc.upper, sc.no_error
    eta = MU + COMPARISON_BET * (u - MU)
    term = (x * eta / MU + (u - x) * (u - eta) / (u - MU)) / u
    if term <= 1:
        raise AuditError(f"assertion {a.id}: batch comparison cannot confirm it without a full count")
    return math.ceil(math.log(1 / alpha) / math.log(term))
