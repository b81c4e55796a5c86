"""Monte-Carlo p-values that say what they know: adaptive replications, and an honest floor.

With ``B`` null draws of which ``k`` reach the observed statistic, the p-value is ``(1 + k)/(1 + B)``
(Davison & Hinkley 1997, eq. 4.11). When ``k = 0`` that number is only the floor ``1/(B+1)`` the
replications can show, not an estimate: it is reported as ``p < 1/(B+1)`` together with the z-score
of the observation against the null draws and the normal tail ``P(Z ≥ z)`` as an approximation.

Replications adapt (Besag & Clifford, Biometrika 1991, sequential Monte Carlo): draws are added in
doubling batches until ``resolve`` of them reach the observed value (the p-value is then known to
about ±1/√resolve relative) or ``cap`` draws are made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = ["RESOLVE", "MonteCarloP", "adaptive_null"]

RESOLVE = 10
"""Exceedances after which the p-value counts as resolved."""


@dataclass(frozen=True)
class MonteCarloP:
    """A Monte-Carlo p-value with what is needed to read it."""

    exceed: int
    replications: int
    z_score: float
    tail: float

    @property
    def p_value(self) -> float:
        """``(1 + k)/(1 + B)``; at the floor this is an upper bound, not an estimate."""
        return (1 + self.exceed) / (1 + self.replications)

    @property
    def at_floor(self) -> bool:
        """No null draw reached the observation: the p-value is below ``1/(B+1)``."""
        return self.exceed == 0

    @property
    def resolved(self) -> bool:
        """Enough exceedances to estimate the p-value (not only bound it)."""
        return self.exceed >= RESOLVE

    def text(self) -> str:
        """``p = 0.031`` or ``p < 1/(B+1) = 0.0005 (z = 7.6, normal tail ≈ 1.5e-14)``."""
        if self.at_floor:
            return (
                f"p < 1/{self.replications + 1} = {1 / (self.replications + 1):.2g} "
                f"(z = {self.z_score:.1f}, normal tail ≈ {self.tail:.2g})"
            )
        return f"p = {self.p_value:.3g}"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields for reports."""
        return {
            "p_value": self.p_value,
            "p_at_floor": self.at_floor,
            "p_text": self.text(),
            "z_score": self.z_score,
            "normal_tail": self.tail,
            "replications": self.replications,
            "exceedances": self.exceed,
        }


def adaptive_null(
    draw: Callable[[int], npt.NDArray[np.float64] | npt.NDArray[np.int64]],
    observed: float,
    start: int,
    cap: int | None = None,
) -> tuple[npt.NDArray[np.float64], MonteCarloP]:
    """Draw null statistics (``draw(b)`` gives ``b`` of them) until resolved or ``cap`` (default 10×start)."""
    if start < 1:
        raise ValueError("replications must be at least 1")
    limit = max(start, cap if cap is not None else 10 * start)
    parts = [np.asarray(draw(start), dtype=np.float64)]
    total = start
    while total < limit and int(sum(np.sum(p >= observed) for p in parts)) < RESOLVE:
        more = min(total, limit - total)
        parts.append(np.asarray(draw(more), dtype=np.float64))
        total += more
    null = np.concatenate(parts)
    sd = float(null.std(ddof=1)) if null.size > 1 else 0.0
    z = (observed - float(null.mean())) / sd if sd > 0 else 0.0
    return null, MonteCarloP(int(np.sum(null >= observed)), int(null.size), z, float(stats.norm.sf(z)))
