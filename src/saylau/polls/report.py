"""Write simulated exit polls beside the official result: ``exitpolls.json`` and ``exitpolls.png``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from saylau.election.scenario import Scenario
from saylau.errors import PollError
from saylau.forensics import StationResults
from saylau.polls.estimate import compare
from saylau.polls.house import PollsterSpec, SimulatedPoll, simulate_polls

__all__ = ["plot_polls", "pollsters_from_scenario", "write_exit_polls"]


def pollsters_from_scenario(scenario: Scenario) -> list[PollsterSpec]:
    """The scenario's published exit polls joined with its simulated pollsters' house-effect shapes."""
    if scenario.published is None or not scenario.published.exit_polls:
        raise PollError(f"scenario {scenario.election_id}: no published exit polls to simulate")
    models = {m.pollster: m for m in (scenario.simulation.pollsters if scenario.simulation else [])}
    specs = []
    for poll in scenario.published.exit_polls:
        model = models.get(poll.pollster)
        if model is None:
            raise PollError(
                f"scenario {scenario.election_id}: no simulation.pollsters entry for {poll.pollster!r}"
            )
        specs.append(PollsterSpec(poll.pollster, poll.share, model.refusal_winner, model.to_winner))
    return specs


def plot_polls(polls: list[SimulatedPoll], official: float, winner: str, path: Path) -> Path:
    """Each pollster's winner estimate with its interval, the published figure and the official share."""
    fig, ax = plt.subplots(figsize=(7, 2.8))
    for i, sp in enumerate(polls):
        s = sp.estimate.get(winner)
        ax.errorbar(100 * s.share, i, xerr=[[100 * (s.share - s.low)], [100 * (s.high - s.share)]], fmt="o",
                    color="#34568b", capsize=4, label="simulated estimate, 95% CI" if i == 0 else None)
        ax.plot(100 * sp.target, i, "x", color="#c0392b", label="published exit poll" if i == 0 else None)
    ax.axvline(100 * official, color="#444", linestyle="--", label="official result")
    ax.set_yticks(range(len(polls)), [sp.name[:38] for sp in polls], fontsize=8)
    ax.set_xlabel(f"{winner}, % of valid votes")
    ax.legend(fontsize=7, loc="lower right")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def write_exit_polls(
    results: StationResults,
    out: Path,
    pollsters: Sequence[PollsterSpec],
    seed: int = 0,
    stations: int = 250,
    per_station: int = 60,
) -> dict[str, Any]:
    """Simulate ``pollsters`` on ``results``; write JSON and a plot; return the summary."""
    rng = np.random.default_rng(seed)
    polls = simulate_polls(results, pollsters, rng, stations=stations, per_station=per_station)
    official = results.national_shares()
    summary: dict[str, Any] = {"winner": results.winner, "official": official, "seed": seed, "pollsters": []}
    for sp in polls:
        summary["pollsters"].append(
            {
                "name": sp.name,
                "published_winner_share": sp.target,
                "house_effect": asdict(sp.house),
                "stations": sp.estimate.psus,
                "respondents": sp.estimate.respondents,
                "response_rate": sp.estimate.response_rate,
                "estimates": [asdict(s) for s in sp.estimate.shares],
                "comparison": [asdict(c) for c in compare(sp.estimate, official)],
            }
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "exitpolls.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    plot_polls(polls, official[results.winner], results.winner, out / "exitpolls.png")
    return summary
