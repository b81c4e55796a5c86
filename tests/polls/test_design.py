from __future__ import annotations

import numpy as np
import pytest

from saylau.errors import PollError
from saylau.polls.design import SamplingFrame, allocate, pps_systematic, stratified_pps


def test_allocation_is_proportional_with_two_per_stratum() -> None:
    alloc = allocate({"a": 700.0, "b": 200.0, "c": 100.0}, {"a": 50, "b": 50, "c": 50}, 20)
    # quotas 14, 4, 2 (by hand)
    assert alloc == {"a": 14, "b": 4, "c": 2}
    alloc = allocate({"a": 980.0, "b": 10.0, "c": 10.0}, {"a": 50, "b": 50, "c": 1}, 10)
    assert alloc["b"] == 2 and alloc["c"] == 1 and sum(alloc.values()) == 10
    with pytest.raises(PollError):
        allocate({"a": 1.0, "b": 1.0}, {"a": 5, "b": 5}, 3)


def test_inclusion_probabilities_match_frequencies() -> None:
    sizes = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 30.0])
    rng = np.random.default_rng(0)
    hits = np.zeros(len(sizes))
    reps = 4000
    for _ in range(reps):
        idx, pi = pps_systematic(sizes, 3, rng)
        assert len(set(idx.tolist())) == 3
        hits[idx] += 1
    # by hand: 30 >= 50/3 is a certainty; the other 2 draws are PPS over 20: pi = 2 * x / 20
    expected = np.array([0.1, 0.2, 0.3, 0.4, 1.0, 1.0])
    expected[5] = 1.0
    expected[4] = 1.0  # 2 * 10 / 20
    # binomial standard error at 4000 draws is at most 0.008; allow 4 standard errors
    assert np.allclose(hits / reps, expected, atol=0.032)
    _, pi = pps_systematic(sizes, 3, np.random.default_rng(1))
    assert np.all((pi > 0) & (pi <= 1))


def test_stratified_design_covers_every_region() -> None:
    rng = np.random.default_rng(2)
    regions = np.repeat(["r1", "r2", "r3"], [100, 50, 10])
    sizes = rng.uniform(100, 900, 160).tolist()
    frame = SamplingFrame.build([f"s{i}" for i in range(160)], regions.tolist(), sizes)
    d = stratified_pps(frame, 30, rng)
    assert d.n == 30
    assert set(d.strata.tolist()) == {"r1", "r2", "r3"}
    assert sum(d.strata == "r3") >= 2
    with pytest.raises(PollError):
        SamplingFrame.build(["a", "a"], ["r", "r"], [1.0, 2.0])
    with pytest.raises(PollError):
        SamplingFrame.build(["a", "b"], ["r", "r"], [1.0, 0.0])


def test_pps_in_a_stratum_where_every_draw_is_certain() -> None:
    # two stations, two draws: both are taken with certainty and no division by an empty rest happens
    idx, pi = pps_systematic(np.array([5.0, 500.0]), 2, np.random.default_rng(0))
    assert idx.tolist() == [0, 1]
    assert pi.tolist() == [1.0, 1.0]
