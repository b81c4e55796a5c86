"""Exit-poll estimates of each option's share with design-based confidence intervals.

Weights. A respondent at sampled station ``i`` stands for ``(1 / π_i) · (V_i / m_i)`` voters: the
inverse of the station's inclusion probability times the station's voters over the voters approached
there. Refusals are handled by weighting classes (Lohr, *Sampling*, 2nd ed., §8.5): within each class
(the station, or the station crossed with an interviewer-observed label such as age group) the
respondents' weights are scaled up to carry the refusers' weight. That removes bias only if, within a
class, refusers vote like respondents; differential non-response by vote choice is *not* corrected
and shows up as a house effect (see ``saylau.polls.house``).

Estimator and variance. Each share is a ratio ``p_k = Σ w y_k / Σ w``. Its variance is estimated by
Taylor linearisation with the with-replacement approximation between PSUs within strata
(Lohr §9.1; Wolter, *Introduction to Variance Estimation*, §6): ``z_i = Σ_j w_ij (y_ijk − p_k) / Σ w``,
``v(p_k) = Σ_h n_h/(n_h − 1) Σ_i (z_hi − z̄_h)²``; a stratum with one PSU contributes ``z_hi²``.
Intervals use Student's t with (PSUs − strata) degrees of freedom. The design effect is
``v(p_k)`` over the simple-random-sampling variance ``p_k(1 − p_k)/n`` of the same number of respondents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from saylau.errors import PollError
from saylau.polls.design import SampleDesign

__all__ = ["Comparison", "InterviewData", "PollEstimate", "ShareEstimate", "compare", "estimate"]

REFUSAL = -1


@dataclass(frozen=True)
class InterviewData:
    """Interviews as arrays: the station of each, the option index chosen (−1 for a refusal), a class."""

    stations: npt.NDArray[np.str_]
    choices: npt.NDArray[np.int64]
    classes: npt.NDArray[np.str_] | None = None

    def __post_init__(self) -> None:
        """Check that the arrays line up."""
        if len(self.stations) != len(self.choices):
            raise PollError("interviews: stations and choices differ in length")
        if self.classes is not None and len(self.classes) != len(self.choices):
            raise PollError("interviews: classes and choices differ in length")


@dataclass(frozen=True)
class ShareEstimate:
    """One option's estimated share, standard error, confidence interval and design effect."""

    option: str
    share: float
    se: float
    low: float
    high: float
    deff: float


@dataclass(frozen=True)
class PollEstimate:
    """A pollster's estimates for every option, with the sample sizes behind them."""

    shares: tuple[ShareEstimate, ...]
    confidence: float
    psus: int
    strata: int
    respondents: int
    refusals: int

    def get(self, option: str) -> ShareEstimate:
        """The estimate for one option."""
        for s in self.shares:
            if s.option == option:
                return s
        raise PollError(f"poll estimate: no option {option!r}")

    @property
    def response_rate(self) -> float:
        """Respondents over voters approached."""
        return self.respondents / max(self.respondents + self.refusals, 1)


def estimate(
    design: SampleDesign,
    interviews: InterviewData,
    voters: Mapping[str, int],
    options: Sequence[str],
    confidence: float = 0.95,
) -> PollEstimate:
    """Weighted ratio estimates with linearised stratified-cluster variance (see the module docstring)."""
    pos = {s: i for i, s in enumerate(design.stations.tolist())}
    try:
        psu = np.array([pos[s] for s in interviews.stations.tolist()], dtype=np.int64)
    except KeyError as exc:
        raise PollError(f"poll estimate: interview at station {exc.args[0]} outside the sample") from exc
    k = len(options)
    ch = interviews.choices
    if np.any((ch < REFUSAL) | (ch >= k)):
        raise PollError(f"poll estimate: a choice index is outside -1..{k - 1}")
    n_psu = design.n
    approached = np.bincount(psu, minlength=n_psu).astype(np.float64)
    v = np.array([voters.get(s, 0) for s in design.stations.tolist()], dtype=np.float64)
    base = np.where(approached > 0, v / np.maximum(approached, 1) / design.pi, 0.0)[psu]
    # weighting classes: the station, or station x label; fall back to the station when a cell is empty
    labels = interviews.classes if interviews.classes is not None else np.zeros(len(ch), dtype=np.str_)
    cell_keys = np.char.add(np.char.add(psu.astype(np.str_), "|"), labels.astype(np.str_))
    _, cell = np.unique(cell_keys, return_inverse=True)
    responded = ch != REFUSAL
    cell_all = np.bincount(cell, weights=base)
    cell_resp = np.bincount(cell, weights=base * responded)
    empty_cell = (cell_resp == 0)[cell]
    st_all = np.bincount(psu, weights=base, minlength=n_psu)
    st_resp = np.bincount(psu, weights=base * responded, minlength=n_psu)
    adj = np.where(
        empty_cell,
        st_all[psu] / np.maximum(st_resp[psu], 1e-300),
        cell_all[cell] / np.maximum(cell_resp[cell], 1e-300),
    )
    w = np.where(responded, base * adj, 0.0)
    total = w.sum()
    if total <= 0:
        raise PollError("poll estimate: no respondents")
    y = np.zeros((len(ch), k))
    y[np.flatnonzero(responded), ch[responded]] = 1.0
    p = (w[:, None] * y).sum(axis=0) / total
    u = w[:, None] * (y - p[None, :]) / total
    z = np.zeros((n_psu, k))
    np.add.at(z, psu, u)
    strata = design.strata
    var = np.zeros(k)
    names = sorted(set(strata.tolist()))
    for h in names:
        zh = z[strata == h]
        nh = len(zh)
        var += nh / (nh - 1) * ((zh - zh.mean(axis=0)) ** 2).sum(axis=0) if nh > 1 else (zh**2).sum(axis=0)
    se = np.sqrt(var)
    df = max(n_psu - len(names), 1)
    tq = float(stats.t.ppf(0.5 + confidence / 2, df))
    n_resp = int(responded.sum())
    srs = p * (1 - p) / max(n_resp, 1)
    deff = np.where(srs > 0, var / np.maximum(srs, 1e-300), np.nan)
    shares = tuple(
        ShareEstimate(o, float(p[j]), float(se[j]), float(max(p[j] - tq * se[j], 0.0)),
                      float(min(p[j] + tq * se[j], 1.0)), float(deff[j]))
        for j, o in enumerate(options)
    )
    return PollEstimate(shares, confidence, n_psu, len(names), n_resp, int(len(ch) - n_resp))


@dataclass(frozen=True)
class Comparison:
    """A pollster's estimate against the official share of one option."""

    option: str
    estimate: float
    low: float
    high: float
    official: float
    difference: float
    outside_interval: bool


def compare(poll: PollEstimate, official: Mapping[str, float]) -> list[Comparison]:
    """Per option, the difference from the official share, flagged when outside the interval."""
    out = []
    for s in poll.shares:
        if s.option not in official:
            raise PollError(f"comparison: no official share for {s.option!r}")
        off = official[s.option]
        outside = not s.low <= off <= s.high
        out.append(Comparison(s.option, s.share, s.low, s.high, off, s.share - off, outside))
    return out
