"""The turnout × winner's-share fingerprint, and the ballot-stuffing model of Klimek et al. (PNAS 2012).

Klimek, Yegorov, Hanel & Thurner, "Statistical detection of systematic election irregularities",
PNAS 109(41), 16469–16473, 2012.

Model (their "Model" section, in our words). In a clean election each station's turnout ``v`` and
winner's share ``a`` are independent normals, ``v ~ N(v0, σv)``, ``a ~ N(a0, σa)``. With probability
``f_i`` a station has *incremental* fraud: a fraction ``x ~ |N(0, σx)|`` of its non-voters' ballots is
cast for the winner and a fraction ``y ~ |N(0, σx)|`` of the other options' votes is given to the winner;
with probability ``f_e`` it has *extreme* fraud, ``x, y ~ 1 − |N(0, θ)|`` (almost every ballot for the
winner). The observed turnout is then ``v + x(1 − v)`` and the share
``(a v + x(1 − v) + y(1 − a) v) / (v + x(1 − v))``.

Fit. The clean parameters come from stations that fraud (which only raises turnout and share) is
unlikely to have touched — see :func:`estimate_clean` — and are estimated per region (regions with at
least 50 stations; the national model elsewhere), so the clean component is a mixture of regional
Gaussians: a country's regions differ, and a single Gaussian reads that difference as fraud.
Because each station's fraud type is drawn independently, the model's 2-D histogram is a mixture
``(1 − f_i − f_e) H0 + f_i H_I(σx) + f_e H_E``
that is *linear* in ``(f_i, f_e)``: we simulate the component histograms once (common random
numbers) and solve one non-negative least-squares problem (scipy.optimize.nnls). Departing from
the paper, the incremental part is itself a mixture over a grid of ``σx`` and three shapes
(stuffing and shifting together as in the paper, pure stuffing ``y = 0``, pure shifting ``x = 0``);
components with ``σx < 0.2`` are nuisance terms that absorb a clean election's non-Gaussian shape,
and only ``σx ≥ 0.2`` counts in ``f_i``.
The dominant fraud shape and its ``σx`` are reported.
Score: the fitted fraud probability ``f_i + f_e``; p-value: parametric bootstrap of that score on
clean elections drawn from the fitted clean model, ``(1 + #{T_b ≥ T}) / (1 + B)``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import nnls

from saylau.errors import ForensicsError
from saylau.forensics.data import StationResults

__all__ = ["CleanModel", "FingerprintFit", "fingerprint_histogram", "fingerprint_test", "fit_fingerprint"]

FloatArray = npt.NDArray[np.float64]
BINS = 50
SIGMA_X_GRID = (0.03, 0.06, 0.1, 0.2, 0.3, 0.45, 0.7)
THETA = 0.075
#: incremental components with a smaller spread are nuisance terms: they soak up a clean election's
#: departures from the Gaussian model (regional mixtures, skew) and do not count as fraud
NUISANCE_SIGMA = 0.2
#: regions with fewer stations use the national clean model
MIN_REGION = 50
#: incremental fraud stuffing and shifting together (the paper's model), or only one of them
MODES = ("both", "stuff", "shift")


@dataclass(frozen=True)
class CleanModel:
    """Means and standard deviations of the fraud-free turnout and winner's share."""

    v0: float
    sigma_v: float
    a0: float
    sigma_a: float


@dataclass(frozen=True)
class FingerprintFit:
    """Fitted model parameters, its residual, and (when bootstrapped) a p-value for ``f_i + f_e > 0``."""

    clean: CleanModel
    f_incremental: float
    f_extreme: float
    sigma_x: float
    residual: float
    score: float
    p_value: float | None = None
    replications: int = 0
    mode: str = "both"


def fingerprint_histogram(turnout: FloatArray, share: FloatArray, bins: int = BINS) -> FloatArray:
    """Normalised 2-D histogram on [0, 1]², turnout along axis 0 and share along axis 1."""
    it = np.clip((turnout * bins).astype(np.int64), 0, bins - 1)
    ia = np.clip((share * bins).astype(np.int64), 0, bins - 1)
    counts = np.bincount(it * bins + ia, minlength=bins * bins).astype(np.float64)
    return np.asarray(counts.reshape(bins, bins) / max(len(turnout), 1), dtype=np.float64)


