"""Measured risk of an assertion from a sample: BRAVO, ALPHA ballot polling, and batch comparison.

All three are test supermartingales ``T_n`` under the null "the assertion is false"; by Ville's
inequality ``P(max T_n ≥ 1/α) ≤ α``, so the measured risk after ``n`` draws is ``min(1, 1 / max T_j)``.
Samples are drawn with replacement (``saylau.audit.sampler``), so no finite-population correction.

* **BRAVO** (Lindeman, Stark & Yates, EVT/WOTE 2012; super-majority form in its §5): with ``s`` the
  reported share of ``support`` among ``support ∪ against`` and ``t`` the threshold, a ballot for
  ``support`` multiplies ``T`` by ``s/t``, one for ``against`` by ``(1−s)/(1−t)``, any other by 1.
* **ALPHA** (Stark, "ALPHA: audit that learns from previously hand-audited ballots", AoAS 2023): on the
  assorter values ``x ∈ [0, u]`` with null mean ``μ = ½``,
  ``T_i = T_{i−1}·(x_i η_i/μ + (u−x_i)(u−η_i)/(u−μ))/u`` with the truncated-shrinkage estimate
  ``η_i = min(u(1−10⁻⁶), max((dη₀ + S_{i−1})/(d+i−1), μ + ε_i))``, ``ε_i = (η₀−μ)/(2√(d+i−1))``,
  ``η₀`` the reported assorter mean.
* **Batch comparison** (SHANGRLA, Stark 2020, §3.2, stations as batches drawn uniformly): batch ``p``
  of ``n_p`` ballots has overstatement ``ω_p = Σ A(reported) − Σ A(hand count)``; with ``P`` batches,
  ``N`` ballots, ``ū = u·P·max n_p/N`` and reported assorter margin ``v = 2Ā_c − 1``, the batch's
  comparison assorter ``B_p = (1 − (P/N)ω_p/ū)/(2 − v/ū)`` lies in ``[0, 2/(2 − v/ū)]`` and has mean
  above ½ iff the assertion is true of the paper. ``B_p`` is tested with ALPHA at a fixed ``η``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from saylau.audit.assertions import Assertion
from saylau.audit.manifest import BallotManifest
from saylau.errors import AuditError

__all__ = [
    "ComparisonScale",
    "alpha_martingale",
    "alpha_polling_risk",
    "bravo_risk",
    "comparison_risk",
    "comparison_scale",
    "comparison_values",
    "risk_from",
]

FloatArray = npt.NDArray[np.float64]
MU = 0.5
ALPHA_D = 100
COMPARISON_BET = 0.8
"""For batch comparison, ``η = μ + COMPARISON_BET·(u − μ)``: aggressive when the protocols are right."""


def risk_from(log_t: FloatArray) -> float:
    """``min(1, 1/max T)`` from the running log test statistic (1 before any draw)."""
    if log_t.size == 0:
        return 1.0
    return float(min(1.0, np.exp(-max(0.0, float(np.max(log_t))))))


def _shares(a: Assertion, reported: Mapping[str, int]) -> float:
    s = a.reported_share(reported)
    if s <= a.threshold:
        raise AuditError(
            f"assertion {a.id}: the reported share {s:.6f} does not exceed {a.threshold}: nothing to confirm"
        )
    return s


def bravo_log_steps(a: Assertion, reported: Mapping[str, int], categories: Sequence[str]) -> FloatArray:
    """Running ``log T`` of BRAVO over the sampled ballots' categories."""
    s = _shares(a, reported)
    up = float(np.log(s / a.threshold))
    # a unanimous report (s = 1) bets everything: one ballot against makes T = 0 (log T = −inf) for good
    down = float(np.log((1 - s) / (1 - a.threshold))) if s < 1 else -np.inf
    steps = np.array(
        [up if c in a.support else down if c in a.against else 0.0 for c in categories], dtype=np.float64
    )
    return np.cumsum(steps)


def bravo_risk(a: Assertion, reported: Mapping[str, int], categories: Sequence[str]) -> float:
    """BRAVO's measured risk after the ballots ``categories`` (in draw order)."""
    return risk_from(bravo_log_steps(a, reported, categories))


