"""Station outliers: late turnout jumps and stations reporting turnout or winner's share near 100%.

Late jumps. Ballot stuffing is easiest when observers have left, so a station whose last reporting
interval brings many more ballots than the interval before it is suspicious (the "turnout spikes" of
Myagkov, Ordeshook & Shakin, *The Forensics of Election Fraud*, 2009). Per station we take the log ratio
``log((L + ½) / (P + ½))`` of the ballots issued in the last interval ``L`` and in the previous one ``P``;
comparing a station with itself removes most of the differences between stations (size, the local
rhythm of the day). Its variance is ``τ² + 1/(L + ½) + 1/(P + ½)``: counting noise (the delta-method
variance of a log Poisson ratio) plus a between-station part ``τ²`` estimated from the robust spread
(1.4826 × MAD) of the larger half of the stations. Stations whose standardised ratio exceeds
``z_flag`` (one-sided 0.001) are flagged; the p-value is a one-sided binomial test of the flagged count
against ``n · P(Z > z_flag)`` (scipy.stats.binomtest).

Near 100%. Stations with turnout or winner's share ≥ ``threshold`` (default 0.99). The clean
expectation is simulated: each station's latent rate is drawn from a logit-normal fitted robustly to the
bulk of its own region (median and MAD of the logit of the observed rates; the national fit for a
region with fewer than ``min_region`` stations), then its count binomially from its own base; p-value
``(1 + #{T_b ≥ T}) / (1 + B)``. Fitting per region matters for stations abroad, in hospitals or in
military units, whose lists are made on the day and whose turnout is legitimately near 100%: one
national fit (measured) flagged a clean kz-2022 simulation for a single 196-of-196 station abroad.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.special import expit, logit

from saylau.errors import ForensicsError
from saylau.forensics.data import IntArray, StationResults

__all__ = ["LateJumpTest", "NearFullTest", "late_jump_test", "near_full_stations", "near_full_test"]

MAD_SCALE = 1.4826  # makes the median absolute deviation estimate σ for normal data


@dataclass(frozen=True)
class LateJumpTest:
    """Stations whose share of ballots arriving after ``after_hour`` is a robust outlier."""

    after_hour: float
    median_share: float
    flagged: int
    expected: float
    p_value: float
    flagged_stations: list[str]
    n: int


@dataclass(frozen=True)
class NearFullTest:
    """Stations at or above the threshold, against a simulated clean expectation."""

    threshold: float
    turnout_count: int
    share_count: int
    statistic: int
    null_mean: float
    p_value: float
    replications: int
    stations: list[str]


def late_jump_test(
    results: StationResults, z_flag: float = 3.09, min_final: int = 50, max_listed: int = 50
) -> LateJumpTest:
    """Flag stations whose last reporting interval brings many more ballots than the one before."""
    snaps = results.snapshots
    if snaps is None or snaps.voted.shape[1] < 3:
        raise ForensicsError("late-jump test: needs turnout snapshots with at least three reports")
    final = snaps.voted[:, -1]
    ok = final >= min_final
    if int(ok.sum()) < 50:
        raise ForensicsError(f"late-jump test: fewer than 50 stations have {min_final}+ ballots")
    f, ids = final[ok], snaps.stations[ok]
    last = (f - snaps.voted[ok, -2]).astype(np.float64)
    prev = (snaps.voted[ok, -2] - snaps.voted[ok, -3]).astype(np.float64)
    log_ratio = np.log((last + 0.5) / (prev + 0.5))
    noise = 1.0 / (last + 0.5) + 1.0 / (prev + 0.5)
    big = f >= np.median(f)
    spread = float(np.median(np.abs(log_ratio[big] - np.median(log_ratio[big])))) * MAD_SCALE
    tau2 = max(spread**2 - float(np.median(noise[big])), 1e-4)
    z = (log_ratio - float(np.median(log_ratio))) / np.sqrt(tau2 + noise)
    flagged = z > z_flag
    k, n = int(flagged.sum()), len(f)
    tail = float(stats.norm.sf(z_flag))
    p = float(stats.binomtest(k, n, tail, alternative="greater").pvalue)
    order = np.argsort(-z[flagged])[:max_listed]
    median_share = float(np.median(last / f))
    return LateJumpTest(float(snaps.hours[-2]), median_share, k, n * tail, p, ids[flagged][order].tolist(), n)


def _robust_logit(rate: npt.NDArray[np.float64]) -> tuple[float, float]:
    x = logit(np.clip(rate, 1e-4, 1 - 1e-4))
    med = float(np.median(x))
    return med, max(float(np.median(np.abs(x - med))) * MAD_SCALE, 1e-3)


def _robust_logit_by_region(
    rate: npt.NDArray[np.float64], regions: npt.NDArray[np.str_], min_region: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per station, the (location, scale) of its region's robust logit fit (national for small regions)."""
    mu = np.empty(len(rate))
    sd = np.empty(len(rate))
    if len(rate) == 0:
        return mu, sd
    national = _robust_logit(rate)
    for region in np.unique(regions):
        here = regions == region
        mu[here], sd[here] = _robust_logit(rate[here]) if int(here.sum()) >= min_region else national
    return mu, sd


