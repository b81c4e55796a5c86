"""Exit-poll sampling design: stations stratified by region, systematic PPS within each stratum.

Systematic PPS (Cochran, *Sampling Techniques*, 3rd ed., §9A.6; Lohr, *Sampling: Design and
Analysis*, 2nd ed., §6.2): within stratum ``h`` with total size ``X_h`` and ``n_h`` draws, a station of
size ``x_i`` is included with probability ``π_i = n_h x_i / X_h``; stations with ``π_i ≥ 1`` are taken
with certainty and the rest re-drawn. Allocation to strata is proportional to stratum size (largest
remainder), at least two stations per stratum where it has two, so that a variance can be estimated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from saylau.errors import PollError

__all__ = ["SampleDesign", "SamplingFrame", "allocate", "pps_systematic", "stratified_pps"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SamplingFrame:
    """The stations a pollster may sample, with their region (stratum) and measure of size."""

    stations: npt.NDArray[np.str_]
    regions: npt.NDArray[np.str_]
    sizes: FloatArray

    @classmethod
    def build(cls, stations: Sequence[str], regions: Sequence[str], sizes: Sequence[float]) -> SamplingFrame:
        """Check and store the frame; every size must be positive."""
        s = np.asarray(sizes, dtype=np.float64)
        if len(stations) != len(regions) or len(stations) != len(s):
            raise PollError("sampling frame: stations, regions and sizes differ in length")
        if np.any(s <= 0):
            raise PollError("sampling frame: every station needs a positive size")
        if len(set(stations)) != len(stations):
            raise PollError("sampling frame: station ids repeat")
        return cls(np.asarray(stations, dtype=np.str_), np.asarray(regions, dtype=np.str_), s)


@dataclass(frozen=True)
class SampleDesign:
    """The drawn stations: frame index, stratum and inclusion probability of each."""

    frame: SamplingFrame
    index: npt.NDArray[np.int64]
    strata: npt.NDArray[np.str_]
    pi: FloatArray

    @property
    def stations(self) -> npt.NDArray[np.str_]:
        """Ids of the sampled stations."""
        return self.frame.stations[self.index]

    @property
    def n(self) -> int:
        """Number of sampled stations (primary sampling units)."""
        return len(self.index)


def allocate(sizes_by_stratum: dict[str, float], counts: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of ``n`` draws with at least min(2, stations) per stratum."""
    total = sum(sizes_by_stratum.values())
    floor_ = {h: min(2, counts[h]) for h in sizes_by_stratum}
    if sum(floor_.values()) > n:
        raise PollError(f"sample design: {n} stations cannot cover {len(floor_)} strata with two each")
    quota = {h: n * x / total for h, x in sizes_by_stratum.items()}
    alloc = {h: max(floor_[h], min(int(q), counts[h])) for h, q in quota.items()}
    order = sorted(quota, key=lambda h: quota[h] - int(quota[h]), reverse=True)
    while sum(alloc.values()) < n:
        grown = False
        for h in order:
            if sum(alloc.values()) >= n:
                break
            if alloc[h] < counts[h]:
                alloc[h] += 1
                grown = True
        if not grown:
            break
    while sum(alloc.values()) > n:
        h = max((h for h in alloc if alloc[h] > floor_[h]), key=lambda h: alloc[h] - quota[h])
        alloc[h] -= 1
    return alloc


def pps_systematic(
    sizes: FloatArray, n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Draw ``n`` of the units by systematic PPS in random order; returns indices and inclusion probs."""
    m = len(sizes)
    if n > m:
        raise PollError(f"sample design: cannot draw {n} stations from a stratum of {m}")
    pi = np.zeros(m, dtype=np.float64)
    certain = np.zeros(m, dtype=np.bool_)
    while True:
        left = n - int(certain.sum())
        rest = ~certain
        if left == 0 or not rest.any():  # every draw is already a certainty (tiny strata)
            break
        pi_rest = left * sizes / sizes[rest].sum()
        new = rest & (pi_rest >= 1.0)
        if not new.any():
            break
        certain |= new
    pi[certain] = 1.0
    left = n - int(certain.sum())
    chosen = [np.flatnonzero(certain)]
    if left > 0:
        rest_idx = rng.permutation(np.flatnonzero(~certain))
        p = left * sizes[rest_idx] / sizes[rest_idx].sum()
        pi[rest_idx] = p
        points = rng.uniform() + np.arange(left)
        cum = np.cumsum(p)
        chosen.append(rest_idx[np.searchsorted(cum, points, side="right")])
    idx = np.sort(np.concatenate(chosen)).astype(np.int64)
    return idx, pi[idx]


def stratified_pps(frame: SamplingFrame, n: int, rng: np.random.Generator) -> SampleDesign:
    """Stratify the frame by region, allocate ``n`` stations proportionally and draw each stratum by PPS."""
    strata = sorted(set(frame.regions.tolist()))
    members = {h: np.flatnonzero(frame.regions == h) for h in strata}
    sizes = {h: float(frame.sizes[m].sum()) for h, m in members.items()}
    alloc = allocate(sizes, {h: len(m) for h, m in members.items()}, n)
    idx, pis, labels = [], [], []
    for h in strata:
        if alloc[h] == 0:
            continue
        local, pi = pps_systematic(frame.sizes[members[h]], alloc[h], rng)
        idx.append(members[h][local])
        pis.append(pi)
        labels.extend([h] * len(local))
    return SampleDesign(
        frame, np.concatenate(idx).astype(np.int64), np.asarray(labels, dtype=np.str_), np.concatenate(pis)
    )
