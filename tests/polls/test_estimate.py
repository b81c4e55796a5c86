from __future__ import annotations

import numpy as np
import pytest

from saylau.errors import PollError
from saylau.forensics.data import StationResults
from saylau.forensics.synthetic import clean_election
from saylau.polls.design import SampleDesign, SamplingFrame, stratified_pps
from saylau.polls.estimate import InterviewData, compare, estimate
from saylau.polls.house import HouseEffect, simulate_interviews


def frame_of(pop: StationResults) -> SamplingFrame:
    return SamplingFrame.build(pop.stations.tolist(), pop.regions.tolist(), np.maximum(pop.voted, 1).tolist())


def tiny_design() -> SampleDesign:
    frame = SamplingFrame.build(["a", "b", "c", "d"], ["h", "h", "k", "k"], [100, 300, 200, 200])
    strata = np.array(["h", "h", "k", "k"])
    return SampleDesign(frame, np.array([0, 1, 2, 3]), strata, np.array([0.5, 1.0, 1.0, 1.0]))


def test_weights_and_refusal_adjustment_by_hand() -> None:
    d = tiny_design()
    # station a: 2 approached, 1 refusal, 1 says option 0; b: 2 say option 1; c: 1 says 0; d: 1 says 1
    data = InterviewData(
        np.array(["a", "a", "b", "b", "c", "d"]), np.array([0, -1, 1, 1, 0, 1], dtype=np.int64)
    )
    voters = {"a": 100, "b": 300, "c": 200, "d": 200}
    est = estimate(d, data, voters, ["X", "Y"])
    # weights: a respondent 100/2/0.5 = 100, times refusal adjustment 2 -> 200 (= all of a's 100 / 0.5);
    # b: 300/2 = 150 each; c: 200; d: 200. X = 200 + 200 = 400 of 900.
    assert est.get("X").share == pytest.approx(400 / 900)
    assert est.respondents == 5 and est.refusals == 1
    assert est.psus == 4 and est.strata == 2
    # linearised variance by hand: z_i = sum w (y - p) / W for option X, p = 4/9, W = 900
    p = 4 / 9
    z = np.array([200 * (1 - p), 300 * (0 - p), 200 * (1 - p), 200 * (0 - p)]) / 900
    var = 2 * ((z[:2] - z[:2].mean()) ** 2).sum() + 2 * ((z[2:] - z[2:].mean()) ** 2).sum()
    assert est.get("X").se == pytest.approx(np.sqrt(var))
    assert est.get("X").deff == pytest.approx(var / (p * (1 - p) / 5))


def test_interview_outside_sample_is_refused() -> None:
    data = InterviewData(np.array(["zz"]), np.array([0], dtype=np.int64))
    with pytest.raises(PollError, match="outside the sample"):
        estimate(tiny_design(), data, {"a": 1}, ["X", "Y"])


def test_interval_coverage_is_close_to_nominal() -> None:
    """200 repeated exit polls of one known population; each 95% interval should cover the truth.

    With 200 replications the coverage estimate has a binomial standard error of
    sqrt(0.95 * 0.05 / 200) = 0.015, so a correct procedure lands in [0.90, 0.99] with probability
    above 0.99 (about 3 standard errors below, 2.6 above; the with-replacement variance is slightly
    conservative for systematic PPS, so over-coverage is the expected direction).
    """
    rng = np.random.default_rng(2022)
    pop = clean_election(rng, n_stations=1500, n_regions=8)
    frame = frame_of(pop)
    voters = dict(zip(pop.stations.tolist(), pop.voted.tolist(), strict=True))
    truth = pop.national_shares()
    house = HouseEffect(0.3, 0.3, 0.0)  # refusals unrelated to the vote: ignorable non-response
    covered = {o: 0 for o in pop.options}
    deffs = []
    for _ in range(200):
        design = stratified_pps(frame, 60, rng)
        data = simulate_interviews(pop, design, 30, house, rng)
        est = estimate(design, data, voters, pop.options)
        for s in est.shares:
            covered[s.option] += s.low <= truth[s.option] <= s.high
        deffs.append(est.get(pop.winner).deff)
    for option, hits in covered.items():
        assert 0.90 <= hits / 200 <= 0.99, option
    # stations cluster the vote: the winner's design effect is above 1 on average
    assert np.mean(deffs) > 1.0


def test_comparison_flags_differences_beyond_the_interval() -> None:
    rng = np.random.default_rng(5)
    pop = clean_election(rng, n_stations=800, n_regions=4, options=("X", "Y"), shares=(0.6, 0.4))
    frame = frame_of(pop)
    design = stratified_pps(frame, 40, rng)
    data = simulate_interviews(pop, design, 30, HouseEffect(0.1, 0.1), rng)
    voters = dict(zip(pop.stations.tolist(), pop.voted.tolist(), strict=True))
    est = estimate(design, data, voters, pop.options)
    x = est.get("X")
    rows = {c.option: c for c in compare(est, {"X": x.share, "Y": est.get("Y").high + 0.01})}
    assert not rows["X"].outside_interval and rows["X"].difference == pytest.approx(0.0)
    assert rows["Y"].outside_interval and rows["Y"].difference < 0
    with pytest.raises(PollError):
        compare(est, {"X": 0.5})


def test_weighting_classes_absorb_refusals_within_class() -> None:
    frame = SamplingFrame.build(["a"], ["h"], [100])
    design = SampleDesign(frame, np.array([0]), np.array(["h"]), np.array([1.0]))
    # 8 approached at a station of 100 voters: base weight 12.5. Young: 2 refuse, 2 say X;
    # old: 4 say Y. By hand, class adjustment gives young respondents 25 each: X = 50 of 100.
    stations = np.array(["a"] * 8)
    choices = np.array([-1, -1, 0, 0, 1, 1, 1, 1], dtype=np.int64)
    classes = np.array(["young"] * 4 + ["old"] * 4)
    by_class = estimate(design, InterviewData(stations, choices, classes), {"a": 100}, ["X", "Y"])
    assert by_class.get("X").share == pytest.approx(0.5)
    # station-level adjustment only: X = 2 of 6 respondents
    by_station = estimate(design, InterviewData(stations, choices), {"a": 100}, ["X", "Y"])
    assert by_station.get("X").share == pytest.approx(2 / 6)
