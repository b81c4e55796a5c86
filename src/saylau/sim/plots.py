"""Plots of a simulated (or real) election day from a results directory's ``results.json``.

Two PNGs for the public pages and reports: turnout through the day by region (each station at its
own local time), and how the count progressed as protocols arrived (stations reporting, option
shares so far). matplotlib with the Agg backend; no display needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_reporting", "plot_turnout_day"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_turnout_day(summary: dict[str, Any], path: Path, lang: str = "en") -> Path:
    """Turnout (% of registered) at each local reporting time, one line per region, nation in bold."""
    by_region: dict[str, dict[str, int]] = summary["turnout_by_region"]
    names: dict[str, dict[str, str]] = summary.get("regions", {})
    times = [t for t in next(iter(by_region.values())) if t != "registered"]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for rid, row in by_region.items():
        reg = max(row["registered"], 1)
        ax.plot(
            times,
            [100 * row[t] / reg for t in times],
            lw=0.8,
            alpha=0.6,
            label=names.get(rid, {}).get(lang, rid),
        )
    reg_total = max(sum(r["registered"] for r in by_region.values()), 1)
    nat = summary["turnout_national"]
    ax.plot(times, [100 * nat[t] / reg_total for t in times], lw=3, color="black", label="national")
    ax.set_xlabel("local time")
    ax.set_ylabel("turnout, % of registered")
    ax.set_title(f"{summary['scenario']['election_id']}: turnout through the day")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=2, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_reporting(summary: dict[str, Any], path: Path, lang: str = "en") -> Path:
    """Stations reporting and each option's share of the count so far, hour by hour (UTC)."""
    timeline: list[dict[str, Any]] = summary["partial_results"]
    labels = {o["id"]: o["name"].get(lang, o["id"]) for o in summary["options"]}
    x = [p["at_utc"][5:16].replace("T", " ") for p in timeline]
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    top.plot(x, [p["stations_reporting"] for p in timeline], marker="o", color="tab:blue")
    top.set_ylabel("stations reporting")
    top.grid(alpha=0.3)
    for oid, name in labels.items():
        bottom.plot(x, [100 * p["shares"][oid] for p in timeline], marker=".", label=name)
    bottom.set_yscale("log")
    bottom.set_ylabel("share of valid votes so far, % (log)")
    bottom.set_xlabel("UTC")
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=7)
    bottom.tick_params(axis="x", labelrotation=60, labelsize=7)
    top.set_title(f"{summary['scenario']['election_id']}: partial results as protocols arrive")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
