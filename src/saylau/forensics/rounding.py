"""The integer-percentage (round number) test of Kobak, Shpilkin & Pshenichnikov (AoAS 10(1), 2016).

A station's turnout (ballots issued / registered) or winner's share (winner's votes / valid votes)
is *integer* when its count is the count nearest to a whole percentage of its base,
``v == round(N · round(100 v / N) / 100)``. Only bases of at least ``min_base`` (default 100) count,
because below 100 every count is within half a step of some whole percentage.
The statistic is the number of integer values among the stations' turnouts and winner's shares.
Its null distribution is simulated as in the paper: every station's counts are redrawn binomially with
the station's own observed rate and base, and the integer values counted again; the one-sided
Monte-Carlo p-value is ``(1 + #{T_b ≥ T}) / (1 + B)``, with replications added until it is resolved
or capped, and reported as ``< 1/(B+1)`` with the z-score at its floor (``saylau.forensics.pvalue``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from saylau.errors import ForensicsError
from saylau.forensics.data import IntArray, StationResults
from saylau.forensics.pvalue import MonteCarloP, adaptive_null

__all__ = ["RoundNumberTest", "integer_percent", "integer_percent_stations", "round_number_test"]


@dataclass(frozen=True)
class RoundNumberTest:
    """Observed integer-percentage counts, their Monte-Carlo null, and the p-value."""

    observed_turnout: int
    observed_share: int
    statistic: int
    null_mean: float
    null_sd: float
    z_score: float
    p_value: float
    replications: int
    stations_used: int
    p_at_floor: bool = False
    p_text: str = ""
    normal_tail: float = 1.0


def integer_percent(counts: IntArray, base: IntArray) -> npt.NDArray[np.bool_]:
    """True where ``counts`` is the nearest count to a whole percentage of ``base`` (base > 0)."""
    pct = np.rint(100.0 * counts / base)
    return np.asarray(np.rint(pct * base / 100.0) == counts, dtype=np.bool_)


def integer_percent_stations(
    results: StationResults, min_base: int = 100
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per station: an integer turnout, and an integer winner's share (bases of ``min_base``+).

    These are the values :func:`round_number_test` counts (and the CEC's dashboard flags).
    """
    reg, valid = results.registered, results.valid
    win = results.votes[:, results.winner_index]
    t_ok = (reg >= min_base) & results.registered_known
    s_ok = valid >= min_base
    turnout, share = np.zeros(results.n, dtype=np.bool_), np.zeros(results.n, dtype=np.bool_)
    turnout[t_ok] = integer_percent(results.voted[t_ok], reg[t_ok])
    share[s_ok] = integer_percent(win[s_ok], valid[s_ok])
    return turnout, share


def round_number_test(
    results: StationResults,
    rng: np.random.Generator,
    replications: int = 200,
    min_base: int = 100,
    chunk: int = 20,
    max_replications: int | None = None,
) -> RoundNumberTest:
    """Count integer turnouts and winner's shares and compare with a binomial Monte-Carlo null.

    ``replications`` null draws first, more (up to ``max_replications``, default 10×) until resolved.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    reg, voted = results.registered, results.voted
    valid = results.valid
    win = results.votes[:, results.winner_index]
    t_ok = (reg >= min_base) & results.registered_known
    s_ok = valid >= min_base
    if int(t_ok.sum() + s_ok.sum()) == 0:
        raise ForensicsError(f"round-number test: no station has a base of at least {min_base}")
    t_reg, t_v = reg[t_ok], voted[t_ok]
    s_val, s_w = valid[s_ok], win[s_ok]
    flagged_t, flagged_s = integer_percent_stations(results, min_base)
    obs_t, obs_s = int(flagged_t.sum()), int(flagged_s.sum())
    observed = obs_t + obs_s
    pt, ps = np.clip(t_v / t_reg, 0.0, 1.0), np.clip(s_w / s_val, 0.0, 1.0)

    def draw(b_total: int) -> IntArray:
        out = np.empty(b_total, dtype=np.int64)
        for start in range(0, b_total, chunk):
            b = min(chunk, b_total - start)
            sim_t = rng.binomial(t_reg, pt, size=(b, len(t_reg)))
            sim_s = rng.binomial(s_val, ps, size=(b, len(s_val)))
            out[start : start + b] = integer_percent(sim_t, t_reg).sum(axis=1) + integer_percent(
                sim_s, s_val
            ).sum(axis=1)
        return out

    null, mc = adaptive_null(draw, observed, replications, max_replications)
    mean, sd = float(null.mean()), float(null.std(ddof=1)) if null.size > 1 else 0.0
    return _result(obs_t, obs_s, mean, sd, mc, int(max(t_ok.sum(), s_ok.sum())))


def _result(obs_t: int, obs_s: int, mean: float, sd: float, mc: MonteCarloP, used: int) -> RoundNumberTest:
    return RoundNumberTest(
        observed_turnout=obs_t,
        observed_share=obs_s,
        statistic=obs_t + obs_s,
        null_mean=mean,
        null_sd=sd,
        z_score=mc.z_score,
        p_value=mc.p_value,
        replications=mc.replications,
        stations_used=used,
        p_at_floor=mc.at_floor,
        p_text=mc.text(),
        normal_tail=mc.tail,
    )
