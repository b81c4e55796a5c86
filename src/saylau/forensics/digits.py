"""Digit tests on station vote counts: last-digit uniformity and the second-digit Benford law (2BL).

Last digit (Beber & Scacco 2012): in counts large enough (≥ ``min_count``) the last digit of honestly
counted votes is close to uniform on 0–9; invented numbers are not. Pearson chi-square, 9 df.

Second digit (2BL; Mebane, "Election Forensics", and the EFToolkit definitions by Kalinin & Mebane):
the second significant digit ``d`` of counts ≥ 10 is compared with Benford's second-digit law
``P(d) = Σ_{k=1..9} log10(1 + 1/(10k + d))``; Pearson chi-square, 9 df; the mean second digit
(4.187 under the law) is reported too. Mebane notes that 2BL holds for many but not all clean
processes, so its false-alarm rate must be measured on clean simulations (see docs/forensics.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from saylau.errors import ForensicsError
from saylau.forensics.data import StationResults
from saylau.forensics.pvalue import adaptive_null

__all__ = [
    "BENFORD_SECOND",
    "DigitTest",
    "last_digit_test",
    "last_digits",
    "second_digit_test",
    "second_digits",
    "station_counts",
]

#: Benford's second-digit probabilities for d = 0..9.
BENFORD_SECOND = np.array(
    [sum(np.log10(1.0 + 1.0 / (10 * k + d)) for k in range(1, 10)) for d in range(10)], dtype=np.float64
)


@dataclass(frozen=True)
class DigitTest:
    """Result of a digit test: observed and expected digit counts, chi-square and p-value."""

    name: str
    observed: npt.NDArray[np.int64]
    expected: npt.NDArray[np.float64]
    statistic: float
    p_value: float
    n: int
    mean_digit: float
    mc_statistic: float | None = None
    mc_p_value: float | None = None
    replications: int = 0
    mc_p_text: str = ""
    mc_p_at_floor: bool = False
    mc_z_score: float = 0.0


def station_counts(results: StationResults, include_voted: bool = True) -> npt.NDArray[np.int64]:
    """All vote counts of all options (and the ballots issued) at all stations, flattened."""
    return _counts_and_bases(results, include_voted)[0]


def _counts_and_bases(
    results: StationResults, include_voted: bool
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Counts with the base each was drawn from: valid votes for options, registered for ballots."""
    counts = [results.votes.ravel()]
    bases = [np.repeat(results.valid, len(results.options))]
    if include_voted:
        counts.append(results.voted)
        bases.append(results.registered)
    return np.concatenate(counts).astype(np.int64), np.concatenate(bases).astype(np.int64)


def last_digits(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The last decimal digit of each count."""
    return np.asarray(counts % 10, dtype=np.int64)


def second_digits(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The second significant digit of each count (counts must be ≥ 10)."""
    if np.any(counts < 10):
        raise ValueError("second digits need counts of at least 10")
    powers = 10 ** np.arange(1, 19, dtype=np.int64)
    magnitude = np.searchsorted(powers, counts, side="right")  # 10**magnitude <= count < 10**(magnitude+1)
    return np.asarray((counts // 10 ** (magnitude - 1)) % 10, dtype=np.int64)


def _digit_test(
    name: str,
    counts: npt.NDArray[np.int64],
    bases: npt.NDArray[np.int64],
    min_count: int,
    probs: npt.NDArray[np.float64],
    digit_of: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.int64]],
    rng: np.random.Generator | None,
    replications: int,
) -> DigitTest:
    keep = counts >= min_count
    n = int(keep.sum())
    if n < 50:
        raise ForensicsError(f"{name}: only {n} counts are at least {min_count}, at least 50 are needed")
    digits = digit_of(counts[keep])
    observed = np.bincount(digits, minlength=10).astype(np.int64)
    expected = probs * n
    res = stats.chisquare(observed, expected)
    stat, pval = float(res.statistic), float(res.pvalue)
    test = DigitTest(name, observed, expected, stat, pval, n, float(digits.mean()))
    if rng is None or replications < 1:
        return test
    # redraw every count that could reach min_count, keep those that do, as the observed test does
    sel = bases >= min_count
    c, b = counts[sel], bases[sel]
    rate = np.clip(c / np.maximum(b, 1), 0.0, 1.0)

    def freqs(b: int) -> npt.NDArray[np.float64]:
        out = np.empty((b, 10), dtype=np.float64)
        for r in range(b):
            draw = rng.binomial(b_, rate)
            draw = draw[draw >= min_count]
            f = np.bincount(digit_of(draw), minlength=10).astype(np.float64)
            out[r] = f / max(f.sum(), 1.0)
        return out

    b_ = b
    first = freqs(replications)
    mean = first.mean(axis=0)
    safe = np.maximum(mean, 1e-12)
    t_obs = float(np.sum((observed / n - mean) ** 2 / safe) * n)
    pending = [first]

    def distances(k: int) -> npt.NDArray[np.float64]:
        sims = pending.pop() if pending else freqs(k)  # the first batch also fixes the null mean
        return np.asarray(np.sum((sims - mean) ** 2 / safe, axis=1) * n, dtype=np.float64)

    _, mc = adaptive_null(distances, t_obs, replications)
    return DigitTest(
        name, observed, expected, test.statistic, test.p_value, n, test.mean_digit, t_obs, mc.p_value,
        mc.replications, mc.text(), mc.at_floor, mc.z_score,
    )


def last_digit_test(
    results: StationResults,
    min_count: int = 10,
    rng: np.random.Generator | None = None,
    replications: int = 200,
) -> DigitTest:
    """Chi-square test that last digits of counts ≥ ``min_count`` are uniform (and, with ``rng``, MC)."""
    counts, bases = _counts_and_bases(results, include_voted=True)
    return _digit_test(
        "last digit", counts, bases, min_count, np.full(10, 0.1), last_digits, rng, replications
    )


def second_digit_test(
    results: StationResults, rng: np.random.Generator | None = None, replications: int = 200
) -> DigitTest:
    """Chi-square test of the second digits of vote counts ≥ 10 against Benford's second-digit law."""
    counts, bases = _counts_and_bases(results, include_voted=False)
    return _digit_test(
        "second digit (2BL)", counts, bases, 10, BENFORD_SECOND, second_digits, rng, replications
    )