def near_full_stations(
    results: StationResults, threshold: float = 0.99, min_base: int = 50
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per station: turnout ≥ ``threshold``, and winner's share ≥ ``threshold`` (bases of ``min_base``+).

    These are the stations :func:`near_full_test` counts (and the CEC's dashboard flags).
    """
    reg, valid = results.registered, results.valid
    win = results.votes[:, results.winner_index]
    tok, sok = (reg >= min_base) & results.registered_known, valid >= min_base
    high_t, high_s = np.zeros(results.n, dtype=np.bool_), np.zeros(results.n, dtype=np.bool_)
    high_t[tok] = results.voted[tok] / reg[tok] >= threshold
    high_s[sok] = win[sok] / valid[sok] >= threshold
    return high_t, high_s


def near_full_test(
    results: StationResults,
    rng: np.random.Generator,
    threshold: float = 0.99,
    replications: int = 200,
    min_base: int = 50,
    min_region: int = 20,
) -> NearFullTest:
    """Count stations with turnout or winner's share ≥ ``threshold`` and compare with a clean simulation."""
    reg, valid = results.registered, results.valid
    win = results.votes[:, results.winner_index]
    tok, sok = (reg >= min_base) & results.registered_known, valid >= min_base
    if int(sok.sum()) < 50:
        raise ForensicsError(f"near-100% test: fewer than 50 stations have {min_base}+ valid votes")
    t_rate, s_rate = results.voted[tok] / reg[tok], win[sok] / valid[sok]
    flagged_t, flagged_s = near_full_stations(results, threshold, min_base)
    high_t, high_s = flagged_t[tok], flagged_s[sok]
    t_count, s_count = int(high_t.sum()), int(high_s.sum())
    observed = t_count + s_count
    mt, st = _robust_logit_by_region(t_rate, results.regions[tok], min_region)
    ms, ss = _robust_logit_by_region(s_rate, results.regions[sok], min_region)

    def count(base: IntArray, mu: npt.NDArray[np.float64], sd: npt.NDArray[np.float64]) -> int:
        if len(base) == 0:
            return 0
        draws = rng.binomial(base, expit(mu + sd * rng.standard_normal(len(base))))
        return int(np.sum(draws >= threshold * base))

    null = np.array(
        [count(reg[tok], mt, st) + count(valid[sok], ms, ss) for _ in range(replications)], dtype=np.int64
    )
    p = (1 + int(np.sum(null >= observed))) / (1 + replications)
    listed = np.union1d(results.stations[tok][high_t], results.stations[sok][high_s])[:50].tolist()
    return NearFullTest(threshold, t_count, s_count, observed, float(null.mean()), p, replications, listed)
