from __future__ import annotations

import numpy as np
import pytest

from saylau.election.scenario import load_scenario
from saylau.errors import PollError
from saylau.polls.house import HouseEffect, calibrate, simulate_polls
from saylau.polls.report import pollsters_from_scenario
from saylau.sim.forensics_input import paper_results


def test_expected_share_formula_by_hand() -> None:
    # p = 0.8, winner refuses 20%, others 50%, nobody misreports:
    # 0.8*0.8 / (0.8*0.8 + 0.2*0.5) = 0.64 / 0.74
    assert HouseEffect(0.2, 0.5).expected_share(0.8) == pytest.approx(0.64 / 0.74)
    # with 10% of others naming the winner: (0.64 + 0.1*0.1) / 0.74
    assert HouseEffect(0.2, 0.5, 0.1).expected_share(0.8) == pytest.approx(0.65 / 0.74)


@pytest.mark.parametrize("target", [0.8252, 0.8552, 0.8202])
def test_calibration_hits_the_target(target: float) -> None:
    h = calibrate(0.8131, target, 0.2, 0.05)
    assert h.expected_share(0.8131) == pytest.approx(target)
    with pytest.raises(PollError):
        calibrate(0.8131, 0.5, 0.2)  # would need a negative refusal rate for the others


def test_kz_2022_exit_polls_are_reproduced_from_the_simulation() -> None:
    scenario = load_scenario("kz-2022")
    assert scenario.published is not None
    results = paper_results("kz-2022", seed=1)
    assert results.national_shares()[results.winner] == pytest.approx(0.8131, abs=5e-5)  # CEC figure
    pollsters = pollsters_from_scenario(scenario)
    # the three exit polls of 20 November 2022 as the scenario file publishes them
    assert [p.published_share for p in pollsters] == [0.8252, 0.8552, 0.8202]
    polls = simulate_polls(results, pollsters, np.random.default_rng(1))
    assert [p.name for p in polls] == [p.name for p in pollsters]
    for p in polls:
        est = p.estimate.get(results.winner)
        # the published figure lies within the simulated poll's 95% interval
        assert est.low <= p.target <= est.high, (p.name, est)
        runner_up = max((s for s in p.estimate.shares if s.option != results.winner), key=lambda s: s.share)
        assert abs(runner_up.share - (scenario.published.exit_poll_runner_up or 0)) < 0.015
    # and, because of the house effects, the official share is outside at least two of the intervals
    official = results.national_shares()[results.winner]
    outside = [not (p.estimate.get(results.winner).low <= official <= p.estimate.get(results.winner).high)
               for p in polls]
    assert sum(outside) >= 2
