"""Simulated pollsters with house effects, each calibrated to the exit poll it published.

A house effect here is how a pollster's interviews differ from the voters it samples:

* differential non-response — the winner's voters refuse at rate ``r_w``, every other voter at ``r_o``;
* social desirability — a respondent who voted otherwise names the winner with probability ``s``.

The expected winner's share among respondents is then
``t = (p(1 − r_w) + (1 − p)(1 − r_o)s) / (p(1 − r_w) + (1 − p)(1 − r_o))`` for a true share ``p``;
:func:`calibrate` solves it for ``r_o``. Weighting-class adjustment cannot remove this bias (refusers
differ from respondents within every class), which is how honest-looking intervals end up excluding
the official result — the mechanism behind, for example, the 3.5-point spread of the kz-2022 exit
polls (the scenario file holds them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from saylau.errors import PollError
from saylau.forensics import StationResults
from saylau.polls.design import SampleDesign, SamplingFrame, stratified_pps
from saylau.polls.estimate import REFUSAL, InterviewData, PollEstimate, estimate

__all__ = [
    "HouseEffect",
    "PollsterSpec",
    "SimulatedPoll",
    "calibrate",
    "simulate_interviews",
    "simulate_polls",
]

@dataclass(frozen=True)
class PollsterSpec:
    """A pollster to simulate: the winner's share it published and the shape of its house effect.

    Scenario data, not code (``published.exit_polls`` and ``simulation.pollsters``); built by
    :func:`saylau.polls.report.pollsters_from_scenario`.
    """

    name: str
    published_share: float
    refusal_winner: float
    to_winner: float = 0.0


@dataclass(frozen=True)
class HouseEffect:
    """Refusal rates by vote and the probability of naming the winner instead of one's own vote."""

    refusal_winner: float
    refusal_other: float
    to_winner: float = 0.0

    def expected_share(self, p: float) -> float:
        """Expected winner's share among respondents when the true share is ``p``."""
        a = p * (1 - self.refusal_winner)
        b = (1 - p) * (1 - self.refusal_other)
        return (a + b * self.to_winner) / (a + b)


def calibrate(p: float, target: float, refusal_winner: float, to_winner: float = 0.0) -> HouseEffect:
    """The house effect with given ``r_w`` and ``s`` whose expected winner's share is ``target``."""
    if not 0 < p < 1 or not to_winner < target < 1:
        raise PollError(f"house effect: cannot calibrate a true share {p} to {target} with s = {to_winner}")
    b = p * (1 - refusal_winner) * (1 - target) / (target - to_winner)
    refusal_other = 1 - b / (1 - p)
    if not 0 <= refusal_other < 1:
        raise PollError(
            f"house effect: target {target} from true share {p} needs a refusal rate {refusal_other:.3f} "
            "outside [0, 1); change r_w or s"
        )
    return HouseEffect(refusal_winner, refusal_other, to_winner)


def simulate_interviews(
    results: StationResults,
    design: SampleDesign,
    per_station: int,
    house: HouseEffect,
    rng: np.random.Generator,
) -> InterviewData:
    """Approach ``per_station`` voters at every sampled station and record answers under ``house``."""
    pos = {s: i for i, s in enumerate(results.stations.tolist())}
    rows = np.array([pos[s] for s in design.stations.tolist()], dtype=np.int64)
    w = results.winner_index
    stations, choices = [], []
    for sid, r in zip(design.stations.tolist(), rows.tolist(), strict=True):
        votes = results.votes[r]
        m = min(per_station, int(votes.sum()))
        if m == 0:
            continue
        drawn = rng.multivariate_hypergeometric(votes, m)
        truth = np.repeat(np.arange(len(votes)), drawn)
        refuse_p = np.where(truth == w, house.refusal_winner, house.refusal_other)
        said = np.where((truth != w) & (rng.uniform(size=m) < house.to_winner), w, truth)
        said = np.where(rng.uniform(size=m) < refuse_p, REFUSAL, said)
        stations.extend([sid] * m)
        choices.append(said)
    return InterviewData(np.asarray(stations, dtype=np.str_), np.concatenate(choices).astype(np.int64))


@dataclass(frozen=True)
class SimulatedPoll:
    """One simulated pollster: its house effect, published target and the resulting estimate."""

    name: str
    target: float
    house: HouseEffect
    estimate: PollEstimate


def simulate_polls(
    results: StationResults,
    pollsters: Sequence[PollsterSpec],
    rng: np.random.Generator,
    stations: int = 250,
    per_station: int = 60,
) -> list[SimulatedPoll]:
    """Each pollster calibrated to its published winner's share, run on ``results``.

    A pollster with only differential non-response (``to_winner = 0``) and one that also meets
    social desirability (respondents telling a pollster what they think it wants to hear) can both
    land on a published figure; the published figure alone cannot tell them apart.
    """
    frame = SamplingFrame.build(
        results.stations.tolist(), results.regions.tolist(), np.maximum(results.voted, 1).tolist()
    )
    p = results.national_shares()[results.winner]
    voters = dict(zip(results.stations.tolist(), results.voted.tolist(), strict=True))
    out = []
    for spec in pollsters:
        house = calibrate(p, spec.published_share, spec.refusal_winner, spec.to_winner)
        design = stratified_pps(frame, stations, rng)
        data = simulate_interviews(results, design, per_station, house, rng)
        est = estimate(design, data, voters, results.options)
        out.append(SimulatedPoll(spec.name, spec.published_share, house, est))
    return out
