"""Election-night projection: final national shares and the rule decision from the stations in so far.

Protocols do not arrive at random: polls close by time zone (the east an hour before the west), city
stations report before rural ones, stations abroad last (:func:`arrival_times` models that). A plain
running tally is therefore biased whenever cities, regions or time zones vote differently. The
projection post-stratifies by **region × settlement** (urban/rural): the list of stations and their
registered voters is known before the night, so each cell's not-yet-reported stations are projected
from the reported ones of the same cell by a ratio estimator on registered voters,
``Ŷ_c = X_c · Σ_reported y / Σ_reported x``. A cell with fewer than two reports borrows the ratio of
the reported cells of the same kind in other regions (villages from villages; stations abroad are a
kind of their own), with their between-region variance; when no cell of its kind has reported, its
ratio is only known to lie in its possible range, and its variance is the largest such a ratio can
have (Popoviciu's bound).

Interval: the shares are ratios ``p_o = Y_o / Y_valid``; their variance is linearised
(``z_i = (y_{o,i} − p̂_o v_i) / Ŷ_valid``) and summed over cells as for a stratified ratio estimator
with finite-population correction, ``Σ_c M_c² (1 − m_c/M_c) s²_c / m_c`` (Cochran, *Sampling
Techniques*, §6.11); a borrowed cell adds the between-cell variance of the ratios it borrowed. The
decision is called only when the whole interval is on one side of the rule's threshold — until every
region has reported, only when three half-widths are (a region not yet in may swing) — otherwise the
projection says "too close to call". It is labelled a projection everywhere it is shown: the result is
the count of every protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from saylau.election.aggregation import StationTable
from saylau.election.rules import ElectoralRules
from saylau.errors import ElectionError
from saylau.sim.paper import PaperSimulation

__all__ = ["LABEL", "Projection", "arrival_times", "project"]

LABEL = "PROJECTION (not a result): estimated from the stations reported so far"
Z95 = 1.959964
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Projection:
    """Projected national shares of valid votes and turnout, 95% intervals, and the projected decision."""

    label: str
    stations_reported: int
    stations_total: int
    shares: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    turnout: float
    turnout_interval: tuple[float, float]
    leader: str
    decision: str
    """``"winner: <id>"``, ``"runoff"``, ``"invalid_turnout"`` or ``"too close to call"``."""


def arrival_times(
    sim: PaperSimulation,
    rng: np.random.Generator,
    urban_minutes: float = 60.0,
    rural_minutes: float = 150.0,
    abroad_minutes: float = 300.0,
) -> list[datetime]:
    """When each protocol arrives: local closing time plus a Gamma delay whose mean depends on the place.

    City stations are quicker (the commission is next door), rural ones slower, stations abroad last.
    """
    sc = sim.scenario
    mean = np.where(
        sim.abroad,
        abroad_minutes,
        np.where(np.array(sim.settlement) == "urban", urban_minutes, rural_minutes),
    )
    delay = rng.gamma(3.0, mean / 3.0)
    out = []
    for sid, d in zip(sim.table.station, delay, strict=True):
        out.append(sc.local_time(sid, sc.rules.polls_close_local) + timedelta(minutes=float(d)))
    return out


def _cells(
    table: StationTable, settlement: tuple[str, ...]
) -> tuple[npt.NDArray[np.int64], list[tuple[str, str]]]:
    keys = list(dict.fromkeys(zip(table.region, settlement, strict=True)))
    pos = {k: i for i, k in enumerate(keys)}
    return np.array([pos[k] for k in zip(table.region, settlement, strict=True)], dtype=np.int64), keys


def _ratio_totals(
    y: FloatArray,
    x: FloatArray,
    cell: npt.NDArray[np.int64],
    seen: BoolArray,
    kind_of: npt.NDArray[np.int64],
    width: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Projected totals of every column of ``y`` and their variances (linearised per column).

    ``kind_of[c]`` is cell ``c``'s kind (urban, rural, abroad): a cell with fewer than two reports
    borrows the ratio of the reported cells of its kind, with the between-cell variance of those
    ratios. With no such cell, it borrows every reported cell's ratio and its variance is the largest
    a ratio confined to an interval of ``width`` (per column) can have, ``width²/4`` (Popoviciu).
    """
    n_cells = len(kind_of)
    total = np.zeros(y.shape[1])
    var = np.zeros(y.shape[1])
    rx = np.bincount(cell[seen], weights=x[seen], minlength=n_cells)
    ry = np.stack(
        [np.bincount(cell[seen], weights=y[seen, k], minlength=n_cells) for k in range(y.shape[1])], 1
    )
    X = np.bincount(cell, weights=x, minlength=n_cells)
    M = np.bincount(cell, minlength=n_cells).astype(float)
    m = np.bincount(cell[seen], minlength=n_cells).astype(float)
    known = m >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        cell_ratio = ry / rx[:, None]
    for c in range(n_cells):
        if known[c]:
            r = cell_ratio[c]
            idx = seen & (cell == c)
            e = y[idx] - x[idx, None] * r[None, :]
            total += X[c] * r
            var += M[c] ** 2 * (1 - m[c] / M[c]) * e.var(axis=0, ddof=1) / m[c]
            continue
        donors = known & (kind_of == kind_of[c])
        if donors.sum() >= 2:
            r = ry[donors].sum(0) / rx[donors].sum()
            spread = cell_ratio[donors].var(axis=0, ddof=1)
        else:
            donors = known if known.any() else m > 0
            r = ry[donors].sum(0) / rx[donors].sum()
            spread = (width if width is not None else np.abs(r)) ** 2 / 4
        rest = X[c] - rx[c]
        total += ry[c] + rest * r
        var += rest**2 * spread
    return total, var


