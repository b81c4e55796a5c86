"""PNG plots for the forensic report (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from saylau.forensics.data import StationResults
from saylau.forensics.digits import DigitTest
from saylau.forensics.fingerprint import FingerprintFit
from saylau.forensics.outliers import LateJumpTest

__all__ = ["plot_digits", "plot_fingerprint", "plot_late_turnout", "plot_percentages"]

DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_fingerprint(results: StationResults, fit: FingerprintFit, path: Path) -> Path:
    """2-D histogram of turnout × winner's share (log colour scale), with the fitted parameters."""
    fig, ax = plt.subplots(figsize=(6.2, 5.2))
    keep = results.valid > 0
    h, xe, ye = np.histogram2d(
        results.turnout()[keep], results.winner_share()[keep], bins=100, range=[[0, 1], [0, 1]]
    )
    mesh = ax.pcolormesh(xe, ye, h.T, norm=LogNorm(vmin=1, vmax=max(float(h.max()), 2.0)), cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="stations")
    ax.set_xlabel("turnout")
    ax.set_ylabel(f"share of {results.winner}")
    p = "n/a" if fit.p_value is None else f"{fit.p_value:.3g}"
    ax.set_title(
        f"Election fingerprint: f_i={fit.f_incremental:.3f}, f_e={fit.f_extreme:.3f}, p={p}", fontsize=10
    )
    return _save(fig, path)


def plot_percentages(results: StationResults, path: Path, min_base: int = 100) -> Path:
    """Histograms of turnout and winner's share at 0.1-point resolution; integer spikes stand out."""
    fig, axes = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
    t_ok = (results.registered >= min_base) & results.registered_known
    s_ok = results.valid >= min_base
    series = (
        ("turnout, %", 100 * results.voted[t_ok] / results.registered[t_ok]),
        (f"{results.winner}, % of valid", 100 * results.winner_share()[s_ok]),
    )
    edges = np.arange(0, 100.05, 0.1) - 0.05
    for ax, (label, values) in zip(axes, series, strict=True):
        ax.hist(values, bins=edges, color="#34568b", linewidth=0)
        ax.set_ylabel("stations")
        ax.set_title(label, fontsize=9)
    axes[1].set_xlabel("percentage (bins of 0.1 point)")
    return _save(fig, path)


def plot_digits(last: DigitTest, second: DigitTest, path: Path) -> Path:
    """Observed vs expected digit frequencies for the last-digit and second-digit tests."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, test in zip(axes, (last, second), strict=True):
        d = np.arange(10)
        ax.bar(d - 0.2, test.observed / test.n, width=0.4, label="observed")
        ax.bar(d + 0.2, test.expected / test.n, width=0.4, label="expected")
        ax.set_xticks(d)
        ax.set_title(f"{test.name}: χ²={test.statistic:.1f}, p={test.p_value:.3g}", fontsize=9)
        ax.set_xlabel("digit")
    axes[0].set_ylabel("frequency")
    axes[0].legend(fontsize=8)
    return _save(fig, path)


def plot_late_turnout(results: StationResults, test: LateJumpTest, path: Path) -> Path:
    """Distribution of the share of ballots issued in the last reporting interval."""
    snaps = results.snapshots
    if snaps is None:
        raise ValueError("no turnout snapshots to plot")
    final = snaps.voted[:, -1]
    ok = final > 0
    share = (final[ok] - snaps.voted[ok, -2]) / final[ok]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.hist(share, bins=100, range=(0, 1), color="#8b3456", linewidth=0)
    ax.set_yscale("log")
    ax.set_xlabel(f"share of final ballots issued after the report at {test.after_hour:g} h")
    ax.set_ylabel("stations")
    ax.set_title(f"Late turnout: {test.flagged} flagged (expected {test.expected:.1f}), p={test.p_value:.3g}",
                 fontsize=9)
    return _save(fig, path)