def _left_half(values: FloatArray) -> tuple[float, float]:
    """Mode (of a 1/100 histogram smoothed over 5 bins) and the root-mean-square spread below it."""
    counts = np.bincount(np.clip((values * 100).astype(np.int64), 0, 99), minlength=100).astype(np.float64)
    smooth = np.convolve(counts, np.ones(5) / 5, mode="same")
    mode = (int(np.argmax(smooth)) + 0.5) / 100
    below = values[values < mode]
    if len(below) < 10:
        raise ForensicsError("fingerprint: too few stations below the mode to estimate the clean spread")
    return mode, float(np.sqrt(np.mean((below - mode) ** 2)))


def estimate_clean(turnout: FloatArray, share: FloatArray) -> CleanModel:
    """Clean-model parameters from stations that fraud is unlikely to have touched.

    Fraud raises both turnout and share, so stations whose share lies below the share's mode give the
    clean turnout distribution, and those whose turnout lies below the turnout's mode the clean share
    distribution (the clean model makes the two independent); each is summarised by its median and
    1.4826 × MAD.
    """
    v_mode, _ = _left_half(turnout)
    a_mode, _ = _left_half(share)
    t_sub, s_sub = turnout[share < a_mode], share[turnout < v_mode]
    if len(t_sub) < 10 or len(s_sub) < 10:
        raise ForensicsError("fingerprint: too few stations below the modes to estimate the clean model")
    v0, a0 = float(np.median(t_sub)), float(np.median(s_sub))
    sv = float(np.median(np.abs(t_sub - v0))) * 1.4826
    sa = float(np.median(np.abs(s_sub - a0))) * 1.4826
    return CleanModel(v0, max(sv, 1e-3), a0, max(sa, 1e-3))


@dataclass(frozen=True)
class _CleanMix:
    """Clean parameters per draw: each simulated station takes its region's clean model."""

    v0: FloatArray
    sigma_v: FloatArray
    a0: FloatArray
    sigma_a: FloatArray


class _Draws:
    """Random draws reused across every simulation of one fit (common random numbers)."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.zv, self.za = rng.standard_normal(n), rng.standard_normal(n)
        self.zx, self.zy = np.abs(rng.standard_normal(n)), np.abs(rng.standard_normal(n))
        self.u = rng.uniform(size=n)

    def mix(self, models: list[CleanModel], weights: FloatArray) -> _CleanMix:
        """Assign every draw to a region in proportion to ``weights`` and take that region's model."""
        cum = np.cumsum(weights / weights.sum())
        idx = np.minimum(np.searchsorted(cum, self.u, side="right"), len(models) - 1)
        table = np.array([[m.v0, m.sigma_v, m.a0, m.sigma_a] for m in models], dtype=np.float64)[idx]
        return _CleanMix(table[:, 0], table[:, 1], table[:, 2], table[:, 3])

    def component(self, clean: _CleanMix, kind: str, sigma_x: float = 0.0, mode: str = "both") -> FloatArray:
        v = np.clip(clean.v0 + clean.sigma_v * self.zv, 0.0, 1.0)
        a = np.clip(clean.a0 + clean.sigma_a * self.za, 0.0, 1.0)
        if kind == "clean":
            return fingerprint_histogram(v, a)
        if kind == "incremental":
            x, y = np.minimum(sigma_x * self.zx, 1.0), np.minimum(sigma_x * self.zy, 1.0)
            if mode == "stuff":
                y = np.zeros_like(y)
            elif mode == "shift":
                x = np.zeros_like(x)
        else:
            x, y = np.clip(1.0 - THETA * self.zx, 0.0, 1.0), np.clip(1.0 - THETA * self.zy, 0.0, 1.0)
        t = v + x * (1.0 - v)
        s = (a * v + x * (1.0 - v) + y * (1.0 - a) * v) / np.maximum(t, 1e-12)
        return fingerprint_histogram(t, s)