def project(
    table: StationTable,
    settlement: tuple[str, ...],
    reported: BoolArray,
    rules: ElectoralRules,
    against_all: str | None,
    abroad: BoolArray | None = None,
) -> Projection:
    """The projection from the stations where ``reported`` is true (the registered voters of all known).

    ``abroad`` marks stations abroad: their own kind of cell (lists there are made on the day, so they
    are not like any domestic cell).
    """
    if not reported.any():
        raise ElectionError("projection: no station has reported yet")
    if abroad is not None:
        settlement = tuple("abroad" if a else s for s, a in zip(settlement, abroad, strict=True))
    cell, keys = _cells(table, settlement)
    kinds = sorted({k for _, k in keys})
    kind_of = np.array([kinds.index(k) for _, k in keys], dtype=np.int64)
    x = table.registered.astype(float)
    y = np.column_stack([table.votes.astype(float), table.valid.astype(float), table.voted.astype(float)])
    tot, _ = _ratio_totals(y, x, cell, reported, kind_of)
    valid_hat = tot[len(table.options)]
    shares = {o: float(tot[k] / valid_hat) for k, o in enumerate(table.options)}
    # linearised residual columns for the shares and for turnout
    z = (table.votes - np.outer(table.valid, [shares[o] for o in table.options])) / valid_hat
    turnout = float(tot[-1] / x.sum())
    zt = (table.voted - turnout * x)[:, None] / x.sum()
    # z / x lies in an interval of width 1/V (shares) or 1/X (turnout): the bound for unknown kinds
    width = np.array([1 / valid_hat] * len(table.options) + [1 / x.sum()])
    _, var = _ratio_totals(np.column_stack([z, zt]), x, cell, reported, kind_of, width)
    half = Z95 * np.sqrt(np.maximum(var, 0.0))
    intervals = {
        o: (shares[o] - float(half[k]), shares[o] + float(half[k])) for k, o in enumerate(table.options)
    }
    t_int = (turnout - float(half[-1]), turnout + float(half[-1]))
    candidates = [o for o in table.options if o != against_all]
    leader = max(candidates, key=lambda o: shares[o])
    base_share = 1.0
    if rules.majority_base == "valid" and against_all is not None and not rules.against_all_in_base:
        base_share = 1.0 - shares[against_all]
    lo, hi = (v / base_share for v in intervals[leader])
    # until every region has reported, borrowed ratios may miss a regional swing: call only a clear case
    regions_in = all(np.sum(reported & (np.array(table.region) == r)) >= 2 for r in set(table.region))
    margin = 1.0 if regions_in else 3.0
    mid, half_l = (lo + hi) / 2, (hi - lo) / 2
    if t_int[1] <= rules.min_turnout:
        decision = "invalid_turnout"
    elif mid - margin * half_l > rules.majority and t_int[0] > rules.min_turnout:
        decision = f"winner: {leader}"
    elif mid + margin * half_l < rules.majority and t_int[0] > rules.min_turnout:
        decision = "runoff"
    else:
        decision = "too close to call"
    return Projection(
        LABEL, int(reported.sum()), len(table), shares, intervals, turnout, t_int, leader, decision
    )
