"""Integer apportionment: split an exact total into integers proportional to weights, under caps.

This is how the simulator makes station figures add up *exactly* to published totals while each
station keeps the value its model drew: the real-valued shares come from the model, this module
only rounds them. Method: water-filling (shares above a cap are pinned to the cap and the rest is
re-spread) followed by largest-remainder rounding (Hamilton's method), all vectorised.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["apportion", "apportion_matrix"]

IntArray = npt.NDArray[np.int64]


def _water_fill(
    total: int, w: npt.NDArray[np.float64], caps: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Real shares ``x`` with ``x ≤ caps``, ``Σx = total`` and ``x ∝ w`` wherever below the cap."""
    x = np.zeros_like(w)
    free = (w > 0) & (caps > 0)
    pinned = np.zeros_like(free)
    for _ in range(len(w) + 1):
        remaining = total - float(caps[pinned].sum())
        wsum = float(w[free].sum())
        if wsum <= 0:
            break
        x[free] = remaining * (w[free] / wsum)
        over = free & (x > caps)
        if not over.any():
            break
        x[over] = caps[over]
        pinned |= over
        free &= ~over
    short = total - float(x.sum())
    if short > 1e-6:
        # weights ran out (zero weight where capacity remains): spread the rest by free capacity
        slack = caps - x
        x += slack * (short / float(slack.sum()))
    return x


def apportion(total: int, weights: npt.ArrayLike, caps: npt.ArrayLike | None = None) -> IntArray:
    """Integers ``n_i ≤ caps_i`` summing to ``total``, as close to ``total·w_i/Σw`` as rounding allows.

    Raises ``ValueError`` if ``total`` is negative, a weight is negative or not finite, or the caps
    cannot hold the total.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError("apportion: weights must be one-dimensional")
    if total < 0:
        raise ValueError(f"apportion: total {total} is negative")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("apportion: weights must be finite and non-negative")
    n = len(w)
    cap_arr = np.full(n, np.inf) if caps is None else np.asarray(caps, dtype=np.float64)
    if cap_arr.shape != w.shape or np.any(cap_arr < 0):
        raise ValueError("apportion: caps must match weights and be non-negative")
    if total == 0:
        return np.zeros(n, dtype=np.int64)
    if float(cap_arr.sum()) < total:
        raise ValueError(f"apportion: caps hold {int(cap_arr.sum())} < total {total}")
    if float(w.max(initial=0.0)) <= 0:
        w = np.where(cap_arr > 0, 1.0, 0.0)
    w = w / float(w.max())
    x = _water_fill(total, w, cap_arr)
    base = np.minimum(np.floor(x + 1e-9), cap_arr)
    out: IntArray = base.astype(np.int64)
    rem = total - int(out.sum())
    frac = x - base
    if rem > 0:
        room = out < cap_arr
        order = np.lexsort((np.arange(n), -np.where(room, frac, -np.inf)))
        take = order[:rem]
        if not np.all(room[take]):
            raise ValueError("apportion: no room left for the remainder")
        out[take] += 1
    elif rem < 0:
        order = np.lexsort((np.arange(n), np.where(out > 0, frac, np.inf)))
        out[order[:-rem]] -= 1
    if int(out.sum()) != total or np.any(out > cap_arr) or np.any(out < 0):
        raise ValueError(f"apportion: rounding failed to reach {total} within the caps")
    return out


def apportion_matrix(
    row_totals: npt.ArrayLike, col_totals: npt.ArrayLike, expected: npt.ArrayLike
) -> IntArray:
    """An integer matrix with exact row and column sums, close to ``expected``.

    ``expected`` is first raked (iterative proportional fitting) to both margins; then each column
    but the largest is apportioned with the rows' remaining room as caps, and the largest column
    takes what is left of each row — so both margins hold exactly and no cell is negative.
    """
    r = np.asarray(row_totals, dtype=np.int64)
    c = np.asarray(col_totals, dtype=np.int64)
    e = np.asarray(expected, dtype=np.float64)
    if int(r.sum()) != int(c.sum()):
        raise ValueError(f"apportion_matrix: row sum {int(r.sum())} != column sum {int(c.sum())}")
    if e.shape != (len(r), len(c)):
        raise ValueError("apportion_matrix: expected has the wrong shape")
    m = np.where(r[:, None] > 0, np.maximum(e, 1e-12), 0.0)
    for _ in range(50):
        cs = m.sum(axis=0)
        m *= np.divide(c, cs, out=np.zeros_like(cs), where=cs > 0)[None, :]
        rs = m.sum(axis=1)
        m *= np.divide(r, rs, out=np.zeros_like(rs), where=rs > 0)[:, None]
        if np.allclose(m.sum(axis=0), c, rtol=1e-9, atol=1e-6):
            break
    out = np.zeros(m.shape, dtype=np.int64)
    room = r.copy()
    last = int(np.argmax(c))
    for j in np.argsort(c, kind="stable"):
        if j == last:
            continue
        out[:, j] = apportion(int(c[j]), m[:, j], room)
        room -= out[:, j]
    out[:, last] = room
    return out