def _regional_models(
    turnout: FloatArray, share: FloatArray, region: npt.NDArray[np.int64]
) -> tuple[CleanModel, list[CleanModel], FloatArray]:
    """The national clean model, and one per region (the national one where a region is small)."""
    national = estimate_clean(turnout, share)
    models, weights = [], []
    for r in range(int(region.max()) + 1):
        sel = region == r
        n = int(sel.sum())
        if n == 0:
            continue
        model = national
        if n >= MIN_REGION:
            try:
                model = estimate_clean(turnout[sel], share[sel])
            except ForensicsError:
                model = national
        models.append(model)
        weights.append(n)
    return national, models, np.asarray(weights, dtype=np.float64)


def _fit(
    turnout: FloatArray, share: FloatArray, region: npt.NDArray[np.int64], draws: _Draws
) -> tuple[CleanModel, list[CleanModel], float, float, float, float, str]:
    national, models, weights = _regional_models(turnout, share, region)
    clean = draws.mix(models, weights)
    h = fingerprint_histogram(turnout, share).ravel()
    h0 = draws.component(clean, "clean").ravel()
    he = draws.component(clean, "extreme").ravel() - h0
    combos = list(itertools.product(SIGMA_X_GRID, MODES))
    cols = [draws.component(clean, "incremental", sx, mode).ravel() - h0 for sx, mode in combos]
    coef = np.asarray(nnls(np.column_stack([*cols, he]), h - h0)[0], dtype=np.float64)
    if coef.sum() > 1.0:
        coef = coef / coef.sum()
    fraud = np.array([sx >= NUISANCE_SIGMA for sx, _ in combos] + [True])
    fi = float(coef[:-1][fraud[:-1]].sum())
    fe = float(coef[-1])
    # report the dominant fraud shape among the incremental components
    weights_f = np.where(fraud[:-1], coef[:-1], 0.0)
    sx, mode = combos[int(np.argmax(weights_f))] if weights_f.sum() > 0 else (0.0, "none")
    res = float(np.sum((h - h0 - np.column_stack([*cols, he]) @ coef) ** 2))
    return national, models, fi, fe, sx, res, mode


def _inputs(results: StationResults) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]:
    if not results.registered_known:
        raise ForensicsError("fingerprint: registered voters are unknown, so turnout is too")
    keep = results.valid > 0
    if int(keep.sum()) < 100:
        raise ForensicsError(f"fingerprint: {int(keep.sum())} stations with valid votes, at least 100 needed")
    _, region = np.unique(results.regions[keep], return_inverse=True)
    return results.turnout()[keep], results.winner_share()[keep], region.astype(np.int64)


def fit_fingerprint(results: StationResults, rng: np.random.Generator, n_sim: int = 20_000) -> FingerprintFit:
    """Fit ``f_i``, ``f_e`` and ``σx`` of the Klimek et al. model to the stations' turnout and share."""
    t, s, region = _inputs(results)
    clean, _, fi, fe, sx, res, mode = _fit(t, s, region, _Draws(rng, n_sim))
    return FingerprintFit(clean, fi, fe, sx, res, fi + fe, mode=mode)


def fingerprint_test(
    results: StationResults, rng: np.random.Generator, replications: int = 99, n_sim: int = 20_000
) -> FingerprintFit:
    """Fit the model, then bootstrap the score ``f_i + f_e`` on clean elections from the clean fit.

    Null elections keep every station's region and draw its turnout and share from that region's
    clean model, so regional differences (which the single-Gaussian model of the paper would read as
    fraud) are part of the null.
    """
    t, s, region = _inputs(results)
    draws = _Draws(rng, n_sim)
    clean, models, fi, fe, sx, res, mode = _fit(t, s, region, draws)
    score = fi + fe
    table = np.array([[m.v0, m.sigma_v, m.a0, m.sigma_a] for m in models], dtype=np.float64)
    present = np.unique(region)
    per_station = table[np.searchsorted(present, region)]
    null = np.empty(replications, dtype=np.float64)
    n = len(t)
    for b in range(replications):
        v = np.clip(per_station[:, 0] + per_station[:, 1] * rng.standard_normal(n), 0.0, 1.0)
        a = np.clip(per_station[:, 2] + per_station[:, 3] * rng.standard_normal(n), 0.0, 1.0)
        null[b] = sum(_fit(v, a, region, draws)[2:4])
    p = (1 + int(np.sum(null >= score - 1e-12))) / (1 + replications)
    return FingerprintFit(clean, fi, fe, sx, res, score, p, replications, mode)