def alpha_martingale(
    x: FloatArray, u: float, eta0: float, d: float = ALPHA_D, fixed: bool = False
) -> FloatArray:
    """Running ``log T`` of ALPHA on values ``x`` in ``[0, u]`` (``fixed``: ``η = η₀`` throughout)."""
    if eta0 <= MU:
        raise AuditError(f"ALPHA: the alternative mean {eta0:.6f} must exceed {MU}")
    n = x.size
    i = np.arange(1, n + 1, dtype=np.float64)
    if fixed:
        eta = np.full(n, min(eta0, u * (1 - 1e-6)))
    else:
        prev = np.concatenate(([0.0], np.cumsum(x)[:-1]))
        eps = (eta0 - MU) / (2 * np.sqrt(d + i - 1))
        eta = np.minimum(u * (1 - 1e-6), np.maximum((d * eta0 + prev) / (d + i - 1), MU + eps))
    term = (x * eta / MU + (u - x) * (u - eta) / (u - MU)) / u
    with np.errstate(divide="ignore"):
        return np.cumsum(np.log(np.maximum(term, 0.0)))


def polling_values(a: Assertion, categories: Sequence[str]) -> FloatArray:
    """The assorter values of the sampled ballots."""
    return np.array([a.value(c) for c in categories], dtype=np.float64)


def alpha_polling_risk(a: Assertion, reported: Mapping[str, int], categories: Sequence[str]) -> float:
    """ALPHA's measured risk for ballot polling; ``η₀`` is the reported assorter mean."""
    _shares(a, reported)
    total = sum(reported.values())
    eta0 = a.total(reported) / total
    return risk_from(alpha_martingale(polling_values(a, categories), a.upper, eta0))


class ComparisonScale:
    """The constants of one assertion's batch-comparison assorter over a manifest."""

    def __init__(self, a: Assertion, manifest: BallotManifest) -> None:
        """``P``, ``N``, ``ū`` and the reported margin ``v`` (which must be positive)."""
        self.P = len(manifest.batches)
        self.N = manifest.total
        if self.P == 0 or self.N == 0:
            raise AuditError("batch comparison: the manifest has no ballots")
        self.u_bar = a.upper * self.P * max(b.ballots for b in manifest.batches) / self.N
        self.v = 2 * a.total(manifest.reported_totals()) / self.N - 1
        if self.v <= 0:
            raise AuditError(f"assertion {a.id}: reported assorter margin {self.v:.6f} is not positive")
        self.denominator = 2 - self.v / self.u_bar
        self.upper = 2 / self.denominator
        self.no_error = 1 / self.denominator


def comparison_scale(a: Assertion, manifest: BallotManifest) -> ComparisonScale:
    """The comparison constants of ``a`` over ``manifest``."""
    return ComparisonScale(a, manifest)


def comparison_values(
    a: Assertion, manifest: BallotManifest, stations: Sequence[str], hand: Mapping[str, Mapping[str, int]]
) -> FloatArray:
    """``B_p`` of each sampled station (in draw order) from its protocol and its hand count."""
    sc = ComparisonScale(a, manifest)
    batches = manifest.by_station()
    out = np.empty(len(stations), dtype=np.float64)
    for k, st in enumerate(stations):
        b = batches[st]
        counted = hand[st]
        if sum(counted.values()) > b.ballots:
            raise AuditError(
                f"hand count of station {st!r} finds {sum(counted.values())} ballots, the manifest lists "
                f"{b.ballots}: the manifest must be corrected before the audit goes on"
            )
        omega = a.total(b.reported) - a.total(counted)  # a missing ballot counts as assorter 0
        out[k] = (1 - (sc.P / sc.N) * omega / sc.u_bar) / sc.denominator
    return out


def comparison_risk(
    a: Assertion, manifest: BallotManifest, stations: Sequence[str], hand: Mapping[str, Mapping[str, int]]
) -> float:
    """Measured risk of the batch-comparison audit after the sampled stations (in draw order)."""
    sc = ComparisonScale(a, manifest)
    x = comparison_values(a, manifest, stations, hand)
    eta = MU + COMPARISON_BET * (sc.upper - MU)
    return risk_from(alpha_martingale(x, sc.upper, eta, fixed=True))
